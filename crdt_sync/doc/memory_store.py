"""MemoryStore: rooms kept in this process's memory only (tests, throwaway apps).

```py
store = MemoryStore()
room = store.load("plans")   # a Room that persists its changes in memory
```
"""

from __future__ import annotations

import threading

from .history_sqlite import SqliteHistoryLog
from .retention import DEFAULT_RETENTION, Retention
from .store import DEFAULT_COMPACT_EVERY, EMPTY_UPDATE, Coverage, LogStore, SnapshotBuilder
from .types import RoomName, Update, validate_room_name


class MemoryStore(LogStore):
    """Keeps rooms in this process's memory only; for tests and throwaway apps.

    Args:
        compact_every: A loaded room compacts itself after this many appended updates.
        history: What history keeps (`Retention`); None: no history.
    """

    def __init__(
        self,
        *,
        compact_every: int = DEFAULT_COMPACT_EVERY,
        history: Retention | None = DEFAULT_RETENTION,
    ) -> None:
        super().__init__(compact_every=compact_every, history=history)
        self._history_log = SqliteHistoryLog(":memory:")
        self._lock = threading.RLock()
        self._logs: dict[RoomName, dict[str, dict[int, Update]]] = {}
        self._snapshots: dict[RoomName, tuple[Update, Coverage]] = {}
        self.quarantined: dict[tuple[RoomName, str], tuple[Update, str]] = {}

    def rooms(self) -> list[RoomName]:
        with self._lock:
            return sorted(set(self._logs) | set(self._snapshots))

    def delete(self, name: RoomName) -> None:
        validate_room_name(name)
        with self._lock:
            self._logs.pop(name, None)
            self._snapshots.pop(name, None)
        if self._history_log is not None:
            self._history_log.delete(name)

    def _writers(self, name: RoomName) -> list[str]:
        with self._lock:
            return list(self._logs.get(name, {}))

    def _register_writer(self, name: RoomName, writer: str) -> None:
        with self._lock:
            self._logs.setdefault(name, {}).setdefault(writer, {})

    def _append(self, name: RoomName, writer: str, seq: int, update: Update) -> None:
        with self._lock:
            self._logs.setdefault(name, {}).setdefault(writer, {})[seq] = update

    def _entry(self, name: RoomName, writer: str, seq: int) -> Update | None:
        with self._lock:
            return self._logs.get(name, {}).get(writer, {}).get(seq)

    def _snapshot(self, name: RoomName) -> tuple[Update, Coverage] | None:
        with self._lock:
            return self._snapshots.get(name)

    def _swap_snapshot(self, name: RoomName, build: SnapshotBuilder) -> tuple[Coverage, Coverage]:
        with self._lock:
            old = self._snapshots.get(name)
            new = build(old)
            self._snapshots[name] = new
            return (old[1] if old else Coverage()), new[1]

    def _drop_entries(self, name: RoomName, old: Coverage, new: Coverage) -> None:
        with self._lock:
            for writer, seq in new.items():
                entries = self._logs.get(name, {}).get(writer, {})
                for s in [s for s in entries if s <= seq]:
                    del entries[s]

    def _quarantine(self, name: RoomName, label: str, data: Update, reason: str) -> None:
        with self._lock:
            self.quarantined[(name, label)] = (data, reason)
            writer, _, seq = label.partition(":")
            if seq:
                self._logs[name][writer][int(seq)] = EMPTY_UPDATE
            elif name in self._snapshots and self._snapshots[name][0] == data:
                # Still covering as much, so that the entries after it keep loading.
                self._snapshots[name] = (EMPTY_UPDATE, self._snapshots[name][1])
