"""Ready-made controls: pick a room, see who is here, undo your own changes."""

from __future__ import annotations

import html

import streamlit as st

from ..doc import validate_room_name
from . import authorship, config, runtime
from .members import Member
from .sessions import registry

_NEW = "+ New room…"
_NONE = "— no room —"


def _session() -> str:
    session = runtime.session_id()
    if session is None:
        raise RuntimeError("crdt_sync widgets only work inside a running Streamlit app")
    return session


def _room(room: str | None) -> str | None:
    return room or registry.current_room(_session())


def room_selector(
    label: str = "Room", *, default: str | None = None, key: str = "crdt_sync_room"
) -> str | None:
    """A sidebar control to pick an existing room, create one, or leave.

    Rooms are the store's rooms, so they survive server restarts.

    Args:
        label: The selectbox label.
        default: Room selected the first time (created if missing).
        key: Widget key prefix (change it to use two selectors in one app).

    Returns:
        The chosen room's name, or None when no room is chosen.
    """
    hub = config.hub()
    created = st.session_state.get(f"{key}__created", [])
    pending = st.session_state.pop(f"{key}__pending", None)
    if pending:
        # Select the room created in the previous run, before the selectbox exists.
        st.session_state[key] = pending
    elif key not in st.session_state and default:
        st.session_state[key] = default
    rooms = sorted(set(hub.rooms()) | set(created) | ({default} if default else set()))
    options = [_NONE, *rooms, _NEW]
    with st.sidebar:
        choice = st.selectbox(label, options, key=key)
        previous = st.session_state.get(f"{key}__previous")
        if previous and previous != choice and choice != _NEW:
            # Leaving a room: out of its presence list now, not when the tab closes.
            registry.leave(_session(), previous)
        if choice != _NEW:
            st.session_state[f"{key}__previous"] = None if choice == _NONE else choice
            return None if choice in (_NONE, None) else str(choice)
        with st.form(f"{key}__form", clear_on_submit=True, border=False):
            name = st.text_input("New room name", key=f"{key}__name")
            if st.form_submit_button("Create"):
                try:
                    validate_room_name(name.strip())
                except ValueError as exc:
                    st.error(str(exc))
                else:
                    st.session_state[f"{key}__created"] = [*created, name.strip()]
                    st.session_state[f"{key}__pending"] = name.strip()
                    st.rerun()
    return None


def set_name(name: str | None) -> None:
    """Show this session as ``name`` in presence lists and in the rooms' history.

    Changes this session makes from now on are recorded under ``name`` (see
    `crdt_sync.history_panel`). None (or ``""``) goes back to a guest id in presence and,
    for history, to the logged-in person's email or name when the app has login.

    Args:
        name: The display name, or None.
    """
    session = _session()
    registry.set_name(session, name)
    authorship.name_session(session, name)


def presence(room: str | None = None) -> list[Member]:
    """The sessions currently in a room (default: the room this session synced last).

    Returns:
        Members, earliest first; each has ``short_id``, ``name``, ``label`` and ``joined``.
    """
    name = _room(room)
    return [] if name is None else registry.members(name)


def presence_bar(room: str | None = None) -> None:
    """A one-line list of who is in the room, you first."""
    me = _session()
    members = presence(room)
    chips = []
    for member in sorted(members, key=lambda m: m.session != me):
        you = " (you)" if member.session == me else ""
        chips.append(
            '<span style="display:inline-block;padding:2px 10px;margin:2px;'
            'border-radius:12px;background:#e8f0fe;color:#1a3d7c;font-size:0.85em">'
            f"● {html.escape(member.label)}{you}</span>"
        )
    count = len(members)
    st.html(f'<div data-testid="crdt-presence">{count} here: {"".join(chips)}</div>')


def _undo(room: str, session: str, redo: bool) -> None:
    binding = registry.binding(session, room)
    if binding is None:
        return
    history = binding.room.undo_manager(session)
    if redo:
        history.redo()
    else:
        history.undo()


def undo_button(room: str | None = None, label: str = "↶ Undo", *, key: str | None = None) -> bool:
    """A button that reverts this session's own last change in the room (nobody else's).

    Returns:
        True in the run where it was clicked.
    """
    return _history_button(room, label, key, redo=False)


def redo_button(room: str | None = None, label: str = "↷ Redo", *, key: str | None = None) -> bool:
    """A button that re-applies this session's last undone change."""
    return _history_button(room, label, key, redo=True)


def _history_button(room: str | None, label: str, key: str | None, *, redo: bool) -> bool:
    session = _session()
    name = _room(room)
    binding = registry.binding(session, name) if name else None
    if binding is None:
        return st.button(label, disabled=True, key=key)
    history = binding.room.undo_manager(session)
    possible = history.can_redo() if redo else history.can_undo()
    return st.button(
        label,
        key=key or f"crdt_sync_{'redo' if redo else 'undo'}_{name}",
        disabled=not possible,
        on_click=_undo,
        args=(name, session, redo),
    )
