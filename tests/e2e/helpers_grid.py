"""Playwright helpers for ``st.data_editor`` (Glide data grid, drawn on a canvas) in 1.67.

Cells are not DOM elements: a cell is reached by clicking the first data cell and moving
with the arrow keys. With ``num_rows="dynamic"`` the grid has a row-marker column (about
32 px) on the left and an empty "add row" line at the bottom; rows are 35 px high.
Pressing Enter on a cell opens its editor (``#portal .gdg-input``); Enter commits.
"""

from __future__ import annotations

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Locator, Page, expect

from .helpers import TIMEOUT

ROW = 35
MARKER = 32


def grid(page: Page, nth: int = 0) -> Locator:
    """The grid's canvas."""
    return page.get_by_test_id("data-grid-canvas").nth(nth)


def _box(page: Page) -> dict[str, float]:
    box = grid(page).bounding_box()
    assert box is not None, "data editor not visible"
    return box


def select_cell(page: Page, column: int, row: int) -> None:
    """Select a cell by position (0-based, data cells only)."""
    box = _box(page)
    page.mouse.click(box["x"] + MARKER + 12, box["y"] + ROW + ROW / 2)
    # The grid takes the click in a later frame; arrow keys pressed before that move from
    # no selection and are lost.
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
    for _ in range(column):
        page.keyboard.press("ArrowRight")
    for _ in range(row):
        page.keyboard.press("ArrowDown")


def cell_editor(page: Page) -> Locator:
    """The open cell editor's input."""
    return page.locator("#portal .gdg-input")


def grid_cell(page: Page, column: int, row: int) -> Locator:
    """A cell of the grid's accessibility table (the canvas has no DOM cells)."""
    return grid(page).get_by_test_id(f"glide-cell-{column + 1}-{row}")


def cell_text(page: Page, column: int, row: int) -> str:
    """A cell's text."""
    return grid_cell(page, column, row).inner_text()


def open_editor(page: Page, column: int, row: int, text: str, attempts: int = 3) -> None:
    """Open a cell's editor and type ``text`` into it (not committed yet).

    The editor must open with the cell's text, and stay open: a keypress the grid missed
    while it was still taking the click lands on another cell, and a rerun landing just as
    the editor opens (another page joined, say) can close it again; both are retried.
    """
    expected = cell_text(page, column, row)
    seen: list[str] = []
    for _ in range(attempts):
        select_cell(page, column, row)
        page.keyboard.press("Enter")
        expect(cell_editor(page)).to_be_visible(timeout=TIMEOUT)
        try:
            opened = cell_editor(page).input_value(timeout=2_000)
            seen.append(opened)
            if opened == expected:
                cell_editor(page).fill(text, timeout=2_000)
                return
        except PlaywrightError as exc:
            seen.append(f"<closed: {str(exc).splitlines()[0]}>")
            continue  # closed under us: open it again
        page.keyboard.press("Escape")
        expect(cell_editor(page)).to_have_count(0, timeout=TIMEOUT)
    raise AssertionError(
        f"could not open the editor of cell ({column}, {row}) {expected!r}; opened: {seen}"
    )


def commit(page: Page) -> None:
    """Commit the open cell editor (Enter)."""
    cell_editor(page).press("Enter")


def click_add_row(page: Page, rows: int) -> None:
    """Click the empty line under the last of ``rows`` rows (adds a row, first cell selected)."""
    box = _box(page)
    page.mouse.click(box["x"] + MARKER + 12, box["y"] + ROW * (rows + 1) + ROW / 2)


def start_new_row(page: Page, rows: int, text: str) -> None:
    """Add a row under the last of ``rows`` rows and type ``text`` into its first cell.

    Clicking the empty line adds the row and opens the editor of its first cell; ``text``
    is filled in once the editor is there (typed keys could land before it opens).
    """
    click_add_row(page, rows)
    expect(cell_editor(page)).to_be_visible(timeout=TIMEOUT)
    cell_editor(page).fill(text)
