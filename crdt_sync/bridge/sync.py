"""``with crdt_sync.sync(room):`` makes every keyed widget inside it shared by the room.

```py
with crdt_sync.sync("plans"):
    st.text_input("Title", key="title")          # merges character-wise
    st.slider("Level", 0, 10, key="level")       # last writer wins, per key
    st.text_input("Draft", key=crdt_sync.private("draft"))   # stays in this session
```
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from typing import Any

import streamlit as st

from ..doc import Room, validate_room_name
from . import runtime
from .binding import PRIVATE_PREFIX, SHARED_PREFIX, SessionBinding
from .sessions import registry
from .status import connection_warning

log = logging.getLogger("crdt_sync.sync")
_warned_outside = False
_warned_polling = False

READ_ONLY_CSS = """
<style>
.st-key-{key} input, .st-key-{key} textarea, .st-key-{key} [role="slider"],
.st-key-{key} [data-baseweb="select"], .st-key-{key} [data-baseweb="checkbox"],
.st-key-{key} button {{ pointer-events: none; opacity: 0.6; }}
</style>
"""


def private(key: str) -> str:
    """A widget key that is never shared, even inside a `sync` block.

    Args:
        key: Your key.

    Returns:
        The key to pass as ``key=``.
    """
    return PRIVATE_PREFIX + key


def shared(key: str) -> str:
    """A widget key that is shared inside ``sync(room, private_by_default=True)``.

    Args:
        key: The key in the room.

    Returns:
        The key to pass as ``key=``.
    """
    return SHARED_PREFIX + key


@contextmanager
def sync(
    room: str,
    *,
    read_only: bool = False,
    private_by_default: bool = False,
) -> Iterator[Room]:
    """Share every keyed widget created inside the block with everyone in ``room``.

    What one person sets shows up on every other open page of the room without them doing
    anything; a newcomer sees the current state; concurrent edits merge (text
    character-wise, multiselect add-wins, other values last-writer-wins per key). Buttons,
    downloads, file uploads and chat input are never synced.

    Args:
        room: The room's name (1-200 characters, no control characters).
        read_only: Follow the room live but never change it; its widgets look disabled.
        private_by_default: Share only keys wrapped in `shared()`.

    Yields:
        The `Room` (a mutable mapping of the shared values).

    Raises:
        ValueError: For an invalid room name.
    """
    global _warned_outside
    validate_room_name(room)
    session = runtime.session_id()
    if session is None:
        if not _warned_outside:
            _warned_outside = True
            log.warning("crdt_sync.sync(%r) used outside a Streamlit run: nothing is shared", room)
        from .config import hub

        yield hub().open(room)
        return
    runtime.silence_value_warning()
    connection_warning()  # a store that lost its server (Redis) says so
    binding = registry.bind(session, room, private_by_default=private_by_default)
    binding.read_only = read_only
    binding.fragments.add(runtime.fragment_id())
    state = st.session_state
    binding.enter(state, runtime.reported_keys())  # type: ignore[arg-type]
    if read_only:
        css_key = "crdt_ro_" + hashlib.sha1(room.encode()).hexdigest()[:10]
        st.html(READ_ONLY_CSS.format(key=css_key))
        container: Any = st.container(key=css_key)
    else:
        container = nullcontext()
    if not runtime.rerun_supported():
        _poll_for_changes(session, room)
    forms = runtime.FormWatch()
    try:
        with container, runtime.watch_forms() as forms:
            yield binding.room
    except BaseException as exc:
        if not runtime.is_run_stopped(exc):
            _leave(session, binding, state, forms)
        raise
    _leave(session, binding, state, forms)


POLL_SECONDS = 1.0


@st.fragment(run_every=POLL_SECONDS)
def _poll_for_changes(session: str, room: str) -> None:
    """Fallback when reruns cannot be pushed: look for changes once a second."""
    global _warned_polling
    if not _warned_polling:
        _warned_polling = True
        log.warning("crdt_sync: pushing reruns is unavailable; polling every %ss", POLL_SECONDS)
    binding = registry.binding(session, room)
    if binding is not None and binding.has_dirty():
        st.rerun(scope="app")


def _leave(session: str, binding: SessionBinding, state: Any, forms: runtime.FormWatch) -> None:
    """After the block: adopt the keys it created and publish values code set in it."""
    new_keys = {
        key: (runtime.widget_kind(key), runtime.widget_value_type(key))
        for key in map(str, state.keys())
        if key not in binding.keys and key not in binding.skipped
    }
    if binding.exit(state, new_keys, forms.clearing_keys()):
        runtime.scheduler.push(session, set(binding.fragments) or {None})
