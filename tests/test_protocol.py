"""Tests of crdt_sync.net.protocol: y-protocols frames on pycrdt's functions, for a Room."""

from __future__ import annotations

import pytest
from pycrdt import (
    Awareness,
    Decoder,
    Doc,
    Map,
    create_awareness_message,
    create_sync_message,
    handle_sync_message,
)

from crdt_sync.doc import InvalidUpdate, Room
from crdt_sync.net.protocol import (
    MESSAGE_AWARENESS,
    MESSAGE_SYNC,
    SYNC_STEP1,
    SYNC_UPDATE,
    ProtocolError,
    RoomDoc,
    awareness_frame,
    encode_awareness,
    parse_awareness,
    parse_frame,
    permission_denied_frame,
    update_frame,
)


def test_a_room_and_a_pycrdt_doc_sync_with_the_standard_messages() -> None:
    room = Room("plans")
    room["level"] = 3
    doc: Doc = Doc()
    doc["registers"] = remote = Map()
    remote["from_doc"] = "hi"
    server = RoomDoc(room, origin="peer")
    # Each side sends SyncStep1; each answers the other's with SyncStep2.
    to_doc = server.handle_sync(create_sync_message(doc))
    assert to_doc is not None
    assert handle_sync_message(to_doc[1:], doc) is None  # without its first byte
    to_room = handle_sync_message(server.sync_step1()[1:], doc)
    assert to_room is not None
    assert server.handle_sync(to_room) is None
    assert room.snapshot() == {"level": 3, "from_doc": "hi"}
    assert doc.get("registers", type=Map)["level"] == 3


def test_updates_from_a_peer_carry_its_origin() -> None:
    room = Room("plans")
    origins: list[object] = []
    room.observe(lambda event: origins.append(event.origin))
    other = Room("other")
    other["x"] = 1
    assert RoomDoc(room, origin="ws:1").handle_sync(update_frame(other.export())) is None
    assert origins == ["ws:1"]


def test_a_bad_update_leaves_the_room_unchanged() -> None:
    room = Room("plans")
    room["x"] = 1
    with pytest.raises(InvalidUpdate):
        RoomDoc(room, origin="ws").handle_sync(update_frame(b"\xff\x01garbage"))
    assert room.snapshot() == {"x": 1}


def test_parse_frame_reads_types_and_checks_lengths() -> None:
    frame = parse_frame(update_frame(b"\x00\x00"))
    assert (frame.kind, frame.sync_type, frame.payload) == (MESSAGE_SYNC, SYNC_UPDATE, b"\x00\x00")
    step1 = parse_frame(RoomDoc(Room("r"), "o").sync_step1())
    assert (step1.kind, step1.sync_type, step1.payload) == (MESSAGE_SYNC, SYNC_STEP1, b"\x00")
    aware = parse_frame(create_awareness_message(b"\x00"))
    assert (aware.kind, aware.payload) == (MESSAGE_AWARENESS, b"\x00")
    with pytest.raises(ProtocolError) as info:
        parse_frame(b"\x00\x02\x05\x00")
    assert str(info.value) == "frame declares a 5-byte payload but has 1 bytes left"
    with pytest.raises(ProtocolError, match=r"^truncated frame \(2 bytes\)"):
        parse_frame(b"\x00\x82")


def test_awareness_round_trips_with_pycrdt() -> None:
    payload = encode_awareness([(7, 1, {"user": {"name": "Zoë ✓"}}), (9, 2, None)])
    assert parse_awareness(payload) == {7: (1, {"user": {"name": "Zoë ✓"}}), 9: (2, None)}
    peer = Awareness(Doc())
    peer.apply_awareness_update(payload, "test")
    assert peer.states[7] == {"user": {"name": "Zoë ✓"}}
    assert awareness_frame(payload) == create_awareness_message(payload)


def test_awareness_refuses_what_javascript_cannot_parse() -> None:
    nan = b"\x01\x07\x01\x09" + b'{"x":NaN}'
    with pytest.raises(ProtocolError, match=r"^awareness state contains NaN, which is not JSON$"):
        parse_awareness(nan)
    with pytest.raises(ProtocolError, match=r"^awareness state of client 7 is not a JSON object$"):
        parse_awareness(b"\x01\x07\x01\x01" + b"3")
    with pytest.raises(ProtocolError, match=r"^malformed awareness update"):
        parse_awareness(b"\x01\x07")
    with pytest.raises(ValueError, match=r"^awareness states must be JSON: inf is not$"):
        encode_awareness([(1, 1, {"cursor": [float("inf")]})])


def test_permission_denied_is_the_y_protocols_auth_message() -> None:
    decoder = Decoder(permission_denied_frame("read-only, é"))
    assert decoder.read_var_uint() == 2  # auth
    assert decoder.read_var_uint() == 0  # permission denied
    assert decoder.read_var_string() == "read-only, é"  # UTF-8 byte length, as lib0 reads it
