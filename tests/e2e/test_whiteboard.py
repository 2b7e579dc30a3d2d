"""The whiteboard with real browsers: several people drawing, moving and typing at once."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from .helpers import OpenSession, browser_errors
from .helpers_board import (
    add_note,
    board,
    drag_to,
    draw_stroke,
    elements,
    grip_point,
    note_text,
    press_down,
    release,
    wait_board,
    wait_position,
)
from .server import StreamlitAppFactory, StreamlitServer

pytestmark = pytest.mark.e2e

APP = """
import streamlit as st
import crdt_sync

room = st.query_params.get("room", "lobby")
st.title("Board")
crdt_sync.whiteboard(room, key="wb", height=500, read_only=st.query_params.get("ro") == "1")
st.caption(f"full runs: {st.session_state.setdefault('runs', 0) + 1}")
st.session_state.runs += 1
"""


@pytest.fixture(scope="module")
def server(streamlit_app_module: StreamlitAppFactory) -> Iterator[StreamlitServer]:
    server = streamlit_app_module.start(APP, env={"CRDT_SYNC_STORE": "memory"})
    yield server
    server.assert_clean_log()


def open_board(open_session: OpenSession, server: StreamlitServer, room: str, **q: str) -> Page:
    query = "&".join(f"{k}={v}" for k, v in {"room": room, **q}.items())
    page = open_session(f"{server.url}/?{query}")
    wait_board(page)
    return page


def no_errors(*pages: Page) -> None:
    for page in pages:
        assert browser_errors(page) == []


def test_strokes_drawn_at_the_same_time_appear_everywhere(
    server: StreamlitServer, open_session: OpenSession
) -> None:
    a = open_board(open_session, server, "strokes")
    b = open_board(open_session, server, "strokes")
    press_down(a, (100, 100))
    press_down(b, (100, 300))
    for step in range(1, 6):  # both pens move at once
        drag_to(a, [(100 + 40 * step, 100 + 10 * step)])
        drag_to(b, [(100 + 40 * step, 300 - 10 * step)])
    release(a)
    release(b)
    for page in (a, b):
        wait_board(page, count=2)
        assert sorted(e["mine"] for e in elements(page)) == [False, True]
    fresh = open_board(open_session, server, "strokes")
    wait_board(fresh, count=2)
    assert [e["type"] for e in elements(fresh)] == ["pen", "pen"]
    assert not any(e["mine"] for e in elements(fresh))
    no_errors(a, b, fresh)


def test_two_notes_moved_at_the_same_time_both_keep_their_positions(
    server: StreamlitServer, open_session: OpenSession
) -> None:
    a = open_board(open_session, server, "notes")
    b = open_board(open_session, server, "notes")
    first = add_note(a, (100, 100))
    wait_board(a, count=1)
    wait_board(b, count=1)
    second = add_note(b, (600, 100))
    for page in (a, b):
        wait_board(page, count=2)
    grip_a, grip_b = grip_point(a, first), grip_point(b, second)
    a.mouse.move(*grip_a)
    a.mouse.down()
    b.mouse.move(*grip_b)
    b.mouse.down()
    for step in range(1, 6):  # both drags in progress together
        a.mouse.move(grip_a[0] + 20 * step, grip_a[1] + 25 * step)
        b.mouse.move(grip_b[0] - 15 * step, grip_b[1] + 30 * step)
    a.mouse.up()
    b.mouse.up()
    wait_board(a)
    wait_board(b)
    moved = {e["id"]: (e["x"], e["y"]) for e in elements(a) if e["id"] == first}
    moved |= {e["id"]: (e["x"], e["y"]) for e in elements(b) if e["id"] == second}
    assert moved[first][0] > 150 and moved[first][1] > 150
    assert moved[second][0] < 550 and moved[second][1] > 150
    fresh = open_board(open_session, server, "notes")
    for page in (a, b, fresh):
        for element_id, (x, y) in moved.items():
            wait_position(page, element_id, x, y)
    no_errors(a, b, fresh)


def test_typing_into_one_note_at_different_places_merges(
    server: StreamlitServer, open_session: OpenSession
) -> None:
    a = open_board(open_session, server, "typing")
    b = open_board(open_session, server, "typing")
    note = add_note(a, (200, 120))
    note_text(a, note).fill("hello world")
    note_text(a, note).blur()
    wait_board(a, count=1)
    expect(note_text(b, note)).to_have_value("hello world")
    note_text(a, note).click()
    a.keyboard.press("Control+Home")
    note_text(b, note).click()
    b.keyboard.press("Control+End")
    for ours, theirs in zip("AAA ", " BBB", strict=True):  # keystrokes interleaved
        a.keyboard.type(ours)
        b.keyboard.type(theirs)
    merged = "AAA hello world BBB"
    for page in (a, b):
        expect(note_text(page, note)).to_have_value(merged)
        wait_board(page)
    fresh = open_board(open_session, server, "typing")
    expect(note_text(fresh, note)).to_have_value(merged)
    no_errors(a, b, fresh)


def test_undo_in_a_removes_a_last_stroke_not_b(
    server: StreamlitServer, open_session: OpenSession
) -> None:
    a = open_board(open_session, server, "undo")
    b = open_board(open_session, server, "undo")
    draw_stroke(a, [(100, 100), (200, 140), (300, 100)])
    for page in (a, b):
        wait_board(page, count=1)
    draw_stroke(b, [(100, 300), (200, 340), (300, 300)])  # B's is the newest stroke
    for page in (a, b):
        wait_board(page, count=2)
    b_stroke = next(e["id"] for e in elements(b) if e["mine"])
    a.keyboard.press("Control+z")
    for page in (a, b):
        wait_board(page, count=1)
        assert [e["id"] for e in elements(page)] == [b_stroke]
    a.keyboard.press("Control+Shift+z")
    for page in (a, b):
        wait_board(page, count=2)
    board(a).get_by_role("button", name="Undo my last change (Ctrl+Z)").click()
    for page in (a, b):
        wait_board(page, count=1)
    no_errors(a, b)


def test_a_read_only_viewer_sees_live_and_changes_nothing(
    server: StreamlitServer, open_session: OpenSession
) -> None:
    a = open_board(open_session, server, "viewer")
    viewer = open_board(open_session, server, "viewer", ro="1")
    expect(board(viewer)).to_have_attribute("data-readonly", "true")
    expect(board(viewer).locator('button[data-tool="pen"]')).to_be_hidden()
    draw_stroke(a, [(100, 100), (200, 150)])
    wait_board(viewer, count=1)
    draw_stroke(viewer, [(100, 300), (200, 350)])  # nothing happens
    wait_board(viewer, count=1)
    wait_board(a, count=1)
    no_errors(a, viewer)


def test_an_incoming_stroke_reruns_only_the_board(
    server: StreamlitServer, open_session: OpenSession
) -> None:
    a = open_board(open_session, server, "fragment")
    b = open_board(open_session, server, "fragment")
    caption = b.get_by_text("full runs:", exact=False)
    runs_before = caption.inner_text()
    draw_stroke(a, [(100, 100), (200, 150)])
    wait_board(b, count=1)
    draw_stroke(a, [(100, 200), (200, 250)])
    wait_board(b, count=2)
    assert caption.inner_text() == runs_before
    no_errors(a, b)


def test_export_and_clear_my_strokes(
    server: StreamlitServer, open_session: OpenSession, tmp_path: Path
) -> None:
    a = open_board(open_session, server, "export")
    b = open_board(open_session, server, "export")
    draw_stroke(a, [(100, 100), (200, 150), (300, 120)])
    draw_stroke(b, [(100, 300), (200, 350)])
    note = add_note(a, (500, 100))
    note_text(a, note).fill("ship <it> & see")
    note_text(a, note).blur()
    for page in (a, b):
        wait_board(page, count=3)
    with a.expect_download() as svg_download:
        board(a).get_by_role("button", name="Download the board as SVG").click()
    svg = Path(svg_download.value.path()).read_text()
    assert svg.startswith("<svg") and svg.count("<path") == 2
    assert "ship &lt;it&gt; &amp; see" in svg
    with a.expect_download() as png_download:
        board(a).get_by_role("button", name="Download the board as PNG").click()
    png = Path(png_download.value.path()).read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5_000
    assert png_download.value.suggested_filename == "wb.png"

    board(a).get_by_role("button", name="Remove my strokes and shapes").click()
    for page in (a, b):
        wait_board(page, count=2)  # A's stroke gone; B's stroke and A's note stay
        assert sorted(e["type"] for e in elements(page)) == ["note", "pen"]
    assert [e["mine"] for e in elements(b) if e["type"] == "pen"] == [True]
    no_errors(a, b)
