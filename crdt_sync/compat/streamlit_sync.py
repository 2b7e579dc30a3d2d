"""streamlit-sync's API on crdt_sync rooms: change the import line, keep the app.

```py
# import streamlit_sync
from crdt_sync.compat import streamlit_sync

room_name = streamlit_sync.select_room_widget()
with streamlit_sync.sync(room_name):
    y = st.slider("Select a value", key="y")
    st.write(y, "squared is", y * y)
```

What stays: rooms entered from a sidebar widget or with `rooms.enter_room` /
`rooms.exit_room`, every keyed widget and ``st.session_state`` value set inside ``sync``
shared with the room, `get_not_synced_key` for private keys, buttons never synced, form
fields synced on submit, optional on-disk persistence with ``cache_dir``.

What gets better: simultaneous edits are merged instead of one being dropped (texts
character by character, multiselects by element, other values per key), a newcomer sees
the room at once, closed tabs leave the room at once, reruns keep each person's page and
query parameters, and nothing is pickled. It runs on current Streamlit.

What changes: widgets need a ``key=`` to be shared (streamlit-sync also shared keyless
widgets by their generated id, which changes whenever a label or argument does). A
``cache_dir`` holds crdt_sync's binary updates, not pickles; old cache directories are
not read.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import streamlit as st

from ..bridge import config, runtime
from ..bridge.sessions import registry
from ..bridge.sync import private
from ..bridge.sync import sync as _sync
from ..doc import Room, validate_room_name

__all__ = [
    "StreamlitSyncException",
    "delete_room",
    "enter_room",
    "exit_room",
    "get_not_synced_key",
    "rooms",
    "select_room_widget",
    "sync",
]

ROOM_KEY = private("streamlit_sync_room")
"""Where the session's current room is kept in ``st.session_state`` (never synced)."""


class StreamlitSyncException(Exception):
    """Raised for misuse, e.g. leaving a room while in none."""


def get_not_synced_key(key: str) -> str:
    """A ``st.session_state`` / widget key that stays in this session (never synced).

    Args:
        key: Your key.

    Returns:
        The key to use instead.
    """
    return private(key)


def _use_cache_dir(cache_dir: str | os.PathLike[str] | None) -> None:
    if cache_dir is not None:
        spec = f"diskcache:{Path(cache_dir)}"
        if config.configured_store() != spec:
            config.configure(spec)
    elif config.configured_store() is None and not os.environ.get(config.ENV_VAR):
        config.configure("memory")  # streamlit-sync keeps rooms in memory unless told


@contextmanager
def sync(
    room_name: str | None, cache_dir: str | os.PathLike[str] | None = None
) -> Iterator[Room | None]:
    """Share every keyed widget and session value set inside the block with ``room_name``.

    Args:
        room_name: The room; None shares nothing (outside any room).
        cache_dir: Keep the room in this directory (survives restarts); by default rooms
            live in memory, unless the app configured a store with ``crdt_sync.configure``
            or ``CRDT_SYNC_STORE``.

    Yields:
        The `Room`, or None when ``room_name`` is None.
    """
    _use_cache_dir(cache_dir)
    if room_name is None:
        yield None
        return
    with _sync(room_name) as room:
        yield room


def _enter_room(room_name: str) -> None:
    """Enter a room from this session, then rerun."""
    validate_room_name(room_name)
    st.session_state[ROOM_KEY] = room_name
    st.rerun()


def _exit_room() -> None:
    """Leave the current room, reset the values it set in this session, then rerun.

    The room keeps its values for the others and for later.

    Raises:
        StreamlitSyncException: If this session is in no room.
    """
    room_name = st.session_state.get(ROOM_KEY)
    if room_name is None:
        raise StreamlitSyncException("cannot exit a room: this session is in no room")
    del st.session_state[ROOM_KEY]
    session = runtime.session_id()
    if session is not None:
        binding = registry.binding(session, room_name)
        if binding is not None:
            for key in list(binding.keys):
                if key in st.session_state:
                    del st.session_state[key]
        registry.leave(session, room_name)
    st.rerun()


def _delete_room(room_name: str) -> None:
    """Empty a room for everyone in it, and forget it once nobody is in it.

    Args:
        room_name: The room.

    Raises:
        ValueError: For an invalid room name.
    """
    validate_room_name(room_name)
    hub = config.hub()
    room = hub.open(room_name)
    try:
        with room.transaction(origin=runtime.session_id()):
            for key, kind in room.kinds().items():
                if kind == "register":
                    del room[key]
                elif kind == "text":
                    room.text(key).update("")
                elif kind == "set":
                    for item in room.set(key).to_list():
                        room.set(key).discard(item)
                elif kind == "list":
                    room.list(key).clear()
    finally:
        hub.release(room_name)
    if hub.users(room_name) == 0:
        hub.store.delete(room_name)


class rooms:
    """``rooms.enter_room(name)``, ``rooms.exit_room()``, ``rooms.delete_room(name)``:
    build your own room picker."""

    enter_room = staticmethod(_enter_room)
    exit_room = staticmethod(_exit_room)
    delete_room = staticmethod(_delete_room)


enter_room = _enter_room
exit_room = _exit_room
delete_room = _delete_room


def _status(room_name: str) -> str:
    sessions = {m.session for m in registry.members(room_name)}
    if st.session_state.get(ROOM_KEY) == room_name:
        sessions.add(runtime.session_id() or "")  # this session, joining in this run
    count = len(sessions)
    return (
        "empty" if count == 0 else "1 active session" if count == 1 else f"{count} active sessions"
    )


def select_room_widget(cache_dir: str | os.PathLike[str] | None = None) -> str:
    """A sidebar to pick an existing room or create one, and to leave it later.

    Until a room is chosen, the rest of the app does not run (``st.stop()``).

    Args:
        cache_dir: As for `sync`.

    Returns:
        The current room's name.
    """
    _use_cache_dir(cache_dir)
    current: Any = st.session_state.get(ROOM_KEY)
    if current is not None:
        with st.sidebar.expander(f"Synced room “{current}” ({_status(current)})"):
            if st.button("Exit room", key=private("streamlit_sync_exit")):
                _exit_room()
        return str(current)
    st.sidebar.title("Select a synced room")
    existing = config.hub().rooms()
    if existing:
        picked = st.sidebar.radio(
            "Existing rooms",
            [None, *existing],
            format_func=lambda r: "Create a new room" if r is None else f"{r} ({_status(r)})",
            key=private("streamlit_sync_existing"),
        )
        if picked is not None:
            _enter_room(picked)
    with st.sidebar.form(private("streamlit_sync_new"), clear_on_submit=True):
        name = st.text_input("New room name", key=private("streamlit_sync_new_name"))
        create = st.form_submit_button("Create")
    if create:
        try:
            validate_room_name(name.strip())
        except ValueError as exc:
            st.sidebar.error(str(exc))
        else:
            _enter_room(name.strip())
    st.stop()
