"""Pattern catalogue, session state: callbacks that set state, defaults put in
``st.session_state`` first, derived values, chat dicts, keyless widgets.

Each app is written as Streamlit's docs show the pattern, wrapped in ``crdt_sync.sync``;
each test drives two or three real browsers and checks what every person sees.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from .helpers import (
    button,
    number_input,
    selectbox_choose,
    selectbox_value,
    set_number_input,
    set_slider,
    slider,
    slider_value,
    widget,
)
from .helpers_chat import send_chat
from .helpers_patterns import (
    PatternApps,
    click_and_wait,
    fresh_room,
    has_value,
    no_exceptions,
    person,
    shows,
)

pytestmark = pytest.mark.e2e


# ------------------------------------------------------------------ 1. reset callback

RESET_APP = """
import streamlit as st
import crdt_sync

room = st.query_params.get("room", "lobby")


def reset_filters():
    st.session_state.level = 50
    st.session_state.region = "All"


with crdt_sync.sync(room):
    st.slider("Level", 0, 100, 50, key="level")
    st.selectbox("Region", ["All", "North", "South"], key="region")
    st.button("Reset filters", on_click=reset_filters)

st.write(f"Showing level {st.session_state.level} in {st.session_state.region}")
"""


def test_reset_button_callback_resets_every_page(apps: PatternApps, open_session, request):
    """Issue 12, case 1: B clicks Reset after A changed the filters: both pages reset."""
    url = apps.url("reset", RESET_APP, fresh_room(request))
    a = person("A", open_session(url))
    b = person("B", open_session(url))
    set_slider(a, "Level", 80)
    selectbox_choose(a, "Region", "North")
    for who, page in (("A", a), ("B", b)):
        shows(page, "Showing level 80 in North", who)
    click_and_wait(b, button(b, "Reset filters"))
    for who, page in (("A", a), ("B", b)):
        shows(page, "Showing level 50 in All", who)
        expect(slider(page, "Level")).to_have_value("50")
        assert selectbox_value(page, "Region") == "All", f"{who}'s Region"
    c = person("C", open_session(url))
    shows(c, "Showing level 50 in All")
    # And A can change it again afterwards; B sees that.
    set_slider(a, "Level", 60)
    shows(b, "Showing level 60 in All")
    assert slider_value(b, "Level") == "60"
    no_exceptions(a, b, c)


# ------------------------------------------------------------------ 2. defaults first

DEFAULTS_APP = """
import streamlit as st
import crdt_sync

room = st.query_params.get("room", "lobby")

if "color" not in st.session_state:
    st.session_state.color = "Blue"
if "size" not in st.session_state:
    st.session_state.size = 3

with crdt_sync.sync(room):
    st.selectbox("Color", ["Red", "Green", "Blue"], key="color")
    st.number_input("Size", min_value=1, max_value=10, key="size")

st.write(f"A size {st.session_state.size} {st.session_state.color} shirt")
"""


def test_session_state_defaults_then_widget_is_shared(apps: PatternApps, open_session, request):
    """Issue 12, case 2: defaults in st.session_state first, then the widget (no value=):
    A's choice reaches B and a page opened afterwards."""
    url = apps.url("defaults", DEFAULTS_APP, fresh_room(request))
    a = person("A", open_session(url))
    b = person("B", open_session(url))
    for who, page in (("A", a), ("B", b)):
        shows(page, "A size 3 Blue shirt", who)
    selectbox_choose(a, "Color", "Green")
    set_number_input(a, "Size", 7)
    for who, page in (("A", a), ("B", b)):
        shows(page, "A size 7 Green shirt", who)
        has_value(number_input(page, "Size"), "7", f"{who}'s Size")
        assert selectbox_value(page, "Color") == "Green", f"{who}'s Color"
    c = person("C", open_session(url))  # its defaults are not an edit: it shows the room's choice
    shows(c, "A size 7 Green shirt")
    assert selectbox_value(c, "Color") == "Green"
    for who, page in (("A", a), ("B", b)):
        shows(page, "A size 7 Green shirt", who)
    # The newcomer's own change reaches the others.
    selectbox_choose(c, "Color", "Red")
    for who, page in (("A", a), ("B", b), ("C", c)):
        shows(page, "A size 7 Red shirt", who)
    no_exceptions(a, b, c)


# ------------------------------------------------------------------ callbacks deriving state

CONVERTER_APP = """
import streamlit as st
import crdt_sync

room = st.query_params.get("room", "lobby")


def celsius_changed():
    st.session_state.fahrenheit = st.session_state.celsius * 9 / 5 + 32


def fahrenheit_changed():
    st.session_state.celsius = (st.session_state.fahrenheit - 32) * 5 / 9


def add_one():
    st.session_state.count += 1


with crdt_sync.sync(room):
    st.number_input("Celsius", value=0.0, step=1.0, key="celsius", on_change=celsius_changed)
    st.number_input(
        "Fahrenheit", value=32.0, step=1.0, key="fahrenheit", on_change=fahrenheit_changed
    )
    if "count" not in st.session_state:
        st.session_state.count = 0
    st.button("Add one", on_click=add_one)

st.write(f"{st.session_state.celsius:.1f} C is {st.session_state.fahrenheit:.1f} F")
st.write(f"Count = {st.session_state.count}")
"""


def test_on_change_callbacks_that_set_other_keys(apps: PatternApps, open_session, request):
    """A callback derives one shared value from another (Streamlit's docs' converter) and a
    counter goes up in ``on_click``: every page shows both values, whoever changed them."""
    url = apps.url("converter", CONVERTER_APP, fresh_room(request))
    a = person("A", open_session(url))
    b = person("B", open_session(url))
    set_number_input(a, "Celsius", 100)
    for who, page in (("A", a), ("B", b)):
        shows(page, "100.0 C is 212.0 F", who)
        has_value(number_input(page, "Fahrenheit"), "212.00", f"{who}'s Fahrenheit")
    set_number_input(b, "Fahrenheit", 50)
    for who, page in (("A", a), ("B", b)):
        shows(page, "10.0 C is 50.0 F", who)
        has_value(number_input(page, "Celsius"), "10.00", f"{who}'s Celsius")
    click_and_wait(a, button(a, "Add one"))
    click_and_wait(a, button(a, "Add one"))
    shows(b, "Count = 2")
    click_and_wait(b, button(b, "Add one"))
    for who, page in (("A", a), ("B", b)):
        shows(page, "Count = 3", who)
    c = person("C", open_session(url))
    shows(c, "10.0 C is 50.0 F")
    shows(c, "Count = 3")
    no_exceptions(a, b, c)


# ------------------------------------------------------------------ 12. chat dicts keep order

CHAT_APP = """
import streamlit as st
import crdt_sync

room = st.query_params.get("room", "lobby")
if "nickname" not in st.session_state:
    st.session_state.nickname = st.query_params.get("name", "anon")

messages = crdt_sync.shared_state(room).list("msgs")
if text := st.chat_input("Say something"):
    messages.append({"nickname": st.session_state.nickname, "text": text})

for msg in messages:
    st.markdown(" | ".join(f"{k}={v}" for k, v in msg.items()))
    st.json(msg)
"""


def test_chat_message_dicts_read_back_in_written_key_order(
    apps: PatternApps, open_session, request
):
    """Issue 12, case 12: a dict appended as {"nickname": ..., "text": ...} reads back with
    nickname first on every page, for every message."""
    room = fresh_room(request)
    a = person("A", open_session(apps.url("chat", CHAT_APP, room, name="ann")))
    b = person("B", open_session(apps.url("chat", CHAT_APP, room, name="bob")))
    expected = []
    for i in range(4):
        for page, who in ((a, "ann"), (b, "bob")):
            send_chat(page, f"hello {i} from {who}")
            expected.append(f"nickname={who} | text=hello {i} from {who}")
            shows(page, expected[-1])
    c = person("C", open_session(apps.url("chat", CHAT_APP, room, name="cy")))
    for who, page in (("A", a), ("B", b), ("C", c)):
        for line in expected:
            shows(page, line, who)
        for shown in page.get_by_test_id("stJson").all_inner_texts():
            assert shown.find("nickname") < shown.find("text"), (
                f"{who}'s page shows a message with text before nickname: {shown!r}"
            )
    no_exceptions(a, b, c)


# ------------------------------------------------------------------ 13. keyless widget notice

KEYLESS_APP = """
import streamlit as st
import crdt_sync

room = st.query_params.get("room", "lobby")
with crdt_sync.sync(room):
    y = st.slider("Select a value", 0, 10)
    st.text_input("Team name", key="team")
st.write(y, "squared is", y * y)
"""


def test_widget_without_key_is_named_in_a_notice(apps: PatternApps, open_session, request):
    """Issue 12, case 13: a keyless widget inside sync is not shared; while the app runs in
    development (a plain local ``streamlit run``), the page says so, naming the widget, and
    so does the log. The keyed widget beside it is shared as usual."""
    url = apps.url("keyless", KEYLESS_APP, fresh_room(request))
    a = person("A", open_session(url))
    b = person("B", open_session(url))
    srv = apps.server("keyless", KEYLESS_APP)
    for who, page in (("A", a), ("B", b)):
        notice = (
            page.get_by_test_id("stApp")
            .locator(
                "[data-testid=stAlert], [data-testid=stNotification], [data-testid=stToast],"
                " [data-testid=stCaptionContainer], [data-testid=stMarkdownContainer]"
            )
            .filter(has_text="Select a value")
            .filter(has_text=re.compile(r"key", re.IGNORECASE))
        )
        try:
            expect(notice.first).to_be_visible(timeout=10_000)
        except AssertionError:
            raise AssertionError(
                f"{who}'s page shows no notice naming the keyless slider 'Select a value'; "
                f"it shows:\n{page.get_by_test_id('stMainBlockContainer').inner_text()}"
            ) from None
    assert "Select a value" in srv.log_text(), "the server log does not name the keyless slider"
    # The keyed widget next to it is still shared.
    field = widget(a, "stTextInput", "Team name").locator("input")
    field.fill("Owls")
    field.press("Enter")
    has_value(widget(b, "stTextInput", "Team name").locator("input"), "Owls", "B's Team name")


COMPAT_API_APP = """
import streamlit as st
from crdt_sync.compat import streamlit_sync

missing = [
    name
    for owner, name in [
        (streamlit_sync, "enter_room"),
        (streamlit_sync, "exit_room"),
        (streamlit_sync, "delete_room"),
        (streamlit_sync.rooms, "delete_room"),
    ]
    if not callable(getattr(owner, name, None))
]
st.write(f"missing: {', '.join(missing) or 'nothing'}")
"""


def test_compat_streamlit_sync_has_the_room_functions(apps: PatternApps, open_session, request):
    """Issue 12, case 13: streamlit-sync's top-level enter_room / exit_room / delete_room
    and rooms.delete_room exist in the compat module."""
    a = person("A", open_session(apps.url("compat-api", COMPAT_API_APP, fresh_room(request))))
    shows(a, re.compile(r"^missing: "))
    shows(a, "missing: nothing")
    no_exceptions(a)
