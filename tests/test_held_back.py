"""Tests of crdt_sync.doc.held_back: updates that wait for their predecessors, in bytes."""

from __future__ import annotations

import logging

import pytest

from crdt_sync.doc import Room, RoomEvent
from crdt_sync.doc.held_back import (
    DEFAULT_MAX_HELD_BACK_BYTES,
    ENTRY_OVERHEAD,
    HeldBack,
    HeldUpdate,
)


def writes(n: int, size: int = 10) -> list[bytes]:
    """The updates of ``n`` writes by one writer, each carrying ``size`` characters."""
    writer = Room("w")
    updates: list[bytes] = []
    writer.observe(lambda event: updates.append(event.update))
    for i in range(n):
        writer[f"k{i}"] = "x" * size
    return updates


def test_the_default_bound_is_8_mib() -> None:
    assert DEFAULT_MAX_HELD_BACK_BYTES == 8 * 1024 * 1024
    assert HeldBack("plans").max_bytes == DEFAULT_MAX_HELD_BACK_BYTES


def test_a_held_update_keeps_its_own_origin() -> None:
    # Bug: released updates took the origin of the merge that filled the gap, so a relay
    # had to recognise its own updates by their bytes.
    first, second = writes(2)
    room = Room("r")
    events: list[RoomEvent] = []
    room.observe(events.append)
    assert room.merge(second, origin="redis") is False
    assert room.merge(first, origin="peer") is True
    assert [event.origin for event in events] == ["peer", "redis"]


def test_held_back_updates_are_bounded_in_bytes_and_the_oldest_go_first(
    caplog: pytest.LogCaptureFixture,
) -> None:
    updates = writes(6, size=1000)
    ahead = updates[1:]  # all wait for the first
    cost = len(ahead[0]) + ENTRY_OVERHEAD
    room = Room("plans", max_held_back_bytes=3 * cost + 10)
    wanted: list[str] = []
    room.add_resync_hook(wanted.append)
    for update in ahead[:3]:
        assert room.merge(update) is False
    assert room.pending == 3 and wanted == []
    assert room.pending_bytes == sum(len(u) + ENTRY_OVERHEAD for u in ahead[:3])
    with caplog.at_level(logging.WARNING, logger="crdt_sync.room"):
        assert room.merge(ahead[3]) is False
    assert room.pending == 3
    assert wanted == ["plans"]
    assert caplog.messages == [
        f"room 'plans': held-back updates exceed {3 * cost + 10} bytes; dropped the 1 "
        "oldest (a state-vector sync with the peers recovers them)"
    ]
    # The first update arrives; the dropped second one is still missing, so the rest wait.
    assert room.merge(updates[0]) is True
    assert room.pending == 3
    assert sorted(room) == ["k0"]


def test_a_resync_brings_back_what_was_dropped() -> None:
    writer = Room("w")
    updates: list[bytes] = []
    writer.observe(lambda event: updates.append(event.update))
    for i in range(5):
        writer[f"k{i}"] = "x" * 500
    room = Room("plans", max_held_back_bytes=len(updates[1]) + ENTRY_OVERHEAD)
    resyncs: list[str] = []
    room.add_resync_hook(resyncs.append)
    for update in updates[1:]:
        room.merge(update)
    assert resyncs == ["plans"] * 3
    room.merge(writer.update_since(room.state_vector()))
    assert room.pending == 0
    assert room.snapshot() == writer.snapshot()


def test_an_update_larger_than_the_bound_is_not_held() -> None:
    updates = writes(2, size=5000)
    room = Room("plans", max_held_back_bytes=1000)
    wanted: list[str] = []
    room.add_resync_hook(wanted.append)
    assert room.merge(updates[1]) is False
    assert room.pending == 0 and room.pending_bytes == 0
    assert wanted == ["plans"]


def test_release_applies_in_order_and_skips_what_is_not_ready() -> None:
    held = HeldBack("plans", max_bytes=10_000)
    applied: list[bytes] = []
    assert held.hold(HeldUpdate(b"b", {1: 5}, "x")) is False
    assert held.hold(HeldUpdate(b"a", {1: 3}, "x")) is False
    assert held.hold(HeldUpdate(b"c", {2: 9}, "x")) is False
    state = {1: 3}

    def apply(update: HeldUpdate) -> None:
        applied.append(update.data)
        state[1] = state.get(1, 0) + 2

    held.release(lambda: dict(state), apply)
    assert applied == [b"a", b"b"]
    assert len(held) == 1 and held.size == 1 + ENTRY_OVERHEAD
