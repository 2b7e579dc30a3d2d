"""Following a room for a page's history panels: someone else's change reruns them.

A panel shows the room's newest versions, so any change by someone else must rerun it,
and only it (it runs in a fragment of its own). Not through the registry's read tracking:
a key's change is marked once per session, and another part of the same page that reads
that key (a whiteboard in its own fragment) can clear the mark before the panel's rerun is
pushed, so the panel would miss it.

A session's own changes push nothing: the run that makes them shows them (a restore from
the panel reruns the whole page), and a rerun pushed meanwhile could cut into the next
request its page sends. Neither do changes made inside ``no_rerun()``. A panel that the
session's last whole run did not show (another page of a multipage app, a collapsed
branch) is no longer rerun until it is shown again.

```py
follow(session, room, runtime.fragment_id())   # in the panel's fragment, every run
```
"""

from __future__ import annotations

import threading

from ..bridge import runtime
from ..bridge.watch import QuietOrigin
from ..doc import Room, RoomEvent


class Follower:
    """One session's panels of one room: the fragments to rerun and the run that showed
    each last.

    Args:
        session: The Streamlit session id.
        room: The room its panels show.
    """

    def __init__(self, session: str, room: Room) -> None:
        self.session = session
        self.fragments: dict[str | None, int | None] = {}  # fragment -> run that showed it
        self._lock = threading.Lock()
        self.unobserve = room.observe(self._on_event)

    def shown(self, fragment: str | None, run: int | None) -> None:
        """A panel in ``fragment`` was shown in ``run``."""
        with self._lock:
            self.fragments[fragment] = run

    def run_ended(self, run: int) -> None:
        """The session's whole run ``run`` ended: panels it did not show are off the page."""
        with self._lock:
            for fragment in [f for f, r in self.fragments.items() if r != run]:
                del self.fragments[fragment]

    def _on_event(self, event: RoomEvent) -> None:
        if isinstance(event.origin, QuietOrigin) or event.origin == self.session:
            return
        with self._lock:
            fragments = set(self.fragments)
        if fragments:
            runtime.scheduler.push(self.session, fragments, always)


_lock = threading.Lock()
_followers: dict[tuple[str, int], Follower] = {}  # (session, id(room)) -> its follower


def follow(session: str, room: Room, fragment: str | None) -> None:
    """Rerun ``fragment`` of ``session`` when someone else changes ``room``; call it in
    every run of the panel.

    Args:
        session: The Streamlit session id.
        room: The room the panel shows (the registry's open room).
        fragment: The panel's fragment id (None: the whole page).
    """
    with _lock:
        follower = _followers.get((session, id(room)))
        new = follower is None
        if follower is None:
            follower = _followers[(session, id(room))] = Follower(session, room)
    follower.shown(fragment, runtime.run_number())
    if new:
        runtime.on_session_end(session, unfollow)
        runtime.on_full_run_end(_run_ended)


def unfollow(session: str) -> None:
    """Stop following for a session (it ended).

    Args:
        session: The Streamlit session id.
    """
    with _lock:
        gone = [key for key in _followers if key[0] == session]
        followers = [_followers.pop(key) for key in gone]
    for follower in followers:
        follower.unobserve()


def _run_ended(session: str, run: int) -> None:
    with _lock:
        followers = [f for (s, _room), f in _followers.items() if s == session]
    for follower in followers:
        follower.run_ended(run)


def always() -> bool:
    """A push that is always still needed."""
    return True
