"""The embedded default store: rooms as append-only binary logs in a diskcache directory.

Two SQLite-backed diskcache directories under ``path``: ``log/`` holds one entry per update,
keyed ``room, writer, seq``; ``meta/`` holds, per room, the list of writers, the snapshot
(with the sequence numbers it covers) and quarantined entries. Keys and values are ``str``
and ``bytes`` only, which diskcache stores as they are: nothing is pickled. Each append is
one SQLite commit, so an update whose write returned survives ``kill -9``; several
processes may share a directory (SQLite serialises their writes, and every loaded room
writes under its own writer id).

Every entry and snapshot carries a CRC-32 (`entry_format`): a flipped bit is found on
load, reported with the room and sequence number, and the entry quarantined. A write the
disk refuses (full) is kept in memory and retried; ``status()`` reports it as the Redis
store reports an outage. A directory on a full disk still opens, read-only, until it can
be written again.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import struct
from collections.abc import Callable
from pathlib import Path
from typing import Any

import diskcache

from .entry_format import pack_snapshot, unpack_snapshot, unwrap_entry, wrap_entry
from .errors import StoreError
from .history_sqlite import SqliteHistoryLog
from .inspection import RoomStats
from .readonly_cache import ReadOnlyCache
from .retention import DEFAULT_RETENTION, Retention
from .status import ConnectionStatus
from .store import EMPTY_UPDATE, Coverage, LogStore, SnapshotBuilder
from .types import RoomName, Update, validate_room_name
from .write_health import StatusListener, describe

log = logging.getLogger("crdt_sync.store")

SEP = "\x1f"  # a control character: never part of a valid room name
# Every value lives inside SQLite (never in a side file): diskcache deletes the old file of
# a value replaced inside a transaction before that transaction commits, so a kill -9 at
# that moment would leave the row pointing at a deleted snapshot.
_SETTINGS = {"size_limit": 2**62, "eviction_policy": "none", "disk_min_file_size": 2**30}


def _pack_snapshot(update: Update, covered: Coverage) -> bytes:
    return pack_snapshot(update, covered)


def _unpack_snapshot(blob: bytes) -> tuple[Update, Coverage]:
    update, covered = unpack_snapshot(blob)
    return update, Coverage(covered)


def _open_cache(directory: Path) -> Any:
    """A ``diskcache.Cache``; if it cannot be opened for writing (a full disk: diskcache
    writes its settings on open, SQLite its ``-shm`` file), a `ReadOnlyCache` of it."""
    try:
        return diskcache.Cache(str(directory), **_SETTINGS)
    except sqlite3.OperationalError as exc:
        if not (directory / "cache.db").is_file():
            raise
        try:
            cache = ReadOnlyCache(directory, reason=describe(exc))
        except (sqlite3.Error, StoreError):
            raise exc from None
        log.error("%s: opened read-only: %s", directory, exc)
        return cache


class DiskCacheStore(LogStore):
    """Rooms persisted in a local directory (the default store).

    ```py
    store = DiskCacheStore(".crdt_sync")
    room = store.load("plans")
    room["level"] = 3        # on disk when this line returns
    ```

    Args:
        path: The directory (created if missing).
        compact_every: A loaded room compacts itself after this many appended updates.
        history: What history keeps (`Retention`, in ``history.db`` beside the caches);
            None: no history.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        compact_every: int = 1000,
        history: Retention | None = DEFAULT_RETENTION,
    ) -> None:
        super().__init__(compact_every=compact_every, history=history)
        self.path = Path(path)
        self.path.mkdir(parents=True, exist_ok=True)
        self._health.where = f"diskcache:{self.path}"
        self._log = _open_cache(self.path / "log")
        self._meta = _open_cache(self.path / "meta")
        try:
            self._history_log = SqliteHistoryLog(self.path / "history.db")
        except sqlite3.Error as exc:  # a full disk: the rooms still work, without history
            log.error("%s: history cannot be opened, rooms load without it: %s", self.path, exc)

    def __repr__(self) -> str:
        return f"DiskCacheStore({str(self.path)!r})"

    # --- status: writes the disk refused ------------------------------------------
    @property
    def read_only(self) -> bool:
        """True while the directory is open read-only (it was on a full disk)."""
        return isinstance(self._log, ReadOnlyCache) or isinstance(self._meta, ReadOnlyCache)

    def status(self) -> ConnectionStatus:
        """Whether writes reach the disk (``connected``), and how many edits wait.

        ```py
        status = store.status()
        status.connected, status.queued, status.message
        ```
        """
        return self._health.status()

    def add_status_listener(self, listener: StatusListener) -> Callable[[], None]:
        """Call ``listener(status)`` from a background thread whenever writes start or stop
        failing. Returns a function that removes the listener."""
        return self._health.add_listener(listener)

    def flush(self, timeout: float = 5.0) -> bool:
        """Try to write every waiting edit now; True if none waits.

        Args:
            timeout: Unused (writes are local); kept for the stores' common signature.
        """
        self._reopen()
        return self._health.retry_now()

    def _reopen(self) -> None:
        """Open for writing again a directory that was opened read-only (full disk)."""
        for attr, sub in (("_log", "log"), ("_meta", "meta")):
            current = getattr(self, attr)
            if isinstance(current, ReadOnlyCache):
                try:
                    setattr(self, attr, diskcache.Cache(str(self.path / sub), **_SETTINGS))
                except sqlite3.OperationalError:
                    continue
                current.close()

    def rooms(self) -> list[RoomName]:
        prefix = f"writers{SEP}"
        names = {
            key[len(prefix) :]
            for key in self._meta.iterkeys()
            if isinstance(key, str) and key.startswith(prefix)
        }
        return sorted(names)

    def delete(self, name: RoomName) -> None:
        validate_room_name(name)
        # A SQLite transaction, not a diskcache.Lock: a process killed inside it leaves
        # no lock behind (and diskcache pickles a Lock's value).
        with self._meta.transact():
            for writer in self._writers(name):
                seq = 1
                misses = 0
                while misses < 2:  # covered entries may already be gone
                    if self._log.delete(self._key(name, writer, seq)):
                        misses = 0
                    else:
                        misses += 1 if seq > self._covered(name).get(writer, 0) else 0
                    seq += 1
            for kind in ("writers", "snapshot", "deleted"):
                self._meta.delete(f"{kind}{SEP}{name}")
        if self._history_log is not None:
            self._history_log.delete(name)

    def close(self) -> None:
        self._close_history()
        self._health.close()
        self._log.close()
        self._meta.close()
        if self._history_log is not None:
            self._history_log.close()

    def quarantined(self, name: RoomName) -> dict[str, str]:
        """Entries of a room that could not be applied: label -> reason."""
        prefix = f"quarantine{SEP}{name}{SEP}"
        found: dict[str, str] = {}
        for key in self._meta.iterkeys():
            if isinstance(key, str) and key.startswith(prefix):
                record = json.loads(self._meta.get(key))
                found[key[len(prefix) :]] = record["reason"]
        return found

    # --- primitives --------------------------------------------------------------
    @staticmethod
    def _key(name: RoomName, writer: str, seq: int) -> str:
        return f"{name}{SEP}{writer}{SEP}{seq:012d}"

    def _writers(self, name: RoomName) -> list[str]:
        raw = self._meta.get(f"writers{SEP}{name}")
        return list(json.loads(raw)) if raw else []

    def _register_writer(self, name: RoomName, writer: str) -> None:
        key = f"writers{SEP}{name}"
        with self._meta.transact():  # one SQLite transaction: no lost registration
            writers = json.loads(self._meta.get(key) or "[]")
            if writer not in writers:
                writers.append(writer)
                self._meta.set(key, json.dumps(writers))

    def _append(self, name: RoomName, writer: str, seq: int, update: Update) -> None:
        if isinstance(self._log, ReadOnlyCache):
            self._reopen()
        if not self._log.set(self._key(name, writer, seq), wrap_entry(bytes(update))):
            raise StoreError(f"room {name!r}: diskcache refused update {writer}:{seq}")

    def _append_batch(self, name: RoomName, writer: str, seq: int, updates: list[Update]) -> None:
        if len(updates) == 1:
            self._append(name, writer, seq, updates[0])
            return
        if isinstance(self._log, ReadOnlyCache):
            self._reopen()
        with self._log.transact():  # one commit: all of them or none
            for offset, update in enumerate(updates):
                self._append(name, writer, seq + offset, update)

    def _entry(self, name: RoomName, writer: str, seq: int) -> Update | None:
        data = self._log.get(self._key(name, writer, seq))
        return None if data is None else bytes(data)

    def _unwrap(self, stored: Update) -> Update:
        return unwrap_entry(stored)

    def _snapshot(self, name: RoomName) -> tuple[Update, Coverage] | None:
        blob = self._meta.get(f"snapshot{SEP}{name}")
        if blob is None:
            return None
        try:
            return _unpack_snapshot(bytes(blob))
        except (ValueError, struct.error) as exc:
            reason = f"unreadable snapshot: {exc}"
            log.warning("room %r: stored snapshot was quarantined: %s", name, reason)
            try:
                self._quarantine(name, "snapshot", bytes(blob), reason)
            except Exception as failure:  # a full disk: skip it now, quarantine it later
                log.error("room %r: could not quarantine the snapshot: %s", name, failure)
                return EMPTY_UPDATE, self._deleted(name)
            return self._snapshot(name)  # the empty one that replaced it

    def _covered(self, name: RoomName) -> Coverage:
        snapshot = self._snapshot(name)
        return snapshot[1] if snapshot else Coverage()

    def _swap_snapshot(self, name: RoomName, build: SnapshotBuilder) -> tuple[Coverage, Coverage]:
        # One compaction per room at a time, across processes; the swap itself is a single
        # key write, so readers see either the old snapshot or the new one. A SQLite
        # transaction: a process killed inside it holds nothing afterwards.
        with self._meta.transact():
            old = self._snapshot(name)
            update, covered = build(old)
            self._meta.set(f"snapshot{SEP}{name}", _pack_snapshot(update, covered))
            return (old[1] if old else Coverage()), covered

    def _drop_entries(self, name: RoomName, old: Coverage, new: Coverage) -> None:
        deleted_key = f"deleted{SEP}{name}"
        deleted = self._deleted(name)
        for writer, upto in new.items():
            with self._log.transact():  # one commit, not one per entry
                for seq in range(deleted.get(writer, 0) + 1, upto + 1):
                    self._log.delete(self._key(name, writer, seq))
            deleted[writer] = max(deleted.get(writer, 0), upto)
            self._meta.set(deleted_key, json.dumps(dict(deleted)))

    def _quarantine(self, name: RoomName, label: str, data: Update, reason: str) -> None:
        import base64

        record = {"reason": reason, "data": base64.b64encode(data).decode()}
        self._meta.set(f"quarantine{SEP}{name}{SEP}{label}", json.dumps(record))
        writer, _, seq = label.partition(":")
        if seq:
            # Keep the sequence unbroken, so the entries after it still load.
            self._log.set(self._key(name, writer, int(seq)), EMPTY_UPDATE)
            return
        # An empty snapshot covering as much, so the entries after it still load; unless
        # a compaction replaced the bad one meanwhile.
        key = f"snapshot{SEP}{name}"
        with self._meta.transact():
            blob = self._meta.get(key)
            if blob is None:
                return
            try:
                update, covered = _unpack_snapshot(bytes(blob))
            except (ValueError, struct.error):
                update, covered = bytes(blob), self._deleted(name)
            if update == data:
                self._meta.set(key, _pack_snapshot(EMPTY_UPDATE, covered))

    def _deleted(self, name: RoomName) -> Coverage:
        """What compactions deleted from the log: writer -> highest deleted seq."""
        return Coverage(json.loads(self._meta.get(f"deleted{SEP}{name}") or "{}"))

    def room_stats(self, name: RoomName) -> RoomStats:
        """Stored updates, bytes on disk and time of the last write of a room.

        Read from diskcache's SQLite files without locking anyone (a file that cannot be
        read that way: counted from the entries).

        Args:
            name: The room's name.
        """

        def query(directory: str, where: str, args: tuple[str, ...]) -> tuple[int, int, float]:
            db = self.path / directory / "cache.db"
            with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
                row = conn.execute(
                    "SELECT COUNT(*), COALESCE(SUM(size + COALESCE(LENGTH(value), 0)), 0),"
                    f" COALESCE(MAX(store_time), 0) FROM Cache WHERE {where}",
                    args,
                ).fetchone()
            return int(row[0]), int(row[1]), float(row[2])

        try:
            n, size, last = query("log", "key >= ? AND key < ?", (f"{name}{SEP}", f"{name}\x20"))
            sn, ssize, slast = query("meta", "key = ?", (f"snapshot{SEP}{name}",))
        except (sqlite3.Error, OSError):
            return super().room_stats(name)
        return RoomStats(n + sn, size + ssize, max(last, slast) or None)
