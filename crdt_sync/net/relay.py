"""The relay: one thread per process that keeps every open room up to date from Redis.

It runs one blocking ``XREAD`` over the streams of all rooms loaded in the process (plus a
private wake-up stream, so a newly loaded room joins the read at once), and merges every
entry written by someone else into the room with origin ``"redis"``. The Streamlit bridge
observes rooms, so the sessions in the room rerun.

Catching up: a replica's cursor is the last entry it took into account. A room is loaded
together with its cursor in one atomic read (snapshot + stream tail), so there is no gap
between loading and following. After Redis was unreachable, every replica is caught up from
its cursor, and when a compaction trimmed entries past a cursor, the snapshot (which covers
them) is merged first. Every ``check_every`` seconds the snapshots are compared with the
cursors as well. Updates are idempotent and `Room.merge` holds back an update whose
predecessors have not arrived, so reading something twice or out of order is harmless.

Connection state: any failed Redis call marks the link down; writes then queue in memory.
The relay reconnects with backoff, writes the queues (in order), catches every replica up,
and marks the link up again. Listeners hear every change of state.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .replica import Replica
from .status import ConnectionStatus
from .stream_ids import ZERO, StreamId, format_id, parse_id

if TYPE_CHECKING:
    from ..doc import Hub
    from .redis_store import RedisStore

log = logging.getLogger("crdt_sync.redis")

StatusListener = Callable[[ConnectionStatus], None]

BLOCK_SECONDS = 1.0
CHECK_EVERY = 10.0
READ_COUNT = 1000
BACKOFF_MIN, BACKOFF_MAX = 0.05, 1.0


class Relay:
    """Follows the streams of every room loaded by one `RedisStore`.

    Args:
        store: The store whose replicas it serves.
        block: Seconds one ``XREAD`` waits for entries.
        check_every: Seconds between comparisons of snapshots with cursors.
    """

    def __init__(
        self, store: RedisStore, *, block: float = BLOCK_SECONDS, check_every: float = CHECK_EVERY
    ) -> None:
        self.store = store
        self.block = block
        self.check_every = check_every
        self.id = uuid.uuid4().hex[:12]
        self.wake_key = store.keys.wake(self.id)
        self._wake_cursor: StreamId = ZERO
        self._lock = threading.RLock()
        self._replicas: dict[str, list[Replica]] = {}
        self._hub: Hub | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._healthy = True
        self._error: str | None = None
        self._since = time.time()
        self._listeners: list[StatusListener] = []
        self._reconnect = threading.Event()

    # ------------------------------------------------------------------ replicas

    def add(self, replica: Replica) -> None:
        """Follow a replica's stream from its cursor on."""
        with self._lock:
            self._replicas.setdefault(replica.name, []).append(replica)
            if self._thread is None and not self._stop.is_set():
                self._thread = threading.Thread(
                    target=self._run, name=f"crdt_sync-relay-{self.id}", daemon=True
                )
                self._thread.start()
        self.wake()

    def replicas(self, name: str | None = None) -> list[Replica]:
        """The replicas followed (of one room, or all)."""
        with self._lock:
            if name is not None:
                return list(self._replicas.get(name, []))
            return [r for group in self._replicas.values() for r in group]

    def remove(self, replica: Replica) -> None:
        """Stop following a replica."""
        with self._lock:
            group = self._replicas.get(replica.name, [])
            if replica in group:
                group.remove(replica)
            if not group:
                self._replicas.pop(replica.name, None)

    def attach_hub(self, hub: Hub) -> None:
        """Stop following rooms once ``hub`` has closed them."""
        self._hub = hub

    def wake(self) -> None:
        """Make the blocked ``XREAD`` return now (a new room joins the read)."""
        try:
            pipe = self.store.redis.pipeline(transaction=False)
            pipe.xadd(self.wake_key, {b"w": b"1"}, maxlen=8, approximate=False)
            pipe.expire(self.wake_key, 3600)
            pipe.execute()
        except Exception as exc:  # redis errors, OSError: the relay reconnects by itself
            log.debug("relay %s: wake failed: %s", self.id, exc)

    # ------------------------------------------------------------------ status

    @property
    def healthy(self) -> bool:
        """Whether writes should go to Redis now (False: queue them)."""
        return self._healthy

    def status(self, queued: int) -> ConnectionStatus:
        """The link's state, with ``queued`` updates waiting."""
        return ConnectionStatus(
            server=self.store.server,
            connected=self._healthy,
            queued=queued,
            since=self._since,
            error=self._error,
        )

    def add_listener(self, listener: StatusListener) -> Callable[[], None]:
        """Call ``listener(status)`` whenever the link goes down or comes back."""
        with self._lock:
            self._listeners.append(listener)

        def remove() -> None:
            with self._lock:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return remove

    def mark_down(self, exc: BaseException) -> None:
        """Record that a Redis call failed: queue writes until the relay reconnects."""
        error = f"{type(exc).__name__}: {exc}"
        with self._lock:
            was = self._healthy
            self._healthy = False
            self._error = error
            if was:
                self._since = time.time()
        self._reconnect.set()
        if was:
            log.warning(
                "crdt_sync: Redis at %s is unreachable (%s); rooms keep working here and "
                "edits are queued until it is back",
                self.store.server,
                error,
            )
            # Not in this thread: it may hold a room's lock.
            threading.Thread(target=self._notify, name="crdt_sync-status", daemon=True).start()

    def _mark_up(self) -> None:
        with self._lock:
            was = self._healthy
            self._healthy = True
            self._error = None
            if not was:
                self._since = time.time()
        if not was:
            log.warning("crdt_sync: Redis at %s is reachable again", self.store.server)
            self._notify()

    def _notify(self) -> None:
        status = self.store.status()
        with self._lock:
            listeners = list(self._listeners)
        for listener in listeners:
            try:
                listener(status)
            except Exception:
                log.exception("relay: status listener %r failed", listener)

    # ------------------------------------------------------------------ lifecycle

    def stop(self, timeout: float = 5.0) -> None:
        """End the thread (it finishes the read in progress)."""
        self._stop.set()
        self.wake()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    def _run(self) -> None:
        conn: Any = None
        backoff = BACKOFF_MIN
        last_check = time.monotonic()
        connected_before = False
        while not self._stop.is_set():
            try:
                if conn is None or self._reconnect.is_set():
                    if conn is None:
                        conn = self.store.blocking_client(self.block)
                    self._reconnect.clear()
                    conn.ping()
                    self._recover(after_outage=connected_before)
                    connected_before = True
                    self._mark_up()
                    backoff = BACKOFF_MIN
                self._prune()
                self._flush_outboxes()
                if time.monotonic() - last_check >= self.check_every:
                    last_check = time.monotonic()
                    self._check_snapshots()
                streams = self._streams()
                response = conn.xread(streams, count=READ_COUNT, block=int(self.block * 1000))
                self._deliver(response or [])
            except Exception as exc:
                if self._stop.is_set():
                    break
                if _is_connection_error(exc):
                    self.mark_down(exc)
                else:
                    log.exception("relay %s: unexpected error; retrying", self.id)
                    self._reconnect.set()
                if conn is not None:
                    _close_quietly(conn)
                    conn = None
                self._stop.wait(backoff)
                backoff = min(backoff * 2, BACKOFF_MAX)
        if conn is not None:
            _close_quietly(conn)

    # ------------------------------------------------------------------ the loop's steps

    def _streams(self) -> dict[str, str]:
        streams = {self.wake_key: format_id(self._wake_cursor)}
        with self._lock:
            for name, group in self._replicas.items():
                cursors = [r.cursor for r in group if r.loaded]
                if cursors:
                    streams[self.store.keys.stream(name)] = format_id(min(cursors))
        return streams

    def _deliver(self, response: list[Any]) -> None:
        for raw_key, entries in response:
            key = raw_key.decode() if isinstance(raw_key, bytes) else str(raw_key)
            if not entries:
                continue
            if key == self.wake_key:
                self._wake_cursor = parse_id(entries[-1][0])
                continue
            name = self.store.keys.room_of(key)
            group = [r for r in self.replicas(name) if r.loaded]
            for raw_id, fields in entries:
                sid = parse_id(raw_id)
                for replica in group:
                    if sid <= replica.cursor:
                        continue
                    self._take(replica, sid, fields)

    def _take(self, replica: Replica, sid: StreamId, fields: dict[bytes, bytes]) -> None:
        update = fields.get(b"u")
        if update is not None and fields.get(b"w") != replica.writer_bytes:
            replica.apply(bytes(update), format_id(sid))
        replica.cursor = sid

    def _recover(self, *, after_outage: bool) -> None:
        """After (re)connecting: catch every replica up, then write what queued up."""
        for replica in self.replicas():
            self.catch_up(replica, after_outage=after_outage)
            if not replica.drain():
                raise ConnectionError(f"could not write the queued updates of {replica.name!r}")

    def catch_up(self, replica: Replica, *, after_outage: bool = False) -> None:
        """Bring a replica up to the stream's end: the snapshot if it passed the cursor,
        then every entry after the cursor (relay thread). After an outage, a room Redis
        lost meanwhile is written again from this replica."""
        snapshot, entries = self.store.read(replica.name)
        if after_outage and replica.loaded and _lost(replica, snapshot, entries):
            # Redis came back without what this replica read or wrote (restarted without
            # persistence, or the room was deleted): store the whole room again.
            log.warning(
                "room %r: Redis lost entries this server had read or written; writing this "
                "server's copy of the room again",
                replica.name,
            )
            whole = replica.room.export()  # before the outbox lock: lock order is room, outbox
            with replica.lock:
                replica.outbox.appendleft(whole)
        if snapshot is not None and (not replica.loaded or snapshot[1] > replica.cursor):
            replica.apply(snapshot[0], "snapshot")
            replica.cursor = max(replica.cursor, snapshot[1])
        for sid, writer, update in entries:
            if sid > replica.cursor:
                if writer != replica.writer_bytes:
                    replica.apply(update, format_id(sid))
                replica.cursor = sid
        if not replica.loaded:
            log.warning("room %r: stored state loaded now that Redis is reachable", replica.name)
        replica.loaded = True

    def _flush_outboxes(self) -> None:
        for replica in self.replicas():
            if replica.outbox and not replica.drain():
                raise ConnectionError(f"could not write the queued updates of {replica.name!r}")

    def _check_snapshots(self) -> None:
        replicas = [r for r in self.replicas() if r.loaded]
        if not replicas:
            return
        names = sorted({r.name for r in replicas})
        covered = dict(zip(names, self.store.snapshot_ids(names), strict=True))
        for replica in replicas:
            sid = covered.get(replica.name)
            if sid is not None and sid > replica.cursor:
                log.info(
                    "room %r: entries were trimmed past this replica; catching up", replica.name
                )
                self.catch_up(replica)

    def _prune(self) -> None:
        hub = self._hub
        if hub is None:
            return
        for replica in self.replicas():
            if hub.get(replica.name) is replica.room:
                replica.seen_in_hub = True
            elif replica.seen_in_hub and not replica.outbox:
                self.remove(replica)


def _lost(
    replica: Replica,
    snapshot: tuple[bytes, StreamId] | None,
    entries: list[tuple[StreamId, bytes, bytes]],
) -> bool:
    """Whether Redis no longer has what the replica read or wrote.

    An entry leaves a stream only by a trim, and a trim only after a snapshot covers it.
    """
    covered = snapshot[1] if snapshot is not None else ZERO
    if replica.cursor > ZERO:
        return covered < replica.cursor and all(sid != replica.cursor for sid, _, _ in entries)
    if replica.appended:
        return snapshot is None and all(w != replica.writer_bytes for _, w, _ in entries)
    return False


def _is_connection_error(exc: BaseException) -> bool:
    import redis

    return isinstance(exc, redis.ConnectionError | redis.TimeoutError | OSError | ConnectionError)


def _close_quietly(conn: Any) -> None:
    try:
        conn.close()
    except Exception as exc:
        log.debug("relay: closing the connection failed: %s", exc)
