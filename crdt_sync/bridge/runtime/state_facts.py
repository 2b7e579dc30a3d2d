"""What Streamlit's session state knows about this run, and about the widgets that own keys.

Streamlit keeps apart what the browser sent (widget states), what the app's own code set
(``st.session_state[k] = v`` in a callback or the script body) and what was left from
earlier runs. The bridge decides "what did this person change" from these facts instead
of guessing from values.
"""

from __future__ import annotations

import json
from typing import Any

from .context import script_ctx, warn_once

_MISSING: Any = object()


def _session_state_internals() -> Any:
    ctx = script_ctx()
    if ctx is None:
        return None
    try:
        return ctx.session_state._state
    except Exception as exc:
        warn_once("SafeSessionState._state", exc)
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
        warn_once("SessionState._new_widget_state", exc)
        return None


def changed_widgets() -> set[str] | None:
    """What the browser changed with the request of this run: user keys (widget ids for
    widgets without a key) of widgets whose value differs from what the session held, and
    of buttons pressed. None if unknown.

    A page that had not caught up re-sends old values of widgets its person did not touch,
    alongside the one they did; a request that changes a single widget is that widget's.
    """
    state = _session_state_internals()
    if state is None:
        return None
    try:
        widgets = state._new_widget_state
        mapper = state._key_id_mapper
        changed: set[str] = set()
        for wid in list(widgets.states):
            meta = widgets.widget_metadata.get(wid)
            try:
                value = widgets[wid]
            except KeyError:
                continue
            if meta is not None and meta.value_type in ("trigger_value", "json_trigger_value"):
                if not value:
                    continue
            elif wid in state._old_state and _equal(state._old_state[wid], value):
                continue
            try:
                changed.add(mapper.get_key_from_id(wid))
            except KeyError:
                changed.add(str(wid))
        return changed
    except Exception as exc:
        warn_once("SessionState widget changes", exc)
        return None


def _equal(a: Any, b: Any) -> bool:
    try:
        return bool(a == b)
    except Exception:
        return False


def code_set_keys() -> set[str]:
    """User keys the app's own code set in this run so far (callbacks, script body).

    Streamlit keeps these apart from the values the browser sent; they are cleared at the
    start of every run.
    """
    state = _session_state_internals()
    if state is None:
        return set()
    try:
        return {k for k in state._new_session_state if isinstance(k, str)}
    except Exception as exc:
        warn_once("SessionState._new_session_state", exc)
        return set()


def held_keys() -> set[str] | None:
    """User keys the session held when this run began (from earlier runs).

    A key missing here but set by the app's code now is a default being put in place
    (``if "k" not in st.session_state: st.session_state.k = ...``), not a change. None if
    unknown.
    """
    state = _session_state_internals()
    if state is None:
        return None
    try:
        mapper = state._key_id_mapper
        keys: set[str] = set()
        for k in state._old_state:
            if not isinstance(k, str):
                continue
            if k.startswith("$$ID-"):
                try:
                    keys.add(mapper.get_key_from_id(k))
                except KeyError:
                    continue
            else:
                keys.add(k)
        return keys
    except Exception as exc:
        warn_once("SessionState._old_state", exc)
        return None


def set_quietly(key: str, value: Any) -> None:
    """Put ``value`` under ``key`` as if set before the widget, past Streamlit's check.

    For a key that a form already created in this run also uses: the widget made next
    with that key shows the value (Streamlit's own check would refuse the assignment).
    """
    state = _session_state_internals()
    if state is None:
        return
    try:
        state._new_session_state[key] = value
    except Exception as exc:
        warn_once("SessionState._new_session_state", exc)


def widget_id(key: str) -> str | None:
    """The id Streamlit gave the widget created with user key ``key`` (None if unknown)."""
    state = _session_state_internals()
    if state is None:
        return None
    try:
        wid = state._key_id_mapper.get_id_from_key(key, None)
        return None if wid is None else str(wid)
    except Exception as exc:
        warn_once("SessionState._key_id_mapper", exc)
        return None


def _metadata(key: str) -> Any:
    state = _session_state_internals()
    if state is None:
        return None
    try:
        wid = state._key_id_mapper.get_id_from_key(key, None)
        return None if wid is None else state._new_widget_state.widget_metadata.get(wid)
    except Exception as exc:
        warn_once("widget metadata", exc)
        return None


def widget_default(key: str) -> Any:
    """The value the widget last made with user key ``key`` has when nobody set it.

    Returns:
        The default, or a sentinel for which `has_default` is False when the widget is
        unknown.
    """
    meta = _metadata(key)
    if meta is None:
        return _MISSING
    try:
        return meta.deserializer(None)
    except Exception as exc:
        warn_once("widget deserializer", exc)
        return _MISSING


def has_default(value: Any) -> bool:
    """Whether `widget_default` found one."""
    return value is not _MISSING


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
        warn_once("SessionState._new_widget_state", exc)
    return found


def widget_kind(key: str) -> str | None:
    """What kind of widget owns ``key`` in this session, e.g. ``"text_input"``.

    Returns:
        A snake_case widget name derived from Streamlit's value (de)serializer class
        (``text_input``, ``text_area``, ``multi_select``, ``button``, ...); None for a key
        set through ``st.session_state`` with no widget, or when unknown.
    """
    meta = _metadata(key)
    if meta is None:
        return None
    try:
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
        warn_once("widget metadata", exc)
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
    meta = _metadata(key)
    return None if meta is None else str(meta.value_type)
