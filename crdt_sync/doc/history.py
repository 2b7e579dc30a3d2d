"""Room history: who changed what and when, any past state, and restoring it.

Every room loaded from a store with history on (the default) has ``room.history``, a
`RoomHistory`; a bare ``Room()`` or a room of a store with ``history=None`` has
``room.history is None``, and ``room.restore(...)`` raises `NoHistory`.

```py
room = store.load("plans")
room.history.versions()            # [Version(version="1", who=("ann",), keys=("level",), ...)]
room.history.state_at("1")         # {"level": {"kind": "register", "value": 3}} (as `inspect`)
room.history.state_at("2026-12-07T01:30:00Z")   # the room at that moment
preview = room.history.room_at("1")             # a scratch Room with that state
room.restore("1", keys=["level"], origin="ann")  # -> ["level"]: written forward, one change
```

What is recorded and how versions are grouped: `history_recorder`; how it is stored:
`history_log`; what is kept: `retention`; how a restore writes the old values: `restore`.
History lives beside the room's update log, never inside its Yjs document, so Yjs
clients and ``.ydoc`` exports never see it.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from .errors import UnknownVersion
from .history_log import HistoryLog, Meta
from .history_recorder import Recorder
from .inspection import room_contents
from .restore import write_back
from .retention import DEFAULT_RETENTION, Retention, compact_history
from .room import Room
from .types import Origin

log = logging.getLogger("crdt_sync.history")

DEFAULT_RESTORE_ORIGIN = "restore"
"""Origin of a restore when the caller names none (history shows it as ``restore``)."""

At = str | dt.datetime
"""A point in history: a version id, an ISO 8601 time (``"2026-12-07T01:30:00Z"``) or a
datetime (naive ones are taken as UTC)."""


@dataclass(frozen=True)
class Version:
    """One version of a room: consecutive changes by one author, or after compaction the
    changes of the versions merged into it.

    Attributes:
        version: Its stable id (a decimal number as a string; ``int(version)`` orders
            versions).
        time: When its last change was made (UTC).
        who: The names of its authors.
        keys: The keys it changed, sorted.
    """

    version: str
    time: dt.datetime
    who: tuple[str, ...]
    keys: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        """``{"version", "time" (ISO 8601, UTC, "Z"), "who": [...], "keys": [...]}``."""
        return {
            "version": self.version,
            "time": iso(self.time),
            "who": list(self.who),
            "keys": list(self.keys),
        }


def iso(when: dt.datetime) -> str:
    """A UTC time as ISO 8601 with milliseconds and ``Z``."""
    return when.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_time(text: str) -> dt.datetime | None:
    """An ISO 8601 time (``Z`` accepted; naive is UTC), or None if ``text`` is not one."""
    try:
        when = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo is not None else when.replace(tzinfo=dt.UTC)


def _version(meta: Meta) -> Version:
    return Version(
        version=str(meta["version"]),
        time=dt.datetime.fromtimestamp(float(meta["t1"]), dt.UTC),
        who=tuple(map(str, meta["who"])),
        keys=tuple(sorted(map(str, meta["keys"]))),
    )


class RoomHistory:
    """The history of one loaded room.

    Args:
        room: The live room.
        history: The store's history storage.
        recorder: The room's recorder (its waiting records are written before reading).
        retention: What `compact` keeps.
    """

    def __init__(
        self,
        room: Room,
        history: HistoryLog,
        recorder: Recorder,
        retention: Retention = DEFAULT_RETENTION,
    ) -> None:
        self.room = room
        self.log = history
        self.recorder = recorder
        self.retention = retention

    def __repr__(self) -> str:
        return f"RoomHistory({self.room.name!r})"

    def versions(self, limit: int | None = None) -> list[Version]:
        """Every version kept, oldest first (reads metadata only, never an update).

        Args:
            limit: Only the newest ``limit`` versions (a panel showing the latest).
        """
        self.recorder.flush()
        return [_version(m) for m in self.log.versions(self.room.name, limit)]

    def find(self, at: At) -> Meta | None:
        """The version ``at`` names: by id, or the last one made at or before a time (None:
        a time before any version, when the room was empty).

        Raises:
            UnknownVersion: If ``at`` is neither a version id of this room nor a time.
        """
        self.recorder.flush()
        name = self.room.name
        if isinstance(at, str):
            if at.strip().isdigit():
                meta = self.log.version(name, at.strip())
                if meta is None:
                    raise UnknownVersion(name, at)
                return meta
            when = parse_time(at)
            if when is None:
                raise UnknownVersion(name, at)
        elif isinstance(at, dt.datetime):
            when = at if at.tzinfo is not None else at.replace(tzinfo=dt.UTC)
        else:
            raise TypeError(f"a version id, ISO time or datetime, got {type(at).__name__}")
        # Looked up, not listed: showing one version costs the same in a long history.
        return self.log.version_at(name, when.timestamp())

    def room_at(self, at: At) -> Room:
        """A scratch room holding the state at ``at`` (for previews; changing it changes
        nothing stored).

        Raises:
            UnknownVersion: If ``at`` is not a version id of this room, nor a time.
        """
        meta = self.find(at)
        scratch = Room(self.room.name)
        if meta is None:
            return scratch
        name, upto = self.room.name, int(meta["last"])
        base = self.log.base_before(name, upto)
        updates: list[tuple[Any, bytes]] = []
        after = 0
        if base is not None:
            after = base[0]
            updates.append((f"base {after}", base[1]))
        updates += [(f"record {seq}", u) for seq, _v, u in self.log.records(name, after, upto)]
        for label, reason in scratch.load_updates(iter(updates)):
            log.warning("room %r: history %s cannot be applied, skipped: %s", name, label, reason)
        return scratch

    def state_at(self, at: At) -> dict[str, Any]:
        """The room's contents at ``at``, as `inspection.room_contents` gives them
        (``{key: {"kind": ..., "value": ...}}``).

        Raises:
            UnknownVersion: If ``at`` is not a version id of this room, nor a time.
        """
        return room_contents(self.room_at(at))

    def restore(
        self,
        at: At,
        *,
        keys: Iterable[str] | None = None,
        origin: Origin = DEFAULT_RESTORE_ORIGIN,
    ) -> list[str]:
        """Write the state at ``at`` forward into the live room, as one change by ``origin``.

        Everyone sees it, it merges with edits made meanwhile, ``room.undo_manager(origin)``
        can undo it, and it shows in history as a new version; stored history is never
        rewritten. See `restore` for how each kind is written.

        Args:
            at: A version id, an ISO time or a datetime.
            keys: Only these keys (a listed key that did not exist then is removed); None:
                the whole room (keys that did not exist then are removed).
            origin: Who restores (history names them through `authors`).

        Returns:
            The keys that changed, sorted.

        Raises:
            UnknownVersion: If ``at`` is not a version id of this room, nor a time.
        """
        old = self.room_at(at)
        self.recorder.split()
        try:
            chosen = None if keys is None else list(keys)
            return write_back(self.room, old, keys=chosen, origin=origin)
        finally:
            self.recorder.split()  # the restorer's next edit is a version of its own

    def compact(
        self, retention: Retention | None = None, now: float | None = None
    ) -> tuple[int, int]:
        """Apply the retention (default: the store's) now; returns (versions before, after)."""
        self.recorder.flush()
        return compact_history(self.log, self.room.name, retention or self.retention, now)


def attach(room: Room, history: HistoryLog, retention: Retention, **options: Any) -> None:
    """Give a room loaded by a store its history: a `Recorder` as its record hook (with
    ``options``: ``skip_origins``, ``ready``) and ``room.history``.

    Args:
        room: The room, just loaded.
        history: The store's history storage.
        retention: What the store's history keeps.
    """
    recorder = Recorder(history, room, **options)
    recorder.start()
    room.add_record_hook(recorder)
    room.history = RoomHistory(room, history, recorder, retention)
