"""Which session, run and fragment is running in this thread.

Every access to Streamlit internals is guarded: if a future Streamlit moves something, the
bridge degrades (logged once) instead of breaking.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

log = logging.getLogger("crdt_sync.runtime")

_warned: set[str] = set()
_run_lock = threading.Lock()
_run_counter = 0


def warn_once(what: str, exc: BaseException) -> None:
    """Log once per process that the Streamlit internal ``what`` is unavailable."""
    if what not in _warned:
        _warned.add(what)
        log.warning("crdt_sync: Streamlit internal %s is unavailable (%s); degrading", what, exc)


def script_ctx() -> Any:
    """The ``ScriptRunContext`` of this thread, or None outside a script run."""
    try:
        from streamlit.runtime.scriptrunner import get_script_run_ctx

        return get_script_run_ctx(suppress_warning=True)
    except Exception as exc:
        warn_once("get_script_run_ctx", exc)
        return None


def session_id() -> str | None:
    """The id of the session whose script is running in this thread, or None."""
    ctx = script_ctx()
    return None if ctx is None else str(ctx.session_id)


def fragment_id() -> str | None:
    """The id of the fragment running in this thread, or None for a full-app run."""
    try:
        from streamlit.runtime.scriptrunner_utils.script_run_context import ThreadState

        fid = ThreadState.get().fragment_id
        return None if fid is None else str(fid)
    except Exception as exc:
        warn_once("ThreadState.fragment_id", exc)
        return None


_RUN_ATTR = "_crdt_sync_run"


def run_number(ctx: Any = None) -> int | None:
    """A number that identifies the script run (or fragment run) going on in this thread.

    Streamlit makes a new parallel-fragment coordinator for every run; the number is
    stamped on it, so two calls in one run agree and calls in different runs differ.

    Args:
        ctx: The run's `ScriptRunContext` (default: this thread's).
    """
    ctx = script_ctx() if ctx is None else ctx
    holder = getattr(ctx, "parallel_coordinator", None)
    if holder is None:
        return None
    global _run_counter
    with _run_lock:
        number = getattr(holder, _RUN_ATTR, None)
        if number is None:
            _run_counter += 1
            number = _run_counter
            try:
                setattr(holder, _RUN_ATTR, number)
            except AttributeError as exc:
                warn_once("ScriptRunContext.parallel_coordinator", exc)
                return None
        return int(number)


def is_run_stopped(exc: BaseException) -> bool:
    """Whether ``exc`` is Streamlit stopping this run (a newer run replaces it).

    A stopped run's session-state changes are not the person's final word: the new run
    replays the click that interrupted it, so nothing from the stopped run is published.
    """
    try:
        from streamlit.runtime.scriptrunner_utils.exceptions import StopException

        return isinstance(exc, StopException)
    except Exception as err:
        warn_once("StopException", err)
        return False


def value_assignment_key(exc: BaseException) -> str | None:
    """The key named by a ``StreamlitValueAssignmentNotAllowedError``, else None."""
    try:
        from streamlit.errors import StreamlitValueAssignmentNotAllowedError
    except Exception as err:
        warn_once("StreamlitValueAssignmentNotAllowedError", err)
        return None
    if not isinstance(exc, StreamlitValueAssignmentNotAllowedError):
        return None
    key = getattr(exc, "exec_kwargs", {}).get("key")
    return key if isinstance(key, str) else None


def rerun_now() -> None:
    """Stop this run and start it again (``st.rerun()``)."""
    import streamlit as st

    st.rerun()


def is_development_mode() -> bool:
    """Whether the app runs for its developer: developer toolbar, or served to localhost.

    Streamlit shows its developer options under the same rule (``client.toolbarMode``).
    """
    try:
        import streamlit as st
        from streamlit import config

        mode = config.get_option("client.toolbarMode")
        if mode == "developer" or config.get_option("global.developmentMode"):
            return True
        if mode != "auto":
            return False
        url = str(st.context.url or "")
        host = url.split("://", 1)[-1].split("/", 1)[0].rsplit(":", 1)[0]
        return host in ("localhost", "127.0.0.1", "[::1]")
    except Exception as exc:
        warn_once("client.toolbarMode", exc)
        return False


def instantiated_keys() -> frozenset[str]:
    """User keys of the widgets and forms this run has created so far.

    Streamlit refuses a value for such a key until the next run.
    """
    ctx = script_ctx()
    shared: Any = getattr(ctx, "shared", None)
    if shared is None:
        return frozenset()
    try:
        keys = shared.widget_user_keys_this_run.snapshot() | shared.form_ids_this_run.snapshot()
        return frozenset(k for k in keys if isinstance(k, str))
    except Exception as exc:
        warn_once("ScriptRunContext.shared", exc)
        return frozenset()


def in_form() -> bool:
    """Whether elements created now go into an ``st.form``."""
    try:
        import streamlit as st
        from streamlit.elements.lib.form_utils import is_in_form

        return bool(is_in_form(st._main._active_dg))
    except Exception as exc:
        warn_once("form_utils.is_in_form", exc)
        return False
