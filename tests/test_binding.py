"""SessionBinding: which browser values are edits, which are echoes, and what each page shows.

These drive the binding with a plain dict standing in for ``st.session_state``; the real
browser behaviour is covered by ``tests/e2e/test_bridge.py``.
"""

from __future__ import annotations

import datetime
from typing import Any

from crdt_sync.bridge.binding import SessionBinding, classify, same
from crdt_sync.doc import Room


def run(
    binding: SessionBinding,
    state: dict[str, Any],
    reported: set[str] | None,
    widgets: dict[str, str] | None = None,
) -> bool:
    """One script run: enter, the block creates its widgets (``widgets`` key -> kind), exit."""
    binding.enter(state, reported)
    kinds: dict[str, tuple[str | None, str | None]] = {}
    for key, kind in (widgets or {}).items():
        if key not in state:
            state[key] = {"text_input": "", "multi_select": [], "slider": 0}.get(kind)
        kinds[key] = (kind, None)
    return binding.exit(state, kinds)


def pair(room: Room) -> tuple[SessionBinding, SessionBinding]:
    return SessionBinding("A", room), SessionBinding("B", room)


def test_edit_reaches_the_room_and_the_other_session() -> None:
    room = Room("r")
    a, b = pair(room)
    sa: dict[str, Any] = {}
    sb: dict[str, Any] = {}
    run(a, sa, set(), {"title": "text_input"})
    run(b, sb, set(), {"title": "text_input"})
    sa["title"] = "hello"
    run(a, sa, {"title"})
    assert str(room.text("title")) == "hello"
    b.mark_dirty({"title"})
    run(b, sb, set())
    assert sb["title"] == "hello"


def test_stale_echo_is_not_written_back() -> None:
    # B's page had not rendered A's "a1" when B committed another widget: B's request
    # carries the old "a0". That must neither reach the room nor stay on B's page.
    room = Room("r")
    a, b = pair(room)
    sa: dict[str, Any] = {}
    sb: dict[str, Any] = {}
    for binding, state in ((a, sa), (b, sb)):
        run(binding, state, set(), {"a": "text_input", "b": "text_input"})
    sa["a"] = "a0"
    run(a, sa, {"a", "b"})
    b.mark_dirty({"a"})
    run(b, sb, set())  # pushed run: B's session now holds "a0"
    sb["b"] = "b0"  # B's page still shows "a0": a fine, fresh report
    run(b, sb, {"a", "b"})
    sa["a"] = "a1"
    run(a, sa, {"a", "b"})
    b.mark_dirty({"a"})
    run(b, sb, set())  # pushed: B's session holds "a1", its page still shows "a0"
    sb["a"], sb["b"] = "a0", "b1"  # B commits "b1" with the stale "a0"
    run(b, sb, {"a", "b"})
    assert str(room.text("a")) == "a1"
    assert str(room.text("b")) == "b1"
    assert sb["a"] == "a1"  # B's page is given A's value again


def test_edit_typed_against_an_older_view_keeps_what_arrived_meanwhile() -> None:
    room = Room("r")
    a, b = pair(room)
    sa: dict[str, Any] = {}
    sb: dict[str, Any] = {}
    for binding, state in ((a, sa), (b, sb)):
        run(binding, state, set(), {"story": "text_input"})
    sa["story"] = "The quick brown fox"
    run(a, sa, {"story"})
    b.mark_dirty({"story"})
    run(b, sb, set())
    sa["story"] = "The very quick brown fox"
    run(a, sa, {"story"})
    b.mark_dirty({"story"})
    run(b, sb, set())  # B's session got A's edit; B's page has not rendered it
    sb["story"] = "The quick brown fox jumps"  # typed against the older view
    run(b, sb, {"story"})
    assert str(room.text("story")) == "The very quick brown fox jumps"
    assert sb["story"] == "The very quick brown fox jumps"


def test_multiselect_changes_are_adds_and_removes_not_overwrites() -> None:
    room = Room("r")
    a, b = pair(room)
    sa: dict[str, Any] = {}
    sb: dict[str, Any] = {}
    for binding, state in ((a, sa), (b, sb)):
        run(binding, state, set(), {"tags": "multi_select"})
    sa["tags"] = ["red"]
    sb["tags"] = ["blue"]
    run(a, sa, {"tags"})
    run(b, sb, {"tags"})
    assert sorted(room.set("tags")) == ["blue", "red"]
    b.mark_dirty({"tags"})
    run(b, sb, set())
    assert sb["tags"] == ["blue", "red"]  # B's order first, newcomers after
    sb["tags"] = ["red"]
    run(b, sb, {"tags"})
    assert room.set("tags").to_list() == ["red"]


def test_value_set_in_code_inside_the_block_is_shared() -> None:
    room = Room("r")
    a, _ = pair(room)
    state: dict[str, Any] = {}
    run(a, state, set())
    a.enter(state, set())
    state["clicks"] = 0  # created by code in the block: the room learns it
    a.exit(state, {})
    assert room["clicks"] == 0
    a.enter(state, set())
    state["clicks"] += 1
    a.exit(state, {})
    assert room["clicks"] == 1
    assert type(room["clicks"]) is int


def test_read_only_session_changes_nothing_and_is_shown_the_room() -> None:
    room = Room("r")
    a, viewer = pair(room)
    viewer.read_only = True
    sa: dict[str, Any] = {}
    sv: dict[str, Any] = {}
    run(a, sa, set(), {"level": "slider"})
    sa["level"] = 7
    run(a, sa, {"level"})
    run(viewer, sv, set(), {"level": "slider"})
    assert sv["level"] == 7
    sv["level"] = 99  # forced into session state
    run(viewer, sv, {"level"})
    assert room["level"] == 7
    assert sv["level"] == 7


def test_private_and_never_synced_keys_stay_out_of_the_room() -> None:
    room = Room("r")
    a, _ = pair(room)
    state: dict[str, Any] = {"private:draft": "mine", "go": True}
    a.enter(state, set())
    a.exit(state, {"private:draft": ("text_input", None), "go": ("button", "trigger_value")})
    assert room.kinds() == {}


def test_private_by_default_shares_only_wrapped_keys() -> None:
    room = Room("r")
    binding = SessionBinding("A", room, private_by_default=True)
    state: dict[str, Any] = {}
    binding.enter(state, set())
    state["local"] = 1
    state["shared:level"] = 5
    binding.exit(state, {"local": ("slider", None), "shared:level": ("slider", None)})
    assert room.snapshot() == {"level": 5}


def test_newcomer_is_shown_every_value_with_its_type() -> None:
    room = Room("r")
    room["due"] = datetime.date(2026, 1, 2)
    room.text("title").update("hello")
    room.set("tags").add("red")
    binding = SessionBinding("C", room)
    state: dict[str, Any] = {}
    binding.enter(state, set())
    assert state == {"due": datetime.date(2026, 1, 2), "title": "hello", "tags": ["red"]}


def test_classify_follows_the_merge_table() -> None:
    assert classify("text_input", "string_value", "x") == "text"
    assert classify("text_area", "string_value", "x") == "text"
    assert classify("multi_select", "string_array_value", []) == "set"
    assert classify("slider", "double_array_value", 1) == "register"
    assert classify("selectbox", "string_value", "x") == "register"
    for never in ("button", "download_button", "file_uploader", "chat_input", "data_editor"):
        assert classify(never, None, None) is None
    assert classify("anything", "trigger_value", None) is None


def test_same_tells_types_apart() -> None:
    assert same(1, 1)
    assert not same(1, 1.0)
    assert not same(1, True)
    assert same([1, "a"], [1, "a"])
    assert not same([1], [1.0])


def test_regression_replacing_a_value_seen_via_a_push_uses_that_value_as_base() -> None:
    """Found by benchmarks/compare measure 7: A commits "w0", B commits "w8" (pushed to A),
    A replaces "w8" with "w10": every page showed "w18", because A's edit was rebased from
    the older "w0" A's page no longer showed. An edit that touches what changed since an
    older view was made against the newest one."""
    room = Room("r")
    a, b = pair(room)
    sa: dict[str, Any] = {}
    sb: dict[str, Any] = {}
    for binding, state in ((a, sa), (b, sb)):
        run(binding, state, set(), {"field": "text_input"})
    sa["field"] = "w0"
    run(a, sa, {"field"})
    b.mark_dirty({"field"})
    run(b, sb, set())
    sb["field"] = "w8"
    run(b, sb, {"field"})
    a.mark_dirty({"field"})
    run(a, sa, set())  # pushed: A's page shows "w8"
    sa["field"] = "w10"
    run(a, sa, {"field"})
    assert str(room.text("field")) == "w10"
