"""Tests of crdt_sync.components.data_editor without a browser: how an st.data_editor change
record becomes cell, row-add and row-delete operations, and how types survive."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd
import pytest
from replicas import sync

from crdt_sync.components.data_editor import (
    apply_changes,
    column_kinds,
    expected,
    new_memory,
    seed,
    to_frame,
    to_python,
)
from crdt_sync.doc import Room


def tasks() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "task": ["Write docs", "Fix bug"],
            "points": [3, 5],
            "done": [False, True],
            "due": [dt.date(2026, 12, 1), dt.date(2026, 12, 5)],
            "score": [0.5, 1.25],
        }
    )


def seeded(room: Room | None = None) -> tuple[Room, dict[str, Any]]:
    room = room or Room("r")
    table = room.table("tasks")
    kinds = column_kinds(tasks(), table)
    seed(table, tasks(), kinds)
    return room, new_memory(table.rows(), kinds)


def record(edited: Any = None, added: Any = None, deleted: Any = None) -> dict[str, Any]:
    return {"edited_rows": edited or {}, "added_rows": added or [], "deleted_rows": deleted or []}


def test_seed_adds_rows_by_index_label_with_python_types() -> None:
    room, _ = seeded()
    rows = room.table("tasks").rows()
    assert rows == {
        "0": {
            "task": "Write docs",
            "points": 3,
            "done": False,
            "due": dt.date(2026, 12, 1),
            "score": 0.5,
        },
        "1": {
            "task": "Fix bug",
            "points": 5,
            "done": True,
            "due": dt.date(2026, 12, 5),
            "score": 1.25,
        },
    }
    assert type(rows["0"]["points"]) is int and type(rows["0"]["done"]) is bool


def test_seed_is_idempotent_and_never_revives_a_deleted_row() -> None:
    room, _ = seeded()
    table = room.table("tasks")
    table.set_cell("0", "task", "edited")
    table.delete_row("1")
    kinds = column_kinds(tasks(), table)
    assert seed(table, tasks(), kinds) == 0
    assert list(table.rows()) == ["0"]
    assert table.get_cell("0", "task") == "edited"


def test_column_kinds_from_dtypes_and_from_stored_values() -> None:
    room, memory = seeded()
    assert memory["kinds"] == {
        "task": "str",
        "points": "int",
        "done": "bool",
        "due": "date",
        "score": "float",
    }
    assert column_kinds(None, room.table("tasks")) == memory["kinds"]


def test_a_cell_edit_sets_one_cell_with_its_type() -> None:
    room, memory = seeded()
    assert (
        apply_changes(room, "tasks", record({0: {"points": 8.0, "due": "2027-01-02"}}), memory) == 2
    )
    row = room.table("tasks").rows()["0"]
    assert row["points"] == 8 and type(row["points"]) is int
    assert row["due"] == dt.date(2027, 1, 2)
    assert row["task"] == "Write docs"


def test_the_cumulative_record_is_applied_once() -> None:
    room, memory = seeded()
    apply_changes(room, "tasks", record({0: {"task": "mine"}}), memory)
    room.table("tasks").set_cell("0", "task", "someone else, later")
    # The editor reports its whole history again, plus a new edit.
    apply_changes(room, "tasks", record({0: {"task": "mine"}, 1: {"done": False}}), memory)
    rows = room.table("tasks").rows()
    assert rows["0"]["task"] == "someone else, later"
    assert rows["1"]["done"] is False


def test_different_cells_of_one_row_from_two_pages_both_kept() -> None:
    a, memory_a = seeded()
    b = Room("r")
    b.merge(a.export())
    memory_b = new_memory(b.table("tasks").rows(), memory_a["kinds"])
    apply_changes(a, "tasks", record({0: {"task": "by A"}}), memory_a, origin="A")
    apply_changes(b, "tasks", record({0: {"points": 42}}), memory_b, origin="B")
    sync(a, b)
    for room in (a, b):
        row = room.table("tasks").rows()["0"]
        assert (row["task"], row["points"]) == ("by A", 42)


def test_rows_added_at_the_same_time_are_all_kept() -> None:
    a, memory_a = seeded()
    b = Room("r")
    b.merge(a.export())
    memory_b = new_memory(b.table("tasks").rows(), memory_a["kinds"])
    apply_changes(a, "tasks", record(added=[{"task": "from A"}]), memory_a)
    apply_changes(b, "tasks", record(added=[{"task": "from B", "points": 2}]), memory_b)
    sync(a, b)
    for room in (a, b):
        tasks_ = [cells.get("task") for cells in room.table("tasks").rows().values()]
        assert sorted(tasks_) == ["Fix bug", "Write docs", "from A", "from B"]


def test_typing_into_an_added_row_updates_that_row() -> None:
    room, memory = seeded()
    apply_changes(room, "tasks", record(added=[{}]), memory)
    apply_changes(room, "tasks", record(added=[{"task": "new"}]), memory)
    apply_changes(room, "tasks", record(added=[{"task": "new", "points": 1}]), memory)
    rows = room.table("tasks").rows()
    assert len(rows) == 3
    assert rows[memory["added_ids"][0]] == {"task": "new", "points": 1}


def test_removing_an_added_row_deletes_it() -> None:
    room, memory = seeded()
    apply_changes(room, "tasks", record(added=[{"task": "x"}, {"task": "y"}]), memory)
    apply_changes(room, "tasks", record(added=[{"task": "y"}]), memory)
    assert sorted(c.get("task") for c in room.table("tasks").rows().values()) == [
        "Fix bug",
        "Write docs",
        "y",
    ]


def test_deleted_rows_stay_deleted_even_if_edited_meanwhile() -> None:
    a, memory_a = seeded()
    b = Room("r")
    b.merge(a.export())
    memory_b = new_memory(b.table("tasks").rows(), memory_a["kinds"])
    apply_changes(a, "tasks", record(deleted=[1]), memory_a)
    apply_changes(b, "tasks", record({1: {"task": "edited"}}), memory_b)
    sync(a, b)
    assert list(a.table("tasks").rows()) == list(b.table("tasks").rows()) == ["0"]


def test_an_edit_of_a_row_deleted_before_is_dropped() -> None:
    room, memory = seeded()
    room.table("tasks").delete_row("1")
    assert apply_changes(room, "tasks", record({1: {"task": "late"}}), memory) == 0


def test_expected_matches_when_only_this_page_changed_the_table() -> None:
    room, memory = seeded()
    apply_changes(room, "tasks", record({0: {"task": "t"}}, [{"task": "n"}], [1]), memory)
    assert expected(memory) == room.table("tasks").rows()
    room.table("tasks").set_cell("0", "points", 99)  # someone else
    assert expected(memory) != room.table("tasks").rows()


def test_one_record_is_one_transaction_with_the_origin() -> None:
    room, memory = seeded()
    origins: list[object] = []
    room.observe(lambda event: origins.append(event.origin))
    apply_changes(
        room, "tasks", record({0: {"task": "t"}}, [{"task": "n"}], [1]), memory, origin="s"
    )
    assert origins == ["s"]


@pytest.mark.parametrize(
    ("value", "kind", "result"),
    [
        (np.int64(3), "int", 3),
        (4.0, "int", 4),
        (np.float64(1.5), "float", 1.5),
        (np.bool_(True), "bool", True),
        ("true", "bool", True),
        (pd.NA, "int", None),
        (float("nan"), "float", None),
        (pd.NaT, "datetime", None),
        ("", "date", None),
        ("", "str", ""),
        ("2026-12-01", "date", dt.date(2026, 12, 1)),
        ("2026-12-01T10:30:00", "datetime", dt.datetime(2026, 12, 1, 10, 30)),
        (pd.Timestamp("2026-12-01 10:30"), "datetime", dt.datetime(2026, 12, 1, 10, 30)),
        ("10:30:00", "time", dt.time(10, 30)),
        (12, "str", "12"),
    ],
)
def test_to_python(value: Any, kind: Any, result: Any) -> None:
    converted = to_python(value, kind)
    assert converted == result and type(converted) is type(result)


def test_to_frame_keeps_types_and_missing_values() -> None:
    room, memory = seeded()
    apply_changes(room, "tasks", record(added=[{"task": "n"}]), memory)
    frame = to_frame(room.table("tasks").rows(), memory["kinds"], index=True)
    assert str(frame["points"].dtype) == "Int64"
    assert str(frame["done"].dtype) == "boolean"
    assert frame["points"].isna().sum() == 1
    assert list(frame.index[:2]) == ["0", "1"]
    assert isinstance(frame["due"].iloc[0], dt.date)
