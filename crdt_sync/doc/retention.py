"""How much history a room keeps, and the compaction that applies it.

`Retention` says which versions stay: by default every version of the last day, the last
version of each hour for a month, the last of each day after that (all UTC). Compaction
(`compact_history`) drops the others by merging what each dropped version changed into the
next kept one, so the state at every kept version stays exactly what it was; it also
replaces the records of each kept version by one difference (the smaller of the merged
updates and the garbage-collected state difference: a slider dragged 200 times costs
one value) and writes bases (full states) now and then, so rebuilding a past state never
replays more than about `BASE_EVERY` records.

```py
retention = Retention(every_for=timedelta(hours=6), hourly_for=timedelta(days=7))
before, after = compact_history(store_history_log, "plans", retention)
print(f"history: {before} versions -> {after} kept")
```
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pycrdt import Doc, merge_updates

from . import history_recorder
from .history_log import HistoryLog, Meta, Record
from .types import RoomName, Update

BASE_EVERY = 100
"""Compaction writes a base once this many kept versions follow the last one and their
records are at least twice the base's size (so bases never cost more than half the
history, and rebuilding a past state replays at most that much besides one base)."""


@dataclass(frozen=True)
class Retention:
    """Which versions history keeps (the newest is always kept).

    Args:
        every_for: Keep every version this recent.
        hourly_for: Then keep the last version of each hour this recent.
        daily_for: Then keep the last version of each day this recent; None: for ever.
    """

    every_for: dt.timedelta = dt.timedelta(days=1)
    hourly_for: dt.timedelta = dt.timedelta(days=30)
    daily_for: dt.timedelta | None = None

    def keep(self, versions: Sequence[Meta], now: float | None = None) -> set[str]:
        """The ids of the versions to keep.

        Args:
            versions: Version metadata, oldest first (``version`` and ``t1`` are used).
            now: Epoch seconds (default: now, as `history_recorder.clock` tells).
        """
        now = history_recorder.clock() if now is None else now
        kept: set[str] = set()
        buckets: dict[tuple[str, int], str] = {}
        for meta in versions:
            age = now - float(meta["t1"])
            if age <= self.every_for.total_seconds():
                kept.add(meta["version"])
            elif age <= self.hourly_for.total_seconds():
                buckets[("h", int(float(meta["t1"]) // 3600))] = meta["version"]
            elif self.daily_for is None or age <= self.daily_for.total_seconds():
                buckets[("d", int(float(meta["t1"]) // 86400))] = meta["version"]
        kept.update(buckets.values())  # the last version of each bucket
        if versions:
            kept.add(versions[-1]["version"])
        return kept


DEFAULT_RETENTION = Retention()


def compact_history(
    history: HistoryLog, name: RoomName, retention: Retention, now: float | None = None
) -> tuple[int, int]:
    """Apply ``retention`` to a room's history and compact what stays.

    Only the part from the first version that changes onwards is replayed (from the base
    before it), and only what changed there is written; nothing is written if nothing
    changes. A version recorded meanwhile is left alone; if another compaction rewrote
    the same part meanwhile, this one starts over (at most three times).

    Args:
        history: The store's history storage.
        name: The room.
        retention: What to keep.
        now: Epoch seconds (default: now).

    Returns:
        ``(versions before, versions after)``.
    """
    for _attempt in range(3):
        done = _compact_once(history, name, retention, now)
        if done is not None:
            return done
    count = len(history.versions(name))  # others keep compacting it: theirs stands
    return count, count


def _compact_once(
    history: HistoryLog, name: RoomName, retention: Retention, now: float | None = None
) -> tuple[int, int] | None:
    """One pass of `compact_history`; None if another compaction overtook it."""
    metas = history.versions(name)
    if not metas:
        return 0, 0
    kept = retention.keep(metas, now)
    first = next(
        (i for i, m in enumerate(metas) if m["version"] not in kept or int(m.get("n", 1)) > 1),
        None,
    )
    if first is None:
        return len(metas), len(metas)
    start = int(metas[first - 1]["last"]) if first else 0
    upto = int(metas[-1]["last"])
    expect = history.count(name, start, upto)  # before reading: see rewrite
    doc: Doc[Any] = Doc()
    base = history.base_before(name, start)
    base_seq = base[0] if base is not None else 0
    if base is not None:
        doc.apply_update(base[1])
    for _seq, _version, update in history.records(name, base_seq, start):
        doc.apply_update(update)
    records = history.records(name, start, upto)
    out_records, out_bases, out_metas = _replay(doc, metas[first:], kept, records)
    if not history.rewrite(name, start, upto, out_records, out_bases, out_metas, expect=expect):
        return None  # another compaction rewrote the range meanwhile
    return len(metas), first + len(out_metas)


def _replay(
    doc: Doc[Any], metas: Sequence[Meta], kept: set[str], records: list[Record]
) -> tuple[list[Record], list[tuple[int, Update]], list[Meta]]:
    """Walk ``records`` version by version; one difference per kept version."""
    out_records: list[Record] = []
    out_bases: list[tuple[int, Update]] = []
    out_metas: list[Meta] = []
    state = doc.get_state()
    base_size = len(doc.get_update())
    since_base, since_bytes = 0, 0
    merged: Meta | None = None  # dropped versions waiting for the next kept one
    raws: list[Update] = []
    index = 0
    for meta in metas:
        last = int(meta["last"])
        while index < len(records) and records[index][0] <= last:
            update = records[index][2]
            doc.apply_update(update)
            raws.append(update)
            index += 1
        merged = meta if merged is None else _join(merged, meta)
        if meta["version"] not in kept:
            continue
        diff = doc.get_update(state)
        raw = raws[0] if len(raws) == 1 else merge_updates(*raws) if raws else diff
        data = raw if len(raw) <= len(diff) else diff
        out = dict(merged, version=meta["version"], first=meta["first"], last=last, n=1)
        out_records.append((last, meta["version"], data))
        out_metas.append(out)
        state, raws, merged = doc.get_state(), [], None
        since_base += 1
        since_bytes += len(data)
        if since_base >= BASE_EVERY and since_bytes >= 2 * base_size:
            whole = doc.get_update()
            out_bases.append((last, whole))
            base_size, since_base, since_bytes = len(whole), 0, 0
    return out_records, out_bases, out_metas


def _join(earlier: Meta, later: Meta) -> Meta:
    """The metadata of two consecutive versions as one."""
    who = list(dict.fromkeys([*earlier["who"], *later["who"]]))
    keys = sorted(set(earlier["keys"]) | set(later["keys"]))
    return dict(later, t0=earlier["t0"], who=who, keys=keys)
