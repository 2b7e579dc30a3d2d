"""Pattern catalogue, multipage apps: ``st.navigation`` with ``st.Page`` pages in separate
files (issue 12, case 3).

The same shared key ("level") is on two pages, a key is used by differently labelled
widgets on two pages ("comment"), other keys live on one page only, and one page shares
nothing. Switching pages must never change the room; coming back shows the room's values.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from .helpers import (
    TIMEOUT,
    selectbox_choose,
    selectbox_value,
    set_slider,
    slider,
    text_input,
    type_and_commit,
)
from .helpers_patterns import (
    PatternApps,
    fresh_room,
    go_to_page,
    has_value,
    no_exceptions,
    person,
    shows,
)
from .server import StreamlitAppFactory

pytestmark = pytest.mark.e2e

APP = """
import streamlit as st

if "room" not in st.session_state:
    st.session_state.room = st.query_params.get("room", "lobby")

pg = st.navigation(
    [
        st.Page("filters.py", title="Filters", default=True),
        st.Page("report.py", title="Report"),
        st.Page("about.py", title="About"),
    ]
)
pg.run()
"""

PAGES = {
    "filters.py": """
        import streamlit as st
        import crdt_sync

        st.header("Filters")
        with crdt_sync.sync(st.session_state.room):
            st.slider("Level", 0, 100, 10, key="level")
            st.text_input("Title", key="title")
            st.text_input("Filter comment", key="comment")
        st.write(f"Filters: level {st.session_state.level}, title {st.session_state.title!r}")
        """,
    "report.py": """
        import streamlit as st
        import crdt_sync

        st.header("Report")
        with crdt_sync.sync(st.session_state.room):
            st.slider("Level", 0, 100, 10, key="level")
            st.selectbox("Chart", ["bar", "line", "area"], key="chart")
            st.text_input("Report comment", key="comment")
        st.write(f"Report: level {st.session_state.level}, chart {st.session_state.chart}")
        """,
    "about.py": """
        import streamlit as st

        st.header("About")
        st.write("Nothing is shared on this page.")
        st.session_state.about_runs = st.session_state.get("about_runs", 0) + 1
        st.caption(f"About runs: {st.session_state.about_runs}")
        """,
}


@pytest.fixture(scope="module")
def apps(
    streamlit_app_module: StreamlitAppFactory, tmp_path_factory: pytest.TempPathFactory
) -> PatternApps:
    apps = PatternApps(streamlit_app_module, tmp_path_factory.mktemp("store"))
    apps.server("pages", APP, files=PAGES)
    return apps


def _open(apps: PatternApps, open_session, room: str) -> Page:
    page: Page = open_session(apps.url("pages", APP, room))
    expect(page.get_by_test_id("stHeading").get_by_text("Filters", exact=True)).to_be_visible(
        timeout=TIMEOUT
    )
    return page


def _level(page: Page, value: str, who: str) -> None:
    try:
        expect(slider(page, "Level")).to_have_value(value, timeout=TIMEOUT)
    except AssertionError:
        got = slider(page, "Level").input_value()
        raise AssertionError(f"{who}'s Level slider shows {got}, expected {value}") from None


def test_switching_pages_never_changes_the_room(apps: PatternApps, open_session, request):
    room = fresh_room(request)
    a = person("A", _open(apps, open_session, room))
    b = person("B", _open(apps, open_session, room))
    set_slider(a, "Level", 70)
    type_and_commit(a, "Title", "Q3 plan")
    for who, page in (("A", a), ("B", b)):
        shows(page, "Filters: level 70, title 'Q3 plan'", who)
    # B opens the Report page: the shared Level comes up with the room's value there...
    go_to_page(b, "Report")
    shows(b, "Report: level 70, chart bar")
    _level(b, "70", "B (Report)")
    # ... and A's page, still on Filters, keeps it (A's next run shows the room).
    type_and_commit(a, "Title", "Q3 plan v2")
    shows(a, "Filters: level 70, title 'Q3 plan v2'")
    _level(a, "70", "A (Filters)")
    selectbox_choose(b, "Chart", "line")
    go_to_page(a, "Report")
    shows(a, "Report: level 70, chart line")
    # B comes back to Filters: the room's values, not the page's defaults.
    go_to_page(b, "Filters")
    shows(b, "Filters: level 70, title 'Q3 plan v2'")
    has_value(text_input(b, "Title"), "Q3 plan v2", "B's Title after coming back")
    _level(b, "70", "B (back on Filters)")
    shows(a, "Report: level 70, chart line")
    assert selectbox_value(a, "Chart") == "line"
    c = person("C", _open(apps, open_session, room))
    shows(c, "Filters: level 70, title 'Q3 plan v2'")
    go_to_page(c, "Report")
    shows(c, "Report: level 70, chart line")
    no_exceptions(a, b, c)


def test_one_key_on_two_pages_is_one_value(apps: PatternApps, open_session, request):
    """``key="comment"`` is "Filter comment" on one page and "Report comment" on the
    other: one shared value, whichever page a person is on."""
    room = fresh_room(request)
    a = person("A", _open(apps, open_session, room))
    b = person("B", _open(apps, open_session, room))
    go_to_page(b, "Report")
    type_and_commit(a, "Filter comment", "check the north")
    has_value(text_input(b, "Report comment"), "check the north", "B's Report comment")
    type_and_commit(b, "Report comment", "check the south")
    has_value(text_input(a, "Filter comment"), "check the south", "A's Filter comment")
    go_to_page(a, "Report")
    has_value(text_input(a, "Report comment"), "check the south", "A's Report comment")
    no_exceptions(a, b)


def test_coming_back_from_a_page_without_sync_shows_the_rooms_values(
    apps: PatternApps, open_session, request
):
    room = fresh_room(request)
    a = person("A", _open(apps, open_session, room))
    b = person("B", _open(apps, open_session, room))
    set_slider(a, "Level", 30)
    shows(b, "Filters: level 30, title ''")
    go_to_page(a, "About")
    shows(a, "Nothing is shared on this page.")
    set_slider(b, "Level", 45)
    type_and_commit(b, "Title", "from B")
    go_to_page(a, "Filters")
    shows(a, "Filters: level 45, title 'from B'")
    _level(a, "45", "A (back on Filters)")
    has_value(text_input(a, "Title"), "from B", "A's Title")
    # A's round trip changed nothing for B.
    shows(b, "Filters: level 45, title 'from B'")
    _level(b, "45", "B")
    no_exceptions(a, b)


def test_a_page_that_shows_nothing_of_the_room_is_not_rerun_for_its_changes(
    apps: PatternApps, open_session, request
):
    """Issue 16, "who needs a rerun": A left the room's page for About; B's edits do not
    rerun A's page (it shows nothing of the room), and A coming back sees all of them."""
    room = fresh_room(request)
    a = person("A", _open(apps, open_session, room))
    b = person("B", _open(apps, open_session, room))
    c = person("C", _open(apps, open_session, room))
    go_to_page(a, "About")
    counter = a.get_by_text("About runs:")
    expect(counter).to_be_visible(timeout=TIMEOUT)
    before = counter.inner_text()
    for level in (20, 40, 60):
        set_slider(b, "Level", level)
        shows(c, f"Filters: level {level}, title ''", "C")  # the push reached the others
    # A rerun pushed with C's would have shown by now; give it a second more.
    a.wait_for_timeout(1000)
    assert counter.inner_text() == before, "A's About page was rerun for changes it hides"
    go_to_page(a, "Filters")
    shows(a, "Filters: level 60, title ''")
    _level(a, "60", "A (back on Filters)")
    set_slider(b, "Level", 80)  # and A, on the room's page again, gets pushes again
    shows(a, "Filters: level 80, title ''")
    _level(a, "80", "A")
    no_exceptions(a, b, c)
