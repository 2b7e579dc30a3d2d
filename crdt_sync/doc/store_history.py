"""What a log store does for history: the part of `store.LogStore` that is history's.

`LogStore` keeps history beside its log (see `history`); this mixin holds the history
side of it: turning it on or off, compacting it now or in a thread of its own, and
writing what it holds in memory when the store closes.

```py
store.configure_history(None)        # rooms loaded from now on keep no history
store.compact_history("plans")       # (versions before, versions kept)
```
"""

from __future__ import annotations

import logging
import threading
import time
import weakref

from .history_log import HistoryLog
from .retention import Retention, compact_history
from .room import Room
from .types import RoomName, validate_room_name

log = logging.getLogger("crdt_sync.store")


AUTO_COMPACT_SECONDS = 300.0
"""Least time between two automatic compactions of one room's history."""


class StoreHistory:
    """History's side of a log store (a mixin of `store.LogStore`, which sets the
    attributes below in its ``__init__``)."""

    history: Retention | None
    _history_log: HistoryLog | None
    _writer_lock: threading.RLock
    _writer_rooms: dict[RoomName, weakref.ref[Room]]
    _history_threads: dict[RoomName, threading.Thread]
    _history_auto: dict[RoomName, float]
    _history_lock: threading.Lock

    def _close_history(self) -> None:
        """On close: write the rows of the versions in progress, let compactions finish."""
        with self._writer_lock:
            rooms = [ref() for ref in self._writer_rooms.values()]
        with self._history_lock:
            threads = list(self._history_threads.values())
        for room in rooms:
            if room is not None and room.history is not None:
                room.history.recorder.flush()
        for thread in threads:
            thread.join(timeout=30)

    def configure_history(self, history: Retention | None) -> None:
        """Change what history keeps (None: off) for rooms loaded from now on."""
        self.history = history

    def compact_history(self, name: RoomName, now: float | None = None) -> tuple[int, int] | None:
        """Apply the retention to a room's history now (``now``: epoch seconds); returns
        ``(versions before, versions kept)``, or None if history is off."""
        validate_room_name(name)
        if self.history is None or self._history_log is None:
            return None
        with self._writer_lock:
            ref = self._writer_rooms.get(name)
        room = ref() if ref is not None else None
        if room is not None and room.history is not None:
            room.history.recorder.flush()  # the row of its version in progress
        return compact_history(self._history_log, name, self.history, now)

    def _compact_history_soon(self, name: RoomName) -> None:
        """Compact a room's history in a thread of its own (one at a time per room): it
        replays updates, which must not hold up the room. At most once every
        `AUTO_COMPACT_SECONDS` per room: the log compacts every thousand updates, and the
        retention's steps are hours and days (compacting each time cost a busy room's
        writes more than the writes themselves)."""
        if self.history is None or self._history_log is None:
            return
        now = time.monotonic()
        with self._history_lock:
            last = self._history_auto.get(name)
            if last is not None and now - last < AUTO_COMPACT_SECONDS:
                return
            self._history_auto[name] = now

        def run() -> None:
            try:
                self.compact_history(name)
            except Exception:
                log.exception("room %r: history compaction failed (nothing lost)", name)
            finally:
                with self._history_lock:
                    del self._history_threads[name]

        with self._history_lock:
            if name not in self._history_threads:
                # Not a daemon: at exit it finishes, instead of freezing holding a lock.
                thread = threading.Thread(target=run, name="crdt_sync-history")
                self._history_threads[name] = thread
                thread.start()
