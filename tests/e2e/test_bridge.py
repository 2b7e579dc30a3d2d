"""`with crdt_sync.sync(room)` in real browsers: what two people see on their pages.

One server for the module; each test uses its own room (``?room=...``) so tests never see
each other's values.
"""

from __future__ import annotations

import itertools
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from .helpers import (
    button,
    choose_option,
    close_session,
    exceptions_on_page,
    multiselect_add,
    multiselect_values,
    run_tracker,
    screenshot_path,
    screenshot_side_by_side,
    set_text_area,
    text_area,
    text_input,
    type_and_commit,
    wait_for_text,
    wait_idle,
)
from .server import StreamlitAppFactory, StreamlitServer

pytestmark = pytest.mark.e2e


APP = textwrap.dedent(
    """
    import datetime
    import streamlit as st
    import crdt_sync

    qp = st.query_params
    room = qp.get("room", "main")
    if "name" in qp:
        crdt_sync.set_name(qp["name"])
    st.title(f"Room {room}")
    with crdt_sync.sync(room, read_only=qp.get("mode") == "ro"):
        st.text_input("Alpha", key="a")
        st.text_input("Beta", key="b")
        st.text_area("Story", key="story")
        st.multiselect("Tags", ["red", "green", "blue", "cyan"], key="tags")
        st.date_input("Due", datetime.date(2026, 1, 1), key="due")
        st.text_input("Draft", key=crdt_sync.private("draft"))
        if "a_clicks" not in st.session_state:
            st.session_state["a_clicks"] = 0
        if "b_clicks" not in st.session_state:
            st.session_state["b_clicks"] = 0
        if st.button("A+1"):
            st.session_state["a_clicks"] += 1
        if st.button("B+1"):
            st.session_state["b_clicks"] += 1
        with st.form("note_form", clear_on_submit=True):
            st.text_input("Note", key="note")
            if st.form_submit_button("Post"):
                st.session_state["posts"] = st.session_state.get("posts", 0) + 1
        with st.form("plan_form"):
            st.text_input("Plan", key="plan")
            st.form_submit_button("Save plan")
    st.markdown(f"posts={st.session_state.get('posts', 0)}")
    due = st.session_state.get("due")
    st.markdown(
        f"clicks a={st.session_state['a_clicks']} b={st.session_state['b_clicks']} "
        f"| due is {type(due).__name__} {due}"
    )
    crdt_sync.presence_bar()
    crdt_sync.undo_button()
    """
)


@pytest.fixture(scope="module")
def server(
    streamlit_app_module: StreamlitAppFactory, tmp_path_factory: pytest.TempPathFactory
) -> StreamlitServer:
    store = tmp_path_factory.mktemp("store")
    return streamlit_app_module.start(APP, env={"CRDT_SYNC_STORE": f"diskcache:{store}"})


_rooms = itertools.count()


@pytest.fixture
def room_url(server: StreamlitServer, request: pytest.FixtureRequest) -> Callable[..., str]:
    room = f"{request.node.name[:40]}-{next(_rooms)}"

    def url(**params: str) -> str:
        query = "&".join(f"{k}={v}" for k, v in {"room": room, **params}.items())
        return f"{server.url}/?{query}"

    return url


def _both_show(pages: list[Page], label: str, value: str, *, area: bool = False) -> None:
    for page in pages:
        field = text_area(page, label) if area else text_input(page, label)
        expect(field).to_have_value(value, timeout=10_000)


def _no_errors(server: StreamlitServer, *pages: Page) -> None:
    for page in pages:
        assert exceptions_on_page(page) == []
    server.assert_clean_log()


def test_typed_text_shows_up_on_the_other_page(open_session, room_url, server) -> None:
    a, b = open_session(room_url()), open_session(room_url())
    type_and_commit(a, "Alpha", "hello from A")
    expect(text_input(b, "Alpha")).to_have_value("hello from A")
    # A date keeps its type in every session.
    wait_for_text(b, "due is date 2026-01-01")
    _no_errors(server, a, b)


def test_different_widgets_changed_at_once_are_both_kept(open_session, room_url, server) -> None:
    a, b = open_session(room_url()), open_session(room_url())
    for i in range(20):
        # Within a few ms of each other: fill both, then press Enter on both.
        text_input(a, "Alpha").fill(f"a{i}")
        text_input(b, "Beta").fill(f"b{i}")
        text_input(a, "Alpha").press("Enter")
        text_input(b, "Beta").press("Enter")
        for page in (a, b):
            expect(text_input(page, "Alpha")).to_have_value(f"a{i}")
            expect(text_input(page, "Beta")).to_have_value(f"b{i}")
    c = open_session(room_url())
    expect(text_input(c, "Alpha")).to_have_value("a19")
    expect(text_input(c, "Beta")).to_have_value("b19")
    _no_errors(server, a, b, c)


def test_typing_in_one_text_area_at_once_merges(
    open_session, room_url, server, tmp_path: Path
) -> None:
    a, b = open_session(room_url()), open_session(room_url())
    set_text_area(a, "Story", "The quick brown fox")
    _both_show([a, b], "Story", "The quick brown fox", area=True)
    text_area(a, "Story").fill("The very quick brown fox")
    text_area(b, "Story").fill("The quick brown fox jumps")
    text_area(a, "Story").press("Control+Enter")
    text_area(b, "Story").press("Control+Enter")
    _both_show([a, b], "Story", "The very quick brown fox jumps", area=True)
    screenshot_side_by_side([a, b], screenshot_path("two-sessions.png", tmp_path))
    _no_errors(server, a, b)


def test_tags_added_at_once_are_both_kept(open_session, room_url) -> None:
    a, b = open_session(room_url()), open_session(room_url())
    multiselect_add(a, "Tags", "red")
    expect(b.get_by_text("red", exact=True)).to_be_visible()
    # Concurrent additions: add-wins set keeps both.
    combo_a = a.get_by_test_id("stMultiSelect").get_by_role("combobox")
    combo_b = b.get_by_test_id("stMultiSelect").get_by_role("combobox")
    combo_a.click()
    combo_b.click()
    a.get_by_role("option", name="green", exact=True).click()
    b.get_by_role("option", name="blue", exact=True).click()
    for page in (a, b):
        page.keyboard.press("Escape")
    for page in (a, b):
        page.wait_for_function(
            """() => ['red','green','blue'].every(t =>
                 [...document.querySelectorAll('[data-testid=stMultiSelect] [data-tag] [title]')]
                   .some(e => e.getAttribute('title') === t))""",
            timeout=10_000,
        )
        assert sorted(multiselect_values(page, "Tags")) == ["blue", "green", "red"]


def test_newcomer_sees_state_and_restart_restores_it(
    open_session, streamlit_app: StreamlitAppFactory, tmp_path: Path
) -> None:
    store = tmp_path / "store"
    srv = streamlit_app.start(APP, env={"CRDT_SYNC_STORE": f"diskcache:{store}"})
    a = open_session(f"{srv.url}/?room=persist")
    type_and_commit(a, "Alpha", "kept across restarts")
    set_text_area(a, "Story", "once upon a time")
    newcomer = open_session(f"{srv.url}/?room=persist")
    expect(text_input(newcomer, "Alpha")).to_have_value("kept across restarts")
    srv.restart()
    after = open_session(f"{srv.url}/?room=persist")
    expect(text_input(after, "Alpha")).to_have_value("kept across restarts")
    expect(text_area(after, "Story")).to_have_value("once upon a time")
    srv.assert_clean_log()


def test_private_key_stays_private_and_read_only_follows(open_session, room_url) -> None:
    a = open_session(room_url())
    viewer = open_session(room_url(mode="ro"))
    b = open_session(room_url())
    type_and_commit(a, "Draft", "only mine")
    type_and_commit(a, "Alpha", "public")
    expect(text_input(viewer, "Alpha")).to_have_value("public")  # follows live
    expect(text_input(b, "Alpha")).to_have_value("public")
    assert text_input(b, "Draft").input_value() == ""
    # The read-only viewer forces a value: nobody else ever sees it, and its page reverts.
    field = text_input(viewer, "Alpha")
    field.evaluate("e => { e.style.pointerEvents = 'auto'; }")
    field.fill("vandalism", force=True)
    field.press("Enter")
    expect(text_input(viewer, "Alpha")).to_have_value("public")
    type_and_commit(b, "Beta", "after the viewer")
    expect(text_input(a, "Beta")).to_have_value("after the viewer")
    assert text_input(a, "Alpha").input_value() == "public"


def test_rooms_chosen_with_room_selector_are_isolated(
    open_session, streamlit_app: StreamlitAppFactory, tmp_path: Path
) -> None:
    app = textwrap.dedent(
        """
        import streamlit as st
        import crdt_sync
        room = crdt_sync.room_selector()
        if room:
            with crdt_sync.sync(room):
                st.text_input("Topic", key="topic")
            st.write(f"in room {room}")
            crdt_sync.presence_bar()
        else:
            st.write("no room chosen")
        """
    )
    srv = streamlit_app.start(app, env={"CRDT_SYNC_STORE": f"diskcache:{tmp_path / 's'}"})
    a, b = open_session(srv.url), open_session(srv.url)
    for page, name in ((a, "north"), (b, "south")):
        sidebar_pick_new_room(page, name)
        wait_for_text(page, f"in room {name}")
    type_and_commit(a, "Topic", "north topic")
    type_and_commit(b, "Topic", "south topic")
    expect(text_input(a, "Topic")).to_have_value("north topic")
    expect(text_input(b, "Topic")).to_have_value("south topic")
    # A third person joins "north" from the list of existing rooms.
    c = open_session(srv.url)
    pick_existing_room(c, "north")
    expect(text_input(c, "Topic")).to_have_value("north topic")
    expect(a.get_by_test_id("crdt-presence")).to_contain_text("2 here")
    # C moves to "south": it leaves north's presence list at once, not when its tab closes.
    pick_existing_room(c, "south")
    expect(text_input(c, "Topic")).to_have_value("south topic")
    expect(a.get_by_test_id("crdt-presence")).to_contain_text("1 here")
    # A bad name gets a clear message, not a traceback.
    sidebar_pick_new_room(c, "x" * 201, expect_ok=False)
    wait_for_text(c, "the limit is 200")
    srv.assert_clean_log()


def sidebar_pick_new_room(page: Page, name: str, *, expect_ok: bool = True) -> None:
    combo = page.get_by_test_id("stSidebar").get_by_role("combobox")
    choose_option(page, combo, "+ New room…")
    field = text_input(page, "New room name")
    field.fill(name)
    button(page, "Create").click()
    if expect_ok:
        expect(combo).to_have_value(name)
    wait_idle(page)


def pick_existing_room(page: Page, name: str) -> None:
    combo = page.get_by_test_id("stSidebar").get_by_role("combobox")
    choose_option(page, combo, name)
    expect(combo).to_have_value(name)
    wait_idle(page)


def test_presence_shows_two_then_one_after_a_tab_closes(open_session, room_url) -> None:
    a = open_session(room_url(name="Ann"))
    b = open_session(room_url(name="Bob"))
    presence = a.get_by_test_id("crdt-presence")
    expect(presence).to_contain_text("2 here")
    expect(presence).to_contain_text("Bob")
    close_session(b)
    expect(presence).to_contain_text("1 here", timeout=10_000)
    expect(presence).not_to_contain_text("Bob")


def test_form_fields_travel_on_submit_and_clear_everywhere(open_session, room_url) -> None:
    a, b = open_session(room_url()), open_session(room_url())
    # Typed but not submitted: stays on A's page only.
    text_input(a, "Plan").fill("draft plan")
    type_and_commit(a, "Alpha", "a change elsewhere")
    expect(text_input(b, "Alpha")).to_have_value("a change elsewhere")
    assert text_input(b, "Plan").input_value() == ""
    button(a, "Save plan").click()
    expect(text_input(b, "Plan")).to_have_value("draft plan")
    # clear_on_submit: A posts a note; the post reaches B (posts=1), and the submitted text
    # shows in no form afterwards (streamlit-sync left it in every other session's form).
    text_input(a, "Note").fill("posted by A")
    button(a, "Post").click()
    wait_for_text(b, "posts=1")
    for page in (a, b):
        expect(text_input(page, "Note")).to_have_value("")
    c = open_session(room_url())
    expect(text_input(c, "Note")).to_have_value("")


def test_undo_reverts_my_change_and_keeps_theirs(open_session, room_url) -> None:
    a, b = open_session(room_url()), open_session(room_url())
    type_and_commit(a, "Alpha", "A wrote this")
    type_and_commit(b, "Beta", "B wrote this")
    expect(text_input(a, "Beta")).to_have_value("B wrote this")
    button(a, "↶ Undo").click()
    for page in (a, b):
        expect(text_input(page, "Alpha")).to_have_value("")
        expect(text_input(page, "Beta")).to_have_value("B wrote this")


def test_stale_echo_never_overwrites_the_other_edit(open_session, room_url, server) -> None:
    a, b = open_session(room_url()), open_session(room_url())
    tracker = run_tracker(b)
    for i in range(15):
        starts = tracker.runs_started
        text_input(b, "Beta").fill(f"b{i}")
        type_value = f"a{i}"
        text_input(a, "Alpha").fill(type_value)
        text_input(a, "Alpha").press("Enter")
        # The moment B's server session starts the run that brings A's value, B commits:
        # B's request still carries the old Alpha its page shows.
        tracker.wait(b, lambda: tracker.runs_started > starts, "the pushed run", 10_000)  # noqa: B023
        text_input(b, "Beta").press("Enter")
        for page in (a, b):
            expect(text_input(page, "Alpha")).to_have_value(type_value)
            expect(text_input(page, "Beta")).to_have_value(f"b{i}")
    _no_errors(server, a, b)


def test_clicks_survive_pushed_reruns(open_session, room_url, server) -> None:
    """Each page clicks its own button as soon as its previous click has been processed,
    A and B interleaved, so the other page's change is pushed into a session that is busy
    with its own click (which restarted it without the click before the fix)."""
    a, b = open_session(room_url()), open_session(room_url())
    trackers = {page: run_tracker(page) for page in (a, b)}

    def click(page: Page, label: str) -> int:
        sent = trackers[page].rerun_requests
        button(page, label).click(delay=0, no_wait_after=True)
        return sent

    def processed(page: Page, sent: int) -> None:
        tracker = trackers[page]
        tracker.wait(
            page,
            lambda: (
                tracker.rerun_requests > sent
                and tracker.last_finished_request >= tracker.rerun_requests
            ),
            "the click's run",
            10_000,
        )

    for round_no in range(1, 4):
        for _ in range(10):
            sent_a, sent_b = click(a, "A+1"), click(b, "B+1")
            processed(a, sent_a)
            processed(b, sent_b)
        expected = f"clicks a={10 * round_no} b={10 * round_no}"
        for page in (a, b):
            try:
                expect(page.get_by_text(expected)).to_be_visible(timeout=20_000)
            except AssertionError:
                shown = page.get_by_text("clicks a=").inner_text()
                raise AssertionError(f"expected {expected!r}, page shows {shown!r}") from None
    _no_errors(server, a, b)


def test_incoming_change_does_not_wipe_what_someone_is_typing(
    open_session, room_url, server
) -> None:
    a, b = open_session(room_url()), open_session(room_url())
    beta = text_input(b, "Beta")
    beta.click()
    beta.type("half-typed, not committed")  # no Enter: still only in B's browser
    type_and_commit(a, "Alpha", "meanwhile from A")
    expect(text_input(b, "Alpha")).to_have_value("meanwhile from A")
    wait_idle(b)
    assert beta.input_value() == "half-typed, not committed"
    assert "Session State API" not in server.log_text()
