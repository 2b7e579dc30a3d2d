"""crdt_sync.compat.server_state: streamlit-server-state's API, lists that merge."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable

import pytest
from fake_sessions import FakeSessions

from crdt_sync.compat.list_edits import plan_list_edits
from crdt_sync.compat.server_state import (
    FrozenValueError,
    RerunSuppressed,
    ServerList,
    force_rerun_bound_sessions,
    no_rerun,
    server_state,
    server_state_lock,
)


@pytest.fixture
def sessions(monkeypatch: pytest.MonkeyPatch) -> FakeSessions:
    return FakeSessions(monkeypatch)


def _join(sessions: FakeSessions, *names: str) -> None:
    for name in names:
        with sessions.act(name):
            "anything" in server_state  # noqa: B015 - uses the state: joins its room
    sessions.flush()


# ----------------------------------------------------------------------------- the API


def test_items_attributes_in_del(sessions: FakeSessions) -> None:
    with sessions.act("A"):
        assert "count" not in server_state
        server_state.count = 0
        server_state["name"] = "ann"
        assert server_state["count"] == 0 and server_state.name == "ann"
        assert sorted(server_state) == ["count", "name"] and len(server_state) == 2
        server_state.count += 1
        assert server_state.count == 1
        del server_state["name"]  # works, unlike in the original
        del server_state.count
        assert len(server_state) == 0
        with pytest.raises(KeyError, match=r"^'gone'$"):
            server_state["gone"]
        with pytest.raises(AttributeError, match=r"^server_state has no item 'gone'$"):
            server_state.gone  # noqa: B018
        with pytest.raises(KeyError):
            del server_state["gone"]


def test_lock_is_one_reentrant_lock_per_key(sessions: FakeSessions) -> None:
    assert server_state_lock["count"] is server_state_lock.count
    assert server_state_lock["count"] is not server_state_lock["other"]
    with server_state_lock.count, server_state_lock["count"]:  # re-entrant
        assert "count" in server_state_lock


def test_readme_counter_with_the_lock_is_exact(sessions: FakeSessions) -> None:
    def clicker(session: str) -> None:
        with sessions.act(session):
            with server_state_lock["count"]:
                if "count" not in server_state:
                    server_state.count = 0
            for _ in range(200):
                with server_state_lock.count:
                    server_state.count += 1

    threads = [threading.Thread(target=clicker, args=(s,)) for s in "ABCD"]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with sessions.act("A"):
        assert server_state.count == 800


def _chat(mode: str) -> Callable[[str], None]:
    def send(message: str) -> None:
        if mode == "lock":
            with server_state_lock["messages"]:
                server_state["messages"] = server_state["messages"] + [message]
        elif mode == "nolock":
            server_state["messages"] = server_state["messages"] + [message]
        elif mode == "append":
            server_state["messages"].append(message)
        elif mode == "iadd":
            server_state["messages"] += [message]
        else:  # the forum's workaround: read, mutate, assign back
            messages = server_state["messages"]
            messages.append(message)
            server_state["messages"] = messages

    return send


@pytest.mark.parametrize("mode", ["lock", "nolock", "append", "iadd", "read-mutate-assign"])
def test_chat_patterns_keep_every_message_of_simultaneous_senders(
    sessions: FakeSessions, mode: str
) -> None:
    with sessions.act("init"):
        server_state["messages"] = []
    send = _chat(mode)

    def sender(session: str) -> None:
        rng = random.Random(session)
        with sessions.act(session):
            for i in range(60):
                send({"who": session, "i": i})  # type: ignore[arg-type]
                time.sleep(rng.random() / 2000)

    threads = [threading.Thread(target=sender, args=(s,)) for s in "ABC"]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with sessions.act("check"):
        messages = server_state["messages"]
    assert len(messages) == 180
    for who in "ABC":
        assert [m["i"] for m in messages if m["who"] == who] == list(range(60))


def test_regression_append_to_a_read_list_is_noticed(sessions: FakeSessions) -> None:
    # streamlit-server-state never noticed server_state[k].append(m): nobody reran.
    _join(sessions, "A", "B")
    with sessions.act("A"):
        server_state["messages"] = []
        assert server_state["messages"] == []  # A shows the list
    with sessions.act("B"):
        server_state["messages"].append("hi")
    # B read the list before changing it, like A: both pages show it again.
    assert sessions.flush() == {"A": {None}, "B": {None}}
    with sessions.act("A"):
        assert server_state["messages"] == ["hi"]


def test_list_proxy_changes_go_through(sessions: FakeSessions) -> None:
    with sessions.act("A"):
        server_state.things = [3, 1, 2]
        items = server_state.things
        assert isinstance(items, ServerList) and items == [3, 1, 2]
        items.sort()
        items.insert(0, 0)
        items[1] = 10
        del items[-1]
        assert items.pop() == 2
        items.extend([7, 8])
        items.remove(7)
        items *= 2
        assert server_state.things == items == [0, 10, 8, 0, 10, 8]
        items.reverse()
        assert server_state.things == [8, 10, 0, 8, 10, 0]
        items.clear()
        assert server_state.things == []


def test_assigning_a_list_replays_the_change_onto_what_others_did(
    sessions: FakeSessions,
) -> None:
    with sessions.act("A"):
        server_state.todo = ["a", "b", "c"]
    with sessions.act("B"):
        mine = server_state.todo  # B starts from a, b, c
    with sessions.act("A"):
        server_state.todo = [*server_state.todo, "d"]  # A appends d meanwhile
    with sessions.act("B"):
        server_state.todo = [x for x in mine if x != "b"]  # B removed b
        assert server_state.todo == ["a", "c", "d"]


def test_a_list_never_read_here_is_replaced(sessions: FakeSessions) -> None:
    with sessions.act("A"):
        server_state.todo = ["a"]
    with sessions.act("B"):
        server_state.todo = ["x", "y"]  # B never read it: a plain replacement
        assert server_state.todo == ["x", "y"]


def test_a_value_can_become_a_list_but_not_back(sessions: FakeSessions) -> None:
    with sessions.act("A"):
        server_state.v = 1
        server_state.v = [1]
        assert server_state.v == [1]
        with pytest.raises(TypeError, match=r"^server_state\['v'\] holds a list; it can only"):
            server_state.v = 2
        del server_state.v  # empties the list
        assert server_state.v == []


def test_dicts_come_back_frozen_with_advice(sessions: FakeSessions) -> None:
    with sessions.act("A"):
        server_state.cfg = {"a": 1}
        server_state.msgs = [{"who": "ann"}]
        with pytest.raises(FrozenValueError, match=r"server_state\['cfg'\] = \{\*\*server_state"):
            server_state.cfg["a"] = 2
        with pytest.raises(FrozenValueError, match=r"value = copy\.deepcopy\(server_state"):
            server_state.msgs[0]["who"] = "bob"
        server_state.cfg = {**server_state.cfg, "a": 2}
        assert server_state.cfg == {"a": 2}


def test_values_must_be_storable_and_are_never_pickled(sessions: FakeSessions) -> None:
    class Container:
        count = 0

    with sessions.act("A"), pytest.raises(TypeError, match="cannot store a Container under key"):
        server_state.data = Container()


# ----------------------------------------------------------------------------- reruns


def test_readers_rerun_on_change_and_an_unchanged_value_reruns_nobody(
    sessions: FakeSessions,
) -> None:
    _join(sessions, "A", "B")
    with sessions.act("A"):
        server_state.count = 0
    with sessions.act("B"):
        assert server_state.count == 0
    with sessions.act("A"):
        server_state.count = 0
    assert sessions.flush() == {}
    with sessions.act("A"):
        server_state.count = 1
    assert sessions.flush() == {"B": {None}}


def test_no_rerun_and_force_rerun_bound_sessions(sessions: FakeSessions) -> None:
    _join(sessions, "A", "B")
    with sessions.act("B"):
        assert "foo" not in server_state
    with sessions.act("A"):
        with no_rerun:
            server_state["foo"] = 42
        with no_rerun():
            server_state["foo"] = 43
    assert sessions.flush() == {}
    with sessions.act("A"):
        force_rerun_bound_sessions("foo")
    assert sessions.flush() == {"B": {None}}
    with sessions.act("A"), no_rerun, pytest.raises(RerunSuppressed):
        force_rerun_bound_sessions("foo")


# ----------------------------------------------------------------------------- list edits


@pytest.mark.parametrize(
    ("base", "new", "current", "result"),
    [
        (["a"], ["a", "m"], ["a", "x"], ["a", "x", "m"]),  # appends stay appends
        ([], ["m"], ["x", "y"], ["x", "y", "m"]),
        (["a", "b"], ["a"], ["a", "b", "x"], ["a", "x"]),  # my delete; their append
        (["a", "b"], ["a"], ["a"], ["a"]),  # both deleted b
        (["a", "b", "c"], ["a", "z", "c"], ["a", "b", "c", "d"], ["a", "z", "c", "d"]),
        (["a", "c"], ["a", "b", "c"], ["c"], ["b", "c"]),  # a gone: insert before c
        ([{"k": 1}], [{"k": 1}, {"k": 2}], [{"k": 1}], [{"k": 1}, {"k": 2}]),  # dicts
    ],
)
def test_plan_list_edits(base: list, new: list, current: list, result: list) -> None:  # type: ignore[type-arg]
    deletes, inserts = plan_list_edits(base, new, current)
    out = list(current)
    for position in range(len(out), -1, -1):
        if position in deletes:
            del out[position]
        for offset, item in enumerate(inserts.get(position, ())):
            out.insert(position + offset, item)
    assert out == result
