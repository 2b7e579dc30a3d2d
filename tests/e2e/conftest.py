"""Fixtures for end-to-end tests: streamlit servers, one chromium, one context per user.

* ``streamlit_app`` (function) / ``streamlit_app_module`` (module): factories whose
  ``start(app_source, *, env=None, cwd=None, args=(), files=None)`` returns a healthy
  :class:`~.server.StreamlitServer`; every server is stopped by pid at teardown and its
  log is printed if the test failed.
* ``browser`` (session): Debian chromium via Playwright's sync API.
* ``open_session`` (function): ``open_session(url) -> Page`` in a fresh context
  (= a separate Streamlit session), waited until idle; contexts closed at teardown.
"""

from __future__ import annotations

import contextlib
from collections.abc import Generator, Iterator, Sequence
from pathlib import Path

import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    Page,
    Playwright,
    ViewportSize,
    sync_playwright,
)
from playwright.sync_api import Error as PlaywrightError

from .helpers import TIMEOUT, OpenSession, init_script, track_session, wait_idle
from .helpers_patterns import PatternApps
from .server import CHROMIUM, CHROMIUM_ARGS, StreamlitAppFactory

VIEWPORT: ViewportSize = {"width": 900, "height": 1000}

_HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Everything under tests/e2e is marked ``e2e`` (deselect with ``-m 'not e2e'``)."""
    for item in items:
        if _HERE in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.e2e)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Expose each phase's report as ``item.rep_<phase>`` so fixtures see failures."""
    rep = yield
    setattr(item, f"rep_{rep.when}", rep)
    return rep


def _failed(item: pytest.Item) -> bool:
    return any(getattr(getattr(item, f"rep_{w}", None), "failed", False) for w in ("setup", "call"))


# ------------------------------------------------------------------------------ servers


@pytest.fixture
def streamlit_app(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StreamlitAppFactory]:
    """Factory: ``streamlit_app.start(app_source, ...)`` → running ``StreamlitServer``."""
    factory = StreamlitAppFactory(tmp_path)
    try:
        yield factory
    finally:
        factory.close()
        if _failed(request.node) and factory.servers:
            print(f"\n===== streamlit server logs ({request.node.nodeid}) =====")
            print(factory.dump_logs())


@pytest.fixture(scope="module")
def streamlit_app_module(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[StreamlitAppFactory]:
    """Module-scoped variant of ``streamlit_app`` (one server shared by a module's tests)."""
    factory = StreamlitAppFactory(tmp_path_factory.mktemp("st_module"))
    failed_before = request.session.testsfailed
    try:
        yield factory
    finally:
        factory.close()
        if request.session.testsfailed > failed_before and factory.servers:
            print(f"\n===== streamlit server logs ({request.node.nodeid}) =====")
            print(factory.dump_logs())


# ------------------------------------------------------------------------------ browser


@pytest.fixture(scope="session")
def playwright_instance() -> Iterator[Playwright]:
    """The sync Playwright driver (one per test session)."""
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright_instance: Playwright) -> Iterator[Browser]:
    """One headless Debian chromium for the whole test session (never ``playwright install``)."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no chromium at {CHROMIUM} (set E2E_CHROMIUM)")
    browser = playwright_instance.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    try:
        yield browser
    finally:
        browser.close()


@pytest.fixture
def open_session(browser: Browser) -> Iterator[OpenSession]:
    """Factory: ``open_session(url) -> Page``, one fresh browser context per simulated user.

    Installs the text-timing init script (``helpers.text_appeared_at``), tracks script
    runs from the websocket (``helpers.run_tracker``) and console errors
    (``helpers.browser_errors``), navigates and waits until the first run is rendered.
    """
    contexts: list[BrowserContext] = []

    def _open(
        url: str,
        *,
        wait: bool = True,
        watch_texts: Sequence[str] = (),
        viewport: ViewportSize | None = None,
        timeout: float = TIMEOUT,
    ) -> Page:
        context = browser.new_context(viewport=viewport or VIEWPORT)
        contexts.append(context)
        context.set_default_timeout(timeout)
        context.add_init_script(init_script(watch_texts))
        page = context.new_page()
        track_session(page)
        page.goto(url, timeout=timeout)
        if wait:
            wait_idle(page, timeout)
        return page

    yield _open
    for context in contexts:
        with contextlib.suppress(PlaywrightError):  # e.g. browser already gone
            context.close()  # no-op if close_session() already closed it


@pytest.fixture(scope="module")
def apps(
    streamlit_app_module: StreamlitAppFactory, tmp_path_factory: pytest.TempPathFactory
) -> PatternApps:
    """The pattern catalogue's apps: one server per app, one store per test module."""
    return PatternApps(streamlit_app_module, tmp_path_factory.mktemp("store"))
