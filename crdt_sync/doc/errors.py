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
