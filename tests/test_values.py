"""Tests of crdt_sync.doc.values: text, counter, list, set and table, alone and merging."""

from __future__ import annotations

import ast
import datetime as dt
import inspect
from typing import Any

import pytest
from pycrdt import Doc
from pycrdt import Text as YText
from replicas import replicas, sync

from crdt_sync.doc import Room, RoomEvent
from crdt_sync.doc.text_edits import TextEdit

# ------------------------------------------------------------------ text


def test_text_basics() -> None:
    room = Room("r")
    notes = room.text("notes")
    assert str(notes) == ""
    assert notes.update("hello world") is True
    assert notes.update("hello world") is False
    notes.insert(0, ">> ")
    notes.delete(3, 6)
    assert str(notes) == ">> world"
    assert len(notes) == 8
    assert notes == ">> world"
    assert notes != "world"
    assert repr(notes) == "Text('r', 'notes')"


def test_text_update_takes_a_str() -> None:
    notes = Room("r").text("notes")
    with pytest.raises(TypeError, match=r"^text 'notes' takes a str, got int$"):
        notes.update(3)  # type: ignore[arg-type]


def test_text_edit_out_of_range_is_an_index_error() -> None:
    notes = Room("r").text("notes")
    notes.update("abc")
    with pytest.raises(IndexError) as info:
        notes.insert(4, "x")
    assert str(info.value) == (
        "text 'notes' in room 'r' has 3 characters; cannot edit at 4 (delete 0)"
    )
    with pytest.raises(
        IndexError, match=r"^text 'notes' in room 'r' has 3 characters; cannot edit at -1 "
    ):
        notes.delete(-1, 1)
    assert str(notes) == "abc"


def test_text_update_is_minimal_so_edits_in_different_places_both_survive() -> None:
    a, b = replicas()
    a.text("t").update("the quick brown fox")
    sync(a, b)
    a.text("t").update("The quick brown fox")  # capitalised
    b.text("t").update("the quick brown fox jumps")  # appended
    sync(a, b)
    assert str(a.text("t")) == str(b.text("t")) == "The quick brown fox jumps"


def test_text_update_sends_a_small_update_not_the_whole_text() -> None:
    room = Room("r")
    room.text("t").update("x" * 5000)
    events: list[RoomEvent] = []
    room.observe(events.append)
    room.text("t").update("x" * 2500 + "y" + "x" * 2500)
    assert len(events) == 1
    assert len(events[0].update) < 100


def test_text_update_with_base_keeps_what_arrived_meanwhile() -> None:
    a, b = replicas()
    a.text("t").update("hello world")
    sync(a, b)
    seen_by_ann = str(a.text("t"))
    b.text("t").update("hello big world")
    sync(a, b)
    # Ann typed "!" into the view she had before bob's edit arrived.
    assert a.text("t").update("hello world!", base=seen_by_ann) is True
    sync(a, b)
    assert str(a.text("t")) == str(b.text("t")) == "hello big world!"


def test_text_update_without_base_would_undo_what_arrived_meanwhile() -> None:
    # The reason for ``base``: diffing against the current text deletes bob's word.
    a, b = replicas()
    a.text("t").update("hello world")
    sync(a, b)
    b.text("t").update("hello big world")
    sync(a, b)
    a.text("t").update("hello world!")
    assert str(a.text("t")) == "hello world!"


def test_text_update_with_base_equal_to_current_is_a_plain_update() -> None:
    notes = Room("r").text("t")
    notes.update("abc")
    notes.update("abXc", base="abc")
    assert str(notes) == "abXc"


def test_text_positions_count_characters_not_utf8_bytes() -> None:
    # Bare pycrdt indexes a Text by UTF-8 byte: character index 2 is inside "é".
    doc: Doc[Any] = Doc()
    raw = doc.get("t", type=YText)
    raw += "héllo"
    raw.insert(2, "X")
    assert str(raw) != "héXllo"

    notes = Room("r").text("t")
    notes.update("héllo")
    notes.insert(2, "X")
    assert str(notes) == "héXllo"
    notes.update("a😀b")
    notes.insert(2, "X")
    assert str(notes) == "a😀Xb"
    notes.delete(1, 1)
    assert str(notes) == "aXb"
    notes.update("👩‍👩‍👧 😀 ünïcödé")
    notes.update("👩‍👩‍👧 😀😀 ünïcödé!")
    assert str(notes) == "👩‍👩‍👧 😀😀 ünïcödé!"
    assert len(notes) == len("👩‍👩‍👧 😀😀 ünïcödé!")


def test_text_unicode_edits_merge_across_replicas() -> None:
    a, b = replicas()
    a.text("t").update("日本語のテキスト 😀")
    sync(a, b)
    a.text("t").update("日本語の長いテキスト 😀")
    b.text("t").update("日本語のテキスト 😀🎉")
    sync(a, b)
    assert str(a.text("t")) == str(b.text("t")) == "日本語の長いテキスト 😀🎉"


def test_text_apply_edits_last_position_first() -> None:
    notes = Room("r").text("t")
    notes.update("abcdef")
    notes.apply([TextEdit(4, 1, "E"), TextEdit(1, 2, "")])
    assert str(notes) == "adEf"


def test_text_update_origin_reaches_observers() -> None:
    room = Room("r")
    notes = room.text("t")
    events: list[RoomEvent] = []
    room.observe(events.append)
    notes.update("hi", origin="ann")
    assert [(e.keys, e.origin) for e in events] == [(frozenset({"t"}), "ann")]


# ------------------------------------------------------------------ counter


def test_counter_basics() -> None:
    clicks = Room("r").counter("clicks")
    assert clicks.value == 0
    assert clicks.increment() == 1
    assert clicks.increment(5) == 6
    assert clicks.decrement(2) == 4
    assert type(clicks.value) is int
    assert int(clicks) == 4
    assert clicks.increment(0.5) == 4.5


def test_counter_takes_numbers_only() -> None:
    clicks = Room("r").counter("clicks")
    with pytest.raises(TypeError, match=r"^counter 'clicks' adds numbers, got bool$"):
        clicks.increment(True)
    with pytest.raises(TypeError, match="got str"):
        clicks.increment("1")  # type: ignore[arg-type]
    assert clicks.value == 0


def test_counter_is_exact_under_concurrent_increments() -> None:
    rooms = replicas(3)
    for _ in range(10):
        for i, room in enumerate(rooms):
            room.counter("n").increment(i + 1)
        rooms[0].counter("n").decrement()
        sync(*rooms)  # every replica read-modify-writes on stale values each round
    assert [room.counter("n").value for room in rooms] == [50, 50, 50]


def test_counter_keeps_huge_values_exact() -> None:
    a, b = replicas()
    a.counter("n").increment(2**70)
    b.counter("n").increment(1)
    sync(a, b)
    assert a.counter("n").value == b.counter("n").value == 2**70 + 1


# ------------------------------------------------------------------ list


def test_list_basics() -> None:
    todo = Room("r").list("todo")
    todo.append("milk")
    todo.extend(["eggs", (1, 2)])
    todo.insert(0, dt.date(2024, 1, 2))
    assert len(todo) == 4
    assert todo[0] == dt.date(2024, 1, 2)
    assert todo[-1] == (1, 2)
    assert todo[1:3] == ["milk", "eggs"]
    assert list(todo) == [dt.date(2024, 1, 2), "milk", "eggs", (1, 2)]
    todo[1] = "oat milk"
    del todo[0]
    assert todo.pop() == (1, 2)
    assert todo.to_list() == ["oat milk", "eggs"]
    todo.clear()
    assert todo.to_list() == []


def test_list_setitem_out_of_range() -> None:
    todo = Room("r").list("todo")
    todo.append(1)
    with pytest.raises(IndexError, match=r"^list 'todo' index 3 out of range \(1\)$"):
        todo[3] = 2
    todo[-1] = 5
    assert todo.to_list() == [5]


def test_list_concurrent_appends_and_inserts_are_all_kept_in_one_order() -> None:
    a, b = replicas()
    a.list("l").extend(["x", "y"])
    sync(a, b)
    a.list("l").append("a1")
    a.list("l").insert(0, "a0")
    b.list("l").append("b1")
    b.list("l").insert(1, "b0")
    sync(a, b)
    assert a.list("l").to_list() == b.list("l").to_list()
    assert sorted(a.list("l")) == ["a0", "a1", "b0", "b1", "x", "y"]


def test_list_concurrent_delete_of_one_item_removes_it_once() -> None:
    a, b = replicas()
    a.list("l").extend([1, 2, 3])
    sync(a, b)
    del a.list("l")[1]
    del b.list("l")[1]
    sync(a, b)
    assert a.list("l").to_list() == b.list("l").to_list() == [1, 3]


# ------------------------------------------------------------------ set


def test_set_basics() -> None:
    tags = Room("r").set("tags")
    tags.add("red")
    tags.update(["blue", "red", 1, True, "1", (1, 2)])
    assert len(tags) == 6
    assert "red" in tags and 1 in tags and True in tags and "1" in tags and (1, 2) in tags
    assert [1, 2] not in tags  # a list is not the tuple
    assert object() not in tags
    tags.discard("blue")
    tags.discard("never there")
    tags.remove("red")
    assert sorted(map(repr, tags)) == sorted(map(repr, [1, True, "1", (1, 2)]))


def test_set_remove_missing_names_value_set_and_room() -> None:
    tags = Room("r").set("tags")
    with pytest.raises(KeyError) as info:
        tags.remove("red")
    assert info.value.args == ("'red' is not in set 'tags' of room 'r'",)


def test_set_concurrent_add_and_remove_keeps_the_element() -> None:
    a, b = replicas()
    a.set("s").add("x")
    sync(a, b)
    a.set("s").discard("x")
    b.set("s").add("x")
    sync(a, b)
    assert "x" in a.set("s") and "x" in b.set("s")


def test_set_concurrent_adds_are_all_kept() -> None:
    a, b = replicas()
    a.set("s").update(["a", "shared"])
    b.set("s").update(["b", "shared"])
    sync(a, b)
    assert a.set("s").to_list() == b.set("s").to_list()  # one order on every replica
    assert sorted(a.set("s").to_list()) == ["a", "b", "shared"]


def test_set_keeps_the_order_elements_were_added_in() -> None:
    """Issue 12 case 9: a multiselect showed ``East, North, South, West`` on a page that
    joined later and ``North, South, East, West`` on the page that made the choices."""
    a, b = replicas()
    for region in ("North", "South", "East", "West"):
        a.set("regions").add(region)
    sync(a, b)
    assert a.set("regions").to_list() == b.set("regions").to_list()
    assert b.set("regions").to_list() == ["North", "South", "East", "West"]
    b.set("regions").discard("South")
    b.set("regions").add("South")  # removed, then added again: it comes last
    sync(a, b)
    assert a.set("regions").to_list() == ["North", "East", "West", "South"]


# ------------------------------------------------------------------ table


def test_table_basics() -> None:
    tasks = Room("r").table("tasks")
    first = tasks.add_row({"title": "write", "done": False})
    second = tasks.add_row({"title": "test"}, row_id="t2")
    assert second == "t2"
    assert len(first) == 12
    tasks.set_cell(first, "done", True)
    tasks.update_row("t2", {"done": False, "due": dt.date(2024, 3, 1)})
    assert tasks.get_cell(first, "done") is True
    assert tasks.get_cell(first, "missing", "n/a") == "n/a"
    assert tasks.rows() == {
        first: {"title": "write", "done": True},
        "t2": {"title": "test", "done": False, "due": dt.date(2024, 3, 1)},
    }
    assert list(tasks) == [first, "t2"]
    assert len(tasks) == 2
    assert set(tasks.columns()) == {"title", "done", "due"}
    tasks.delete_row(first)
    assert first not in tasks
    assert list(tasks) == ["t2"]


def test_table_errors_name_row_table_and_room() -> None:
    tasks = Room("r").table("tasks")
    with pytest.raises(KeyError) as info:
        tasks.set_cell("nope", "c", 1)
    assert info.value.args == ("no row 'nope' in table 'tasks' of room 'r'",)
    with pytest.raises(KeyError, match=r"^\"no row 'nope' in table 'tasks' of room 'r'\"$"):
        tasks.delete_row("nope")
    # Regression: an empty id was silently replaced by a random one.
    with pytest.raises(ValueError, match=r"^row ids are non-empty str without \\x1f, got ''$"):
        tasks.add_row({}, row_id="")
    with pytest.raises(ValueError, match=r"got 'a\\x1fb'$"):
        tasks.add_row({}, row_id="a\x1fb")
    assert len(tasks) == 0
    tasks.add_row({}, row_id="gone")
    tasks.delete_row("gone")
    with pytest.raises(KeyError, match="row 'gone' of table 'tasks' was deleted"):
        tasks.add_row({"a": 1}, row_id="gone")


def test_table_edits_of_different_cells_of_one_row_both_win() -> None:
    a, b = replicas()
    a.table("t").add_row({"title": "x", "owner": "nobody"}, row_id="r1")
    sync(a, b)
    a.table("t").set_cell("r1", "title", "ann's title")
    b.table("t").set_cell("r1", "owner", "bob")
    sync(a, b)
    expected = {"r1": {"title": "ann's title", "owner": "bob"}}
    assert a.table("t").rows() == b.table("t").rows() == expected


def test_table_deleted_row_stays_deleted_despite_a_concurrent_edit() -> None:
    a, b = replicas()
    a.table("t").add_row({"v": 1}, row_id="r1")
    a.table("t").add_row({"v": 2}, row_id="r2")
    sync(a, b)
    a.table("t").delete_row("r1")
    b.table("t").set_cell("r1", "v", 10)
    sync(a, b)
    assert a.table("t").rows() == b.table("t").rows() == {"r2": {"v": 2}}


def test_table_concurrent_row_adds_agree_on_order() -> None:
    a, b = replicas()
    a.table("t").add_row({"v": "a"}, row_id="a")
    b.table("t").add_row({"v": "b"}, row_id="b")
    sync(a, b)
    assert list(a.table("t")) == list(b.table("t")) == ["a", "b"]
    a.table("t").add_row({"v": "c"}, row_id="c")
    sync(a, b)
    assert list(b.table("t")) == ["a", "b", "c"]


# ------------------------------------------------------------- reads and writes, tracked


def _view_classes() -> dict[str, ast.ClassDef]:
    import crdt_sync.doc.table as table_module
    import crdt_sync.doc.values as values_module

    found = {}
    for module in (values_module, table_module):
        tree = ast.parse(inspect.getsource(module))
        for node in tree.body:
            if isinstance(node, ast.ClassDef) and any(
                isinstance(b, ast.Name) and b.id == "ValueView" for b in node.bases
            ):
                found[node.name] = node
    return found


def _is_self_attr(node: ast.AST, *names: str) -> bool:
    return (
        isinstance(node, ast.Attribute)
        and node.attr in names
        and isinstance(node.value, ast.Name)
        and node.value.id == "self"
    )


def test_every_container_method_touches_its_root_only_inside_reading_or_writing() -> None:
    """A container method that reads its pycrdt root outside ``self._reading()`` would
    escape `shared_state`'s read tracking (and the room's lock); one that writes outside
    ``self._writing()`` would lose the session's origin. New methods included."""
    classes = _view_classes()
    assert {"Text", "Counter", "List", "Set", "Table"} <= set(classes)
    escaped = []
    for cls in classes.values():
        for func in [n for n in cls.body if isinstance(n, ast.FunctionDef)]:
            guarded: set[int] = set()
            for with_node in [n for n in ast.walk(func) if isinstance(n, ast.With)]:
                if any(
                    isinstance(item.context_expr, ast.Call)
                    and _is_self_attr(item.context_expr.func, "_reading", "_writing")
                    for item in with_node.items
                ):
                    guarded |= {id(n) for n in ast.walk(with_node)}
            for node in ast.walk(func):
                if _is_self_attr(node, "_root") and id(node) not in guarded:
                    escaped.append(f"{cls.name}.{func.name}")
                if (
                    isinstance(node, ast.Attribute)
                    and node.attr in ("lock", "transaction")
                    and _is_self_attr(node.value, "room")
                ):
                    escaped.append(f"{cls.name}.{func.name} uses room.{node.attr}")
    assert escaped == []


@pytest.mark.parametrize(
    ("kind", "read", "write"),
    [
        ("text", str, lambda v: v.insert(0, "x")),
        ("counter", lambda v: v.value, lambda v: v.increment()),
        ("list", list, lambda v: v.append(1)),
        ("set", lambda v: 1 in v, lambda v: v.add(1)),
        ("table", lambda v: v.rows(), lambda v: v.add_row({"a": 1})),
    ],
)
def test_a_tracked_view_reports_its_reads_and_writes_with_its_origin(
    kind: str, read: Any, write: Any
) -> None:
    room = Room("r")
    seen: list[str] = []
    origins: list[object] = []
    room.observe(lambda event: origins.append(event.origin))
    view = getattr(room, kind)("k").tracked(reader=seen.append, origin=lambda: "ann")
    origins.clear()  # creating the container
    write(view)
    assert origins == ["ann"]
    seen.clear()
    read(view)
    assert seen and set(seen) == {"k"}


def test_an_explicit_origin_wins_over_the_views_default_in_nested_writes() -> None:
    room = Room("r")
    origins: list[object] = []
    room.observe(lambda event: origins.append(event.origin))
    tags = room.set("tags").tracked(reader=None, origin=lambda: "ann")
    table = room.table("t").tracked(reader=None, origin=lambda: "ann")
    origins.clear()  # creating the containers
    tags.update(["a", "b"], origin="bob")  # adds each inside bob's transaction
    row = table.add_row({"a": 1})
    table.update_row(row, {"a": 2, "b": 3}, origin="bob")
    assert origins == ["bob", "ann", "bob"]
