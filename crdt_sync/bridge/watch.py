"""Watch: the keys of one room that one session has read, and which of them changed since.

`crdt_sync.shared_state` records every read here. A change to a key a session has read
marks it *dirty* for that session (its own changes too: a value shown before the session
changed it is out of date on its page); reading the key again clears the mark. A session
is rerun while one of its marks is left when its run ends, and only then.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import NamedTuple

from ..doc import Room

Fragments = set[str | None]
"""Fragment ids to rerun; ``None`` stands for the whole app."""


class QuietOrigin(NamedTuple):
    """The origin of a change made inside ``crdt_sync.no_rerun()``: nobody is rerun for it.

    Attributes:
        session: The session that made the change (None outside a Streamlit run).
    """

    session: str | None

    @property
    def author(self) -> str | None:
        """Who the change is by, for history (`crdt_sync.doc.authors`): the session."""
        return self.session


class Watch:
    """What one session read in one room, and in which fragments.

    Thread-safe: the session's script thread records reads, the thread that changed the
    room marks keys dirty, Streamlit's event loop asks whether a rerun is still needed.

    Args:
        session: The Streamlit session id.
        room: The room.
    """

    def __init__(self, session: str, room: Room) -> None:
        self.session = session
        self.room = room
        self._lock = threading.Lock()
        self._keys: dict[str, Fragments] = {}  # key -> fragments that read it
        self._everything: Fragments = set()  # fragments that read every key (iteration)
        self._read_in: dict[str, int | None] = {}  # key -> run that last read it
        self._everything_run: int | None = None
        self._dirty: set[str] = set()

    def read(
        self,
        keys: Iterable[str] = (),
        *,
        everything: bool = False,
        fragment: str | None = None,
        run: int | None = None,
    ) -> None:
        """Record that ``keys`` (or all keys) were read now, in ``fragment``, in ``run``."""
        with self._lock:
            if everything:
                self._everything.add(fragment)
                self._everything_run = run
                self._dirty.clear()
            for key in keys:
                self._keys.setdefault(key, set()).add(fragment)
                self._read_in[key] = run
                self._dirty.discard(key)

    def run_ended(self, run: int) -> None:
        """The session's whole run ``run`` ended: keys it did not read are off its page.

        A key read in an earlier run only (on another page of a multipage app, in a
        branch not taken this time) no longer reruns the session; the next read records
        it again.
        """
        with self._lock:
            for key in [k for k, r in self._read_in.items() if r is not None and r != run]:
                del self._read_in[key]
                self._keys.pop(key, None)
                self._dirty.discard(key)
            if self._everything_run is not None and self._everything_run != run:
                self._everything.clear()
                self._everything_run = None

    def touch(self, keys: Iterable[str]) -> Fragments:
        """Mark the read keys among ``keys`` dirty.

        Returns:
            The fragments to rerun for them; empty if this session read none of them.
        """
        fragments: Fragments = set()
        with self._lock:
            for key in keys:
                readers = self._keys.get(key)
                if readers is None and not self._everything:
                    continue
                self._dirty.add(key)
                fragments |= readers or set()
                fragments |= self._everything
        return fragments

    def has_dirty(self) -> bool:
        """Whether a key this session read changed after the session last read it."""
        with self._lock:
            return bool(self._dirty)

    def keys(self) -> set[str]:
        """The keys read so far."""
        with self._lock:
            return set(self._keys)

    def readers(self, key: str | None) -> Fragments:
        """The fragments that read ``key`` (every fragment that read anything for None)."""
        with self._lock:
            if key is None:
                found: Fragments = set(self._everything)
                for fragments in self._keys.values():
                    found |= fragments
                return found
            return set(self._keys.get(key, set())) | self._everything
