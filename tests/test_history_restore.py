"""Restoring a past version: each kind of value written forward, merged, undone.

Time is the recorders' clock (`history_recorder.clock`), set by each test.
"""

from __future__ import annotations

from history_fixtures import (  # noqa: F401 (fixtures: clock, names, store)
    Clock,
    clock_fixture,
    edit,
    names_fixture,
    store_fixture,
)

from crdt_sync.doc import MemoryStore, Room
from crdt_sync.doc.store import LogStore


def test_restore_writes_the_old_values_forward_as_a_new_version(
    store: LogStore, clock: Clock, names: None
) -> None:
    room = store.load("plans")
    edit(room, "s-ann", level=1, owner="ann")
    clock.tick(10)
    edit(room, "s-bob", level=7, extra="new")
    before = [v.to_json() for v in room.history.versions()]
    clock.tick(10)
    changed = room.restore(before[0]["version"], origin="s-ann")
    assert changed == ["extra", "level"]
    assert dict(room) == {"level": 1, "owner": "ann"}
    after = room.history.versions()
    assert [v.to_json() for v in after[:2]] == before  # stored history is not rewritten
    assert after[-1].who == ("Ann",) and after[-1].keys == ("extra", "level")
    reloaded = store.load("plans")
    assert dict(reloaded) == {"level": 1, "owner": "ann"}


def test_restore_only_the_listed_keys(store: LogStore, clock: Clock) -> None:
    room = store.load("plans")
    edit(room, "s-ann", level=1, owner="ann")
    clock.tick(10)
    edit(room, "s-bob", level=7, owner="bob", extra="new")
    first = room.history.versions()[0].version
    assert room.restore(first, keys=["level", "extra"]) == ["extra", "level"]
    assert dict(room) == {"level": 1, "owner": "bob"}
    assert room.restore(first, keys=["nothing-here"]) == []


def test_restore_a_key_whose_kind_changed(store: LogStore, clock: Clock) -> None:
    room = store.load("plans")
    with room.transaction(origin="s-ann"):
        room["notes"] = "a register"
        room.counter("score").increment(3)
    clock.tick(10)
    del room["notes"]
    room.text("notes").update("now a text")
    first = room.history.versions()[0].version
    assert room.restore(first) == ["notes"]
    assert room.kind("notes") == "register" and room["notes"] == "a register"
    clock.tick(10)
    latest = room.history.versions()[-2].version  # when notes was a text
    room.restore(latest)
    assert room.kind("notes") == "text" and str(room.text("notes")) == "now a text"


def test_restore_a_text_by_minimal_edits_keeps_a_concurrent_edit(clock: Clock) -> None:
    store = MemoryStore()
    room = store.load("doc")
    room.text("body").update("The quick brown fox")
    clock.tick(10)
    room.text("body").update("The slow brown fox jumps")
    first = room.history.versions()[0].version
    other = Room("doc")  # another replica, which appends to the text meanwhile
    other.merge(room.export())
    other.text("body").update("The slow brown fox jumps!")
    room.restore(first)
    room.merge(other.export())
    other.merge(room.export())
    assert str(room.text("body")) == str(other.text("body")) == "The quick brown fox!"


def test_restore_a_counter_restores_its_value(store: LogStore, clock: Clock) -> None:
    room = store.load("votes")
    other = Room("votes")  # a second replica's share of the count
    room.counter("yes").increment(5)
    other.merge(room.export())
    other.counter("yes").increment(2)
    room.merge(other.export(), origin="s-bob")
    assert room.counter("yes").value == 7
    clock.tick(10)
    version = room.history.versions()[-1].version
    room.counter("yes").increment(30)
    other.counter("yes").increment(100)
    room.merge(other.update_since(room.state_vector()), origin="s-bob")
    assert room.counter("yes").value == 137
    assert room.restore(version) == ["yes"]
    assert room.counter("yes").value == 7


def test_restore_a_deleted_table_row_and_lists_and_sets(store: LogStore, clock: Clock) -> None:
    room = store.load("crm")
    table = room.table("people")
    table.add_row({"name": "Ann", "age": 41}, row_id="r1")
    table.add_row({"name": "Bob"}, row_id="r2")
    room.list("todo").extend(["a", "b", "c"])
    room.set("tags").update(["x", "y"])
    clock.tick(10)
    version = room.history.versions()[-1].version
    table.delete_row("r1")
    table.set_cell("r2", "name", "Robert")
    room.list("todo").insert(1, "new")
    del room.list("todo")[3]
    room.set("tags").discard("x")
    room.set("tags").add("z")
    assert room.restore(version) == ["people", "tags", "todo"]
    assert table.rows() == {"r1": {"name": "Ann", "age": 41}, "r2": {"name": "Bob"}}
    assert room.list("todo").to_list() == ["a", "b", "c"]
    assert sorted(room.set("tags").to_list()) == ["x", "y"]


def test_restore_removes_keys_that_did_not_exist_then(store: LogStore, clock: Clock) -> None:
    room = store.load("plans")
    edit(room, "s-ann", level=1)
    clock.tick(10)
    room.text("notes").update("later")
    room.table("rows").add_row({"a": 1})
    edit(room, "s-ann", added=True)
    assert room.restore(room.history.versions()[0].version) == ["added", "notes", "rows"]
    assert room.kinds() == {"level": "register"}


def test_restore_merges_with_a_concurrent_edit_on_another_replica(clock: Clock) -> None:
    store = MemoryStore()
    room = store.load("plans")
    edit(room, "s-ann", owner="ann", title="Q3 plan")
    clock.tick(10)
    edit(room, "s-bob", owner="bob", title="Q4 plan")
    old = room.history.versions()[0].version
    other = Room("plans")
    other.merge(room.export())
    other["budget"] = 1000  # meanwhile, elsewhere
    room.restore(old, origin="s-ann")
    other.merge(room.export())
    room.merge(other.export())
    assert dict(room) == dict(other) == {"owner": "ann", "title": "Q3 plan", "budget": 1000}


def test_a_restore_is_undone_by_its_origin(store: LogStore, clock: Clock) -> None:
    room = store.load("plans")
    with room.transaction(origin="s-ann"):
        room["level"] = 1
        room.text("notes").update("one")
    clock.tick(10)
    with room.transaction(origin="s-bob"):
        room["level"] = 2
        room.text("notes").update("two")
    undo = room.undo_manager("s-ann")
    room.restore(room.history.versions()[0].version, origin="s-ann")
    assert room["level"] == 1 and str(room.text("notes")) == "one"
    assert undo.undo()
    assert room["level"] == 2 and str(room.text("notes")) == "two"
