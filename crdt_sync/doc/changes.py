"""Update bookkeeping: what the transaction in progress changed, as pycrdt reports it.

pycrdt tells a room what changed through callbacks that run inside its transaction: the
document's update bytes, the keys of the registers and kinds maps, the roots of the
containers. `Changes` collects them while the transaction runs (under the room's lock);
the room takes them out once, when the transaction ends, and publishes them.
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import Callable
from typing import Any

from .types import Update

log = logging.getLogger("crdt_sync.room")


def weakly(method: Callable[[Any], None]) -> Callable[[Any], None]:
    """A pycrdt callback that calls an object's method without keeping the object alive.

    pycrdt holds callbacks in subscriptions the garbage collector cannot look into, so a
    callback that holds its room would keep the room and its document alive for ever.

    ```py
    subscription = doc.observe(weakly(changes.on_update))
    ```

    Args:
        method: A bound method taking pycrdt's event.
    """
    ref = weakref.WeakMethod(method)

    def call(event: Any) -> None:
        bound = ref()
        if bound is not None:
            bound(event)

    return call


class Changes:
    """What a room's transaction in progress changed: keys, new kinds and update bytes.

    ```py
    changes = Changes("plans")
    doc.observe(weakly(changes.on_update))
    changes.start()
    ...                                  # pycrdt work; the callbacks fill `changes`
    updates, keys = changes.take()
    ```

    Args:
        room: The room's name, for messages.
    """

    def __init__(self, room: str) -> None:
        self.room = room
        self.keys: set[str] = set()
        self.updates: list[Update] = []
        self._kinds: dict[str, Any] = {}  # key -> new kind, since last taken

    def start(self) -> None:
        """Begin a transaction: forget keys and updates of the previous one."""
        self.keys, self.updates = set(), []

    def take(self) -> tuple[list[Update], set[str]]:
        """The transaction's update bytes and changed keys; starts afresh."""
        updates, keys = self.updates, self.keys
        self.keys, self.updates = set(), []
        return updates, keys

    def take_kinds(self) -> dict[str, Any]:
        """The kinds entries set since the last call: key -> new kind (None: removed)."""
        kinds, self._kinds = self._kinds, {}
        return kinds

    def discard(self) -> None:
        """Forget everything collected (after a replay that publishes nothing)."""
        self.keys, self._kinds = set(), {}

    # ------------------------------------------------------------------ pycrdt callbacks

    def on_update(self, event: Any) -> None:
        """``Doc.observe`` callback: keep the transaction's update bytes."""
        self.updates.append(event.update)

    def on_registers(self, event: Any) -> None:
        """Callback of the registers map (below pycrdt's wrappers): keep the keys."""
        self.keys.update(event.keys)

    def on_kinds(self, event: Any) -> None:
        """Callback of the kinds map: keep the keys and the kinds they were given."""
        for key, change in event.keys.items():
            self.keys.add(key)
            old, new = change.get("oldValue"), change.get("newValue")
            self._kinds[key] = new
            if change.get("action") == "update" and old != new:
                # Two replicas gave one key two kinds; the map's rule picked one everywhere.
                log.warning(
                    "room %r: key %r was made a %s and a %s at the same time; the %s wins "
                    "on every replica and the %s is hidden (its data stays in root %r)",
                    self.room,
                    key,
                    old,
                    new,
                    new,
                    old,
                    f"{old}:{key}" if old != "register" else "registers",
                )

    def marker(self, key: str) -> Callable[[Any], None]:
        """A container root's callback: mark ``key`` changed (without keeping this alive)."""
        # One-parameter callback: pycrdt passes (event, txn) to two-parameter callables.
        changes = weakref.ref(self)

        def mark(_event: Any) -> None:
            alive = changes()
            if alive is not None:
                alive.keys.add(key)

        return mark

    def mark(self, key: str) -> None:
        """Mark ``key`` changed (a container that appeared with a merge)."""
        self.keys.add(key)
