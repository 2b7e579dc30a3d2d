"""What an ``st.data_editor`` change record changes in a shared table, applied once.

The editor's record is cumulative and counts rows by position in the data that page was
given; a page's *memory* keeps that data and what was applied already, so each edit is
applied once, to the rows the person saw.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from ..doc import Room
from .table_frames import ColumnKind, to_frame, to_python

_UNSET: Any = object()


def new_memory(
    rows: Mapping[str, Mapping[str, Any]],
    kinds: Mapping[str, ColumnKind],
    replacing: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """What a page's editor is given: the table now, and none of its edits applied yet.

    Args:
        rows: The table's rows.
        kinds: Its column kinds.
        replacing: The memory of the editor this one replaces, if any. The new frame's
            index name differs from its frame's (``None`` / ``""``; not shown): Streamlit
            names an editor after its data, and an editor given the very data of the one
            it replaces (an undo back to the rows it was built from) would otherwise be
            the same editor, still showing the person's edits in the grid.
    """
    frame = to_frame(rows, kinds)
    if replacing is not None and replacing["frame"].index.name is None:
        frame.index.name = ""
    return {
        "kinds": dict(kinds),
        "ids": list(rows),
        "base": {r: dict(cells) for r, cells in rows.items()},
        "frame": frame,
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
