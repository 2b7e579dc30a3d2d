"""Who is in a room: a `Member`, and `PresenceReaders`, the pages that show members.

A page asks who is here through `Registry.members` (the presence bar, the whiteboard's
people, a compat API). Someone entering or leaving a room reruns those pages (the
fragments that asked), and no other: a room of 100 people filling up costs a rerun per
page that shows its members, not one per person already in it. What counts is the last
whole run of the session: a page that stopped asking stops being rerun.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Literal

Fragments = set[str | None]

MemberKind = Literal["session", "yjs", "remote"]
"""A Streamlit session of this process, a Yjs client on the websocket, or someone on
another server process of the same store."""


@dataclass
class Member:
    """One session present in a room.

    Attributes:
        session: The Streamlit session id.
        short_id: A stable short id to show to people.
        name: A display name set with `set_name`, or None.
        joined: When the session entered the room (epoch seconds).
        kind: What the member is (see `MemberKind`).
    """

    session: str
    short_id: str
    name: str | None = None
    joined: float = field(default_factory=time.time)
    kind: MemberKind = "session"

    @property
    def label(self) -> str:
        """The name, or the short id."""
        return self.name or f"guest-{self.short_id}"


class PresenceReaders:
    """Per room, the sessions whose page shows its members, and in which fragments.

    Thread-safe: script threads record reads, other threads ask whom to rerun.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        # room -> session -> fragment -> the run that read the members there
        self._readers: dict[str, dict[str, dict[str | None, int | None]]] = {}

    def read(self, room: str, session: str, fragment: str | None, run: int | None) -> None:
        """``session``'s run ``run`` showed the room's members in ``fragment``."""
        with self._lock:
            self._readers.setdefault(room, {}).setdefault(session, {})[fragment] = run

    def targets(self, room: str, *, exclude: str | None) -> dict[str, Fragments]:
        """The pages to rerun because the room's members changed (not ``exclude``'s)."""
        with self._lock:
            readers = self._readers.get(room, {})
            return {s: set(f) for s, f in readers.items() if s != exclude}

    def run_ended(self, session: str, run: int) -> None:
        """A whole run of ``session`` ended: what it did not read in it is dropped (a whole
        run runs every fragment on the page, so a fragment still there read again)."""
        with self._lock:
            for room in list(self._readers):
                fragments = self._readers[room].get(session, {})
                for fragment in [f for f, r in fragments.items() if r is not None and r != run]:
                    del fragments[fragment]
                if not fragments:
                    self._forget(room, session)

    def forget(self, room: str, session: str) -> None:
        """``session`` left ``room``."""
        with self._lock:
            self._forget(room, session)

    def _forget(self, room: str, session: str) -> None:
        readers = self._readers.get(room)
        if readers is not None:
            readers.pop(session, None)
            if not readers:
                del self._readers[room]

    def forget_session(self, session: str) -> None:
        """``session`` ended: forget what its page showed, in every room."""
        with self._lock:
            for room in list(self._readers):
                self._forget(room, session)
