"""Many threads on one Room (Streamlit runs each session in its own thread).

Bare pycrdt loses writes, raises "Already mutably borrowed" and merges one thread's writes
into another thread's transaction; the Room's own lock prevents all of it. The switch
interval is shortened so that threads really interleave inside pycrdt calls.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterator

import pytest

from crdt_sync.doc import MemoryStore, Room, RoomEvent

THREADS = 8
WRITES = 2000


@pytest.fixture(autouse=True)
def fast_switching() -> Iterator[None]:
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        yield
    finally:
        sys.setswitchinterval(before)


def run_all(targets: list[Callable[[], None]], timeout: float = 120) -> None:
    """Run each target in its own thread; fail on any exception or on a hang."""
    errors: list[BaseException] = []
    start = threading.Barrier(len(targets))

    def guarded(target: Callable[[], None]) -> None:
        try:
            start.wait()
            target()
        except BaseException as exc:  # PanicException is a BaseException
            errors.append(exc)

    threads = [threading.Thread(target=guarded, args=(t,), daemon=True) for t in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    assert not any(thread.is_alive() for thread in threads), "threads hung"
    assert errors == []


@pytest.mark.timeout(180)
def test_8_threads_x_2000_writes_all_present() -> None:
    room = Room("plans")

    def writer(t: int) -> Callable[[], None]:
        def write() -> None:
            for i in range(WRITES):
                room[f"t{t}-{i}"] = i

        return write

    run_all([writer(t) for t in range(THREADS)])
    assert len(room) == THREADS * WRITES
    assert room.snapshot() == {f"t{t}-{i}": i for t in range(THREADS) for i in range(WRITES)}
    copy = Room("copy")
    copy.merge(room.export())
    assert len(copy) == THREADS * WRITES


@pytest.mark.timeout(180)
def test_threads_writing_a_persisted_room_lose_nothing_on_reload() -> None:
    store = MemoryStore(compact_every=300)  # auto-compactions happen while others write
    room = store.load("plans")

    def writer(t: int) -> Callable[[], None]:
        def write() -> None:
            for i in range(500):
                room[f"t{t}-{i}"] = i

        return write

    run_all([writer(t) for t in range(THREADS)])
    assert len(store.load("plans")) == THREADS * 500


@pytest.mark.timeout(120)
def test_concurrent_counter_increments_are_exact() -> None:
    room = Room("plans")
    clicks = room.counter("clicks")

    def click() -> None:
        for _ in range(500):
            clicks.increment()

    run_all([click] * THREADS)
    assert clicks.value == THREADS * 500


@pytest.mark.timeout(120)
def test_each_thread_transaction_keeps_its_own_origin() -> None:
    # Bare pycrdt merges writes of one thread into another thread's open transaction.
    room = Room("plans")
    events: list[RoomEvent] = []
    room.observe(events.append)

    def writer(t: int) -> Callable[[], None]:
        def write() -> None:
            for i in range(300):
                with room.transaction(origin=f"session-{t}"):
                    room[f"t{t}-{i}"] = i
                    room.text(f"text-{t}").insert(0, "x")

        return write

    run_all([writer(t) for t in range(THREADS)])
    assert len(events) == THREADS * 300
    for event in events:
        t = str(event.origin).removeprefix("session-")
        assert event.keys <= {f"t{t}-{i}" for i in range(300)} | {f"text-{t}"}
        assert len(event.keys) == 2
    assert all(len(room.text(f"text-{t}")) == 300 for t in range(THREADS))


@pytest.mark.timeout(120)
def test_one_thread_writes_while_others_read_and_iterate() -> None:
    room = Room("plans")
    notes = room.text("notes")
    done = threading.Event()
    sizes: list[int] = []

    def write() -> None:
        try:
            for i in range(3000):
                room[f"k{i}"] = i
                if i % 10 == 0:
                    notes.insert(len(notes), "ab")
                    room.list("todo").append(i)
        finally:
            done.set()

    def read() -> None:
        seen: list[int] = []
        while not done.is_set():
            keys = list(room)  # iteration while another thread writes
            snapshot = room.snapshot()
            assert set(keys) <= set(snapshot)
            assert all(snapshot[k] == int(k[1:]) for k in keys)
            text = str(notes)
            assert text == "ab" * (len(text) // 2)
            todo = room.list("todo").to_list()
            assert todo == list(range(0, 10 * len(todo), 10))
            seen.append(len(room))
            room.export()
            room.state_vector()
        assert seen == sorted(seen)  # the room only grows
        sizes.extend(seen)

    run_all([write, read, read])
    assert len(room) == 3000
    assert len(sizes) > 0


@pytest.mark.timeout(120)
def test_merges_and_writes_from_many_threads_converge() -> None:
    target = Room("plans")
    sources = [Room("plans") for _ in range(4)]

    def peer(source: Room, t: int) -> Callable[[], None]:
        def run() -> None:
            for i in range(200):
                source[f"p{t}-{i}"] = i
                target.merge(source.update_since(target.state_vector()))
                target[f"local{t}-{i}"] = i

        return run

    run_all([peer(source, t) for t, source in enumerate(sources)])
    assert len(target) == 4 * 200 * 2
    assert target.pending == 0


@pytest.mark.timeout(120)
def test_observers_that_write_back_do_not_deadlock_across_threads() -> None:
    room = Room("plans")

    def mirror(event: RoomEvent) -> None:
        for key in event.keys:
            if key.startswith("k"):
                room["m" + key[1:]] = room[key]

    room.observe(mirror)

    def writer(t: int) -> Callable[[], None]:
        def write() -> None:
            for i in range(300):
                room[f"k{t}-{i}"] = i

        return write

    run_all([writer(t) for t in range(4)])
    assert room.snapshot() == {f"{p}{t}-{i}": i for p in "km" for t in range(4) for i in range(300)}


@pytest.mark.timeout(120)
def test_undo_managers_of_different_threads_stay_apart() -> None:
    room = Room("plans")

    def session(t: int) -> Callable[[], None]:
        def run() -> None:
            history = room.undo_manager(f"s{t}")
            for i in range(100):
                with room.transaction(origin=f"s{t}"):
                    room[f"s{t}-{i}"] = i
            for _ in range(50):
                assert history.undo()

        return run

    run_all([session(t) for t in range(4)])
    assert room.snapshot() == {f"s{t}-{i}": i for t in range(4) for i in range(50)}
