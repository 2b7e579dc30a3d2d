"""RedisStore: rooms kept in Redis, shared live by every server process.

Layout (``prefix`` defaults to ``crdt_sync``):

- ``{prefix}:room:{name}``: a stream, one entry per Yjs update: ``u`` = the update bytes,
  ``w`` = the writer (one loaded room in one process: ``<process id>/<n>``).
- ``{prefix}:snapshot:{name}``: a hash, ``u`` = one merged update, ``id`` = the id of the
  last stream entry it includes.
- ``{prefix}:rooms``: a set of room names; ``{prefix}:quarantine:{name}``: entries that
  could not be applied (reason and bytes), never silently dropped.

Loading reads the snapshot and the entries after its id in one atomic step (a Lua
script), so a room and the position it follows from always match. Compaction writes the
snapshot first (only if it covers more than the stored one) and then trims the entries it
covers with an exact ``XTRIM MINID``; entries younger than ``min_message_lifetime`` stay,
so a process that reads slightly behind never misses one. A compaction that dies between
the two steps leaves entries the snapshot already covers: loading skips them, the next
compaction trims them. Nothing is ever lost.

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
import json
import logging
import threading
import time
import uuid
import weakref
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from ..doc import Room, StoreError
from ..doc.store import DEFAULT_COMPACT_EVERY
from ..doc.types import RoomName, Update, validate_room_name
from .relay import Relay, StatusListener
from .replica import Replica
from .status import ConnectionStatus
from .stream_ids import ZERO, StreamId, after, format_id, older_than, parse_id

if TYPE_CHECKING:
    from ..doc import Hub

log = logging.getLogger("crdt_sync.redis")

DEFAULT_PREFIX = "crdt_sync"
DEFAULT_MIN_MESSAGE_LIFETIME = 60.0
DEFAULT_TIMEOUT = 2.0
DEFAULT_PRESENCE_TTL = 5.0

# KEYS: snapshot hash, stream. Returns {snapshot update or false, snapshot id or false,
# entries after the snapshot id}. Atomic: a compaction cannot slip in between.
_READ_ROOM = """
local snap = redis.call('HMGET', KEYS[1], 'u', 'id')
local start = '-'
if snap[2] then start = '(' .. snap[2] end
return {snap[1], snap[2], redis.call('XRANGE', KEYS[2], start, '+')}
"""

# KEYS: snapshot hash. ARGV: update, id. Stores it unless the stored one covers as much.
_WRITE_SNAPSHOT = """
local function parse(id)
  local dash = string.find(id, '-', 1, true)
  return tonumber(string.sub(id, 1, dash - 1)), tonumber(string.sub(id, dash + 1))
end
local current = redis.call('HGET', KEYS[1], 'id')
if current then
  local cms, cseq = parse(current)
  local nms, nseq = parse(ARGV[2])
  if cms > nms or (cms == nms and cseq >= nseq) then return 0 end
end
redis.call('HSET', KEYS[1], 'u', ARGV[1], 'id', ARGV[2])
return 1
"""


class Keys:
    """Redis key names of one prefix.

    Args:
        prefix: Put in front of every key (several apps can share one Redis database).
    """

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.rooms = f"{prefix}:rooms"
        self._stream = f"{prefix}:room:"

    def stream(self, name: RoomName) -> str:
        return self._stream + name

    def room_of(self, stream_key: str) -> RoomName:
        return stream_key[len(self._stream) :]

    def snapshot(self, name: RoomName) -> str:
        return f"{self.prefix}:snapshot:{name}"

    def quarantine(self, name: RoomName) -> str:
        return f"{self.prefix}:quarantine:{name}"

    def wake(self, relay_id: str) -> str:
        return f"{self.prefix}:wake:{relay_id}"

    def presence(self, name: RoomName) -> str:
        """The set of process ids that published members of room ``name``."""
        return f"{self.prefix}:presence:{name}"

    def presence_of(self, name: RoomName, process: str) -> str:
        """One process's members of room ``name`` (JSON, expires unless renewed)."""
        return f"{self.prefix}:presence:{name}:{process}"


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
    ) -> None:
        self.url = url
        self.server = _redact(url)
        self.keys = Keys(prefix)
        self.compact_every = compact_every
        self.min_message_lifetime = min_message_lifetime
        self.timeout = timeout
        self.id = uuid.uuid4().hex[:12]
        self.redis: Any = redis.Redis.from_url(
            url,
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
            retry=Retry(NoBackoff(), 0),
        )
        self._read_room = self.redis.register_script(_READ_ROOM)
        self._write_snapshot = self.redis.register_script(_WRITE_SNAPSHOT)
        self.relay = Relay(self, block=block)
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
        replica = Replica(self, room, f"{self.id}/{next(self._writers)}")
        try:
            snapshot, entries = self.read(name)
        except redis.RedisError as exc:
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
        return room

    def rooms(self) -> list[RoomName]:
        """Names of the rooms stored in Redis (while it is unreachable: the rooms open here)."""
        try:
            names = self.redis.smembers(self.keys.rooms)
        except redis.RedisError as exc:
            self.relay.mark_down(exc)
            return sorted({r.name for r in self.relay.replicas()})
        return sorted(n.decode() if isinstance(n, bytes) else str(n) for n in names)

    def delete(self, name: RoomName) -> None:
        """Remove a room's stream, snapshot and quarantine for good.

        Meant for rooms no process has open: a process that has it open keeps its copy, and
        writes it again if Redis comes back from an outage without it.

        Raises:
            StoreError: If Redis is unreachable.
        """
        validate_room_name(name)
        pipe = self.redis.pipeline(transaction=True)
        pipe.delete(self.keys.stream(name), self.keys.snapshot(name), self.keys.quarantine(name))
        pipe.srem(self.keys.rooms, name)
        try:
            pipe.execute()
        except redis.RedisError as exc:
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
        except redis.RedisError as exc:
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
        queued = self.queued()
        if queued:
            log.error(
                "crdt_sync: closing the Redis store with %d update(s) that Redis never "
                "acknowledged (it was unreachable); they are lost",
                queued,
            )
        if self._compactor is not None:
            self._compactor.shutdown(wait=True)
        self.redis.close()

    # ------------------------------------------------------------------ status

    def status(self) -> ConnectionStatus:
        """Whether Redis is reachable, and how many updates wait for it."""
        return self.relay.status(self.queued())

    def queued(self) -> int:
        """Updates made here that Redis has not acknowledged yet."""
        return sum(len(r.outbox) for r in self.relay.replicas())

    def add_status_listener(self, listener: StatusListener) -> Callable[[], None]:
        """Call ``listener(status)`` from a background thread whenever Redis goes away or
        comes back. Returns a function that removes the listener."""
        return self.relay.add_listener(listener)

    def attach_hub(self, hub: Hub) -> None:
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

        Each process keeps one key per room, renewed by calling this again before ``ttl``
        seconds pass: the members of a process that stopped (even by ``kill -9``) are gone
        ``ttl`` seconds later.

        Args:
            name: The room.
            members: This process's members: member id -> display label (empty: none).
            ttl: Seconds the published members last without renewal.

        Returns:
            The members published by the other processes: ``"<process>:<member id>"`` ->
            label.

        Raises:
            redis.RedisError: Redis is unreachable (nothing is queued: presence is live
                state, published again on the next call).
        """
        index, mine = self.keys.presence(name), self.keys.presence_of(name, self.id)
        expire_ms = max(1, int(ttl * 1000))
        with self.redis.pipeline(transaction=False) as pipe:
            if members:
                pipe.set(mine, json.dumps(dict(members)), px=expire_ms)
                pipe.sadd(index, self.id)
                pipe.pexpire(index, expire_ms * 4)
            else:
                pipe.delete(mine)
                pipe.srem(index, self.id)
            pipe.smembers(index)
            processes = sorted(p.decode() for p in pipe.execute()[-1] if p.decode() != self.id)
        if not processes:
            return {}
        found = self.redis.mget([self.keys.presence_of(name, p) for p in processes])
        others: dict[str, str] = {}
        gone = []
        for process, raw in zip(processes, found, strict=True):
            if raw is None:
                gone.append(process)  # expired: that process stopped
                continue
            try:
                published = json.loads(raw)
            except ValueError:
                continue
            if isinstance(published, dict):
                for member, label in published.items():
                    others[f"{process}:{member}"] = str(label)[:100]
        if gone:
            self.redis.srem(index, *gone)
        return others

    # ------------------------------------------------------------------ Redis steps

    def blocking_client(self, block: float) -> Any:
        """A one-connection client for the relay's blocking reads."""
        return redis.Redis.from_url(
            self.url,
            socket_timeout=block + self.timeout,
            socket_connect_timeout=self.timeout,
            retry=Retry(NoBackoff(), 0),
            single_connection_client=True,
        )

    def read(
        self, name: RoomName
    ) -> tuple[tuple[Update, StreamId] | None, list[tuple[StreamId, bytes, Update]]]:
        """The snapshot ``(update, id it covers)`` and the entries after it, atomically.

        Returns:
            ``(snapshot or None, [(id, writer, update), ...])``.
        """
        raw_update, raw_id, raw_entries = self._read_room(
            keys=[self.keys.snapshot(name), self.keys.stream(name)]
        )
        snapshot = None
        if raw_id:
            snapshot = (bytes(raw_update or b""), parse_id(raw_id))
        entries = []
        for raw_entry_id, flat in raw_entries:
            fields = dict(zip(flat[::2], flat[1::2], strict=True))
            update = fields.get(b"u")
            if update is None:
                continue
            entries.append((parse_id(raw_entry_id), bytes(fields.get(b"w", b"")), bytes(update)))
        return snapshot, entries

    def append(self, replica: Replica, updates: Sequence[Update]) -> bool:
        """Append updates to the room's stream, in order; False (and the link marked down)
        if Redis did not acknowledge them all."""
        pipe = self.redis.pipeline(transaction=False)
        for update in updates:
            pipe.xadd(self.keys.stream(replica.name), {b"u": update, b"w": replica.writer_bytes})
        if not replica.registered:
            pipe.sadd(self.keys.rooms, replica.name)
        try:
            pipe.execute()
        except redis.RedisError as exc:
            self.relay.mark_down(exc)
            return False
        replica.registered = True
        return True

    def write_snapshot(self, name: RoomName, update: Update, covers: StreamId) -> bool:
        """Store a snapshot covering the stream up to ``covers``, unless the stored one
        covers as much already. Returns whether it was stored."""
        return bool(
            self._write_snapshot(keys=[self.keys.snapshot(name)], args=[update, format_id(covers)])
        )

    def trim(self, name: RoomName, covered: StreamId) -> None:
        """Delete the entries up to ``covered`` that are older than the minimum lifetime."""
        upto = min(covered, older_than(self.min_message_lifetime))
        self.redis.xtrim(self.keys.stream(name), minid=format_id(after(upto)), approximate=False)

    def snapshot_ids(self, names: Sequence[RoomName]) -> list[StreamId | None]:
        """The id each room's snapshot covers (None: no snapshot)."""
        pipe = self.redis.pipeline(transaction=False)
        for name in names:
            pipe.hget(self.keys.snapshot(name), "id")
        return [None if raw is None else parse_id(raw) for raw in pipe.execute()]

    def quarantine(self, name: RoomName, label: str, data: Update, reason: str) -> None:
        """Keep an entry that cannot be applied aside (reason + bytes), and say so."""
        log.warning(
            "room %r: stored update %s cannot be applied and was quarantined: %s",
            name,
            label,
            reason,
        )
        try:
            self.redis.hset(
                self.keys.quarantine(name), mapping={label: reason, f"{label}:data": data}
            )
        except redis.RedisError as exc:
            log.error("room %r: could not record quarantined update %s: %s", name, label, exc)

    def quarantined(self, name: RoomName) -> dict[str, str]:
        """Entries of a room that could not be applied: label -> reason."""
        raw = self.redis.hgetall(self.keys.quarantine(name))
        found = {}
        for key, value in raw.items():
            label = key.decode()
            if not label.endswith(":data"):
                found[label] = value.decode(errors="replace")
        return found

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
        except StoreError as exc:
            log.warning("compaction failed (nothing lost): %s", exc)
        except Exception:
            log.exception("room %r: compaction failed (nothing lost)", name)
        finally:
            with self._lock:
                self._compacting.discard(name)


def _redact(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme == "unix":
        return f"unix://{parts.path}"
    host = parts.hostname or "localhost"
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path or '/0'}"


def _close_at_exit(ref: weakref.ref[RedisStore]) -> None:
    store = ref()
    if store is not None:
        try:
            store.close()
        except Exception as exc:  # at exit: say it, never raise
            log.debug("crdt_sync: closing the Redis store at exit failed: %s", exc)
