"""Presence across server processes: who is in a room on the other servers of one store.

When the store can share presence (`crdt_sync.net.RedisStore.share_presence`), each
process runs one thread that, every second, publishes the members of every room it has
sessions in and shows the members the other processes published as members of the room
here (`Registry.set_external`). So `presence()`, `presence_bar` and the whiteboard's list
show everyone, whichever server they are on; someone whose server stopped, even by
``kill -9``, disappears once that server's entry expires. The embedded stores (one process)
have nothing to share and no thread runs.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..doc import Hub
    from .sessions import Registry

log = logging.getLogger("crdt_sync.presence")

EVERY = 1.0
"""Seconds between two publications (others see a change within about this much)."""
TTL = 5.0
"""Seconds a process's published members last without renewal."""
REMOTE_PREFIX = "remote:"
"""Member ids of people on other processes start with this."""

_lock = threading.Lock()
_running: dict[int, PresenceShare] = {}


def start_for(hub: Hub, registry: Registry) -> None:
    """Start sharing presence of ``registry``'s members through ``hub``'s store, once, if
    the store can."""
    store = hub.store
    if not callable(getattr(store, "share_presence", None)):
        return
    with _lock:
        if id(store) in _running:
            return
        share = _running[id(store)] = PresenceShare(store, registry)
    share.start()


class PresenceShare:
    """Publishes this process's members and shows the other processes' ones, in a thread.

    Args:
        store: A store with ``share_presence(room, members, ttl=...) -> others``.
        registry: The process's registry of sessions.
        every: Seconds between publications.
        ttl: Seconds a publication lasts.
    """

    def __init__(
        self, store: Any, registry: Registry, *, every: float = EVERY, ttl: float = TTL
    ) -> None:
        self.store = store
        self.registry = registry
        self.every = every
        self.ttl = ttl
        self._shown: dict[str, set[str]] = {}  # room -> remote member ids shown here
        self._published: set[str] = set()  # rooms this process has members in, last time
        self._last_success: dict[str, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="crdt_sync-presence", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.step()
            except Exception:
                log.exception("crdt_sync: sharing presence failed")
            self._stop.wait(self.every)

    def step(self) -> None:
        """One round: publish every room's members here, show everyone else's."""
        rooms = set(self.registry.rooms())
        for room in sorted(rooms | self._published):
            here = {m.session: m.label for m in self.registry.members(room) if m.kind != "remote"}
            try:
                others = self.store.share_presence(room, here, ttl=self.ttl)
            except Exception as exc:  # Redis away: the store's own status says so
                log.debug("room %r: presence not shared: %s", room, exc)
                if time.monotonic() - self._last_success.get(room, 0.0) > self.ttl:
                    self._show(room, {})  # what we knew is out of date by now
                continue
            self._last_success[room] = time.monotonic()
            self._show(room, others if here else {})
        self._published = rooms

    def _show(self, room: str, others: dict[str, str]) -> None:
        shown = self._shown.setdefault(room, set())
        wanted = {REMOTE_PREFIX + key: label for key, label in others.items()}
        for key in shown - wanted.keys():
            self.registry.remove_external(room, key)
        for key, label in wanted.items():
            self.registry.set_external(room, key, label, kind="remote")  # no-op if unchanged
        self._shown[room] = set(wanted)
        if not wanted:
            del self._shown[room]
