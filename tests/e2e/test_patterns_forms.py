"""Pattern catalogue, forms: values travel on submit, ``clear_on_submit``, and a form keyed
like its widget (issue 12, case 8)."""

from __future__ import annotations

import pytest

from .helpers import button, number_input, text_input
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


PROFILE_APP = """
import streamlit as st
import crdt_sync

room = st.query_params.get("room", "lobby")
with crdt_sync.sync(room):
    with st.form("profile"):
        st.text_input("Name", key="name")
        st.number_input("Age", min_value=18, max_value=99, value=30, key="age")
        st.form_submit_button("Save profile")
st.write(f"Profile: {st.session_state.name or '-'}, {st.session_state.age}")
"""


def test_form_values_reach_everyone_on_submit(apps: PatternApps, open_session, request):
    url = apps.url("profile", PROFILE_APP, fresh_room(request))
    a = person("A", open_session(url))
    b = person("B", open_session(url))
    text_input(a, "Name").fill("Ann")
    number_input(a, "Age").fill("41")
    click_and_wait(a, button(a, "Save profile"))
    for who, page in (("A", a), ("B", b)):
        shows(page, "Profile: Ann, 41", who)
        has_value(text_input(page, "Name"), "Ann", f"{who}'s Name")
        has_value(number_input(page, "Age"), "41", f"{who}'s Age")
    text_input(b, "Name").fill("Bob")
    click_and_wait(b, button(b, "Save profile"))
    for who, page in (("A", a), ("B", b)):
        shows(page, "Profile: Bob, 41", who)
        has_value(text_input(page, "Name"), "Bob", f"{who}'s Name")
    c = person("C", open_session(url))
    shows(c, "Profile: Bob, 41")
    no_exceptions(a, b, c)


TASKS_APP = """
import streamlit as st
import crdt_sync

room = st.query_params.get("room", "lobby")
tasks = crdt_sync.shared_state(room).list("tasks")
with crdt_sync.sync(room):
    with st.form("new_task", clear_on_submit=True):
        task = st.text_input("Task", key="task")
        owner = st.text_input("Owner", key="owner")
        if st.form_submit_button("Add task") and task:
            tasks.append(f"{task} ({owner or 'nobody'})")
for t in tasks:
    st.markdown(f"- {t}")
st.write(f"{len(tasks)} tasks")
"""


def test_clear_on_submit_form_adds_and_clears_for_everyone(
    apps: PatternApps, open_session, request
):
    url = apps.url("tasks", TASKS_APP, fresh_room(request))
    a = person("A", open_session(url))
    b = person("B", open_session(url))
    text_input(a, "Task").fill("buy milk")
    text_input(a, "Owner").fill("ann")
    click_and_wait(a, button(a, "Add task"))
    shows(b, "1 tasks")
    text_input(b, "Task").fill("call the plumber")
    text_input(b, "Owner").fill("bob")
    click_and_wait(b, button(b, "Add task"))
    c = person("C", open_session(url))
    for who, page in (("A", a), ("B", b), ("C", c)):
        shows(page, "2 tasks", who)
        shows(page, "buy milk (ann)", who)
        shows(page, "call the plumber (bob)", who)
        has_value(text_input(page, "Task"), "", f"{who}'s Task")
        has_value(text_input(page, "Owner"), "", f"{who}'s Owner")
    no_exceptions(a, b, c)


def test_someone_elses_submit_leaves_my_unsubmitted_draft(apps: PatternApps, open_session, request):
    """B is filling in the form when A submits it: A's submit clears A's form, and B's
    draft (not submitted, nobody else's) stays on B's page; B then submits it."""
    url = apps.url("tasks", TASKS_APP, fresh_room(request))
    a = person("A", open_session(url))
    b = person("B", open_session(url))
    text_input(b, "Task").fill("water the plants")
    text_input(a, "Task").fill("buy milk")
    click_and_wait(a, button(a, "Add task"))
    shows(b, "1 tasks")
    has_value(text_input(b, "Task"), "water the plants", "B's unsubmitted Task")
    click_and_wait(b, button(b, "Add task"))
    for who, page in (("A", a), ("B", b)):
        shows(page, "2 tasks", who)
        shows(page, "water the plants (nobody)", who)
    no_exceptions(a, b)


CAPACITY_APP = """
import streamlit as st
import crdt_sync

room = st.query_params.get("room", "lobby")
st.title("Venue")
with crdt_sync.sync(room):
    with st.form("capacity"):
        st.number_input("Capacity", min_value=1, max_value=500, value=10, key="capacity")
        st.form_submit_button("Save")
st.write(f"Capacity is {st.session_state.capacity}")
"""


def test_form_keyed_like_its_widget_works_for_later_visitors(
    apps: PatternApps, open_session, request
):
    """Issue 12, case 8: st.form("capacity") around st.number_input(key="capacity"). The
    first visitor saves a value; later visitors get the page (no
    StreamlitValueAssignmentNotAllowedError) showing it, and their saves reach everyone."""
    url = apps.url("capacity", CAPACITY_APP, fresh_room(request))
    a = person("A", open_session(url))
    shows(a, "Capacity is 10")
    number_input(a, "Capacity").fill("42")
    click_and_wait(a, button(a, "Save"))
    shows(a, "Capacity is 42")
    b = person("B", open_session(url))
    no_exceptions(b)
    shows(b, "Capacity is 42")
    has_value(number_input(b, "Capacity"), "42", "B's Capacity")
    number_input(b, "Capacity").fill("7")
    click_and_wait(b, button(b, "Save"))
    shows(a, "Capacity is 7")
    has_value(number_input(a, "Capacity"), "7", "A's Capacity")
    c = person("C", open_session(url))
    shows(c, "Capacity is 7")
    no_exceptions(a, b, c)
