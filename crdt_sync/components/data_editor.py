"""``crdt_sync.data_editor(name, data)``: one ``st.data_editor`` table shared by a room.

```py
tasks = pd.DataFrame({"task": ["Write docs"], "done": [False], "due": [date(2026, 12, 1)]})
crdt_sync.data_editor("tasks", tasks, key="tasks")
```

The table lives in the room as rows of cells (`crdt_sync.doc.Table`): what one person
changes is the cells they edited, the rows they added and the rows they deleted, never the
whole table, so two people editing different cells of one row, or adding rows at the same
time, all keep their changes, and a deleted row stays deleted. ``data`` seeds the table:
its rows are added once (by index label), and never again after someone deleted them.

``st.data_editor`` cannot be given a value through ``st.session_state``, so the merged table
comes in as the editor's data; the person's changes are read from the editor's change
record (``edited_rows``, ``added_rows``, ``deleted_rows``) against the rows that page was
shown.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping
from typing import Any

import pandas as pd
import streamlit as st

from ..bridge import runtime
from ..bridge.sessions import registry
from ..bridge.sync import private
from ..doc import validate_room_name
from . import editing_probe
from .table_edits import apply_changes as apply_changes
from .table_edits import expected as expected
from .table_edits import new_memory as new_memory
from .table_frames import ColumnKind as ColumnKind
from .table_frames import column_kinds as column_kinds
from .table_frames import seed as seed
from .table_frames import to_frame as to_frame
from .table_frames import to_python as to_python

log = logging.getLogger("crdt_sync.data_editor")

MEMORIES = 4
"""Editors of a page remembered (their data, what was applied): a page a few reruns behind
can still report edits made in an editor that was replaced meanwhile."""
QUIET = 1.5
"""Seconds after this page's last edit, or after it closed a cell editor, before others'
changes rebuild its editor (the grid sends a committed cell a moment after Enter)."""


def data_editor(
    name: str,
    data: pd.DataFrame | None = None,
    *,
    key: str | None = None,
    room: str | None = None,
    read_only: bool = False,
    **editor_kwargs: Any,
) -> pd.DataFrame:
    """A table everyone in the room edits together: cell edits, added and deleted rows merge.

    Args:
        name: The table's key in the room.
        data: Rows to start with (seeded once, by index label) and the column types.
        key: The editor's widget key (default ``crdt_sync_table_<name>``).
        room: The room (default: the room of the last ``sync`` block, else ``name``).
        read_only: Show the table live but allow no edits.
        **editor_kwargs: Passed on to ``st.data_editor`` (``column_config``, ``height``...).

    Returns:
        The merged table (this page's edits included); its index holds the row ids.

    Raises:
        RuntimeError: Outside a running Streamlit app.
    """
    session = runtime.session_id()
    if session is None:
        raise RuntimeError("crdt_sync.data_editor only works inside a running Streamlit app")
    room_name = room or registry.current_room(session) or name
    validate_room_name(room_name)
    key = key or f"crdt_sync_table_{name}"
    shared = registry.watch(session, room_name, [name], fragment=runtime.fragment_id())
    shared.undo_manager(session)  # before this session's first change
    table = shared.table(name)
    kinds = column_kinds(data, table)
    if data is not None and not read_only:
        seed(table, data, kinds)
    memory_key = _memory_key(room_name, name, key)
    memories = st.session_state.setdefault(memory_key, {})
    now = time.monotonic()
    # Apply this page's edits first: to the editor it has now and, if it had not caught up
    # with a rerun that replaced its editor, to the one it still shows.
    for wid, changes in runtime.reported_widget_values(key).items():
        memory = memories.get(wid)
        if memory is None or not isinstance(changes, Mapping) or read_only:
            continue
        if apply_changes(shared, name, changes, memory, origin=session):
            st.session_state[f"{memory_key}:edited"] = now
    rows = table.rows()
    current = memories.get(runtime.widget_id(key) or "")
    if current is None or current["kinds"] != kinds:
        current = new_memory(rows, kinds, current)
    elif expected(current) != rows:
        # Someone else changed the table. Showing it rebuilds the editor, which drops a
        # cell being typed in: while this page has a cell editor open, wait (closing it
        # reruns the page), and after an edit wait for a pause.
        probe = _probe_key(key)
        edited = st.session_state.get(f"{memory_key}:edited", -QUIET)
        quiet_at = max(edited, editing_probe.closed_at(probe)) + QUIET
        if editing_probe.editing(probe):
            # Pushed reruns are held while the cell editor is open; this one waits for
            # its closing too, and shows the table then (nothing else may push it: the
            # change was this page's own, an undo, or was read in this run already).
            runtime.scheduler.push(session, {runtime.fragment_id()}, _always)
        elif now >= quiet_at:
            current = new_memory(rows, kinds, current)
        else:
            _rerun_later(session, runtime.fragment_id(), quiet_at - now)
    # Otherwise the editor keeps the data it had, so it is not rebuilt (nor its selection).
    editor_kwargs.setdefault("hide_index", True)
    editor_kwargs.setdefault("width", "stretch")
    with st.container(gap=None):
        st.data_editor(
            current["frame"],
            key=key,
            num_rows="fixed" if read_only else "dynamic",
            disabled=read_only,
            **editor_kwargs,
        )
        if not read_only:
            editing_probe.editing_probe(_probe_key(key))
    editor_id = runtime.widget_id(key)
    if editor_id is not None:
        memories[editor_id] = current
        for old in list(memories)[:-MEMORIES]:
            del memories[old]
    return to_frame(rows, kinds, index=True)


def _probe_key(key: str) -> str:
    # Private: inside a sync block the probe's state must stay this page's own.
    return private(f"{key}:crdt_sync_editing")


def _always() -> bool:
    return True


def _rerun_later(session: str, fragment: str | None, delay: float) -> None:
    # `_always`: a check another push left for the session must not cancel this one.
    timer = threading.Timer(delay, runtime.scheduler.push, args=(session, {fragment}, _always))
    timer.daemon = True
    timer.start()


def _memory_key(room: str, name: str, key: str) -> str:
    return f"_crdt_sync_de:{room}:{name}:{key}"
