"""Tests of crdt_sync.net.redis_store: rooms in Redis streams, against a real redis-server."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from redis_helpers import RedisServer
from replicas import wait_for

from crdt_sync.doc import Hub, Room, StoreError, UpdateStore
from crdt_sync.net import ConnectionStatus
from crdt_sync.net.redis_store import RedisStore
from crdt_sync.net.stream_ids import parse_id

REPO = Path(__file__).resolve().parents[1]
BAD_NAMES: list[tuple[Any, str]] = [
    ("", "room name must not be empty"),
    ("a\nb", "room name 'a\\nb' contains control character '\\n'"),
    (3, "room name must be a str, got int: 3"),
]


@pytest.fixture
def aof_redis(tmp_path: Path) -> Iterator[RedisServer]:
    """A redis-server that keeps its data across a restart (AOF, fsync always)."""
    with RedisServer(tmp_path / "redis-aof", appendonly=True) as server:
        yield server


def fill(room: Room) -> None:
    room["level"] = 3
    room["when"] = (1, "a")
    room.text("notes").update("hello")
    room.counter("clicks").increment(2)
    room.list("todo").append({"who": "ann"})
    room.set("tags").add("red")
    room.table("tasks").add_row({"done": False}, row_id="t1")


def check_filled(room: Room) -> None:
    assert room.snapshot() == {"level": 3, "when": (1, "a")}
    assert str(room.text("notes")) == "hello"
    assert room.counter("clicks").value == 2
    assert room.list("todo").to_list() == [{"who": "ann"}]
    assert list(room.set("tags")) == ["red"]
    assert room.table("tasks").rows() == {"t1": {"done": False}}


def test_follows_the_protocol(stores: Callable[..., RedisStore]) -> None:
    assert isinstance(stores(), UpdateStore)


def test_writes_persist_and_a_cold_store_rebuilds_them(stores: Callable[..., RedisStore]) -> None:
    store = stores()
    room = store.load("plans")
    assert room.snapshot() == {}
    assert store.rooms() == []
    fill(room)
    assert store.rooms() == ["plans"]
    store.close()
    check_filled(stores().load("plans"))


def test_every_room_rebuilds_from_redis_alone(stores: Callable[..., RedisStore]) -> None:
    store = stores()
    for i in range(5):
        store.load(f"room {i}")["n"] = i
    store.close()
    cold = stores()
    assert cold.rooms() == [f"room {i}" for i in range(5)]
    assert [cold.load(name)["n"] for name in cold.rooms()] == [0, 1, 2, 3, 4]


def test_layout_is_a_stream_of_binary_updates_with_their_writer(
    stores: Callable[..., RedisStore],
) -> None:
    store = stores()
    room = store.load("plans")
    room["a"] = 1
    room["b"] = 2
    entries = store.redis.xrange("crdt_sync:room:plans")
    assert len(entries) == 2
    writers = {fields[b"w"] for _id, fields in entries}
    assert len(writers) == 1 and writers.pop().decode().startswith(store.id + "/")
    peer = Room("peer")
    for _id, fields in entries:
        assert set(fields) == {b"u", b"w"}
        assert peer.merge(fields[b"u"])  # plain Yjs updates, nothing else
    assert peer.snapshot() == {"a": 1, "b": 2}


def test_compaction_persists_the_snapshot_then_trims_exactly(
    stores: Callable[..., RedisStore],
) -> None:
    store = stores(min_message_lifetime=0)
    room = store.load("plans")
    fill(room)
    stream = "crdt_sync:room:plans"
    last = parse_id(store.redis.xrange(stream)[-1][0])
    assert store.redis.xlen(stream) >= 7  # one entry per transaction
    store.compact("plans")
    # Exact trim: redis-py's default (approximate) would leave a stream this small untouched.
    assert store.redis.xlen(stream) == 0
    snapshot = store.redis.hgetall("crdt_sync:snapshot:plans")
    assert parse_id(snapshot[b"id"]) == last
    check_filled(stores().load("plans"))
    room["after"] = True  # the stream goes on after the snapshot
    again = stores().load("plans")
    assert again.pop("after") is True
    check_filled(again)


def test_entries_younger_than_the_minimum_lifetime_stay_after_compaction(
    stores: Callable[..., RedisStore],
) -> None:
    store = stores(min_message_lifetime=60)
    fill(store.load("plans"))
    written = store.redis.xlen("crdt_sync:room:plans")
    store.compact("plans")
    assert store.redis.xlen("crdt_sync:room:plans") == written  # a reader a bit behind finds them
    snapshot, entries = store.read("plans")
    assert snapshot is not None and entries == []  # loading skips what the snapshot covers
    check_filled(stores().load("plans"))


def test_a_compaction_that_dies_before_trimming_loses_nothing(
    stores: Callable[..., RedisStore], monkeypatch: pytest.MonkeyPatch
) -> None:
    store = stores(min_message_lifetime=0)
    fill(store.load("plans"))
    written = store.redis.xlen("crdt_sync:room:plans")

    def die(*_args: Any) -> None:
        raise KeyboardInterrupt("killed between the snapshot and the trim")

    monkeypatch.setattr(store, "trim", die)
    with pytest.raises(KeyboardInterrupt, match=r"^killed between the snapshot and the trim$"):
        store.compact("plans")
    assert store.redis.exists("crdt_sync:snapshot:plans")
    assert store.redis.xlen("crdt_sync:room:plans") == written
    check_filled(stores().load("plans"))
    monkeypatch.undo()
    store.compact("plans")  # the next compaction trims what the snapshot covers
    assert store.redis.xlen("crdt_sync:room:plans") == 0
    check_filled(stores().load("plans"))


def test_a_compaction_that_dies_before_the_snapshot_loses_nothing(
    stores: Callable[..., RedisStore], monkeypatch: pytest.MonkeyPatch
) -> None:
    store = stores(min_message_lifetime=0)
    fill(store.load("plans"))
    monkeypatch.setattr(store, "write_snapshot", lambda *a: (_ for _ in ()).throw(OSError("x")))
    with pytest.raises(OSError, match=r"^x$"):
        store.compact("plans")
    assert not store.redis.exists("crdt_sync:snapshot:plans")
    check_filled(stores().load("plans"))


def test_an_older_snapshot_never_replaces_a_newer_one(stores: Callable[..., RedisStore]) -> None:
    store = stores()
    newer, older = Room("n"), Room("o")
    newer["x"] = "newer"
    older["x"] = "older"
    assert store.write_snapshot("plans", newer.export(), (2000, 5)) is True
    assert store.write_snapshot("plans", older.export(), (2000, 4)) is False
    assert store.write_snapshot("plans", older.export(), (1999, 9)) is False
    assert store.write_snapshot("plans", older.export(), (2000, 5)) is False
    snapshot, _ = store.read("plans")
    assert snapshot is not None and snapshot[1] == (2000, 5)
    assert Room("check").merge(snapshot[0])


def test_auto_compaction_after_compact_every_appends(stores: Callable[..., RedisStore]) -> None:
    store = stores(compact_every=5, min_message_lifetime=0)
    room = store.load("plans")
    for i in range(12):
        room[f"k{i}"] = i
    wait_for(lambda: store.redis.exists("crdt_sync:snapshot:plans"), "a background compaction")
    wait_for(lambda: store.redis.xlen("crdt_sync:room:plans") < 12, "the trim")
    assert stores().load("plans").snapshot() == {f"k{i}": i for i in range(12)}


def test_kill_9_during_compactions_loses_no_acknowledged_edit(
    stores: Callable[..., RedisStore], redis_server: RedisServer
) -> None:
    script = textwrap.dedent(
        f"""
        import sys
        from crdt_sync.net.redis_store import RedisStore
        store = RedisStore({redis_server.url!r}, min_message_lifetime=0, compact_every=0)
        room = store.load("plans")
        i = 0
        while True:
            room[f"k{{i}}"] = i
            print(i, flush=True)          # acknowledged: the write returned
            if i % 5 == 4:
                store.compact("plans")    # killed in the middle of one, sooner or later
            i += 1
        """
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", script],
        stdout=subprocess.PIPE,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert proc.stdout is not None
    acked = -1
    try:
        while acked < 300:
            line = proc.stdout.readline()
            assert line, "the writer died"
            acked = int(line)
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    room = stores().load("plans")
    missing = [i for i in range(acked + 1) if room.get(f"k{i}") != i]
    assert missing == []


def test_a_corrupt_entry_is_quarantined_and_the_rest_loads(
    stores: Callable[..., RedisStore], caplog: pytest.LogCaptureFixture
) -> None:
    store = stores()
    room = store.load("plans")
    room["a"] = 1
    bad_id = store.redis.xadd("crdt_sync:room:plans", {b"u": b"\xff\x01garbage", b"w": b"x/1"})
    room2 = Room("peer")
    room2["b"] = 2
    store.redis.xadd("crdt_sync:room:plans", {b"u": room2.export(), b"w": b"y/1"})
    with caplog.at_level(logging.WARNING, logger="crdt_sync.redis"):
        loaded = stores().load("plans")
    assert loaded.snapshot() == {"a": 1, "b": 2}
    label = bad_id.decode()
    assert f"room 'plans': stored update {label} cannot be applied and was quarantined" in (
        caplog.text
    )
    assert list(store.quarantined("plans")) == [label]
    assert store.redis.hget("crdt_sync:quarantine:plans", f"{label}:data") == b"\xff\x01garbage"


def test_delete_removes_the_room(stores: Callable[..., RedisStore]) -> None:
    store = stores()
    store.load("plans")["a"] = 1
    store.load("other")["b"] = 2
    store.compact("plans")
    store.delete("plans")
    assert store.rooms() == ["other"]
    assert not store.redis.exists("crdt_sync:room:plans", "crdt_sync:snapshot:plans")
    assert stores().load("plans").snapshot() == {}


@pytest.mark.parametrize(("name", "message"), BAD_NAMES)
def test_bad_room_names_are_refused(
    stores: Callable[..., RedisStore], name: Any, message: str
) -> None:
    store = stores()
    for call in (store.load, store.delete, store.compact):
        with pytest.raises(ValueError) as info:
            call(name)
        assert str(info.value) == message


def test_prefixes_keep_apps_apart(stores: Callable[..., RedisStore]) -> None:
    stores(prefix="one").load("plans")["x"] = 1
    stores(prefix="two").load("plans")["x"] = 2
    assert stores(prefix="one").load("plans")["x"] == 1
    assert stores(prefix="two").load("plans")["x"] == 2


def test_status_names_the_server_without_its_password(redis_server: RedisServer) -> None:
    store = RedisStore(f"redis://:secret@127.0.0.1:{redis_server.port}/0")
    try:
        status = store.status()
        assert status == ConnectionStatus(
            server=f"redis://127.0.0.1:{redis_server.port}/0",
            connected=True,
            queued=0,
            since=status.since,
        )
        assert "secret" not in repr(store)
        assert status.message == f"Connected to redis://127.0.0.1:{redis_server.port}/0."
    finally:
        store.close()


def test_redis_outage_queues_edits_and_writes_them_when_it_returns(
    aof_redis: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    store = RedisStore(aof_redis.url, timeout=0.5)
    heard: list[ConnectionStatus] = []
    store.add_status_listener(heard.append)
    try:
        room = store.load("plans")
        room["before"] = 1
        aof_redis.stop()
        with caplog.at_level(logging.WARNING, logger="crdt_sync.redis"):
            t0 = time.monotonic()
            room["during"] = 2  # the room keeps working; the edit is kept in memory
            room.text("notes").update("offline")
            assert time.monotonic() - t0 < 2
        assert room.snapshot() == {"before": 1, "during": 2}
        status = store.status()
        assert not status.connected and status.queued >= 1 and status.error
        assert "unreachable" in status.message
        assert f"Redis at {store.server} is unreachable" in caplog.text
        assert store.rooms() == ["plans"]  # the rooms open here, not a traceback
        with pytest.raises(StoreError, match=r"^room 'plans': could not compact it in redis://"):
            store.compact("plans")
        wait_for(lambda: heard and not heard[-1].connected, "the listener to hear the outage")

        aof_redis.start()  # same port, same data
        assert store.flush(timeout=10), store.status()
        assert store.status().connected and store.status().queued == 0
        wait_for(lambda: heard[-1].connected, "the listener to hear the return")
    finally:
        store.close()
    cold = RedisStore(aof_redis.url)
    try:
        again = cold.load("plans")
        assert again.snapshot() == {"before": 1, "during": 2}
        assert str(again.text("notes")) == "offline"
    finally:
        cold.close()


def test_a_room_opened_while_redis_is_down_catches_up_when_it_returns(
    aof_redis: RedisServer,
) -> None:
    writer = RedisStore(aof_redis.url, timeout=0.5)
    late = RedisStore(aof_redis.url, timeout=0.5)
    try:
        writer.load("plans")["stored"] = "yes"
        aof_redis.stop()
        room = late.load("plans")  # no traceback: opens empty, says so in the status
        assert room.snapshot() == {}
        assert not late.status().connected
        room["offline"] = 1
        aof_redis.start()
        wait_for(lambda: room.get("stored") == "yes", "the stored state to arrive")
        assert late.flush(10)
        wait_for(lambda: writer.load("plans").get("offline") == 1, "the queued edit in Redis")
    finally:
        writer.close()
        late.close()


def test_a_redis_that_lost_its_data_gets_the_rooms_back(redis_server: RedisServer) -> None:
    store = RedisStore(redis_server.url, timeout=0.5)
    try:
        room = store.load("plans")
        fill(room)
        redis_server.restart()  # no persistence: Redis comes back empty
        wait_for(lambda: store.redis.exists("crdt_sync:room:plans"), "the room to be rewritten")
        assert store.flush(10)
    finally:
        store.close()
    cold = RedisStore(redis_server.url)
    try:
        check_filled(cold.load("plans"))
    finally:
        cold.close()


def test_closed_rooms_are_no_longer_followed(stores: Callable[..., RedisStore]) -> None:
    store = stores()
    hub = Hub(store)
    store.attach_hub(hub)
    hub.open("plans")
    other = store.load("not-in-the-hub")
    wait_for(lambda: store.relay.replicas("plans")[0].seen_in_hub, "the relay to see the room")
    hub.release("plans")
    wait_for(lambda: not store.relay.replicas("plans"), "the closed room to be dropped")
    assert [r.room for r in store.relay.replicas("not-in-the-hub")] == [other]
