"""The Redis commands and keys of the Redis store: the only module that talks to Redis
(except for room history, whose keys and commands are `redis_history`'s).

Layout (``prefix`` defaults to ``crdt_sync``):

- ``{prefix}:room:{name}``: a stream, one entry per Yjs update: ``u`` = the update bytes,
  ``w`` = the writer (one loaded room in one process: ``<process id>/<n>``).
- ``{prefix}:snapshot:{name}``: a hash, ``u`` = one merged update, ``id`` = the id of the
  last stream entry it includes.
- ``{prefix}:rooms``: a set of room names; ``{prefix}:quarantine:{name}``: entries that
  could not be applied (reason and bytes), never silently dropped.
- ``{prefix}:presence:{name}:{process}``: one process's members of a room (JSON, expires);
  ``{prefix}:presence-index:{name}``: the set of processes that published some.
- ``{prefix}:wake:{relay}``: a short private stream that wakes a relay's blocking read.

Loading reads the snapshot and the entries after its id in one atomic step (a Lua
script), so a room and the position it follows from always match. A snapshot is stored
only if it covers more than the stored one. Every method raises ``redis.RedisError`` (or
``OSError``) when Redis is unreachable; deciding what that means is the caller's business.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from ..doc.types import RoomName, Update
from .stream_ids import StreamId, after, format_id, older_than, parse_id

log = logging.getLogger("crdt_sync.redis")

RedisError = redis.RedisError
"""What a failed Redis call raises (connection errors and timeouts included)."""

DEFAULT_PREFIX = "crdt_sync"
DEFAULT_TIMEOUT = 2.0

Snapshot = tuple[Update, StreamId]
"""A stored snapshot: ``(merged update, id of the last stream entry it includes)``."""

Entry = tuple[StreamId, bytes, Update]
"""A stream entry: ``(id, writer, update)``."""

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
    """Redis key names of one prefix; no two rooms (or a room and a process) share a key.

    Args:
        prefix: Put in front of every key (several apps can share one Redis database).
    """

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.rooms = f"{prefix}:rooms"
        self._stream = f"{prefix}:room:"

    def stream(self, name: RoomName) -> str:
        """The stream of room ``name``'s updates."""
        return self._stream + name

    def room_of(self, stream_key: str) -> RoomName:
        """The room whose stream ``stream_key`` is."""
        return stream_key[len(self._stream) :]

    def snapshot(self, name: RoomName) -> str:
        """The snapshot hash of room ``name``."""
        return f"{self.prefix}:snapshot:{name}"

    def quarantine(self, name: RoomName) -> str:
        """The hash of room ``name``'s entries that could not be applied."""
        return f"{self.prefix}:quarantine:{name}"

    def wake(self, relay_id: str) -> str:
        """The private stream that wakes relay ``relay_id``."""
        return f"{self.prefix}:wake:{relay_id}"

    def presence(self, name: RoomName) -> str:
        """The set of process ids that published members of room ``name``.

        Its own family of keys: under ``presence:`` the index of room ``lobby:<process>``
        would be the members key of room ``lobby`` (WRONGTYPE).
        """
        return f"{self.prefix}:presence-index:{name}"

    def presence_of(self, name: RoomName, process: str) -> str:
        """One process's members of room ``name`` (JSON, expires unless renewed).

        Process ids hold no ``:``, so the room and the process are told apart.
        """
        return f"{self.prefix}:presence:{name}:{process}"


def redact(url: str) -> str:
    """``url`` without its password, for messages."""
    parts = urlsplit(url)
    if parts.scheme == "unix":
        return f"unix://{parts.path}"
    host = parts.hostname or "localhost"
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path or '/0'}"


class RedisApi:
    """Every Redis command the store, its relay, its replicas and presence send.

    ```py
    api = RedisApi("redis://127.0.0.1:6379/0")
    snapshot, entries = api.read("plans")
    api.append("plans", b"ab12/1", [update])
    ```

    Args:
        url: ``redis://[:password@]host:port/db`` (also ``rediss://`` and ``unix://``).
        prefix: Prefix of every key.
        timeout: Seconds before a call counts as failed.
    """

    def __init__(
        self, url: str, *, prefix: str = DEFAULT_PREFIX, timeout: float = DEFAULT_TIMEOUT
    ) -> None:
        self.url = url
        self.server = redact(url)
        self.keys = Keys(prefix)
        self.timeout = timeout
        self.redis: Any = redis.Redis.from_url(
            url,
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
            retry=Retry(NoBackoff(), 0),
        )
        self._read_room = self.redis.register_script(_READ_ROOM)
        self._write_snapshot = self.redis.register_script(_WRITE_SNAPSHOT)

    def close(self) -> None:
        """Disconnect."""
        self.redis.close()

    # ------------------------------------------------------------------ rooms

    def read(self, name: RoomName) -> tuple[Snapshot | None, list[Entry]]:
        """The snapshot and the entries after it, atomically.

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

    def append(
        self, name: RoomName, writer: bytes, updates: Sequence[Update], *, register: bool
    ) -> None:
        """Append updates to a room's stream, in order (one round trip).

        Args:
            name: The room.
            writer: Stored with every entry (``w``).
            updates: The updates.
            register: Also add the room to the set of rooms.
        """
        pipe = self.redis.pipeline(transaction=False)
        for update in updates:
            pipe.xadd(self.keys.stream(name), {b"u": update, b"w": writer})
        if register:
            pipe.sadd(self.keys.rooms, name)
        pipe.execute()

    def write_snapshot(self, name: RoomName, update: Update, covers: StreamId) -> bool:
        """Store a snapshot covering the stream up to ``covers``, unless the stored one
        covers as much already. Returns whether it was stored."""
        return bool(
            self._write_snapshot(keys=[self.keys.snapshot(name)], args=[update, format_id(covers)])
        )

    def trim(self, name: RoomName, covered: StreamId, min_lifetime: float) -> None:
        """Delete the entries up to ``covered`` that are older than ``min_lifetime`` s."""
        upto = min(covered, older_than(min_lifetime))
        self.redis.xtrim(self.keys.stream(name), minid=format_id(after(upto)), approximate=False)

    def snapshot_ids(self, names: Sequence[RoomName]) -> list[StreamId | None]:
        """The id each room's snapshot covers (None: no snapshot)."""
        pipe = self.redis.pipeline(transaction=False)
        for name in names:
            pipe.hget(self.keys.snapshot(name), "id")
        return [None if raw is None else parse_id(raw) for raw in pipe.execute()]

    def room_names(self) -> list[RoomName]:
        """Names of the rooms stored."""
        names = self.redis.smembers(self.keys.rooms)
        return sorted(n.decode() if isinstance(n, bytes) else str(n) for n in names)

    def delete(self, name: RoomName) -> None:
        """Remove a room's stream, snapshot and quarantine (one transaction)."""
        pipe = self.redis.pipeline(transaction=True)
        pipe.delete(self.keys.stream(name), self.keys.snapshot(name), self.keys.quarantine(name))
        pipe.srem(self.keys.rooms, name)
        pipe.execute()

    def quarantine(self, name: RoomName, label: str, data: Update, reason: str) -> None:
        """Keep an entry that cannot be applied aside (reason + bytes), and say so.

        Never raises: a failure to record it is logged.
        """
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

    # ------------------------------------------------------------------ following

    def blocking_client(self, block: float) -> Any:
        """A one-connection client for a relay's blocking reads of ``block`` seconds."""
        return redis.Redis.from_url(
            self.url,
            socket_timeout=block + self.timeout,
            socket_connect_timeout=self.timeout,
            retry=Retry(NoBackoff(), 0),
            single_connection_client=True,
        )

    def wake(self, relay_id: str) -> None:
        """Make relay ``relay_id``'s blocked read return now."""
        key = self.keys.wake(relay_id)
        pipe = self.redis.pipeline(transaction=False)
        pipe.xadd(key, {b"w": b"1"}, maxlen=8, approximate=False)
        pipe.expire(key, 3600)
        pipe.execute()

    # ------------------------------------------------------------------ presence

    def publish_presence(
        self, name: RoomName, process: str, members: str | None, expire_ms: int
    ) -> list[str]:
        """Publish (or, with None, withdraw) one process's members of a room.

        Returns:
            Every process id listed for the room, this one included while it publishes.
        """
        index, mine = self.keys.presence(name), self.keys.presence_of(name, process)
        with self.redis.pipeline(transaction=False) as pipe:
            if members is not None:
                pipe.set(mine, members, px=expire_ms)
                pipe.sadd(index, process)
                pipe.pexpire(index, expire_ms * 4)
            else:
                pipe.delete(mine)
                pipe.srem(index, process)
            pipe.smembers(index)
            return sorted(p.decode() for p in pipe.execute()[-1])

    def presence_of(self, name: RoomName, processes: Sequence[str]) -> list[bytes | None]:
        """What each process published for a room (None: expired)."""
        found: list[bytes | None] = self.redis.mget(
            [self.keys.presence_of(name, p) for p in processes]
        )
        return found

    def forget_presence(self, name: RoomName, processes: Sequence[str]) -> None:
        """Drop processes whose members expired from a room's index."""
        self.redis.srem(self.keys.presence(name), *processes)
