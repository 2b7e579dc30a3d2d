"""Hub: the one place in a process that owns the open rooms.

Everyone asking for room X gets the same `Room`; users are counted in and out; rooms are
loaded from and persisted to the configured store; subscribers hear every transaction of
every open room as ``(room name, update bytes, origin)``, in order. The Streamlit bridge and
the Redis relay both subscribe here.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from .callbacks import Callbacks
from .room import Room
from .store import UpdateStore
from .types import Origin, RoomEvent, RoomName, Update, validate_room_name

log = logging.getLogger("crdt_sync.hub")

Subscriber = Callable[[RoomName, Update, "Origin | None"], None]


class Hub:
    """Open rooms of one process, shared by everyone who asks for them.

    ```py
    hub = Hub(DiskCacheStore(".crdt_sync"))
    room = hub.open("plans")      # loads it, or returns the open one
    ...
    hub.release("plans")          # when the last user leaves, it is closed
    ```

    Args:
        store: Where rooms are loaded from and persisted to.
        keep_idle: Keep rooms open when their last user leaves (cheaper re-entry).
    """

    def __init__(self, store: UpdateStore, *, keep_idle: bool = False) -> None:
        self.store = store
        self.keep_idle = keep_idle
        self._lock = threading.RLock()
        self._rooms: dict[RoomName, Room] = {}
        self._users: dict[RoomName, int] = {}
        self._unobserve: dict[RoomName, Callable[[], None]] = {}
        self._subscribers: Callbacks[Subscriber] = Callbacks(self._lock)
        self._open_hooks: Callbacks[Callable[[Room], None]] = Callbacks(self._lock)

    def open(self, name: RoomName) -> Room:
        """The room named ``name``, loaded if needed; counts one more user.

        Raises:
            ValueError: If the name is not a valid room name.
        """
        validate_room_name(name)
        with self._lock:
            room = self._rooms.get(name)
            if room is None:
                room = self.store.load(name)
                self._rooms[name] = room
                self._unobserve[name] = room.observe(self._fan_out)
                for hook in self._open_hooks.copy():
                    hook(room)
            self._users[name] = self._users.get(name, 0) + 1
            return room

    def get(self, name: RoomName) -> Room | None:
        """The room if it is open, else None (never loads)."""
        with self._lock:
            return self._rooms.get(name)

    def release(self, name: RoomName) -> None:
        """Count one user out; the last one out closes the room unless ``keep_idle``."""
        with self._lock:
            count = self._users.get(name, 0) - 1
            if count > 0:
                self._users[name] = count
                return
            self._users.pop(name, None)
            if not self.keep_idle and name in self._rooms:
                self._unobserve.pop(name)()
                del self._rooms[name]

    def users(self, name: RoomName) -> int:
        """How many users hold the room open."""
        with self._lock:
            return self._users.get(name, 0)

    def open_rooms(self) -> list[RoomName]:
        """Names of the rooms open in this process."""
        with self._lock:
            return sorted(self._rooms)

    def rooms(self) -> list[RoomName]:
        """Every known room: stored ones and open ones."""
        with self._lock:
            return sorted(set(self.store.rooms()) | set(self._rooms))

    def subscribe(self, callback: Subscriber) -> Callable[[], None]:
        """Hear ``(room, update, origin)`` for every transaction of every open room.

        Returns:
            A function that ends the subscription.
        """
        return self._subscribers.add(callback)

    def on_open(self, hook: Callable[[Room], None]) -> None:
        """Call ``hook(room)`` whenever a room is loaded (for relays that catch it up)."""
        self._open_hooks.add(hook)

    def close(self) -> None:
        """Close every room and the store."""
        with self._lock:
            for unobserve in self._unobserve.values():
                unobserve()
            self._rooms.clear()
            self._users.clear()
            self._unobserve.clear()
        self.store.close()

    def _fan_out(self, event: RoomEvent) -> None:
        for callback in self._subscribers.copy():
            try:
                callback(event.room, event.update, event.origin)
            except Exception:
                log.exception("hub: subscriber %r failed for room %r", callback, event.room)
