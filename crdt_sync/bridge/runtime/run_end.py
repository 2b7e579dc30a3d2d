"""Knowing when a session's whole-app run has ended, and which run it was.

The bridge reruns a session for a room change only if its page shows something of that
room. What the page shows is what its last whole run did: a ``sync`` block it did not
enter (another page of a multipage app, a branch not taken) or a key it no longer read
shows nothing. `ScriptRunner._on_script_finished` (patched in `patches.py`) tells the
listeners here, in the script's thread, when a run of the whole app ran to its end.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from .context import run_number

log = logging.getLogger("crdt_sync.runtime")

RunEndListener = Callable[[str, int], object]
"""Called with (session id, run number) when that session's whole-app run ended."""

_lock = threading.Lock()
_listeners: list[RunEndListener] = []


def on_full_run_end(listener: RunEndListener) -> None:
    """Call ``listener(session, run)`` whenever a session's whole-app run ends (once per
    listener, however often it is added).

    Args:
        listener: The callback; it runs in the script thread, so it must be quick.
    """
    with _lock:
        if listener not in _listeners:
            _listeners.append(listener)


def notify(ctx: Any, *, stopped_early: bool, succeeded: bool) -> None:
    """Tell the listeners that the run of ``ctx`` ended (the patch calls this).

    Only a whole-app run that was not stopped for another run counts: a fragment's run or a
    run cut short did not show the whole page.
    """
    if stopped_early or not succeeded or not getattr(ctx, "has_script_started", False):
        return
    if getattr(ctx, "fragment_ids_this_run", None):
        return
    session = getattr(ctx, "session_id", None)
    run = run_number(ctx)
    if session is None or run is None:
        return
    with _lock:
        listeners = list(_listeners)
    for listener in listeners:
        try:
            listener(session, run)
        except Exception:  # a listener must never break Streamlit's run cleanup
            log.exception("run-end listener failed")
