"""`SqliteHistoryLog`: a store's history (`history_log`) in one SQLite database.

Tables ``records``, ``bases`` and ``versions``, each keyed by room; record and base bytes
framed by `history_log.pack_update` (checksummed), version rows as JSON. A record's seq is
one more than the room's highest (compaction always keeps the highest record, so seqs
only grow), taken in the statement or transaction that writes it.

```py
log = SqliteHistoryLog(":memory:")           # the memory store's
log = SqliteHistoryLog(path / "history.db")  # the diskcache store's
```
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path

from .entry_format import CorruptEntry
from .history_log import (
    BUSY_TIMEOUT,
    REQUIRED,
    Meta,
    Record,
    complete,
    dump_meta,
    log,
    new_meta,
    pack_update,
    read_meta,
    unpack_update,
)
from .types import RoomName, Update

_SCHEMA = """
CREATE TABLE IF NOT EXISTS records (room TEXT, seq INTEGER, version TEXT, data BLOB,
                                    PRIMARY KEY (room, seq));
CREATE TABLE IF NOT EXISTS bases (room TEXT, seq INTEGER, data BLOB, PRIMARY KEY (room, seq));
CREATE TABLE IF NOT EXISTS versions (room TEXT, version TEXT, last INTEGER, meta TEXT,
                                     PRIMARY KEY (room, version));
"""

_NEXT_SEQ = "SELECT COALESCE(MAX(seq), 0) + 1 FROM records WHERE room = ?"

_APPEND_RECORD = """
INSERT INTO records (room, seq, version, data)
SELECT ?, COALESCE(MAX(seq), 0) + 1, ?, ? FROM records WHERE room = ?
RETURNING seq
"""

_UPSERT_META = """
INSERT INTO versions (room, version, last, meta) VALUES (?, ?, ?, ?)
ON CONFLICT (room, version) DO UPDATE SET last = excluded.last, meta = excluded.meta
WHERE excluded.last >= versions.last
"""


class SqliteHistoryLog:
    """History in one SQLite database (a file, or ``":memory:"``).

    Several processes may share a file (SQLite serialises their writes; a record's seq is
    taken in the statement or transaction that writes it).

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

    def append(
        self,
        name: RoomName,
        version: str | None,
        update: Update,
        meta: Meta | None,
        *,
        closing: Meta | None = None,
    ) -> tuple[str, int]:
        data = pack_update(update)
        with self._lock:
            db = self._db
            if version is not None and meta is None and closing is None:
                # Most changes continue a version: one statement, one commit.
                row = db.execute(_APPEND_RECORD, (name, version, data, name)).fetchone()
                return version, int(row[0])
            db.execute("BEGIN IMMEDIATE")
            try:
                row = db.execute(_NEXT_SEQ, (name,)).fetchone()
                seq = int(row[0])
                version = version if version is not None else str(seq)
                db.execute("INSERT INTO records VALUES (?, ?, ?, ?)", (name, seq, version, data))
                for row_meta in (closing, None if meta is None else new_meta(meta, version, seq)):
                    if row_meta is not None:
                        db.execute(
                            _UPSERT_META,
                            (name, row_meta["version"], row_meta["last"], dump_meta(row_meta)),
                        )
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
            return version, seq

    def put_meta(self, name: RoomName, meta: Meta) -> None:
        with self._lock:
            self._db.execute(_UPSERT_META, (name, meta["version"], meta["last"], dump_meta(meta)))

    def put_base(self, name: RoomName, seq: int, state: Update) -> None:
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO bases VALUES (?, ?, ?)", (name, seq, pack_update(state))
            )

    def last_seq(self, name: RoomName) -> int:
        with self._lock:
            row = self._db.execute(_NEXT_SEQ, (name,)).fetchone()
        return int(row[0]) - 1

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
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
            return True

    def delete(self, name: RoomName) -> None:
        with self._lock:
            for table in ("records", "bases", "versions"):
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
