"""Every app in ``examples/`` under a real ``streamlit run``, two real browser sessions each.

Each example gets one server for the whole module (started the first time a test needs
it), on its own store; tests assert what the people see.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from .helpers import (
    button,
    close_session,
    exceptions_on_page,
    screenshot_path,
    screenshot_side_by_side,
    set_slider,
    set_text_area,
    slider_value,
    text_area,
    text_input,
    type_and_commit,
    wait_for_text,
    wait_idle,
)
from .helpers_chat import (
    at_once,
    chat_messages,
    choose_in_form,
    click_fast,
    expect_metric,
    markdown_texts,
    send_chat,
    send_text_input,
    sidebar_new_room,
    sidebar_pick_room,
    wait_for_chat,
    wait_until,
)
from .server import StreamlitAppFactory, StreamlitServer

pytestmark = pytest.mark.e2e

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

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
        at_once([(a, lambda: click_fast(a, "Increment")), (b, lambda: click_fast(b, "Increment"))])
    expect_metric([a, b], "Count", "20")
    for _ in range(3):
        at_once([(a, lambda: click_fast(a, "Decrement")), (b, lambda: click_fast(b, "Decrement"))])
    expect_metric([a, b], "Count", "14")
    _clean(server, a, b)


def test_slider_moves_on_every_page(open_session, example) -> None:
    server = example("slider")
    a, b = open_session(server.url), open_session(server.url)
    set_slider(a, "Level", 70)
    wait_for_text(b, "70 squared is 4900")
    assert slider_value(b, "Level") == "70"
    set_slider(b, "Level", 35)
    wait_for_text(a, "35 squared is 1225")
    assert slider_value(a, "Level") == "35"
    newcomer = open_session(server.url)
    wait_for_text(newcomer, "35 squared is 1225")
    expect(newcomer.get_by_test_id("crdt-presence")).to_contain_text("3 here")
    _clean(server, a, b, newcomer)


def _send_concurrently(
    pages: dict[str, Page], count: int, send: Callable[[Page, str], None], *, start: int = 0
) -> None:
    """Every sender sends message i at the same moment, for i in range(start, count)."""
    for i in range(start, count):
        at_once(
            [
                (page, lambda page=page, text=f"{who} says {i}": send(page, text))  # type: ignore[misc]
                for who, page in pages.items()
            ]
        )


def _check_all_kept_in_one_order(pages: list[Page], names: list[str], count: int) -> list[str]:
    seen = [wait_for_chat(page, len(names) * count) for page in pages]
    first = seen[0]
    expected = {f"{who} says {i}" for who in names for i in range(count)}
    said = [text.split(": ", 1)[1] for text in first]
    assert len(said) == len(expected), f"lost or duplicated: {said}"
    assert set(said) == expected
    for who in names:  # each sender's messages stay in the order they were sent
        mine = [s for s in said if s.startswith(f"{who} says ")]
        assert mine == [f"{who} says {i}" for i in range(count)]
    for other in seen[1:]:
        assert other == first, "pages show different orders"
    return first


def test_chat_keeps_every_message_from_simultaneous_senders(
    open_session, example, tmp_path: Path
) -> None:
    server = example("chat")
    ann, bob = open_session(server.url), open_session(server.url)
    for page, name in ((ann, "ann"), (bob, "bob")):
        type_and_commit(page, "Your name", name)
    _send_concurrently({"ann": ann, "bob": bob}, 3, send_chat)
    for page in (ann, bob):
        wait_for_chat(page, 6)
    screenshot_side_by_side([ann, bob], screenshot_path("chat.png", tmp_path), full_page=False)
    _send_concurrently({"ann": ann, "bob": bob}, 20, send_chat, start=3)
    _check_all_kept_in_one_order([ann, bob], ["ann", "bob"], 20)
    late = open_session(server.url)
    assert wait_for_chat(late, 40) == chat_messages(ann)
    _clean(server, ann, bob, late)


def test_chat_rooms_keep_rooms_apart_and_show_who_is_here(open_session, example) -> None:
    server = example("chat_rooms")
    ann, bob = open_session(server.url), open_session(server.url)
    type_and_commit(ann, "Display name", "Ann")
    type_and_commit(bob, "Display name", "Bob")
    presence = ann.get_by_test_id("crdt-presence")
    expect(presence).to_contain_text("2 here")
    expect(presence).to_contain_text("Bob")
    expect(bob.get_by_test_id("crdt-presence")).to_contain_text("Ann")
    at_once([(ann, lambda: send_chat(ann, "hello general"))])
    assert wait_for_chat(bob, 1) == ["Ann: hello general"]

    sidebar_new_room(bob, "random")
    wait_for_text(bob, "# random")
    at_once([(bob, lambda: send_chat(bob, "hi random"))])
    assert wait_for_chat(bob, 1) == ["Bob: hi random"]
    carol = open_session(server.url)
    type_and_commit(carol, "Display name", "Carol")
    sidebar_pick_room(carol, "random")
    wait_for_text(carol, "# random")
    assert wait_for_chat(carol, 1) == ["Bob: hi random"]
    expect(bob.get_by_test_id("crdt-presence")).to_contain_text("Carol")
    at_once([(ann, lambda: send_chat(ann, "still general"))])
    assert wait_for_chat(ann, 2) == ["Ann: hello general", "Ann: still general"]
    assert chat_messages(bob) == ["Bob: hi random"]
    assert chat_messages(carol) == ["Bob: hi random"]
    close_session(carol)
    expect(bob.get_by_test_id("crdt-presence")).not_to_contain_text("Carol")
    _clean(server, ann, bob)


def test_notes_form_travels_on_save_and_typing_at_once_merges(open_session, example) -> None:
    server = example("notes")
    a, b = open_session(server.url), open_session(server.url)
    text_input(a, "Meeting").fill("Kickoff")
    set_text_area(a, "Notes", "Agenda: budget, hiring")
    expect(text_area(b, "Notes")).to_have_value("Agenda: budget, hiring")
    assert text_input(b, "Meeting").input_value() == ""  # not saved yet
    choose_in_form(a, "Status", "held")
    at_once([(a, lambda: button(a, "Save").click())])
    expect(text_input(b, "Meeting")).to_have_value("Kickoff")
    expect(b.get_by_test_id("stSelectbox").get_by_role("combobox")).to_have_value("held")
    # Two people type into the notes at the same moment, at different places.
    text_area(a, "Notes").fill("Team agenda: budget, hiring")
    text_area(b, "Notes").fill("Agenda: budget, hiring, party")
    at_once(
        [
            (a, lambda: text_area(a, "Notes").press("Control+Enter")),
            (b, lambda: text_area(b, "Notes").press("Control+Enter")),
        ]
    )
    for page in (a, b):
        expect(text_area(page, "Notes")).to_have_value("Team agenda: budget, hiring, party")
    _clean(server, a, b)


def test_migrated_server_state_chat_keeps_every_message(open_session, example) -> None:
    server = example("migrated_server_state_chat")
    ann, bob = open_session(server.url), open_session(server.url)
    for page, name in ((ann, "ann"), (bob, "bob")):
        wait_for_text(page, "Choose a nickname to chat.")
        type_and_commit(page, "Nickname", name)
    _send_concurrently(
        {"ann": ann, "bob": bob}, 20, lambda page, text: send_text_input(page, "Message", text)
    )
    first = None
    for page in (ann, bob):
        lines = wait_until(
            page,
            _said,
            lambda said: len(said) >= 40,  # type: ignore[arg-type]
            "40 messages",
            timeout=20_000,
        )
        assert len(lines) == 40 and len(set(lines)) == 40, lines  # type: ignore[arg-type]
        first = first or lines
        assert lines == first, "pages show different orders"
    _clean(server, ann, bob)


def _said(page: Page) -> list[str]:
    return [t for t in markdown_texts(page) if " says " in t]


def test_filters_reset_by_anyone_and_teams_kept_apart(open_session, example) -> None:
    """examples/filters.py: defaults in session state, a Reset callback, a team picked in
    a selectbox (issue 12 cases 1, 2 and 11, in the example users copy)."""
    from .helpers import selectbox_choose

    server = example("filters")
    a, b = open_session(server.url), open_session(server.url)
    wait_for_text(a, "Team red: level 50 in North")
    set_slider(a, "Level", 70)
    wait_for_text(b, "Team red: level 70 in North")
    button(b, "Reset filters").click()
    for page in (a, b):
        wait_for_text(page, "Team red: level 50 in North")
        wait_idle(page)
    set_slider(b, "Level", 30)
    wait_for_text(a, "Team red: level 30 in North")
    selectbox_choose(b, "Team", "blue")
    wait_for_text(b, "Team blue: level 50 in North")  # red's 30 stays in red
    set_slider(b, "Level", 80)
    wait_for_text(b, "Team blue: level 80 in North")
    assert slider_value(a, "Level") == "30"
    newcomer = open_session(server.url)
    wait_for_text(newcomer, "Team red: level 30 in North")
    _clean(server, a, b, newcomer)
