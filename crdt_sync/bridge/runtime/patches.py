"""Four things crdt_sync changes in Streamlit, each for a reason a person would notice.

- Streamlit's warning "created with a default value but also had its value set via the
  Session State API" is turned off: showing the room's value over a widget's default is
  exactly what sync does (a value set in the app's own config wins).
- A script run that Streamlit stopped for a newer one no longer resets the session's
  button clicks when it winds down. With ``runner.fastReruns`` (the default) a click that
  arrives during a run stops that run and starts a new one at once; if the stopped run was
  already past its last checkpoint, its cleanup reset the trigger values the new run had
  just been given, and the click was lost. Reruns pushed by other people's changes make
  such overlaps common, so without this two people clicking a shared counter lost clicks.
- A run that is handling a click (a button, a chat message, a component event) is not
  stopped by the next request of the same page: that request waits until the run ends.
  Otherwise a second click arriving before the first run reached its button replaced the
  first (a click is a one-run event), and one of two quick clicks was lost.
- Streamlit's full garbage collection after every run (``runner.postScriptGC``) happens at
  most once a second in the process, unless the app set that option. One edit reruns every
  page that shows it, and each full collection walks every object of every session: with
  50 people in a room, one edit cost 1.6 s of server time instead of 0.14 s
  (`benchmarks/load.py`). Memory is still collected, by the collection a second later
  and by Python's own.
"""

from __future__ import annotations

import gc
import threading
import time
from typing import Any

from . import run_end
from .clicks import has_click
from .context import warn_once

_PATCHED = "_crdt_sync_guarded"
_CLICK_RUN = "_crdt_sync_click_run"

GC_EVERY = 1.0
"""Seconds between two full garbage collections after runs (see `throttle_post_run_gc`)."""

_gc_lock = threading.Lock()
_gc = {"throttled": False, "last": 0.0}


def silence_value_warning() -> None:
    """Turn off the default-value-and-session-state warning, unless the app set it."""
    try:
        from streamlit import config

        if not config.is_manually_set("global.disableWidgetStateDuplicationWarning"):
            config.set_option("global.disableWidgetStateDuplicationWarning", True, "crdt_sync")
    except Exception as exc:
        warn_once("config.disableWidgetStateDuplicationWarning", exc)


def guard_stopped_runs() -> None:
    """Keep a stopped run's cleanup away from the session state its successor owns, and
    tell `run_end`'s listeners of every whole run that ended."""
    try:
        from streamlit.runtime.scriptrunner.script_runner import ScriptRunner, ScriptRunnerEvent
        from streamlit.runtime.scriptrunner_utils.script_requests import ScriptRequestType
    except Exception as exc:
        warn_once("ScriptRunner", exc)
        return
    original = ScriptRunner._on_script_finished
    if getattr(original, _PATCHED, False):
        return

    def _on_script_finished(
        self: Any, ctx: Any, event: Any, premature_stop: bool, run_descriptor: Any
    ) -> None:
        requests = getattr(self, "_requests", None)
        if getattr(requests, "_state", None) == ScriptRequestType.STOP:
            premature_stop = True  # a newer run owns the session state now
        succeeded = event == ScriptRunnerEvent.SCRIPT_STOPPED_WITH_SUCCESS
        run_end.notify(ctx, stopped_early=premature_stop, succeeded=succeeded)
        original(self, ctx, event, premature_stop, run_descriptor)
        _collect_now_and_then()

    setattr(_on_script_finished, _PATCHED, True)
    ScriptRunner._on_script_finished = _on_script_finished  # type: ignore[method-assign]


def throttle_post_run_gc() -> None:
    """Collect garbage after runs at most every `GC_EVERY` seconds, unless the app set
    ``runner.postScriptGC`` itself (then Streamlit does as it says)."""
    try:
        from streamlit import config

        if config.is_manually_set("runner.postScriptGC"):
            return
        if config.get_option("runner.postScriptGC"):
            config.set_option("runner.postScriptGC", False, "crdt_sync")
            _gc["throttled"] = True
    except Exception as exc:
        warn_once("config.runner.postScriptGC", exc)


def _collect_now_and_then() -> None:
    """After a run (in its thread): the full collection Streamlit would make, if none was
    made in the last `GC_EVERY` seconds."""
    if not _gc["throttled"]:
        return
    now = time.monotonic()
    with _gc_lock:
        if now - _gc["last"] < GC_EVERY:
            return
        _gc["last"] = now
    gc.collect(2)


def keep_clicks(defer: Any) -> None:
    """Let a run handling a click finish before the same page's next request starts.

    Args:
        defer: ``defer(session_id, client_state)`` keeps a request to start once the
            session's current run has ended (`RerunScheduler.defer`).
    """
    try:
        from streamlit import config
        from streamlit.runtime.app_session import AppSession
    except Exception as exc:
        warn_once("AppSession", exc)
        return
    original = AppSession.request_rerun
    if getattr(original, _PATCHED, False):
        return

    def request_rerun(self: Any, client_state: Any) -> None:
        full_app = client_state is None or not client_state.fragment_id
        fast = bool(config.get_option("runner.fastReruns"))
        if (
            full_app
            and fast
            and self._scriptrunner is not None
            and getattr(self, _CLICK_RUN, False)
            and client_state is not None
        ):
            defer(self.id, client_state)  # starting now would stop a run mid-click
            return
        original(self, client_state)
        if full_app and fast:
            setattr(self, _CLICK_RUN, has_click(client_state))

    setattr(request_rerun, _PATCHED, True)
    AppSession.request_rerun = request_rerun  # type: ignore[method-assign]


def install_patches() -> None:
    """Make the run changes (once per process; later calls do nothing)."""
    from .scheduler import scheduler

    guard_stopped_runs()
    keep_clicks(scheduler.defer)
    throttle_post_run_gc()
