"""RedisStore: rooms kept in Redis, shared live by every server process.

The store puts together the pieces of the Redis layer, in y-redis's shape: `RedisApi`
owns every Redis command and key (the layout is in `redis_api`), one `Replica` per loaded
room writes its updates and takes others', one `Relay` per process follows every stream
and owns the link state, and `RedisPresence` shares who is where.

Compaction writes the snapshot first (only if it covers more than the stored one) and
then trims the entries it covers with an exact ``XTRIM MINID``; entries younger than
``min_message_lifetime`` stay, so a process that reads slightly behind never misses one. A
compaction that dies between the two steps leaves entries the snapshot already covers:
loading skips them, the next compaction trims them. Nothing is ever lost.

**Acknowledged** means: the change that made an edit returned while `status` says
``connected``. Every update is appended (``XADD``) inside the room's transaction, before
the change returns, so a ``kill -9`` of the process right after loses none of them. In a
Streamlit app that is every edit whose run finished (the page shows it and no warning).
While Redis is unreachable, edits are queued in memory (``status().queued``) and written
in order when it is back; those are not yet acknowledged. What Redis itself keeps across
its own crash is set by its persistence (use AOF, ``appendfsync always`` to lose nothing).
"""

from __future__ import annotations

import atexit
import concurrent.futures
import itertools
import logging
import threading
import time
import uuid
import weakref
from collections.abc import Callable, Mapping
from typing import Any

from ..doc import Room, StoreError
from ..doc.history import RoomHistory
from ..doc.history import attach as attach_history
from ..doc.retention import DEFAULT_RETENTION, Retention, compact_history
from ..doc.store import DEFAULT_COMPACT_EVERY
from ..doc.types import RoomName, Update, validate_room_name
from .redis_api import DEFAULT_PREFIX, DEFAULT_TIMEOUT, Entry, RedisApi, RedisError, Snapshot
from .redis_history import RedisHistoryLog
from .redis_presence import DEFAULT_PRESENCE_TTL, RedisPresence
from .relay import OpenRooms, Relay, StatusListener
from .replica import RELAY_ORIGIN, Replica
from .status import ConnectionStatus
from .stream_ids import ZERO, StreamId, format_id

log = logging.getLogger("crdt_sync.redis")

DEFAULT_MIN_MESSAGE_LIFETIME = 60.0


class RedisStore:
    """Rooms stored in Redis and followed live: every process sees every other's edits.

    ```py
    store = RedisStore("redis://127.0.0.1:6379/0")
    room = store.load("plans")     # snapshot + stream tail; then followed live
    room["level"] = 3              # in Redis when this line returns
    store.status().connected       # False while Redis is unreachable (edits queue)
    ```

    Args:
        url: ``redis://[:password@]host:port/db`` (also ``rediss://`` and ``unix://``).
        prefix: Prefix of every key this store uses.
        compact_every: A loaded room compacts its stream after appending this many entries.
        min_message_lifetime: Seconds an entry stays in the stream after a snapshot covers it.
        timeout: Seconds before a Redis call counts as failed (then edits queue).
        block: Seconds one blocking read of the relay waits.
        history: What room history keeps (`Retention`, in Redis beside the streams, see
            `redis_history`); None: no history.
    """

    def __init__(
        self,
        url: str,
        *,
        prefix: str = DEFAULT_PREFIX,
        compact_every: int = DEFAULT_COMPACT_EVERY,
        min_message_lifetime: float = DEFAULT_MIN_MESSAGE_LIFETIME,
        timeout: float = DEFAULT_TIMEOUT,
        block: float = 1.0,
        history: Retention | None = DEFAULT_RETENTION,
    ) -> None:
        self.api = RedisApi(url, prefix=prefix, timeout=timeout)
        self.history = history
        self.history_log = RedisHistoryLog(self.api)
        self.url = url
        self.server = self.api.server
        self.keys = self.api.keys
        self.compact_every = compact_every
        self.min_message_lifetime = min_message_lifetime
        self.timeout = timeout
        self.id = uuid.uuid4().hex[:12]
        self.redis: Any = self.api.redis
        self.relay = Relay(self.api, block=block)
        self.presence = RedisPresence(self.api, self.id)
        self._writers = itertools.count(1)
        self._compactor: concurrent.futures.ThreadPoolExecutor | None = None
        self._compacting: set[RoomName] = set()
        self._lock = threading.Lock()
        self._closed = False
        atexit.register(_close_at_exit, weakref.ref(self))

    def __repr__(self) -> str:
        return f"RedisStore({self.server!r})"

    # ------------------------------------------------------------------ the protocol

    def load(self, name: RoomName) -> Room:
        """The room rebuilt from Redis (snapshot + stream tail), then followed live.

        If Redis is unreachable, the room opens with what this process has (nothing) and
        catches up as soon as Redis is back; edits made meanwhile are kept and written.

        Args:
            name: The room's name.

        Returns:
            The room; its own changes are appended to its stream as they happen.
        """
        validate_room_name(name)
        room = Room(name)
        replica = Replica(
            room,
            f"{self.id}/{next(self._writers)}",
            api=self.api,
            relay=self.relay,
            compact_every=self.compact_every,
            compact=self.schedule_compaction,
        )
        try:
            snapshot, entries = self.read(name)
        except RedisError as exc:
            self.relay.mark_down(exc)
            log.warning(
                "room %r opened without its stored state (Redis unreachable); it catches up "
                "when Redis is back",
                name,
            )
        else:
            updates: list[tuple[str, Update]] = []
            if snapshot is not None:
                updates.append(("snapshot", snapshot[0]))
                replica.cursor = snapshot[1]
            for sid, _writer, update in entries:
                updates.append((format_id(sid), update))
                replica.cursor = sid
            by_label = dict(updates)
            for label, reason in room.load_updates(iter(updates)):
                self.quarantine(name, label, by_label[label], reason)
            replica.loaded = True
            if self.compact_every and len(entries) >= self.compact_every:
                self.schedule_compaction(name)
        room.add_update_hook(replica.on_update)
        self.relay.add(replica)
        if self.history is not None:
            # Updates taken from the stream were recorded by the process that made them.
            attach_history(
                room,
                self.history_log,
                self.history,
                skip_origins={RELAY_ORIGIN},
                ready=lambda: self.relay.healthy,
            )
        return room

    def configure_history(self, history: Retention | None) -> None:
        """Change what history keeps (None: off) for rooms loaded from now on."""
        self.history = history

    def compact_history(self, name: RoomName, now: float | None = None) -> tuple[int, int] | None:
        """Apply the retention to a room's history now; returns ``(versions before,
        versions kept)``, or None if history is off.

        Raises:
            StoreError: If Redis is unreachable (nothing is lost).
        """
        validate_room_name(name)
        if self.history is None:
            return None
        for replica in self.relay.replicas(name):  # the rows of its versions in progress
            history = getattr(replica.room, "history", None)
            if isinstance(history, RoomHistory):
                history.recorder.flush()
        try:
            return compact_history(self.history_log, name, self.history, now)
        except RedisError as exc:
            raise StoreError(f"room {name!r}: could not compact its history: {exc}") from exc

    def rooms(self) -> list[RoomName]:
        """Names of the rooms stored in Redis (while it is unreachable: the rooms open here)."""
        try:
            return self.api.room_names()
        except RedisError as exc:
            self.relay.mark_down(exc)
            return sorted({r.name for r in self.relay.replicas()})

    def delete(self, name: RoomName) -> None:
        """Remove a room's stream, snapshot and quarantine for good.

        Meant for rooms no process has open: a process that has it open keeps its copy, and
        writes it again if Redis comes back from an outage without it.

        Raises:
            StoreError: If Redis is unreachable.
        """
        validate_room_name(name)
        try:
            self.api.delete(name)
            self.history_log.delete(name)
        except RedisError as exc:
            raise StoreError(f"room {name!r}: could not delete it in {self.server}: {exc}") from exc

    def compact(self, name: RoomName) -> None:
        """Merge a room's stream into its snapshot, then trim what the snapshot covers.

        Persist first, trim after: a compaction that dies halfway loses nothing.

        Raises:
            StoreError: If Redis is unreachable (nothing is lost).
        """
        validate_room_name(name)
        try:
            self._compact(name)
        except RedisError as exc:
            raise StoreError(
                f"room {name!r}: could not compact it in {self.server}: {exc}"
            ) from exc

    def _compact(self, name: RoomName) -> None:
        snapshot, entries = self.read(name)
        covered = snapshot[1] if snapshot is not None else ZERO
        if entries:
            scratch = Room(name)
            updates: list[tuple[str, Update]] = []
            if snapshot is not None:
                updates.append(("snapshot", snapshot[0]))
            updates += [(format_id(sid), update) for sid, _w, update in entries]
            by_label = dict(updates)
            for label, reason in scratch.load_updates(iter(updates)):
                self.quarantine(name, label, by_label[label], reason)
            covered = entries[-1][0]
            self.write_snapshot(name, scratch.export(), covered)
        if covered > ZERO:
            self.trim(name, covered)

    def close(self) -> None:
        """Stop following rooms, write what is queued (if Redis is up), disconnect."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        self.relay.stop()
        if self.relay.healthy:
            for replica in self.relay.replicas():
                replica.drain()
                history = getattr(replica.room, "history", None)
                if isinstance(history, RoomHistory):  # records that waited for Redis
                    history.recorder.flush()
        queued = self.queued()
        if queued:
            log.error(
                "crdt_sync: closing the Redis store with %d update(s) that Redis never "
                "acknowledged (it was unreachable); they are lost",
                queued,
            )
        if self._compactor is not None:
            self._compactor.shutdown(wait=True)
        self.api.close()

    # ------------------------------------------------------------------ status

    def status(self) -> ConnectionStatus:
        """Whether Redis is reachable, and how many updates wait for it."""
        return self.relay.status()

    def queued(self) -> int:
        """Updates made here that Redis has not acknowledged yet."""
        return self.relay.queued()

    def add_status_listener(self, listener: StatusListener) -> Callable[[], None]:
        """Call ``listener(status)`` from a background thread whenever Redis goes away or
        comes back. Returns a function that removes the listener."""
        return self.relay.add_listener(listener)

    def attach_hub(self, hub: OpenRooms) -> None:
        """Let the relay stop following rooms that ``hub`` closed."""
        self.relay.attach_hub(hub)

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until every queued update is written; False on timeout."""
        deadline = time.monotonic() + timeout
        while self.queued() or not self.relay.healthy:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.01)
        return True

    # ------------------------------------------------------------------ presence

    def share_presence(
        self, name: RoomName, members: Mapping[str, str], *, ttl: float = DEFAULT_PRESENCE_TTL
    ) -> dict[str, str]:
        """Publish who is in room ``name`` in this process; learn who is in it elsewhere.

        See `RedisPresence.share`: the members of a process that stopped (even by
        ``kill -9``) are gone ``ttl`` seconds later.

        Returns:
            The members published by the other processes: ``"<process>:<member id>"`` ->
            label.

        Raises:
            redis.RedisError: Redis is unreachable (nothing is queued: presence is live
                state, published again on the next call).
        """
        return self.presence.share(name, members, ttl=ttl)

    # ------------------------------------------------------------------ Redis steps

    def read(self, name: RoomName) -> tuple[Snapshot | None, list[Entry]]:
        """The snapshot ``(update, id it covers)`` and the entries after it, atomically.

        Returns:
            ``(snapshot or None, [(id, writer, update), ...])``.
        """
        return self.api.read(name)

    def write_snapshot(self, name: RoomName, update: Update, covers: StreamId) -> bool:
        """Store a snapshot covering the stream up to ``covers``, unless the stored one
        covers as much already. Returns whether it was stored."""
        return self.api.write_snapshot(name, update, covers)

    def trim(self, name: RoomName, covered: StreamId) -> None:
        """Delete the entries up to ``covered`` that are older than the minimum lifetime."""
        self.api.trim(name, covered, self.min_message_lifetime)

    def quarantine(self, name: RoomName, label: str, data: Update, reason: str) -> None:
        """Keep an entry that cannot be applied aside (reason + bytes), and say so."""
        self.api.quarantine(name, label, data, reason)

    def quarantined(self, name: RoomName) -> dict[str, str]:
        """Entries of a room that could not be applied: label -> reason."""
        return self.api.quarantined(name)

    def schedule_compaction(self, name: RoomName) -> None:
        """Compact a room in the background (once at a time per room)."""
        with self._lock:
            if self._closed or name in self._compacting:
                return
            self._compacting.add(name)
            if self._compactor is None:
                self._compactor = concurrent.futures.ThreadPoolExecutor(
                    max_workers=1, thread_name_prefix="crdt_sync-compact"
                )
            self._compactor.submit(self._compact_in_background, name)

    def _compact_in_background(self, name: RoomName) -> None:
        try:
            self.compact(name)
            self.compact_history(name)
        except StoreError as exc:
            log.warning("compaction failed (nothing lost): %s", exc)
        except Exception:
            log.exception("room %r: compaction failed (nothing lost)", name)
        finally:
            with self._lock:
                self._compacting.discard(name)


def _close_at_exit(ref: weakref.ref[RedisStore]) -> None:
    store = ref()
    if store is not None:
        try:
            store.close()
        except Exception as exc:  # at exit: say it, never raise
            log.debug("crdt_sync: closing the Redis store at exit failed: %s", exc)
