"""Replica: one room loaded in this process, tied to its Redis stream.

A replica writes the room's own updates to the stream (in order, through an outbox that
holds them while Redis is unreachable) and takes other writers' entries from the stream
into the room (the relay hands them over). What it takes is merged with origin
``RELAY_ORIGIN``, which the room keeps even for an update it held back, so the replica's
update hook knows not to write it back.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable

from ..doc import InvalidUpdate, Room
from ..doc.types import Origin, RoomName, Update
from .redis_api import Entry, RedisApi, RedisError, Snapshot
from .relay import Relay
from .stream_ids import ZERO, StreamId, format_id

log = logging.getLogger("crdt_sync.redis")

RELAY_ORIGIN = "redis"
"""Origin of the transactions that apply other processes' updates to a room."""

DRAIN_BATCH = 500


class Replica:
    """One loaded room and its place in the room's stream.

    ```py
    replica = Replica(room, "ab12/1", api=api, relay=relay)
    room.add_update_hook(replica.on_update)   # its own updates go to the stream
    relay.add(replica)                        # others' entries come from it
    ```

    Args:
        room: The room.
        writer: This replica's writer id (stored with every entry it appends).
        api: The Redis commands.
        relay: The relay that follows it (and knows whether Redis is reachable).
        compact_every: Ask for a compaction after appending this many entries (0: never).
        compact: Asks for a compaction of a room (in the background).
    """

    def __init__(
        self,
        room: Room,
        writer: str,
        *,
        api: RedisApi,
        relay: Relay,
        compact_every: int = 0,
        compact: Callable[[RoomName], None] | None = None,
    ) -> None:
        self.room = room
        self.name = room.name
        self.writer = writer
        self.writer_bytes = writer.encode()
        self.api = api
        self.relay = relay
        self.compact_every = compact_every
        self._compact = compact
        self.cursor: StreamId = ZERO  # last stream entry taken into account (relay thread)
        self.loaded = False  # the stored state is in the room
        self.seen_in_hub = False
        self.resync_wanted = False  # the room dropped held-back updates
        self.outbox: deque[Update] = deque()
        self.appended = 0  # entries this replica wrote, in total
        self.since_compaction = 0
        self.registered = False
        self.lock = threading.Lock()  # outbox and writes
        room.add_resync_hook(self._want_resync)

    def __repr__(self) -> str:
        return f"<Replica {self.name!r} writer={self.writer} cursor={self.cursor}>"

    # ------------------------------------------------------------------ writing

    def on_update(self, update: Update, origin: Origin | None) -> None:
        """The room's update hook: queue the update and write it now if Redis is up.

        Runs inside the room's lock, so when a change returns it is in Redis (or queued,
        if Redis is unreachable: then `RedisStore.status` says so). Updates taken from the
        stream are not written back.
        """
        if origin == RELAY_ORIGIN:
            return
        with self.lock:
            self.outbox.append(update)
            if self.relay.healthy:
                self.drain_locked()

    def queued(self) -> int:
        """Updates waiting to be written."""
        return len(self.outbox)

    def drain(self) -> bool:
        """Write every queued update; False if Redis refused (they stay queued)."""
        with self.lock:
            return self.drain_locked()

    def drain_locked(self) -> bool:
        """`drain` for a caller that holds ``self.lock``."""
        while self.outbox:
            batch = list(self.outbox)[:DRAIN_BATCH]
            try:
                self.api.append(self.name, self.writer_bytes, batch, register=not self.registered)
            except RedisError as exc:
                self.relay.mark_down(exc)
                return False
            self.registered = True
            for _ in batch:
                self.outbox.popleft()
            self.appended += len(batch)
            self.since_compaction += len(batch)
            if self.compact_every and self.since_compaction >= self.compact_every:
                self.since_compaction = 0
                if self._compact is not None:
                    self._compact(self.name)
        return True

    # ------------------------------------------------------------------ reading

    def apply(self, update: Update, label: str) -> None:
        """Merge an update read from the stream (relay thread), never writing it back."""
        try:
            self.room.merge(update, origin=RELAY_ORIGIN)
        except InvalidUpdate as exc:
            self.api.quarantine(self.name, label, update, exc.reason)

    def take(self, sid: StreamId, fields: dict[bytes, bytes]) -> None:
        """Take one entry the relay read live (its id is past the cursor)."""
        update = fields.get(b"u")
        if update is not None and fields.get(b"w") != self.writer_bytes:
            self.apply(bytes(update), format_id(sid))
        self.cursor = sid

    def catch_up(
        self,
        snapshot: Snapshot | None,
        entries: list[Entry],
        *,
        after_outage: bool = False,
        full: bool = False,
    ) -> None:
        """Bring the room up to the stream's end from a fresh read (relay thread).

        The snapshot if it passed the cursor, then every entry after the cursor; with
        ``full``, the snapshot and every entry whatever the cursor (after the room dropped
        held-back updates). After an outage, a room Redis lost meanwhile is written again
        from this replica.

        Args:
            snapshot: The stored snapshot, or None.
            entries: The entries after it.
            after_outage: Redis was unreachable before this read.
            full: Take everything, not only what is past the cursor.
        """
        if after_outage and self.loaded and self._lost(snapshot, entries):
            # Redis came back without what this replica read or wrote (restarted without
            # persistence, or the room was deleted): store the whole room again.
            log.warning(
                "room %r: Redis lost entries this server had read or written; writing this "
                "server's copy of the room again",
                self.name,
            )
            whole = self.room.export()  # before the outbox lock: lock order is room, outbox
            with self.lock:
                self.outbox.appendleft(whole)
        self.resync_wanted = False
        if snapshot is not None and (full or not self.loaded or snapshot[1] > self.cursor):
            self.apply(snapshot[0], "snapshot")
            self.cursor = max(self.cursor, snapshot[1])
        for sid, writer, update in entries:
            if full or sid > self.cursor:
                if writer != self.writer_bytes:
                    self.apply(update, format_id(sid))
                self.cursor = max(self.cursor, sid)
        if not self.loaded:
            log.warning("room %r: stored state loaded now that Redis is reachable", self.name)
        self.loaded = True

    def _lost(self, snapshot: Snapshot | None, entries: list[Entry]) -> bool:
        """Whether Redis no longer has what this replica read or wrote.

        An entry leaves a stream only by a trim, and a trim only after a snapshot covers it.
        """
        covered = snapshot[1] if snapshot is not None else ZERO
        if self.cursor > ZERO:
            return covered < self.cursor and all(sid != self.cursor for sid, _, _ in entries)
        if self.appended:
            return snapshot is None and all(w != self.writer_bytes for _, w, _ in entries)
        return False

    def _want_resync(self, _room: str) -> None:
        self.resync_wanted = True
