"""Everything crdt_sync needs from Streamlit that Streamlit does not offer publicly.

This is the only module that touches Streamlit internals (checked against 1.67): which
session and fragment is running, which widget values the browser sent with this run, what
kind of widget owns a key, and rerunning another session. Each access is guarded: if a
future Streamlit moves something, the bridge degrades (logged once) instead of breaking,
and `rerun_supported()` reports whether live pushes still work.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import streamlit as st

log = logging.getLogger("crdt_sync.runtime")

_warned: set[str] = set()

# Seconds between checks of a session that is mid-run before pushing a rerun into it.
MID_RUN_RETRY = 0.01
HOLD_MAX = 120.0
"""Longest a session is held away from pushed reruns (its release may never come: the
tab was closed mid-edit)."""


def _warn_once(what: str, exc: BaseException) -> None:
    if what not in _warned:
        _warned.add(what)
        log.warning("crdt_sync: Streamlit internal %s is unavailable (%s); degrading", what, exc)


def _ctx() -> Any:
    try:
        from streamlit.runtime.scriptrunner import get_script_run_ctx

        return get_script_run_ctx(suppress_warning=True)
    except Exception as exc:
        _warn_once("get_script_run_ctx", exc)
        return None


def session_id() -> str | None:
    """The id of the session whose script is running in this thread, or None."""
    ctx = _ctx()
    return None if ctx is None else str(ctx.session_id)


def fragment_id() -> str | None:
    """The id of the fragment running in this thread, or None for a full-app run."""
    try:
        from streamlit.runtime.scriptrunner_utils.script_run_context import ThreadState

        fid = ThreadState.get().fragment_id
        return None if fid is None else str(fid)
    except Exception as exc:
        _warn_once("ThreadState.fragment_id", exc)
        return None


def _session_state_internals() -> Any:
    ctx = _ctx()
    if ctx is None:
        return None
    try:
        return ctx.session_state._state
    except Exception as exc:
        _warn_once("SafeSessionState._state", exc)
        return None


def reported_keys() -> set[str] | None:
    """User keys whose widget value the browser sent with the request of this run.

    Call it before the run creates those widgets. Empty for a rerun the server pushed; None
    if Streamlit's internals changed (then callers must assume every value is fresh).
    """
    state = _session_state_internals()
    if state is None:
        return None
    try:
        mapper = state._key_id_mapper
        keys = set()
        for wid in state._new_widget_state.states:
            try:
                keys.add(mapper.get_key_from_id(wid))
            except KeyError:
                continue
        return keys
    except Exception as exc:
        _warn_once("SessionState._new_widget_state", exc)
        return None


def widget_id(key: str) -> str | None:
    """The id Streamlit gave the widget created with user key ``key`` (None if unknown)."""
    state = _session_state_internals()
    if state is None:
        return None
    try:
        wid = state._key_id_mapper.get_id_from_key(key, None)
        return None if wid is None else str(wid)
    except Exception as exc:
        _warn_once("SessionState._key_id_mapper", exc)
        return None


def reported_widget_values(key: str) -> dict[str, Any]:
    """What the browser holds for every widget made with user key ``key``, by widget id.

    Includes widgets the last run replaced: a page that had not yet received the new
    widget still reports (and edits) the old one, e.g. an ``st.data_editor`` whose data
    changed. JSON string values are decoded. Call it before the run creates the widget.
    """
    state = _session_state_internals()
    if state is None:
        return {}
    found: dict[str, Any] = {}
    try:
        for wid, wstate in list(state._new_widget_state.states.items()):
            if not (isinstance(wid, str) and wid.startswith("$$ID-") and wid.endswith(f"-{key}")):
                continue
            proto: Any = getattr(wstate, "value", None)
            if hasattr(proto, "WhichOneof"):  # still serialized: a WidgetState proto
                field = proto.WhichOneof("value")
                value = getattr(proto, field) if field else None
            else:
                value = proto
            if isinstance(value, str):
                try:
                    value = json.loads(value)
                except ValueError:
                    continue
            found[wid] = value
    except Exception as exc:
        _warn_once("SessionState._new_widget_state", exc)
    return found


def widget_kind(key: str) -> str | None:
    """What kind of widget owns ``key`` in this session, e.g. ``"text_input"``.

    Returns:
        A snake_case widget name derived from Streamlit's value (de)serializer class
        (``text_input``, ``text_area``, ``multi_select``, ``button``, ...); None for a key
        set through ``st.session_state`` with no widget, or when unknown.
    """
    state = _session_state_internals()
    if state is None:
        return None
    try:
        wid = state._key_id_mapper.get_id_from_key(key, None)
        if wid is None:
            return None
        meta = state._new_widget_state.widget_metadata.get(wid)
        if meta is None:
            return None
        owner = getattr(meta.deserializer, "__self__", None)
        name = type(owner).__name__ if owner is not None else ""
        if not name:
            qual = getattr(meta.deserializer, "__qualname__", "")
            name = qual.split(".")[0]
        name = name.lstrip("_").removesuffix("Serde")
        if meta.value_type in ("json_value", "json_trigger_value", "trigger_value"):
            return "component" if name in ("", "function") else _snake(name)
        return _snake(name) or str(meta.value_type)
    except Exception as exc:
        _warn_once("widget metadata", exc)
        return None


def _snake(name: str) -> str:
    out = []
    for i, ch in enumerate(name):
        if ch.isupper() and i:
            out.append("_")
        out.append(ch.lower())
    return "".join(out)


def widget_value_type(key: str) -> str | None:
    """Streamlit's wire value type of the widget owning ``key`` (e.g. ``trigger_value``)."""
    state = _session_state_internals()
    if state is None:
        return None
    try:
        wid = state._key_id_mapper.get_id_from_key(key, None)
        meta = None if wid is None else state._new_widget_state.widget_metadata.get(wid)
        return None if meta is None else str(meta.value_type)
    except Exception as exc:
        _warn_once("widget metadata", exc)
        return None


def on_session_end(session: str, callback: Callable[[str], None]) -> None:
    """Call ``callback(session)`` once when this session's tab closes or disconnects.

    Uses a session-scoped ``st.cache_resource`` whose ``on_release`` fires as soon as the
    websocket closes (not when the session expires two minutes later). Call it during the
    session's script run; calling it again is cheap.
    """
    # One cached handle per (session, callback): a second callback must fire too.
    name = f"{getattr(callback, '__module__', '')}.{getattr(callback, '__qualname__', '')}"
    _session_handle(session, f"{name}@{id(getattr(callback, '__self__', callback))}", callback)


def _release(handle: tuple[str, Callable[[str], None]]) -> None:
    session, callback = handle
    try:
        callback(session)
    except Exception:
        log.exception("crdt_sync: session-end callback failed for %s", session)


@st.cache_resource(scope="session", on_release=_release, show_spinner=False)
def _session_handle(
    session: str, callback_name: str, _callback: Callable[[str], None]
) -> tuple[str, Callable[[str], None]]:
    return (session, _callback)


def is_session_active(session: str) -> bool:
    """Whether a session is still connected (thread-safe)."""
    try:
        from streamlit.runtime import Runtime

        return Runtime.exists() and bool(Runtime.instance().is_active_session(session))
    except Exception as exc:
        _warn_once("Runtime.is_active_session", exc)
        return True


POLL_ENV = "CRDT_SYNC_POLL"


def rerun_supported() -> bool:
    """Whether reruns can be pushed into other sessions in this Streamlit.

    False when the internals this relies on are gone (or ``CRDT_SYNC_POLL=1`` asks for the
    fallback): sessions then poll for changes with a public ``st.fragment(run_every=...)``.
    """
    if os.environ.get(POLL_ENV) == "1":
        return False
    try:
        from streamlit.runtime import Runtime
        from streamlit.runtime.app_session import AppSession

        return (
            Runtime.exists()
            and hasattr(Runtime.instance(), "_get_async_objs")
            and hasattr(AppSession, "request_rerun")
        )
    except Exception as exc:
        _warn_once("Runtime / AppSession", exc)
        return False


class RerunScheduler:
    """Pushes reruns into other sessions, safely and sparingly.

    A push is done on Streamlit's event loop with the session's own client state (so the
    person stays on their page with their query parameters), never into a session that is
    mid-run (it would restart that run without the click it was processing; the push waits
    until the run ends) nor into a session that is held (`hold`), and bursts collapse into
    one rerun per session. A push for
    fragments reruns only those fragments.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        # session id -> fragment ids to rerun (None in the set means: the whole app)
        self._pending: dict[str, set[str | None]] = {}
        self._scheduled: set[str] = set()
        self._checks: dict[str, Callable[[], bool]] = {}
        self._held: dict[str, float] = {}  # session id -> monotonic time the hold expires

    def hold(self, session: str, seconds: float = HOLD_MAX) -> None:
        """Keep pushed reruns away from ``session`` until `release` (or ``seconds`` pass).

        For a person in the middle of something a rerun would disturb.
        """
        with self._lock:
            self._held[session] = time.monotonic() + seconds

    def release(self, session: str) -> None:
        """Let pushes reach ``session`` again; what was held back is pushed now."""
        with self._lock:
            held = self._held.pop(session, None) is not None
            waiting = held and bool(self._pending.get(session)) and session not in self._scheduled
            if waiting:
                self._scheduled.add(session)
        loop = self._loop() if waiting else None
        if loop is not None:
            loop.call_soon_threadsafe(self._flush, session)

    def push(
        self,
        session: str,
        fragments: set[str | None],
        still_needed: Callable[[], bool] | None = None,
    ) -> bool:
        """Ask ``session`` to rerun (the whole app if ``None`` is in ``fragments``).

        Args:
            session: The session id.
            fragments: Fragment ids whose sync blocks must rerun; ``None`` for the app.
            still_needed: Checked right before pushing; a session that already caught up
                in a run of its own is not rerun again.

        Returns:
            False if reruns cannot be pushed in this Streamlit.
        """
        loop = self._loop()
        log.debug("push %s %s loop=%s", session[:6], fragments, loop is not None)
        if loop is None:
            return False
        with self._lock:
            self._pending.setdefault(session, set()).update(fragments or {None})
            if still_needed is not None:
                self._checks[session] = still_needed
            if session in self._scheduled:
                return True
            self._scheduled.add(session)
        loop.call_soon_threadsafe(self._flush, session)
        return True

    def forget(self, session: str) -> None:
        """Drop anything pending for a session that ended."""
        with self._lock:
            self._pending.pop(session, None)
            self._checks.pop(session, None)
            self._held.pop(session, None)

    def _held_for(self, session: str) -> float:
        """Seconds left on a hold of ``session`` (0 if none)."""
        with self._lock:
            until = self._held.get(session)
            if until is None:
                return 0.0
            left = until - time.monotonic()
            if left <= 0:
                del self._held[session]
                return 0.0
            return left

    def _loop(self) -> Any:
        try:
            from streamlit.runtime import Runtime

            if not Runtime.exists():
                return None
            return Runtime.instance()._get_async_objs().eventloop
        except Exception as exc:
            _warn_once("Runtime event loop", exc)
            return None

    def _flush(self, session_id: str) -> None:
        """Runs on Streamlit's event loop."""
        try:
            from streamlit.proto.ClientState_pb2 import ClientState
            from streamlit.runtime import Runtime

            session = Runtime.instance().get_app_session(session_id)
            if session is None:
                log.debug(
                    "flush %s: session gone; active=%s",
                    session_id[:6],
                    [
                        i.session.id[:6]
                        for i in Runtime.instance()._session_mgr.list_active_sessions()
                    ],
                )
                self.forget(session_id)
                with self._lock:
                    self._scheduled.discard(session_id)
                return
            if session._scriptrunner is not None:
                # Mid-run: restarting now would drop the click it is processing.
                log.debug("flush %s waits: mid-run state=%s", session_id[:6], session._state)
                self._loop().call_later(MID_RUN_RETRY, self._flush, session_id)
                return
            held = self._held_for(session_id)
            if held:
                # `release` flushes; the timer only covers a hold that is never released.
                log.debug("flush %s waits: held for %.1fs", session_id[:6], held)
                with self._lock:
                    self._scheduled.discard(session_id)
                self._loop().call_later(held, self._flush_if_idle, session_id)
                return
            with self._lock:
                self._scheduled.discard(session_id)
                fragments = self._pending.pop(session_id, set())
                check = self._checks.pop(session_id, None)
            if not fragments or (check is not None and not check()):
                log.debug("flush %s skipped %s", session_id[:6], fragments)
                return
            log.debug("flush %s rerun %s", session_id[:6], fragments)
            base = session._client_state
            if None in fragments:
                session.request_rerun(base)
                return
            for fid in fragments:
                if fid is not None and session.has_fragment(fid):
                    state = ClientState()
                    state.CopyFrom(base)
                    state.fragment_id = fid
                    session.request_rerun(state)
                else:
                    session.request_rerun(base)
                    return
        except Exception as exc:
            log.debug("flush %s failed", session_id[:6], exc_info=True)
            with self._lock:
                self._scheduled.discard(session_id)
            _warn_once("AppSession.request_rerun", exc)

    def _flush_if_idle(self, session_id: str) -> None:
        with self._lock:
            if session_id in self._scheduled or not self._pending.get(session_id):
                return
            self._scheduled.add(session_id)
        self._flush(session_id)


scheduler = RerunScheduler()


def silence_value_warning() -> None:
    """Turn off Streamlit's "created with a default value but also had its value set via
    the Session State API" warning: showing the room's value over a widget's default is
    exactly what sync does. A value set in the app's own config wins."""
    try:
        from streamlit import config

        if not config.is_manually_set("global.disableWidgetStateDuplicationWarning"):
            config.set_option("global.disableWidgetStateDuplicationWarning", True, "crdt_sync")
    except Exception as exc:
        _warn_once("config.disableWidgetStateDuplicationWarning", exc)


class FormWatch:
    """What the forms created inside a block look like (read off the messages sent)."""

    def __init__(self) -> None:
        self.clearing_forms: set[str] = set()
        self.widget_forms: dict[str, str] = {}  # widget id -> form id

    def see(self, msg: Any) -> None:
        if msg.WhichOneof("type") != "delta":
            return
        delta = msg.delta
        kind = delta.WhichOneof("type")
        if kind == "add_block" and delta.add_block.WhichOneof("type") == "form":
            form = delta.add_block.form
            if form.clear_on_submit:
                self.clearing_forms.add(form.form_id)
        elif kind == "new_element":
            element = delta.new_element
            which = element.WhichOneof("type")
            proto = getattr(element, which) if which else None
            form_id = getattr(proto, "form_id", "")
            widget_id = getattr(proto, "id", "")
            if form_id and widget_id:
                self.widget_forms[widget_id] = form_id

    def clearing_keys(self) -> set[str]:
        """User keys of widgets inside ``st.form(clear_on_submit=True)`` forms."""
        state = _session_state_internals()
        keys: set[str] = set()
        if state is None:
            return keys
        for widget_id, form_id in self.widget_forms.items():
            if form_id in self.clearing_forms:
                try:
                    keys.add(state._key_id_mapper.get_key_from_id(widget_id))
                except (KeyError, AttributeError):
                    continue
        return keys


@contextmanager
def watch_forms() -> Iterator[FormWatch]:
    """Notice which widgets created in the block sit in forms that clear on submit."""
    watch = FormWatch()
    ctx = _ctx()
    original = getattr(ctx, "_enqueue", None)
    if ctx is None or original is None:
        yield watch
        return

    def enqueue(msg: Any) -> None:
        try:
            watch.see(msg)
        except Exception as exc:
            _warn_once("ForwardMsg form fields", exc)
        original(msg)

    ctx._enqueue = enqueue
    try:
        yield watch
    finally:
        ctx._enqueue = original


def is_run_stopped(exc: BaseException) -> bool:
    """Whether ``exc`` is Streamlit stopping this run (a newer run replaces it).

    A stopped run's session-state changes are not the person's final word: the new run
    replays the click that interrupted it, so nothing from the stopped run is published.
    """
    try:
        from streamlit.runtime.scriptrunner_utils.exceptions import StopException

        return isinstance(exc, StopException)
    except Exception as err:
        _warn_once("StopException", err)
        return False
