"""Tests of crdt_sync.App's Yjs websocket route, with real npm y-websocket clients.

The server is ``uvicorn`` serving ``crdt_sync.App`` in a subprocess (``ws_helpers``); the
clients are ``tests/js/ws_peer.mjs`` (npm ``yjs`` + ``y-websocket`` providers created with
``disableBc: true``, so two clients can only meet through the server).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from peers import NODE, Peer
from redis_helpers import RedisServer
from replicas import wait_for
from ws_helpers import AppServer

from crdt_sync.net.protocol import encode_awareness

pytestmark = pytest.mark.skipif(NODE is None, reason="node is not installed")


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[Callable[..., AppServer]]:
    made: list[AppServer] = []

    def start(store: str = "memory", **kwargs: Any) -> AppServer:
        server = AppServer(tmp_path / f"server{len(made)}", store=store, **kwargs)
        made.append(server)
        return server.start()

    yield start
    for server in made:
        server.stop()
    for server in made:
        server.assert_clean_log()


@pytest.fixture
def clients() -> Iterator[Callable[..., Peer]]:
    made: list[Peer] = []

    def join(server: AppServer, room: str, *, name: str = "js", **params: str) -> Peer:
        peer = Peer.yjs(server.ws_url, room, params=params, name=name)
        made.append(peer)
        return peer

    yield join
    for peer in made:
        peer.close()


def synced(peer: Peer) -> None:
    peer.wait_event(lambda e: e.get("event") == "synced", "the initial sync")


def test_a_js_client_edits_the_room_and_sees_the_servers_edits(
    servers: Callable[..., AppServer], clients: Callable[..., Peer]
) -> None:
    server = servers()
    server.post("plans", "set", {"key": "before", "value": "joined"})
    js = clients(server, "plans")
    synced(js)
    js.request("wait", key="before", value="joined")  # the state at join time
    js.request("ops", ops=[{"op": "set", "key": "n", "value": 42}])
    js.request("ops", ops=[{"op": "text_insert", "key": "notes", "text": "from JS"}])
    wait_for(lambda: server.room("plans")["repr"].get("n") == "42", "JS's edit in the room")
    # (an int stays an int); the text was sent after the int, in its own update
    wait_for(lambda: server.room("plans")["texts"] == {"notes": "from JS"}, "JS's text")
    server.post("plans", "text", {"key": "notes", "value": "from JS and Python"})
    js.request("wait_text", key="notes", value="from JS and Python")


def test_codec_values_are_readable_on_both_sides(
    servers: Callable[..., AppServer], clients: Callable[..., Peer]
) -> None:
    server = servers()
    js = clients(server, "types")
    synced(js)
    server.post("types", "fill")
    js.request("wait", key="pair", value={"$crdt": "tuple", "v": [1, "a"]})
    registers = js.request("dump")["dump"]["registers"]
    assert registers == {
        "int": 3,
        "float": 0.5,
        "whole_float": {"$crdt": "float", "v": "2.0"},
        "date": {"$crdt": "date", "v": "2024-01-02"},
        "pair": {"$crdt": "tuple", "v": [1, "a"]},
        "blob": {"$crdt": "bytes", "v": "AP8="},
    }
    js.request(
        "ops", ops=[{"op": "set", "key": "when", "value": {"$crdt": "date", "v": "2025-05-06"}}]
    )
    wait_for(lambda: "when" in server.room("types")["repr"], "JS's date")
    assert server.room("types")["repr"]["when"] == "datetime.date(2025, 5, 6)"


def test_two_js_clients_merge_through_the_server(
    servers: Callable[..., AppServer], clients: Callable[..., Peer]
) -> None:
    server = servers()
    ann, bob = clients(server, "plans", name="ann"), clients(server, "plans", name="bob")
    synced(ann)
    synced(bob)
    ann.request("ops", ops=[{"op": "text_insert", "key": "notes", "text": "hello"}])
    bob.request("wait_text", key="notes", value="hello")
    # Concurrent: both edit before seeing the other's edit.
    ann.request("ops", ops=[{"op": "text_insert", "key": "notes", "index": 5, "text": " world"}])
    bob.request("ops", ops=[{"op": "text_insert", "key": "notes", "index": 0, "text": ">> "}])
    ann.request(
        "ops",
        ops=[{"op": "set", "key": "a", "value": 1}, {"op": "counter_add", "key": "c", "n": 1}],
    )
    bob.request(
        "ops",
        ops=[{"op": "set", "key": "b", "value": 2}, {"op": "counter_add", "key": "c", "n": 2}],
    )
    for peer in (ann, bob):
        peer.request("wait_text", key="notes", value=">> hello world")
        peer.request("wait", key="a", value=1)
        peer.request("wait", key="b", value=2)
    wait_for(lambda: ann.request("dump") == bob.request("dump"), "the same document")
    assert ann.request("dump")["dump"]["counters"] == {"c": 3}
    wait_for(lambda: server.room("plans")["texts"] == {"notes": ">> hello world"}, "the server")


def test_a_client_reconnects_after_the_server_restarts(
    servers: Callable[..., AppServer], clients: Callable[..., Peer], tmp_path: Path
) -> None:
    server = servers(store=f"diskcache:{tmp_path / 'store'}")
    js = clients(server, "plans")
    synced(js)
    js.request("ops", ops=[{"op": "set", "key": "first", "value": 1}])
    js.request("ack")  # the server has handled it (and stored it)
    server.stop()
    js.wait_event(lambda e: e.get("event") == "status" and e["status"] == "disconnected", "a drop")
    js.request("ops", ops=[{"op": "set", "key": "offline", "value": 2}])  # made while down
    seen = len(js.events)
    server.start()
    js.wait_event(lambda e: e.get("event") == "synced", "a resync", since=seen)
    wait_for(lambda: server.room("plans")["repr"].get("offline") == "2", "the offline edit")
    assert server.room("plans")["repr"]["first"] == "1"
    server.post("plans", "set", {"key": "after", "value": "restart"})
    js.request("wait", key="after", value="restart")


def test_a_read_only_client_follows_but_its_updates_are_refused(
    servers: Callable[..., AppServer], clients: Callable[..., Peer]
) -> None:
    server = servers()
    server.post("plans", "set", {"key": "x", "value": "server"})
    reader = clients(server, "plans", name="reader", token="reader")
    synced(reader)
    reader.request("wait", key="x", value="server")
    reader.request("ops", ops=[{"op": "set", "key": "x", "value": "reader"}])
    denied = reader.wait_event(lambda e: e.get("event") == "denied", "a permission-denied message")
    assert denied["reason"] == "read-only access to room 'plans'"
    # A crafted update frame is refused too: [sync=0][update=2][len][update bytes].
    update = _update_setting("x", "crafted")
    reader.request("raw", hex=(b"\x00\x02" + _varuint(len(update)) + update).hex())
    writer = clients(server, "plans", name="writer")
    synced(writer)
    writer.request("ops", ops=[{"op": "set", "key": "y", "value": 1}])
    reader.request("wait", key="y", value=1)  # it still follows the room
    writer.request("ack")
    assert server.room("plans")["repr"] == {"x": "'server'", "y": "1"}
    assert not any(e.get("event") == "connection-close" for e in reader.events)


def test_a_refused_client_gets_a_close_code_and_stops_retrying(
    servers: Callable[..., AppServer], clients: Callable[..., Peer]
) -> None:
    server = servers()
    intruder = clients(server, "plans", token="nobody")
    closed = intruder.wait_event(lambda e: e.get("event") == "closed", "the terminal close")
    assert closed == {"event": "closed", "code": 4403, "reason": "not allowed in room 'plans'"}
    time.sleep(1.0)  # y-websocket would have retried several times by now
    closes = [e for e in intruder.events if e.get("event") == "connection-close"]
    assert len(closes) == 1
    assert not any(e.get("event") == "synced" for e in intruder.events)


def test_an_oversize_frame_is_refused_before_it_is_processed(
    servers: Callable[..., AppServer], clients: Callable[..., Peer]
) -> None:
    server = servers(env={"MAX_MESSAGE_SIZE": str(64 * 1024)}, ws_max_size=256 * 1024)
    js = clients(server, "plans")
    synced(js)
    update = _update_setting("big", "x" * (100 * 1024))
    js.request("raw", hex=(b"\x00\x02" + _varuint(len(update)) + update).hex())
    closed = js.wait_event(lambda e: e.get("event") == "closed", "the close")
    assert closed["code"] == 4413
    assert closed["reason"].startswith("frame of ")
    assert server.room("plans")["repr"] == {}
    # Beyond uvicorn's --ws-max-size the frame is refused by the protocol layer, unread.
    other = clients(server, "plans", name="other")
    synced(other)
    huge = _update_setting("huge", "y" * (512 * 1024))
    other.request("raw", hex=(b"\x00\x02" + _varuint(len(huge)) + huge).hex())
    close = other.wait_event(lambda e: e.get("event") == "connection-close", "the close")
    assert close["code"] == 1009
    assert server.room("plans")["repr"] == {}


def test_malformed_frames_and_nan_awareness_close_the_connection(
    servers: Callable[..., AppServer], clients: Callable[..., Peer]
) -> None:
    server = servers()
    bystander = clients(server, "plans", name="bystander")
    synced(bystander)
    bystander.request("awareness", state={"user": {"name": "by"}})
    for frame in (b"\x00\x02\xff\xff\x7f", b"\x01\x05\x01", b"\x00\x02\x03\x01\x02\x03"):
        bad = clients(server, "plans", name=f"bad {frame.hex()}")
        synced(bad)
        bad.request("raw", hex=frame.hex())
        closed = bad.wait_event(lambda e: e.get("event") == "closed", "the close")
        assert closed["code"] == 4400
    nan = clients(server, "plans", name="nan")
    synced(nan)
    payload = b"\x01\x07\x00\x09" + b'{"x":NaN}'  # 1 state: client 7, clock 0
    nan.request("raw", hex=(b"\x01" + _varuint(len(payload)) + payload).hex())
    closed = nan.wait_event(lambda e: e.get("event") == "closed", "the close")
    assert closed["code"] == 4400 and "NaN" in closed["reason"]
    # Nobody else was hurt: the bystander still syncs and sees no NaN state.
    bystander.request("ops", ops=[{"op": "set", "key": "alive", "value": True}])
    wait_for(lambda: server.room("plans")["repr"].get("alive") == "True", "the bystander")
    assert "7" not in bystander.request("states")["states"]


def test_a_late_joiner_sees_everyones_presence_at_once(
    servers: Callable[..., AppServer], clients: Callable[..., Peer]
) -> None:
    server = servers()
    ann = clients(server, "plans", name="ann")
    synced(ann)
    ann.request("awareness", state={"user": {"name": "ann", "cursor": [1, 2]}})
    wait_for(lambda: server.room("plans")["presence"] == ["ann"], "ann in crdt_sync.presence()")
    time.sleep(0.3)
    t0 = time.monotonic()
    bob = clients(server, "plans", name="bob")
    states = bob.request("wait_states", names=["ann"], timeout=3)["states"]
    assert time.monotonic() - t0 < 3  # not after the ~15 s renewal of a stock server
    assert {"user": {"name": "ann", "cursor": [1, 2]}} in states.values()
    bob.request("awareness", state={"user": {"name": "bob"}})
    ann.request("wait_states", names=["bob"], timeout=3)
    wait_for(lambda: server.room("plans")["presence"] == ["ann", "bob"], "both in presence()")
    bob.request("quit")
    wait_for(lambda: server.room("plans")["presence"] == ["ann"], "bob to leave presence()")
    wait_for(
        lambda: len(ann.request("states")["states"]) == 1, "bob's state to leave ann's awareness"
    )


def test_two_servers_on_one_redis_serve_one_room(
    servers: Callable[..., AppServer], clients: Callable[..., Peer], tmp_path: Path
) -> None:
    with RedisServer(tmp_path / "redis") as redis_server:
        one, two = servers(store=redis_server.url), servers(store=redis_server.url)
        ann, bob = clients(one, "plans", name="ann"), clients(two, "plans", name="bob")
        synced(ann)
        synced(bob)
        ann.request("ops", ops=[{"op": "set", "key": "from", "value": "server one"}])
        bob.request("wait", key="from", value="server one")
        bob.request("ops", ops=[{"op": "text_insert", "key": "notes", "text": "via two"}])
        ann.request("wait_text", key="notes", value="via two")
        wait_for(lambda: two.room("plans")["texts"] == {"notes": "via two"}, "server two")
        for server in (one, two):
            server.stop()


def test_room_names_are_url_decoded(
    servers: Callable[..., AppServer], clients: Callable[..., Peer]
) -> None:
    server = servers()
    js = clients(server, "team%20one%2Fplans")  # encodeURIComponent("team one/plans")
    synced(js)
    js.request("ops", ops=[{"op": "set", "key": "k", "value": 1}])
    wait_for(lambda: server.room("team one/plans")["repr"] == {"k": "1"}, "the decoded room")


def _update_setting(key: str, value: str) -> bytes:
    from crdt_sync.doc import Room

    room = Room("scratch")
    room[key] = value
    return room.export()


def _varuint(n: int) -> bytes:
    from pycrdt import write_var_uint

    return bytes(write_var_uint(n))


def test_encode_awareness_refuses_nan() -> None:
    with pytest.raises(ValueError, match="nan is not"):
        encode_awareness([(1, 0, {"x": float("nan")})])


def test_an_awareness_only_client_shares_presence_and_never_the_document(
    servers: Callable[..., AppServer], clients: Callable[..., Peer]
) -> None:
    """What a whiteboard's live cursors use (``?awareness=1``)."""
    server = servers()
    ann = clients(server, "plans", name="ann")
    synced(ann)
    ann.request("ops", ops=[{"op": "set", "key": "before", "value": 1}])
    ann.request("awareness", state={"user": {"name": "ann"}})
    cursor = clients(server, "plans", name="cursor", awareness="1")
    mark = {"streamlit": True, "board": "wb", "cursor": {"x": 10, "y": 20}}
    cursor.request("awareness", state={"user": {"name": "cur"}, **mark})
    ann.request("wait_states", names=["cur"])
    cursor.request("wait_states", names=["ann"])  # it sees everyone at once
    # A Streamlit page's cursor is not a member of its own; a Yjs editor is.
    assert server.room("plans")["presence"] == ["ann"]

    # Nothing of the document reaches it ...
    ann.request("ops", ops=[{"op": "set", "key": "after", "value": 2}])
    ann.request("awareness", state={"user": {"name": "ann2"}})
    cursor.request("wait_states", names=["ann2"])  # sent after the update would have been
    assert cursor.request("dump")["dump"].get("registers", {}) == {}
    # ... and nothing it does to its copy reaches the room.
    cursor.request("ops", ops=[{"op": "set", "key": "forged", "value": 3}])
    cursor.request("awareness", state={"user": {"name": "cur2"}, **mark})
    ann.request("wait_states", names=["cur2"])
    assert set(server.room("plans")["repr"]) == {"before", "after"}
