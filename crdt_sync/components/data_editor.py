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

import datetime as dt
import logging
import math
import threading
import time
import uuid
from collections.abc import Mapping
from typing import Any, Literal

import pandas as pd
import streamlit as st

from ..bridge import runtime
from ..bridge.sessions import registry
from ..bridge.sync import private
from ..doc import Room, Table, validate_room_name
from . import editing_probe

log = logging.getLogger("crdt_sync.data_editor")

_UNSET = object()
MEMORIES = 4
"""Editors of a page remembered (their data, what was applied): a page a few reruns behind
can still report edits made in an editor that was replaced meanwhile."""
QUIET = 1.5
"""Seconds after this page's last edit, or after it closed a cell editor, before others'
changes rebuild its editor (the grid sends a committed cell a moment after Enter)."""

ColumnKind = Literal["int", "float", "bool", "str", "date", "datetime", "time"]
"""How a column's values are typed (kept through edits)."""


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
        current = new_memory(rows, kinds)
    elif expected(current) != rows:
        # Someone else changed the table. Showing it rebuilds the editor, which drops a
        # cell being typed in: while this page has a cell editor open, wait (closing it
        # reruns the page), and after an edit wait for a pause.
        probe = _probe_key(key)
        edited = st.session_state.get(f"{memory_key}:edited", -QUIET)
        quiet_at = max(edited, editing_probe.closed_at(probe)) + QUIET
        if editing_probe.editing(probe):
            pass
        elif now >= quiet_at:
            current = new_memory(rows, kinds)
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


def _rerun_later(session: str, fragment: str | None, delay: float) -> None:
    timer = threading.Timer(delay, runtime.scheduler.push, args=(session, {fragment}))
    timer.daemon = True
    timer.start()


def _memory_key(room: str, name: str, key: str) -> str:
    return f"_crdt_sync_de:{room}:{name}:{key}"


def new_memory(
    rows: Mapping[str, Mapping[str, Any]], kinds: Mapping[str, ColumnKind]
) -> dict[str, Any]:
    """What a page's editor is given: the table now, and none of its edits applied yet."""
    return {
        "kinds": dict(kinds),
        "ids": list(rows),
        "base": {r: dict(cells) for r, cells in rows.items()},
        "frame": to_frame(rows, kinds),
        "applied": {"edited_rows": {}, "added_rows": [], "deleted_rows": []},
        "added_ids": [],
    }


def expected(memory: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The table as it must be if nobody but this page changed it since it got its data."""
    rows = {r: dict(cells) for r, cells in memory["base"].items()}
    applied = memory["applied"]
    kinds = memory["kinds"]
    for position, cells in applied["edited_rows"].items():
        row = _row_at(memory["ids"], position)
        if row in rows:
            rows[row].update({c: to_python(v, kinds[c]) for c, v in cells.items() if c in kinds})
    for row, values in zip(memory["added_ids"], applied["added_rows"], strict=False):
        rows[row] = {c: to_python(v, kinds[c]) for c, v in values.items() if c in kinds}
    for position in applied["deleted_rows"]:
        rows.pop(_row_at(memory["ids"], position) or "", None)
    return rows


def apply_changes(
    room: Room,
    name: str,
    changes: Mapping[str, Any],
    memory: dict[str, Any],
    *,
    origin: Any = None,
) -> int:
    """Apply what is new in an ``st.data_editor`` change record to the room's table.

    The editor's record is cumulative (everything edited since it got its data); what
    ``memory`` says was applied already is skipped, so each edit is applied once. All of it
    happens in one transaction (one undo step).

    Args:
        room: The room.
        name: The table's key.
        changes: ``{"edited_rows": {position: {column: value}}, "added_rows": [{column:
            value}], "deleted_rows": [position]}``, positions into the rows the page shows.
        memory: What the page was given (`new_memory`); updated.
        origin: Transaction origin (the session id).

    Returns:
        How many cells set, rows added and rows deleted.
    """
    table = room.table(name)
    kinds: Mapping[str, ColumnKind] = memory["kinds"]
    ids: list[str] = memory["ids"]
    applied = memory["applied"]
    edited = {str(p): dict(c) for p, c in dict(changes.get("edited_rows") or {}).items()}
    added = [dict(v) for v in list(changes.get("added_rows") or []) if isinstance(v, Mapping)]
    deleted = [p for p in list(changes.get("deleted_rows") or [])]
    done = 0
    with room.transaction(origin):
        for position, cells in edited.items():
            row = _row_at(ids, position)
            before = applied["edited_rows"].get(position, {})
            if row is None or row not in table:
                continue  # deleted meanwhile: a deleted row stays deleted
            for column, value in cells.items():
                if column in kinds and (column not in before or before[column] != value):
                    table.set_cell(row, column, to_python(value, kinds[column]))
                    done += 1
        added_ids: list[str] = memory["added_ids"]
        if len(added) < len(added_ids):  # the person removed rows they had added
            keep = _align(applied["added_rows"], added)
            for i, row in enumerate(added_ids):
                if i not in keep and row in table:
                    table.delete_row(row)
                    done += 1
            added_ids = [added_ids[i] for i in sorted(keep)]
            applied_added = [applied["added_rows"][i] for i in sorted(keep)]
        else:
            applied_added = list(applied["added_rows"])
        for i, values in enumerate(added):
            typed = {c: to_python(v, kinds[c]) for c, v in values.items() if c in kinds}
            if i >= len(added_ids):
                added_ids.append(table.add_row(typed, row_id=uuid.uuid4().hex[:12]))
                done += 1
            elif values != applied_added[i] and added_ids[i] in table:
                for column, value in typed.items():
                    if applied_added[i].get(column, _UNSET) != values[column]:
                        table.set_cell(added_ids[i], column, value)
                        done += 1
        for position in deleted:
            row = _row_at(ids, position)
            if position not in applied["deleted_rows"] and row is not None and row in table:
                table.delete_row(row)
                done += 1
    memory["added_ids"] = added_ids
    memory["applied"] = {"edited_rows": edited, "added_rows": added, "deleted_rows": deleted}
    return done


def _align(old: list[dict[str, Any]], new: list[dict[str, Any]]) -> set[int]:
    """Which of ``old`` (by index) survive in ``new``, matched in order (best effort)."""
    keep: set[int] = set()
    j = 0
    for i, values in enumerate(old):
        if j < len(new) and len(old) - i > len(new) - j and new[j] != values:
            continue  # this one was removed
        if j < len(new):
            keep.add(i)
            j += 1
    return keep


def _row_at(rows: list[str], position: object) -> str | None:
    try:
        index = int(position)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return None
    return rows[index] if 0 <= index < len(rows) else None


# ---------------------------------------------------------------------- types


def column_kinds(data: pd.DataFrame | None, table: Table) -> dict[str, ColumnKind]:
    """Each column's value type: from ``data``'s dtypes, else from the stored values."""
    kinds: dict[str, ColumnKind] = {}
    if data is not None:
        for column in data.columns:
            kinds[str(column)] = _kind_of_series(data[column])
    for cells in table.rows().values():
        for column, value in cells.items():
            if column not in kinds and value is not None:
                kinds[column] = _kind_of_value(value)
    return kinds


def _kind_of_series(series: pd.Series) -> ColumnKind:
    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return "bool"
    if pd.api.types.is_integer_dtype(dtype):
        return "int"
    if pd.api.types.is_float_dtype(dtype):
        return "float"
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return "datetime"
    for value in series:
        if value is not None and not (isinstance(value, float) and math.isnan(value)):
            return _kind_of_value(value)
    return "str"


def _kind_of_value(value: object) -> ColumnKind:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, dt.datetime):
        return "datetime"
    if isinstance(value, dt.date):
        return "date"
    if isinstance(value, dt.time):
        return "time"
    return "str"


def to_python(value: Any, kind: ColumnKind) -> Any:
    """A value from pandas/numpy or from the editor's JSON, as the column's Python type.

    Missing values (None, NaN, NaT, ``pd.NA``, "") become None.
    """
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if hasattr(value, "item") and not isinstance(value, str | bytes):
        value = value.item()  # numpy scalar -> Python
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, str) and not value.strip() and kind != "str":
        return None
    if kind == "bool":
        return value.lower() in ("true", "1", "yes") if isinstance(value, str) else bool(value)
    if kind == "int":
        number = float(value)
        return int(number) if number.is_integer() else number
    if kind == "float":
        return float(value)
    if kind == "datetime":
        if isinstance(value, pd.Timestamp):
            return value.to_pydatetime()
        if isinstance(value, dt.datetime):
            return value
        if isinstance(value, int | float):
            return dt.datetime.fromtimestamp(value / 1000, dt.timezone.utc).replace(tzinfo=None)
        return dt.datetime.fromisoformat(str(value))
    if kind == "date":
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, dt.date):
            return value
        if isinstance(value, int | float):
            return dt.datetime.fromtimestamp(value / 1000, dt.timezone.utc).date()
        return dt.date.fromisoformat(str(value)[:10])
    if kind == "time":
        if isinstance(value, dt.time):
            return value
        return dt.time.fromisoformat(str(value))
    return str(value)


def seed(table: Table, data: pd.DataFrame, kinds: Mapping[str, ColumnKind]) -> int:
    """Add the rows of ``data`` the table has never had (by index label). Returns how many.

    Rows someone deleted are not brought back; rows someone edited are left as they are.
    """
    added = 0
    for label, row in data.iterrows():
        row_id = str(label)
        if row_id in table:
            continue
        values = {str(c): to_python(v, kinds[str(c)]) for c, v in row.items()}
        try:
            table.add_row(values, row_id=row_id)
        except KeyError:
            continue  # deleted: stays deleted
        added += 1
    return added


def to_frame(
    rows: Mapping[str, Mapping[str, Any]], kinds: Mapping[str, ColumnKind], *, index: bool = False
) -> pd.DataFrame:
    """Table rows as a DataFrame with typed columns; indexed by row id if ``index``, else
    by position (what ``st.data_editor`` needs to let people add rows)."""
    ids = list(rows)
    labels = pd.Index(ids, dtype="object") if index else pd.RangeIndex(len(ids))
    columns = {
        column: _series([rows[r].get(column) for r in ids], kind, labels)
        for column, kind in kinds.items()
    }
    return pd.DataFrame(columns, index=labels)


def _series(values: list[Any], kind: ColumnKind, index: pd.Index) -> pd.Series:
    if kind == "int":
        if all(v is None or (isinstance(v, int) and not isinstance(v, bool)) for v in values):
            return pd.Series(values, index=index, dtype="Int64")
        return pd.Series(values, index=index, dtype="float64")
    if kind == "float":
        return pd.Series(
            [math.nan if v is None else v for v in values], index=index, dtype="float64"
        )
    if kind == "bool":
        return pd.Series(values, index=index, dtype="boolean")
    if kind == "datetime":
        return pd.Series(pd.to_datetime(values), index=index)
    return pd.Series(values, index=index, dtype="object")
