"""Pattern catalogue, control flow: tabs with ``on_change``, ``st.fragment`` (also with
``run_every``), ``st.query_params``, ``st.rerun()``, dependent widgets, multiselect order
(issue 12, case 9) and ``on_change="ignore"``."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from .helpers import (
    TIMEOUT,
    button,
    multiselect_add,
    multiselect_values,
    number_input,
    selectbox_choose,
    selectbox_value,
    set_number_input,
    set_slider,
    set_text_area,
    slider,
    text_area,
    text_input,
    type_and_commit,
)
from .helpers_chat import wait_until
from .helpers_patterns import (
    PatternApps,
    click_and_wait,
    fresh_room,
    has_value,
    no_exceptions,
    person,
    shows,
)

pytestmark = pytest.mark.e2e


# ------------------------------------------------------------------ tabs with on_change

TABS_APP = """
import streamlit as st
import crdt_sync

room = st.query_params.get("room", "lobby")
settings, notes = st.tabs(["Settings", "Notes"], key="tab", on_change="rerun")
with crdt_sync.sync(room):
    if settings.open:
        with settings:
            st.slider("Level", 0, 100, 10, key="level")
            st.write(f"Level is {st.session_state.level}")
    if notes.open:
        with notes:
            st.text_area("Notes", key="notes")
            st.write(f"Notes say {st.session_state.notes!r}")
"""


def _open_tab(page: Page, name: str) -> None:
    click_and_wait(page, page.get_by_role("tab", name=name, exact=True))


def test_tabs_that_run_only_the_open_tab(apps: PatternApps, open_session, request):
    """With on_change="rerun" only the open tab's widgets exist in a run: a person on the
    other tab neither resets nor loses them, and switching tabs shows the room's values."""
    url = apps.url("tabs", TABS_APP, fresh_room(request))
    a = person("A", open_session(url))
    b = person("B", open_session(url))
    set_slider(a, "Level", 30)
    shows(b, "Level is 30")
    _open_tab(b, "Notes")
    set_text_area(b, "Notes", "bring snacks")
    shows(b, "Notes say 'bring snacks'")
    set_slider(a, "Level", 35)
    shows(a, "Level is 35")
    _open_tab(b, "Settings")
    shows(b, "Level is 35")
    has_value(slider(b, "Level"), "35", "B's Level slider after switching back")
    _open_tab(a, "Notes")
    shows(a, "Notes say 'bring snacks'")
    has_value(text_area(a, "Notes"), "bring snacks", "A's Notes")
    no_exceptions(a, b)


# ------------------------------------------------------------------ fragments

FRAGMENT_APP = """
import streamlit as st
import crdt_sync

room = st.query_params.get("room", "lobby")
st.title("Dashboard")
with crdt_sync.sync(room):
    st.text_input("Title", key="title")


@st.fragment
def filters():
    with crdt_sync.sync(room):
        st.slider("Level", 0, 100, 10, key="level")
    st.write(f"Fragment: level {st.session_state.level}")


@st.fragment(run_every="1s")
def live():
    with crdt_sync.sync(room):
        st.number_input("Threshold", min_value=0, max_value=100, value=10, key="threshold")
    st.session_state.ticks = st.session_state.get("ticks", 0) + 1
    st.caption(f"ticks {st.session_state.ticks}, threshold {st.session_state.threshold}")


filters()
live()
st.write(f"Title: {st.session_state.title or '-'}")
"""


def _ticks(page: Page) -> int:
    text = page.get_by_text(re.compile(r"^ticks \d+")).inner_text(timeout=TIMEOUT)
    return int(text.split()[1].rstrip(","))


def test_fragment_widgets_are_shared(apps: PatternApps, open_session, request):
    url = apps.url("fragment", FRAGMENT_APP, fresh_room(request))
    a = person("A", open_session(url))
    b = person("B", open_session(url))
    set_slider(a, "Level", 60)
    shows(b, "Fragment: level 60")
    has_value(slider(b, "Level"), "60", "B's Level slider")
    type_and_commit(a, "Title", "Ops board")
    shows(b, "Title: Ops board")
    set_slider(b, "Level", 65)
    for who, page in (("A", a), ("B", b)):
        shows(page, "Fragment: level 65", who)
        shows(page, "Title: Ops board", who)
    no_exceptions(a, b)


def test_run_every_fragment_keeps_everyones_value(apps: PatternApps, open_session, request):
    """A fragment rerunning every second holds a shared number input: a change from either
    page reaches the other, and later periodic runs never flip it back."""
    url = apps.url("fragment", FRAGMENT_APP, fresh_room(request))
    a = person("A", open_session(url))
    b = person("B", open_session(url))
    set_number_input(a, "Threshold", 55)
    shows(b, re.compile(r"^ticks \d+, threshold 55$"))
    has_value(number_input(b, "Threshold"), "55", "B's Threshold")
    set_number_input(b, "Threshold", 60)
    for who, page in (("A", a), ("B", b)):
        shows(page, re.compile(r"^ticks \d+, threshold 60$"), who)
    marks = {page: _ticks(page) for page in (a, b)}
    for who, page in (("A", a), ("B", b)):
        wait_until(page, _ticks, lambda n, p=page: int(str(n)) >= marks[p] + 3, f"{who} ticks")
        shows(page, re.compile(r"^ticks \d+, threshold 60$"), who)
        has_value(number_input(page, "Threshold"), "60", f"{who}'s Threshold after ticks")
    no_exceptions(a, b)


# ------------------------------------------------------------------ query params

QUERY_APP = """
import streamlit as st
import crdt_sync

room = st.query_params.get("room", "lobby")
with crdt_sync.sync(room):
    level = st.slider("Level", 0, 100, 10, key="level")
    st.selectbox("Region", ["North", "South", "East"], key="region", bind="query-params")
st.query_params["level"] = str(level)  # a link to this view
view = st.query_params.get("view", "full")
st.write(f"Level {level} in {st.session_state.region}, {view} view")
"""


def test_query_params_stay_each_persons_and_follow_the_room(
    apps: PatternApps, open_session, request
):
    """Each person's own query parameters survive the reruns others cause; the app's
    link parameter and a widget bound to the URL follow the shared values."""
    room = fresh_room(request)
    a = person("A", open_session(apps.url("query", QUERY_APP, room, view="compact")))
    b = person("B", open_session(apps.url("query", QUERY_APP, room, view="wide")))
    set_slider(a, "Level", 25)
    shows(a, "Level 25 in North, compact view")
    shows(b, "Level 25 in North, wide view")
    for page in (a, b):
        expect(page).to_have_url(re.compile(r"[?&]level=25(&|$)"))
        expect(page).to_have_url(re.compile(rf"[?&]room={re.escape(room)}(&|$)"))
    selectbox_choose(b, "Region", "South")
    shows(a, "Level 25 in South, compact view")
    assert selectbox_value(a, "Region") == "South"
    expect(a).to_have_url(re.compile(r"[?&]view=compact(&|$)"))
    expect(a).to_have_url(re.compile(r"[?&]region=South(&|$)"))
    expect(b).to_have_url(re.compile(r"[?&]view=wide(&|$)"))
    no_exceptions(a, b)


# ------------------------------------------------------------------ st.rerun()

RERUN_APP = """
import streamlit as st
import crdt_sync

room = st.query_params.get("room", "lobby")
with crdt_sync.sync(room):
    if "stage" not in st.session_state:
        st.session_state.stage = "draft"
    st.write(f"Stage: {st.session_state.stage}")
    if st.session_state.stage == "draft":
        if st.button("Publish"):
            st.session_state.stage = "published"
            st.rerun()
    elif st.button("Back to draft"):
        st.session_state.stage = "draft"
        st.rerun()
"""


def test_state_changed_then_st_rerun(apps: PatternApps, open_session, request):
    url = apps.url("rerun", RERUN_APP, fresh_room(request))
    a = person("A", open_session(url))
    b = person("B", open_session(url))
    for who, page in (("A", a), ("B", b)):
        shows(page, "Stage: draft", who)
    click_and_wait(a, button(a, "Publish"))
    for who, page in (("A", a), ("B", b)):
        shows(page, "Stage: published", who)
        expect(button(page, "Back to draft")).to_be_visible()
    c = person("C", open_session(url))  # its "draft" default is not an edit
    shows(c, "Stage: published")
    click_and_wait(b, button(b, "Back to draft"))
    for who, page in (("A", a), ("B", b), ("C", c)):
        shows(page, "Stage: draft", who)
        expect(button(page, "Publish")).to_be_visible()
    no_exceptions(a, b, c)


# ------------------------------------------------------------------ dependent widgets

DEPENDENT_APP = """
import streamlit as st
import crdt_sync

room = st.query_params.get("room", "lobby")
CITIES = {"France": ["Paris", "Lyon", "Nice"], "Japan": ["Tokyo", "Osaka", "Kyoto"]}
with crdt_sync.sync(room):
    country = st.selectbox("Country", list(CITIES), key="country")
    city = st.selectbox("City", CITIES[country], key="city")
st.write(f"Trip to {city}, {country}")
"""


def test_selectbox_whose_options_depend_on_another(apps: PatternApps, open_session, request):
    url = apps.url("dependent", DEPENDENT_APP, fresh_room(request))
    a = person("A", open_session(url))
    b = person("B", open_session(url))
    selectbox_choose(a, "Country", "Japan")
    shows(a, "Trip to Tokyo, Japan")
    selectbox_choose(a, "City", "Osaka")
    for who, page in (("A", a), ("B", b)):
        shows(page, "Trip to Osaka, Japan", who)
    assert selectbox_value(b, "City") == "Osaka"
    selectbox_choose(b, "Country", "France")
    c = person("C", open_session(url))
    for who, page in (("A", a), ("B", b), ("C", c)):
        shows(page, "Trip to Paris, France", who)
        assert selectbox_value(page, "City") == "Paris", f"{who}'s City"
    no_exceptions(a, b, c)


# ------------------------------------------------------------------ 9. multiselect order

ORDER_APP = """
import streamlit as st
import crdt_sync

room = st.query_params.get("room", "lobby")
with crdt_sync.sync(room):
    regions = st.multiselect("Regions", ["North", "South", "East", "West"], key="regions")
    if regions:
        st.selectbox("Primary region", regions, key="primary")
st.write(f"Order: {', '.join(regions) or 'none'}")
"""


def test_multiselect_order_is_the_same_on_every_page(apps: PatternApps, open_session, request):
    """Issue 12, case 9: the page that made the choices, a page open meanwhile and one that
    joined later show the same order (and so the same first option of the dependent
    selectbox)."""
    url = apps.url("order", ORDER_APP, fresh_room(request))
    a = person("A", open_session(url))
    b = person("B", open_session(url))
    for option in ("West", "South", "East"):
        multiselect_add(a, "Regions", option)
    shows(a, "Order: West, South, East")
    c = person("C", open_session(url))
    for who, page in (("A", a), ("B", b), ("C", c)):
        shows(page, "Order: West, South, East", who)
        assert multiselect_values(page, "Regions") == ["West", "South", "East"], who
        assert selectbox_value(page, "Primary region") == "West", f"{who}'s Primary region"
    no_exceptions(a, b, c)


# ------------------------------------------------------------------ on_change="ignore"

IGNORE_APP = """
import streamlit as st
import crdt_sync

room = st.query_params.get("room", "lobby")
with crdt_sync.sync(room):
    st.text_input("Search", key="search", on_change="ignore")
    st.button("Apply")
st.write(f"Results for {st.session_state.search!r}")
"""


def test_on_change_ignore_value_travels_with_the_next_run(apps: PatternApps, open_session, request):
    """A text input with on_change="ignore": the committed text is sent with the next run
    (here the Apply button's), and then reaches the other page."""
    url = apps.url("ignore", IGNORE_APP, fresh_room(request))
    a = person("A", open_session(url))
    b = person("B", open_session(url))
    field = text_input(a, "Search")
    field.fill("cats")
    field.press("Enter")
    click_and_wait(a, button(a, "Apply"))
    for who, page in (("A", a), ("B", b)):
        shows(page, "Results for 'cats'", who)
        has_value(text_input(page, "Search"), "cats", f"{who}'s Search")
    field = text_input(b, "Search")
    field.fill("dogs")
    field.press("Enter")
    click_and_wait(b, button(b, "Apply"))
    for who, page in (("A", a), ("B", b)):
        shows(page, "Results for 'dogs'", who)
        has_value(text_input(page, "Search"), "dogs", f"{who}'s Search")
    no_exceptions(a, b)
