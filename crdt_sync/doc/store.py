"""Where rooms live between runs: the `UpdateStore` protocol and `MemoryStore`.

A store keeps every room as an append-only log of Yjs updates, each written by one
*writer* (one loaded `Room` instance) with its own sequence numbers, plus at most one
snapshot that records which sequence numbers of which writer it covers. Loading replays the
snapshot and then every entry it does not cover; compaction writes a new snapshot first and
deletes covered entries after, so a crash at any point loses nothing.
"""

from __future__ import annotations

import logging
import threading
import uuid
import weakref
from collections.abc import Callable
from typing import Any, Protocol, TypeAlias, runtime_checkable

from pycrdt import Doc

from .entry_format import CorruptEntry
from .history import attach as attach_history
from .history_log import HistoryLog
from .inspection import RoomStats
from .retention import DEFAULT_RETENTION, Retention
from .room import Room
from .store_history import StoreHistory
from .types import RoomName, Update, validate_room_name
from .write_health import WriteHealth

log = logging.getLogger("crdt_sync.store")

DEFAULT_COMPACT_EVERY = 1000
EMPTY_UPDATE = b"\x00\x00"
BATCH_BYTES = 1024 * 1024  # a backlog is written in commits of at most this many bytes

Snapshot: TypeAlias = "tuple[Update, Coverage]"
SnapshotBuilder: TypeAlias = "Callable[[Snapshot | None], Snapshot]"


@runtime_checkable
class UpdateStore(Protocol):
    """What every store offers."""

    def load(self, name: RoomName) -> Room:
        """A room rebuilt from what is stored; it persists its own later changes."""

    def rooms(self) -> list[RoomName]:
        """Names of the rooms that have stored data."""

    def delete(self, name: RoomName) -> None:
        """Remove a room's data for good."""

    def compact(self, name: RoomName) -> None:
        """Replace a room's log by one snapshot (atomically: a crash loses nothing)."""

    def close(self) -> None:
        """Release files and connections."""


class Coverage(dict[str, int]):
    """writer id -> highest sequence number a snapshot includes."""

    def merged(self, other: dict[str, int]) -> Coverage:
        out = Coverage(self)
        for writer, seq in other.items():
            out[writer] = max(out.get(writer, 0), seq)
        return out


class LogStore(StoreHistory):
    """The log-and-snapshot logic shared by stores; subclasses provide the primitives.

    Writes that fail (a full disk) are kept in memory and retried (see `WriteHealth`);
    ``_health`` tells how that stands.

    History (`history`) is kept beside the log, in the `HistoryLog` a subclass gives
    ``_history_log``, with its own retention: compacting the log never touches it.

    Args:
        compact_every: A loaded room compacts itself after this many appended updates.
        history: What history keeps (`Retention`); None: no history.
    """

    def __init__(
        self,
        *,
        compact_every: int = DEFAULT_COMPACT_EVERY,
        history: Retention | None = DEFAULT_RETENTION,
    ) -> None:
        self.compact_every = compact_every
        self.history = history
        self._history_log: HistoryLog | None = None  # subclasses open it
        self._history_threads: dict[RoomName, threading.Thread] = {}  # compacting
        self._history_auto: dict[RoomName, float] = {}  # room -> last automatic compaction
        self._history_lock = threading.Lock()
        # One writer id per store (process) and room, reused when a room is reopened, so
        # the list of writers a load walks grows with processes, not with reopenings.
        self._writer = uuid.uuid4().hex[:16]
        self._writer_lock = threading.RLock()  # a room collected inside it calls forget
        # Only rooms alive in this process: a closed room's entry goes with it.
        self._writer_rooms: dict[RoomName, weakref.ref[Room]] = {}
        self._health = WriteHealth(type(self).__name__)  # subclasses say where

    def _claim_writer(self, name: RoomName, room: Room) -> str:
        """The writer id a newly loaded room appends with (claimed before its log is read,
        so the read sees every entry an earlier instance wrote under the shared id)."""
        with self._writer_lock:
            current = self._writer_rooms.get(name)
            if current is None or current() is None:

                def forget(ref: weakref.ref[Room], name: RoomName = name) -> None:
                    with self._writer_lock:
                        if self._writer_rooms.get(name) is ref:
                            del self._writer_rooms[name]

                self._writer_rooms[name] = weakref.ref(room, forget)
                return self._writer
        # Another live instance of this room appends with the shared id: use a fresh one.
        return uuid.uuid4().hex[:16]

    # --- primitives --------------------------------------------------------------
    def _writers(self, name: RoomName) -> list[str]:
        raise NotImplementedError

    def _register_writer(self, name: RoomName, writer: str) -> None:
        raise NotImplementedError

    def _append(self, name: RoomName, writer: str, seq: int, update: Update) -> None:
        raise NotImplementedError

    def _append_batch(self, name: RoomName, writer: str, seq: int, updates: list[Update]) -> None:
        """Append ``updates`` as ``seq``, ``seq + 1``...: all of them, or (on error) none."""
        for offset, update in enumerate(updates):
            self._append(name, writer, seq + offset, update)

    def _entry(self, name: RoomName, writer: str, seq: int) -> Update | None:
        raise NotImplementedError

    def _snapshot(self, name: RoomName) -> tuple[Update, Coverage] | None:
        raise NotImplementedError

    def _swap_snapshot(self, name: RoomName, build: SnapshotBuilder) -> tuple[Coverage, Coverage]:
        """Replace the snapshot atomically under a lock; returns (old, new) coverage."""
        raise NotImplementedError

    def _drop_entries(self, name: RoomName, old: Coverage, new: Coverage) -> None:
        raise NotImplementedError

    def _quarantine(self, name: RoomName, label: str, data: Update, reason: str) -> None:
        raise NotImplementedError

    def _unwrap(self, stored: Update) -> Update:
        """The update a stored entry holds; raises `CorruptEntry` if it is damaged."""
        return stored

    # --- shared logic ------------------------------------------------------------
    def _read(self, name: RoomName) -> tuple[list[tuple[str, Update]], Coverage]:
        """Every stored update of a room in replay order, and what was read per writer."""
        while True:
            entries: list[tuple[str, Update]] = []
            snapshot = self._snapshot(name)
            covered = Coverage()
            if snapshot is not None:
                entries.append(("snapshot", snapshot[0]))
                covered = Coverage(snapshot[1])
            read = Coverage(covered)
            for writer in self._writers(name):
                seq = covered.get(writer, 0) + 1
                while (data := self._entry(name, writer, seq)) is not None:
                    entries.append((f"{writer}:{seq}", data))
                    read[writer] = seq
                    seq += 1
            # A compaction that swapped the snapshot meanwhile may have deleted entries
            # this read expected to find after the old one: read again.
            again = self._snapshot(name)
            if (again[1] if again else None) == (snapshot[1] if snapshot else None):
                return entries, read

    def load(self, name: RoomName) -> Room:
        """A room rebuilt from what is stored; it persists its own later changes.

        A stored entry that is damaged (its checksum) or cannot be applied is quarantined
        and reported in the log with the room, its sequence number and the reason;
        everything else still loads. Updates still waiting to be written (a full disk) are
        included.

        Args:
            name: The room's name.

        Returns:
            The room.
        """
        validate_room_name(name)
        room = Room(name)
        writer = self._claim_writer(name, room)
        read = self._replay(name, room)
        room.load_updates(iter([("memory", u) for u in self._health.waiting(name)]))
        _Persister(self, room, read, writer, read.get(writer, 0))
        if self.history is not None and self._history_log is not None:
            attach_history(room, self._history_log, self.history)
        return room

    def compact(self, name: RoomName) -> None:
        """Replace room ``name``'s stored log by one snapshot (its history is left alone)."""
        validate_room_name(name)
        scratch = Room(name)
        read = self._replay(name, scratch)
        self._compact_from(name, scratch.export(), read)

    def _replay(self, name: RoomName, room: Room) -> Coverage:
        """Load what is stored into ``room``, quarantining the entries that fail; returns what
        was read per writer."""
        stored, read = self._read(name)
        entries: list[tuple[str, Update]] = []
        failures: list[tuple[str, str]] = []
        for label, blob in stored:
            try:
                entries.append((label, self._unwrap(blob)))
            except CorruptEntry as exc:
                failures.append((label, exc.reason))
        failures += room.load_updates(iter(entries))
        by_label = dict(stored)
        for label, reason in failures:
            log.warning(
                "room %r: stored update %s cannot be applied and was quarantined: %s",
                name,
                label,
                reason,
            )
            try:
                self._quarantine(name, label, by_label[label], reason)
            except Exception as exc:  # a full disk: the room still loads without it
                log.error("room %r: could not quarantine update %s: %s", name, label, exc)
        return read

    def _compact_from(
        self, name: RoomName, state: Update, covers: Coverage, *, contains: Coverage | None = None
    ) -> Coverage | None:
        """Store ``state`` as the snapshot covering ``covers``.

        ``contains`` is the coverage of a snapshot whose content ``state`` is known to
        include (one that was exactly its room's state): if the stored snapshot is still
        that one, it is replaced without merging it in again.

        Returns:
            The new snapshot's coverage if its content is exactly ``state``; None if it
            also holds what another compaction had put in it.
        """
        merged = False

        def build(old: tuple[Update, Coverage] | None) -> tuple[Update, Coverage]:
            nonlocal merged
            if old is None:
                return state, covers
            if contains is not None and old[1] == contains:
                return state, old[1].merged(covers)
            # Whatever another compaction put in the snapshot stays in it.
            merged = True
            doc: Doc[Any] = Doc()
            doc.apply_update(old[0])
            doc.apply_update(state)
            return doc.get_update(), old[1].merged(covers)

        old, new = self._swap_snapshot(name, build)
        self._drop_entries(name, old, new)
        return None if merged else new

    def close(self) -> None:
        """Write what history holds in memory (nothing else to release by default)."""
        self._close_history()

    def room_stats(self, name: RoomName) -> RoomStats:
        """Stored updates of a room and their bytes (when it last changed is not known).

        Args:
            name: The room's name.
        """
        entries, _read = self._read(name)
        return RoomStats(len(entries), sum(len(e) for _label, e in entries), None)


class _Persister:
    """Appends a room's updates to its store, and compacts now and then.

    An update that cannot be written (a full disk) stays in ``backlog``, in order, and the
    store's `WriteHealth` retries it; nothing after it is written before it.
    """

    def __init__(self, store: LogStore, room: Room, read: Coverage, writer: str, seq: int) -> None:
        self.store, self.room, self.read = store, room, read
        self.writer, self.seq = writer, seq
        self.since_compaction = 0
        self.snapshot: Coverage | None = None  # of a stored snapshot that is our state
        self.backlog: list[Update] = []
        self.registered = False
        self.lock = threading.Lock()
        room.add_update_hook(self)

    @property
    def room_name(self) -> RoomName:
        return self.room.name

    def waiting(self) -> list[Update]:
        return list(self.backlog)

    def __call__(self, update: Update, _origin: object) -> None:
        with self.lock:
            self.backlog.append(update)
            self._write(compact=True)  # the earlier ones first, if any wait

    def retry(self) -> bool:
        # Without the room's lock (a background thread): no compaction, which needs it.
        with self.lock:
            return self._write(compact=False)

    def _write(self, *, compact: bool) -> bool:
        try:
            if not self.registered:
                self.store._register_writer(self.room.name, self.writer)
                self.registered = True
            while self.backlog:
                batch = _batch(self.backlog)
                self.store._append_batch(self.room.name, self.writer, self.seq + 1, batch)
                self.seq += len(batch)
                del self.backlog[: len(batch)]
                self.since_compaction += len(batch)
        except Exception as exc:
            # Kept in memory, reported in the store's status, retried in the background.
            self.store._health.failed(self, exc)
            return False
        self.store._health.recovered(self)
        due = self.store.compact_every and self.since_compaction >= self.store.compact_every
        if compact and due:
            self.since_compaction = 0
            try:
                covers = Coverage(self.read)
                covers[self.writer] = self.seq
                self.snapshot = self.store._compact_from(
                    self.room.name, self.room.export(), covers, contains=self.snapshot
                )
            except Exception:
                log.exception("room %r: compaction failed (nothing lost)", self.room.name)
            self.store._compact_history_soon(self.room.name)
        return True


def _batch(backlog: list[Update]) -> list[Update]:
    """The first updates of a backlog written in one go: one commit instead of many (a
    disk with little room left takes far more that way), at most `BATCH_BYTES`."""
    size = 0
    for count, update in enumerate(backlog):
        size += len(update)
        if size > BATCH_BYTES and count:
            return backlog[:count]
    return list(backlog)
