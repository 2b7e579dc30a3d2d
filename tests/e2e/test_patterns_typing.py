"""Pattern catalogue, typing: several people typing into one EMPTY shared text field.

Issue 12, case 4: every character anyone committed stays, whatever the field held
before; each person's text stays in one piece.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from .helpers import TIMEOUT, run_tracker, text_area, wait_idle
from .helpers_chat import wait_until
from .helpers_patterns import PatternApps, fresh_room, no_exceptions, person

pytestmark = pytest.mark.e2e

NOTES_APP = """
import streamlit as st
import crdt_sync

room = st.query_params.get("room", "lobby")
st.title("Meeting notes")
with crdt_sync.sync(room):
    notes = st.text_area("Notes", key="notes")
st.caption(f"{len(notes)} characters")
"""


def _notes(page: Page) -> str:
    return text_area(page, "Notes").input_value(timeout=TIMEOUT)


def _all_show_every_text(pages: dict[str, Page], texts: list[str], timeout: float) -> None:
    """Every page's Notes holds each text in one piece, nothing else, and all pages agree."""

    def complete(value: object) -> bool:
        rest = str(value)
        for t in texts:
            if t not in rest:
                return False
            rest = rest.replace(t, "", 1)
        return rest.strip() == ""

    for who, page in pages.items():
        try:
            wait_until(page, _notes, complete, f"{who}'s Notes to hold {texts}", timeout)
        except AssertionError as exc:
            shown = {w: _notes(p) for w, p in pages.items()}
            raise AssertionError(f"{exc}\nevery page's Notes: {shown}") from None
    values = {who: _notes(page) for who, page in pages.items()}
    assert len(set(values.values())) == 1, f"the pages disagree: {values}"


def test_typing_into_empty_notes_while_another_persons_text_arrives(
    apps: PatternApps, open_session, request
):
    """Empty notes; B types without committing; A types and commits (B's page gets A's
    text pushed); then B commits. Both texts survive, on every page."""
    url = apps.url("notes", NOTES_APP, fresh_room(request))
    a = person("A", open_session(url))
    b = person("B", open_session(url))
    b_field = text_area(b, "Notes")
    b_field.click()
    b_field.press_sequentially("Bob was here. ")
    a_field = text_area(a, "Notes")
    a_field.click()
    a_field.press_sequentially("Ann agrees. ")
    tracker_b = run_tracker(b)
    b_runs = tracker_b.runs_finished
    a_field.press("Control+Enter")
    # A's commit reaches B's session (a pushed run) while B still has its text uncommitted.
    tracker_b.wait(b, lambda: tracker_b.runs_finished > b_runs, "the run A's commit pushed", 10_000)
    wait_idle(a)
    b_field.press("Control+Enter")
    c = person("C", open_session(url))
    _all_show_every_text({"A": a, "B": b, "C": c}, ["Bob was here.", "Ann agrees."], 15_000)
    no_exceptions(a, b, c)


def test_three_people_typing_into_one_empty_field(apps: PatternApps, open_session, request):
    """Three people type into the same empty notes at the same time (their keystrokes
    interleaved) and commit one right after the other: every committed character stays,
    and each person's text is in one piece."""
    url = apps.url("notes", NOTES_APP, fresh_room(request))
    people = {"A": open_session(url), "B": open_session(url), "C": open_session(url)}
    words = {
        "A": ["Alpha ", "apples ", "arrive. "],
        "B": ["Bravo ", "bakes ", "bread. "],
        "C": ["Charlie ", "chops ", "cheese. "],
    }
    fields = {who: text_area(page, "Notes") for who, page in people.items()}
    for field in fields.values():
        field.click()
    for i in range(3):
        for who, field in fields.items():
            field.press_sequentially(words[who][i])
    for field in fields.values():
        field.press("Control+Enter")
    texts = ["".join(w).strip() for w in words.values()]
    newcomer = open_session(url)
    _all_show_every_text({**people, "newcomer": newcomer}, texts, 20_000)
    no_exceptions(*people.values(), newcomer)
