"""Exceptions of the engine; their messages name the room, key and type involved."""

from __future__ import annotations


class InvalidUpdate(ValueError):
    """Bytes given as a Yjs update could not be applied; the room is unchanged.

    Attributes:
        room: The room the update was meant for, when known.
        reason: What was wrong with the bytes.
    """

    def __init__(self, reason: str, *, room: str | None = None) -> None:
        self.room = room
        self.reason = reason
        where = f" for room {room!r}" if room is not None else ""
        super().__init__(f"invalid Yjs update{where}: {reason}")


class KindMismatch(TypeError):
    """A key was asked for as one kind of value but holds another."""

    def __init__(self, room: str, key: str, holds: str, wanted: str) -> None:
        self.room, self.key, self.holds, self.wanted = room, key, holds, wanted
        super().__init__(f"key {key!r} in room {room!r} holds a {holds}, not a {wanted}")


class StoreError(RuntimeError):
    """A store could not read or write; names the room and the operation."""


class NoHistory(RuntimeError):
    """A room has no history to look at or restore from (a bare ``Room()``, or a store with
    history turned off)."""

    def __init__(self, room: str) -> None:
        self.room = room
        super().__init__(
            f"room {room!r} has no history: load it from a store with history on "
            "(e.g. store.load(name)) to look at or restore past versions"
        )


class UnknownVersion(KeyError):
    """A version id (or time) that a room's history does not have."""

    def __init__(self, room: str, at: object) -> None:
        self.room, self.at = room, at
        self.message = f"room {room!r} has no version {at!r} in its history"
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message
