"""Tests of crdt_sync.doc.store: the UpdateStore protocol, the shared log logic, MemoryStore."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from crdt_sync.doc import MemoryStore, Room, UpdateStore
from crdt_sync.doc.store import EMPTY_UPDATE, Coverage

BAD_NAMES: list[tuple[Any, str]] = [
    ("", "room name must not be empty"),
    ("x" * 201, "room name is 201 characters long, the limit is 200: " + repr("x" * 40) + "..."),
    ("a\nb", "room name 'a\\nb' contains control character '\\n'"),
    ("a\x1fb", "room name 'a\\x1fb' contains control character '\\x1f'"),
    ("a\x85b", "room name 'a\\x85b' contains control character '\\x85'"),
    (3, "room name must be a str, got int: 3"),
    (None, "room name must be a str, got NoneType: None"),
    (b"room", "room name must be a str, got bytes: b'room'"),
]


def entries(store: MemoryStore, name: str) -> int:
    """How many log entries the store keeps for a room (snapshot not counted)."""
    return sum(len(log) for log in store._logs.get(name, {}).values())


def test_memory_store_follows_the_protocol() -> None:
    assert isinstance(MemoryStore(), UpdateStore)


def test_a_new_room_is_empty_and_not_listed_until_written() -> None:
    store = MemoryStore()
    room = store.load("plans")
    assert room.name == "plans"
    assert room.snapshot() == {}
    assert store.rooms() == []
    room["x"] = 1
    assert store.rooms() == ["plans"]


def test_writes_persist_and_reload_equal() -> None:
    store = MemoryStore()
    room = store.load("plans")
    room["level"] = 3
    room.text("notes").update("hello")
    room.counter("clicks").increment(2)
    room.list("todo").append((1, "a"))
    room.set("tags").add("red")
    room.table("tasks").add_row({"done": False}, row_id="t1")
    again = store.load("plans")
    assert again.snapshot() == {"level": 3}
    assert str(again.text("notes")) == "hello"
    assert again.counter("clicks").value == 2
    assert again.list("todo").to_list() == [(1, "a")]
    assert list(again.set("tags")) == ["red"]
    assert again.table("tasks").rows() == {"t1": {"done": False}}


def test_merged_updates_persist_too() -> None:
    store = MemoryStore()
    room = store.load("plans")
    peer = Room("plans")
    peer["from_peer"] = 1
    room.merge(peer.export())
    assert store.load("plans").snapshot() == {"from_peer": 1}


def test_two_loaded_instances_both_persist() -> None:
    store = MemoryStore()
    a, b = store.load("plans"), store.load("plans")
    a["a"] = 1
    b["b"] = 2
    a.counter("n").increment()
    b.counter("n").increment()
    again = store.load("plans")
    assert again.snapshot() == {"a": 1, "b": 2}
    assert again.counter("n").value == 2


def test_rooms_are_independent() -> None:
    store = MemoryStore()
    store.load("a")["x"] = 1
    store.load("b")["y"] = 2
    assert store.rooms() == ["a", "b"]
    assert store.load("a").snapshot() == {"x": 1}
    assert store.load("b").snapshot() == {"y": 2}


def test_delete_removes_the_room() -> None:
    store = MemoryStore()
    store.load("a")["x"] = 1
    store.load("b")["y"] = 2
    store.compact("a")
    store.delete("a")
    assert store.rooms() == ["b"]
    assert store.load("a").snapshot() == {}
    assert store.load("b").snapshot() == {"y": 2}


def test_compact_replaces_the_log_by_a_snapshot_and_loads_equal() -> None:
    store = MemoryStore(compact_every=0)
    room = store.load("plans")
    for i in range(50):
        room[f"k{i}"] = i
    room.text("t").update("compacted")
    before = store.load("plans")
    assert entries(store, "plans") == 52  # 50 writes, creating the text, updating it
    store.compact("plans")
    assert entries(store, "plans") == 0
    after = store.load("plans")
    assert after.snapshot() == before.snapshot()
    assert str(after.text("t")) == "compacted"
    room["late"] = True  # the writer keeps appending after a compaction
    assert store.load("plans")["late"] is True


def test_repeated_compactions_keep_everything() -> None:
    store = MemoryStore(compact_every=0)
    a, b = store.load("plans"), store.load("plans")
    for i in range(5):
        a[f"a{i}"] = i
        store.compact("plans")
        b[f"b{i}"] = i
    store.compact("plans")
    store.compact("plans")
    assert store.load("plans").snapshot() == {
        **{f"a{i}": i for i in range(5)},
        **{f"b{i}": i for i in range(5)},
    }


def test_auto_compaction_after_compact_every_appends() -> None:
    store = MemoryStore(compact_every=10)
    room = store.load("plans")
    for i in range(25):
        room[f"k{i}"] = i
    assert entries(store, "plans") == 5
    assert store._snapshot("plans") is not None
    assert store.load("plans").snapshot() == {f"k{i}": i for i in range(25)}


def test_auto_compaction_keeps_updates_of_other_writers() -> None:
    store = MemoryStore(compact_every=5)
    a, b = store.load("plans"), store.load("plans")
    b["from_b"] = 1  # a never sees this one
    for i in range(12):
        a[f"a{i}"] = i
    loaded = store.load("plans")
    assert loaded["from_b"] == 1
    assert len(loaded) == 13


def test_regression_auto_compaction_keeps_what_another_compaction_merged_in() -> None:
    # Bug: a room that had merged someone else's snapshot into its own compaction then
    # took that snapshot for "its own state" and replaced it without merging: b1 and b2,
    # whose log entries the first compaction had deleted, were gone.
    store = MemoryStore(compact_every=2)
    a, b = store.load("plans"), store.load("plans")
    b["b1"], b["b2"] = 1, 2  # b compacts: the snapshot holds b1, b2
    a["a1"], a["a2"] = 1, 2  # a compacts: merges b's snapshot into its own
    a["a3"], a["a4"] = 3, 4  # a compacts again
    assert store.load("plans").snapshot() == {"a1": 1, "a2": 2, "a3": 3, "a4": 4, "b1": 1, "b2": 2}


@pytest.mark.parametrize(("name", "message"), BAD_NAMES)
def test_bad_room_names_are_refused(name: Any, message: str) -> None:
    store = MemoryStore()
    for call in (store.load, store.compact, store.delete):
        with pytest.raises(ValueError) as info:
            call(name)
        assert str(info.value) == message


def test_a_corrupt_entry_is_quarantined_and_the_rest_loads(
    caplog: pytest.LogCaptureFixture,
) -> None:
    store = MemoryStore()
    room = store.load("plans")
    for i in range(5):
        room[f"k{i}"] = i
    store.load("other")["fine"] = True
    (writer,) = store._logs["plans"]
    store._logs["plans"][writer][3] = b"\x07garbage"  # k2's update
    with caplog.at_level(logging.WARNING, logger="crdt_sync.store"):
        loaded = store.load("plans")
    assert loaded.snapshot() == {"k0": 0, "k1": 1, "k3": 3, "k4": 4}
    (record,) = [r for r in caplog.records if r.name == "crdt_sync.store"]
    assert record.getMessage().startswith(
        f"room 'plans': stored update {writer}:3 cannot be applied and was quarantined: "
    )
    assert store.quarantined[("plans", f"{writer}:3")][0] == b"\x07garbage"
    assert store._logs["plans"][writer][3] == EMPTY_UPDATE
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="crdt_sync.store"):
        assert store.load("plans").snapshot() == loaded.snapshot()  # reported once
    assert caplog.records == []
    assert store.load("other").snapshot() == {"fine": True}


def test_a_corrupt_snapshot_is_quarantined_and_later_entries_still_load(
    caplog: pytest.LogCaptureFixture,
) -> None:
    store = MemoryStore(compact_every=0)
    room = store.load("plans")
    room["before"] = 1
    store.compact("plans")
    room["after"] = 2
    covered = store._snapshots["plans"][1]
    store._snapshots["plans"] = (b"\x01garbage", covered)
    with caplog.at_level(logging.WARNING, logger="crdt_sync.store"):
        loaded = store.load("plans")
    assert loaded.snapshot() == {"after": 2}
    messages = [r.getMessage() for r in caplog.records if r.name == "crdt_sync.store"]
    assert len(messages) == 1
    assert messages[0].startswith("room 'plans': stored update snapshot cannot be applied")
    assert store.quarantined[("plans", "snapshot")][0] == b"\x01garbage"
    # Regression: once the snapshot was dropped, the next load started at sequence 1,
    # found it compacted away and stopped there, losing every later entry.
    assert store.load("plans").snapshot() == {"after": 2}
    room["later"] = 3
    assert store.load("plans").snapshot() == {"after": 2, "later": 3}


def test_regression_load_during_a_compaction_sees_everything() -> None:
    # Bug: a load that read the old snapshot, then found the entries it did not cover
    # deleted by a compaction that finished meanwhile, silently missed them.
    class CompactsDuringLoad(MemoryStore):
        armed = False

        def _entry(self, name: str, writer: str, seq: int) -> bytes | None:
            if self.armed:
                self.armed = False
                self.compact(name)
            return super()._entry(name, writer, seq)

    store = CompactsDuringLoad(compact_every=0)
    room = store.load("plans")
    for i in range(5):
        room[f"k{i}"] = i
    store.armed = True
    assert store.load("plans").snapshot() == {f"k{i}": i for i in range(5)}


def test_a_failed_append_is_logged_and_retried_with_the_next_change(
    caplog: pytest.LogCaptureFixture,
) -> None:
    class Flaky(MemoryStore):
        fail = False

        def _append(self, name: str, writer: str, seq: int, update: bytes) -> None:
            if self.fail:
                raise OSError("disk full")
            super()._append(name, writer, seq, update)

    store = Flaky()
    room = store.load("plans")
    room["a"] = 1
    store.fail = True
    with caplog.at_level(logging.ERROR, logger="crdt_sync.store"):
        room["b"] = 2  # the write itself succeeds
    assert room["b"] == 2
    assert "could not write room 'plans' (disk full)" in caplog.records[0].getMessage()
    store.fail = False
    room["c"] = 3
    assert not store._health.status().queued
    assert store.load("plans").snapshot() == {"a": 1, "b": 2, "c": 3}


def test_coverage_merges_by_maximum() -> None:
    assert Coverage({"a": 3, "b": 1}).merged({"b": 4, "c": 2}) == {"a": 3, "b": 4, "c": 2}
