"""The diskcache store on a disk that fills up (issue 13.4).

On a small filesystem that fills, 300 writes all returned and, after kill -9 and freeing
space, 211 were missing: the only trace was a log line. Now a write the disk refuses stays
in memory, ``status()`` (and so `crdt_sync.connection_status()` and every page) says so,
and it is written once there is room again; a store on a full disk still opens for reading.

The filesystem is a 2 MiB tmpfs mounted for the test (root only; skipped elsewhere), with
a ballast file that is deleted to free space.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from crdt_sync.doc import DiskCacheStore
from crdt_sync.doc.status import ConnectionStatus

BALLAST = 512 * 1024


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 2 MiB filesystem holding a 512 KiB ballast file."""
    mount = tmp_path / "disk"
    mount.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        (mount / "ballast").write_bytes(b"\x00" * BALLAST)
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def _fill(store: DiskCacheStore, count: int = 3000, after: int = 100) -> int:
    """Write until the disk refuses, and ``after`` more; returns how many were set."""
    room = store.load("plans")
    failed_at = None
    for i in range(count):
        room[f"k{i}"] = f"value-{i}-" + "x" * 200
        if failed_at is None and not store.status().connected:
            failed_at = i
        if failed_at is not None and i >= failed_at + after:
            return i + 1
    return count


def _wait(condition: object, what: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def test_writes_the_disk_refuses_are_kept_reported_and_written_later(small_disk: Path) -> None:
    store = DiskCacheStore(small_disk / "store", compact_every=0)
    heard: list[ConnectionStatus] = []
    store.add_status_listener(heard.append)
    assert store.status().connected
    written = _fill(store)
    status = store.status()
    assert not status.connected, "the disk never filled"
    assert status.queued > 0
    assert status.local and status.server == f"diskcache:{small_disk / 'store'}"
    assert "full" in (status.error or "")
    assert status.message.startswith(f"Edits cannot be saved to diskcache:{small_disk}")
    assert f"({status.queued} waiting)" in status.message
    _wait(lambda: heard and not heard[-1].connected, "the listener to hear the failure")
    # The room keeps everything meanwhile, and so does a reload in this process.
    room = store.load("plans")
    assert room[f"k{written - 1}"].startswith(f"value-{written - 1}-")

    (small_disk / "ballast").unlink()  # space again: the background retry writes them
    _wait(lambda: store.status().connected, "the kept edits to be written")
    assert store.status().queued == 0
    _wait(lambda: heard[-1].connected, "the listener to hear the recovery")
    store.close()
    # What a process started afterwards (or after kill -9) finds on disk: every write.
    reopened = DiskCacheStore(small_disk / "store").load("plans").snapshot()
    missing = [i for i in range(written) if f"k{i}" not in reopened]
    assert missing == []


def test_a_store_on_a_full_disk_opens_for_reading(small_disk: Path) -> None:
    store = DiskCacheStore(small_disk / "store", compact_every=0)
    written = _fill(store)
    assert not store.status().connected
    store.close()  # what it could not write is lost with the process: it said so
    # Fill the last bytes too: opening a diskcache directory writes its settings.
    try:
        with open(small_disk / "filler", "wb") as filler:
            while True:
                filler.write(b"\x00" * 4096)
                filler.flush()
    except OSError:
        pass

    reader = DiskCacheStore(small_disk / "store")
    assert reader.read_only
    assert reader.rooms() == ["plans"]
    room = reader.load("plans")
    stored = room.snapshot()
    assert 0 < len(stored) <= written
    assert reader.status().connected  # nothing failed yet
    room["after"] = "kept"
    assert not reader.status().connected
    assert reader.status().queued == 1
    assert not reader.flush()

    (small_disk / "ballast").unlink()
    (small_disk / "filler").unlink(missing_ok=True)
    assert reader.flush()
    assert not reader.read_only
    reader.close()
    assert DiskCacheStore(small_disk / "store").load("plans")["after"] == "kept"


def test_connection_status_and_the_page_warning_report_a_full_disk(
    small_disk: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from crdt_sync.bridge import status as bridge_status
    from crdt_sync.doc import Hub

    store = DiskCacheStore(small_disk / "store", compact_every=0)
    monkeypatch.setattr(bridge_status.config, "hub", lambda: Hub(store))
    shown: list[str] = []
    monkeypatch.setattr(bridge_status.st, "warning", lambda text, **_kw: shown.append(text))
    assert bridge_status.connection_status() is not None
    bridge_status.connection_warning()
    assert shown == []
    _fill(store, after=5)
    status = bridge_status.connection_status()
    assert status is not None and not status.connected and status.queued > 0
    bridge_status.connection_warning()
    assert len(shown) == 1 and shown[0].startswith("Edits cannot be saved to diskcache:")
    store.close()


def _fill_up(directory: Path) -> None:
    try:
        with open(directory / "filler", "wb") as filler:
            while True:
                filler.write(b"\x00" * 4096)
                filler.flush()
    except OSError:
        pass


def test_a_damaged_entry_on_a_full_disk_is_skipped_and_quarantined_later(
    small_disk: Path, caplog: pytest.LogCaptureFixture
) -> None:
    import logging

    store = DiskCacheStore(small_disk / "store", compact_every=0)
    room = store.load("plans")
    for i in range(5):
        room[f"k{i}"] = f"value-{i}"
    victim = sorted(k for k in store._log.iterkeys() if str(k).startswith("plans"))[3]
    blob = store._log.get(victim)
    at = blob.index(b"value-3")
    store._log.set(victim, blob[:at] + b"w" + blob[at + 1 :])
    store.close()
    _fill_up(small_disk)
    with caplog.at_level(logging.WARNING, logger="crdt_sync.store"):
        loaded = DiskCacheStore(small_disk / "store").load("plans")
    assert loaded.snapshot() == {f"k{i}": f"value-{i}" for i in (0, 1, 2, 4)}
    assert "checksum mismatch" in caplog.text and "could not quarantine" in caplog.text
    (small_disk / "filler").unlink()
    (small_disk / "ballast").unlink()
    again = DiskCacheStore(small_disk / "store")
    assert again.load("plans").snapshot() == loaded.snapshot()
    assert len(again.quarantined("plans")) == 1
