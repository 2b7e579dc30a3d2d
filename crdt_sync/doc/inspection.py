"""Looking into rooms without changing them: what a store holds, what a room contains.

```py
room_stats(store, "plans")    # RoomStats(updates=12, size=3051, last_change=1767225600.0)
room_contents(store.load("plans"))   # {"level": {"kind": "register", "value": 3}, ...}
```

The ``crdt-sync`` command prints these; stores fill in `RoomStats` as far as they can tell.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from .room import Room


@dataclass(frozen=True)
class RoomStats:
    """What a store holds for one room (None: the store cannot tell).

    Attributes:
        updates: Stored updates (a snapshot counts as one).
        size: Bytes stored.
        last_change: When the room was last written (epoch seconds).
    """

    updates: int | None
    size: int | None
    last_change: float | None


class Loads(Protocol):
    """Any store: it can load a room (`UpdateStore`)."""

    def load(self, name: str) -> Room:
        """The room rebuilt from what is stored."""


def room_stats(store: Loads, name: str) -> RoomStats:
    """What ``store`` holds for room ``name``: the store's own `room_stats` where it has one
    (diskcache, memory), else the size of the room's export.

    Args:
        store: The store.
        name: The room's name.
    """
    own = getattr(store, "room_stats", None)
    if callable(own):
        stats: RoomStats = own(name)
        return stats
    return RoomStats(None, len(store.load(name).export()), None)


def room_contents(room: Room) -> dict[str, dict[str, Any]]:
    """Every key of a room: ``{key: {"kind": kind, "value": value}}`` (Python values).

    Args:
        room: The room.

    Returns:
        The keys in sorted order; a text as a str, a counter as its value, a list and a set
        as lists, a table as ``{row id: {column: value}}``.
    """
    found: dict[str, dict[str, Any]] = {}
    registers = room.snapshot()
    for key, kind in sorted(room.kinds().items()):
        value: Any
        if kind == "register":
            if key not in registers:
                continue
            value = registers[key]
        elif kind == "text":
            value = str(room.text(key))
        elif kind == "counter":
            value = room.counter(key).value
        elif kind == "list":
            value = room.list(key).to_list()
        elif kind == "set":
            value = room.set(key).to_list()
        else:
            value = room.table(key).rows()
        found[key] = {"kind": kind, "value": value}
    return found
