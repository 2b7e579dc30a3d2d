"""``crdt-sync demo``: it starts, renders without errors, and two people share everything.

Set ``CRDT_SYNC_SCREENSHOTS=1`` to (re)write ``docs/images/demo.png`` from this test.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect

from .helpers import (
    OpenSession,
    browser_errors,
    exceptions_on_page,
    multiselect_remove,
    multiselect_values,
    screenshot_path,
    screenshot_side_by_side,
    set_text_area,
    text_area,
    type_and_commit,
    wait_idle,
    widget,
)
from .helpers_board import add_note, board, draw_stroke, note_text, to_page, wait_board
from .server import STOP_TIMEOUT, StreamlitServer

pytestmark = pytest.mark.e2e


class DemoServer(StreamlitServer):
    """``crdt-sync demo`` as a user starts it (the CLI runs ``streamlit run`` as a child)."""

    def command(self) -> list[str]:
        cli = Path(sys.executable).with_name("crdt-sync")
        return [
            str(cli),
            "demo",
            "--port",
            str(self.port),
            "--server.headless",
            "true",
            "--server.address",
            "127.0.0.1",
            "--browser.gatherUsageStats",
            "false",
        ]

    def stop(self, timeout: float = STOP_TIMEOUT) -> int | None:
        proc = self._proc
        if proc is not None and proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)  # the CLI and the streamlit it started
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
        return super().stop(timeout)


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[DemoServer]:
    app = tmp_path / "app.py"  # only names the log's folder; the CLI runs the packaged demo
    server = DemoServer(app, cwd=tmp_path, log_path=tmp_path / "demo.log")
    server.start()
    try:
        yield server
    finally:
        server.stop()


def test_demo_starts_and_two_people_share_everything(
    demo: DemoServer, open_session: OpenSession, tmp_path: Path
) -> None:
    view = {"width": 1280, "height": 900}
    a = open_session(demo.url, viewport=view)
    b = open_session(demo.url, viewport=view)
    pages = (a, b)
    for page in pages:
        expect(page.get_by_text("Team dashboard · room demo")).to_be_visible()
        expect(page.get_by_test_id("crdt-presence")).to_contain_text("2 here")
        wait_board(page, count=0)
    type_and_commit(a, "Your name", "Ann")
    type_and_commit(b, "Your name", "Bob")
    for page in pages:
        expect(page.get_by_test_id("crdt-presence")).to_contain_text("Ann")
        expect(page.get_by_test_id("crdt-presence")).to_contain_text("Bob")

    # Filters, notes, board: what one does, the other sees.
    multiselect_remove(b, "Regions", "West")
    expect(
        widget(a, "stMultiSelect", "Regions").locator('[data-tag] [title="West"]')
    ).to_have_count(0)
    set_text_area(a, "Notes", "Ann: March dip is a data gap, not real.")
    expect(text_area(b, "Notes")).to_have_value("Ann: March dip is a data gap, not real.")
    draw_stroke(b, [(120, 260), (220, 200), (330, 250), (430, 190)])
    note = add_note(a, (560, 120))
    note_text(a, note).fill("Check March with Bob")
    note_text(a, note).blur()
    for page in pages:
        wait_board(page, count=2)
        expect(note_text(page, note)).to_have_value("Check March with Bob")
        wait_idle(page)
    assert sorted(multiselect_values(a, "Regions")) == ["East", "North", "South"]
    # The demo is served with the rooms' websocket: Ann's pointer shows on Bob's board.
    a.mouse.move(*to_page(a, 470, 300), steps=3)
    expect(board(b).locator('.wb-cursor[data-name="Ann"]')).to_have_count(1)

    for page in pages:
        assert browser_errors(page) == []
        assert exceptions_on_page(page) == []
    demo.assert_clean_log()

    shot = screenshot_side_by_side(list(pages), screenshot_path("demo.png", tmp_path))
    assert shot.stat().st_size > 10_000
