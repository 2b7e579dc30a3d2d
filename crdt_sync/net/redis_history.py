"""Room history in Redis: the `HistoryLog` of the Redis store (its keys and commands).

Beside the room's stream and snapshot (`redis_api`), under the same prefix:

- ``{prefix}:history-seq:{name}``: the room's record counter (``INCR``: one order for
  every process);
- ``{prefix}:history:{name}``: a sorted set of records, score = seq, member =
  ``"<seq, 12 digits>:<version id>:"`` + the record as `history_log.pack_update` frames
  it (checksummed);
- ``{prefix}:history-bases:{name}``: a sorted set of bases (full states), the same way;
- ``{prefix}:history-versions:{name}`` and ``...history-lasts:{name}``: hashes, version id
  -> its JSON metadata, and -> its last record's seq.

Appending (counter, record and metadata) and rewriting (compaction) are Lua scripts, so
they are atomic and one round trip each; history survives a cold start like the room.

```py
history = RedisHistoryLog(api)
history.append("plans", None, update, {"t0": 1.0, "t1": 1.0, "who": ["ann"], "keys": ["a"], "n": 1})
```
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from ..doc.entry_format import CorruptEntry
from ..doc.history_log import Meta, Record, dump_meta, pack_update, read_meta, unpack_update
from ..doc.types import RoomName, Update
from .redis_api import RedisApi

log = logging.getLogger("crdt_sync.history")

# KEYS: counter, records, versions, lasts. ARGV: version or '', packed record, metadata
# template ('': leave the version's row) that starts with the two placeholders the script
# fills in, the whole row of the version that ended ('': none). Returns {version, seq}.
_APPEND = """
local seq = redis.call('INCR', KEYS[1])
local version = ARGV[1]
if version == '' then version = tostring(seq) end
redis.call('ZADD', KEYS[2], seq, string.format('%012d', seq) .. ':' .. version .. ':' .. ARGV[2])
local function upsert(v, last, meta)
  local current = tonumber(redis.call('HGET', KEYS[4], v) or '0')
  if last >= current then
    redis.call('HSET', KEYS[3], v, meta)
    redis.call('HSET', KEYS[4], v, last)
  end
end
if ARGV[4] ~= '' then upsert(ARGV[5], tonumber(ARGV[6]), ARGV[4]) end
if ARGV[3] ~= '' then
  local meta = string.gsub(ARGV[3], '"@V@"', '"' .. version .. '"', 1)
  meta = string.gsub(meta, '"@L@"', tostring(seq), 1)
  upsert(version, seq, meta)
end
return {version, seq}
"""

# KEYS: records, bases, versions, lasts, counter. ARGV: after, upto, expected count of
# records in the range (-1: any), then counted groups of (seq, member) records,
# (seq, member) bases and (version, last, meta) versions.
_REWRITE = """
local after, upto = tonumber(ARGV[1]), tonumber(ARGV[2])
local expect = tonumber(ARGV[3])
if expect >= 0 and redis.call('ZCOUNT', KEYS[1], '(' .. after, upto) ~= expect then
  return 0
end
if tonumber(redis.call('GET', KEYS[5]) or '0') < upto then redis.call('SET', KEYS[5], upto) end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '(' .. after, upto)
redis.call('ZREMRANGEBYSCORE', KEYS[2], '(' .. after, upto)
local lasts = redis.call('HGETALL', KEYS[4])
for i = 1, #lasts, 2 do
  local l = tonumber(lasts[i + 1])
  if l > after and l <= upto then
    redis.call('HDEL', KEYS[3], lasts[i])
    redis.call('HDEL', KEYS[4], lasts[i])
  end
end
local i = 4
for k = 1, 2 do
  local n = tonumber(ARGV[i])
  i = i + 1
  for _ = 1, n do
    redis.call('ZADD', KEYS[k], ARGV[i], ARGV[i + 1])
    i = i + 2
  end
end
local n = tonumber(ARGV[i])
i = i + 1
for _ = 1, n do
  local cur = tonumber(redis.call('HGET', KEYS[4], ARGV[i]) or '0')
  if tonumber(ARGV[i + 1]) >= cur then
    redis.call('HSET', KEYS[3], ARGV[i], ARGV[i + 2])
    redis.call('HSET', KEYS[4], ARGV[i], ARGV[i + 1])
  end
  i = i + 3
end
return 1
"""


def _member(seq: int, version: str, data: Update) -> bytes:
    return f"{seq:012d}:{version}:".encode() + pack_update(data)


def _template(meta: Meta) -> str:
    rest = {k: v for k, v in meta.items() if k not in ("version", "first", "last")}
    body = dump_meta(rest)  # "first" is the version id: left out, as dump_meta does
    return '{"version":"@V@","last":"@L@",' + body[1:]


class RedisHistoryLog:
    """History kept in Redis (see the module docstring for the keys).

    Args:
        api: The store's Redis commands (its client and key prefix are used).
    """

    def __init__(self, api: RedisApi) -> None:
        self.redis: Any = api.redis
        self.prefix = api.keys.prefix
        self._append = self.redis.register_script(_APPEND)
        self._rewrite = self.redis.register_script(_REWRITE)

    def __repr__(self) -> str:
        return f"RedisHistoryLog({self.prefix!r})"

    def _keys(self, name: RoomName) -> list[str]:
        p = self.prefix
        return [
            f"{p}:history:{name}",
            f"{p}:history-bases:{name}",
            f"{p}:history-versions:{name}",
            f"{p}:history-lasts:{name}",
        ]

    def append(
        self,
        name: RoomName,
        version: str | None,
        update: Update,
        meta: Meta | None,
        *,
        closing: Meta | None = None,
    ) -> tuple[str, int]:
        records, _bases, versions, lasts = self._keys(name)
        counter = f"{self.prefix}:history-seq:{name}"
        args = [
            version or "",
            pack_update(update),
            "" if meta is None else _template(meta),
            "" if closing is None else dump_meta(closing),
            "" if closing is None else closing["version"],
            0 if closing is None else closing["last"],
        ]
        found, seq = self._append(keys=[counter, records, versions, lasts], args=args)
        return (found.decode() if isinstance(found, bytes) else str(found)), int(seq)

    def put_meta(self, name: RoomName, meta: Meta) -> None:
        self._rewrite(
            keys=[*self._keys(name), f"{self.prefix}:history-seq:{name}"],
            args=[-1, -1, -1, 0, 0, 1, meta["version"], meta["last"], dump_meta(meta)],
        )

    def put_base(self, name: RoomName, seq: int, state: Update) -> None:
        bases = self._keys(name)[1]
        pipe = self.redis.pipeline(transaction=True)
        pipe.zremrangebyscore(bases, seq, seq)
        pipe.zadd(bases, {_member(seq, "base", state): seq})
        pipe.execute()

    def last_seq(self, name: RoomName) -> int:
        raw = self.redis.get(f"{self.prefix}:history-seq:{name}")
        return int(raw) if raw else 0

    def versions(self, name: RoomName, limit: int | None = None) -> list[Meta]:
        raw = self.redis.hgetall(self._keys(name)[2])
        metas = [read_meta(name, value.decode(errors="replace")) for value in raw.values()]
        found = sorted((m for m in metas if m is not None), key=lambda m: int(m["last"]))
        return found if limit is None else found[len(found) - limit :] if limit else []

    def version(self, name: RoomName, version: str) -> Meta | None:
        raw = self.redis.hget(self._keys(name)[2], version)
        return None if raw is None else read_meta(name, raw.decode(errors="replace"))

    def version_at(self, name: RoomName, when: float) -> Meta | None:
        found = [m for m in self.versions(name) if float(m["t1"]) <= when]
        return found[-1] if found else None

    def _decode(self, name: RoomName, what: str, member: bytes) -> Record | None:
        try:
            seq_text, version, data = member.split(b":", 2)
            return int(seq_text), version.decode(), unpack_update(data)
        except (ValueError, CorruptEntry) as exc:
            log.warning("room %r: history %s is damaged, skipped: %s", name, what, exc)
            return None

    def base_before(self, name: RoomName, seq: int) -> tuple[int, Update] | None:
        for member in self.redis.zrevrangebyscore(self._keys(name)[1], seq, "-inf"):
            found = self._decode(name, "base", member)
            if found is not None:
                return found[0], found[2]
        return None

    def records(self, name: RoomName, after: int, upto: int) -> list[Record]:
        members = self.redis.zrangebyscore(self._keys(name)[0], f"({after}", upto)
        return [r for m in members if (r := self._decode(name, "record", m)) is not None]

    def count(self, name: RoomName, after: int, upto: int) -> int:
        return int(self.redis.zcount(self._keys(name)[0], f"({after}", upto))

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
        args: list[Any] = [after, upto, -1 if expect is None else expect, len(records)]
        for seq, version, data in records:
            args += [seq, _member(seq, version, data)]
        args.append(len(bases))
        for seq, state in bases:
            args += [seq, _member(seq, "base", state)]
        args.append(len(metas))
        for meta in metas:
            args += [meta["version"], meta["last"], dump_meta(meta)]
        counter = f"{self.prefix}:history-seq:{name}"
        return bool(self._rewrite(keys=[*self._keys(name), counter], args=args))

    def delete(self, name: RoomName) -> None:
        self.redis.delete(*self._keys(name), f"{self.prefix}:history-seq:{name}")

    def size(self, name: RoomName) -> int:
        records, bases, versions, _lasts = self._keys(name)
        total = sum(len(m) for m in self.redis.zrange(records, 0, -1))
        total += sum(len(m) for m in self.redis.zrange(bases, 0, -1))
        total += sum(len(v) for v in self.redis.hgetall(versions).values())
        return total

    def close(self) -> None:
        """Nothing of its own to release (the store closes the client)."""
