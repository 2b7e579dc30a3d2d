"""The y-protocols wire format (what ``y-websocket`` speaks), on top of pycrdt's functions.

Frames are lib0-encoded: a message type (0 sync, 1 awareness, 2 auth, 3 query awareness),
then its payload. Sync messages are built and handled by pycrdt's ``create_sync_message``,
``handle_sync_message`` (which takes the frame *without* its first byte) and
``create_update_message``; a `RoomDoc` lets them work on a `Room` (locked, held-back
out-of-order updates, observers) instead of a bare ``pycrdt.Doc``. Awareness payloads from
clients are checked before pycrdt's ``Awareness`` sees them: pycrdt re-encodes states with
``json.dumps``, which would turn a ``NaN`` into JSON that every JavaScript peer rejects.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from pycrdt import (
    Decoder,
    Encoder,
    YMessageType,
    YSyncMessageType,
    create_awareness_message,
    create_sync_message,
    create_update_message,
    handle_sync_message,
    write_var_uint,
)

from ..doc import Room
from ..doc.types import Origin, StateVector, Update

MESSAGE_SYNC = int(YMessageType.SYNC)
MESSAGE_AWARENESS = int(YMessageType.AWARENESS)
MESSAGE_AUTH = 2  # y-protocols/auth; pycrdt has no constant
MESSAGE_QUERY_AWARENESS = 3  # y-websocket; pycrdt has no constant
SYNC_STEP1 = int(YSyncMessageType.SYNC_STEP1)
SYNC_STEP2 = int(YSyncMessageType.SYNC_STEP2)
SYNC_UPDATE = int(YSyncMessageType.SYNC_UPDATE)
AUTH_PERMISSION_DENIED = 0
EMPTY_UPDATE = b"\x00\x00"
MAX_AWARENESS_CLIENTS = 1000


class ProtocolError(ValueError):
    """A frame is not a well-formed y-protocols message."""


class RoomDoc:
    """The three ``Doc`` methods pycrdt's sync functions call, routed to a `Room`.

    Args:
        room: The room.
        origin: Origin of the updates this peer sends (observers skip echoing them back).
    """

    def __init__(self, room: Room, origin: Origin) -> None:
        self.room = room
        self.origin = origin

    def get_state(self) -> StateVector:
        return self.room.state_vector()

    def get_update(self, state: bytes = b"\x00") -> Update:
        return self.room.update_since(state)

    def apply_update(self, update: bytes) -> None:
        self.room.merge(update, origin=self.origin)

    def sync_step1(self) -> bytes:
        """The SyncStep1 frame announcing what the room has."""
        return bytes(create_sync_message(self))  # type: ignore[arg-type]

    def handle_sync(self, frame: bytes) -> bytes | None:
        """Handle a sync frame: the SyncStep2 reply to a SyncStep1, else None (applied)."""
        reply = handle_sync_message(frame[1:], self)  # type: ignore[arg-type]
        return None if reply is None else bytes(reply)


@dataclass(frozen=True)
class Frame:
    """The head of a frame: its message type, the sync sub-type, and the payload."""

    kind: int
    sync_type: int | None
    payload: bytes


def parse_frame(frame: bytes) -> Frame:
    """Read a frame's type and payload (sync and awareness payloads length-checked).

    Raises:
        ProtocolError: If the frame is truncated or malformed.
    """
    try:
        decoder = Decoder(frame)
        kind = decoder.read_var_uint()
        if kind == MESSAGE_SYNC:
            sync_type = decoder.read_var_uint()
            return Frame(kind, sync_type, _read_payload(decoder, frame))
        if kind == MESSAGE_AWARENESS:
            return Frame(kind, None, _read_payload(decoder, frame))
        return Frame(kind, None, bytes(frame[decoder.i0 :]))
    except (IndexError, RuntimeError) as exc:
        raise ProtocolError(f"truncated frame ({len(frame)} bytes): {exc}") from None


def _read_payload(decoder: Decoder, frame: bytes) -> bytes:
    length = decoder.read_var_uint()
    start = decoder.i0
    if length > len(frame) - start:
        raise ProtocolError(
            f"frame declares a {length}-byte payload but has {len(frame) - start} bytes left"
        )
    decoder.i0 += length
    decoder.length -= length
    return bytes(frame[start : start + length])


def parse_awareness(payload: bytes) -> dict[int, tuple[int, dict[str, Any] | None]]:
    """Decode and check an awareness update: client id -> (clock, state or None).

    States must be JSON objects (or ``null``, a client leaving) without ``NaN``/``Infinity``.

    Raises:
        ProtocolError: If anything is malformed.
    """
    try:
        decoder = Decoder(payload)
        count = decoder.read_var_uint()
        if count > MAX_AWARENESS_CLIENTS:
            raise ProtocolError(f"awareness update lists {count} clients, the limit is 1000")
        entries: dict[int, tuple[int, dict[str, Any] | None]] = {}
        for _ in range(count):
            client = decoder.read_var_uint()
            clock = decoder.read_var_uint()
            text = _read_payload(decoder, payload).decode("utf-8")
            state = json.loads(text, parse_constant=_refuse_constant) if text else None
            if state is not None and not isinstance(state, dict):
                raise ProtocolError(f"awareness state of client {client} is not a JSON object")
            entries[client] = (clock, state)
        return entries
    except (IndexError, RuntimeError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ProtocolError(f"malformed awareness update: {exc}") from None


def _refuse_constant(name: str) -> Any:
    raise ProtocolError(f"awareness state contains {name}, which is not JSON")


def encode_awareness(entries: Iterable[tuple[int, int, dict[str, Any] | None]]) -> bytes:
    """An awareness update payload from ``(client id, clock, state or None)`` triples.

    Raises:
        ValueError: If a state holds NaN or infinity (JavaScript peers could not parse it).
    """
    items = list(entries)
    encoder = Encoder()
    encoder.write_var_uint(len(items))
    for client, clock, state in items:
        _check_finite(state)
        text = json.dumps(state, separators=(",", ":"), ensure_ascii=True, allow_nan=False)
        encoder.write_var_uint(client)
        encoder.write_var_uint(clock)
        encoder.write_var_string(text)  # ASCII only: pycrdt counts characters, not bytes
    return encoder.to_bytes()


def _check_finite(value: Any) -> None:
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"awareness states must be JSON: {value!r} is not")
    if isinstance(value, dict):
        for v in value.values():
            _check_finite(v)
    elif isinstance(value, list):
        for v in value:
            _check_finite(v)


def awareness_frame(payload: bytes) -> bytes:
    """An awareness frame around an awareness update payload."""
    return bytes(create_awareness_message(payload))


def permission_denied_frame(reason: str) -> bytes:
    """y-protocols' auth "permission denied" frame (y-websocket logs the reason)."""
    text = reason.encode("utf-8")
    return (
        write_var_uint(MESSAGE_AUTH)
        + write_var_uint(AUTH_PERMISSION_DENIED)
        + write_var_uint(len(text))
        + text
    )


def update_frame(update: Update) -> bytes:
    """A sync UPDATE frame carrying ``update``."""
    return bytes(create_update_message(update))
