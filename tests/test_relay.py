"""Tests of crdt_sync.net.relay: every process applies every other process's edits live.

Two kinds of "processes": two `RedisStore`s in this process (each with its own relay
thread and connections), and real subprocesses (``tests/redis_peer.py``) that can be
``kill -9``-ed.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

import pytest
from peers import Peer
from redis_helpers import RedisServer
from replicas import wait_for

from crdt_sync.doc import Hub, Room, RoomEvent
from crdt_sync.doc.update_format import decode_state_vector
from crdt_sync.net.redis_store import RedisStore
from crdt_sync.net.replica import RELAY_ORIGIN


@pytest.fixture
def peers() -> Iterator[Callable[..., Peer]]:
    made: list[Peer] = []

    def make(url: str, room: str, name: str) -> Peer:
        peer = Peer.redis(url, room, name=name)
        made.append(peer)
        return peer

    yield make
    for peer in made:
        peer.close()


def converged(a: Room, b: Room) -> bool:
    """Same state vector (the delete set rides along with every update), nothing pending."""
    same = decode_state_vector(a.state_vector()) == decode_state_vector(b.state_vector())
    return same and a.pending == b.pending == 0


def test_two_processes_see_each_others_edits_live(stores: Callable[..., RedisStore]) -> None:
    hub_a, hub_b = Hub(stores()), Hub(stores())
    a, b = hub_a.open("plans"), hub_b.open("plans")
    origins: list[object] = []
    b.observe(lambda event: origins.append(event.origin))
    a["level"] = 3
    wait_for(lambda: b.get("level") == 3, "A's edit on B")
    assert origins == [RELAY_ORIGIN]  # the bridge reruns B's sessions for it
    b.text("notes").update("hello")
    wait_for(lambda: str(a.text("notes")) == "hello", "B's text on A")
    # Concurrent edits (both made against "hello") merge exactly as in one process.
    a.text("notes").update("hello world", base="hello")
    b.text("notes").update(">> hello", base="hello")
    for room in (a, b):
        room.counter("clicks").increment()
    wait_for(lambda: converged(a, b), "convergence")
    assert str(a.text("notes")) == str(b.text("notes")) == ">> hello world"
    assert a.counter("clicks").value == b.counter("clicks").value == 2


def test_an_edit_is_written_once_and_never_echoed(stores: Callable[..., RedisStore]) -> None:
    one, two = stores(), stores()
    a, b = one.load("plans"), two.load("plans")
    a["x"] = 1
    wait_for(lambda: b.get("x") == 1, "the edit on B")
    b["y"] = 2
    wait_for(lambda: a.get("y") == 2, "the edit on A")
    time.sleep(0.2)  # give a wrong echo the time to happen
    assert one.redis.xlen("crdt_sync:room:plans") == 2


def test_a_room_loaded_mid_burst_misses_nothing(stores: Callable[..., RedisStore]) -> None:
    writer = stores().load("plans")
    started = threading.Event()

    def burst() -> None:
        for i in range(400):
            writer[f"k{i}"] = i
            if i == 50:
                started.set()

    thread = threading.Thread(target=burst)
    thread.start()
    started.wait(10)
    late = stores().load("plans")  # subscribe and load in one atomic read: no gap
    thread.join()
    wait_for(lambda: len(late) == 400, "every key on the late room")
    assert late.snapshot() == {f"k{i}": i for i in range(400)}


def test_entries_out_of_order_are_held_back_until_their_predecessors_arrive(
    stores: Callable[..., RedisStore],
) -> None:
    store = stores()
    room = store.load("plans")
    other = Room("other")
    updates: list[bytes] = []
    other.observe(lambda event: updates.append(event.update))
    for i in range(5):
        other["k"] = i
    for update in reversed(updates):  # a writer whose entries arrive in the wrong order
        store.redis.xadd("crdt_sync:room:plans", {b"u": update, b"w": b"elsewhere/1"})
    wait_for(lambda: room.get("k") == 4 and room.pending == 0, "the held-back updates")
    assert converged(room, other)


def test_missed_entries_are_caught_up_from_the_snapshot(
    stores: Callable[..., RedisStore], monkeypatch: pytest.MonkeyPatch
) -> None:
    follower = stores()
    follower.relay.check_every = 0.1
    room = follower.load("plans")
    wait_for(lambda: follower.relay.healthy and follower.relay._thread, "the relay")
    dropped: list[object] = []
    # The follower misses everything for a while (as if it were stuck) ...
    monkeypatch.setattr(follower.relay, "_deliver", dropped.append)
    writer = stores(min_message_lifetime=0)
    source = writer.load("plans")
    for i in range(10):
        source[f"k{i}"] = i
    wait_for(lambda: dropped, "the follower to miss an entry")
    # ... meanwhile a compaction trims those entries past its cursor.
    writer.compact("plans")
    assert writer.redis.xlen("crdt_sync:room:plans") == 0
    monkeypatch.undo()
    wait_for(lambda: len(room) == 10, "the follower to catch up from the snapshot")
    assert room.snapshot() == source.snapshot()


def test_one_reader_thread_serves_every_room(stores: Callable[..., RedisStore]) -> None:
    store = stores()
    before = {t.name for t in threading.enumerate()}
    rooms = [store.load(f"room{i}") for i in range(20)]
    assert {t.name for t in threading.enumerate()} - before == {f"crdt_sync-relay-{store.relay.id}"}
    writer = stores()
    for i in range(20):
        writer.load(f"room{i}")["n"] = i
    wait_for(lambda: [r.get("n") for r in rooms] == list(range(20)), "every room")


def test_observers_of_remote_edits_may_write_the_room(stores: Callable[..., RedisStore]) -> None:
    # The bridge reacts to relayed edits by writing; that must neither deadlock nor echo.
    a, b = stores().load("plans"), stores().load("plans")

    def react(event: RoomEvent) -> None:
        if event.origin == RELAY_ORIGIN and "ping" in event.keys:
            b["pong"] = b["ping"]

    b.observe(react)
    a["ping"] = 1
    wait_for(lambda: a.get("pong") == 1, "B's reaction on A")


def test_two_real_processes_converge(redis_server: RedisServer, peers: Callable[..., Peer]) -> None:
    one = peers(redis_server.url, "plans", "one")
    two = peers(redis_server.url, "plans", "two")
    for peer in (one, two):
        peer.request("set", key="ready-" + peer.name, value=True)
    one.request("wait", key="ready-two", value=True)
    two.request("wait", key="ready-one", value=True)
    for i in range(20):
        one.request("text", key="notes", insert=f"a{i} ", index=0)
        two.request("text", key="notes", insert=f"b{i} ")
        one.request("counter", key="clicks")
        two.request("counter", key="clicks", n=2)
    one.request("set", key="done-one", value=True)
    two.request("set", key="done-two", value=True)
    one.request("wait", key="done-two", value=True)
    two.request("wait", key="done-one", value=True)
    deadline = time.monotonic() + 10
    while (dump := one.request("dump")) != two.request("dump"):
        assert time.monotonic() < deadline, "the processes never converged"
        time.sleep(0.05)
    assert dump["counters"] == {"clicks": 60}
    text = dump["texts"]["notes"]
    assert all(f"a{i} " in text and f"b{i} " in text for i in range(20))


def test_kill_9_mid_burst_loses_no_acknowledged_edit(
    redis_server: RedisServer, peers: Callable[..., Peer], stores: Callable[..., RedisStore]
) -> None:
    victim = peers(redis_server.url, "plans", "victim")
    survivor = peers(redis_server.url, "plans", "survivor")
    survivor.request("set", key="survivor", value="here")
    victim.request("wait", key="survivor", value="here")
    victim.proc.stdin.write('{"id": 999, "cmd": "burst", "prefix": "k", "count": 100000}\n')
    victim.proc.stdin.flush()
    ack = victim.wait_event(lambda e: e.get("ack", -1) >= 300, "300 acknowledged edits")
    victim.kill()
    acked = max(e["ack"] for e in victim.events if "ack" in e)
    assert acked >= ack["ack"]
    # Every acknowledged edit is in Redis, and the other process has all of them ...
    survivor.request("wait_keys", prefix="k", count=acked + 1, timeout=30)
    cold = stores().load("plans")
    assert [i for i in range(acked + 1) if cold.get(f"k{i}") != i] == []
    # ... and it keeps going.
    survivor.request("set", key="after", value="the kill")
    wait_for(lambda: cold.get("after") == "the kill", "the survivor's next edit")
