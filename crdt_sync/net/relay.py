"""The relay: one thread per process that keeps every open room up to date from Redis.

It runs one blocking ``XREAD`` over the streams of all rooms loaded in the process (plus a
private wake-up stream, so a newly loaded room joins the read at once), and hands every
entry to the room's follower (a `Replica`), which merges what others wrote. The Streamlit
bridge observes rooms, so the sessions in the room rerun.

Catching up: a follower's cursor is the last entry it took into account. A room is loaded
together with its cursor in one atomic read (snapshot + stream tail), so there is no gap
between loading and following. After Redis was unreachable, every follower is caught up
from its cursor, and when a compaction trimmed entries past a cursor, the snapshot (which
covers them) is merged first. Every ``check_every`` seconds the snapshots are compared
with the cursors as well, and a room that dropped held-back updates is caught up from the
start. Updates are idempotent and `Room.merge` holds back an update whose predecessors have
not arrived, so reading something twice or out of order is harmless.

Connection state: any failed Redis call marks the link down; writes then queue in memory.
The relay reconnects with backoff, writes the queues (in order), catches every follower
up, and marks the link up again. Listeners hear every change of state.

The relay knows Redis only through `RedisApi`, and its followers only through `Follower`.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any, Protocol

from ..doc.callbacks import Callbacks
from ..doc.types import RoomName
from .redis_api import Entry, RedisApi, Snapshot
from .status import ConnectionStatus
from .stream_ids import ZERO, StreamId, format_id, parse_id

log = logging.getLogger("crdt_sync.redis")

StatusListener = Callable[[ConnectionStatus], None]

BLOCK_SECONDS = 1.0
CHECK_EVERY = 10.0
READ_COUNT = 1000
BACKOFF_MIN, BACKOFF_MAX = 0.05, 1.0


class Follower(Protocol):
    """One loaded room as the relay sees it (`Replica` is the one there is)."""

    name: RoomName
    cursor: StreamId
    loaded: bool
    seen_in_hub: bool
    resync_wanted: bool

    @property
    def room(self) -> object:
        """The room (the relay checks whether the hub still has it open)."""

    def take(self, sid: StreamId, fields: dict[bytes, bytes]) -> None:
        """Take one stream entry read live (its id is past the cursor)."""

    def catch_up(
        self, snapshot: Snapshot | None, entries: list[Entry], *, after_outage: bool, full: bool
    ) -> None:
        """Take a fresh read of the stream: what the cursor (or, ``full``, nothing) covers."""

    def queued(self) -> int:
        """Updates waiting to be written."""

    def drain(self) -> bool:
        """Write what is queued; False if Redis refused."""


class OpenRooms(Protocol):
    """Where the relay learns which rooms are still open (a `Hub`)."""

    def get(self, name: RoomName) -> object | None:
        """The open room named ``name``, or None."""


class Relay:
    """Follows the streams of every room loaded by one `RedisStore`, and owns the link state.

    ```py
    relay = Relay(api)
    relay.add(replica)           # followed from its cursor on, by one thread
    relay.status().connected     # False while Redis is unreachable
    ```

    Args:
        api: The Redis commands.
        block: Seconds one ``XREAD`` waits for entries.
        check_every: Seconds between comparisons of snapshots with cursors.
    """

    def __init__(
        self, api: RedisApi, *, block: float = BLOCK_SECONDS, check_every: float = CHECK_EVERY
    ) -> None:
        self.api = api
        self.block = block
        self.check_every = check_every
        self.id = uuid.uuid4().hex[:12]
        self.wake_key = api.keys.wake(self.id)
        self._wake_cursor: StreamId = ZERO
        self._lock = threading.RLock()
        self._replicas: dict[str, list[Follower]] = {}
        self._hub: OpenRooms | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._healthy = True
        self._error: str | None = None
        self._since = time.time()
        self._listeners: Callbacks[StatusListener] = Callbacks(self._lock)
        self._reconnect = threading.Event()

    # ------------------------------------------------------------------ replicas

    def add(self, replica: Follower) -> None:
        """Follow a replica's stream from its cursor on."""
        with self._lock:
            self._replicas.setdefault(replica.name, []).append(replica)
            if self._thread is None and not self._stop.is_set():
                self._thread = threading.Thread(
                    target=self._run, name=f"crdt_sync-relay-{self.id}", daemon=True
                )
                self._thread.start()
        self.wake()

    def replicas(self, name: str | None = None) -> list[Follower]:
        """The replicas followed (of one room, or all)."""
        with self._lock:
            if name is not None:
                return list(self._replicas.get(name, []))
            return [r for group in self._replicas.values() for r in group]

    def remove(self, replica: Follower) -> None:
        """Stop following a replica."""
        with self._lock:
            group = self._replicas.get(replica.name, [])
            if replica in group:
                group.remove(replica)
            if not group:
                self._replicas.pop(replica.name, None)

    def attach_hub(self, hub: OpenRooms) -> None:
        """Stop following rooms once ``hub`` has closed them."""
        self._hub = hub

    def wake(self) -> None:
        """Make the blocked ``XREAD`` return now (a new room joins the read)."""
        try:
            self.api.wake(self.id)
        except Exception as exc:  # redis errors, OSError: the relay reconnects by itself
            log.debug("relay %s: wake failed: %s", self.id, exc)

    # ------------------------------------------------------------------ status

    @property
    def healthy(self) -> bool:
        """Whether writes should go to Redis now (False: queue them)."""
        return self._healthy

    def queued(self) -> int:
        """Updates made here that Redis has not acknowledged yet."""
        return sum(r.queued() for r in self.replicas())

    def status(self) -> ConnectionStatus:
        """The link's state, and how many updates wait for it."""
        return ConnectionStatus(
            server=self.api.server,
            connected=self._healthy,
            queued=self.queued(),
            since=self._since,
            error=self._error,
        )

    def add_listener(self, listener: StatusListener) -> Callable[[], None]:
        """Call ``listener(status)`` whenever the link goes down or comes back; returns the
        function that removes it."""
        return self._listeners.add(listener)

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
                self.api.server,
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
            log.warning("crdt_sync: Redis at %s is reachable again", self.api.server)
            self._notify()

    def _notify(self) -> None:
        status = self.status()
        for listener in self._listeners.copy():
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
                        conn = self.api.blocking_client(self.block)
                    self._reconnect.clear()
                    conn.ping()
                    self._recover(after_outage=connected_before)
                    connected_before = True
                    self._mark_up()
                    backoff = BACKOFF_MIN
                self._prune()
                self._flush_outboxes()
                self._resync()
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
                    streams[self.api.keys.stream(name)] = format_id(min(cursors))
        return streams

    def _deliver(self, response: list[Any]) -> None:
        for raw_key, entries in response:
            key = raw_key.decode() if isinstance(raw_key, bytes) else str(raw_key)
            if not entries:
                continue
            if key == self.wake_key:
                self._wake_cursor = parse_id(entries[-1][0])
                continue
            name = self.api.keys.room_of(key)
            group = [r for r in self.replicas(name) if r.loaded]
            for raw_id, fields in entries:
                sid = parse_id(raw_id)
                for replica in group:
                    if sid <= replica.cursor:
                        continue
                    replica.take(sid, fields)

    def _recover(self, *, after_outage: bool) -> None:
        """After (re)connecting: catch every replica up, then write what queued up."""
        for replica in self.replicas():
            self.catch_up(replica, after_outage=after_outage)
            if not replica.drain():
                raise ConnectionError(f"could not write the queued updates of {replica.name!r}")

    def catch_up(
        self, replica: Follower, *, after_outage: bool = False, full: bool = False
    ) -> None:
        """Bring a replica up to the stream's end (relay thread): see `Replica.catch_up`."""
        snapshot, entries = self.api.read(replica.name)
        replica.catch_up(snapshot, entries, after_outage=after_outage, full=full)

    def _flush_outboxes(self) -> None:
        for replica in self.replicas():
            if replica.queued() and not replica.drain():
                raise ConnectionError(f"could not write the queued updates of {replica.name!r}")

    def _check_snapshots(self) -> None:
        replicas = [r for r in self.replicas() if r.loaded]
        if not replicas:
            return
        names = sorted({r.name for r in replicas})
        covered = dict(zip(names, self.api.snapshot_ids(names), strict=True))
        for replica in replicas:
            sid = covered.get(replica.name)
            if sid is not None and sid > replica.cursor:
                log.info(
                    "room %r: entries were trimmed past this replica; catching up", replica.name
                )
                self.catch_up(replica)

    def _resync(self) -> None:
        for replica in self.replicas():
            if replica.resync_wanted and replica.loaded:
                log.info("room %r: dropped held-back updates; reading it again", replica.name)
                self.catch_up(replica, full=True)

    def _prune(self) -> None:
        hub = self._hub
        if hub is None:
            return
        for replica in self.replicas():
            if hub.get(replica.name) is replica.room:
                replica.seen_in_hub = True
            elif replica.seen_in_hub and not replica.queued():
                self.remove(replica)


def _is_connection_error(exc: BaseException) -> bool:
    import redis

    return isinstance(exc, redis.ConnectionError | redis.TimeoutError | OSError | ConnectionError)


def _close_quietly(conn: Any) -> None:
    try:
        conn.close()
    except Exception as exc:
        log.debug("relay: closing the connection failed: %s", exc)
