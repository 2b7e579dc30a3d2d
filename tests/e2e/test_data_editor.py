"""The shared data editor with real browsers: concurrent cell edits and added rows merge."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from .helpers import OpenSession, browser_errors, wait_idle
from .helpers_grid import cell_editor, commit, grid_cell, open_editor, start_new_row
from .server import StreamlitAppFactory

pytestmark = pytest.mark.e2e

APP = """
import datetime as dt

import pandas as pd
import streamlit as st

import crdt_sync
from crdt_sync.bridge.config import hub

room = st.query_params.get("room", "lobby")
tasks = pd.DataFrame(
    {
        "task": ["Write docs", "Fix bug"],
        "points": [3, 5],
        "done": [False, True],
        "due": [dt.date(2026, 12, 1), dt.date(2026, 12, 5)],
    }
)
with crdt_sync.sync(room):  # as in the demo: next to widgets that are shared
    crdt_sync.data_editor("tasks", tasks, key="tasks", room=room)
rows = hub().get(room).table("tasks").rows()
st.caption("room keys: " + ", ".join(sorted(hub().get(room).kinds())))
st.text(f"{len(rows)} rows")
for cells in rows.values():
    st.text(repr(tuple(cells.get(c) for c in ("task", "points", "done", "due"))))
"""


def rows_shown(page: Page) -> list[str]:
    return page.get_by_test_id("stText").all_inner_texts()


def test_edits_of_one_row_and_added_rows_at_the_same_time_all_kept(
    streamlit_app: StreamlitAppFactory, open_session: OpenSession
) -> None:
    server = streamlit_app.start(APP, env={"CRDT_SYNC_STORE": "memory"})
    a = open_session(f"{server.url}/?room=grid")
    b = open_session(f"{server.url}/?room=grid")
    for page in (a, b):
        expect(page.get_by_text("2 rows", exact=True)).to_be_visible()
        wait_idle(page)  # the second page's editor is rebuilt once the first seeds the table

    # Different cells of the same row, both editors open, committed together.
    open_editor(a, 0, 0, "Edited by A")
    open_editor(b, 1, 0, "42")
    commit(a)
    commit(b)
    # Each adds a row at the same time.
    start_new_row(a, 2, "Row from A")
    start_new_row(b, 2, "Row from B")
    commit(a)
    commit(b)

    first = "('Edited by A', 42, False, datetime.date(2026, 12, 1))"
    second = "('Fix bug', 5, True, datetime.date(2026, 12, 5))"
    added = ["('Row from A', None, None, None)", "('Row from B', None, None, None)"]
    fresh = open_session(f"{server.url}/?room=grid")
    expect(fresh.get_by_text("room keys: tasks", exact=True)).to_be_visible()
    for page in (a, b, fresh):
        expect(page.get_by_text("4 rows", exact=True)).to_be_visible()
        for line in (first, second, *added):
            expect(page.get_by_text(line, exact=True)).to_be_visible()
        wait_idle(page)
        assert browser_errors(page) == []
    server.assert_clean_log()


def test_a_cell_being_typed_in_survives_others_changes(
    streamlit_app: StreamlitAppFactory, open_session: OpenSession
) -> None:
    server = streamlit_app.start(APP, env={"CRDT_SYNC_STORE": "memory"})
    a = open_session(f"{server.url}/?room=slow")
    b = open_session(f"{server.url}/?room=slow")
    c = open_session(f"{server.url}/?room=slow")
    for page in (a, b, c):
        expect(page.get_by_text("2 rows", exact=True)).to_be_visible()
        wait_idle(page)

    open_editor(b, 0, 1, "B is still typ")  # B takes its time
    open_editor(a, 1, 0, "7")
    commit(a)
    edited = "('Write docs', 7, False, datetime.date(2026, 12, 1))"
    for page in (a, c):  # everyone else sees A's change ...
        expect(page.get_by_text(edited, exact=True)).to_be_visible()
        wait_idle(page)
    # ... while B's page waits (a rerun could make the grid drop B's cell) ...
    assert b.get_by_text(edited, exact=True).count() == 0
    # B types on, at a person's pace (keys pressed within a few milliseconds of Enter can
    # be dropped by the grid itself, with or without crdt_sync), and presses Enter.
    cell_editor(b).press_sequentially("ing", delay=120)
    commit(b)

    fixed = "('B is still typing', 5, True, datetime.date(2026, 12, 5))"
    for page in (a, b, c):  # ... and catches up once B's cell is done
        for line in (edited, fixed):
            expect(page.get_by_text(line, exact=True)).to_be_visible()
    server.assert_clean_log()


UNDO_APP = """
import pandas as pd
import streamlit as st

import crdt_sync

room = st.query_params.get("room", "lobby")
tasks = pd.DataFrame({"task": ["Write docs", "Fix bug"], "points": [3, 5]})
with crdt_sync.sync(room):
    frame = crdt_sync.data_editor("tasks", tasks, key="tasks", room=room)
    crdt_sync.undo_button(room)
st.text("first task: " + str(frame["task"].iloc[0]))
"""


def test_undoing_a_cell_edit_shows_the_old_value_in_the_grid(
    streamlit_app: StreamlitAppFactory, open_session: OpenSession
) -> None:
    """The room goes back to exactly the rows the editor was first built from: the grid
    must show them, not the edit that was undone."""
    server = streamlit_app.start(UNDO_APP, env={"CRDT_SYNC_STORE": "memory"})
    a = open_session(f"{server.url}/?room=undo-grid")
    expect(a.get_by_text("first task: Write docs", exact=True)).to_be_visible()
    wait_idle(a)
    open_editor(a, 0, 0, "Edited")
    commit(a)
    expect(a.get_by_text("first task: Edited", exact=True)).to_be_visible()
    expect(grid_cell(a, 0, 0)).to_have_text("Edited")
    wait_idle(a)
    a.get_by_role("button", name="Undo").click()
    expect(a.get_by_text("first task: Write docs", exact=True)).to_be_visible()
    wait_idle(a)
    expect(grid_cell(a, 0, 0)).to_have_text("Write docs")
    assert browser_errors(a) == []
    server.assert_clean_log()
