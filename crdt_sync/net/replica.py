"""Replica: one room loaded in this process, tied to its Redis stream.

A replica writes the room's own updates to the stream (in order, through an outbox that
holds them while Redis is unreachable) and takes other writers' entries from the stream
into the room (the relay hands them over). Entries it takes are not written back: the
room's update hook recognises their bytes.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict, deque
from typing import TYPE_CHECKING

from ..doc import InvalidUpdate, Room
from ..doc.types import Origin, Update
from .stream_ids import ZERO, StreamId

if TYPE_CHECKING:
    from .redis_store import RedisStore

log = logging.getLogger("crdt_sync.redis")

RELAY_ORIGIN = "redis"
"""Origin of the transactions that apply other processes' updates to a room."""

MAX_REMEMBERED = 10_000
DRAIN_BATCH = 500


class Replica:
    """One loaded room and its place in the room's stream.

    Args:
        store: The store that loaded it.
        room: The room.
        writer: This replica's writer id (stored with every entry it appends).
    """

    def __init__(self, store: RedisStore, room: Room, writer: str) -> None:
        self.store = store
        self.room = room
        self.name = room.name
        self.writer = writer
        self.writer_bytes = writer.encode()
        self.cursor: StreamId = ZERO  # last stream entry taken into account (relay thread)
        self.loaded = False  # the stored state is in the room
        self.seen_in_hub = False
        self.outbox: deque[Update] = deque()
        self.appended = 0  # entries this replica wrote, in total
        self.since_compaction = 0
        self.registered = False
        self.lock = threading.Lock()  # outbox and writes
        self._relayed: OrderedDict[Update, int] = OrderedDict()
        self._relayed_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"<Replica {self.name!r} writer={self.writer} cursor={self.cursor}>"

    # ------------------------------------------------------------------ writing

    def on_update(self, update: Update, _origin: Origin | None) -> None:
        """The room's update hook: queue the update and write it now if Redis is up.

        Runs inside the room's lock, so when a change returns it is in Redis (or queued,
        if Redis is unreachable: then `RedisStore.status` says so).
        """
        if self._take_relayed(update):
            return
        with self.lock:
            self.outbox.append(update)
            if self.store.relay.healthy:
                self.drain_locked()

    def drain(self) -> bool:
        """Write every queued update; False if Redis refused (they stay queued)."""
        with self.lock:
            return self.drain_locked()

    def drain_locked(self) -> bool:
        """`drain` for a caller that holds ``self.lock``."""
        while self.outbox:
            batch = list(self.outbox)[:DRAIN_BATCH]
            if not self.store.append(self, batch):
                return False
            for _ in batch:
                self.outbox.popleft()
            self.appended += len(batch)
            self.since_compaction += len(batch)
            if self.store.compact_every and self.since_compaction >= self.store.compact_every:
                self.since_compaction = 0
                self.store.schedule_compaction(self.name)
        return True

    # ------------------------------------------------------------------ reading

    def apply(self, update: Update, label: str) -> None:
        """Merge an update read from the stream (relay thread), never writing it back."""
        self._remember(update)
        try:
            applied = self.room.merge(update, origin=RELAY_ORIGIN)
        except InvalidUpdate as exc:
            self._take_relayed(update)
            self.store.quarantine(self.name, label, update, exc.reason)
            return
        if applied:
            # Applied: the hook took it, or it changed nothing, or pycrdt re-encoded it
            # (then it was written again, which is harmless: updates are idempotent).
            self._take_relayed(update)
        # Held back (a predecessor is missing): the hook takes it when it is released.

    def _remember(self, update: Update) -> None:
        with self._relayed_lock:
            self._relayed[update] = self._relayed.get(update, 0) + 1
            while len(self._relayed) > MAX_REMEMBERED:
                self._relayed.popitem(last=False)

    def _take_relayed(self, update: Update) -> bool:
        with self._relayed_lock:
            count = self._relayed.get(update)
            if count is None:
                return False
            if count > 1:
                self._relayed[update] = count - 1
            else:
                del self._relayed[update]
            return True
