"""Shared vocabulary of the engine: what a room name, an origin and an update are."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any, Literal, TypeAlias

RoomName: TypeAlias = str
"""A room's name: 1-200 characters, no control characters or lone surrogates (see
`validate_room_name`)."""

Origin: TypeAlias = Hashable
"""Who made a change: a session id, ``"remote"``, a peer name... compared by ``hash()``."""

Update: TypeAlias = bytes
"""A Yjs update, v1 encoding."""

StateVector: TypeAlias = bytes
"""A Yjs state vector, v1 encoding."""

Kind: TypeAlias = Literal["register", "text", "counter", "list", "set", "table"]
"""What a key of a room holds."""

KINDS: tuple[Kind, ...] = ("register", "text", "counter", "list", "set", "table")

MAX_ROOM_NAME = 200


@dataclass(frozen=True)
class RoomEvent:
    """What one transaction changed in a room.

    Attributes:
        room: The room's name.
        keys: The keys whose value changed (registers and containers alike).
        origin: The transaction's origin (``None`` for anonymous local changes).
        update: The Yjs update (v1) the transaction produced.
    """

    room: RoomName
    keys: frozenset[str]
    origin: Origin | None
    update: Update = field(repr=False)


RoomObserver: TypeAlias = Callable[[RoomEvent], Any]


def validate_room_name(name: object) -> RoomName:
    """Check a room name and return it.

    ```py
    validate_room_name("plans")  # "plans"
    validate_room_name("bad\\udcff")  # ValueError: ... lone surrogate '\\udcff' ...
    ```

    Args:
        name: The candidate name.

    Returns:
        The name, unchanged.

    Raises:
        ValueError: If the name is not a non-empty string of at most 200 characters without
            control characters or lone surrogates.
    """
    if not isinstance(name, str):
        raise ValueError(f"room name must be a str, got {type(name).__name__}: {name!r}")
    if not name:
        raise ValueError("room name must not be empty")
    if len(name) > MAX_ROOM_NAME:
        raise ValueError(
            f"room name is {len(name)} characters long, the limit is {MAX_ROOM_NAME}: "
            f"{name[:40]!r}..."
        )
    bad = [c for c in name if ord(c) < 32 or 127 <= ord(c) < 160]
    if bad:
        raise ValueError(f"room name {name!r} contains control character {bad[0]!r}")
    lone = [c for c in name if 0xD800 <= ord(c) <= 0xDFFF]
    if lone:
        # What undecodable bytes become (surrogateescape): no store can encode them.
        raise ValueError(
            f"room name {name!r} contains lone surrogate {lone[0]!r}, which is not text "
            "(undecodable bytes?)"
        )
    return name
