"""Who hears a room's transactions: hooks inside its lock, observers after it.

Three kinds of listener, in the order they hear a transaction:

- *change hooks* get the changed keys inside the room's lock, before the write returns
  (for readers that keep their own view of the room, such as an index);
- *record hooks* get every update's bytes, origin and the keys it changed inside the
  lock (for history, which stores who changed which keys beside each update);
- *update hooks* get every update's bytes and origin inside the lock, in order, after the
  record hooks (for persistence: when a write returns, its hooks have run);
- *observers* get a `RoomEvent` after the transaction, outside the lock, in transaction
  order, so they may read and write the room.

A fourth, *resync hooks*, hear that the room dropped updates it held back (see
`held_back`) and wants a state-vector exchange with its peers.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

from .callbacks import Callbacks
from .types import Origin, RoomEvent, RoomObserver, Update

log = logging.getLogger("crdt_sync.room")

UpdateHook = Callable[[Update, "Origin | None"], None]
"""``hook(update, origin)``: called inside the room's lock for every update, in order."""

ChangeHook = Callable[[frozenset[str]], None]
"""``hook(keys)``: called inside the room's lock with the keys a transaction changed."""

RecordHook = Callable[[Update, "Origin | None", frozenset[str]], None]
"""``hook(update, origin, keys)``: an update hook that is also told the changed keys."""

ResyncHook = Callable[[str], None]
"""``hook(room name)``: the room dropped held-back updates and wants a resync."""


class Observers:
    """The listeners of one room, and the events waiting for its observers.

    ```py
    observers = Observers("plans", lock)
    stop = observers.observe(print)
    with lock:
        observers.publish({"level"}, "ann", [update])   # hooks run here
    observers.deliver()                                 # observers run here
    ```

    Args:
        room: The room's name (events carry it).
        lock: The room's lock, held by whoever calls `publish`.
    """

    def __init__(self, room: str, lock: AbstractContextManager[Any]) -> None:
        self.room = room
        self._lock = lock
        self._observers: Callbacks[RoomObserver] = Callbacks(lock)
        self._update_hooks: Callbacks[UpdateHook] = Callbacks(lock)
        self._change_hooks: Callbacks[ChangeHook] = Callbacks(lock)
        self._record_hooks: Callbacks[RecordHook] = Callbacks(lock)
        self._resync_hooks: Callbacks[ResyncHook] = Callbacks(lock)
        # Events waiting to be delivered to observers, in transaction order.
        self._outbox: list[RoomEvent] = []
        self._delivery = threading.Lock()
        self._delivering = threading.local()

    # ------------------------------------------------------------------ subscribing

    def observe(self, callback: RoomObserver) -> Callable[[], None]:
        """Add an observer; returns what removes it."""
        return self._observers.add(callback)

    def add_update_hook(self, hook: UpdateHook) -> None:
        """Add an update hook (for good)."""
        self._update_hooks.add(hook)

    def add_record_hook(self, hook: RecordHook) -> Callable[[], None]:
        """Add a record hook; returns what removes it."""
        return self._record_hooks.add(hook)

    def add_change_hook(self, hook: ChangeHook) -> Callable[[], None]:
        """Add a change hook; returns what removes it."""
        return self._change_hooks.add(hook)

    def add_resync_hook(self, hook: ResyncHook) -> Callable[[], None]:
        """Add a resync hook; returns what removes it."""
        return self._resync_hooks.add(hook)

    # ------------------------------------------------------------------ publishing

    def publish(self, changed: set[str], origin: Origin | None, updates: list[Update]) -> None:
        """Run the hooks for one transaction and queue its events (room's lock held).

        Args:
            changed: The keys the transaction changed.
            origin: Its origin.
            updates: The update bytes it produced (usually one).
        """
        if changed and self._change_hooks:
            keys = frozenset(changed)
            for change_hook in self._change_hooks:
                change_hook(keys)
        for update in updates:
            # History first: once an update is stored (and, with Redis, seen by other
            # processes), its history record exists, so a change another process builds
            # on it is always recorded after it.
            for record_hook in self._record_hooks:
                record_hook(update, origin, frozenset(changed))
            for hook in self._update_hooks:
                hook(update, origin)
            if self._observers:  # an observer added later hears later transactions
                self._outbox.append(RoomEvent(self.room, frozenset(changed), origin, update))
            changed = set()

    @contextmanager
    def silenced(self) -> Iterator[None]:
        """No update or record hooks and no observers while the block runs (room's lock held).

        For replaying stored updates: they are stored already and nobody needs telling.
        Change hooks still run.
        """
        try:
            with self._update_hooks.muted(), self._record_hooks.muted(), self._observers.muted():
                yield
        finally:
            self._outbox.clear()

    def deliver(self) -> None:
        """Give the queued events to the observers (room's lock not held).

        One thread at a time delivers, in order; a thread that finds another delivering
        leaves its events to it (never waits: an observer may be waiting for a lock this
        thread holds). The deliverer re-checks after letting go, so nothing is stranded.
        An exception in an observer is logged and does not affect the others.
        """
        if getattr(self._delivering, "active", False):
            return  # an outer frame of this thread is delivering; it picks these up
        while self._delivery.acquire(blocking=False):
            self._delivering.active = True
            try:
                while True:
                    with self._lock:
                        if not self._outbox:
                            break
                        event = self._outbox.pop(0)
                        observers = self._observers.copy()
                    for callback in observers:
                        try:
                            callback(event)
                        except Exception:
                            log.exception("room %r: observer %r failed", self.room, callback)
            finally:
                self._delivering.active = False
                self._delivery.release()
            with self._lock:
                if not self._outbox:
                    return

    def want_resync(self) -> None:
        """Tell the resync hooks that the room wants a resync (room's lock not held)."""
        for hook in self._resync_hooks.copy():
            try:
                hook(self.room)
            except Exception:
                log.exception("room %r: resync hook %r failed", self.room, hook)
