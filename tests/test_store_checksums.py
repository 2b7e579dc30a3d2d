"""Checksums of the diskcache store's entries (issue 13.5), and what a store remembers of
closed rooms (issue 13.6).

A flipped bit inside a stored update's string used to load silently (``'value-19'`` came
back as ``'walue-19'``); now it is found, reported with the room and sequence number, and
the entry quarantined, while entries written before checksums still load.
"""

from __future__ import annotations

import gc
import logging
from pathlib import Path

import pytest

from crdt_sync.doc import DiskCacheStore, MemoryStore, Room
from crdt_sync.doc.entry_format import (
    ENTRY_MAGIC,
    SNAPSHOT_MAGIC_V1,
    CorruptEntry,
    pack_snapshot,
    unpack_snapshot,
    unwrap_entry,
    wrap_entry,
)

SEP = "\x1f"


def _log_keys(store: DiskCacheStore, room: str) -> list[str]:
    return sorted(k for k in store._log.iterkeys() if k.startswith(f"{room}{SEP}"))


def _flip(blob: bytes, needle: bytes) -> bytes:
    at = blob.index(needle)
    return blob[:at] + bytes([blob[at] ^ 0x01]) + blob[at + 1 :]


def test_a_flipped_bit_in_a_stored_update_is_found_reported_and_quarantined(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = DiskCacheStore(tmp_path / "store", compact_every=0)
    room = store.load("plans")
    for i in range(30):
        room[f"k{i}"] = f"value-{i}"
    keys = _log_keys(store, "plans")
    victim = keys[19]  # the update that wrote "value-19"
    blob = store._log.get(victim)
    assert blob.startswith(ENTRY_MAGIC)
    store._log.set(victim, _flip(blob, b"value-19"))  # 'v' -> 'w'
    store.close()

    reopened = DiskCacheStore(tmp_path / "store")
    with caplog.at_level(logging.WARNING, logger="crdt_sync.store"):
        loaded = reopened.load("plans")
    assert "k19" not in loaded.snapshot()
    assert "walue-19" not in repr(loaded.snapshot())
    assert {k: v for k, v in loaded.snapshot().items() if k != "k19"} == {
        f"k{i}": f"value-{i}" for i in range(30) if i != 19
    }
    writer, seq = victim.split(SEP)[1:]
    label = f"{writer}:{int(seq)}"
    assert f"room 'plans': stored update {label} cannot be applied" in caplog.text
    assert "checksum mismatch" in caplog.text
    assert reopened.quarantined("plans")[label].startswith("checksum mismatch")
    # Quarantined once: the next load is quiet and the same.
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="crdt_sync.store"):
        assert DiskCacheStore(tmp_path / "store").load("plans").snapshot() == loaded.snapshot()
    assert "quarantined" not in caplog.text


def test_a_flipped_bit_in_a_snapshot_is_quarantined_and_later_entries_still_load(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = DiskCacheStore(tmp_path / "store", compact_every=0)
    room = store.load("plans")
    room["old"] = "value-old"
    store.compact("plans")
    room["new"] = "value-new"
    key = f"snapshot{SEP}plans"
    store._meta.set(key, _flip(store._meta.get(key), b"value-old"))
    store.close()
    with caplog.at_level(logging.WARNING, logger="crdt_sync.store"):
        loaded = DiskCacheStore(tmp_path / "store").load("plans")
    assert loaded.snapshot() == {"new": "value-new"}
    assert "checksum mismatch" in caplog.text and "'plans'" in caplog.text
    assert (
        "checksum mismatch" in DiskCacheStore(tmp_path / "store").quarantined("plans")["snapshot"]
    )


def test_entries_and_snapshots_written_before_checksums_still_load(tmp_path: Path) -> None:
    old = Room("scratch")
    old["a"] = "from a snapshot"
    snap_update = old.export()
    newer = Room("scratch2")
    newer["b"] = "from an entry"
    store = DiskCacheStore(tmp_path / "store")
    # What the store wrote before checksums: bare updates and CRDTSNAP1 snapshots.
    import json
    import struct

    header = json.dumps({"w0": 1}).encode()
    store._meta.set(
        f"snapshot{SEP}plans",
        SNAPSHOT_MAGIC_V1 + struct.pack(">I", len(header)) + header + snap_update,
    )
    store._meta.set(f"writers{SEP}plans", json.dumps(["w0"]))
    store._log.set(f"plans{SEP}w0{SEP}{2:012d}", newer.export())
    assert store.load("plans").snapshot() == {"a": "from a snapshot", "b": "from an entry"}


def test_entry_format_round_trips_and_names_the_damage() -> None:
    update = Room("x").export()
    assert unwrap_entry(wrap_entry(update)) == update
    assert unwrap_entry(update) == update  # no magic: an entry from before checksums
    with pytest.raises(CorruptEntry, match="cut short"):
        unwrap_entry(ENTRY_MAGIC + b"\x00")
    with pytest.raises(CorruptEntry, match=r"checksum mismatch \(stored 0x"):
        unwrap_entry(wrap_entry(update)[:-1] + b"\x01")
    blob = pack_snapshot(update, {"w": 3})
    assert unpack_snapshot(blob) == (update, {"w": 3})
    for i in range(len(blob)):  # every single-bit flip is caught
        damaged = blob[:i] + bytes([blob[i] ^ 0x10]) + blob[i + 1 :]
        with pytest.raises(ValueError):
            unpack_snapshot(damaged)


def test_a_store_forgets_rooms_once_they_are_closed(tmp_path: Path) -> None:
    """Issue 13.6: every distinct room name left ~330 bytes behind for good."""
    for store in (MemoryStore(), DiskCacheStore(tmp_path / "store")):
        for i in range(500):
            room = store.load(f"room-{i}")
            room["k"] = i
            del room
        gc.collect()
        assert len(store._writer_rooms) < 5
        # A reopened room appends after what it wrote before (no sequence reused).
        again = store.load("room-7")
        again["k2"] = "later"
        del again
        gc.collect()
        assert store.load("room-7").snapshot() == {"k": 7, "k2": "later"}
