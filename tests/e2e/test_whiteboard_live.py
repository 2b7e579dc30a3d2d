"""Live cursors on the whiteboard, where the app is served by ``crdt_sync.App`` (uvicorn).

The board's pointer goes over the room's websocket as y-protocols awareness: the other
page shows it moving with no Streamlit rerun, a Yjs client's cursor shows too, and a
cursor goes away with its page.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from peers import NODE, Peer
from playwright.sync_api import Locator, Page, expect
from ws_helpers import AppServer

from .helpers import OpenSession, browser_errors, runs_completed, screenshot_path
from .helpers_board import board, to_page, wait_board

pytestmark = pytest.mark.e2e

APP = """
import streamlit as st
import crdt_sync

crdt_sync.set_name(st.query_params.get("name"))
crdt_sync.whiteboard("studio", key="wb", height=500)
"""


def cursor(page: Page, name: str) -> Locator:
    return board(page).locator(f'.wb-cursor[data-name="{name}"]')


def point_at(page: Page, x: float, y: float) -> None:
    """Move the mouse (no button) to a board point."""
    page.mouse.move(*to_page(page, x, y), steps=3)


def expect_cursor_at(page: Page, name: str, x: float, y: float) -> None:
    expect(cursor(page, name)).to_have_attribute("data-x", str(x) if x % 1 else str(int(x)))
    expect(cursor(page, name)).to_have_attribute("data-y", str(y) if y % 1 else str(int(y)))


def named(open_session: OpenSession, url: str, name: str) -> Page:
    page = open_session(f"{url}/?name={name}")
    expect(board(page).locator(".wb-person", has_text=f"{name} (you)")).to_be_visible()
    wait_board(page)
    return page


def test_cursors_move_live_without_reruns(open_session: OpenSession, tmp_path: Path) -> None:
    server = AppServer(tmp_path / "server", store="memory", app_source=APP).start()
    try:
        ada = named(open_session, server.url, "Ada")
        bob = named(open_session, server.url, "Bob")
        expect(cursor(bob, "Ada")).to_have_count(0)
        runs = runs_completed(bob)

        point_at(ada, 200, 150)
        expect_cursor_at(bob, "Ada", 200, 150)
        point_at(ada, 640, 320)
        expect_cursor_at(bob, "Ada", 640, 320)
        point_at(bob, 300, 400)
        expect_cursor_at(ada, "Bob", 300, 400)
        assert runs_completed(bob) == runs  # pointer moves never rerun the app
        expect(cursor(ada, "Ada")).to_have_count(0)  # nobody sees their own cursor drawn
        bob.screenshot(path=str(screenshot_path("whiteboard_cursors.png", tmp_path)))

        ada.mouse.move(5, 5)  # off the board: the cursor is hidden
        expect(cursor(bob, "Ada")).to_have_count(0)
        point_at(ada, 100, 100)
        expect_cursor_at(bob, "Ada", 100, 100)
        ada.context.close()  # Ada leaves: her cursor goes with her
        expect(cursor(bob, "Ada")).to_have_count(0)
        assert browser_errors(bob) == []
    finally:
        server.stop()
    server.assert_clean_log(allow=[r'"GET /static/'])


@pytest.mark.skipif(NODE is None, reason="node is not installed")
def test_a_yjs_clients_cursor_shows_on_the_board(open_session: OpenSession, tmp_path: Path) -> None:
    server = AppServer(tmp_path / "server", store="memory", app_source=APP).start()
    js = Peer.yjs(server.ws_url, "studio", name="js")
    try:
        page = named(open_session, server.url, "Ada")
        js.wait_event(lambda e: e.get("event") == "synced", "the JS client's sync")
        state = {"user": {"name": "Script", "color": "#0891b2"}, "board": "wb"}
        js.request("awareness", state={**state, "cursor": {"x": 420, "y": 210}})
        expect_cursor_at(page, "Script", 420, 210)
        expect(board(page).locator(".wb-person", has_text="Script")).to_have_count(1)
        js.request("awareness", state={**state, "cursor": None})
        expect(cursor(page, "Script")).to_have_count(0)
    finally:
        js.close()
        server.stop()
    server.assert_clean_log(allow=[r'"GET /static/'])
