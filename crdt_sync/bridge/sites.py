"""BlockSites: which room each ``sync`` block of a session was bound to, run by run.

A block is the ``with crdt_sync.sync(room):`` statement (its file and line). When the room
a block gets changes between runs (picked in a selectbox, or a compat ``enter_room``), the
session leaves the old room and the old room's values leave the page before the new
room's are shown: values never cross rooms. A block entered for several rooms in one run
(a loop) is left alone.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any


@dataclass
class _Site:
    rooms: set[str]  # rooms the block was bound to in run `run`
    run: int | None
    previous: set[str] = field(default_factory=set)  # ... in the run before
    keys: dict[str, set[str]] = field(default_factory=dict)  # room -> keys shown from it


@dataclass(frozen=True)
class Move:
    """A block that moved from one room to another.

    Attributes:
        old_room: The room the block was bound to.
        keys: The keys the page showed from it.
    """

    old_room: str
    keys: frozenset[str]


class BlockSites:
    """The rooms of every block of every session (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sites: dict[tuple[str, str], _Site] = {}
        self._left: dict[str, dict[str, Any]] = {}  # session -> widget key -> its default

    def note_left(self, session: str, defaults: dict[str, Any]) -> None:
        """The keys a moved block left behind, with their widgets' defaults (until
        `take_left` in the run that starts over)."""
        with self._lock:
            self._left[session] = defaults

    def take_left(self, session: str) -> dict[str, Any]:
        """What `note_left` recorded for ``session`` (once)."""
        with self._lock:
            return self._left.pop(session, {})

    def enter(self, session: str, site: str, room: str, run: int | None) -> Move | None:
        """Record that ``site`` is entered for ``room`` in run ``run`` of ``session``.

        Returns:
            The move, if the block was bound to exactly one other room in its last run.
        """
        with self._lock:
            record = self._sites.get((session, site))
            if record is None:
                self._sites[(session, site)] = _Site({room}, run)
                return None
            if run is None or record.run != run:
                record.previous, record.rooms, record.run = record.rooms, {room}, run
                if room not in record.previous and len(record.previous) == 1:
                    (old,) = record.previous
                    return Move(old, frozenset(record.keys.pop(old, set())))
                return None
            record.rooms.add(room)
            return None

    def note_keys(self, session: str, site: str, room: str, keys: set[str]) -> None:
        """The keys the block showed from ``room`` in this run."""
        with self._lock:
            record = self._sites.get((session, site))
            if record is not None:
                record.keys[room] = set(keys)

    def uses(self, session: str, room: str) -> bool:
        """Whether a block of ``session`` was bound to ``room`` in its latest run."""
        with self._lock:
            return any(s == session and room in r.rooms for (s, _), r in self._sites.items())

    def forget(self, session: str) -> None:
        """Drop what is known of a session that ended."""
        with self._lock:
            for key in [k for k in self._sites if k[0] == session]:
                del self._sites[key]
            self._left.pop(session, None)

    def __len__(self) -> int:
        with self._lock:
            return len(self._sites)
