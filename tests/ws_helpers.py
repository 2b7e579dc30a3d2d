"""Serve ``crdt_sync.App`` with uvicorn in a subprocess, for websocket and browser tests.

`AppServer` writes ``app.py`` (a Streamlit script), ``app_server.py`` (``crdt_sync.App``
with an ``on_connect`` hook and a few JSON test routes) and runs ``uvicorn app_server:app``
on a free loopback port; it is stopped by pid. The hook reads the ``token`` query
parameter: ``writer`` (or none) writes, ``reader`` reads, anything else is refused.

Test routes (the server's own view of a room, no browser needed; ``?room=NAME``):

- ``GET /test/room``: ``{"repr": {key: repr(value)}, "texts": {...}, "presence": [...]}``
- ``POST /test/set`` ``{"key", "value"}``; ``POST /test/text`` ``{"key", "value"}``;
  ``POST /test/fill``: typed values (int, float, date, tuple, bytes).
"""

from __future__ import annotations

import json
import sys
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from e2e.server import StreamlitServer

ROOM_ACCESS = """
def on_connect(websocket, room):
    token = websocket.query_params.get("token", "writer")
    return {"writer": "write", "reader": "read"}.get(token)


def _with_room(request, action):
    hub = config.hub()
    room = hub.open(request.query_params["room"])
    try:
        return action(room)
    finally:
        hub.release(room.name)
"""
"""The test servers' ``on_connect`` hook (the ``token`` query parameter) and room access
(``_with_room``); the server code needs ``config`` imported."""

APP_SERVER = """
import datetime
import os

from starlette.responses import JSONResponse
from starlette.routing import Route

import crdt_sync
from crdt_sync.bridge import config
from crdt_sync.bridge.sessions import registry

crdt_sync.configure(store=os.environ["CRDT_SYNC_STORE"])


# ROOM_ACCESS


async def show(request):
    def read(room):
        kinds = room.kinds()
        return {
            "repr": {k: repr(v) for k, v in room.snapshot().items()},
            "texts": {k: str(room.text(k)) for k, v in kinds.items() if v == "text"},
            "presence": sorted(m.label for m in registry.members(room.name)),
        }
    return JSONResponse(_with_room(request, read))


async def set_value(request):
    body = await request.json()
    _with_room(request, lambda room: room.__setitem__(body["key"], body["value"]))
    return JSONResponse({"ok": True})


async def set_text(request):
    body = await request.json()
    _with_room(request, lambda room: room.text(body["key"]).update(body["value"]))
    return JSONResponse({"ok": True})


async def fill(request):
    def write(room):
        with room.transaction():
            room["int"] = 3
            room["float"] = 0.5
            room["whole_float"] = 2.0
            room["date"] = datetime.date(2024, 1, 2)
            room["pair"] = (1, "a")
            room["blob"] = b"\\x00\\xff"
    _with_room(request, write)
    return JSONResponse({"ok": True})


app = crdt_sync.App(
    "app.py",
    on_connect=on_connect,
    max_message_size=int(os.environ.get("MAX_MESSAGE_SIZE", 8 * 1024 * 1024)),
    routes=[
        Route("/test/room", show),
        Route("/test/set", set_value, methods=["POST"]),
        Route("/test/text", set_text, methods=["POST"]),
        Route("/test/fill", fill, methods=["POST"]),
    ],
)
"""
APP_SERVER = APP_SERVER.replace("# ROOM_ACCESS\n", ROOM_ACCESS)

DEFAULT_APP = """
import streamlit as st
import crdt_sync

with crdt_sync.sync("lobby"):
    st.text_input("Title", key="title")
st.write("title=" + str(st.session_state.get("title")))
"""


class AppServer(StreamlitServer):
    """``uvicorn app_server:app`` in ``directory`` (see the module docstring).

    Args:
        directory: Where the app files are written.
        store: The ``CRDT_SYNC_STORE`` spec (e.g. ``"memory"``, ``"redis://..."``).
        app_source: The Streamlit script.
        ws_max_size: uvicorn's ``--ws-max-size`` (frames above it never reach the app).
        env: More environment variables (``MAX_MESSAGE_SIZE``: the App's frame limit).
    """

    def __init__(
        self,
        directory: Path,
        *,
        store: str,
        app_source: str = DEFAULT_APP,
        ws_max_size: int = 16 * 1024 * 1024,
        env: Mapping[str, str] | None = None,
    ) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "app.py").write_text(app_source)
        (directory / "app_server.py").write_text(APP_SERVER)
        # No usage statistics (the page would try to reach the internet). uvicorn has no
        # streamlit command line, so STREAMLIT_* variables are not read: a config file.
        (directory / ".streamlit").mkdir(exist_ok=True)
        (directory / ".streamlit" / "config.toml").write_text(
            "[browser]\ngatherUsageStats = false\n"
        )
        super().__init__(
            directory / "app_server.py",
            env={"CRDT_SYNC_STORE": store, **(env or {})},
            log_path=directory / "uvicorn.log",
        )
        self.ws_max_size = ws_max_size

    def command(self) -> list[str]:
        return [
            sys.executable,
            "-m",
            "uvicorn",
            "app_server:app",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--ws-max-size",
            str(self.ws_max_size),
            "--log-level",
            "warning",
            "--no-access-log",
        ]

    @property
    def ws_url(self) -> str:
        """The y-websocket server URL: clients append ``/{room}``."""
        return f"ws://127.0.0.1:{self.port}/crdt"

    def room(self, name: str) -> dict[str, Any]:
        """The server's view of a room (``GET /test/room?room=NAME``)."""
        with urllib.request.urlopen(
            f"{self.url}/test/room?room={_quote(name)}", timeout=10
        ) as resp:
            result: dict[str, Any] = json.loads(resp.read())
            return result

    def post(self, name: str, action: str, body: Mapping[str, Any] | None = None) -> None:
        """``POST /test/{action}?room=NAME`` with a JSON body."""
        request = urllib.request.Request(
            f"{self.url}/test/{action}?room={_quote(name)}",
            data=json.dumps(dict(body or {})).encode(),
            headers={"content-type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=10) as resp:
            assert resp.status == 200


def _quote(name: str) -> str:
    from urllib.parse import quote

    return quote(name, safe="")
