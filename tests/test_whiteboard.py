"""Tests of the whiteboard's model (crdt_sync.components.whiteboard.board / .index): the
operations a browser sends, how concurrent ones merge, and the versioned deltas pages get."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from replicas import replicas, sync

from crdt_sync.components.whiteboard import apply_message
from crdt_sync.components.whiteboard.board import BUCKETS, Board, InvalidOp, clean_element
from crdt_sync.components.whiteboard.index import BoardIndex, index_for
from crdt_sync.doc import Room, RoomEvent


def stroke(element_id: str, x: float = 10, y: float = 20) -> dict[str, Any]:
    return {"id": element_id, "type": "pen", "pos": [x, y], "pts": [0, 0, 5, 5, 10, 3]}


def note(element_id: str, x: float = 10, y: float = 20, text: str = "") -> dict[str, Any]:
    return {"id": element_id, "type": "note", "pos": [x, y], "size": [160, 120], "text": text}


# ------------------------------------------------------------------ board


def test_add_and_read_back_every_type() -> None:
    board = Board(Room("r"), "wb")
    board.add(stroke("s1"), by="ann")
    board.add({"id": "r1", "type": "rect", "pos": [1, 2], "size": [30, 40], "color": "#dc2626"})
    board.add({"id": "e1", "type": "ellipse", "pos": [3, 4], "size": [50, 20]})
    board.add({"id": "a1", "type": "arrow", "pos": [5, 6], "pts": [0, 0, 40, 10], "width": 4})
    board.add(note("n1", text="hello"))
    elements = board.elements()
    assert set(elements) == {"s1", "r1", "e1", "a1", "n1"}
    assert elements["s1"]["pts"] == [0.0, 0.0, 5.0, 5.0, 10.0, 3.0]
    assert elements["s1"]["by"] == "ann"
    assert elements["r1"]["color"] == "#dc2626"
    assert elements["a1"]["width"] == 4.0
    assert elements["n1"]["text"] == "hello"
    zs = [elements[i]["z"] for i in ("s1", "r1", "e1", "a1", "n1")]
    assert zs == sorted(zs) and len(set(zs)) == 5  # each new element on top


def test_elements_live_in_buckets_and_note_texts_in_texts() -> None:
    room = Room("r")
    board = Board(room, "wb")
    board.add(note("n1", text="hi"))
    kinds = room.kinds()
    assert kinds[board.bucket_key("n1")] == "table"
    assert kinds["wb:wb:t:n1"] == "text"
    assert len(board.bucket_keys()) == BUCKETS
    assert all(k.startswith("wb:wb:") for k in kinds)


def test_reading_never_creates_anything() -> None:
    room = Room("r")
    board = Board(room, "wb")
    assert board.elements() == {}
    assert board.read_text("nope") == ""
    assert room.kinds() == {}


def test_add_twice_keeps_the_first() -> None:
    board = Board(Room("r"), "wb")
    board.add(stroke("s1", 1, 1))
    board.move("s1", [50, 50])
    board.add(stroke("s1", 1, 1))  # a resent op
    assert board.elements()["s1"]["pos"] == [50.0, 50.0]


def test_move_delete_missing_element_is_false() -> None:
    board = Board(Room("r"), "wb")
    assert board.move("ghost", [1, 2]) is False
    assert board.delete("ghost") is False
    assert board.set_text("ghost", "x") is False


def test_deleted_element_cannot_come_back_by_add() -> None:
    board = Board(Room("r"), "wb")
    board.add(stroke("s1"))
    board.delete("s1")
    with pytest.raises(InvalidOp, match="element 's1' was deleted"):
        board.add(stroke("s1"))


def test_text_only_on_notes() -> None:
    board = Board(Room("r"), "wb")
    board.add(stroke("s1"))
    assert board.set_text("s1", "x") is False


def test_clear_removes_only_my_strokes_and_shapes() -> None:
    board = Board(Room("r"), "wb")
    board.add(stroke("a1"), by="ann")
    board.add({"id": "a2", "type": "rect", "pos": [0, 0], "size": [5, 5]}, by="ann")
    board.add(note("a3"), by="ann")
    board.add(stroke("b1"), by="bob")
    assert board.clear("ann") == 2
    assert set(board.elements()) == {"a3", "b1"}


# ------------------------------------------------------------------ concurrent edits


def test_concurrent_moves_of_different_elements_both_win() -> None:
    a, b = replicas()
    Board(a, "wb").add(note("n1"))
    Board(a, "wb").add(note("n2"))
    sync(a, b)
    Board(a, "wb").move("n1", [300, 100])
    Board(b, "wb").move("n2", [500, 200])
    sync(a, b)
    for room in (a, b):
        elements = Board(room, "wb").elements()
        assert elements["n1"]["pos"] == [300.0, 100.0]
        assert elements["n2"]["pos"] == [500.0, 200.0]


def test_concurrent_move_and_recolour_of_one_element_both_win() -> None:
    a, b = replicas()
    Board(a, "wb").add(stroke("s1"))
    sync(a, b)
    Board(a, "wb").move("s1", [99, 99])
    Board(b, "wb").restyle("s1", color="#16a34a")
    sync(a, b)
    for room in (a, b):
        element = Board(room, "wb").elements()["s1"]
        assert (element["pos"], element["color"]) == ([99.0, 99.0], "#16a34a")


def test_typing_in_one_note_at_different_places_merges() -> None:
    a, b = replicas()
    Board(a, "wb").add(note("n1", text="hello world"))
    sync(a, b)
    Board(a, "wb").set_text("n1", "AAA hello world", base="hello world")
    Board(b, "wb").set_text("n1", "hello world BBB", base="hello world")
    sync(a, b)
    for room in (a, b):
        assert Board(room, "wb").elements()["n1"]["text"] == "AAA hello world BBB"


def test_text_typed_against_an_older_view_keeps_what_arrived_meanwhile() -> None:
    board = Board(Room("r"), "wb")
    board.add(note("n1", text="hello"))
    board.set_text("n1", "hello world", base="hello")  # someone else
    board.set_text("n1", ">> hello", base="hello")  # typed against the old text
    assert board.elements()["n1"]["text"] == ">> hello world"


def test_delete_wins_over_a_concurrent_move() -> None:
    a, b = replicas()
    Board(a, "wb").add(stroke("s1"))
    sync(a, b)
    Board(a, "wb").delete("s1")
    Board(b, "wb").move("s1", [5, 5])
    sync(a, b)
    assert Board(a, "wb").elements() == Board(b, "wb").elements() == {}


def test_concurrent_inserts_stack_the_same_everywhere() -> None:
    a, b = replicas()
    Board(a, "wb").add(stroke("base"))
    sync(a, b)
    Board(a, "wb").add(stroke("from-a"))
    Board(b, "wb").add(stroke("from-b"))
    sync(a, b)

    def order(room: Room) -> list[str]:
        elements = Board(room, "wb").elements().values()
        return [e["id"] for e in sorted(elements, key=lambda e: (e["z"], e["id"]))]

    assert order(a) == order(b) == ["base", "from-a", "from-b"]


# ------------------------------------------------------------------ ops from a page


def test_apply_ops_in_transactions_with_the_session_as_origin() -> None:
    room = Room("r")
    board = Board(room, "wb")
    origins: list[object] = []
    room.observe(lambda event: origins.append(event.origin))
    board.apply({"op": "add", "el": stroke("s1")}, by="sess-a")
    board.apply({"op": "move", "id": "s1", "pos": [7, 8]}, by="sess-a")
    assert origins == ["sess-a", "sess-a"]
    assert board.elements()["s1"]["by"] == "sess-a"


def test_undo_removes_my_last_stroke_not_theirs() -> None:
    room = Room("r")
    room.undo_manager("ann")
    room.undo_manager("bob")
    board = Board(room, "wb")
    board.apply({"op": "add", "el": stroke("a1")}, by="ann")
    board.apply({"op": "add", "el": stroke("b1")}, by="bob")
    assert board.apply({"op": "undo"}, by="ann") is True
    assert set(board.elements()) == {"b1"}
    assert board.apply({"op": "redo"}, by="ann") is True
    assert set(board.elements()) == {"a1", "b1"}


def test_undo_of_a_move_puts_it_back() -> None:
    room = Room("r")
    room.undo_manager("ann")
    board = Board(room, "wb")
    board.apply({"op": "add", "el": note("n1", 10, 10)}, by="ann")
    board.apply({"op": "move", "id": "n1", "pos": [200, 200]}, by="ann")
    board.apply({"op": "undo"}, by="ann")
    assert board.elements()["n1"]["pos"] == [10.0, 10.0]


def test_front_puts_an_element_on_top() -> None:
    board = Board(Room("r"), "wb")
    board.add(stroke("s1"))
    board.add(stroke("s2"))
    board.apply({"op": "front", "id": "s1"}, by="ann")
    elements = board.elements()
    assert elements["s1"]["z"] > elements["s2"]["z"]


@pytest.mark.parametrize(
    ("op", "message"),
    [
        ("nope", "an op must be an object"),
        ({"op": "explode", "id": "x"}, "unknown op 'explode'"),
        ({"op": "move", "id": "bad id!", "pos": [1, 2]}, "id must be 1-40 letters"),
        ({"op": "move", "id": "s1", "pos": [1]}, "pos must be [x, y]"),
        ({"op": "move", "id": "s1", "pos": [1, float("nan")]}, "pos out of range"),
        ({"op": "move", "id": "s1", "pos": [1, True]}, "pos must be a number, got bool"),
        ({"op": "add", "el": {"id": "x", "type": "blob", "pos": [0, 0]}}, "type must be one of"),
        ({"op": "add", "el": {"id": "x", "type": "pen", "pos": [0, 0], "pts": [1]}}, "pts must"),
        ({"op": "add", "el": {**stroke("x"), "color": "red"}}, "color must look like"),
        ({"op": "text", "id": "s1", "text": 5}, "note text must be a str"),
        ({"op": "color", "id": "s1", "color": "javascript:"}, "color must look like"),
    ],
)
def test_malformed_ops_are_refused_with_a_reason(op: Any, message: str) -> None:
    board = Board(Room("r"), "wb")
    board.add(stroke("s1"))
    before = board.elements()
    with pytest.raises(InvalidOp) as info:
        board.apply(op, by="ann")
    assert message in str(info.value)
    assert str(info.value).startswith("whiteboard 'wb': ")
    assert board.elements() == before


def test_clean_element_drops_unknown_fields_and_clamps_width() -> None:
    cleaned = clean_element("wb", {**stroke("s1"), "width": 500, "evil": "<script>", "z": 9})
    assert cleaned == {
        "id": "s1",
        "type": "pen",
        "pos": [10.0, 20.0],
        "color": "#1f2937",
        "width": 64.0,
        "pts": [0.0, 0.0, 5.0, 5.0, 10.0, 3.0],
    }


def test_board_key_must_not_contain_a_colon() -> None:
    with pytest.raises(ValueError, match="without ':'"):
        Board(Room("r"), "a:b")


# ------------------------------------------------------------------ index


def test_index_first_delta_is_everything_in_stacking_order() -> None:
    room = Room("r")
    board = Board(room, "wb")
    board.add(stroke("s1"))
    board.add(note("n1", text="hi"))
    index = BoardIndex(board)
    index.refresh()
    delta = index.delta(None, None)
    assert delta.full and delta.since == 0
    assert [e["id"] for e in delta.elements] == ["s1", "n1"]
    assert delta.elements[1]["text"] == "hi"


def test_index_delta_has_only_what_changed() -> None:
    room = Room("r")
    board = Board(room, "wb")
    for i in range(50):
        board.add(stroke(f"s{i}"))
    board.add(note("n1"))
    index = BoardIndex(board)
    v1 = index.refresh()
    board.move("s7", [1, 1])
    board.set_text("n1", "typed")
    board.delete("s9")
    v2 = index.refresh()
    assert v2 == v1 + 1
    delta = index.delta(index.epoch, v1)
    assert not delta.full
    assert {e["id"] for e in delta.elements} == {"s7", "n1"}
    assert delta.deleted == ["s9"]
    assert [e["text"] for e in delta.elements if e["id"] == "n1"] == ["typed"]
    assert index.delta(index.epoch, v2).elements == []
    assert len(index) == 50


def test_index_sees_a_change_as_soon_as_its_transaction_returns() -> None:
    """Another thread may still be delivering observer events (and pushing reruns) when a
    page reruns because of a change: the index must already have it (CI once showed a
    board missing a stroke that every observer had been told about, but too late)."""
    room = Room("r")
    board = Board(room, "wb")
    index = BoardIndex(board)
    index.refresh()
    delivering, release = threading.Event(), threading.Event()

    def slow_observer(event: RoomEvent) -> None:
        delivering.set()
        release.wait(10)

    room.observe(slow_observer)
    busy = threading.Thread(target=board.add, args=(stroke("s1"),))
    busy.start()
    try:
        assert delivering.wait(10)  # that thread now delivers every room event, slowly
        board.add(stroke("s2"))  # its events queue behind: no observer has heard of it
        index.refresh()
        assert {e["id"] for e in index.delta(index.epoch, 0).elements} == {"s1", "s2"}
    finally:
        release.set()
        busy.join()


def test_index_sees_remote_changes_and_undo() -> None:
    a, b = replicas()
    index = BoardIndex(Board(a, "wb"))
    index.refresh()
    Board(b, "wb").add(stroke("remote"))
    sync(a, b)
    v = index.refresh()
    assert [e["id"] for e in index.delta(index.epoch, v - 1).elements] == ["remote"]
    a.undo_manager("ann")
    Board(a, "wb").apply({"op": "add", "el": stroke("mine")}, by="ann")
    index.refresh()
    assert set(index.ids()) == {"remote", "mine"}
    Board(a, "wb").apply({"op": "undo"}, by="ann")
    index.refresh()
    assert index.ids() == ["remote"]


def test_index_refresh_without_changes_keeps_the_version() -> None:
    room = Room("r")
    index = BoardIndex(Board(room, "wb"))
    v = index.refresh()
    room["unrelated"] = 1
    assert index.refresh() == v


def test_index_unknown_epoch_or_future_version_gets_everything() -> None:
    board = Board(Room("r"), "wb")
    board.add(stroke("s1"))
    index = BoardIndex(board)
    v = index.refresh()
    assert index.delta("other", v).full
    assert index.delta(index.epoch, v + 5).full


def test_index_for_is_shared_per_room_and_board() -> None:
    room = Room("r")
    assert index_for(room, "wb") is index_for(room, "wb")
    assert index_for(room, "wb") is not index_for(room, "other")
    assert index_for(Room("r"), "wb") is not index_for(room, "wb")


def test_index_refresh_reads_only_the_changed_bucket() -> None:
    room = Room("r")
    board = Board(room, "wb")
    for i in range(200):
        board.add(stroke(f"s{i}"))
    index = BoardIndex(board)
    index.refresh()
    reads: list[str] = []
    original = board.read_bucket

    def counting(key: str, kinds: Any = None) -> Any:
        reads.append(key)
        return original(key, kinds)

    board.read_bucket = counting  # type: ignore[method-assign]
    board.move("s5", [0, 0])
    index.refresh()
    assert reads == [board.bucket_key("s5")]


# ------------------------------------------------------------------ messages from a page


def message(client: str, *ops: dict[str, Any], resync: bool = False) -> dict[str, Any]:
    return {
        "client": client,
        "ops": [{"seq": i + 1, **op} for i, op in enumerate(ops)],
        "resync": resync,
    }


def test_a_resent_message_applies_each_op_once() -> None:
    room = Room("r")
    index = index_for(room, "wb")
    state: dict[str, Any] = {}
    first = message("c1", {"op": "add", "el": stroke("s1")})
    assert apply_message(index, state, first, session="ann") == 1
    again = message(
        "c1", {"op": "add", "el": stroke("s1")}, {"op": "move", "id": "s1", "pos": [9, 9]}
    )
    assert apply_message(index, state, again, session="ann") == 1
    assert state["acks"] == {"c1": 2}
    assert Board(room, "wb").elements()["s1"]["pos"] == [9.0, 9.0]


def test_a_read_only_page_changes_nothing_but_is_acknowledged() -> None:
    room = Room("r")
    index = index_for(room, "wb")
    state: dict[str, Any] = {}
    sent = message("c1", {"op": "add", "el": stroke("s1")}, {"op": "clear"})
    assert apply_message(index, state, sent, session="viewer", read_only=True) == 0
    assert Board(room, "wb").elements() == {}
    assert state["acks"] == {"c1": 2}


def test_a_bad_op_is_skipped_and_the_rest_applied() -> None:
    room = Room("r")
    index = index_for(room, "wb")
    state: dict[str, Any] = {}
    sent = message(
        "c1", {"op": "move", "id": "nope!", "pos": [1, 1]}, {"op": "add", "el": stroke("s1")}
    )
    assert apply_message(index, state, sent, session="ann") == 1
    assert set(Board(room, "wb").elements()) == {"s1"}


def test_resync_asks_for_the_whole_board() -> None:
    index = index_for(Room("r"), "wb")
    state: dict[str, Any] = {"shown": 4, "acks": {}}
    apply_message(index, state, message("c1", resync=True), session="ann")
    assert state["shown"] is None


def test_garbage_messages_are_ignored() -> None:
    index = index_for(Room("r"), "wb")
    state: dict[str, Any] = {}
    assert apply_message(index, state, {"client": 5, "ops": []}, session="ann") == 0
    assert apply_message(index, state, {"client": "c", "ops": "x"}, session="ann") == 0
    assert (
        apply_message(index, state, {"client": "c", "ops": [1, {"seq": True}]}, session="ann") == 0
    )


def test_inline_script_carries_the_cursors_module() -> None:
    """Without Streamlit's asset manifest the board's script is sent inline, where a
    relative import cannot resolve: cursors.js is put in its place."""
    from crdt_sync.components.whiteboard import IMPORT_CURSORS, inline_script

    script = inline_script()
    assert IMPORT_CURSORS not in script
    assert "class LiveCursors" in script and "class Board" in script
    assert "\nexport class" not in script and "\nexport function encodeAwareness" not in script
    assert script.count("export default function") == 1
