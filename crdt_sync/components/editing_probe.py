"""A hidden component that reports whether a data-grid cell editor is open on the page.

The server cannot see a cell being typed in: the grid sends nothing until the cell is
committed, and a rerun that reaches the page while its editor is open can make the grid
drop that cell. So `crdt_sync.data_editor` mounts this probe next to its grid. The probe's
script (``editing_probe.js``) watches the page's overlay layer, where the grid opens its
cell editors, and reports ``editing`` as they open and close. While one is open, reruns
pushed by others' changes are held back (`runtime.RerunScheduler.hold`); they are let
through once it closes. The probe lives in a fragment of its own, so its reports rerun
only the probe, never the grid.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from importlib import resources
from typing import Any

import streamlit as st

from ..bridge import runtime

COMPONENT = "crdt-sync.editing_probe"

_mount: Callable[..., Any] | None = None


def _component() -> Callable[..., Any]:
    global _mount
    if _mount is None:
        script = resources.files(__package__).joinpath("editing_probe.js").read_text("utf-8")
        _mount = st.components.v2.component(COMPONENT, html="<span></span>", js=script)
    return _mount


def editing(key: str) -> bool:
    """Whether the page of the probe ``key`` has a cell editor open.

    Args:
        key: The probe's widget key.

    Returns:
        What the page last reported (False before its first report).
    """
    state = st.session_state.get(key)
    return bool(state.get("editing")) if isinstance(state, Mapping) else False


def closed_at(key: str) -> float:
    """When (``time.monotonic()``) the page last closed a cell editor; -inf if never."""
    value = st.session_state.get(f"{key}:closed_at")
    return float(value) if isinstance(value, int | float) else float("-inf")


def _on_editing(key: str) -> None:
    """The probe reported: hold the session's pushed reruns, or let them through."""
    session = runtime.session_id()
    if session is None:
        return
    if editing(key):
        runtime.scheduler.hold(session)
    else:
        st.session_state[f"{key}:closed_at"] = time.monotonic()
        runtime.scheduler.release(session)


@st.fragment
def editing_probe(key: str) -> None:
    """Mount the probe (in its own fragment).

    Args:
        key: The probe's widget key; read it back with `editing` and `closed_at`.
    """
    _component()(
        key=key,
        default={"editing": False},
        on_editing_change=lambda: _on_editing(key),
        height="content",
    )
