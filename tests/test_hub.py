"""Tests of crdt_sync.doc.hub: one Room per name, users counted, updates fanned out in order."""

from __future__ import annotations

import logging
import threading
from typing import Any

import pytest

from crdt_sync.doc import Hub, MemoryStore, Room


class Heard:
    """A hub subscriber that records what it hears."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, bytes, Any]] = []

    def __call__(self, room: str, update: bytes, origin: Any) -> None:
        self.calls.append((room, update, origin))


def test_same_room_for_the_same_name() -> None:
    hub = Hub(MemoryStore())
    a = hub.open("plans")
    b = hub.open("plans")
    assert a is b
    assert hub.open("other") is not a
    assert hub.users("plans") == 2
    assert hub.open_rooms() == ["other", "plans"]
    assert hub.get("plans") is a
    assert hub.get("never") is None
    assert "never" not in hub.open_rooms()  # get() never loads


def test_refcount_closes_the_room_when_the_last_user_leaves() -> None:
    store = MemoryStore()
    hub = Hub(store)
    room = hub.open("plans")
    hub.open("plans")
    room["x"] = 1
    hub.release("plans")
    assert hub.get("plans") is room
    assert hub.users("plans") == 1
    hub.release("plans")
    assert hub.get("plans") is None
    assert hub.users("plans") == 0
    assert hub.open_rooms() == []
    again = hub.open("plans")  # loaded again from the store, with its data
    assert again is not room
    assert again["x"] == 1


def test_releasing_a_room_that_is_not_open_is_harmless() -> None:
    hub = Hub(MemoryStore())
    hub.release("plans")
    assert hub.users("plans") == 0
    room = hub.open("plans")
    assert hub.users("plans") == 1
    assert hub.get("plans") is room


def test_keep_idle_keeps_the_room_open() -> None:
    hub = Hub(MemoryStore(), keep_idle=True)
    room = hub.open("plans")
    hub.release("plans")
    assert hub.users("plans") == 0
    assert hub.open("plans") is room


def test_rooms_lists_stored_and_open_rooms() -> None:
    store = MemoryStore()
    store.load("stored")["x"] = 1
    hub = Hub(store)
    hub.open("open-only")
    assert hub.rooms() == ["open-only", "stored"]


def test_subscribers_hear_every_transaction_in_order() -> None:
    hub = Hub(MemoryStore())
    heard = Heard()
    plans, other = hub.open("plans"), hub.open("other")
    clicks = plans.counter("n")
    before = plans.export()
    hub.subscribe(heard)
    with plans.transaction(origin="ann"):
        plans["a"] = 1
        plans.text("t").update("hi")
    other["b"] = 2
    clicks.increment(origin="bob")
    peer = Room("plans")
    peer["remote"] = True
    plans.merge(peer.export(), origin="peer")
    assert [(room, origin) for room, _update, origin in heard.calls] == [
        ("plans", "ann"),
        ("other", None),
        ("plans", "bob"),
        ("plans", "peer"),
    ]
    replica = Room("plans")
    replica.merge(before)
    for room, update, _origin in heard.calls:
        if room == "plans":
            assert replica.merge(update) is True
    assert replica.snapshot() == {"a": 1, "remote": True}
    assert str(replica.text("t")) == "hi"
    assert replica.counter("n").value == 1


def test_subscribers_hear_threads_in_an_order_that_replays() -> None:
    hub = Hub(MemoryStore())
    heard = Heard()
    hub.subscribe(heard)
    room = hub.open("plans")

    def write(tag: str) -> None:
        for i in range(200):
            with room.transaction(origin=tag):
                room[f"{tag}{i}"] = i
                room.text("log").insert(0, tag)

    threads = [threading.Thread(target=write, args=(tag,)) for tag in "abcd"]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    assert len(heard.calls) == 800
    replica = Room("plans")
    for _room, update, _origin in heard.calls:
        assert replica.merge(update) is True  # each one applies at once: causal order
    assert replica.snapshot() == room.snapshot()
    assert str(replica.text("log")) == str(room.text("log"))


def test_unsubscribe_and_subscriber_failures(caplog: pytest.LogCaptureFixture) -> None:
    hub = Hub(MemoryStore())
    heard = Heard()

    def broken(room: str, update: bytes, origin: Any) -> None:
        raise RuntimeError("subscriber bug")

    hub.subscribe(broken)
    stop = hub.subscribe(heard)
    room = hub.open("plans")
    with caplog.at_level(logging.ERROR, logger="crdt_sync.hub"):
        room["a"] = 1
    assert len(heard.calls) == 1
    (record,) = [r for r in caplog.records if r.name == "crdt_sync.hub"]
    assert record.getMessage().startswith("hub: subscriber ")
    assert record.getMessage().endswith(" failed for room 'plans'")
    stop()
    room["b"] = 2
    assert len(heard.calls) == 1
    assert room.snapshot() == {"a": 1, "b": 2}


def test_a_closed_room_is_no_longer_fanned_out() -> None:
    hub = Hub(MemoryStore())
    heard = Heard()
    hub.subscribe(heard)
    room = hub.open("plans")
    hub.release("plans")
    room["late"] = 1  # someone kept a reference
    assert heard.calls == []


def test_rooms_are_persisted_through_the_store() -> None:
    store = MemoryStore()
    hub = Hub(store)
    hub.open("plans")["x"] = 1
    assert store.load("plans")["x"] == 1


def test_on_open_hook_runs_once_per_load() -> None:
    hub = Hub(MemoryStore())
    opened: list[Room] = []
    hub.on_open(opened.append)
    room = hub.open("plans")
    hub.open("plans")
    assert opened == [room]


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "room name must not be empty"),
        (
            "x" * 201,
            "room name is 201 characters long, the limit is 200: " + repr("x" * 40) + "...",
        ),
        ("bell\x07", "room name 'bell\\x07' contains control character '\\x07'"),
        (1.5, "room name must be a str, got float: 1.5"),
    ],
)
def test_bad_names_are_refused(name: Any, message: str) -> None:
    hub = Hub(MemoryStore())
    with pytest.raises(ValueError) as info:
        hub.open(name)
    assert str(info.value) == message
    assert hub.open_rooms() == []


def test_close_closes_rooms_and_store() -> None:
    closed: list[bool] = []

    class Store(MemoryStore):
        def close(self) -> None:
            closed.append(True)

    hub = Hub(Store())
    heard = Heard()
    hub.subscribe(heard)
    room = hub.open("plans")
    hub.close()
    room["x"] = 1
    assert closed == [True]
    assert hub.open_rooms() == []
    assert heard.calls == []


def test_a_released_room_can_be_freed() -> None:
    import gc
    import weakref

    hub = Hub(MemoryStore())
    room = hub.open("plans")
    room["x"] = 1
    ref = weakref.ref(room)
    hub.release("plans")
    del room
    gc.collect()
    assert ref() is None
