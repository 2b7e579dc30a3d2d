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

`history_sqlite.SqliteHistoryLog` serves the memory store (``":memory:"``) and the
diskcache store (a ``history.db`` file beside its caches: SQLite, like diskcache, but with
the ordered range reads history needs and diskcache does not offer). The Redis store has
its own (`crdt_sync.net.redis_history`).
"""

from __future__ import annotations

import json
import logging
import zlib
from collections.abc import Sequence
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

    def append(
        self,
        name: RoomName,
        version: str | None,
        update: Update,
        meta: Meta | None,
        *,
        closing: Meta | None = None,
    ) -> tuple[str, int]:
        """Store one record of ``version`` (None: it starts a new version, whose id is the
        record's seq), in one atomic step with: ``meta`` as the version's row (None: the
        row is left as it is, the cheap case of a change that continues a version), and
        ``closing`` (a whole row) for the version that ended before it.

        Returns:
            ``(version id, the record's seq)``.
        """

    def put_meta(self, name: RoomName, meta: Meta) -> None:
        """Store a version's whole row (``version`` and ``last`` included), unless the
        stored one covers a later record."""

    def put_base(self, name: RoomName, seq: int, state: Update) -> None:
        """Store the full state after every record up to ``seq``."""

    def last_seq(self, name: RoomName) -> int:
        """The highest record seq of a room (0: none)."""

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
        seqs handed out afterwards are above ``upto`` (an imported history).

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
