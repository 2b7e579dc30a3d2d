"""Pattern catalogue, switching rooms between runs (issue 12, case 11): the room passed to
``sync`` changes (picked in a selectbox, or ``compat.streamlit_sync.rooms.enter_room``
straight from one room into another). Values never cross rooms, the first edit in the
new room reaches the others there, and the old room stops counting the person."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from .helpers import TIMEOUT, button, selectbox_choose, text_input, type_and_commit
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


SELECTBOX_APP = """
import streamlit as st
import crdt_sync

prefix = st.query_params.get("room", "lobby")
team = st.selectbox("Team room", ["red", "blue"], key="team")  # each person's own choice
with crdt_sync.sync(f"{prefix}-{team}"):
    st.text_input("Topic", key="topic")
st.write(f"In {team}: topic {st.session_state.topic or '-'}")
crdt_sync.presence_bar()
"""


def _presence(page: Page, count: int, who: str) -> None:
    bar = page.get_by_test_id("crdt-presence")
    try:
        expect(bar).to_contain_text(f"{count} here", timeout=TIMEOUT)
    except AssertionError:
        raise AssertionError(
            f"{who}'s presence bar says {bar.inner_text()!r}, expected '{count} here'"
        ) from None


def test_room_picked_in_a_selectbox(apps: PatternApps, open_session, request):
    url = apps.url("selectbox", SELECTBOX_APP, fresh_room(request))
    a = person("A", open_session(url))
    b = person("B", open_session(url))
    type_and_commit(a, "Topic", "red topic")
    shows(b, "In red: topic red topic")
    _presence(b, 2, "B in red")
    selectbox_choose(b, "Team room", "blue")
    shows(b, "In blue: topic -")
    has_value(text_input(b, "Topic"), "", "B's Topic in blue")
    _presence(a, 1, "A in red, after B left for blue")
    selectbox_choose(a, "Team room", "blue")
    shows(a, "In blue: topic -")
    has_value(text_input(a, "Topic"), "", "A's Topic in blue")
    _presence(b, 2, "B in blue, after A came")
    type_and_commit(a, "Topic", "blue topic")
    shows(b, "In blue: topic blue topic")
    has_value(text_input(b, "Topic"), "blue topic", "B's Topic in blue")
    c = person("C", open_session(url))  # starts in red: red kept its own topic
    shows(c, "In red: topic red topic")
    selectbox_choose(c, "Team room", "blue")
    shows(c, "In blue: topic blue topic")
    no_exceptions(a, b, c)


ENTER_ROOM_APP = """
import streamlit as st
from crdt_sync.compat import streamlit_sync

prefix = st.query_params.get("room", "lobby")
if st.button("Join red"):
    streamlit_sync.rooms.enter_room(f"{prefix}-red")
if st.button("Join blue"):
    streamlit_sync.rooms.enter_room(f"{prefix}-blue")

room_name = streamlit_sync.select_room_widget()
with streamlit_sync.sync(room_name):
    st.text_input("Topic", key="topic")
st.write(f"In {room_name.rsplit('-', 1)[-1]}: topic {st.session_state.topic or '-'}")
"""


def _sidebar_status(page: Page, text: str, who: str) -> None:
    sidebar = page.get_by_test_id("stSidebar")
    try:
        expect(sidebar).to_contain_text(text, timeout=TIMEOUT)
    except AssertionError:
        raise AssertionError(
            f"{who}'s sidebar says {sidebar.inner_text()!r}, expected {text!r}"
        ) from None


def test_enter_room_straight_from_one_room_into_another(apps: PatternApps, open_session, request):
    """streamlit-sync style: ``rooms.enter_room`` from "red" straight into "blue", no
    ``exit_room`` in between."""
    prefix = fresh_room(request)
    url = apps.url("enter-room", ENTER_ROOM_APP, prefix)
    a = person("A", open_session(url))
    b = person("B", open_session(url))
    for page in (a, b):
        click_and_wait(page, button(page, "Join red"))
    type_and_commit(a, "Topic", "red topic")
    shows(b, "In red: topic red topic")
    click_and_wait(b, button(b, "Join blue"))
    shows(b, "In blue: topic -")
    has_value(text_input(b, "Topic"), "", "B's Topic in blue")
    _sidebar_status(a, f"Synced room “{prefix}-red” (1 active session)", "A (in red)")
    click_and_wait(a, button(a, "Join blue"))
    shows(a, "In blue: topic -")
    has_value(text_input(a, "Topic"), "", "A's Topic in blue")
    _sidebar_status(b, f"Synced room “{prefix}-blue” (2 active sessions)", "B (in blue)")
    type_and_commit(a, "Topic", "blue topic")
    shows(b, "In blue: topic blue topic")
    c = person("C", open_session(url))
    click_and_wait(c, button(c, "Join red"))
    shows(c, "In red: topic red topic")
    no_exceptions(a, b, c)
