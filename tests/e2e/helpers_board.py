"""Playwright helpers for the whiteboard component (crdt_sync.whiteboard) in chromium.

The board renders into a shadow root; Playwright's CSS locators pierce it. The board's root
``.crdt-wb`` carries its state for tests: ``data-count`` (elements drawn), ``data-version``,
``data-pending`` (operations not yet acknowledged by the server), ``data-synced``; every
element is a ``g[data-id]`` with ``data-type``, ``data-x``, ``data-y`` (board units) and
``data-mine``. Board units: the board is 1000 units wide, scaled to its column.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from playwright.sync_api import Locator, Page, expect

from .helpers import TIMEOUT

Point = tuple[float, float]


def board(page: Page, nth: int = 0) -> Locator:
    """The board's root element."""
    return page.locator(".crdt-wb").nth(nth)


def wait_board(page: Page, *, count: int | None = None, timeout: float = TIMEOUT) -> None:
    """Wait until the board is drawn, has sent everything, and (optionally) shows ``count``
    elements."""
    root = board(page)
    expect(root).to_have_attribute("data-synced", "true", timeout=timeout)
    if count is not None:
        expect(root).to_have_attribute("data-count", str(count), timeout=timeout)


def to_page(page: Page, x: float, y: float) -> Point:
    """Board units -> page pixels (scrolls the board into view first)."""
    svg = board(page).locator(".wb-svg")
    svg.scroll_into_view_if_needed()
    box = svg.bounding_box()
    assert box is not None, "board not visible"
    scale = box["width"] / 1000
    return box["x"] + x * scale, box["y"] + y * scale


def choose_tool(page: Page, tool: str) -> None:
    """Click a toolbar tool: select, pen, note, rect, ellipse, arrow."""
    board(page).locator(f'button[data-tool="{tool}"]').click()
    expect(board(page)).to_have_attribute("data-tool", tool)


def press_down(page: Page, at: Point) -> None:
    """Move the mouse to a board point and press the button."""
    page.mouse.move(*to_page(page, *at))
    page.mouse.down()


def drag_to(page: Page, points: Sequence[Point], steps: int = 4) -> None:
    """Move the pressed mouse through board points."""
    for x, y in points:
        page.mouse.move(*to_page(page, x, y), steps=steps)


def release(page: Page) -> None:
    """Release the mouse button (ends a stroke or a move: one operation)."""
    page.mouse.up()


def draw_stroke(page: Page, points: Sequence[Point]) -> None:
    """Draw a pen stroke through board points (the pen must be the tool)."""
    press_down(page, points[0])
    drag_to(page, points[1:])
    release(page)


def elements(page: Page) -> list[dict[str, Any]]:
    """What the page shows, bottom first: id, type, x, y, mine, text (notes)."""
    found: list[dict[str, Any]] = (
        board(page)
        .locator(".wb-layer > g[data-id]")
        .evaluate_all(
            """gs => gs.map(g => ({
            id: g.dataset.id, type: g.dataset.type,
            x: Number(g.dataset.x), y: Number(g.dataset.y), mine: g.dataset.mine === "true",
            text: g.querySelector("textarea") ? g.querySelector("textarea").value : null,
        }))"""
        )
    )
    return found


def element(page: Page, element_id: str) -> Locator:
    """One element's ``g``."""
    return board(page).locator(f'.wb-layer > g[data-id="{element_id}"]')


def wait_position(page: Page, element_id: str, x: float, y: float) -> None:
    """Wait until an element is shown at (x, y)."""
    node = element(page, element_id)
    expect(node).to_have_attribute("data-x", _num(x), timeout=TIMEOUT)
    expect(node).to_have_attribute("data-y", _num(y), timeout=TIMEOUT)


def _num(v: float) -> str:
    return json.dumps(v if v != int(v) else int(v))


def add_note(page: Page, at: Point) -> str:
    """Place a sticky note with the note tool; returns its id."""
    notes = board(page).locator('.wb-layer > g[data-type="note"]')
    before = set(notes.evaluate_all("gs => gs.map(g => g.dataset.id)"))
    choose_tool(page, "note")
    page.mouse.click(*to_page(page, *at))
    expect(notes).to_have_count(len(before) + 1)
    new = set(notes.evaluate_all("gs => gs.map(g => g.dataset.id)")) - before
    assert len(new) == 1, new
    return str(new.pop())


def note_text(page: Page, element_id: str) -> Locator:
    """A note's textarea."""
    return element(page, element_id).locator("textarea")


def grip_point(page: Page, element_id: str) -> Point:
    """Page pixels of the middle of a note's drag handle."""
    box = element(page, element_id).locator(".wb-grip").bounding_box()
    assert box is not None
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
