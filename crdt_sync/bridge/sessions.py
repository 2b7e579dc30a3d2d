"""Who is in which room, in this process: bindings, watches, presence, pushes, session ends.

Each (session, room) pair has at most one `SessionBinding` (widgets of a ``sync`` block)
and one `Watch` (keys read through ``shared_state``). Every open room has one observer that
marks the change on every binding and watch of the room and pushes a rerun to each session
that must show it: binding sessions except the one that made the change, and watch
sessions that read a changed key. A change whose origin is a `QuietOrigin` (made inside
``no_rerun()``) is marked but pushes nothing. A session that closes its tab leaves every
room at once (its session-scoped resource is released), so it receives nothing and leaves
nothing behind.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from functools import partial

from ..doc import Room, RoomEvent
from . import authorship, config, remote_presence, runtime
from .binding import SessionBinding
from .members import Member, MemberKind, PresenceReaders
from .sites import BlockSites, Move
from .watch import Fragments, QuietOrigin, Watch

log = logging.getLogger("crdt_sync.sessions")


class Registry:
    """The process-wide table of bindings and members."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._bindings: dict[tuple[str, str], SessionBinding] = {}
        self._watches: dict[tuple[str, str], Watch] = {}
        self._members: dict[str, dict[str, Member]] = {}
        self._unobserve: dict[str, Callable[[], None]] = {}
        self._names: dict[str, str] = {}
        self._current: dict[str, str] = {}
        self._external: dict[str, dict[str, Member]] = {}  # room -> key -> non-session member
        self._claims: dict[str, set[str]] = {}  # room -> key prefixes owned by components
        self._presence = PresenceReaders()  # pages that show who is in a room
        self.sites = BlockSites()

    def enter_site(self, session: str, site: str, room_name: str, run: int | None) -> Move | None:
        """A ``sync`` block at ``site`` is entered for ``room_name`` (see `BlockSites`).

        When the block moved from another room, the session leaves that room now (unless
        another of its blocks still uses it) and the move is returned, so the old room's
        values can leave the page before the new room's are shown.
        """
        move = self.sites.enter(session, site, room_name, run)
        if move is not None and not self.sites.uses(session, move.old_room):
            self.leave(session, move.old_room)
        return move

    def bind(self, session: str, room_name: str, *, private_by_default: bool) -> SessionBinding:
        """The binding of ``session`` to ``room_name``, created (and the room opened) once."""
        with self._lock:
            binding = self._bindings.get((session, room_name))
            if binding is not None:
                binding.private_by_default = private_by_default
                self._current[session] = room_name
                return binding
            room = config.hub().open(room_name)
            binding = SessionBinding(session, room, private_by_default=private_by_default)
            binding.claimed = self._claims.setdefault(room_name, set())  # shared, live
            self._bindings[(session, room_name)] = binding
            self._current[session] = room_name
            others = self._join(session, room_name, room)
        runtime.on_session_end(session, self.leave_all)
        authorship.note_login(session)  # history names its changes after the login, if any
        if others:  # their presence lists show the newcomer
            self._push_room(room_name, exclude=session)
        return binding

    def watch(
        self,
        session: str,
        room_name: str,
        keys: Iterable[str] = (),
        *,
        everything: bool = False,
        fragment: str | None = None,
    ) -> Room:
        """Record that ``session`` read ``keys`` of a room (all keys if ``everything``).

        The first call for a (session, room) pair opens the room and makes the session a
        member of it (presence); later calls only record the reads. From then on, a change
        to a key the session read reruns it (see `Watch`).

        Args:
            session: The Streamlit session id; call this during its script run.
            room_name: The room.
            keys: The keys read now.
            everything: Every key was read (iteration, ``len``).
            fragment: The fragment that read them (None: the app).

        Returns:
            The room.
        """
        others: list[str] | None = None
        with self._lock:
            watch = self._watches.get((session, room_name))
            if watch is None:
                room = config.hub().open(room_name)
                watch = Watch(session, room)
                self._watches[(session, room_name)] = watch
                self._current[session] = room_name
                others = self._join(session, room_name, room)
        watch.read(keys, everything=everything, fragment=fragment, run=runtime.run_number())
        if others is not None:
            runtime.on_session_end(session, self.leave_all)
            authorship.note_login(session)
            if others:  # their presence lists show the newcomer
                self._push_room(room_name, exclude=session)
        return watch.room

    def claim(self, room_name: str, prefix: str) -> None:
        """Hand the keys of a room that start with ``prefix`` to a component (a whiteboard).

        The component shows them itself and reruns through its `watch`; a change to them
        no longer marks or reruns ``sync`` blocks of the room, so a stroke on a board in a
        fragment reruns only that fragment in the other sessions, not their whole page.

        Args:
            room_name: The room.
            prefix: The key prefix, e.g. ``"wb:board:"``.
        """
        with self._lock:
            self._claims.setdefault(room_name, set()).add(prefix)

    def watched(self, session: str, room_name: str) -> Watch | None:
        """The session's `Watch` of a room, if it read anything there."""
        with self._lock:
            return self._watches.get((session, room_name))

    def force_rerun(
        self, room_name: str, key: str | None = None, *, exclude: str | None = None
    ) -> list[str]:
        """Rerun the sessions that read ``key`` of a room (every member if None).

        Args:
            room_name: The room.
            key: The key whose readers rerun; None for every session in the room.
            exclude: A session not to rerun (the caller's own).

        Returns:
            The sessions asked to rerun.
        """
        with self._lock:
            targets: dict[str, Fragments] = {}
            for (session, room), watch in self._watches.items():
                if room == room_name and session != exclude:
                    fragments = watch.readers(key)
                    if fragments:
                        targets[session] = fragments
            if key is None:
                for session in self._members.get(room_name, {}):
                    if session != exclude:
                        targets.setdefault(session, set()).update(
                            self._fragments(session, room_name)
                        )
        for session, fragments in targets.items():
            runtime.scheduler.push(session, fragments, _always)
        return sorted(targets)

    def needs_rerun(self, session: str) -> bool:
        """Whether a session has room changes its page would show and does not yet
        (bindings its last whole run entered, keys it read)."""
        with self._lock:
            bindings = [b for (s, _r), b in self._bindings.items() if s == session]
            watches = [w for (s, _r), w in self._watches.items() if s == session]
        return any(b.on_page and b.has_dirty() for b in bindings) or any(
            w.has_dirty() for w in watches
        )

    def _run_ended(self, session: str, run: int) -> None:
        """A whole run of ``session`` ended: what it did not show is off its page."""
        with self._lock:
            bindings = [b for (s, _r), b in self._bindings.items() if s == session]
            watches = [w for (s, _r), w in self._watches.items() if s == session]
        for binding in bindings:
            binding.on_page = binding.entered_run == run
        for watch in watches:
            watch.run_ended(run)
        self._presence.run_ended(session, run)

    def _join(self, session: str, room_name: str, room: Room) -> list[str]:
        """Make ``session`` a member of the room (locked); returns the other members."""
        runtime.install_patches()
        runtime.on_full_run_end(self._run_ended)
        if room_name not in self._unobserve:
            self._unobserve[room_name] = room.observe(self._on_room_event)
        members = self._members.setdefault(room_name, {})
        if session not in members:
            members[session] = Member(session, session[:6], self._names.get(session))
            remote_presence.start_for(config.hub(), self)
        return [s for s in members if s != session]

    def binding(self, session: str, room_name: str) -> SessionBinding | None:
        """The binding if it exists."""
        with self._lock:
            return self._bindings.get((session, room_name))

    def current_room(self, session: str) -> str | None:
        """The room this session entered most recently."""
        with self._lock:
            return self._current.get(session)

    def rooms(self) -> list[str]:
        """Rooms that have Streamlit sessions of this process in them."""
        with self._lock:
            return list(self._members)

    def members(self, room_name: str) -> list[Member]:
        """Sessions (and external members, e.g. Yjs clients) in the room, earliest first.

        Called in the run of a session, it records that the page shows who is here: that
        page (fragment) reruns when someone enters or leaves, and only such pages do (until
        a whole run of the session no longer asks).
        """
        session = runtime.session_id()
        with self._lock:
            here = self._members.get(room_name, {})
            if session is not None:  # also before it joins (a presence bar above `sync`)
                run, fragment = runtime.run_number(), runtime.fragment_id()
                self._presence.read(room_name, session, fragment, run)
            members = list(here.values())
            members += self._external.get(room_name, {}).values()
        return sorted(members, key=lambda m: m.joined)

    def set_external(
        self, room_name: str, key: str, name: str | None, *, kind: MemberKind = "yjs"
    ) -> None:
        """Show a member that is not a Streamlit session of this process in a room.

        Called again, it updates the name. The room's sessions rerun to show it.

        Args:
            room_name: The room.
            key: The member's id, unique in the room.
            name: Its display name, or None.
            kind: A Yjs websocket client, or someone on another server process.
        """
        with self._lock:
            members = self._external.setdefault(room_name, {})
            member = members.get(key)
            if member is not None and member.name == name:
                return
            if member is None:
                members[key] = Member(key, key.rpartition(":")[2][:6], name, kind=kind)
            else:
                member.name = name
        self._push_room(room_name, exclude=None)

    def remove_external(self, room_name: str, key: str) -> None:
        """Take a member added with `set_external` out of the room."""
        with self._lock:
            members = self._external.get(room_name, {})
            if members.pop(key, None) is None:
                return
            if not members:
                self._external.pop(room_name, None)
        self._push_room(room_name, exclude=None)

    def set_name(self, session: str, name: str | None) -> None:
        """Give a session a display name in every room it is in."""
        with self._lock:
            if name:
                self._names[session] = name
            else:
                self._names.pop(session, None)
            rooms = [r for r, members in self._members.items() if session in members]
            changed = []
            for room_name in rooms:
                member = self._members.get(room_name, {}).get(session)
                if member is not None and member.name != name:
                    member.name = name or None
                    changed.append(room_name)
        for room_name in changed:
            self._push_room(room_name, exclude=session)

    def leave_all(self, session: str) -> None:
        """Take a session out of every room (its tab closed)."""
        with self._lock:
            rooms = {r for s, r in [*self._bindings, *self._watches] if s == session}
        self._leave(session, rooms)
        self._presence.forget_session(session)
        with self._lock:
            self._names.pop(session, None)
            self._current.pop(session, None)
        self.sites.forget(session)
        runtime.scheduler.forget(session)

    def leave(self, session: str, room_name: str) -> None:
        """Take a session out of one room (it stops using it; its other rooms stay)."""
        self._leave(session, {room_name})
        with self._lock:
            if self._current.get(session) == room_name:
                self._current.pop(session, None)

    def _leave(self, session: str, rooms: set[str]) -> None:
        releases: list[str] = []
        with self._lock:
            for room_name in rooms:
                binding = self._bindings.pop((session, room_name), None)
                if binding is not None:
                    binding.room.drop_undo_manager(session)
                    releases.append(room_name)
                if self._watches.pop((session, room_name), None) is not None:
                    releases.append(room_name)
                self._members.get(room_name, {}).pop(session, None)
                self._presence.forget(room_name, session)
                if not self._members.get(room_name):
                    self._members.pop(room_name, None)
                    unobserve = self._unobserve.pop(room_name, None)
                    if unobserve is not None:
                        unobserve()
        for room_name in releases:
            config.hub().release(room_name)
        for room_name in rooms:
            self._push_room(room_name, exclude=session)

    def counts(self) -> dict[str, int]:
        """Bookkeeping sizes, for tests that check nothing is left behind."""
        with self._lock:
            return {
                "bindings": len(self._bindings),
                "watches": len(self._watches),
                "rooms": len(self._members),
                "observers": len(self._unobserve),
                "names": len(self._names),
            }

    def _fragments(self, session: str, room_name: str) -> set[str | None]:
        binding = self._bindings.get((session, room_name))
        return set(binding.fragments) if binding and binding.fragments else {None}

    def _push_room(self, room_name: str, *, exclude: str | None) -> None:
        """Who is in the room changed: rerun the pages that show it."""
        for session, fragments in self._presence.targets(room_name, exclude=exclude).items():
            runtime.scheduler.push(session, fragments, _always)

    def _on_room_event(self, event: RoomEvent) -> None:
        quiet = isinstance(event.origin, QuietOrigin)
        origin = event.origin.session if isinstance(event.origin, QuietOrigin) else event.origin
        with self._lock:
            bindings = [b for (s, r), b in self._bindings.items() if r == event.room]
            watches = [w for (s, r), w in self._watches.items() if r == event.room]
            claimed = tuple(self._claims.get(event.room, ()))
        targets: dict[str, Fragments] = {}
        binding_keys = {k for k in event.keys if not k.startswith(claimed)}
        for binding in bindings if binding_keys else ():
            binding.mark_dirty(binding_keys)  # pulled when a run enters it again
            if binding.on_page and binding.session != origin:  # else nothing to show
                targets.setdefault(binding.session, set()).update(binding.fragments or {None})
        for watch in watches:
            # Not skipped for the origin: a value it showed before changing it is stale.
            fragments = watch.touch(event.keys)
            if fragments:
                targets.setdefault(watch.session, set()).update(fragments)
        if quiet:
            return
        for session, fragments in targets.items():
            runtime.scheduler.push(session, fragments, partial(self.needs_rerun, session))


def _always() -> bool:
    return True


registry = Registry()
