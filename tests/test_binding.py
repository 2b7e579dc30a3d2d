"""SessionBinding: which browser values are edits, which are echoes, and what each page shows.

These drive the binding with a plain dict standing in for ``st.session_state``; the real
browser behaviour is covered by ``tests/e2e/test_bridge.py``.
"""

from __future__ import annotations

import datetime
from typing import Any

from crdt_sync.bridge.binding import EntryFacts, SessionBinding
from crdt_sync.bridge.edit_base import fingerprint
from crdt_sync.bridge.kinds import classify, same
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
    return binding.exit(state, kinds, created=set(widgets) if widgets else None)


def pair(room: Room) -> tuple[SessionBinding, SessionBinding]:
    return SessionBinding("A", room), SessionBinding("B", room)


def two_pages(
    widgets: dict[str, str],
) -> tuple[Room, SessionBinding, dict[str, Any], SessionBinding, dict[str, Any]]:
    """A room and two sessions A and B whose pages show ``widgets`` (first run done)."""
    room = Room("r")
    a, b = pair(room)
    sa: dict[str, Any] = {}
    sb: dict[str, Any] = {}
    for binding, state in ((a, sa), (b, sb)):
        run(binding, state, set(), widgets)
    return room, a, sa, b, sb


def commit(
    binding: SessionBinding,
    state: dict[str, Any],
    key: str,
    value: Any,
    *others: tuple[SessionBinding, dict[str, Any]],
) -> None:
    """The person of ``binding`` changes ``key``; the room pushes it to ``others``."""
    state[key] = value
    run(binding, state, {key})
    for other, other_state in others:
        other.mark_dirty({key})
        run(other, other_state, set())


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
    room, a, sa, b, sb = two_pages({"a": "text_input", "b": "text_input"})
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
    room, a, sa, b, sb = two_pages({"story": "text_input"})
    commit(a, sa, "story", "The quick brown fox", (b, sb))
    commit(
        a, sa, "story", "The very quick brown fox", (b, sb)
    )  # B's session got A's edit; B's page has not rendered it
    sb["story"] = "The quick brown fox jumps"  # typed against the older view
    run(b, sb, {"story"})
    assert str(room.text("story")) == "The very quick brown fox jumps"
    assert sb["story"] == "The very quick brown fox jumps"


def test_multiselect_changes_are_adds_and_removes_not_overwrites() -> None:
    room, a, sa, b, sb = two_pages({"tags": "multi_select"})
    sa["tags"] = ["red"]
    sb["tags"] = ["blue"]
    run(a, sa, {"tags"})
    run(b, sb, {"tags"})
    assert sorted(room.set("tags")) == ["blue", "red"]
    b.mark_dirty({"tags"})
    run(b, sb, set())
    assert sb["tags"] == room.set("tags").to_list() == ["red", "blue"]  # one order for all
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
    room, a, sa, b, sb = two_pages({"field": "text_input"})
    commit(a, sa, "field", "w0", (b, sb))
    commit(b, sb, "field", "w8", (a, sa))  # pushed: A's page shows "w8"
    sa["field"] = "w10"
    run(a, sa, {"field"})
    assert str(room.text("field")) == "w10"


def test_regression_a_register_a_yjs_client_added_without_a_kind_is_shown() -> None:
    """Issue 12 case 10: ``doc.getMap('registers').set('from_js', 42)`` from a Yjs client
    (as the README shows for an existing key) made ``room.get('from_js')`` raise
    KindMismatch. A key in ``registers`` without a ``kinds`` entry is a register."""
    from pycrdt import Doc, Map

    room = Room("r")
    a = SessionBinding("A", room)
    state: dict[str, Any] = {}
    run(a, state, set(), {"level": "slider"})
    js = Doc()
    js.apply_update(room.export())
    js.get("registers", type=Map)["from_js"] = 42.0
    room.merge(js.get_update())
    assert room.get("from_js") == 42
    assert room.kind("from_js") == "register"
    a.mark_dirty({"from_js"})
    run(a, state, set())
    assert state["from_js"] == 42


def test_regression_a_value_set_by_a_callback_is_an_edit_even_if_the_page_showed_it_before() -> (
    None
):
    """Issue 12 case 1: a Reset button's callback sets level back to 50 after A moved it to
    30; 50 is an older view of B's page, and was taken for an echo: nothing reset."""
    room = Room("r")
    a, b = pair(room)
    sa: dict[str, Any] = {}
    sb: dict[str, Any] = {}
    for binding, state in ((a, sa), (b, sb)):
        state["level"] = 50
        run(binding, state, set(), {"level": "slider"})
    commit(a, sa, "level", 30, (b, sb))
    assert sb["level"] == 30
    sb["level"] = 50  # B's Reset callback
    b.enter(
        sb, EntryFacts(reported={"level"}, code_set=frozenset({"level"}), held=frozenset({"level"}))
    )
    b.exit(sb, {})
    assert room["level"] == 50


def test_a_default_put_in_place_of_a_lost_key_is_not_an_edit() -> None:
    """``if "level" not in st.session_state: st.session_state.level = 50`` on another page,
    after Streamlit dropped the widget's value: the room's value shows, the room keeps it."""
    room = Room("r")
    a, _ = pair(room)
    state: dict[str, Any] = {}
    run(a, state, set(), {"level": "slider"})
    state["level"] = 30
    run(a, state, {"level"})
    state["level"] = 50  # the default, put in place of the value Streamlit dropped
    a.enter(state, EntryFacts(reported=set(), code_set=frozenset({"level"}), held=frozenset()))
    a.exit(state, {})
    assert room["level"] == 30
    assert state["level"] == 30


def test_a_key_the_session_lost_is_shown_again_without_a_change_in_the_room() -> None:
    """Issue 12 case 3: back on the first page of a multipage app, its widgets must show
    the room's values, not their defaults (which were then published)."""
    room = Room("r")
    a, _ = pair(room)
    state: dict[str, Any] = {}
    run(a, state, set(), {"level": "slider"})
    state["level"] = 30
    run(a, state, {"level"})
    del state["level"]  # another page: Streamlit dropped the widget's value
    run(a, state, set())
    assert state["level"] == 30
    run(a, state, set(), {"level": "slider"})  # back: the widget is made again
    assert room["level"] == 30


def test_two_people_typing_into_an_empty_field_both_keep_their_text() -> None:
    """Issue 12 case 4: empty notes; B types without committing; A commits; B commits: only
    B's text survived. Every committed character stays, whatever the field held."""
    room = Room("r")
    people = [SessionBinding(n, room) for n in "ABC"]
    states: list[dict[str, Any]] = [{}, {}, {}]
    for binding, state in zip(people, states, strict=True):
        run(binding, state, set(), {"notes": "text_input"})
    texts = ["Ann agrees.", "Bob was here.", "Cat also."]
    for i, (binding, state) in enumerate(zip(people, states, strict=True)):
        state["notes"] = texts[i]  # typed on the empty field (its page says so), committed now
        binding.enter(state, EntryFacts(reported={"notes"}, typed_on={"notes": fingerprint("")}))
        binding.exit(state, {})
        for other, other_state in zip(people, states, strict=True):
            if other is not binding:
                other.mark_dirty({"notes"})
                if other_state["notes"] == "":
                    continue  # still typing: its field keeps its own text
                run(other, other_state, set())
        if i + 1 < len(texts):
            states[i + 1]["notes"] = ""  # the next person's page had not caught up
            people[i + 1].enter(states[i + 1], set())  # pushed run: the session gets the room
            people[i + 1].exit(states[i + 1], {})
    final = str(room.text("notes"))
    for text in texts:
        assert text in final


def test_a_person_who_typed_on_the_newest_view_replaces_it() -> None:
    """The same values as above, but B's page says B started typing on A's text (B saw it,
    selected it and typed over it): B's text replaces A's."""
    room, a, sa, b, sb = two_pages({"notes": "text_area"})
    commit(a, sa, "notes", "Ann agrees.", (b, sb))
    sb["notes"] = "Bob was here."
    b.enter(sb, EntryFacts(reported={"notes"}, typed_on={"notes": fingerprint("Ann agrees.")}))
    b.exit(sb, {})
    assert str(room.text("notes")) == "Bob was here."


def test_an_older_value_chosen_again_alone_is_an_edit_not_an_echo() -> None:
    """A moved the slider 50 -> 30; B, who saw 30, drags it through 50 on the way to 40.
    B's request changes only the slider: 50 is B's choice, not a stale echo (taking it for
    one set B's slider back to 30 under B's hand). With another widget changed alongside,
    the same old value is an echo."""
    room = Room("r")
    a, b = pair(room)
    sa: dict[str, Any] = {"level": 50}
    sb: dict[str, Any] = {"level": 50}
    run(a, sa, set(), {"level": "slider", "note": "text_input"})
    run(b, sb, set(), {"level": "slider", "note": "text_input"})
    commit(a, sa, "level", 30, (b, sb))
    sb["level"] = 50
    b.enter(sb, EntryFacts(reported={"level", "note"}, changed=frozenset({"level"})))
    b.exit(sb, {})
    assert room["level"] == 50
    commit(a, sa, "level", 20, (b, sb))
    sb["level"], sb["note"] = 50, "hi"  # B types a note on a page still showing 50
    b.enter(sb, EntryFacts(reported={"level", "note"}, changed=frozenset({"level", "note"})))
    b.exit(sb, {})
    assert room["level"] == 20
    assert sb["level"] == 20
