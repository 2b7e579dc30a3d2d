"""crdt_sync.shared_state: registers, containers, who reruns, no_rerun, force_rerun."""

from __future__ import annotations

import copy
import datetime as dt
import json
import re
import threading

import pytest
from fake_sessions import FakeSessions

import crdt_sync
from crdt_sync import FrozenDict, FrozenList, FrozenValueError, RerunSuppressed
from crdt_sync.doc import Counter, KindMismatch, List


@pytest.fixture
def sessions(monkeypatch: pytest.MonkeyPatch) -> FakeSessions:
    return FakeSessions(monkeypatch)


# ----------------------------------------------------------------------------- registers


def test_registers_are_a_mapping_with_attribute_access(sessions: FakeSessions) -> None:
    with sessions.act("A"):
        shared = crdt_sync.shared_state("chat")
        shared["topic"] = "CRDTs"
        shared.level = 3
        assert shared["topic"] == "CRDTs" and shared.topic == "CRDTs"
        assert shared.get("level") == 3 and shared.get("nope", "d") == "d"
        assert "topic" in shared and "nope" not in shared and 3 not in shared
        assert sorted(shared) == ["level", "topic"] and len(shared) == 2
        assert dict(shared.items()) == {"level": 3, "topic": "CRDTs"}
        assert shared.snapshot() == {"level": 3, "topic": "CRDTs"}
        del shared["topic"]
        del shared.level
        assert len(shared) == 0
    with sessions.act("B"):  # another session sees the same room
        crdt_sync.shared_state("chat")["x"] = 1
    with sessions.act("A"):
        assert crdt_sync.shared_state("chat")["x"] == 1


def test_missing_key_errors_name_the_key(sessions: FakeSessions) -> None:
    with sessions.act("A"):
        shared = crdt_sync.shared_state("chat")
        with pytest.raises(KeyError, match=re.escape("\"no key 'gone' in room 'chat'\"")):
            shared["gone"]
        with pytest.raises(KeyError, match="no key 'gone' in room 'chat'"):
            del shared["gone"]
        with pytest.raises(AttributeError, match=r"^shared_state\('chat'\) has no key 'gone'$"):
            shared.gone  # noqa: B018
        assert not hasattr(shared, "gone")


def test_names_of_methods_are_not_keys(sessions: FakeSessions) -> None:
    with sessions.act("A"):
        shared = crdt_sync.shared_state("chat")
        with pytest.raises(AttributeError, match="'list' is a name of shared_state itself"):
            shared.list = [1]  # type: ignore[method-assign, assignment]
        shared["list"] = [1]  # as an item it is an ordinary key
        assert shared["list"] == [1]


def test_values_keep_their_python_types(sessions: FakeSessions) -> None:
    with sessions.act("A"):
        shared = crdt_sync.shared_state("types")
        values = {"i": 1, "f": 1.0, "t": (1, "a"), "d": dt.date(2026, 1, 2), "b": b"\x00"}
        for key, value in values.items():
            shared[key] = value
        for key, value in values.items():
            assert shared[key] == value and type(shared[key]) is type(value)


def test_unsupported_type_names_key_and_type(sessions: FakeSessions) -> None:
    with sessions.act("A"), pytest.raises(TypeError, match="cannot store a object under key 'o'"):
        crdt_sync.shared_state("chat")["o"] = object()


def test_a_container_key_is_not_a_register(sessions: FakeSessions) -> None:
    with sessions.act("A"):
        shared = crdt_sync.shared_state("chat")
        shared.list("messages").append("hi")
        with pytest.raises(KindMismatch, match="holds a list, not a register"):
            shared["messages"]


# ----------------------------------------------------------------------------- frozen values


def test_list_read_from_a_register_refuses_in_place_changes(sessions: FakeSessions) -> None:
    with sessions.act("A"):
        shared = crdt_sync.shared_state("chat")
        shared["messages"] = ["hi"]
        messages = shared["messages"]
        assert isinstance(messages, FrozenList) and isinstance(messages, list)
        with pytest.raises(FrozenValueError) as info:
            messages.append("lost")
        assert str(info.value) == (
            "'messages' read from room 'chat' is a stored value, not a live list: "
            "list.append() would change only this session's copy and nobody else would see "
            "it. Assign a new value (shared['messages'] = [*shared['messages'], item]), or "
            "keep a list that merges concurrent appends with shared.list('messages')."
        )
        for change in (
            lambda v: v.extend([1]),
            lambda v: v.insert(0, 1),
            lambda v: v.pop(),
            lambda v: v.remove("hi"),
            lambda v: v.clear(),
            lambda v: v.sort(),
            lambda v: v.reverse(),
            lambda v: v.__setitem__(0, 1),
            lambda v: v.__delitem__(0),
            lambda v: v.__iadd__([1]),
            lambda v: v.__imul__(2),
        ):
            with pytest.raises(FrozenValueError):
                change(messages)
        assert shared["messages"] == ["hi"] and messages == ["hi"]


def test_dict_and_nested_values_are_frozen_too(sessions: FakeSessions) -> None:
    with sessions.act("A"):
        shared = crdt_sync.shared_state("cfg")
        shared["cfg"] = {"items": [1, 2], "pair": ({"a": 1}, 2)}
        cfg = shared["cfg"]
        assert isinstance(cfg, FrozenDict)
        with pytest.raises(FrozenValueError, match=r"^'cfg' read from room 'cfg' .* dict\.update"):
            cfg.update(x=1)
        with pytest.raises(FrozenValueError, match=r"^'cfg'\['items'\] read .* list.append\(\)"):
            cfg["items"].append(3)
        with pytest.raises(FrozenValueError, match=r"copy\.deepcopy"):
            cfg["pair"][0]["a"] = 2
        for change in ("clear", "popitem"):
            with pytest.raises(FrozenValueError):
                getattr(cfg, change)()
        with pytest.raises(FrozenValueError):
            cfg.setdefault("k", 1)
        with pytest.raises(FrozenValueError):
            cfg.pop("items")
        with pytest.raises(FrozenValueError):
            cfg |= {"k": 1}


def test_frozen_values_copy_into_ordinary_ones(sessions: FakeSessions) -> None:
    with sessions.act("A"):
        shared = crdt_sync.shared_state("cfg")
        shared["cfg"] = {"items": [1, 2]}
        cfg = shared["cfg"]
        deep = copy.deepcopy(cfg)
        assert type(deep) is dict and type(deep["items"]) is list
        deep["items"].append(3)
        assert type(copy.copy(cfg)) is dict and type(copy.copy(cfg["items"])) is list
        assert type(cfg["items"] + [3]) is list and type(dict(cfg)) is dict
        assert json.loads(json.dumps(cfg)) == {"items": [1, 2]}
        shared["cfg"] = {**cfg, "items": [*cfg["items"], 3]}  # the documented way
        assert shared["cfg"] == {"items": [1, 2, 3]}
        assert repr(shared["cfg"]) == "{'items': [1, 2, 3]}"


# ----------------------------------------------------------------------------- containers


def test_containers_are_the_engine_types_and_merge(sessions: FakeSessions) -> None:
    with sessions.act("A"):
        shared = crdt_sync.shared_state("chat")
        messages, clicks = shared.list("messages"), shared.counter("clicks")
        assert isinstance(messages, List) and isinstance(clicks, Counter)

    def sender(session: str) -> None:
        with sessions.act(session):
            room = crdt_sync.shared_state("chat")
            for i in range(200):
                room.list("messages").append(f"{session}{i}")
                room.counter("clicks").increment()

    threads = [threading.Thread(target=sender, args=(s,)) for s in ("A", "B", "C")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with sessions.act("A"):
        got = shared.list("messages").to_list()
        assert len(got) == 600 and len(set(got)) == 600
        for s in "ABC":
            assert [m for m in got if m[0] == s] == [f"{s}{i}" for i in range(200)]
        assert shared.counter("clicks").value == 600
        text, tags, table = shared.text("notes"), shared.set("tags"), shared.table("tasks")
        text.update("hello")
        tags.add("x")
        row = table.add_row({"done": False})
        assert str(text) == "hello" and "x" in tags and table.rows() == {row: {"done": False}}


def test_container_changes_carry_the_session_as_origin(sessions: FakeSessions) -> None:
    with sessions.act("A"):
        room = crdt_sync.shared_state("chat").enter()._room()
    origins = []
    room.observe(lambda event: origins.append(event.origin))
    with sessions.act("A"):
        crdt_sync.shared_state("chat").list("m").append(1)
        crdt_sync.shared_state("chat").list("m").pop()
        crdt_sync.shared_state("chat").counter("c").increment()
    assert set(origins) == {"A"}


# ----------------------------------------------------------------------------- who reruns


def _join(sessions: FakeSessions, *names: str, room: str = "chat") -> None:
    """Sessions enter the room; the reruns that show them in presence lists are done."""
    for name in names:
        with sessions.act(name):
            crdt_sync.shared_state(room)
    sessions.flush()


def test_entering_a_room_reruns_the_pages_that_show_who_is_here(sessions: FakeSessions) -> None:
    """Issue 16: a newcomer reruns the pages that show the room's members (A's presence
    list, in its fragment "people"), not every page in the room (B's)."""
    _join(sessions, "A", "B")
    with sessions.act("A", fragment="people"):
        crdt_sync.presence("chat")
    with sessions.act("C"):
        crdt_sync.shared_state("chat")
    assert sessions.flush() == {"A": {"people"}}
    sessions.close_tab("C")
    assert sessions.flush() == {"A": {"people"}}  # and when someone leaves


def test_a_session_reruns_when_a_key_it_read_changes_and_only_then(
    sessions: FakeSessions,
) -> None:
    _join(sessions, "A", "B")
    with sessions.act("A"):
        crdt_sync.shared_state("chat").get("topic")
    with sessions.act("B"):
        crdt_sync.shared_state("chat")["other"] = 1  # A never read "other"
    assert sessions.flush() == {}
    with sessions.act("B"):
        crdt_sync.shared_state("chat")["topic"] = "new"
    assert sessions.flush() == {"A": {None}}  # B wrote without reading: not rerun
    with sessions.act("B"):
        crdt_sync.shared_state("chat")["topic"] = "new"  # unchanged: nobody
    assert sessions.flush() == {}


def test_keyerror_read_and_in_subscribe_too(sessions: FakeSessions) -> None:
    _join(sessions, "A", "B")
    with sessions.act("A"):
        shared = crdt_sync.shared_state("chat")
        assert "topic" not in shared
        assert shared.get("other") is None
    with sessions.act("B"):
        crdt_sync.shared_state("chat").update(topic=1, other=2)
    assert sessions.flush() == {"A": {None}}


def test_the_writer_reruns_only_if_it_showed_the_old_value(sessions: FakeSessions) -> None:
    with sessions.act("A"):
        shared = crdt_sync.shared_state("chat")
        shared.counter("clicks").increment()  # read (handle) then write
        assert shared.counter("clicks").value == 1  # shown after the change
    assert sessions.flush() == {}
    with sessions.act("A"):
        messages = shared.list("messages")
        list(messages)  # shown...
        messages.append("hi")  # ...then changed: the page is stale
    assert sessions.flush() == {"A": {None}}


def test_iteration_reads_every_key(sessions: FakeSessions) -> None:
    _join(sessions, "A", "B")
    with sessions.act("A"):
        list(crdt_sync.shared_state("chat"))
    with sessions.act("B"):
        crdt_sync.shared_state("chat")["anything"] = 1
    assert sessions.flush() == {"A": {None}}


def test_a_read_in_a_fragment_reruns_that_fragment(sessions: FakeSessions) -> None:
    _join(sessions, "A", "B")
    with sessions.act("A", fragment="live"):
        crdt_sync.shared_state("chat").list("messages").to_list()
    with sessions.act("B"):
        crdt_sync.shared_state("chat").list("messages").append("hi")
    assert sessions.flush() == {"A": {"live"}}


def test_no_rerun_suppresses_pushes(sessions: FakeSessions) -> None:
    _join(sessions, "A", "B")
    with sessions.act("A"):
        crdt_sync.shared_state("chat").get("topic")
    with sessions.act("B"):
        with crdt_sync.no_rerun():
            crdt_sync.shared_state("chat")["topic"] = "quiet"
            with crdt_sync.no_rerun:  # nests; usable without parentheses too
                crdt_sync.shared_state("chat").list("log").append(1)
        assert not crdt_sync.no_rerun.active
    assert sessions.pushed() == set()
    with sessions.act("A"):
        assert crdt_sync.shared_state("chat")["topic"] == "quiet"  # seen on the next run


def test_force_rerun_reruns_readers_except_the_caller(sessions: FakeSessions) -> None:
    _join(sessions, "A", "B", "C")
    for session in ("A", "B"):
        with sessions.act(session):
            crdt_sync.shared_state("chat").get("topic")
    with sessions.act("C"):
        crdt_sync.shared_state("chat").get("other")
    with sessions.act("A"):
        assert crdt_sync.force_rerun("chat", "topic") == 1
    assert sessions.flush() == {"B": {None}}
    with sessions.act("A"):
        assert crdt_sync.force_rerun("chat") == 2
    assert sessions.flush() == {"B": {None}, "C": {None}}


def test_force_rerun_inside_no_rerun_is_an_error(sessions: FakeSessions) -> None:
    with (
        sessions.act("A"),
        crdt_sync.no_rerun(),
        pytest.raises(
            RerunSuppressed,
            match=r"^force_rerun\('chat', 'k'\) cannot be used inside no_rerun\(\)$",
        ),
    ):
        crdt_sync.force_rerun("chat", "k")


# ----------------------------------------------------------------------------- presence, tabs


def test_using_a_room_joins_it_and_a_closed_tab_leaves_at_once(sessions: FakeSessions) -> None:
    for session in ("A", "B"):
        with sessions.act(session):
            crdt_sync.shared_state("chat").get("topic")
    assert [m.session for m in sessions.registry.members("chat")] == ["A", "B"]
    assert sessions.hub.users("chat") == 2
    with sessions.act("A"):
        crdt_sync.presence_bar("chat")  # A's page shows who is here
    sessions.flush()
    sessions.close_tab("B")
    assert [m.session for m in sessions.registry.members("chat")] == ["A"]
    assert sessions.hub.users("chat") == 1
    assert sessions.flush() == {"A": {None}}  # its presence list changes
    with sessions.act("A"):
        crdt_sync.shared_state("chat")["topic"] = "x"
    assert "B" not in sessions.pushed()
    sessions.close_tab("A")
    assert sessions.registry.counts() == {
        "bindings": 0,
        "watches": 0,
        "rooms": 0,
        "observers": 0,
        "names": 0,
    }
    assert sessions.hub.users("chat") == 0


def test_outside_streamlit_it_is_a_plain_shared_mapping(sessions: FakeSessions) -> None:
    shared = crdt_sync.shared_state("jobs")
    shared["status"] = "running"
    shared.counter("done").increment(3)
    with sessions.act("A"):
        assert crdt_sync.shared_state("jobs")["status"] == "running"
    sessions.flush()
    with sessions.act(None):
        shared["status"] = "finished"  # a background thread: every reader reruns
    assert sessions.flush() == {"A": {None}}


def test_one_object_serves_every_session(sessions: FakeSessions) -> None:
    shared = crdt_sync.shared_state("chat")  # e.g. at module level
    _join(sessions, "A", "B")
    with sessions.act("A"):
        shared.get("topic")
    with sessions.act("B"):
        shared["topic"] = "from B"
    assert sessions.flush() == {"A": {None}}


def test_invalid_room_name(sessions: FakeSessions) -> None:
    with pytest.raises(ValueError, match="room name must not be empty"):
        crdt_sync.shared_state("")


def test_a_container_kept_across_sessions_tracks_whoever_uses_it(sessions: FakeSessions) -> None:
    """Reads and writes through one container object are the running session's: the
    engine tells the bridge of each read (see doc/value_view.py), no method list to keep."""
    shared = crdt_sync.shared_state("chat")
    _join(sessions, "A", "B")
    with sessions.act("A"):
        messages = shared.list("messages")
        len(messages)  # A read it
    sessions.flush()
    with sessions.act("B"):
        messages.append({"who": "B"})  # the object A got, used by B
    assert sessions.flush() == {"A": {None}}
