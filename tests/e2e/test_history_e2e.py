"""Issue 14 in real browsers: two people edit, one restores an older version from
``crdt_sync.history_panel``, the other sees it at once, and ``crdt-sync history`` names both.

The app is written as an app author writes it: a name field outside the ``sync`` block
feeding ``crdt_sync.set_name``, shared widgets inside, the panel in an expander.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import pytest
from history_fixtures import cli_history
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page, expect

from .helpers import (
    TIMEOUT,
    OpenSession,
    browser_errors,
    button,
    expect_rerun,
    multiselect_add,
    screenshot_path,
    screenshot_side_by_side,
    set_slider,
    slider,
    text_input,
    type_and_commit,
    wait_idle,
    widget,
)
from .helpers_board import draw_stroke, wait_board
from .helpers_grid import commit, grid, open_editor
from .helpers_patterns import (
    click_and_wait,
    fresh_room,
    has_value,
    main_text,
    no_exceptions,
    person,
    shows,
)
from .server import StreamlitAppFactory

pytestmark = pytest.mark.e2e


APP = """
import streamlit as st
import crdt_sync

room = st.query_params.get("room", "plans")
name = st.text_input("Your name")
crdt_sync.set_name(name.strip() or None)

with crdt_sync.sync(room):
    st.text_input("Title", key="title")
    st.slider("Level", 0, 100, 10, key="level")

st.write(f"Plan: {st.session_state.title or '(none)'} at level {st.session_state.level}")

with st.expander("History", expanded=True):
    crdt_sync.history_panel(room)
"""


def choose_version(page: Page, pattern: str, timeout: float = TIMEOUT) -> str:
    """Pick the newest version whose label matches ``pattern`` in the panel's selectbox.

    The panel reruns whenever someone else changes the room, and a rerun may close the
    open dropdown: then it is opened again.
    """
    combo = widget(page, "stSelectbox", "Version").get_by_role("combobox")
    for attempt in range(3):
        wait_idle(page, timeout)
        try:
            with expect_rerun(page, timeout):
                combo.focus(timeout=timeout)
                combo.press("ArrowDown", timeout=timeout)
                listbox = page.locator(f"[id={json.dumps(combo.get_attribute('aria-controls'))}]")
                expect(listbox).to_be_visible(timeout=timeout)
                option = listbox.get_by_role("option").filter(has_text=re.compile(pattern))
                label = option.first.inner_text(timeout=3_000)
                option.first.click(timeout=3_000)
        except (AssertionError, PlaywrightError):
            if attempt == 2:
                raise
            page.keyboard.press("Escape")
            continue
        expect(page.get_by_role("listbox")).to_have_count(0, timeout=timeout)
        wait_idle(page, timeout)
        return label
    raise AssertionError("unreachable")


@contextmanager
def evidence(tmp_path: Path, **pages: Page) -> Iterator[None]:
    """On a failure, keep each page's screenshot and print what it shows."""
    try:
        yield
    except BaseException:
        for who, page in pages.items():
            with suppress(Exception):
                page.screenshot(path=str(tmp_path / f"failure-{who}.png"))
                print(f"===== {who}'s page =====\n{main_text(page)}")
        raise


def preview_row(page: Page, item: str) -> Any:
    """The panel's preview row of an item."""
    return page.get_by_test_id("crdt-history-preview").locator(f'tr[data-item="{item}"]')


def test_two_people_edit_one_restores_the_other_sees_it_and_history_names_both(
    streamlit_app: StreamlitAppFactory, open_session: OpenSession, request, tmp_path: Path
) -> None:
    store = tmp_path / "store"
    server = streamlit_app.start(APP, env={"CRDT_SYNC_STORE": f"diskcache:{store}"})
    room = fresh_room(request)
    url = f"{server.url}/?room={room}"
    view = {"width": 900, "height": 1100}
    ann = person("Ann", open_session(url, viewport=view))
    bob = person("Bob", open_session(url, viewport=view))
    with evidence(tmp_path, ann=ann, bob=bob):
        type_and_commit(ann, "Your name", "ann")
        type_and_commit(bob, "Your name", "bob")

        # Ann writes the plan; then Bob changes it.
        type_and_commit(ann, "Title", "Q3 plan")
        for page in (ann, bob):
            shows(page, "Plan: Q3 plan at level 10")
        type_and_commit(bob, "Title", "Q4 plan")
        set_slider(bob, "Level", 80)
        for page in (ann, bob):
            shows(page, "Plan: Q4 plan at level 80")

        # Ann picks her version in the panel: the preview shows what Bob changed since.
        chosen = choose_version(ann, r"· ann · .*title")
        expect(preview_row(ann, "title")).to_have_attribute("data-differs", "true")
        expect(preview_row(ann, "title")).to_contain_text("Q3 plan")
        expect(preview_row(ann, "title")).to_contain_text("Q4 plan")
        expect(preview_row(ann, "level")).to_have_attribute("data-differs", "true")

        shot = screenshot_side_by_side([ann, bob], screenshot_path("history.png", tmp_path))
        assert shot.stat().st_size > 10_000
        number = chosen.split(" ")[0]  # "#3"

        # First only the title: Bob's level stays.
        multiselect_add(ann, "Restore only these keys", "title (changed)")
        click_and_wait(ann, button(ann, "Restore these keys"))
        expect(
            ann.get_by_test_id("stAlert").get_by_text(f"Restored title as of version {number} ")
        ).to_be_visible()
        for who, page in (("Ann", ann), ("Bob", bob)):  # Bob did nothing: he sees it at once
            has_value(text_input(page, "Title"), "Q3 plan", f"{who}'s Title")
            shows(page, "Plan: Q3 plan at level 80", who)
        expect(preview_row(ann, "title")).to_have_attribute("data-differs", "false")

        # Then the whole version.
        click_and_wait(ann, button(ann, "Restore this version"))
        restored = re.compile(f"Restored the whole room as of version {number} ")
        expect(ann.get_by_test_id("stAlert").get_by_text(restored)).to_be_visible()
        for who, page in (("Ann", ann), ("Bob", bob)):
            expect(slider(page, "Level")).to_have_value("10")
            shows(page, "Plan: Q3 plan at level 10", who)
        # ...and Bob's panel follows: its newest version is Ann's restore.
        expect(widget(bob, "stSelectbox", "Version").get_by_role("combobox")).to_have_value(
            re.compile(r"\(current\) · .* · ann · level")
        )

        versions = cli_history(store, room)
        everyone = {name for v in versions for name in v["who"]}
        assert {"ann", "bob"} <= everyone, versions
        assert versions[-2]["who"] == ["ann"] and versions[-2]["keys"] == ["title"], versions
        assert versions[-1]["who"] == ["ann"] and "level" in versions[-1]["keys"], versions
        for v in versions:
            assert set(v) >= {"version", "time", "who", "keys"}, v

        # Bob carries on from the restored plan; nothing of the restore is lost.
        type_and_commit(bob, "Title", "Q3 plan, v2")
        shows(ann, "Plan: Q3 plan, v2 at level 10")
        no_exceptions(ann, bob)
        assert browser_errors(ann) == [] and browser_errors(bob) == []
        server.assert_clean_log()


BOARD_APP = """
import streamlit as st
import crdt_sync

room = st.query_params.get("room", "sketches")
crdt_sync.set_name(st.query_params.get("name"))

with crdt_sync.sync(room):
    st.text_input("Caption", key="caption")
    with st.expander("History", expanded=True):
        crdt_sync.history_panel(room)  # inside the sync block: its widgets stay private

crdt_sync.whiteboard(room, key="sketch", height=420)
"""


def test_a_whiteboard_is_previewed_and_restored_and_the_panel_inside_sync_is_not_shared(
    streamlit_app: StreamlitAppFactory, open_session: OpenSession, request, tmp_path: Path
) -> None:
    store = tmp_path / "store"
    server = streamlit_app.start(BOARD_APP, env={"CRDT_SYNC_STORE": f"diskcache:{store}"})
    room = fresh_room(request)
    view = {"width": 900, "height": 1200}
    ann = person("Ann", open_session(f"{server.url}/?room={room}&name=ann", viewport=view))
    bob = person("Bob", open_session(f"{server.url}/?room={room}&name=bob", viewport=view))
    with evidence(tmp_path, ann=ann, bob=bob):
        type_and_commit(ann, "Caption", "Empty board")
        for page in (ann, bob):
            wait_board(page, count=0)
        draw_stroke(bob, [(100, 100), (200, 160), (300, 100)])
        draw_stroke(bob, [(100, 300), (300, 300)])
        for page in (ann, bob):
            wait_board(page, count=2)

        # Ann's panel shows Bob's strokes as the newest version.
        expect(widget(ann, "stSelectbox", "Version").get_by_role("combobox")).to_have_value(
            re.compile(r"\(current\) · .* · bob · whiteboard sketch")
        )
        # Ann's version (before Bob drew): the board was empty then, 2 strokes now.
        choose_version(ann, r"· ann · caption")
        row = preview_row(ann, "wb:sketch:")
        expect(row).to_have_attribute("data-differs", "true")
        expect(row).to_contain_text("whiteboard sketch")
        expect(row).to_contain_text("2 strokes")
        # Ann's choice is hers: Bob's panel still shows the newest version it knows.
        expect(widget(bob, "stSelectbox", "Version").get_by_role("combobox")).to_have_value(
            re.compile(r"\(current\)")
        )

        multiselect_add(ann, "Restore only these keys", "whiteboard sketch (changed)")
        click_and_wait(ann, button(ann, "Restore these keys"))
        for page in (ann, bob):
            wait_board(page, count=0)
        has_value(text_input(bob, "Caption"), "Empty board", "Bob's Caption")

        keys = {k for v in cli_history(store, room) for k in v["keys"]}
        assert not [k for k in keys if k.startswith("crdt_sync")], keys  # the panel's widgets
        assert "caption" in keys and any(k.startswith("wb:sketch:") for k in keys), keys
    no_exceptions(ann, bob)
    server.assert_clean_log()


TABLE_APP = """
import pandas as pd
import streamlit as st
import crdt_sync

room = st.query_params.get("room", "tasks")
crdt_sync.set_name(st.query_params.get("name"))
tasks = pd.DataFrame({"task": ["Write docs", "Fix bug"], "points": [3, 5]})
with crdt_sync.sync(room):
    crdt_sync.data_editor("tasks", tasks, key="tasks", room=room)
rows = crdt_sync.shared_state(room).table("tasks").rows()
for cells in rows.values():
    st.text(f"row: {cells.get('task')} / {cells.get('points')}")
with st.expander("History", expanded=True):
    crdt_sync.history_panel(room)
"""


def test_a_shared_table_is_restored_from_the_panel_on_every_page(
    streamlit_app: StreamlitAppFactory, open_session: OpenSession, request, tmp_path: Path
) -> None:
    store = tmp_path / "store"
    server = streamlit_app.start(TABLE_APP, env={"CRDT_SYNC_STORE": f"diskcache:{store}"})
    room = fresh_room(request)
    ann = person("Ann", open_session(f"{server.url}/?room={room}&name=ann"))
    with evidence(tmp_path, ann=ann):
        shows(ann, "row: Write docs / 3")
    bob = person("Bob", open_session(f"{server.url}/?room={room}&name=bob"))
    with evidence(tmp_path, ann=ann, bob=bob):
        wait_idle(bob)
        open_editor(bob, 0, 0, "Docs by Bob")
        commit(bob)
        for page in (ann, bob):
            shows(page, "row: Docs by Bob / 3")

        # Ann picks the version before Bob's edit and restores just the table.
        choose_version(ann, r"· (?!bob)[^·]+ · tasks$")
        row = preview_row(ann, "tasks")
        expect(row).to_have_attribute("data-differs", "true")
        expect(row).to_contain_text("2 rows")
        multiselect_add(ann, "Restore only these keys", "tasks (changed)")
        click_and_wait(ann, button(ann, "Restore these keys"))
        for who, page in (("Ann", ann), ("Bob", bob)):
            shows(page, "row: Write docs / 3", who)
        # Both grids show it, Bob's too (the rows his editor was built from again).
        for page in (ann, bob):
            expect(grid(page).get_by_test_id("glide-cell-1-0")).to_have_text("Write docs")
    no_exceptions(ann, bob)
    server.assert_clean_log()
