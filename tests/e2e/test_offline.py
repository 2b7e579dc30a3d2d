"""``crdt_sync.offline_controls``: download a room, edit the copy offline, upload it back."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from crdt_sync.doc import Room

from .helpers import (
    exceptions_on_page,
    set_text_area,
    text_area,
    text_input,
    type_and_commit,
    wait_for_text,
)
from .server import StreamlitAppFactory

pytestmark = pytest.mark.e2e

APP = textwrap.dedent(
    """
    import streamlit as st
    import crdt_sync

    room = st.query_params.get("room", "board")
    with crdt_sync.sync(room):
        st.text_input("Title", key="title")
        st.text_area("Notes", key="notes")
    with st.sidebar:
        crdt_sync.offline_controls(room)
    """
)


def _download(page: Page) -> bytes:
    with page.expect_download() as info:
        page.get_by_test_id("stDownloadButton").get_by_role("button").click()
    assert info.value.suggested_filename == "board.ydoc"
    return Path(info.value.path()).read_bytes()


def _upload(page: Page, path: Path) -> None:
    page.get_by_test_id("stFileUploader").locator('input[type="file"]').set_input_files(path)


def test_offline_edit_and_online_edit_both_end_up_on_every_page(
    open_session, streamlit_app: StreamlitAppFactory, tmp_path: Path
) -> None:
    server = streamlit_app.start(APP, env={"CRDT_SYNC_STORE": f"diskcache:{tmp_path}/store"})
    a, b = open_session(server.url), open_session(server.url)
    type_and_commit(a, "Title", "first title")
    set_text_area(a, "Notes", "line one")
    expect(text_area(b, "Notes")).to_have_value("line one")

    blob = _download(a)
    # Offline, with the engine only: no Streamlit, no server.
    copy = Room("board")
    assert copy.merge(blob)
    assert str(copy.text("notes")) == "line one" and str(copy.text("title")) == "first title"
    copy.text("notes").update("line one\nwritten offline")
    edited = tmp_path / "board.ydoc"
    edited.write_bytes(copy.export())

    type_and_commit(b, "Title", "title changed online")  # meanwhile, online
    _upload(a, edited)
    wait_for_text(a, "Merged board.ydoc")
    for page in (a, b):
        expect(text_input(page, "Title")).to_have_value("title changed online")
        expect(text_area(page, "Notes")).to_have_value("line one\nwritten offline")

    # A file that is not a Yjs document: a clear message, nothing changed.
    bad = tmp_path / "bad.ydoc"
    bad.write_bytes(b"\xff\x00 this is not a room")
    _upload(b, bad)
    wait_for_text(b, "bad.ydoc is not a .ydoc of a room, nothing was changed")
    expect(text_input(b, "Title")).to_have_value("title changed online")
    for page in (a, b):
        assert exceptions_on_page(page) == []
    server.assert_clean_log()
