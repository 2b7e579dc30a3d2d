"""Noticing that a session ended: its tab closed or its connection dropped."""

from __future__ import annotations

import logging
from collections.abc import Callable

import streamlit as st

from .context import warn_once

log = logging.getLogger("crdt_sync.runtime")


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
        warn_once("Runtime.is_active_session", exc)
        return True
