"""An ``st.App`` served by uvicorn (not ``streamlit run``), for the e2e tests.

Same life cycle, logs and checks as :class:`~.server.StreamlitServer`; only the command
differs: ``python -m uvicorn asgi_app:app`` next to the app script.
"""

from __future__ import annotations

import sys
from pathlib import Path

from .server import StreamlitServer

ASGI_APP = 'import streamlit as st\n\napp = st.App("app.py")\n'


class UvicornServer(StreamlitServer):
    """``uvicorn asgi_app:app`` serving ``st.App("app.py")`` from the app's directory."""

    def command(self) -> list[str]:
        return [
            sys.executable,
            "-m",
            "uvicorn",
            "asgi_app:app",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--app-dir",
            str(self.app_path.parent),
            "--no-access-log",
        ]


def start_uvicorn(app_dir: Path, app_source: str, env: dict[str, str]) -> UvicornServer:
    """Write ``app.py`` and ``asgi_app.py`` into ``app_dir`` and start uvicorn on them."""
    app_dir.mkdir(parents=True, exist_ok=True)
    (app_dir / "app.py").write_text(app_source)
    (app_dir / "asgi_app.py").write_text(ASGI_APP)
    server = UvicornServer(app_dir / "app.py", env=env)
    return server.start()
