"""``with crdt_sync.sync(room):`` makes every keyed widget inside it shared by the room.

```py
with crdt_sync.sync("plans"):
    st.text_input("Title", key="title")          # merges character-wise
    st.slider("Level", 0, 10, key="level")       # last writer wins, per key
    st.text_input("Draft", key=crdt_sync.private("draft"))   # stays in this session
```
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from typing import Any

import streamlit as st

from ..doc import Room, validate_room_name
from . import runtime, typing_probe
from .binding import PRIVATE_PREFIX, SHARED_PREFIX, EntryFacts, SessionBinding
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
    state = st.session_state
    site = _call_site()
    moved = registry.enter_site(session, site, room, runtime.run_number())
    if moved is not None:
        # The block moved to another room: the old room's values leave the session, and
        # the run starts over, so the app puts its defaults in place as on a first visit.
        _forget(state, session, set(moved.keys))
        runtime.rerun_now()
    _reset_forgotten(state, session)
    binding = registry.bind(session, room, private_by_default=private_by_default)
    binding.read_only = read_only
    binding.fragments.add(runtime.fragment_id())
    binding.entered_run, binding.on_page = runtime.run_number(), True
    held = runtime.held_keys()
    changed = runtime.changed_widgets()
    typed = typing_probe.typed_on()
    typed_keys = {k: typing_probe.css_key(k) for k in binding.shown_keys()}
    facts = EntryFacts(
        reported=runtime.reported_keys(),
        changed=None if changed is None else frozenset(changed),
        code_set=frozenset(runtime.code_set_keys()),
        held=None if held is None else frozenset(held),
        unwritable=frozenset(_form_keys),
        instantiated=runtime.instantiated_keys(),
        fragment=runtime.fragment_id(),
        typed_on={k: typed[css] for k, css in typed_keys.items() if css in typed},
    )
    binding.enter(state, facts)  # type: ignore[arg-type]
    if (
        runtime.fragment_id() is None
        and typing_probe.KEY not in facts.instantiated
        and not runtime.in_form()
    ):
        typing_probe.mount()  # once per run, outside fragments and forms
    if read_only:
        css_key = "crdt_ro_" + hashlib.sha1(room.encode()).hexdigest()[:10]
        st.html(READ_ONLY_CSS.format(key=css_key))
        container: Any = st.container(key=css_key)
    else:
        container = nullcontext()
    if not runtime.rerun_supported():
        _poll_for_changes(session, room)

    def on_form(form_id: str) -> None:
        # The form passed Streamlit's check: the widget sharing its key may get its value.
        _form_keys.add(form_id)
        value = binding.take_deferred(form_id)
        if binding.has_value(value):
            runtime.set_quietly(form_id, value)

    watch = runtime.ElementWatch(on_form=on_form)
    try:
        with container, runtime.watch_elements(watch):
            yield binding.room
    except BaseException as exc:
        key = runtime.value_assignment_key(exc)
        if key is not None and key in binding.keys and key not in _form_keys:
            # A form uses the key of a widget whose room value was put in place before
            # it: put it in place after the form from now on, and run again.
            _form_keys.add(key)
            log.info("crdt_sync: key %r is also a form's key; its value waits for the form", key)
            runtime.rerun_now()
        if not runtime.is_run_stopped(exc):
            _leave(session, binding, state, watch, site)
        raise
    _leave(session, binding, state, watch, site)


_form_keys: set[str] = set()
"""Keys that forms use (learned from the forms created): a value under such a key is put
in place right after the form, since Streamlit refuses it before."""


def _call_site() -> str:
    """Where the ``with sync(...)`` statement is: one block, whatever room it gets."""
    frame = sys._getframe(1)
    here = __file__
    while frame is not None and (frame.f_code.co_filename in (here, contextlib.__file__)):
        frame = frame.f_back  # type: ignore[assignment]
    if frame is None:
        return "?"
    return f"{frame.f_code.co_filename}:{frame.f_lineno}"


def _forget(state: Any, session: str, keys: set[str]) -> None:
    """Take the values of a room the page no longer shows out of the session."""
    defaults: dict[str, Any] = {}
    for key in keys:
        default = runtime.widget_default(key)  # before del: it forgets the widget too
        if runtime.has_default(default):
            defaults[key] = default
        if key in state:
            del state[key]
    registry.sites.note_left(session, defaults)


def _reset_forgotten(state: Any, session: str) -> None:
    """In the run after `_forget`: a widget the app gave no value again is given its own
    default, so the browser (which still holds the old room's value) shows it too."""
    for key, default in registry.sites.take_left(session).items():
        if key not in state:  # else the app put its default in place: the widget shows it
            state[key] = default


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


_warned_keyless: set[tuple[str, str]] = set()


def _leave(
    session: str,
    binding: SessionBinding,
    state: Any,
    watch: runtime.ElementWatch,
    site: str,
) -> None:
    """After the block: adopt the keys it created and publish values code set in it."""
    new_keys = {
        key: (runtime.widget_kind(key), runtime.widget_value_type(key))
        for key in map(str, state.keys())
        if key not in binding.keys and key not in binding.skipped
    }
    created = watch.widget_keys()
    if binding.exit(state, new_keys, watch.clearing_keys(), created):
        runtime.scheduler.push(session, set(binding.fragments) or {None})
    binding.own(created, runtime.fragment_id())
    registry.sites.note_keys(session, site, binding.room.name, binding.shown_keys())
    if watch.keyless:
        _say_keyless(binding.room.name, watch.keyless)


def _say_keyless(room: str, widgets: list[runtime.KeylessWidget]) -> None:
    """A shareable widget without ``key=`` is not shared: say so, naming it."""
    for widget in widgets:
        if (widget.kind, widget.label) not in _warned_keyless:
            _warned_keyless.add((widget.kind, widget.label))
            log.warning(
                "crdt_sync: the %s %r inside sync(%r) has no key=, so it is not shared",
                widget.kind,
                widget.label,
                room,
            )
    if runtime.is_development_mode():
        names = ", ".join(f"{w.kind} “{w.label}”" for w in widgets)
        st.caption(
            f"⚠️ crdt_sync: {names} inside `sync({room!r})` "
            "has no `key=`, so it is not shared. Give it a key to share it. "
            "(Shown in development only.)"
        )
