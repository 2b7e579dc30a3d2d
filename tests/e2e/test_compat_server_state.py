"""streamlit-server-state apps, import line changed to crdt_sync.compat, in real browsers.

One ``streamlit run`` server for the module runs every pattern (``?app=...``); one
uvicorn server runs the counter as an ``st.App``.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from .helpers import exceptions_on_page, slider, wait_for_text
from .helpers_chat import at_once, click_fast, markdown_texts, send_text_input, wait_until
from .server import StreamlitAppFactory, StreamlitServer
from .uvicorn_server import start_uvicorn

pytestmark = pytest.mark.e2e

IMPORT = "from crdt_sync.compat.server_state import server_state, server_state_lock\n"

# streamlit-server-state's README example, with the import line changed (nothing else).
README_COUNTER = (
    "import streamlit as st\n\n"
    + IMPORT
    + textwrap.dedent(
        """
        st.title("Global Counter Example")

        with server_state_lock["count"]:  # Lock the "count" state for thread-safety
            if "count" not in server_state:
                server_state.count = 0

        increment = st.button("Increment")
        if increment:
            with server_state_lock.count:
                server_state.count += 1

        decrement = st.button("Decrement")
        if decrement:
            with server_state_lock.count:
                server_state.count -= 1

        st.write("Count = ", server_state.count)
        """
    )
)

# The chat patterns of its docs and forum thread; ?mode= picks one, ?who= names the sender.
CHAT = (
    "import streamlit as st\n"
    + IMPORT
    + textwrap.dedent(
        """
        mode = st.query_params.get("mode", "lock")
        who = st.query_params.get("who", "anon")
        key = "chat_" + mode

        with server_state_lock[key]:
            if key not in server_state:
                server_state[key] = []

        def send():
            message = {"who": who, "text": st.session_state["message"]}
            if mode == "lock":
                with server_state_lock[key]:
                    server_state[key] = server_state[key] + [message]
            elif mode == "nolock":
                server_state[key] = server_state[key] + [message]
            elif mode == "append":
                server_state[key].append(message)
            elif mode == "iadd":
                server_state[key] += [message]
            st.session_state["message"] = ""

        st.text_input("Message", key="message", on_change=send)
        for message in server_state[key]:
            st.markdown(f"{message['who']}> {message['text']}")
        """
    )
)

# Its global slider example (a keyless slider whose value= comes from the state).
SLIDER = (
    "import streamlit as st\n"
    + IMPORT
    + textwrap.dedent(
        """
        with server_state_lock["slider_value"]:
            if "slider_value" not in server_state:
                server_state.slider_value = 50
            server_state.slider_value = st.slider(
                "Shared value", min_value=0, max_value=100, value=server_state.slider_value
            )
        st.write(f"slider at {server_state.slider_value}")
        """
    )
)

APP = (
    textwrap.dedent(
        """
    import streamlit as st
    which = st.query_params.get("app", "counter")
    source = {"counter": COUNTER, "chat": CHAT, "slider": SLIDER}[which]
    exec(compile(source, which, "exec"), {"__name__": "__main__"})
    """
    )
    .replace("COUNTER", repr(README_COUNTER))
    .replace("CHAT", repr(CHAT))
    .replace("SLIDER", repr(SLIDER))
)


@pytest.fixture(scope="module")
def server(
    streamlit_app_module: StreamlitAppFactory, tmp_path_factory: pytest.TempPathFactory
) -> StreamlitServer:
    store = tmp_path_factory.mktemp("store")
    return streamlit_app_module.start(APP, env={"CRDT_SYNC_STORE": f"diskcache:{store}"})


def _no_errors(server: StreamlitServer, *pages: Page) -> None:
    for page in pages:
        assert exceptions_on_page(page) == [], exceptions_on_page(page)
    # st.App logs each request; the frontend's ErrorElement.js bundle is just a file name.
    server.assert_clean_log(allow=[r'"GET /static/\S+ HTTP/1.1" 200'])


def _count(page: Page) -> str:
    return page.get_by_test_id("stMarkdownContainer").filter(has_text="Count =").inner_text()


def _expect_count(pages: list[Page], value: int) -> None:
    for page in pages:
        expect(page.get_by_test_id("stMarkdownContainer").filter(has_text="Count =")).to_have_text(
            f"Count = {value}", timeout=20_000
        )


def _click_rounds(a: Page, b: Page) -> None:
    start = int(_count(a).split("=")[1])
    for round_no in range(1, 4):
        for _ in range(10):
            at_once(
                [(a, lambda: click_fast(a, "Increment")), (b, lambda: click_fast(b, "Increment"))]
            )
        _expect_count([a, b], start + 20 * round_no)


def test_readme_counter_goes_up_by_exactly_20_per_round(open_session, server) -> None:
    """Both pages click at the same moment, 10 times, 3 rounds, on one server.

    Each page clicks again as soon as its previous click was taken in (see ``at_once``):
    sooner, Streamlit itself drops the earlier click of the same page (fastReruns stops
    its run before the button), with or without any library.
    """
    a = open_session(f"{server.url}/?app=counter")
    b = open_session(f"{server.url}/?app=counter")
    wait_for_text(a, "Count =")
    _click_rounds(a, b)
    _no_errors(server, a, b)


N = 12  # messages per sender and pattern (the chat example test sends 20 each)


@pytest.mark.parametrize("mode", ["lock", "nolock", "append", "iadd"])
def test_chat_patterns_keep_every_message_of_simultaneous_senders(
    open_session, server, mode: str
) -> None:
    ann = open_session(f"{server.url}/?app=chat&mode={mode}&who=ann")
    bob = open_session(f"{server.url}/?app=chat&mode={mode}&who=bob")
    for i in range(N):
        at_once(
            [
                (ann, lambda i=i: send_text_input(ann, "Message", f"a{i}")),  # type: ignore[misc]
                (bob, lambda i=i: send_text_input(bob, "Message", f"b{i}")),  # type: ignore[misc]
            ]
        )
    seen = []
    for page in (ann, bob):
        lines = wait_until(page, _lines, _has_all, "every message", timeout=20_000)
        seen.append(lines)
    expected = {f"ann> a{i}" for i in range(N)} | {f"bob> b{i}" for i in range(N)}
    assert len(seen[0]) == 2 * N and set(seen[0]) == expected, seen[0]
    assert seen[0] == seen[1], "the pages show different orders"
    assert [x for x in seen[0] if x.startswith("ann")] == [f"ann> a{i}" for i in range(N)]
    _no_errors(server, ann, bob)


def _has_all(lines: object) -> bool:
    return isinstance(lines, list) and len(lines) >= 2 * N


def _lines(page: Page) -> list[str]:
    return [t for t in markdown_texts(page) if "> " in t]


def test_global_slider_follows_on_the_other_page(open_session, server) -> None:
    a = open_session(f"{server.url}/?app=slider")
    b = open_session(f"{server.url}/?app=slider")
    wait_for_text(b, "slider at 50")
    # One move per change: its value= changes, so Streamlit makes it a new widget each time.
    for page, key, value in ((a, "End", "100"), (b, "Home", "0"), (a, "ArrowRight", "1")):
        at_once([(page, lambda page=page, key=key: _press_slider(page, key))])  # type: ignore[misc]
        for other in (a, b):
            wait_for_text(other, f"slider at {value}")
            # A new slider replaces the old one (its id changed): wait until it is alone.
            expect(_thumb_value(other)).to_have_count(1)
            expect(_thumb_value(other)).to_have_text(value)
    _no_errors(server, a, b)


def _press_slider(page: Page, key: str) -> None:
    slider(page, "Shared value").focus()
    page.keyboard.press(key)


def _thumb_value(page: Page):  # type: ignore[no-untyped-def]
    return page.get_by_test_id("stSlider").get_by_test_id("stSliderThumbValue")


@pytest.fixture
def uvicorn_server(tmp_path: Path) -> Iterator[StreamlitServer]:
    srv = start_uvicorn(
        tmp_path / "asgi", README_COUNTER, env={"CRDT_SYNC_STORE": f"diskcache:{tmp_path}/store"}
    )
    try:
        yield srv
    finally:
        srv.stop()


def test_readme_counter_works_as_an_st_app_under_uvicorn(open_session, uvicorn_server) -> None:
    a, b = open_session(uvicorn_server.url), open_session(uvicorn_server.url)
    _expect_count([a, b], 0)
    for _ in range(5):
        at_once([(a, lambda: click_fast(a, "Increment")), (b, lambda: click_fast(b, "Increment"))])
    _expect_count([a, b], 10)
    _no_errors(uvicorn_server, a, b)
