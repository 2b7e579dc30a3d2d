"""crdt_sync.compat.streamlit_sync: streamlit-sync's API on rooms (Streamlit's AppTest)."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import pytest
from fake_sessions import FakeSessions
from streamlit.testing.v1 import AppTest

from crdt_sync.bridge import config, runtime
from crdt_sync.compat import streamlit_sync

SCRIPT = """
import streamlit as st
from crdt_sync.compat import streamlit_sync

room = streamlit_sync.select_room_widget()
with streamlit_sync.sync(room):
    level = st.slider("Level", 0, 10, key="level")
    st.text_input("Nick", key=streamlit_sync.get_not_synced_key("nick"))
    st.write(f"level={level}")
"""


class Apps:
    """AppTest pages, each played as its own Streamlit session."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.sessions = FakeSessions(monkeypatch)
        self.current: str | None = None
        monkeypatch.setattr(runtime, "session_id", lambda: self.current)
        self.pages: dict[str, AppTest] = {}

    def run(self, name: str) -> AppTest:
        page = self.pages.setdefault(name, AppTest.from_string(SCRIPT))
        self.current = name
        try:
            page.run()
        finally:
            self.current = None
        assert not page.exception, page.exception
        return page


@pytest.fixture
def apps(monkeypatch: pytest.MonkeyPatch) -> Apps:
    return Apps(monkeypatch)


def _create(apps: Apps, name: str, room: str) -> AppTest:
    page = apps.run(name)
    page.sidebar.text_input(key=streamlit_sync.get_not_synced_key("streamlit_sync_new_name")).input(
        room
    )
    page.sidebar.button[0].click()
    return apps.run(name)


def test_no_room_yet_shows_only_the_room_picker(apps: Apps) -> None:
    page = apps.run("A")
    assert [t.value for t in page.sidebar.title] == ["Select a synced room"]
    assert len(page.slider) == 0  # the rest of the app waits for a room (st.stop)


def test_rooms_are_entered_shared_and_left(apps: Apps) -> None:
    a = _create(apps, "A", "alpha")
    assert [e.label for e in a.sidebar.expander] == ["Synced room “alpha” (1 active session)"]
    a.slider(key="level").set_value(7)
    apps.run("A")

    b = apps.run("B")
    assert b.sidebar.radio[0].options == ["Create a new room", "alpha (1 active session)"]
    b.sidebar.radio[0].set_value("alpha")
    b = apps.run("B")
    assert b.slider(key="level").value == 7  # a newcomer sees the room
    b.text_input(key=streamlit_sync.get_not_synced_key("nick")).input("bee")
    b.slider(key="level").set_value(3)
    apps.run("B")
    a = apps.run("A")
    assert a.slider(key="level").value == 3
    assert a.text_input(key=streamlit_sync.get_not_synced_key("nick")).value == ""
    assert a.sidebar.expander[0].label == "Synced room “alpha” (2 active sessions)"

    # B leaves: its values are reset, the room keeps them, A stays.
    b.sidebar.button[0].click()
    b = apps.run("B")
    assert [t.value for t in b.sidebar.title] == ["Select a synced room"]
    assert "level" not in b.session_state
    assert [m.session for m in apps.sessions.registry.members("alpha")] == ["A"]
    assert apps.run("A").slider(key="level").value == 3


def test_enter_and_exit_from_code(apps: Apps) -> None:
    script = """
import streamlit as st
from crdt_sync.compat import streamlit_sync
if st.button("go"):
    streamlit_sync.rooms.enter_room("beta")
if st.button("leave"):
    streamlit_sync.rooms.exit_room()
"""
    page = AppTest.from_string(script)
    apps.current = "A"
    page.run()
    page.button[0].click().run()
    assert page.session_state[streamlit_sync.ROOM_KEY] == "beta"
    page.button[1].click().run()
    assert streamlit_sync.ROOM_KEY not in page.session_state
    page.button[1].click().run()
    assert page.exception[0].message == "cannot exit a room: this session is in no room"


def test_not_synced_key_is_private() -> None:
    key = streamlit_sync.get_not_synced_key("username")
    assert key != "username" and key.endswith("username")


def test_rooms_live_in_memory_unless_a_cache_dir_or_store_is_given(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, process_config: ModuleType
) -> None:
    monkeypatch.delenv(config.ENV_VAR, raising=False)
    with streamlit_sync.sync(None) as room:
        assert room is None
    assert config.configured_store() == "memory"
    config.hub().close()
    monkeypatch.setattr(process_config, "_hub", None)
    monkeypatch.setattr(process_config, "_spec", None)
    with streamlit_sync.sync(None, cache_dir=tmp_path / "cache"):
        pass
    assert config.configured_store() == f"diskcache:{tmp_path / 'cache'}"


def test_top_level_room_functions_exist_like_streamlit_sync() -> None:
    """Issue 12 case 13: streamlit-sync has enter_room, exit_room and delete_room at the top
    level and rooms.delete_room; apps calling them got an AttributeError."""
    for name in ("enter_room", "exit_room", "delete_room"):
        assert callable(getattr(streamlit_sync, name))
    assert streamlit_sync.rooms.delete_room is streamlit_sync.delete_room


def test_delete_room_empties_it_for_everyone_in_it(apps: Apps) -> None:
    a = _create(apps, "A", "alpha")
    a.slider(key="level").set_value(7)
    apps.run("A")
    room = config.hub().open("alpha")
    assert room["level"] == 7
    config.hub().release("alpha")
    streamlit_sync.delete_room("alpha")
    assert "level" not in config.hub().open("alpha")
    config.hub().release("alpha")
    with pytest.raises(ValueError, match="room name"):
        streamlit_sync.delete_room("")
