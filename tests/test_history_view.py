"""The history panel's view of a room: items, summaries, differences, times in words."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from crdt_sync.components.history_view import (
    ago,
    compare,
    item_of,
    items_of,
    label_of,
    names,
    summarize,
    when,
)

NOW = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)


def test_a_whiteboards_keys_are_one_item_summed_up_by_what_is_drawn() -> None:
    then = {
        "wb:board:e01": {
            "kind": "table",
            "value": {"s1": {"type": "pen"}, "s2": {"type": "pen"}, "n1": {"type": "note"}},
        },
        "wb:board:e02": {"kind": "table", "value": {"r1": {"type": "rect"}}},
        "wb:board:t:n1": {"kind": "text", "value": "hello"},
    }
    now = {"wb:board:e01": {"kind": "table", "value": {}}}
    [row] = compare(then, now)
    assert row.item == "wb:board:" and row.label == "whiteboard board"
    assert row.keys == ("wb:board:e01", "wb:board:e02", "wb:board:t:n1")
    assert row.then == "2 strokes, 1 shape, 1 note"
    assert row.now == "empty"
    assert row.differs
    assert items_of(["title", "wb:board:e01", "wb:board:t:x", "level"]) == [
        "title",
        "wb:board:",
        "level",
    ]
    assert item_of("wb:") == "wb:" and label_of("wb:b:") == "whiteboard b"


def test_rows_say_what_differs_from_now_and_what_was_not_there() -> None:
    then = {
        "title": {"kind": "text", "value": "Q3"},
        "level": {"kind": "register", "value": 3},
        "tags": {"kind": "set", "value": ["a", "b"]},
    }
    now = {
        "title": {"kind": "text", "value": "Q4"},
        "level": {"kind": "register", "value": 3},
        "tags": {"kind": "set", "value": ["b", "a"]},  # a set: same, in another order
        "tasks": {"kind": "table", "value": {"r1": {"task": "x"}, "r2": {"task": "y"}}},
    }
    rows = {r.item: r for r in compare(then, now)}
    assert [r.item for r in compare(then, now)] == ["level", "tags", "tasks", "title"]
    assert (rows["title"].then, rows["title"].now, rows["title"].differs) == ("'Q3'", "'Q4'", True)
    assert not rows["level"].differs and not rows["tags"].differs
    assert (rows["tasks"].then, rows["tasks"].now, rows["tasks"].differs) == ("—", "2 rows", True)
    # A register that changed kind differs even if it looks the same.
    assert compare(
        {"k": {"kind": "register", "value": "a"}}, {"k": {"kind": "text", "value": "a"}}
    )[0].differs


def test_big_values_are_summed_up_small_ones_shown() -> None:
    assert summarize("register", 42) == "42"
    assert summarize("register", True) == "True"
    assert summarize("register", date(2026, 2, 1)) == "2026-02-01"
    assert summarize("register", ["North", "South"]) == "['North', 'South']"
    assert summarize("register", list(range(100))) == "100 items"
    assert summarize("register", {f"k{i}": i for i in range(40)}) == "40 fields"
    assert summarize("list", [1]) == "[1]"
    assert summarize("table", {"r1": {}}) == "1 row"
    assert summarize("text", "") == "(empty text)"
    long = summarize("text", "x" * 500)
    assert long.endswith("(500 characters)") and len(long) < 100
    assert summarize("counter", 7) == "7"


def test_times_in_words() -> None:
    assert when(NOW - timedelta(minutes=55), now=NOW) == "09:05:00"
    assert when(NOW - timedelta(days=1), now=NOW) == "yesterday 10:00"
    assert when(datetime(2026, 11, 6, 9, 5, tzinfo=UTC), now=NOW) == "Nov 6, 09:05"
    assert when(datetime(2025, 11, 6, 9, 5, tzinfo=UTC), now=NOW) == "Nov 6 2025, 09:05"
    assert when(datetime(2026, 12, 7, 9, 5), now=NOW) == "09:05:00"  # naive: UTC
    berlin = ZoneInfo("Europe/Berlin")
    assert when(datetime(2026, 12, 7, 9, 5, tzinfo=UTC), now=NOW, tz=berlin) == "10:05:00"
    assert ago(NOW - timedelta(seconds=3), now=NOW) == "just now"
    assert ago(NOW - timedelta(seconds=42), now=NOW) == "42 s ago"
    assert ago(NOW - timedelta(minutes=5), now=NOW) == "5 min ago"
    assert ago(NOW - timedelta(hours=3), now=NOW) == "3 h ago"
    assert ago(NOW - timedelta(days=1), now=NOW) == "1 day ago"
    assert ago(NOW - timedelta(days=3), now=NOW) == "3 days ago"


def test_names_lists_a_few_and_counts_the_rest() -> None:
    assert names([]) == "nothing"
    assert names(["ann"]) == "ann"
    assert names(["a", "b", "c"]) == "a, b, c"
    assert names(["a", "b", "c", "d", "e"]) == "a, b, c and 2 more"
