"""Tests of crdt_sync.doc.diskcache_store: binary logs on disk that survive crashes.

Several tests run writers in child processes and ``kill -9`` them: a child prints each
key only after the write call returned, so every printed key must be on disk.
"""

from __future__ import annotations

import json
import logging
import queue
import random
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import diskcache
import pytest

from crdt_sync.doc import DiskCacheStore, UpdateStore
from crdt_sync.doc.diskcache_store import SEP, _pack_snapshot, _unpack_snapshot

CHILD = r"""
import sys
from crdt_sync.doc import DiskCacheStore
path, name, prefix, count, every, compact_each = sys.argv[1:]
store = DiskCacheStore(path, compact_every=int(every))
room = store.load(name)
for i in range(int(count)):
    key = f"{prefix}{i}"
    room[key] = i
    print(key, flush=True)
    if int(compact_each) and i % int(compact_each) == 0:
        store.compact(name)
print("done", flush=True)
"""

BAD_NAMES: list[tuple[Any, str]] = [
    ("", "room name must not be empty"),
    ("x" * 201, "room name is 201 characters long, the limit is 200: " + repr("x" * 40) + "..."),
    ("tab\there", "room name 'tab\\there' contains control character '\\t'"),
    ("nul\x00", "room name 'nul\\x00' contains control character '\\x00'"),
    (7, "room name must be a str, got int: 7"),
    (["a"], "room name must be a str, got list: ['a']"),
]


class Child:
    """A writer process; `printed` holds the keys it reported as written."""

    def __init__(self, tmp_path: Path, *args: object) -> None:
        self.stderr = tmp_path / f"child-{time.monotonic_ns()}.err"
        with self.stderr.open("w") as err:
            self.proc = subprocess.Popen(
                [sys.executable, "-c", CHILD, *map(str, args)],
                stdout=subprocess.PIPE,
                stderr=err,
                text=True,
            )
        self.printed: list[str] = []
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._pump = threading.Thread(target=self._read, daemon=True)
        self._pump.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self._lines.put(line.rstrip("\n"))
        self._lines.put(None)

    def wait_for(self, count: int, timeout: float = 60) -> None:
        """Wait until the child printed `count` lines (fails on a hang or an early exit)."""
        deadline = time.monotonic() + timeout
        while len(self.printed) < count:
            try:
                line = self._lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                self.proc.kill()
                pytest.fail(f"child hung after {len(self.printed)} lines: {self.errors()}")
            if line is None:
                pytest.fail(f"child exited after {len(self.printed)} lines: {self.errors()}")
            self.printed.append(line)

    def finish(self, timeout: float = 120) -> list[str]:
        """Wait for a normal exit; return the written keys."""
        try:
            code = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            pytest.fail(f"child did not finish: {self.errors()}")
        assert code == 0, self.errors()
        return self._drain()

    def kill(self) -> list[str]:
        """kill -9; return every key it printed before dying."""
        self.proc.kill()
        self.proc.wait(timeout=30)
        return self._drain()

    def _drain(self) -> list[str]:
        self._pump.join(timeout=30)
        while (line := self._lines.get(timeout=5)) is not None:
            self.printed.append(line)
        return [key for key in self.printed if key != "done"]

    def errors(self) -> str:
        return self.stderr.read_text()[-3000:]


def fill(path: Path, name: str, count: int) -> None:
    """A room of `count` keys written in one transaction, so compacting it takes a while."""
    store = DiskCacheStore(path)
    room = store.load(name)
    with room.transaction():
        for i in range(count):
            room[f"fill{i}"] = i
    store.close()


def log_keys(path: Path, name: str) -> list[str]:
    with diskcache.Cache(str(path / "log")) as cache:
        return sorted(k for k in cache.iterkeys() if k.startswith(f"{name}{SEP}"))


def test_follows_the_protocol(tmp_path: Path) -> None:
    store = DiskCacheStore(tmp_path / "store")
    assert isinstance(store, UpdateStore)
    assert repr(store) == f"DiskCacheStore({str(tmp_path / 'store')!r})"
    store.close()


def test_write_in_one_process_load_in_another(tmp_path: Path) -> None:
    import datetime as dt

    code = (
        "import sys, datetime as dt\n"
        "from crdt_sync.doc import DiskCacheStore\n"
        "room = DiskCacheStore(sys.argv[1]).load('plans')\n"
        "room['level'] = 3\n"
        "room['big'] = 2**80\n"
        "room['when'] = dt.datetime(2024, 5, 1, 12, tzinfo=dt.timezone.utc)\n"
        "room['pair'] = (1, 'a')\n"
        "room.text('notes').update('héllo 😀')\n"
        "room.counter('clicks').increment(4)\n"
        "room.list('todo').extend(['milk', b'\\x00'])\n"
        "room.set('tags').update(['red', 1])\n"
        "room.table('tasks').add_row({'done': True}, row_id='t1')\n"
    )
    subprocess.run([sys.executable, "-c", code, str(tmp_path)], check=True, timeout=60)
    room = DiskCacheStore(tmp_path).load("plans")
    assert room.snapshot() == {
        "level": 3,
        "big": 2**80,
        "when": dt.datetime(2024, 5, 1, 12, tzinfo=dt.timezone.utc),
        "pair": (1, "a"),
    }
    assert type(room["level"]) is int
    assert str(room.text("notes")) == "héllo 😀"
    assert room.counter("clicks").value == 4
    assert room.list("todo").to_list() == ["milk", b"\x00"]
    assert set(room.set("tags")) == {"red", 1}
    assert room.table("tasks").rows() == {"t1": {"done": True}}


def test_rooms_and_delete(tmp_path: Path) -> None:
    store = DiskCacheStore(tmp_path, compact_every=0)
    assert store.rooms() == []
    store.load("b")["x"] = 1
    store.load("a ☃")["y"] = 2
    assert store.rooms() == ["a ☃", "b"]
    store.compact("b")
    store.load("b")["z"] = 3
    store.delete("b")
    assert store.rooms() == ["a ☃"]
    assert log_keys(tmp_path, "b") == []
    assert DiskCacheStore(tmp_path).load("b").snapshot() == {}
    assert DiskCacheStore(tmp_path).load("a ☃").snapshot() == {"y": 2}


@pytest.mark.parametrize(("name", "message"), BAD_NAMES)
def test_bad_room_names_are_refused(tmp_path: Path, name: Any, message: str) -> None:
    store = DiskCacheStore(tmp_path)
    for call in (store.load, store.compact, store.delete):
        with pytest.raises(ValueError) as info:
            call(name)
        assert str(info.value) == message
    assert list(tmp_path.rglob("*.val")) == []


def test_auto_compaction_after_compact_every_appends(tmp_path: Path) -> None:
    store = DiskCacheStore(tmp_path, compact_every=10)
    room = store.load("plans")
    for i in range(35):
        room[f"k{i}"] = i
    assert len(log_keys(tmp_path, "plans")) == 5
    assert store._snapshot("plans") is not None
    expected = {f"k{i}": i for i in range(35)}
    assert store.load("plans").snapshot() == expected
    assert DiskCacheStore(tmp_path).load("plans").snapshot() == expected


def test_compaction_of_a_large_room_stays_loadable(tmp_path: Path) -> None:
    # Large values go to files in diskcache: the snapshot must still swap atomically.
    store = DiskCacheStore(tmp_path, compact_every=0)
    room = store.load("plans")
    for i in range(200):
        room[f"k{i}"] = "v" * 500
    store.compact("plans")
    room["after"] = 1
    store.compact("plans")
    again = DiskCacheStore(tmp_path).load("plans")
    assert len(again) == 201
    assert log_keys(tmp_path, "plans") == []


def test_a_corrupt_entry_is_quarantined_and_everything_else_loads(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = DiskCacheStore(tmp_path)
    room = store.load("plans")
    for i in range(5):
        room[f"k{i}"] = i
    store.load("other")["fine"] = True
    store.close()
    keys = log_keys(tmp_path, "plans")
    _name, writer, _seq = keys[2].split(SEP)
    with diskcache.Cache(str(tmp_path / "log")) as cache:
        cache.set(keys[2], b"\x07garbage")

    store = DiskCacheStore(tmp_path)
    with caplog.at_level(logging.WARNING, logger="crdt_sync.store"):
        loaded = store.load("plans")
    assert loaded.snapshot() == {"k0": 0, "k1": 1, "k3": 3, "k4": 4}
    (record,) = [r for r in caplog.records if r.name == "crdt_sync.store"]
    assert record.getMessage().startswith(
        f"room 'plans': stored update {writer}:3 cannot be applied and was quarantined: "
    )
    assert list(store.quarantined("plans")) == [f"{writer}:3"]
    assert store.load("other").snapshot() == {"fine": True}
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="crdt_sync.store"):
        assert DiskCacheStore(tmp_path).load("plans").snapshot() == loaded.snapshot()
    assert caplog.records == []  # reported once, not on every load


@pytest.mark.parametrize("damage", ["garbage", "bad update"])
def test_a_corrupt_snapshot_is_quarantined_and_everything_else_loads(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, damage: str
) -> None:
    store = DiskCacheStore(tmp_path, compact_every=0)
    room = store.load("plans")
    room["before"] = 1
    store.compact("plans")
    room["after"] = 2
    store.load("other")["fine"] = True
    store.compact("other")
    store.close()
    with diskcache.Cache(str(tmp_path / "meta")) as meta:
        key = f"snapshot{SEP}plans"
        if damage == "garbage":
            meta.set(key, b"\x00garbage")
        else:  # a readable header over a broken update
            meta.set(key, _pack_snapshot(b"\x01\x02", _unpack_snapshot(meta.get(key))[1]))

    store = DiskCacheStore(tmp_path)
    with caplog.at_level(logging.WARNING, logger="crdt_sync.store"):
        loaded = store.load("plans")
    assert loaded.snapshot() == {"after": 2}
    messages = [r.getMessage() for r in caplog.records if r.name == "crdt_sync.store"]
    assert len(messages) == 1
    assert messages[0].startswith("room 'plans': stored ")
    assert "snapshot" in messages[0] and "quarantined" in messages[0]
    assert list(store.quarantined("plans")) == ["snapshot"]
    # Regression: the next load restarted at sequence 1, found it compacted away, and
    # stopped there: every entry after the snapshot was lost.
    assert DiskCacheStore(tmp_path).load("plans").snapshot() == {"after": 2}
    assert store.load("other").snapshot() == {"fine": True}


def test_no_pickle_anywhere(tmp_path: Path) -> None:
    store = DiskCacheStore(tmp_path, compact_every=3)
    room = store.load("plans")
    for i in range(10):
        room[f"k{i}"] = (i, f"v{i}")
    room.text("notes").update("x" * 40_000)  # a large value
    store.compact("plans")
    room["late"] = 1
    store.load("gone")["x"] = 1
    store.delete("gone")
    store.close()
    with diskcache.Cache(str(tmp_path / "log")) as cache:
        cache.set(log_keys(tmp_path, "plans")[0], b"\x07garbage")
    DiskCacheStore(tmp_path).load("plans")  # quarantines one entry
    # diskcache pickles keys it cannot store raw (raw=0) and values of other types
    # (mode MODE_PICKLE); str and bytes go in as they are (MODE_RAW, or a file).
    not_pickled = {diskcache.core.MODE_RAW, diskcache.core.MODE_BINARY, diskcache.core.MODE_TEXT}
    rows, files = [], 0
    for part in ("log", "meta"):
        with sqlite3.connect(tmp_path / part / "cache.db") as db:
            query = "SELECT key, raw, mode, filename FROM Cache"
            for key, raw, mode, filename in db.execute(query):
                rows.append(key)
                assert raw == 1, f"{part}: key {key!r} was pickled"
                assert mode in not_pickled, f"{part}: value of {key!r} stored with mode {mode}"
                if filename:
                    files += 1
                    assert not (tmp_path / part / filename).read_bytes().startswith(b"\x80")
    assert f"snapshot{SEP}plans" in rows
    assert f"quarantine{SEP}plans{SEP}" in "".join(rows)


def test_every_write_that_returned_survives_kill_9(tmp_path: Path) -> None:
    rng = random.Random(99)
    written: list[str] = []
    for round_ in range(3):
        child = Child(tmp_path, tmp_path, "plans", f"r{round_}-", 100_000, 50, 0)
        child.wait_for(rng.randint(20, 400))
        written += child.kill()
        room = DiskCacheStore(tmp_path).load("plans")
        missing = [key for key in written if key not in room]
        assert missing == [], f"round {round_}: {len(missing)} returned writes lost"
        assert all(room[key] == int(key.split("-")[1]) for key in written)


def test_kill_9_during_compaction_loses_nothing(tmp_path: Path) -> None:
    fill(tmp_path, "plans", 3000)
    rng = random.Random(7)
    written: list[str] = []
    for round_ in range(6):
        # Compacts after every other write and auto-compacts every 5 appends: most of
        # the child's time is spent compacting when it dies.
        child = Child(tmp_path, tmp_path, "plans", f"r{round_}-", 100_000, 5, 2)
        child.wait_for(rng.randint(3, 40), timeout=60)
        time.sleep(rng.uniform(0, 0.03))  # a random moment, not a wait for a condition
        written += child.kill()
        room = DiskCacheStore(tmp_path).load("plans")
        missing = [key for key in written if key not in room]
        assert missing == [], f"round {round_}: {len(missing)} returned writes lost"
        assert len([k for k in room if k.startswith("fill")]) == 3000
        # Regression: a compaction killed while holding its diskcache.Lock left the lock
        # behind (a pickled None), and every later compaction waited 300 s for it.
        compaction = threading.Thread(target=DiskCacheStore(tmp_path).compact, args=("plans",))
        compaction.daemon = True
        compaction.start()
        compaction.join(timeout=30)
        assert not compaction.is_alive(), f"round {round_}: compaction blocked"
    with sqlite3.connect(tmp_path / "meta" / "cache.db") as db:
        modes = {mode for (mode,) in db.execute("SELECT mode FROM Cache")}
    assert diskcache.core.MODE_PICKLE not in modes


def test_two_processes_appending_to_one_directory(tmp_path: Path) -> None:
    # Small compact_every: both also compact the same room while the other appends.
    children = [Child(tmp_path, tmp_path, "plans", f"{p}-", 300, 25, 0) for p in "ab"]
    written = [key for child in children for key in child.finish()]
    assert len(written) == 600
    room = DiskCacheStore(tmp_path).load("plans")
    assert sorted(room) == sorted(written)
    assert json.dumps(room.snapshot(), sort_keys=True) == json.dumps(
        {key: int(key.split("-")[1]) for key in written}, sort_keys=True
    )


def test_snapshot_survives_a_crash_inside_the_snapshot_swap(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Regression: diskcache removes the side file of a value replaced inside a transaction
    before the transaction commits. A large snapshot (> 32 KiB, a side file by default)
    replaced by a compaction that died before its commit was lost, and with it every
    update it covered. Values are now kept inside SQLite, so the rollback restores it."""
    store = DiskCacheStore(tmp_path)
    room = store.load("big")
    with room.transaction():
        for i in range(3000):
            room[f"k{i}"] = "x" * 20
    store.compact("big")  # a snapshot well above 32 KiB
    room["after"] = 1
    real_set = store._meta.set

    def set_then_die(key: str, value: Any, *args: Any, **kwargs: Any) -> bool:
        done = real_set(key, value, *args, **kwargs)
        if key.startswith("snapshot"):
            raise KeyboardInterrupt("killed before the commit")
        return bool(done)

    monkeypatch.setattr(store._meta, "set", set_then_die)
    with pytest.raises(KeyboardInterrupt):
        store.compact("big")
    reloaded = DiskCacheStore(tmp_path).load("big")
    assert len(reloaded) == 3001
    assert reloaded["k2999"] == "x" * 20
