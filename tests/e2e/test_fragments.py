"""A `sync` block inside `st.fragment` reruns only that fragment in other sessions."""

from __future__ import annotations

import re
import textwrap

import pytest
from playwright.sync_api import expect

from .helpers import text_input, type_and_commit
from .server import StreamlitAppFactory

pytestmark = pytest.mark.e2e

APP = textwrap.dedent(
    """
    import streamlit as st
    import crdt_sync

    st.session_state["full_runs"] = st.session_state.get("full_runs", 0) + 1
    st.write(f"full runs: {st.session_state['full_runs']}")

    @st.fragment
    def panel():
        st.session_state["panel_runs"] = st.session_state.get("panel_runs", 0) + 1
        with crdt_sync.sync("frag"):
            st.text_input("Shared", key="shared_text")
        st.write(f"panel runs: {st.session_state['panel_runs']}")

    panel()
    """
)


def test_change_reruns_only_the_fragment_in_other_sessions(
    open_session, streamlit_app: StreamlitAppFactory, tmp_path
) -> None:
    srv = streamlit_app.start(APP, env={"CRDT_SYNC_STORE": f"diskcache:{tmp_path / 's'}"})
    a, b = open_session(srv.url), open_session(srv.url)
    full_before = b.get_by_text(re.compile(r"full runs: \d+")).inner_text()
    panel_before = int(b.get_by_text(re.compile(r"panel runs: \d+")).inner_text().split()[-1])
    for i in range(3):
        type_and_commit(a, "Shared", f"value {i}")
        expect(text_input(b, "Shared")).to_have_value(f"value {i}")
    panel_after = int(b.get_by_text(re.compile(r"panel runs: \d+")).inner_text().split()[-1])
    assert panel_after > panel_before
    assert b.get_by_text(re.compile(r"full runs: \d+")).inner_text() == full_before
    srv.assert_clean_log()


def test_polling_fallback_still_brings_changes(
    open_session, streamlit_app: StreamlitAppFactory, tmp_path
) -> None:
    """Without Streamlit's internals (simulated with CRDT_SYNC_POLL=1), pages poll."""
    app = textwrap.dedent(
        """
        import streamlit as st
        import crdt_sync
        with crdt_sync.sync("poll"):
            st.text_input("Shared", key="shared_text")
        """
    )
    srv = streamlit_app.start(
        app, env={"CRDT_SYNC_STORE": f"diskcache:{tmp_path / 's'}", "CRDT_SYNC_POLL": "1"}
    )
    a, b = open_session(srv.url), open_session(srv.url)
    type_and_commit(a, "Shared", "arrives by polling")
    expect(text_input(b, "Shared")).to_have_value("arrives by polling", timeout=10_000)
    assert "polling every" in srv.log_text()
