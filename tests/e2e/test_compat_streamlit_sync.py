"""A streamlit-sync app, import line changed to crdt_sync.compat, in real browsers."""

from __future__ import annotations

import textwrap

import pytest
from playwright.sync_api import Page, expect

from .helpers import (
    button,
    exceptions_on_page,
    slider_value,
    text_input,
    type_and_commit,
    wait_for_text,
    wait_idle,
)
from .helpers_chat import at_once
from .server import StreamlitAppFactory, StreamlitServer

pytestmark = pytest.mark.e2e

APP = textwrap.dedent(
    """
    import streamlit as st
    from crdt_sync.compat import streamlit_sync  # was: import streamlit_sync

    CACHE_DIR = "./.st_sync_cache"
    room_name = streamlit_sync.select_room_widget(CACHE_DIR)
    with streamlit_sync.sync(room_name, cache_dir=CACHE_DIR):
        level = st.slider("Level", 0, 10, key="level")
        st.write(f"level {level}, doubled {2 * level}")
        st.text_input("Nickname", key=streamlit_sync.get_not_synced_key("nick"))
        if st.session_state.get("CLICKS") is None:
            st.session_state["CLICKS"] = 0
        if st.button("Count me"):
            st.session_state["CLICKS"] += 1
        st.write(f"counted {st.session_state['CLICKS']} times")
    """
)


@pytest.fixture
def server(streamlit_app: StreamlitAppFactory) -> StreamlitServer:
    return streamlit_app.start(APP)  # no CRDT_SYNC_STORE: the app's cache_dir is the store


def _press(page: Page, key: str) -> None:
    page.get_by_test_id("stSlider").locator('input[type="range"]').focus()
    page.keyboard.press(key)


def _create_room(page: Page, name: str) -> None:
    wait_for_text(page, "Select a synced room")
    text_input(page, "New room name").fill(name)
    button(page, "Create").click()
    expect(page.get_by_test_id("stSidebar")).to_contain_text(f"Synced room “{name}”")
    wait_idle(page)


def test_rooms_widgets_privacy_exit_and_cache_dir(open_session, server) -> None:
    a = open_session(server.url)
    _create_room(a, "alpha")
    wait_for_text(a, "level 0, doubled 0")
    # B sees the room among the existing ones, with its number of sessions, and enters.
    b = open_session(server.url)
    b.get_by_test_id("stSidebar").get_by_text("alpha (1 active session)").click()
    wait_for_text(b, "level 0, doubled 0")
    at_once([(a, lambda: _press(a, "End"))])
    wait_for_text(b, "level 10, doubled 20")
    assert slider_value(b, "Level") == "10"
    at_once([(b, lambda: button(b, "Count me").click())])
    wait_for_text(a, "counted 1 times")
    type_and_commit(a, "Nickname", "only-a")
    type_and_commit(b, "Nickname", "only-b")
    wait_for_text(b, "counted 1 times")
    assert text_input(b, "Nickname").input_value() == "only-b"
    assert text_input(a, "Nickname").input_value() == "only-a"
    expect(a.get_by_test_id("stSidebar")).to_contain_text("2 active sessions")

    # B leaves: its page is back to choosing a room; the room keeps its values.
    b.get_by_test_id("stSidebar").get_by_text("Synced room “alpha”").click()
    button(b, "Exit room").click()
    wait_for_text(b, "Select a synced room")
    at_once([(a, lambda: _press(a, "Home"))])
    wait_for_text(a, "level 0, doubled 0")
    b.get_by_test_id("stSidebar").get_by_text("alpha (1 active session)").click()
    wait_for_text(b, "level 0, doubled 0")
    wait_for_text(b, "counted 1 times")

    # cache_dir: the room survives a restart of the server.
    at_once([(b, lambda: _press(b, "End"))])
    wait_for_text(a, "level 10, doubled 20")
    server.restart()
    c = open_session(server.url)
    c.get_by_test_id("stSidebar").get_by_text("alpha (empty)").click()
    wait_for_text(c, "level 10, doubled 20")
    for page in (a, c):
        assert exceptions_on_page(page) == []
    server.assert_clean_log()
