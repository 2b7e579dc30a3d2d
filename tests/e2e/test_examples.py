"""Every app in ``examples/`` under a real ``streamlit run``, two real browser sessions each.

Each example gets one server for the whole module (started the first time a test needs
it), on its own store; tests assert what the people see.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page

from .helpers import exceptions_on_page
from .helpers_chat import click_fast, expect_metric
from .server import StreamlitAppFactory, StreamlitServer

pytestmark = pytest.mark.e2e

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
DOCS_IMAGES = Path(__file__).resolve().parents[2] / "docs" / "images"

Example = Callable[[str], StreamlitServer]


@pytest.fixture(scope="module")
def example(
    streamlit_app_module: StreamlitAppFactory, tmp_path_factory: pytest.TempPathFactory
) -> Example:
    servers: dict[str, StreamlitServer] = {}

    def start(name: str) -> StreamlitServer:
        if name not in servers:
            store = tmp_path_factory.mktemp(f"store-{name}")
            servers[name] = streamlit_app_module.start(
                (EXAMPLES / f"{name}.py").read_text(),
                env={"CRDT_SYNC_STORE": f"diskcache:{store}"},
            )
        return servers[name]

    return start


def _clean(server: StreamlitServer, *pages: Page) -> None:
    for page in pages:
        assert exceptions_on_page(page) == []
    server.assert_clean_log()


def test_counter_is_exact_under_fast_clicks_from_two_sessions(open_session, example) -> None:
    server = example("counter")
    a, b = open_session(server.url), open_session(server.url)
    expect_metric([a, b], "Count", "0")
    for _ in range(10):
        click_fast(a, "Increment")
        click_fast(b, "Increment")
    expect_metric([a, b], "Count", "20")
    for _ in range(3):
        click_fast(a, "Decrement")
        click_fast(b, "Decrement")
    expect_metric([a, b], "Count", "14")
    _clean(server, a, b)
