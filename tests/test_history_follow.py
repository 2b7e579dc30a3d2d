"""A page's history panels are rerun when someone else changes their room, and only then."""

from __future__ import annotations

import pytest

from crdt_sync.bridge.watch import QuietOrigin
from crdt_sync.components import history_follow
from crdt_sync.doc import Room


@pytest.fixture
def pushes(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, set[str | None]]]:
    made: list[tuple[str, set[str | None]]] = []
    monkeypatch.setattr(
        history_follow.runtime.scheduler,
        "push",
        lambda session, fragments, still_needed=None: made.append((session, set(fragments))),
    )
    return made


def test_someone_elses_change_reruns_the_panels_fragment_only(
    pushes: list[tuple[str, set[str | None]]],
) -> None:
    room = Room("plans")
    follower = history_follow.Follower("ann", room)
    follower.shown("panel", 7)
    with room.transaction(origin="bob"):
        room["level"] = 1
    assert pushes == [("ann", {"panel"})]
    with room.transaction(origin="ann"):  # her own change: her run shows it
        room["level"] = 2
    with room.transaction(origin=QuietOrigin("bob")):  # inside no_rerun()
        room["level"] = 3
    assert len(pushes) == 1
    follower.unobserve()


def test_a_panel_the_last_whole_run_did_not_show_is_not_rerun(
    pushes: list[tuple[str, set[str | None]]],
) -> None:
    room = Room("plans")
    follower = history_follow.Follower("ann", room)
    follower.shown("panel", 7)
    follower.run_ended(7)  # the run that showed it
    room["level"] = 1
    assert pushes == [("ann", {"panel"})]
    follower.run_ended(8)  # a whole run without the panel (another page)
    room["level"] = 2
    assert len(pushes) == 1
    follower.shown("panel", 9)  # shown again
    room["level"] = 3
    assert pushes[-1] == ("ann", {"panel"}) and len(pushes) == 2
    follower.unobserve()
