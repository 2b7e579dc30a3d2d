"""Recording history as a room changes: who changed which keys, grouped into versions.

A `Recorder` is a room's record hook (`Document.add_record_hook`): inside the room's lock,
for every update, it appends one record to the store's `HistoryLog`. Consecutive changes by
the same author less than `GROUP_SECONDS` apart form one version (a dragged slider is one
version, not 200), up to `MAX_VERSION_SECONDS` long; a version's row (its author's name,
from `authors.who` at write time, the keys it changed, its times) is written with its
first record, and again when the next version starts, on `Recorder.flush` (listing
flushes) and when the store closes: a change that continues a version costs one small
write. A process killed mid-version loses only that version's latest row (its records
are stored; the next version takes them in).

Updates merged from elsewhere under an origin in ``skip_origins`` (``"redis"``: another
process made them and recorded them) are not recorded again, but end the version in
progress (the changes are no longer consecutive).

History never holds up a room: a record that cannot be written (a full disk, Redis away)
waits in memory (at most `MAX_WAITING` of them) and is written with the next one; beyond
that the oldest are dropped with a warning, and the next record written is followed by a
base (the room's whole state), so what comes after can still be rebuilt.

```py
recorder = Recorder(history_log, room)
room.add_record_hook(recorder)
recorder.flush()   # write what waits, if anything
```
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from . import authors
from .history_log import HistoryLog, Meta
from .room import Room
from .types import Origin, Update

log = logging.getLogger("crdt_sync.history")

GROUP_SECONDS = 5.0
"""Changes by one author closer together than this are one version."""

MAX_VERSION_SECONDS = 60.0
"""A version spans at most this long (someone typing for an hour makes several)."""

MAX_WAITING = 10_000
"""Records kept in memory while history cannot be written; beyond, the oldest are dropped."""

clock: Callable[[], float] = time.time
"""Where recorders read the time (epoch seconds); tests and benchmarks replace it."""


@dataclass
class _Version:
    """The version being recorded."""

    who: str
    t0: float
    t1: float
    keys: set[str] = field(default_factory=set)
    n: int = 0
    id: str | None = None  # known once its first record is written
    last: int = 0  # the seq of its last record written

    def meta(self) -> Meta:
        return {
            "t0": self.t0,
            "t1": self.t1,
            "who": [self.who],
            "keys": sorted(self.keys),
            "n": self.n,
        }

    def row(self) -> Meta:
        """Its whole row, ids included."""
        return {**self.meta(), "version": self.id, "last": self.last}


class Recorder:
    """Writes a room's changes into its history, grouped into versions.

    Args:
        history: The store's history storage.
        room: The room (its ``export`` gives bases; the hook runs under its lock).
        skip_origins: Origins whose updates another process recorded already.
        ready: Whether writing is worth trying now (False while the store's server is known
            to be unreachable: records wait without holding up the room on a timeout).
    """

    def __init__(
        self,
        history: HistoryLog,
        room: Room,
        *,
        skip_origins: Iterable[Origin] = (),
        ready: Callable[[], bool] = lambda: True,
    ) -> None:
        self.history = history
        self.room = room
        self.skip_origins = frozenset(skip_origins)
        self.ready = ready
        self._open: _Version | None = None
        self._split = False  # the next record starts a new version
        self._waiting: list[tuple[_Version, Update]] = []
        # A version with records written after its row: the row is written when the next
        # version starts (in the same step as its first record) or on `flush`, so most
        # changes cost one small write.
        self._stale: _Version | None = None
        self._dropped = False  # records were lost: write a base after the next one
        self._lock = threading.Lock()

    def start(self) -> None:
        """Write a first base if the room has state but no history yet (history turned on
        for an existing room, or the room came from elsewhere): later records build on it."""
        if not self.ready():
            return
        try:
            if self.history.last_seq(self.room.name) == 0:
                state = self.room.export()
                if state != b"\x00\x00":
                    self.history.put_base(self.room.name, 0, state)
        except Exception as exc:
            log.warning("room %r: could not start its history: %s", self.room.name, exc)

    def __call__(self, update: Update, origin: Origin | None, keys: frozenset[str]) -> None:
        """The record hook (room's lock held)."""
        with self._lock:
            if origin in self.skip_origins:
                self._open = None
                return
            now = round(clock(), 3)  # milliseconds, as history shows times
            who = authors.who(origin)
            version = self._open
            if (
                version is None
                or self._split
                or version.who != who
                or now - version.t1 > GROUP_SECONDS
                or now - version.t0 > MAX_VERSION_SECONDS
            ):
                version = self._open = _Version(who, now, now)
                self._split = False
            version.t1 = max(version.t1, now)
            version.keys.update(keys)
            version.n += 1
            self._waiting.append((version, update))
            if len(self._waiting) > MAX_WAITING:
                del self._waiting[0]
                if not self._dropped:
                    log.warning(
                        "room %r: history cannot be written; its oldest unwritten records "
                        "are dropped (the room's own updates are not affected)",
                        self.room.name,
                    )
                self._dropped = True
            if self.ready():
                self._write()

    def split(self) -> None:
        """Make the next change start a version of its own (a restore does)."""
        with self._lock:
            self._split = True

    def flush(self) -> bool:
        """Write what waits, and the row of the version in progress; True if nothing waits."""
        with self.room.lock, self._lock:
            if not self._write():
                return False
            if self._stale is not None:
                try:
                    self.history.put_meta(self.room.name, self._stale.row())
                except Exception as exc:
                    log.warning(
                        "room %r: a history row could not be written: %s", self.room.name, exc
                    )
                    return False
                self._stale = None
            return True

    def _write(self) -> bool:
        name = self.room.name
        try:
            while self._waiting:
                version, update = self._waiting[0]
                if version.id is None:  # its first record: with its row, and the last one's
                    stale = self._stale
                    closing = stale.row() if stale is not None and stale is not version else None
                    version.id, version.last = self.history.append(
                        name, None, update, version.meta(), closing=closing
                    )
                    self._stale = None
                else:
                    _id, version.last = self.history.append(name, version.id, update, None)
                    self._stale = version
                del self._waiting[0]
                if self._dropped:
                    # Records before this one are lost: what follows builds on this base.
                    self.history.put_base(name, self.history.last_seq(name), self.room.export())
                    self._dropped = False
        except Exception as exc:
            if len(self._waiting) == 1:  # first failure of a run: say it once
                log.warning(
                    "room %r: a history record could not be written (kept in memory, "
                    "retried with the next change): %s",
                    name,
                    exc,
                )
            return False
        return True

    @property
    def waiting(self) -> int:
        """Records not written yet."""
        return len(self._waiting)
