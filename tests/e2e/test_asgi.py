"""`sync` also works when the app is an `st.App` served by uvicorn (streamlit-server-state
breaks there: it looks for the `streamlit run` server object)."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest
from playwright.sync_api import expect

from .helpers import text_input, type_and_commit
from .server import StreamlitServer

pytestmark = pytest.mark.e2e

PAGE = textwrap.dedent(
    """
    import streamlit as st
    import crdt_sync
    with crdt_sync.sync("asgi"):
        st.text_input("Shared", key="shared_text")
    crdt_sync.presence_bar()
    """
)
ASGI = "import streamlit as st\napp = st.App('page.py')\n"


class UvicornServer(StreamlitServer):
    """The same lifecycle as a `streamlit run` server, started with uvicorn instead."""

    def command(self) -> list[str]:
        return [
            sys.executable, "-m", "uvicorn", "asgi:app",
            "--host", "127.0.0.1", "--port", str(self.port),
            "--app-dir", str(self.app_path.parent),
        ]  # fmt: skip


def test_sync_under_uvicorn(open_session, tmp_path: Path) -> None:
    (tmp_path / "page.py").write_text(PAGE)
    (tmp_path / "asgi.py").write_text(ASGI)
    server = UvicornServer(
        tmp_path / "asgi.py", env={"CRDT_SYNC_STORE": f"diskcache:{tmp_path / 'store'}"}
    )
    server.start()
    try:
        a, b = open_session(server.url), open_session(server.url)
        type_and_commit(a, "Shared", "served by uvicorn")
        expect(text_input(b, "Shared")).to_have_value("served by uvicorn")
        expect(a.get_by_test_id("crdt-presence")).to_contain_text("2 here")
    finally:
        server.stop()
    assert "Traceback" not in server.log_text()
