"""Helpers for the example apps, chat and compat tests (on top of ``helpers``).

Chat messages are read from the DOM in page order; "wait until" helpers poll the page
(no fixed sleeps) and fail with what the page showed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page, expect

from .helpers import TIMEOUT, button, choose_option, run_tracker, text_input, wait_idle, widget

#: Text of every chat message (``st.chat_message``) on the page, in order.
_CHAT_TEXTS_JS = """() => [...document.querySelectorAll('[data-testid="stChatMessage"]')]
    .map(e => (e.querySelector('[data-testid="stChatMessageContent"]') || e).innerText.trim())"""

#: Text of every paragraph of markdown in the main area, in order.
_MARKDOWN_JS = """() => [...document.querySelectorAll(
    '[data-testid="stMain"] [data-testid="stMarkdownContainer"]')].map(e => e.innerText.trim())"""


def chat_messages(page: Page) -> list[str]:
    """The texts of the ``st.chat_message`` blocks on the page, top to bottom."""
    texts: list[str] = page.evaluate(_CHAT_TEXTS_JS)
    return texts


def markdown_texts(page: Page) -> list[str]:
    """The texts of the markdown blocks in the main area, top to bottom."""
    texts: list[str] = page.evaluate(_MARKDOWN_JS)
    return texts


def wait_until(
    page: Page,
    read: Callable[[Page], object],
    done: Callable[[object], bool],
    what: str,
    timeout: float = TIMEOUT,
) -> object:
    """Poll ``read(page)`` until ``done(value)``; return the value (fail with the last one)."""
    deadline = page.evaluate("() => performance.now()") + timeout
    value = read(page)
    while not done(value):
        if page.evaluate("() => performance.now()") > deadline:
            raise AssertionError(f"timed out waiting for {what}; last seen: {value!r}")
        page.wait_for_timeout(25)
        value = read(page)
    return value


def wait_for_chat(page: Page, count: int, timeout: float = 20_000) -> list[str]:
    """Wait until the page shows ``count`` chat messages (and is idle); return them."""
    try:
        page.wait_for_function(
            "n => document.querySelectorAll('[data-testid=\"stChatMessage\"]').length >= n",
            arg=count,
            timeout=timeout,
        )
    except PlaywrightError:
        raise AssertionError(
            f"timed out waiting for {count} chat messages; the page shows {chat_messages(page)}"
        ) from None
    wait_idle(page, timeout)
    return chat_messages(page)


def send_chat(page: Page, text: str, *, wait: bool = False) -> None:
    """Type ``text`` into ``st.chat_input`` and press Enter (don't wait unless ``wait``)."""
    box = page.get_by_test_id("stChatInputTextArea")
    box.fill(text)
    box.press("Enter")
    if wait:
        expect(page.get_by_text(text, exact=False).first).to_be_visible(timeout=TIMEOUT)


def send_text_input(page: Page, label: str, text: str) -> None:
    """Type into ``st.text_input(label)`` and press Enter, without waiting for the rerun."""
    field = text_input(page, label)
    field.fill(text)
    field.press("Enter")


def click_fast(page: Page, label: str) -> None:
    """Click ``st.button(label)`` as fast as the browser allows (no waiting afterwards)."""
    button(page, label).click(delay=0, no_wait_after=True)


def at_once(actions: Sequence[tuple[Page, Callable[[], None]]], timeout: float = 20_000) -> None:
    """Do every action right after the other, then wait until each page's server session
    has finished a run that started after that page's request.

    Several pages act at the same moment (their server sessions run concurrently and push
    reruns into each other); each page sends its next event only once its previous one
    was taken in. Streamlit itself drops a page's event when the same page sends another
    before the script reached the widget (``runner.fastReruns`` stops that run), which
    no library can prevent; this is the fastest pace at which a page loses nothing.
    """
    marks = []
    for page, act in actions:
        tracker = run_tracker(page)
        before = tracker.rerun_requests
        act()
        marks.append((page, tracker, before))
    for page, tracker, before in marks:
        tracker.wait(
            page,
            lambda t=tracker, b=before: b < t.rerun_requests <= t.last_finished_request,  # type: ignore[misc]
            "the run of the page's own event",
            timeout,
        )


def metric_value(page: Page, label: str) -> str:
    """The value shown by ``st.metric(label)``."""
    metric = page.get_by_test_id("stMetric").filter(
        has=page.get_by_test_id("stMetricLabel").get_by_text(label, exact=True)
    )
    return metric.get_by_test_id("stMetricValue").inner_text(timeout=TIMEOUT)


def expect_metric(pages: Sequence[Page], label: str, value: str, timeout: float = 20_000) -> None:
    """Wait until every page shows ``value`` in ``st.metric(label)``."""
    for page in pages:
        metric = page.get_by_test_id("stMetric").filter(
            has=page.get_by_test_id("stMetricLabel").get_by_text(label, exact=True)
        )
        expect(metric.get_by_test_id("stMetricValue")).to_have_text(value, timeout=timeout)


def sidebar_new_room(page: Page, name: str) -> None:
    """Create and enter a room with ``crdt_sync.room_selector`` (sidebar)."""
    combo = page.get_by_test_id("stSidebar").get_by_role("combobox")
    combo.click()
    page.get_by_role("option", name="+ New room…").click()
    text_input(page, "New room name").fill(name)
    button(page, "Create").click()
    expect(combo).to_have_value(name)
    wait_idle(page)


def sidebar_pick_room(page: Page, name: str) -> None:
    """Enter an existing room with ``crdt_sync.room_selector`` (sidebar)."""
    combo = page.get_by_test_id("stSidebar").get_by_role("combobox")
    choose_option(page, combo, name)  # waits for the rerun the choice causes
    expect(combo).to_have_value(name)
    wait_idle(page)


def choose_in_form(page: Page, label: str, option: str) -> None:
    """Choose ``option`` in ``st.selectbox(label)`` inside a form (no rerun until submit)."""
    combo = widget(page, "stSelectbox", label).get_by_role("combobox")
    combo.focus()
    combo.press("ArrowDown")
    page.get_by_role("option", name=option, exact=True).click()
    expect(combo).to_have_value(option)
    expect(page.get_by_role("listbox")).to_have_count(0)
