"""The registry of sessions in rooms: nothing is left behind when people come and go."""

from __future__ import annotations

import gc
import tracemalloc
from pathlib import Path
from types import ModuleType

import pytest

from crdt_sync.bridge import runtime
from crdt_sync.bridge.sessions import Registry
from crdt_sync.doc import config


@pytest.fixture
def registry(pushed: list[str], process_config: ModuleType, tmp_path: Path) -> Registry:
    process_config.configure(f"diskcache:{tmp_path / 'store'}")  # data on disk, not in memory
    return Registry()


def _churn(registry: Registry, n: int) -> None:
    for i in range(n):
        session = f"session-{i:04d}"
        binding = registry.bind(session, "busy", private_by_default=False)
        state: dict[str, object] = {}
        binding.enter(state, set())
        state["level"] = i
        binding.exit(state, {"level": ("slider", None)})
        registry.leave_all(session)


def test_two_hundred_sessions_join_and_leave_and_nothing_is_left(registry: Registry) -> None:
    _churn(registry, 20)  # warm up caches and imports
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    _churn(registry, 200)
    gc.collect()
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    assert registry.counts() and not any(registry.counts().values()), registry.counts()
    assert config.hub().open_rooms() == []
    # A few KiB of interpreter noise at most; a leak of one binding per session would be far
    # more (each holds a room, an undo manager and its key states).
    assert after - before < 64 * 1024, f"grew by {after - before} bytes over 200 sessions"


def test_members_and_names(registry: Registry) -> None:
    registry.bind("s1", "r", private_by_default=False)
    registry.bind("s2", "r", private_by_default=False)
    registry.set_name("s2", "Bob")
    assert [m.label for m in registry.members("r")] == ["guest-s1", "Bob"]
    registry.leave_all("s2")
    assert [m.session for m in registry.members("r")] == ["s1"]
    assert registry.current_room("s1") == "r"


def test_a_change_pushes_the_others_but_not_the_author(
    registry: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    pushed: list[str] = []
    monkeypatch.setattr(
        runtime.scheduler,
        "push",
        lambda session, fragments, still_needed=None: pushed.append(session),
    )
    a = registry.bind("a", "r", private_by_default=False)
    registry.bind("b", "r", private_by_default=False)
    registry.bind("c", "other", private_by_default=False)
    pushed.clear()
    with a.room.transaction(origin="a"):
        a.room["level"] = 3
    assert pushed == ["b"]


def test_engine_import_does_not_load_streamlit() -> None:
    """`crdt_sync.doc` is usable from any Python program: importing it (and the package
    root) must not drag in Streamlit; the Streamlit-facing names load on first use."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from crdt_sync.doc import Room, DiskCacheStore\n"
        "import crdt_sync\n"
        "assert 'streamlit' not in sys.modules, 'streamlit imported by the engine'\n"
        "crdt_sync.sync\n"
        "assert 'streamlit' in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_a_key_not_read_in_the_last_whole_run_no_longer_reruns_its_reader() -> None:
    """Issue 16: a session that read a key on another page (run 1) and then ran a page
    that reads only another key (run 2) is rerun for that key alone."""
    from crdt_sync.bridge.watch import Watch
    from crdt_sync.doc import Room

    watch = Watch("s1", Room("r"))
    watch.read(["chart"], run=1)
    watch.read(["level"], run=2)
    watch.read(fragment="f", everything=True, run=1)
    watch.run_ended(2)
    assert watch.touch(["chart"]) == set()
    assert not watch.has_dirty()
    assert watch.touch(["level"]) == {None}
    watch.read(["chart"], run=3)  # read again: tracked again
    watch.run_ended(3)
    assert watch.touch(["chart"]) == {None}


def test_a_page_that_shows_who_is_here_keeps_being_rerun_after_a_fragment_run() -> None:
    """The presence bar is read in the whole run (1); a fragment's own run (2) reads the
    members in the fragment only: a newcomer still reruns the whole page, until a whole
    run (3) no longer shows them."""
    from crdt_sync.bridge.members import PresenceReaders

    readers = PresenceReaders()
    readers.read("plans", "A", None, 1)
    readers.read("plans", "A", "board", 1)
    readers.run_ended("A", 1)
    readers.read("plans", "A", "board", 2)  # the board fragment reran alone
    assert readers.targets("plans", exclude="B") == {"A": {None, "board"}}
    readers.read("plans", "A", "board", 3)
    readers.run_ended("A", 3)  # the page no longer shows the presence bar
    assert readers.targets("plans", exclude="B") == {"A": {"board"}}
    readers.run_ended("A", 4)
    assert readers.targets("plans", exclude=None) == {}
