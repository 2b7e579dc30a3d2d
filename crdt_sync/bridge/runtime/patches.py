"""Two settings crdt_sync changes in Streamlit, each for a reason a person would notice.

- Streamlit's warning "created with a default value but also had its value set via the
  Session State API" is turned off: showing the room's value over a widget's default is
  exactly what sync does (a value set in the app's own config wins).
- A script run that Streamlit stopped for a newer one no longer resets the session's
  button clicks when it winds down. With ``runner.fastReruns`` (the default) a click that
  arrives during a run stops that run and starts a new one at once; if the stopped run was
  already past its last checkpoint, its cleanup reset the trigger values the new run had
  just been given, and the click was lost. Reruns pushed by other people's changes make
  such overlaps common, so without this two people clicking a shared counter lost clicks.
"""

from __future__ import annotations

from typing import Any

from .context import warn_once

_PATCHED = "_crdt_sync_guarded"


def silence_value_warning() -> None:
    """Turn off the default-value-and-session-state warning, unless the app set it."""
    try:
        from streamlit import config

        if not config.is_manually_set("global.disableWidgetStateDuplicationWarning"):
            config.set_option("global.disableWidgetStateDuplicationWarning", True, "crdt_sync")
    except Exception as exc:
        warn_once("config.disableWidgetStateDuplicationWarning", exc)


def guard_stopped_runs() -> None:
    """Keep a stopped run's cleanup away from the session state its successor owns."""
    try:
        from streamlit.runtime.scriptrunner.script_runner import ScriptRunner
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
        original(self, ctx, event, premature_stop, run_descriptor)

    setattr(_on_script_finished, _PATCHED, True)
    ScriptRunner._on_script_finished = _on_script_finished  # type: ignore[method-assign]
