"""Where a store keeps room history: the `HistoryLog` protocol and its SQLite implementation.

History is kept *beside* a room's update log, never inside its Yjs document. Per room:

- **records**: numbered by one sequence per room (``seq`` 1, 2, ...; across processes), each
  the update bytes of one change (or, after compaction, the difference a whole version
  made), tagged with its version id;
- **versions**: one small JSON row per version (``version``, ``first``/``last`` record,
  ``t0``/``t1`` epoch seconds, ``who``, ``keys``, ``n`` records), so listing history never
  reads an update;
- **bases**: full states, ``seq -> state after every record up to seq``, so rebuilding a
  past state replays from the nearest base instead of from the beginning.

A version's id is the ``seq`` of its first record, as a decimal string: unique per room,
stable (compaction keeps the ids of the versions it keeps) and ordered like the versions
(compare them as numbers). Record bytes are framed with a CRC-32 (`entry_format`) and
compressed when that helps; metadata is JSON; nothing is pickled.

```py
log = SqliteHistoryLog(":memory:")
version = log.append("plans", None, update, {"t0": 1.0, "t1": 1.0, "who": ["ann"],
                                           "keys": ["level"], "n": 1})
log.versions("plans")        # [{"version": "1", "last": 1, "first": 1, ...}]
log.records("plans", 0, 1)   # [(1, "1", update)]
```

`SqliteHistoryLog` serves the memory store (``":memory:"``) and the diskcache store (a
``history.db`` file beside its caches: SQLite, like diskcache, but with the ordered range
reads history needs and diskcache does not offer). The Redis store has its own
(`crdt_sync.net.redis_history`).
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

from .entry_format import CorruptEntry, unwrap_entry, wrap_entry
from .types import RoomName, Update

log = logging.getLogger("crdt_sync.history")

Meta = dict[str, Any]
"""A version's metadata as stored (see the module docstring)."""

Record = tuple[int, str, Update]
"""``(seq, version id, update bytes)``."""

REQUIRED = frozenset({"version", "last", "t1", "who", "keys"})
"""The fields every version row has; ``first``, ``t0`` and ``n`` are left out when they are
what `complete` makes of them (a row costs less: history stays small)."""

BUSY_TIMEOUT = 2.0  # seconds a write waits for another process's; history never waits long


class HistoryLog(Protocol):
    """What a store's history storage offers (every method may raise on I/O errors)."""

    def append(self, name: RoomName, version: str | None, update: Update, meta: Meta) -> str:
        """Store one record of ``version`` (None: it starts a new version, whose id is the
        record's seq) and upsert the version's metadata; returns the version id."""

    def put_base(self, name: RoomName, seq: int, state: Update) -> None:
        """Store the full state after every record up to ``seq``."""

    def last_seq(self, name: RoomName) -> int:
        """The highest record seq handed out for a room (0: none)."""

    def versions(self, name: RoomName, limit: int | None = None) -> list[Meta]:
        """Every version's metadata (only the newest ``limit``), ordered by its last record
        (unreadable rows skipped)."""

    def version(self, name: RoomName, version: str) -> Meta | None:
        """One version's metadata, or None."""

    def version_at(self, name: RoomName, when: float) -> Meta | None:
        """The metadata of the last version made at or before ``when`` (epoch seconds)."""

    def base_before(self, name: RoomName, seq: int) -> tuple[int, Update] | None:
        """The latest base at or before ``seq``, or None."""

    def records(self, name: RoomName, after: int, upto: int) -> list[Record]:
        """The records with ``after < seq <= upto``, in order (damaged ones skipped)."""

    def count(self, name: RoomName, after: int, upto: int) -> int:
        """How many records are stored with ``after < seq <= upto`` (damaged ones too)."""

    def rewrite(
        self,
        name: RoomName,
        after: int,
        upto: int,
        records: Sequence[Record],
        bases: Sequence[tuple[int, Update]],
        metas: Sequence[Meta],
        *,
        expect: int | None = None,
    ) -> bool:
        """Replace, atomically, the records, bases and versions in ``(after, upto]``; the
        seq counter is raised to ``upto`` if it is lower (an imported history).

        With ``expect``, nothing is written (False) unless that many records are still in
        the range: another compaction rewrote it meanwhile, and its result stands.
        """

    def delete(self, name: RoomName) -> None:
        """Remove a room's history."""

    def size(self, name: RoomName) -> int:
        """Bytes of a room's history: its records, bases and version rows."""

    def close(self) -> None:
        """Release files and connections."""


def pack_update(update: Update) -> bytes:
    """An update as history stores it: compressed if that is smaller, then checksummed."""
    packed = zlib.compress(update, 6)
    body = b"Z" + packed if len(packed) + 1 < len(update) else b"U" + update
    return wrap_entry(body)


def unpack_update(blob: bytes) -> Update:
    """The update `pack_update` framed, checked.

    Raises:
        CorruptEntry: If the checksum, the frame or the compression is damaged.
    """
    body = unwrap_entry(bytes(blob))
    tag, rest = body[:1], body[1:]
    if tag == b"U":
        return rest
    if tag == b"Z":
        try:
            return zlib.decompress(rest)
        except zlib.error as exc:
            raise CorruptEntry(f"compressed record is damaged: {exc}") from None
    raise CorruptEntry(f"record starts with unknown tag {tag!r}")


def read_meta(name: RoomName, raw: str) -> Meta | None:
    """A stored version row as a dict, or None (logged) if it is unreadable."""
    try:
        meta = json.loads(raw)
        if not isinstance(meta, dict):
            raise ValueError("not an object")
        for field in sorted(REQUIRED):
            if field not in meta:
                raise ValueError(f"missing {field!r}")
        return complete(meta)
    except (ValueError, TypeError) as exc:
        log.warning("room %r: a history version row is unreadable and skipped: %s", name, exc)
        return None


def complete(meta: Meta) -> Meta:
    """A stored row with the fields `dump_meta` leaves out when they hold their default:
    ``first`` (the version id as a number), ``t0`` (``t1``), ``n`` (1)."""
    meta.setdefault("first", int(meta["version"]))
    meta.setdefault("t0", meta["t1"])
    meta.setdefault("n", 1)
    return meta


def dump_meta(meta: Meta) -> str:
    """A version row as stored: compact JSON, without fields that hold their default."""
    out = dict(meta)
    if "version" in out and out.get("first") == int(out["version"]):
        del out["first"]
    if "t1" in out and out.get("t0") == out["t1"]:
        del out["t0"]
    if out.get("n") == 1:
        del out["n"]
    return json.dumps(out, separators=(",", ":"))


def new_meta(meta: Meta, version: str | None, seq: int) -> Meta:
    """``meta`` with the ids a store fills in when it appends record ``seq``."""
    out = dict(meta)
    out["version"] = version if version is not None else str(seq)
    out["last"] = seq
    return out


_SCHEMA = """
CREATE TABLE IF NOT EXISTS records (room TEXT, seq INTEGER, version TEXT, data BLOB,
                                    PRIMARY KEY (room, seq));
CREATE TABLE IF NOT EXISTS bases (room TEXT, seq INTEGER, data BLOB, PRIMARY KEY (room, seq));
CREATE TABLE IF NOT EXISTS versions (room TEXT, version TEXT, last INTEGER, meta TEXT,
                                     PRIMARY KEY (room, version));
CREATE TABLE IF NOT EXISTS counters (room TEXT PRIMARY KEY, seq INTEGER);
"""

_UPSERT_META = """
INSERT INTO versions (room, version, last, meta) VALUES (?, ?, ?, ?)
ON CONFLICT (room, version) DO UPDATE SET last = excluded.last, meta = excluded.meta
WHERE excluded.last >= versions.last
"""


class SqliteHistoryLog:
    """History in one SQLite database (a file, or ``":memory:"``).

    Several processes may share a file (SQLite serialises their writes; the seq counter is
    bumped in the same transaction as the record is written).

    Args:
        path: The database file, or ``":memory:"``.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(
            self.path, timeout=BUSY_TIMEOUT, check_same_thread=False, isolation_level=None
        )
        if self.path != ":memory:":
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)

    def __repr__(self) -> str:
        return f"SqliteHistoryLog({self.path!r})"

    def append(self, name: RoomName, version: str | None, update: Update, meta: Meta) -> str:
        with self._lock:
            db = self._db
            db.execute("BEGIN IMMEDIATE")
            try:
                row = db.execute("SELECT seq FROM counters WHERE room = ?", (name,)).fetchone()
                seq = (row[0] if row else 0) + 1
                db.execute("INSERT OR REPLACE INTO counters VALUES (?, ?)", (name, seq))
                stored = new_meta(meta, version, seq)
                db.execute(
                    "INSERT OR REPLACE INTO records VALUES (?, ?, ?, ?)",
                    (name, seq, stored["version"], pack_update(update)),
                )
                db.execute(_UPSERT_META, (name, stored["version"], seq, dump_meta(stored)))
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
            return str(stored["version"])

    def put_base(self, name: RoomName, seq: int, state: Update) -> None:
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO bases VALUES (?, ?, ?)", (name, seq, pack_update(state))
            )

    def last_seq(self, name: RoomName) -> int:
        with self._lock:
            row = self._db.execute("SELECT seq FROM counters WHERE room = ?", (name,)).fetchone()
        return int(row[0]) if row else 0

    def versions(self, name: RoomName, limit: int | None = None) -> list[Meta]:
        with self._lock:
            rows = self._db.execute(
                "SELECT meta FROM versions WHERE room = ? ORDER BY last DESC LIMIT ?",
                (name, -1 if limit is None else limit),
            ).fetchall()
        rows.reverse()
        try:  # one parse for all rows: listing a long history costs far less
            metas = json.loads("[" + ",".join(raw for (raw,) in rows) + "]")
            if all(isinstance(m, dict) and m.keys() >= REQUIRED for m in metas):
                return [complete(m) for m in metas]
        except (ValueError, TypeError):
            pass
        return [m for (raw,) in rows if (m := read_meta(name, raw)) is not None]

    def version(self, name: RoomName, version: str) -> Meta | None:
        with self._lock:
            row = self._db.execute(
                "SELECT meta FROM versions WHERE room = ? AND version = ?", (name, version)
            ).fetchone()
        return None if row is None else read_meta(name, row[0])

    def version_at(self, name: RoomName, when: float) -> Meta | None:
        with self._lock:
            rows = self._db.execute(
                "SELECT meta FROM versions WHERE room = ? AND json_extract(meta, '$.t1') <= ?"
                " ORDER BY last DESC",
                (name, when),
            )
            for (raw,) in rows:  # the first readable one
                if (meta := read_meta(name, raw)) is not None:
                    return meta
        return None

    def base_before(self, name: RoomName, seq: int) -> tuple[int, Update] | None:
        with self._lock:
            rows = self._db.execute(
                "SELECT seq, data FROM bases WHERE room = ? AND seq <= ? ORDER BY seq DESC",
                (name, seq),
            ).fetchall()
        for base_seq, data in rows:  # a damaged base: the one before it
            try:
                return int(base_seq), unpack_update(data)
            except CorruptEntry as exc:
                log.warning("room %r: history base %d is damaged, skipped: %s", name, base_seq, exc)
        return None

    def records(self, name: RoomName, after: int, upto: int) -> list[Record]:
        with self._lock:
            rows = self._db.execute(
                "SELECT seq, version, data FROM records WHERE room = ? AND seq > ? AND seq <= ?"
                " ORDER BY seq",
                (name, after, upto),
            ).fetchall()
        found: list[Record] = []
        for seq, version, data in rows:
            try:
                found.append((int(seq), str(version), unpack_update(data)))
            except CorruptEntry as exc:
                log.warning("room %r: history record %d is damaged, skipped: %s", name, seq, exc)
        return found

    def count(self, name: RoomName, after: int, upto: int) -> int:
        with self._lock:
            row = self._db.execute(
                "SELECT COUNT(*) FROM records WHERE room = ? AND seq > ? AND seq <= ?",
                (name, after, upto),
            ).fetchone()
        return int(row[0])

    def rewrite(
        self,
        name: RoomName,
        after: int,
        upto: int,
        records: Sequence[Record],
        bases: Sequence[tuple[int, Update]],
        metas: Sequence[Meta],
        *,
        expect: int | None = None,
    ) -> bool:
        with self._lock:
            db = self._db
            db.execute("BEGIN IMMEDIATE")
            try:
                span = (name, after, upto)
                if expect is not None:
                    found = db.execute(
                        "SELECT COUNT(*) FROM records WHERE room = ? AND seq > ? AND seq <= ?",
                        span,
                    ).fetchone()[0]
                    if found != expect:
                        db.execute("ROLLBACK")
                        return False
                db.execute("DELETE FROM records WHERE room = ? AND seq > ? AND seq <= ?", span)
                db.execute("DELETE FROM bases WHERE room = ? AND seq > ? AND seq <= ?", span)
                db.execute("DELETE FROM versions WHERE room = ? AND last > ? AND last <= ?", span)
                db.executemany(
                    "INSERT OR REPLACE INTO records VALUES (?, ?, ?, ?)",
                    [(name, seq, v, pack_update(u)) for seq, v, u in records],
                )
                db.executemany(
                    "INSERT OR REPLACE INTO bases VALUES (?, ?, ?)",
                    [(name, seq, pack_update(state)) for seq, state in bases],
                )
                db.executemany(
                    _UPSERT_META,
                    [(name, m["version"], m["last"], dump_meta(m)) for m in metas],
                )
                db.execute(
                    "INSERT INTO counters VALUES (?, ?) ON CONFLICT (room) DO UPDATE"
                    " SET seq = MAX(seq, excluded.seq)",
                    (name, upto),
                )
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
            return True

    def delete(self, name: RoomName) -> None:
        with self._lock:
            for table in ("records", "bases", "versions", "counters"):
                self._db.execute(f"DELETE FROM {table} WHERE room = ?", (name,))

    def size(self, name: RoomName) -> int:
        with self._lock:
            total = 0
            # What is stored, as the store's own room_stats counts it (values, not keys).
            for query in (
                "SELECT COALESCE(SUM(LENGTH(data)), 0) FROM records WHERE room = ?",
                "SELECT COALESCE(SUM(LENGTH(data)), 0) FROM bases WHERE room = ?",
                "SELECT COALESCE(SUM(LENGTH(meta)), 0) FROM versions WHERE room = ?",
            ):
                total += int(self._db.execute(query, (name,)).fetchone()[0])
            return total

    def corrupt(self, name: RoomName, seq: int) -> None:
        """Flip a bit of a record (tests of damaged history)."""
        with self._lock:
            row = self._db.execute(
                "SELECT data FROM records WHERE room = ? AND seq = ?", (name, seq)
            ).fetchone()
            data = bytearray(row[0])
            data[-1] ^= 0x01
            self._db.execute(
                "UPDATE records SET data = ? WHERE room = ? AND seq = ?", (bytes(data), name, seq)
            )

    def close(self) -> None:
        with self._lock:
            self._db.close()
