"""Tests of crdt_sync.doc.room: the mapping face, kinds, transactions, observers, undo, merge.

Where the engine protects against a pycrdt pitfall, the test also shows the pitfall on bare
pycrdt, so that removing the protection makes the Room half of the test fail.
"""

from __future__ import annotations

import contextlib
import logging
import random
from typing import Any

import pytest
from pycrdt import Doc, Map
from replicas import converged, sync

from crdt_sync.doc import InvalidUpdate, KindMismatch, Room, RoomEvent
from crdt_sync.doc.room import REMOTE

EMPTY = b"\x00\x00"


# ------------------------------------------------------------------ the mapping of registers


def test_set_get_delete_contains() -> None:
    room = Room("plans")
    room["level"] = 3
    assert room["level"] == 3
    assert "level" in room
    del room["level"]
    assert "level" not in room
    assert room.get("level") is None
    assert room.get("level", 7) == 7


def test_iteration_and_len_cover_registers_only() -> None:
    room = Room("plans")
    room["a"] = 1
    room["b"] = "two"
    room.text("notes").update("hi")
    room.counter("clicks").increment()
    assert sorted(room) == ["a", "b"]
    assert len(room) == 2
    assert room.snapshot() == {"a": 1, "b": "two"}
    assert room.kinds() == {"a": "register", "b": "register", "notes": "text", "clicks": "counter"}


def test_missing_key_error_names_key_and_room() -> None:
    room = Room("plans")
    with pytest.raises(KeyError) as info:
        room["nope"]
    assert info.value.args == ("no key 'nope' in room 'plans'",)
    with pytest.raises(KeyError) as info:
        del room["nope"]
    assert info.value.args == ("no key 'nope' in room 'plans'",)


def test_keys_must_be_str() -> None:
    room = Room("plans")
    with pytest.raises(TypeError, match=r"^room keys are str, got int: 1$"):
        room[1] = "x"  # type: ignore[index]
    assert 1 not in room


def test_unsupported_value_is_a_type_error_naming_key_and_type() -> None:
    room = Room("plans")
    with pytest.raises(TypeError, match=r"cannot store a object under key 'k'"):
        room["k"] = object()
    assert "k" not in room
    assert room.kinds() == {}


def test_ints_stay_ints() -> None:
    # Bare pycrdt hands an int back as a float.
    doc: Doc[Any] = Doc()
    raw = doc.get("m", type=Map)
    raw["level"] = 3
    assert type(raw["level"]) is float

    room = Room("plans")
    room["level"] = 3
    other = Room("plans")
    other.merge(room.export())
    assert type(room["level"]) is int
    assert type(other["level"]) is int
    assert other["level"] == 3


def test_huge_ints_do_not_panic() -> None:
    # Bare pycrdt raises a PanicException, which `except Exception` does not catch.
    doc: Doc[Any] = Doc()
    raw = doc.get("m", type=Map)
    with pytest.raises(BaseException) as info:
        raw["big"] = 2**64
    assert not isinstance(info.value, Exception)
    assert type(info.value).__name__ == "PanicException"

    room = Room("plans")
    room["big"] = 2**64
    room["bigger"] = -(3**200)
    other = Room("plans")
    other.merge(room.export())
    assert other["big"] == 2**64
    assert other["bigger"] == -(3**200)


def test_values_keep_their_type_through_merge() -> None:
    import datetime as dt

    room = Room("plans")
    room["when"] = dt.date(2024, 5, 1)
    room["pair"] = (1, 2.5)
    room["blob"] = b"\x00\xff"
    other = Room("plans")
    other.merge(room.export())
    assert other["when"] == dt.date(2024, 5, 1)
    assert other["pair"] == (1, 2.5)
    assert other["blob"] == b"\x00\xff"


# ------------------------------------------------------------------ kinds


def test_kind_mismatch_is_a_type_error_naming_key_room_and_kinds() -> None:
    room = Room("plans")
    room["level"] = 3
    with pytest.raises(KindMismatch) as info:
        room.text("level")
    assert isinstance(info.value, TypeError)
    assert str(info.value) == "key 'level' in room 'plans' holds a register, not a text"

    room.counter("clicks")
    with pytest.raises(
        KindMismatch, match=r"^key 'clicks' in room 'plans' holds a counter, not a register$"
    ):
        room["clicks"]
    with pytest.raises(KindMismatch, match="holds a counter, not a register"):
        room["clicks"] = 1
    with pytest.raises(KindMismatch, match="holds a counter, not a register"):
        del room["clicks"]
    with pytest.raises(KindMismatch, match="holds a counter, not a list"):
        room.list("clicks")
    assert "clicks" not in room
    assert room.counter("clicks").value == 0


def test_container_keys_must_be_non_empty_str() -> None:
    room = Room("plans")
    with pytest.raises(TypeError, match=r"^container keys are non-empty str, got ''$"):
        room.text("")
    with pytest.raises(TypeError, match=r"got 3$"):
        room.list(3)  # type: ignore[arg-type]


def test_same_container_object_for_same_key() -> None:
    room = Room("plans")
    assert room.text("notes") is room.text("notes")


def test_deleted_register_key_can_become_a_container() -> None:
    room = Room("plans")
    room["k"] = 1
    del room["k"]
    room.list("k").append(1)
    assert room.kinds() == {"k": "list"}


@pytest.mark.parametrize("kind", ["text", "counter", "list", "set", "table"])
def test_concurrent_creation_of_a_container_keeps_both_contents(kind: str) -> None:
    a, b = Room("r"), Room("r")

    def fill(room: Room, tag: str) -> None:
        if kind == "text":
            room.text("c").insert(0, tag)
        elif kind == "counter":
            room.counter("c").increment(2 if tag == "A" else 5)
        elif kind == "list":
            room.list("c").append(tag)
        elif kind == "set":
            room.set("c").add(tag)
        else:
            room.table("c").add_row({"who": tag}, row_id=tag)

    fill(a, "A")
    fill(b, "B")
    sync(a, b)
    assert converged(a, b)
    for room in (a, b):
        if kind == "text":
            assert sorted(str(room.text("c"))) == ["A", "B"]
        elif kind == "counter":
            assert room.counter("c").value == 7
        elif kind == "list":
            assert sorted(room.list("c")) == ["A", "B"]
        elif kind == "set":
            assert sorted(room.set("c")) == ["A", "B"]
        else:
            assert room.table("c").rows() == {"A": {"who": "A"}, "B": {"who": "B"}}


def test_concurrent_nested_shared_types_lose_one_side_which_is_why_containers_are_roots() -> None:
    # The pitfall the layout avoids: a Y type nested under a map key is replaced whole.
    docs: list[Doc[Any]] = [Doc(), Doc()]
    for doc, tag in zip(docs, "AB", strict=True):
        m = doc.get("m", type=Map)
        m["c"] = Map()
        m["c"][tag] = 1.0
    docs[0].apply_update(docs[1].get_update())
    docs[1].apply_update(docs[0].get_update())
    contents = [set(doc.get("m", type=Map)["c"].keys()) for doc in docs]
    assert contents[0] == contents[1]
    assert len(contents[0]) == 1  # one replica's creation won whole; the other's data is gone


@pytest.mark.parametrize("client_ids", [(1, 2), (2, 1)])
def test_concurrent_register_and_text_on_one_key_same_winner_everywhere_and_logged(
    client_ids: tuple[int, int], caplog: pytest.LogCaptureFixture
) -> None:
    a = Room("r", client_id=client_ids[0])
    b = Room("r", client_id=client_ids[1])
    a["k"] = 5
    b.text("k").update("typed")
    with caplog.at_level(logging.WARNING, logger="crdt_sync.room"):
        sync(a, b)
    assert converged(a, b)
    assert a.kinds() == b.kinds()
    winner = a.kinds()["k"]
    assert winner in ("register", "text")
    warnings = [r.getMessage() for r in caplog.records if r.name == "crdt_sync.room"]
    assert len(warnings) == 1
    assert "room 'r': key 'k' was made a" in warnings[0]
    assert f"the {winner} wins on every replica" in warnings[0]
    for room in (a, b):
        if winner == "register":
            assert room["k"] == 5
            assert room.snapshot() == {"k": 5}
            with pytest.raises(KindMismatch, match="holds a register, not a text"):
                room.text("k")
        else:
            assert str(room.text("k")) == "typed"
            assert "k" not in room
            with pytest.raises(KindMismatch, match="holds a text, not a register"):
                room["k"]


def test_regression_losing_replica_does_not_keep_its_stale_container() -> None:
    # Bug: the replica that created the losing text kept handing out its cached Text.
    a = Room("r", client_id=2)
    b = Room("r", client_id=1)
    a["k"] = 5
    b.text("k").update("typed")
    sync(a, b)
    assert b.kinds() == {"k": "register"}
    with pytest.raises(KindMismatch, match=r"^key 'k' in room 'r' holds a register, not a text$"):
        b.text("k")


# ------------------------------------------------------------------ transactions and observers


def test_observe_delivers_keys_and_origin_once_per_transaction() -> None:
    room = Room("plans")
    events: list[RoomEvent] = []
    room.observe(events.append)
    with room.transaction(origin="ann"):
        room["a"] = 1
        room["b"] = 2
        room.text("notes").insert(0, "x")
        room.counter("clicks").increment()
    room["c"] = 3
    assert [(e.keys, e.origin) for e in events] == [
        (frozenset({"a", "b", "notes", "clicks"}), "ann"),
        (frozenset({"c"}), None),
    ]
    assert all(e.room == "plans" for e in events)
    replay = Room("copy")
    for event in events:
        replay.merge(event.update)
    assert replay.snapshot() == {"a": 1, "b": 2, "c": 3}
    assert str(replay.text("notes")) == "x"


def test_observe_sees_merges_with_their_origin() -> None:
    source = Room("plans")
    source["x"] = 1
    source.list("todo").append("milk")
    room = Room("plans")
    events: list[RoomEvent] = []
    room.observe(events.append)
    room.merge(source.export())
    room.merge(source.export(), origin="peer")  # nothing new: no event
    source["y"] = 2
    room.merge(source.update_since(room.state_vector()), origin="peer")
    assert [(e.keys, e.origin) for e in events] == [
        (frozenset({"x", "todo"}), REMOTE),
        (frozenset({"y"}), "peer"),
    ]


def test_no_event_for_a_transaction_that_changes_nothing() -> None:
    room = Room("plans")
    events: list[RoomEvent] = []
    room.observe(events.append)
    with room.transaction(origin="ann"):
        pass
    text = room.text("t")  # creating the container is a change
    text.update("")
    assert text.update("") is False
    assert [(e.keys, e.origin) for e in events] == [(frozenset({"t"}), None)]


def test_unobserve_stops_delivery() -> None:
    room = Room("plans")
    events: list[RoomEvent] = []
    stop = room.observe(events.append)
    room["a"] = 1
    stop()
    room["b"] = 2
    assert [e.keys for e in events] == [frozenset({"a"})]


def test_nested_transaction_with_another_origin_is_refused() -> None:
    room = Room("plans")
    with room.transaction(origin="ann"):
        with room.transaction():  # joins ann's
            room["a"] = 1
        with pytest.raises(ValueError) as info, room.transaction(origin="bob"):
            pass
    assert str(info.value) == (
        "room 'plans': a transaction with origin 'ann' is open, cannot nest one with origin 'bob'"
    )
    assert room["a"] == 1


def test_observers_run_after_the_transaction_and_may_read_and_write() -> None:
    # Bare pycrdt: an observer cannot write to its document.
    doc: Doc[Any] = Doc()
    raw = doc.get("m", type=Map)
    raw.observe(lambda _event: raw.__setitem__("echo", 1.0))
    with pytest.raises(BaseException) as raw_info:
        raw["a"] = 1.0
    assert "Read-only transaction" in repr(raw_info.value.exceptions)  # type: ignore[attr-defined]

    room = Room("plans")
    seen: list[tuple[frozenset[str], Any, dict[str, Any]]] = []

    def echo(event: RoomEvent) -> None:
        seen.append((event.keys, event.origin, room.snapshot()))
        if "a" in event.keys:
            room["echo"] = room["a"] * 10  # reads and writes the room: a new transaction

    room.observe(echo)
    with room.transaction(origin="ann"):
        room["a"] = 1
        room["b"] = 2
        assert seen == []  # not inside the transaction
    assert room["echo"] == 10
    assert seen == [
        (frozenset({"a", "b"}), "ann", {"a": 1, "b": 2}),
        (frozenset({"echo"}), None, {"a": 1, "b": 2, "echo": 10}),
    ]


def test_observer_exception_is_logged_and_does_not_break_others(
    caplog: pytest.LogCaptureFixture,
) -> None:
    room = Room("plans")
    heard: list[frozenset[str]] = []

    def broken(event: RoomEvent) -> None:
        raise RuntimeError("observer bug")

    room.observe(broken)
    room.observe(lambda event: heard.append(event.keys))
    with caplog.at_level(logging.ERROR, logger="crdt_sync.room"):
        room["a"] = 1  # does not raise
        room["b"] = 2
    assert heard == [frozenset({"a"}), frozenset({"b"})]
    assert room.snapshot() == {"a": 1, "b": 2}
    failures = [r for r in caplog.records if r.name == "crdt_sync.room"]
    assert len(failures) == 2
    assert failures[0].getMessage().startswith("room 'plans': observer ")
    assert failures[0].exc_info is not None
    assert str(failures[0].exc_info[1]) == "observer bug"


def test_exception_inside_transaction_propagates_and_keeps_earlier_writes() -> None:
    room = Room("plans")
    events: list[RoomEvent] = []
    room.observe(events.append)
    with (
        pytest.raises(ZeroDivisionError, match=r"^division by zero$"),
        room.transaction(origin="ann"),
    ):
        room["a"] = 1
        1 / 0  # noqa: B018
    assert room["a"] == 1
    assert [e.keys for e in events] == [frozenset({"a"})]
    room["b"] = 2  # the room is still usable
    assert room["b"] == 2


# ------------------------------------------------------------------ undo


def test_undo_reverts_only_that_origins_changes() -> None:
    room = Room("plans")
    ann = room.undo_manager("ann")
    assert room.undo_manager("ann") is not None
    with room.transaction(origin="ann"):
        room["a"] = 1
    with room.transaction(origin="bob"):
        room["b"] = 2
    room["anon"] = 3  # no origin
    with room.transaction(origin="ann"):
        room["a"] = 10
    remote = Room("plans")
    remote["r"] = 4
    room.merge(remote.export())
    assert ann.can_undo()
    assert ann.undo()
    assert room.snapshot() == {"a": 1, "b": 2, "anon": 3, "r": 4}
    assert ann.undo()
    assert room.snapshot() == {"b": 2, "anon": 3, "r": 4}
    assert not ann.can_undo()
    assert ann.undo() is False
    assert room.snapshot() == {"b": 2, "anon": 3, "r": 4}
    assert ann.can_redo()
    assert ann.redo()
    assert room.snapshot() == {"a": 1, "b": 2, "anon": 3, "r": 4}


def test_undo_never_reverts_a_merged_remote_update_even_under_the_same_key() -> None:
    room = Room("plans")
    ann = room.undo_manager("ann")
    remote = Room("plans")
    remote["shared"] = "remote"
    room.merge(remote.export())
    with room.transaction(origin="ann"):
        room["mine"] = 1
    assert ann.undo()
    assert room.snapshot() == {"shared": "remote"}
    assert not ann.can_undo()


def test_undo_covers_containers_created_after_the_manager() -> None:
    room = Room("plans")
    ann = room.undo_manager("ann")
    bob = room.undo_manager("bob")
    with room.transaction(origin="bob"):
        room.text("notes").update("bob wrote")
    with room.transaction(origin="ann"):
        room.text("notes").update("ann and bob wrote")
    with room.transaction(origin="ann"):
        room.list("todo").append("milk")
        room.counter("n").increment(3)
    assert ann.undo()
    assert room.list("todo").to_list() == []
    assert room.counter("n").value == 0
    assert ann.undo()
    assert str(room.text("notes")) == "bob wrote"
    assert bob.undo()
    assert str(room.text("notes")) == ""


def test_undo_covers_containers_that_arrive_through_a_merge() -> None:
    room = Room("plans")
    ann = room.undo_manager("ann")
    remote = Room("plans")
    remote.text("notes").update("remote text")
    remote.set("tags").add("red")
    room.merge(remote.export())
    with room.transaction(origin="ann"):
        room.text("notes").insert(0, ">> ")
    with room.transaction(origin="ann"):
        room.set("tags").add("blue")
    assert ann.undo()
    assert sorted(room.set("tags")) == ["red"]
    assert ann.undo()
    assert str(room.text("notes")) == "remote text"
    assert not ann.can_undo()


def test_undo_reaches_other_replicas_and_reports_the_origin() -> None:
    room = Room("plans")
    ann = room.undo_manager("ann")
    events: list[RoomEvent] = []
    room.observe(events.append)
    with room.transaction(origin="ann"):
        room["a"] = 1
    peer = Room("plans")
    peer.merge(room.export())
    ann.undo()
    assert events[-1].origin == "ann"
    assert events[-1].keys == frozenset({"a"})
    peer.merge(events[-1].update)
    assert peer.snapshot() == {}


def test_undo_inside_a_transaction_is_refused() -> None:
    room = Room("plans")
    ann = room.undo_manager("ann")
    with room.transaction(origin="ann"):
        room["a"] = 1
    with room.transaction(), pytest.raises(RuntimeError, match="cannot undo inside a transaction"):
        ann.undo()


def test_drop_undo_manager_forgets_the_history() -> None:
    room = Room("plans")
    ann = room.undo_manager("ann")
    with room.transaction(origin="ann"):
        room["a"] = 1
    room.drop_undo_manager("ann")
    fresh = room.undo_manager("ann")
    assert not fresh.can_undo()
    assert ann.can_undo()  # the old object still works on its own history


# ------------------------------------------------------------------ sync primitives


def test_export_and_update_since_bring_a_replica_up_to_date() -> None:
    a, b = Room("r"), Room("r")
    a["x"] = 1
    a.text("t").update("hello")
    b.merge(a.export())
    assert converged(a, b)
    a["y"] = 2
    b["z"] = 3
    assert not converged(a, b)
    sync(a, b)
    assert converged(a, b)
    assert a.snapshot() == b.snapshot() == {"x": 1, "y": 2, "z": 3}
    assert str(b.text("t")) == "hello"


def test_merge_is_idempotent() -> None:
    a, b = Room("r"), Room("r")
    a["x"] = 1
    events: list[RoomEvent] = []
    b.observe(events.append)
    for _ in range(3):
        assert b.merge(a.export()) is True
    assert len(events) == 1
    assert b.snapshot() == {"x": 1}


def test_bad_state_vector_is_an_invalid_update() -> None:
    room = Room("plans")
    room["x"] = 1
    with pytest.raises(
        InvalidUpdate, match=r"^invalid Yjs update for room 'plans': bad state vector"
    ):
        room.update_since(b"\xff")


# ------------------------------------------------------------------ bad bytes


def test_random_bytes_give_invalid_update_and_leave_the_room_unchanged() -> None:
    rng = random.Random(4)
    room = Room("plans")
    room["x"] = 1
    room.text("t").update("hello")
    before = room.export()
    events: list[RoomEvent] = []
    room.observe(events.append)
    for _ in range(500):
        blob = rng.randbytes(rng.randint(1, 300))
        with pytest.raises(InvalidUpdate) as info:
            room.merge(blob)
        assert isinstance(info.value, ValueError)
        assert info.value.room == "plans"
        assert str(info.value).startswith("invalid Yjs update for room 'plans': ")
    assert room.export() == before
    assert room.pending == 0
    assert events == []


def test_truncated_updates_are_refused_at_every_cut() -> None:
    source = Room("plans")
    source["x"] = {"nested": [1, 2, 3]}
    source.text("t").update("héllo 😀")
    full = source.export()
    room = Room("plans")
    room["mine"] = 1
    before = room.export()
    for cut in range(len(full)):
        with pytest.raises(InvalidUpdate, match=r"^invalid Yjs update for room 'plans': "):
            room.merge(full[:cut])
        assert room.export() == before
    room.merge(full)
    assert room["x"] == {"nested": [1, 2, 3]}


def test_empty_update_is_refused_with_a_reason() -> None:
    room = Room("plans")
    with pytest.raises(InvalidUpdate) as info:
        room.merge(b"")
    assert str(info.value) == "invalid Yjs update for room 'plans': empty update"
    assert info.value.reason == "empty update"


def test_oversize_update_is_refused() -> None:
    source = Room("plans")
    source["big"] = "x" * 2000
    blob = source.export()
    room = Room("plans", max_update_size=1000)
    with pytest.raises(InvalidUpdate) as info:
        room.merge(blob)
    assert info.value.reason == f"update of {len(blob)} bytes exceeds the limit of 1000 bytes"
    assert room.export() == Room("plans").export()
    assert Room("plans").max_update_size == 16 * 1024 * 1024


def test_default_limit_refuses_more_than_16_mib() -> None:
    room = Room("plans")
    blob = b"\x00" * (16 * 1024 * 1024 + 1)
    with pytest.raises(InvalidUpdate, match="exceeds the limit of 16777216 bytes"):
        room.merge(blob)


def test_merge_takes_bytes_only() -> None:
    room = Room("plans")
    with pytest.raises(TypeError, match=r"^an update is bytes, got str$"):
        room.merge("\x00\x00")  # type: ignore[arg-type]
    assert room.merge(bytearray(b"\x00\x00")) is True


def test_random_updates_and_state_vectors_do_not_allocate_hundreds_of_mib() -> None:
    import subprocess
    import sys

    # In a fresh process, reading VmHWM (peak RSS of this process image): ru_maxrss would
    # also count what the child inherited from this big test process at fork time.
    code = (
        "import random\n"
        "from crdt_sync.doc import Room, InvalidUpdate\n"
        "def peak():\n"
        "    for line in open('/proc/self/status'):\n"
        "        if line.startswith('VmHWM:'):\n"
        "            return int(line.split()[1])\n"
        "room = Room('r')\n"
        "rng = random.Random(7)\n"
        "base = peak()\n"
        "for _ in range(2000):\n"
        "    for use in (room.merge, room.update_since):\n"
        "        try:\n"
        "            use(rng.randbytes(rng.randint(1, 300)))\n"
        "        except InvalidUpdate:\n"
        "            pass\n"
        "print(peak() - base)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    grown_kib = int(out.stdout)
    assert grown_kib < 64 * 1024, f"peak RSS grew by {grown_kib} KiB"


# ------------------------------------------------------------------ out-of-order delivery


def _writer_updates(rng: random.Random) -> tuple[list[bytes], dict[str, int]]:
    """One writer makes 2-8 single-key edits, one transaction each; returns the updates."""
    writer = Room("w")
    updates: list[bytes] = []
    writer.observe(lambda event: updates.append(event.update))
    for _ in range(rng.randint(2, 8)):
        writer[rng.choice("abc")] = rng.randint(0, 99)
    return updates, writer.snapshot()


def test_out_of_order_updates_converge_where_bare_pycrdt_does_not() -> None:
    rng = random.Random(632)  # y-crdt/y-crdt#632
    raw_wrong = room_wrong = 0
    for _ in range(300):
        updates, expected = _writer_updates(rng)
        order = updates[:]
        rng.shuffle(order)

        doc: Doc[Any] = Doc()
        for update in order:
            doc.apply_update(update)
        raw = doc.get("registers", type=Map).to_py()
        raw_wrong += {k: int(v) for k, v in raw.items()} != expected

        room = Room("r")
        for update in order:
            room.merge(update)
        room_wrong += room.snapshot() != expected or room.pending != 0
    assert raw_wrong > 0  # the upstream bug is real on these very bytes
    assert room_wrong == 0


def test_held_back_update_is_applied_when_the_gap_fills() -> None:
    writer = Room("w")
    updates: list[bytes] = []
    writer.observe(lambda event: updates.append(event.update))
    writer["a"] = 1
    writer["b"] = 2
    writer["a"] = 3
    room = Room("r")
    events: list[RoomEvent] = []
    room.observe(events.append)
    assert room.merge(updates[2]) is False
    assert room.merge(updates[1]) is False
    assert room.pending == 2
    assert room.snapshot() == {}  # nothing ahead of its predecessors is visible
    assert events == []
    assert room.merge(updates[0]) is True
    assert room.pending == 0
    assert room.snapshot() == {"a": 3, "b": 2}
    assert converged(room, writer)
    assert len(events) == 3


def test_a_gap_is_filled_by_a_state_vector_exchange() -> None:
    writer = Room("w")
    updates: list[bytes] = []
    writer.observe(lambda event: updates.append(event.update))
    for i in range(5):
        writer[f"k{i}"] = i
    room = Room("r")
    room.merge(updates[4])  # the first four were lost on the way
    assert room.pending == 1
    room.merge(writer.update_since(room.state_vector()))
    assert room.pending == 0
    assert room.snapshot() == writer.snapshot()
    assert converged(room, writer)


def test_duplicated_updates_are_harmless() -> None:
    writer = Room("w")
    updates: list[bytes] = []
    writer.observe(lambda event: updates.append(event.update))
    for i in range(6):
        writer[f"k{i % 3}"] = i
    room = Room("r")
    rng = random.Random(1)
    stream = updates * 3
    rng.shuffle(stream)
    for update in stream:
        room.merge(update)
    assert room.snapshot() == writer.snapshot()
    assert room.pending == 0


def test_merging_held_back_updates_needs_no_help_from_observers() -> None:
    # An observer that raises while held updates are released does not lose them.
    writer = Room("w")
    updates: list[bytes] = []
    writer.observe(lambda event: updates.append(event.update))
    writer["a"] = 1
    writer["b"] = 2
    room = Room("r")
    room.observe(lambda event: 1 / 0)
    room.merge(updates[1])
    room.merge(updates[0])
    assert room.snapshot() == {"a": 1, "b": 2}


def test_random_state_vectors_are_refused_or_answered() -> None:
    rng = random.Random(9)
    room = Room("plans")
    room["x"] = 1
    for _ in range(300):
        with contextlib.suppress(InvalidUpdate):
            room.update_since(rng.randbytes(rng.randint(0, 20)))
    assert room["x"] == 1


def test_regression_a_state_vector_declaring_millions_of_entries_is_refused_first() -> None:
    # Bug: update_since handed any bytes to yrs, which reserved memory for the declared
    # entry count: these 18 bytes cost 256 MiB and half a second.
    room = Room("plans")
    with pytest.raises(InvalidUpdate) as info:
        room.update_since(bytes.fromhex("ebe3955dad658873fa90c43515a2f466e232"))
    assert str(info.value) == (
        "invalid Yjs update for room 'plans': bad state vector: "
        "state vector size 195391979 exceeds the 14 bytes remaining at byte 0"
    )


# ------------------------------------------------------------------ lifetime


def test_regression_a_dropped_room_is_freed() -> None:
    # Bug: pycrdt subscriptions (which the garbage collector cannot look into) held
    # callbacks holding the room, so every room ever created stayed in memory for good.
    import gc
    import weakref

    room = Room("plans")
    room["a"] = 1
    room.text("notes").update("hi")
    room.counter("n").increment()
    room.undo_manager("ann")
    room.observe(lambda event: None)
    peer = Room("plans")
    peer.list("todo").append(1)
    room.merge(peer.export())  # a container adopted from a merge
    ref = weakref.ref(room)
    del room
    gc.collect()
    assert ref() is None


def test_change_hooks_hear_the_changed_keys_before_the_write_returns() -> None:
    room = Room("hooks")
    heard: list[frozenset[str]] = []
    remove = room.add_change_hook(heard.append)
    with room.transaction():
        room["a"] = 1
        room.text("notes").insert(0, "hi")
        assert heard == []  # not mid-transaction
    assert len(heard) == 1 and {"a", "notes"} <= heard[0]
    remove()
    room["b"] = 2
    assert len(heard) == 1
