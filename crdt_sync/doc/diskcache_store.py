"""The embedded default store: rooms as append-only binary logs in a diskcache directory.

Two SQLite-backed diskcache directories under ``path``: ``log/`` holds one entry per update,
keyed ``room, writer, seq``; ``meta/`` holds, per room, the list of writers, the snapshot
(with the sequence numbers it covers) and quarantined entries. Keys and values are ``str``
and ``bytes`` only, which diskcache stores as they are: nothing is pickled. Each append is
one SQLite commit, so an update whose write returned survives ``kill -9``; several
processes may share a directory (SQLite serialises their writes, and every loaded room
writes under its own writer id).
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import struct
from pathlib import Path

import diskcache

from .errors import StoreError
from .inspection import RoomStats
from .store import EMPTY_UPDATE, Coverage, LogStore, SnapshotBuilder
from .types import RoomName, Update, validate_room_name

log = logging.getLogger("crdt_sync.store")

SEP = "\x1f"  # a control character: never part of a valid room name
SNAPSHOT_MAGIC = b"CRDTSNAP1"


def _pack_snapshot(update: Update, covered: Coverage) -> bytes:
    header = json.dumps(dict(covered), sort_keys=True).encode()
    return SNAPSHOT_MAGIC + struct.pack(">I", len(header)) + header + update


def _unpack_snapshot(blob: bytes) -> tuple[Update, Coverage]:
    if not blob.startswith(SNAPSHOT_MAGIC):
        raise ValueError("snapshot does not start with the expected marker")
    offset = len(SNAPSHOT_MAGIC)
    (size,) = struct.unpack(">I", blob[offset : offset + 4])
    header = json.loads(blob[offset + 4 : offset + 4 + size])
    if not isinstance(header, dict) or not all(type(v) is int for v in header.values()):
        raise ValueError("snapshot header is not a map of writer to sequence number")
    return blob[offset + 4 + size :], Coverage({str(k): v for k, v in header.items()})


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
    """

    def __init__(self, path: str | os.PathLike[str], *, compact_every: int = 1000) -> None:
        super().__init__(compact_every=compact_every)
        self.path = Path(path)
        self.path.mkdir(parents=True, exist_ok=True)
        # Every value lives inside SQLite (never in a side file): diskcache deletes the old
        # file of a value replaced inside a transaction before that transaction commits, so
        # a kill -9 at that moment would leave the row pointing at a deleted snapshot.
        settings = {"size_limit": 2**62, "eviction_policy": "none", "disk_min_file_size": 2**30}
        self._log = diskcache.Cache(str(self.path / "log"), **settings)
        self._meta = diskcache.Cache(str(self.path / "meta"), **settings)

    def __repr__(self) -> str:
        return f"DiskCacheStore({str(self.path)!r})"

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

    def close(self) -> None:
        self._log.close()
        self._meta.close()

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
        if not self._log.set(self._key(name, writer, seq), bytes(update)):
            raise StoreError(f"room {name!r}: diskcache refused update {writer}:{seq}")

    def _entry(self, name: RoomName, writer: str, seq: int) -> Update | None:
        data = self._log.get(self._key(name, writer, seq))
        return None if data is None else bytes(data)

    def _snapshot(self, name: RoomName) -> tuple[Update, Coverage] | None:
        blob = self._meta.get(f"snapshot{SEP}{name}")
        if blob is None:
            return None
        try:
            return _unpack_snapshot(bytes(blob))
        except (ValueError, struct.error) as exc:
            reason = f"unreadable snapshot: {exc}"
            log.warning("room %r: stored snapshot was quarantined: %s", name, reason)
            self._quarantine(name, "snapshot", bytes(blob), reason)
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
