"""Proves the e2e infrastructure on a plain Streamlit app (no crdt_sync involved)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from PIL import Image

from .helpers import (
    OpenSession,
    browser_errors,
    button,
    checkbox_checked,
    checkbox_toggle,
    click_button,
    close_session,
    exceptions_on_page,
    multiselect_add,
    multiselect_remove,
    multiselect_values,
    number_input,
    page_clock,
    reload_session,
    runs_completed,
    screenshot_side_by_side,
    selectbox_choose,
    selectbox_value,
    set_number_input,
    set_slider,
    set_text_area,
    slider_value,
    text_appeared_at,
    text_area,
    text_input,
    type_and_commit,
    wait_connected,
    wait_for_text,
    wait_for_value,
)
from .server import StreamlitAppFactory

pytestmark = pytest.mark.e2e

APP = """
import os
import streamlit as st

st.title("Smoke")
st.caption(f"store={os.environ.get('CRDT_SYNC_STORE', '-')}")
st.session_state.setdefault("clicks", 0)

name = st.text_input("Name")
st.write(f"name=[{name}]")
other = st.text_input("Name again")  # "Name" must not match this one (nor "Main menu")
st.write(f"other=[{other}]")
notes = st.text_area("Notes")
st.write(f"notes={notes!r}")
count = st.number_input("Count", value=3)  # its +/- buttons are aria-labelled "Increment"
st.write(f"count={count}")
level = st.slider("Level", 0, 100, 10)
st.write(f"level={level}")
fruits = st.multiselect("Fruits", ["apple", "banana", "cherry"], default=["apple"])
st.write(f"fruits={','.join(fruits)}")
color = st.selectbox("Color", ["red", "green", "blue"])
st.write(f"color={color}")
agree = st.checkbox("Agree")
st.write(f"agree={agree}")
if st.button("Increment"):
    st.session_state.clicks += 1
st.write(f"clicks={st.session_state.clicks}")
"""


def test_smoke_two_sessions(
    streamlit_app: StreamlitAppFactory, open_session: OpenSession, tmp_path: Path
) -> None:
    t0 = time.monotonic()
    server = streamlit_app.start(APP, env={"CRDT_SYNC_STORE": f"diskcache:{tmp_path}/store"})
    assert server.url == f"http://127.0.0.1:{server.port}" and server.pid
    t_server = time.monotonic()

    alice = open_session(server.url)
    bob = open_session(server.url, watch_texts=["clicks=0"])
    t_open = time.monotonic()
    for page in (alice, bob):
        wait_for_text(page, f"store=diskcache:{tmp_path}/store")
        wait_for_text(page, "clicks=0")
        assert runs_completed(page) == 1
        assert slider_value(page, "Level") == "10"
        assert multiselect_values(page, "Fruits") == ["apple"]
        assert selectbox_value(page, "Color") == "red"
        assert not checkbox_checked(page, "Agree")
        wait_for_value(page, number_input(page, "Count"), "3")

    # Alice drives every widget; Bob (a separate Streamlit session) must stay untouched.
    type_and_commit(alice, "Name", "Alice")
    wait_for_text(alice, "name=[Alice]")
    wait_for_text(alice, "other=[]")
    wait_for_value(alice, text_input(alice, "Name again"), "")
    set_text_area(alice, "Notes", "line 1\nline 2")
    wait_for_text(alice, r"notes='line 1\nline 2'")
    set_number_input(alice, "Count", 42)
    wait_for_text(alice, "count=42")
    set_slider(alice, "Level", 15)
    assert slider_value(alice, "Level") == "15"
    wait_for_text(alice, "level=15")
    multiselect_add(alice, "Fruits", "cherry")
    multiselect_add(alice, "Fruits", "banana")
    assert multiselect_values(alice, "Fruits") == ["apple", "cherry", "banana"]
    wait_for_text(alice, "fruits=apple,cherry,banana")
    multiselect_remove(alice, "Fruits", "apple")
    wait_for_text(alice, "fruits=cherry,banana")
    selectbox_choose(alice, "Color", "blue")
    assert selectbox_value(alice, "Color") == "blue"
    wait_for_text(alice, "color=blue")
    assert checkbox_toggle(alice, "Agree") is True
    wait_for_text(alice, "agree=True")
    click_button(alice, "Increment")
    click_button(alice, "Increment")
    wait_for_text(alice, "clicks=2")
    assert button(alice, "Increment").count() == 1  # not the number_input's step button
    t_alice = time.monotonic()

    # Bob's session is independent; the timing helper saw "clicks=N" appear.
    start = page_clock(bob)
    click_button(bob, "Increment")
    appeared = text_appeared_at(bob, "clicks=1")
    assert 0 <= appeared - start < 10_000
    assert text_appeared_at(bob, "clicks=0") <= start  # watched from first render
    wait_for_value(bob, text_input(bob, "Name"), "")
    wait_for_value(bob, text_area(bob, "Notes"), "")
    assert multiselect_values(bob, "Fruits") == ["apple"]
    assert slider_value(bob, "Level") == "10"

    shot = screenshot_side_by_side([alice, bob], tmp_path / "side_by_side.png")
    with Image.open(shot) as img:
        img.verify()
    with Image.open(shot) as img:
        assert img.width > 2 * 800 and img.height > 500

    close_session(bob)
    assert bob.is_closed()
    wait_for_text(alice, "clicks=2")  # the other session is unaffected

    for page in (alice,):
        assert exceptions_on_page(page) == []
        assert browser_errors(page) == []
    server.assert_clean_log()
    t_end = time.monotonic()
    print(
        f"\nserver {t_server - t0:.2f}s (startup {server.startup_seconds:.2f}s), "
        f"2 sessions {t_open - t_server:.2f}s, alice widgets {t_alice - t_open:.2f}s, "
        f"rest {t_end - t_alice:.2f}s, total {t_end - t0:.2f}s; screenshot {shot}"
    )


RESTART_APP = """
import streamlit as st
text = open("data.txt").read()
st.write(f"data={text}")
if text == "boom":
    1 / 0
"""


def test_restart_same_port_and_failing_app(
    streamlit_app: StreamlitAppFactory, open_session: OpenSession
) -> None:
    server = streamlit_app.start(RESTART_APP, files={"data.txt": "first boot"})
    data = server.app_path.parent / "data.txt"
    page = open_session(server.url)
    wait_for_text(page, "data=first boot")
    port, pid = server.port, server.pid
    data.write_text("second boot")
    server.restart()
    assert server.port == port and server.pid != pid
    wait_connected(page)  # the open tab reconnects by itself, but shows stale content
    reload_session(page)
    wait_for_text(page, "data=second boot")
    server.assert_clean_log()

    # An app exception shows in the page and (as a Traceback) in the log, which
    # assert_clean_log rejects unless allow-listed.
    data.write_text("boom")
    reload_session(page)
    wait_for_text(page, "data=boom")
    assert any("ZeroDivisionError" in e for e in exceptions_on_page(page))
    with pytest.raises(AssertionError, match="suspicious"):
        server.assert_clean_log()
    server.assert_clean_log(allow=[r"Traceback", r"ZeroDivisionError"])

    # A second server in the same test gets its own directory and port.
    other = streamlit_app.start("import streamlit as st\nst.write('other')\n")
    assert other.app_path.parent != server.app_path.parent and other.port != server.port
    other.stop()
    assert not other.running and other.pid is None
