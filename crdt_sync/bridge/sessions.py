"""Who is in which room, in this process: bindings, presence, pushes, and session ends.

Each (session, room) pair has one `SessionBinding`. Every open room has one observer that
marks the change on every binding of the room and pushes a rerun to each session except
the one that made it. A session that closes its tab leaves every room at once (its
session-scoped resource is released), so it receives nothing and leaves nothing behind.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from ..doc import RoomEvent
from . import config, runtime
from .binding import SessionBinding

log = logging.getLogger("crdt_sync.sessions")


@dataclass
class Member:
    """One session present in a room.

    Attributes:
        session: The Streamlit session id.
        short_id: A stable short id to show to people.
        name: A display name set with `set_name`, or None.
        joined: When the session entered the room (epoch seconds).
    """

    session: str
    short_id: str
    name: str | None = None
    joined: float = field(default_factory=time.time)

    @property
    def label(self) -> str:
        """The name, or the short id."""
        return self.name or f"guest-{self.short_id}"


class Registry:
    """The process-wide table of bindings and members."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._bindings: dict[tuple[str, str], SessionBinding] = {}
        self._members: dict[str, dict[str, Member]] = {}
        self._unobserve: dict[str, Callable[[], None]] = {}
        self._names: dict[str, str] = {}
        self._current: dict[str, str] = {}

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
            self._bindings[(session, room_name)] = binding
            self._current[session] = room_name
            if room_name not in self._unobserve:
                self._unobserve[room_name] = room.observe(self._on_room_event)
            members = self._members.setdefault(room_name, {})
            members[session] = Member(session, session[:6], self._names.get(session))
            others = [s for s in members if s != session]
        runtime.on_session_end(session, self.leave_all)
        for other in others:  # their presence lists show the newcomer
            runtime.scheduler.push(other, self._fragments(other, room_name))
        return binding

    def binding(self, session: str, room_name: str) -> SessionBinding | None:
        """The binding if it exists."""
        with self._lock:
            return self._bindings.get((session, room_name))

    def current_room(self, session: str) -> str | None:
        """The room this session entered most recently."""
        with self._lock:
            return self._current.get(session)

    def members(self, room_name: str) -> list[Member]:
        """Sessions in the room, earliest first."""
        with self._lock:
            members = list(self._members.get(room_name, {}).values())
        return sorted(members, key=lambda m: m.joined)

    def set_name(self, session: str, name: str | None) -> None:
        """Give a session a display name in every room it is in."""
        with self._lock:
            if name:
                self._names[session] = name
            else:
                self._names.pop(session, None)
            rooms = [r for (s, r) in self._bindings if s == session]
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
            keys = [k for k in self._bindings if k[0] == session]
            rooms = [room for _s, room in keys]
            for key in keys:
                binding = self._bindings.pop(key)
                binding.room.drop_undo_manager(session)
            for room_name in rooms:
                self._members.get(room_name, {}).pop(session, None)
                if not self._members.get(room_name):
                    self._members.pop(room_name, None)
                    unobserve = self._unobserve.pop(room_name, None)
                    if unobserve is not None:
                        unobserve()
            self._names.pop(session, None)
            self._current.pop(session, None)
        runtime.scheduler.forget(session)
        for room_name in rooms:
            config.hub().release(room_name)
            self._push_room(room_name, exclude=session)

    def counts(self) -> dict[str, int]:
        """Bookkeeping sizes, for tests that check nothing is left behind."""
        with self._lock:
            return {
                "bindings": len(self._bindings),
                "rooms": len(self._members),
                "observers": len(self._unobserve),
                "names": len(self._names),
            }

    def _fragments(self, session: str, room_name: str) -> set[str | None]:
        binding = self._bindings.get((session, room_name))
        return set(binding.fragments) if binding and binding.fragments else {None}

    def _push_room(self, room_name: str, *, exclude: str | None) -> None:
        with self._lock:
            sessions = [s for s in self._members.get(room_name, {}) if s != exclude]
            targets = [(s, self._fragments(s, room_name)) for s in sessions]
        for session, fragments in targets:
            runtime.scheduler.push(session, fragments)

    def _on_room_event(self, event: RoomEvent) -> None:
        with self._lock:
            bindings = [b for (s, r), b in self._bindings.items() if r == event.room]
        for binding in bindings:
            binding.mark_dirty(event.keys)
            if binding.session == event.origin:
                continue  # it already shows its own change
            runtime.scheduler.push(
                binding.session, set(binding.fragments) or {None}, binding.has_dirty
            )


registry = Registry()
