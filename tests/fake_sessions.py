"""Several Streamlit sessions played in one process, for unit tests of the bridge.

``FakeSessions`` replaces what `crdt_sync.bridge.runtime` reads from Streamlit (which
session and fragment is running, session ends, rerun pushes) and gives every test a fresh
in-memory store and registry. ``with sessions.act("A"):`` runs code as session A;
``sessions.flush()`` does what Streamlit's event loop does once the runs have ended: it
reruns each pushed session whose push is still needed, and returns them.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from crdt_sync.bridge import runtime, sessions, state
from crdt_sync.compat import server_state as server_state_module
from crdt_sync.doc import config as process_config


class FakeScheduler:
    """Records pushes the way `RerunScheduler` coalesces them (one pending set per session)."""

    def __init__(self) -> None:
        self.pending: dict[str, set[str | None]] = {}
        self.checks: dict[str, Callable[[], bool]] = {}
        self.log: list[tuple[str, frozenset[str | None]]] = []

    def push(
        self,
        session: str,
        fragments: set[str | None],
        still_needed: Callable[[], bool] | None = None,
    ) -> bool:
        self.pending.setdefault(session, set()).update(fragments or {None})
        if still_needed is not None:
            self.checks[session] = still_needed
        self.log.append((session, frozenset(fragments)))
        return True

    def forget(self, session: str) -> None:
        self.pending.pop(session, None)
        self.checks.pop(session, None)


class FakeSessionState(dict[str, Any]):
    """``st.session_state`` of one fake session."""


class FakeSessions:
    """Fake Streamlit sessions; see the module docstring."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(process_config, "_hub", None)
        monkeypatch.setattr(process_config, "_spec", None)
        self.hub = process_config.configure("memory")
        self.registry = sessions.Registry()
        real = sessions.registry
        for name, module in list(sys.modules.items()):
            if name.startswith("crdt_sync.") and getattr(module, "registry", None) is real:
                monkeypatch.setattr(module, "registry", self.registry)
        monkeypatch.setattr(state, "_detached", {})
        self.scheduler = FakeScheduler()
        monkeypatch.setattr(runtime, "scheduler", self.scheduler)
        self._local = threading.local()
        monkeypatch.setattr(runtime, "session_id", lambda: getattr(self._local, "session", None))
        monkeypatch.setattr(runtime, "fragment_id", lambda: getattr(self._local, "fragment", None))
        self.ends: dict[str, Callable[[str], None]] = {}
        monkeypatch.setattr(runtime, "on_session_end", self._on_session_end)
        self.states: dict[str, FakeSessionState] = {}
        fake_st = _FakeStreamlit(self)
        monkeypatch.setattr(server_state_module, "st", fake_st)

    def _on_session_end(self, session: str, callback: Callable[[str], None]) -> None:
        self.ends.setdefault(session, callback)  # like the session-scoped cache: once

    @contextmanager
    def act(self, session: str | None, fragment: str | None = None) -> Iterator[None]:
        """Run the block as ``session`` (None: outside Streamlit), in ``fragment``."""
        before = getattr(self._local, "session", None), getattr(self._local, "fragment", None)
        self._local.session, self._local.fragment = session, fragment
        try:
            yield
        finally:
            self._local.session, self._local.fragment = before

    def session_state(self) -> FakeSessionState:
        session = getattr(self._local, "session", None)
        return self.states.setdefault(session or "", FakeSessionState())

    def pushed(self) -> set[str]:
        """Sessions with a pending push (needed or not), without flushing."""
        return set(self.scheduler.pending)

    def flush(self) -> dict[str, set[str | None]]:
        """Rerun what Streamlit would rerun now: pending pushes whose check still holds."""
        done: dict[str, set[str | None]] = {}
        for session, fragments in list(self.scheduler.pending.items()):
            check = self.scheduler.checks.pop(session, None)
            del self.scheduler.pending[session]
            if check is None or check():
                done[session] = fragments
        return done

    def close_tab(self, session: str) -> None:
        """The tab of ``session`` closes: its session-scoped resource is released."""
        callback = self.ends.pop(session, None)
        if callback is not None:
            callback(session)


class _FakeStreamlit:
    """Just ``st.session_state``, per fake session."""

    def __init__(self, sessions: FakeSessions) -> None:
        self._sessions = sessions

    @property
    def session_state(self) -> FakeSessionState:
        return self._sessions.session_state()
