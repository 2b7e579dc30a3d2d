"""Room history in the engine: recording, versions, past states, restore, retention.

Time is the recorders' clock (`history_recorder.clock`), set by each test, so grouping
("consecutive changes by one author within a few seconds") is tested without sleeping.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

import pytest
from history_fixtures import (  # noqa: F401 (fixtures: clock, names, store)
    T0,
    Clock,
    clock_fixture,
    edit,
    names_fixture,
    store_fixture,
)
from replicas import wait_for

from crdt_sync.doc import DiskCacheStore, MemoryStore, Room, authors
from crdt_sync.doc.errors import NoHistory, UnknownVersion
from crdt_sync.doc.history import Version
from crdt_sync.doc.history_sqlite import SqliteHistoryLog
from crdt_sync.doc.retention import Retention
from crdt_sync.doc.store import LogStore
from crdt_sync.doc.store_specs import open_store

if TYPE_CHECKING:
    from crdt_sync.net.redis_store import RedisStore


def test_consecutive_changes_by_one_author_are_one_version(
    store: LogStore, clock: Clock, names: None
) -> None:
    room = store.load("plans")
    for level in range(50):  # a dragged slider
        edit(room, "s-ann", level=level)
        clock.tick(0.1)
    clock.tick(1)
    edit(room, "s-bob", title="Q3")
    clock.tick(1)
    edit(room, "s-bob", title="Q4")
    clock.tick(30)  # a pause: a new version even by the same person
    edit(room, "s-bob", title="Q5")
    versions = room.history.versions()
    assert [(v.who, v.keys) for v in versions] == [
        (("Ann",), ("level",)),
        (("Bob",), ("title",)),
        (("Bob",), ("title",)),
    ]
    assert versions[0].time == dt.datetime.fromtimestamp(T0 + 4.9, dt.UTC)
    assert [int(v.version) for v in versions] == sorted(int(v.version) for v in versions)
    assert room.history.versions(limit=2) == versions[1:]
    assert room.history.versions(limit=0) == []
    assert versions[1].to_json() == {
        "version": versions[1].version,
        "time": "2026-05-28T20:26:47.000Z",
        "who": ["Bob"],
        "keys": ["title"],
    }


def test_unnamed_origins_and_the_cli_are_named_by_authors(store: LogStore, clock: Clock) -> None:
    room = store.load("plans")
    edit(room, authors.CLI_AUTHOR, a=1)
    clock.tick(10)
    edit(room, "3f2a9c1e-7b7d-4c1e-9a51-2b8c0d5e6f70", a=2)
    assert [v.who for v in room.history.versions()] == [("crdt-sync",), ("session 3f2a",)]


def test_state_at_a_version_and_at_a_time(store: LogStore, clock: Clock, names: None) -> None:
    room = store.load("plans")
    with room.transaction(origin="s-ann"):
        room["level"] = 1
        room.text("notes").update("first draft")
    clock.tick(60)
    edit(room, "s-bob", level=2)
    with room.transaction(origin="s-bob"):
        room.text("notes").update("second draft")
    first, second = room.history.versions()
    assert room.history.state_at(first.version) == {
        "level": {"kind": "register", "value": 1},
        "notes": {"kind": "text", "value": "first draft"},
    }
    assert room.history.state_at(second.version)["notes"]["value"] == "second draft"
    halfway = dt.datetime.fromtimestamp(T0 + 30, dt.UTC)
    assert room.history.state_at(halfway)["level"]["value"] == 1
    assert room.history.state_at(halfway.isoformat().replace("+00:00", "Z"))["level"]["value"] == 1
    assert room.history.state_at("2020-01-01T00:00:00Z") == {}  # before anything was written
    assert room.history.room_at(first.version)["level"] == 1
    assert room["level"] == 2  # looking changed nothing


def test_an_unknown_version_is_named_in_the_error(store: LogStore, clock: Clock) -> None:
    room = store.load("plans")
    edit(room, "s-ann", level=1)
    with pytest.raises(UnknownVersion, match="room 'plans' has no version '999' in its history"):
        room.history.state_at("999")
    with pytest.raises(UnknownVersion, match="no version 'yesterday'"):
        room.restore("yesterday")
    assert room["level"] == 1


def test_a_bare_room_and_a_store_without_history_have_none() -> None:
    room = Room("loose")
    assert room.history is None
    with pytest.raises(NoHistory, match="room 'loose' has no history"):
        room.restore("1")
    off = MemoryStore(history=None).load("plans")
    off["a"] = 1
    assert off.history is None
    with pytest.raises(NoHistory):
        off.restore("1")


def test_history_outlives_log_compaction_and_reopening(tmp_path: Path, clock: Clock) -> None:
    store = DiskCacheStore(tmp_path, compact_every=5)
    room = store.load("plans")
    for i in range(12):
        edit(room, f"s-{i % 2}", level=i)
        clock.tick(10)
    assert len(room.history.versions()) == 12
    store.close()
    again = DiskCacheStore(tmp_path)
    reopened = again.load("plans")
    versions = reopened.history.versions()
    assert len(versions) == 12
    assert [reopened.history.state_at(v.version)["level"]["value"] for v in versions] == list(
        range(12)
    )
    again.close()


def test_retention_keeps_exact_checkpoints(store: LogStore, clock: Clock, names: None) -> None:
    room = store.load("plans")
    for i in range(3 * 24 * 4):  # every 15 minutes for three days, alternating authors
        with room.transaction(origin="s-ann" if i % 2 else "s-bob"):
            room["level"] = i
            room[f"k{i % 7}"] = i
            room.text("log").update(f"entry {i}")
        clock.tick(15 * 60)
    before = room.history.versions()
    states = {v.version: room.history.state_at(v.version) for v in before}
    now = clock.now
    counts = room.history.compact(Retention(every_for=dt.timedelta(days=1)), now=now)
    after = room.history.versions()
    assert counts == (len(before), len(after))
    # The last day at full detail; the two days before one version per hour.
    day = [v for v in before if now - v.time.timestamp() <= 86400]
    hours = {int(v.time.timestamp() // 3600) for v in before if v not in day}
    assert len(after) == len(day) + len(hours)
    for version in after:
        assert room.history.state_at(version.version) == states[version.version]
    assert set(after[0].who) == {"Ann", "Bob"}  # an hour of both merged into one version
    assert after[-1].who in (("Ann",), ("Bob",))
    assert room.history.compact(Retention(every_for=dt.timedelta(days=1)), now=now) == (
        len(after),
        len(after),
    )


def test_compaction_merges_a_dragged_slider_into_one_small_record(clock: Clock) -> None:
    log = SqliteHistoryLog(":memory:")
    store = MemoryStore()
    store._history_log = log
    room = store.load("plans")
    for level in range(300):
        edit(room, "s-ann", level=level)
        clock.tick(0.01)
    size = log.size("plans")
    assert room.history.compact() == (1, 1)
    assert log.size("plans") < size / 10
    assert room.history.state_at(room.history.versions()[0].version)["level"]["value"] == 299


def test_a_damaged_record_is_skipped_with_a_warning(
    tmp_path: Path, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    store = DiskCacheStore(tmp_path)
    room = store.load("plans")
    edit(room, "s-ann", a=1)
    clock.tick(10)
    edit(room, "s-bob", b=2)
    assert store._history_log is not None
    store._history_log.corrupt("plans", 2)  # type: ignore[attr-defined]
    versions = room.history.versions()
    assert len(versions) == 2  # listing reads metadata only
    with caplog.at_level(logging.WARNING, logger="crdt_sync.history"):
        state = room.history.state_at(versions[1].version)
    assert state == {"a": {"kind": "register", "value": 1}}
    assert "history record 2 is damaged, skipped: checksum mismatch" in caplog.text
    store._history_log._db.execute(  # type: ignore[attr-defined]
        "UPDATE versions SET meta = '{not json' WHERE version = ?", (versions[0].version,)
    )
    with caplog.at_level(logging.WARNING, logger="crdt_sync.history"):
        assert room.history.versions() == versions[1:]
    assert "a history version row is unreadable and skipped" in caplog.text
    store.close()
    assert dict(DiskCacheStore(tmp_path).load("plans")) == {"a": 1, "b": 2}


def test_history_that_cannot_be_written_never_holds_up_the_room(
    store: LogStore, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    room = store.load("plans")
    log = store._history_log
    assert log is not None

    def refuse(*args: object) -> str:
        raise OSError(28, "No space left on device")

    real = log.append
    monkeypatch.setattr(log, "append", refuse)
    edit(room, "s-ann", level=1)  # the write returns, the room has it
    assert room["level"] == 1 and room.history.recorder.waiting == 1
    assert dict(store.load("plans")) == {"level": 1}
    monkeypatch.setattr(log, "append", real)
    clock.tick(10)
    edit(room, "s-bob", level=2)
    assert [v.who for v in room.history.versions()] == [("s-ann",), ("s-bob",)]


def test_merged_updates_recorded_elsewhere_are_not_recorded_again(clock: Clock) -> None:
    store = MemoryStore()
    room = store.load("plans")
    assert store._history_log is not None
    room.history.recorder.skip_origins = frozenset({"redis"})
    edit(room, "s-ann", a=1)
    clock.tick(1)
    other = Room("plans")
    other.merge(room.export())
    other["b"] = 2
    room.merge(other.export(), origin="redis")
    clock.tick(1)
    edit(room, "s-ann", a=3)  # consecutive no more: a version of its own
    assert [v.keys for v in room.history.versions()] == [("a",), ("a",)]


def test_version_is_frozen_and_json_ready() -> None:
    version = Version("12", dt.datetime(2026, 12, 7, 1, 30, tzinfo=dt.UTC), ("Ann",), ("a",))
    assert version.to_json()["time"] == "2026-12-07T01:30:00.000Z"
    with pytest.raises(AttributeError):
        version.version = "13"  # type: ignore[misc]


# ---------------------------------------------------------------------------- Redis


def test_redis_history_is_shared_by_processes_and_survives_a_cold_start(
    stores: Callable[..., RedisStore], clock: Clock, names: None
) -> None:
    first, second = stores(), stores()
    mine, theirs = first.load("plans"), second.load("plans")
    edit(mine, "s-ann", level=1, owner="ann")
    wait_for(lambda: theirs.get("level") == 1, "the other process to get level 1")
    clock.tick(10)
    edit(theirs, "s-bob", level=2)
    wait_for(lambda: mine.get("level") == 2, "the first process to get level 2")
    clock.tick(10)
    versions = mine.history.versions()  # each change recorded once, by its own process
    assert [(v.who, v.keys) for v in versions] == [
        (("Ann",), ("level", "owner")),
        (("Bob",), ("level",)),
    ]
    assert theirs.history.versions() == versions
    assert theirs.history.versions(limit=1) == versions[1:]
    cold = stores().load("plans")
    assert cold.history.versions() == versions
    assert cold.history.state_at(versions[0].version)["level"]["value"] == 1
    assert cold.restore(versions[0].version, origin="s-bob") == ["level"]
    wait_for(lambda: mine.get("level") == 1 and theirs.get("level") == 1, "both to see the restore")
    assert cold.history.versions()[-1].who == ("Bob",)


def test_redis_history_compaction_keeps_exact_checkpoints(
    stores: Callable[..., RedisStore], clock: Clock
) -> None:
    store = stores()
    room = store.load("plans")
    for i in range(80):  # 40 hours: the first 16 are kept hourly
        edit(room, "s-ann" if i % 2 else "s-bob", level=i)
        room.text("t").update(f"text {i}")
        clock.tick(30 * 60)
    before = room.history.versions()
    states = {v.version: room.history.state_at(v.version) for v in before}
    counts = store.compact_history("plans", now=clock.now)
    after = stores().load("plans").history.versions()
    assert counts == (len(before), len(after)) and len(after) < len(before)
    for version in after:
        assert room.history.state_at(version.version) == states[version.version]
    store.delete("plans")
    assert stores().load("plans").history.versions() == []


# ---------------------------------------------------------------------------- settings


def test_history_is_turned_off_by_the_store_spec_or_configure(
    tmp_path: Path, process_config: ModuleType
) -> None:
    assert open_store("memory").load("a").history is not None
    assert open_store("memory?history=off").load("a").history is None
    store = open_store(f"diskcache:{tmp_path}?history=off")
    assert store.load("a").history is None
    assert store.compact_history("a") is None  # type: ignore[attr-defined]
    store.close()
    with pytest.raises(ValueError, match="history must be 'on' or 'off', got 'maybe'"):
        open_store("memory?history=maybe")
    hub = process_config.configure("memory", history=None)
    assert hub.open("plans").history is None
    kept = Retention(every_for=dt.timedelta(hours=1))
    assert open_store("memory", history=kept).load("b").history.retention == kept


def test_a_compaction_overtaken_by_another_writes_nothing(
    clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = MemoryStore()
    room = store.load("plans")
    for level in range(30):
        edit(room, "s-ann", level=level)
        clock.tick(0.1)
    log = store._history_log
    assert log is not None
    before = log.records("plans", 0, 100)
    real = log.count
    # Another compaction rewrote the range between this one's reading and its writing.
    monkeypatch.setattr(log, "count", lambda *args: real(*args) + 1)
    assert room.history.compact() == (1, 1)
    assert log.records("plans", 0, 100) == before  # left as the other one wrote it
    monkeypatch.setattr(log, "count", real)
    room.history.compact()
    assert len(log.records("plans", 0, 100)) == 1


def test_closing_the_store_writes_the_version_in_progress(tmp_path: Path, clock: Clock) -> None:
    store = DiskCacheStore(tmp_path)
    room = store.load("plans")
    edit(room, "s-ann", level=1)  # one version: most of its changes write only a record
    clock.tick(1)
    edit(room, "s-ann", title="Q3")
    store.close()
    again = DiskCacheStore(tmp_path)
    (version,) = again.load("plans").history.versions()  # type: ignore[union-attr]
    assert version.keys == ("level", "title")
    assert version.time == dt.datetime.fromtimestamp(T0 + 1, dt.UTC)
    again.close()


def test_compacting_the_store_takes_in_the_version_in_progress(clock: Clock) -> None:
    store = MemoryStore()
    room = store.load("plans")
    for level in range(50):  # one version, still in progress
        edit(room, "s-ann", level=level)
        clock.tick(0.1)
    assert store.compact_history("plans") == (1, 1)
    assert store._history_log is not None
    assert len(store._history_log.records("plans", 0, 1000)) == 1  # 50 records -> 1
