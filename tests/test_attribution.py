"""Who the bridge and the websocket channel say each origin is (history's attribution).

Unit tests of the naming itself, and one with a real npm y-websocket client that announces
``user.name`` and edits: ``crdt-sync history`` names it. `tests/e2e/test_history_e2e.py`
checks the same for two people in real browsers.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import streamlit as st
from history_fixtures import cli_history
from own_loop import run_on_own_loop
from peers import NODE, Peer
from replicas import wait_for
from ws_helpers import AppServer

from crdt_sync.bridge import authorship
from crdt_sync.bridge.watch import QuietOrigin
from crdt_sync.doc import Room, authors
from crdt_sync.net.channel import Connection, RoomChannel
from crdt_sync.net.protocol import encode_awareness


@pytest.fixture(autouse=True)
def clean_book() -> Iterator[None]:
    yield
    for origin in ("s-ann", "s-bob", "s-login"):
        authorship.forget_session(origin)


class FakeUser(dict[str, Any]):
    """``st.user`` of an app with login (a mapping, as Streamlit's proxy is)."""


@pytest.fixture
def in_script(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, Callable[[str], None]]]:
    """Pretend a script run is going on; returns the session-end callbacks registered."""
    ends: list[tuple[str, Callable[[str], None]]] = []
    monkeypatch.setattr(authorship, "script_ctx", lambda: object())
    monkeypatch.setattr(authorship.runtime, "on_session_end", lambda s, cb: ends.append((s, cb)))
    monkeypatch.setattr(st, "user", FakeUser(is_logged_in=False))
    return ends


def test_a_quiet_change_is_its_sessions() -> None:
    authors.name("s-ann", "ann")
    assert authors.who(QuietOrigin("s-ann")) == "ann"
    assert QuietOrigin("s-ann").author == "s-ann"


def test_set_name_names_the_session_and_the_end_of_the_session_forgets_it(
    in_script: list[tuple[str, Callable[[str], None]]],
) -> None:
    authorship.name_session("s-ann", "ann")
    assert authors.who("s-ann") == "ann"
    assert [s for s, _cb in in_script] == ["s-ann"]
    session, callback = in_script[0]
    callback(session)  # the tab closed
    assert authors.who("s-ann") != "ann"


def test_login_names_a_session_unless_it_set_a_name(
    in_script: list[tuple[str, Callable[[str], None]]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        st, "user", FakeUser(is_logged_in=True, email="ann@example.com", name="Ann A.")
    )
    authorship.note_login("s-login")
    assert authors.who("s-login") == "ann@example.com"
    authorship.name_session("s-login", "Captain")  # set_name wins over the login
    authorship.note_login("s-login")
    assert authors.who("s-login") == "Captain"
    authorship.name_session("s-login", None)  # set_name(None): back to the login
    assert authors.who("s-login") == "ann@example.com"


def test_login_without_email_uses_the_name_and_no_login_names_nobody(
    in_script: list[tuple[str, Callable[[str], None]]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(st, "user", FakeUser(is_logged_in=True, name="Bob B."))
    authorship.note_login("s-bob")
    assert authors.who("s-bob") == "Bob B."
    monkeypatch.setattr(st, "user", FakeUser(is_logged_in=False))
    authorship.note_login("s-ann")
    assert authors.who("s-ann") == "s-ann"  # unnamed: the origin itself


def test_outside_a_script_run_there_is_no_login() -> None:
    assert authorship.login_name() is None


class _Socket:
    """A websocket nobody reads (the channel only queues frames for it here)."""

    async def send_bytes(self, data: bytes) -> None:
        return None

    async def close(self, code: int = 1000, reason: str = "") -> None:
        return None


def test_a_yjs_clients_announced_name_names_its_connection_until_it_closes() -> None:
    seen: dict[str, str] = {}

    async def main() -> None:
        room = Room("attribution")
        channel = RoomChannel("attribution", room, asyncio.get_running_loop())
        zoe = Connection(_Socket(), room, "write")  # type: ignore[arg-type]
        cursor = Connection(_Socket(), room, "write", awareness_only=True)  # type: ignore[arg-type]
        channel.add(zoe)
        channel.add(cursor)
        try:
            seen["before"] = authors.who(zoe.origin)
            channel.apply_awareness(zoe, encode_awareness([(7, 1, {"user": {"name": "zoe"}})]))
            seen["named"] = authors.who(zoe.origin)
            # A Streamlit page's cursor state: its person is a session, already named.
            state = {"user": {"name": "ann"}, "streamlit": True}
            channel.apply_awareness(cursor, encode_awareness([(8, 1, state)]))
            seen["cursor"] = authors.who(cursor.origin)
            channel.apply_awareness(zoe, encode_awareness([(7, 2, {"user": {"name": "zoé"}})]))
            seen["renamed"] = authors.who(zoe.origin)
            channel.remove(zoe)
            seen["closed"] = authors.who(zoe.origin)
        finally:
            channel.remove(cursor)
            channel.close()

    run_on_own_loop(main, timeout=30)
    assert seen["before"].startswith("crdt_sync:ws:")
    assert seen["named"] == "zoe"
    assert seen["cursor"] != "ann"
    assert seen["renamed"] == "zoé"
    assert seen["closed"].startswith("crdt_sync:ws:")


@pytest.mark.skipif(NODE is None, reason="node is not installed")
def test_history_names_a_yjs_client_by_its_announced_user_name(tmp_path: Path) -> None:
    store = tmp_path / "store"
    server = AppServer(tmp_path / "server", store=f"diskcache:{store}").start()
    try:
        zoe = Peer.yjs(server.ws_url, "garden", name="zoe")
        try:
            zoe.wait_event(lambda e: e.get("event") == "synced", "the initial sync")
            zoe.request("awareness", state={"user": {"name": "zoe", "color": "#3a7"}})
            wait_for(lambda: "zoe" in server.room("garden")["presence"], "zoe in presence")
            zoe.request("ops", ops=[{"op": "set", "key": "level", "value": 7}])
            zoe.request("ack")  # the server has handled (and recorded) the edit
        finally:
            zoe.close()
        server.post("garden", "set", {"key": "after", "value": "server"})
    finally:
        server.stop()
    versions = cli_history(store, "garden")
    assert any(v["who"] == ["zoe"] and "level" in v["keys"] for v in versions), versions
    # Once zoe's connection closed, her name is forgotten: the server's change is not hers.
    assert all("zoe" not in v["who"] for v in versions if "after" in v["keys"]), versions
