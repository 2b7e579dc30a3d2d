"""Authorship: the name a session's changes are recorded under in the room's history.

A session's changes carry its session id as origin; the engine's book of authors
(`crdt_sync.doc.authors`) turns that into a name when history stores a change. This module
tells the book, in order of preference:

1. the display name the app gave with ``crdt_sync.set_name(name)``;
2. the person logged in, when the app has login (``st.user``: email, else name);
3. nothing (history shows ``session xxxx``).

The name is forgotten when the session ends (its tab closed). Changes made inside
``no_rerun()`` are the session's too (`QuietOrigin.author`).

```py
name_session(session, "ann")   # what crdt_sync.set_name("ann") does
note_login(session)            # called when the session first enters a room
authors.who(session)           # "ann"
```
"""

from __future__ import annotations

import logging
import threading

import streamlit as st

from ..doc import authors
from . import runtime
from .runtime.context import script_ctx

log = logging.getLogger("crdt_sync.authorship")

_lock = threading.Lock()
_named: set[str] = set()  # sessions whose name came from set_name


def login_name() -> str | None:
    """The logged-in person's email (else name), when the app has login; None otherwise.

    Reads ``st.user`` (public API) of the running script; never raises (no login
    configured, outside a script run, a future Streamlit without it).
    """
    if script_ctx() is None:  # st.user would log a warning and say nobody
        return None
    try:
        user = st.user
        if user.get("is_logged_in") is not True:
            return None
        for field in ("email", "name"):
            value = user.get(field)
            if isinstance(value, str) and value.strip():
                return value.strip()
    except Exception as exc:  # no auth configured, no script run...
        log.debug("crdt_sync: st.user not readable: %s", exc)
    return None


def name_session(session: str, name: str | None) -> None:
    """Attribute the session's changes to ``name`` (None or "": back to its login, if any).

    Args:
        session: The Streamlit session id (the origin of its changes).
        name: The display name given with ``set_name``.
    """
    with _lock:
        if name:
            _named.add(session)
        else:
            _named.discard(session)
    if name:
        authors.name(session, name)
    else:
        authors.name(session, login_name())
    runtime.on_session_end(session, forget_session)


def note_login(session: str) -> None:
    """Attribute the session's changes to the logged-in person, unless it has a name.

    Call it during the session's script run (it reads ``st.user``).

    Args:
        session: The Streamlit session id.
    """
    with _lock:
        if session in _named:
            return
    login = login_name()
    if login:
        authors.name(session, login)
        runtime.on_session_end(session, forget_session)


def forget_session(session: str) -> None:
    """Forget who a session is (it ended).

    Args:
        session: The Streamlit session id.
    """
    with _lock:
        _named.discard(session)
    authors.forget(session)
