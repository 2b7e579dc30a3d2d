"""Shared bits of the pattern catalogue (``test_patterns_*.py``).

Each catalogue module serves several small apps, one per pattern, written the way app
authors write them; every app reads its room from ``?room=`` (a fresh room per test), so
one server per app and module is enough. :class:`PatternApps` starts an app's server the
first time a test asks for it.
"""

from __future__ import annotations

import itertools
import re
import textwrap
import weakref
from collections.abc import Mapping
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect

from .helpers import TIMEOUT, exceptions_on_page, expect_rerun, wait_idle
from .server import StreamlitAppFactory, StreamlitServer

_rooms = itertools.count()
_WHO: weakref.WeakKeyDictionary[Page, str] = weakref.WeakKeyDictionary()


def person(who: str, page: Page) -> Page:
    """Name ``page`` after the person using it (failure messages say whose page it was)."""
    _WHO[page] = who
    return page


def fresh_room(request: pytest.FixtureRequest) -> str:
    """A room name no other test uses (test name + a counter)."""
    name = re.sub(r"[^A-Za-z0-9_-]", "-", request.node.name)[:40]
    return f"{name}-{next(_rooms)}"


class PatternApps:
    """One ``streamlit run`` server per app source, started on first use, all on one store."""

    def __init__(self, factory: StreamlitAppFactory, store: Path) -> None:
        self.factory = factory
        self.store = store
        self._servers: dict[str, StreamlitServer] = {}

    def server(
        self,
        name: str,
        source: str,
        *,
        files: Mapping[str, str] | None = None,
        args: tuple[str, ...] = (),
    ) -> StreamlitServer:
        """The server of app ``name`` (``source`` is its ``app.py``; ``files`` next to it)."""
        if name not in self._servers:
            self._servers[name] = self.factory.start(
                textwrap.dedent(source),
                env={"CRDT_SYNC_STORE": f"diskcache:{self.store}"},
                files={k: textwrap.dedent(v) for k, v in (files or {}).items()},
                args=args,
            )
        return self._servers[name]

    def url(self, app: str, source: str, room: str, **params: str) -> str:
        """URL of app ``app`` in ``room`` (extra query parameters in ``params``)."""
        srv = self.server(app, source)
        query = "&".join(f"{k}={v}" for k, v in {"room": room, **params}.items())
        return f"{srv.url}/?{query}"


def shows(page: Page, text: str | re.Pattern[str], who: str = "", timeout: float = TIMEOUT) -> None:
    """Wait until the app shows ``text`` (a markdown/write element), failing with what it
    showed instead."""
    target = page.get_by_test_id("stMainBlockContainer").get_by_text(
        text, exact=isinstance(text, str)
    )
    try:
        expect(target.first).to_be_visible(timeout=timeout)
    except AssertionError:
        raise AssertionError(
            f"{who or _WHO.get(page, 'page')}'s page ({page.url}) never showed {text!r};"
            f" it shows:\n{main_text(page)}"
        ) from None


def main_text(page: Page) -> str:
    """Everything the main area shows (for failure messages)."""
    try:
        return page.get_by_test_id("stMainBlockContainer").inner_text(timeout=2_000)
    except Exception as exc:  # pragma: no cover - only for messages
        return f"<unreadable: {exc}>"


def has_value(field: Locator, value: str, what: str, timeout: float = TIMEOUT) -> None:
    """``expect(field).to_have_value(value)`` with a message naming the page and widget."""
    try:
        expect(field).to_have_value(value, timeout=timeout)
    except AssertionError:
        try:
            got = field.input_value(timeout=1_000)
        except Exception as exc:
            got = f"<no such field: {exc}>"
        raise AssertionError(f"{what}: expected {value!r}, the page shows {got!r}") from None


def no_exceptions(*pages: Page) -> None:
    """No page shows an exception box."""
    for page in pages:
        boxes = exceptions_on_page(page)
        assert boxes == [], f"{page.url} shows exception(s): {boxes}"


def click_and_wait(page: Page, locator: Locator, timeout: float = TIMEOUT) -> None:
    """Click ``locator`` and wait for the rerun it causes."""
    with expect_rerun(page, timeout):
        locator.click(timeout=timeout)


def go_to_page(page: Page, title: str, timeout: float = TIMEOUT) -> None:
    """Switch to another page of an ``st.navigation`` app with its sidebar link."""
    link = page.get_by_test_id("stSidebarNav").get_by_role("link", name=title, exact=True)
    link.click(timeout=timeout)
    expect(page.get_by_test_id("stHeading").get_by_text(title, exact=True)).to_be_visible(
        timeout=timeout
    )
    wait_idle(page, timeout)
