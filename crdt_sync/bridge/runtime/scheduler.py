"""Pushing reruns into other sessions: on Streamlit's event loop, never mid-run, coalesced."""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from typing import Any

from .clicks import has_click
from .context import warn_once

log = logging.getLogger("crdt_sync.runtime")

# Seconds between checks of a session that is mid-run before pushing a rerun into it.
MID_RUN_RETRY = 0.01
HOLD_MAX = 120.0
"""Longest a session is held away from pushed reruns (its release may never come: the
tab was closed mid-edit)."""

POLL_ENV = "CRDT_SYNC_POLL"


def rerun_supported() -> bool:
    """Whether reruns can be pushed into other sessions in this Streamlit.

    False when the internals this relies on are gone (or ``CRDT_SYNC_POLL=1`` asks for the
    fallback): sessions then poll for changes with a public ``st.fragment(run_every=...)``.
    """
    if os.environ.get(POLL_ENV) == "1":
        return False
    try:
        from streamlit.runtime import Runtime
        from streamlit.runtime.app_session import AppSession

        return (
            Runtime.exists()
            and hasattr(Runtime.instance(), "_get_async_objs")
            and hasattr(AppSession, "request_rerun")
        )
    except Exception as exc:
        warn_once("Runtime / AppSession", exc)
        return False


class RerunScheduler:
    """Pushes reruns into other sessions, safely and sparingly.

    A push is done on Streamlit's event loop with the session's own client state (so the
    person stays on their page with their query parameters), never into a session that is
    mid-run (it would restart that run without the click it was processing; the push waits
    until the run ends) nor into a session that is held (`hold`), and bursts collapse into
    one rerun per session. A push for
    fragments reruns only those fragments.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        # session id -> fragment ids to rerun (None in the set means: the whole app)
        self._pending: dict[str, set[str | None]] = {}
        self._scheduled: set[str] = set()
        self._checks: dict[str, Callable[[], bool]] = {}
        self._held: dict[str, float] = {}  # session id -> monotonic time the hold expires
        # session id -> the page's own requests waiting for a run handling a click to end
        self._deferred: dict[str, list[Any]] = {}

    def defer(self, session: str, client_state: Any) -> None:
        """Start the page's rerun request ``client_state`` once the session's run ends.

        Requests start in the order the page sent them; a waiting request without a click
        is dropped when a newer one comes (the newer carries every widget's value).
        Called on Streamlit's event loop.
        """
        with self._lock:
            waiting = self._deferred.setdefault(session, [])
            waiting[:] = [cs for cs in waiting if has_click(cs)]
            waiting.append(client_state)
            if session in self._scheduled:
                return
            self._scheduled.add(session)
        loop = self._loop()
        if loop is not None:
            loop.call_soon(self._flush, session)

    def hold(self, session: str, seconds: float = HOLD_MAX) -> None:
        """Keep pushed reruns away from ``session`` until `release` (or ``seconds`` pass).

        For a person in the middle of something a rerun would disturb.
        """
        with self._lock:
            self._held[session] = time.monotonic() + seconds

    def release(self, session: str) -> None:
        """Let pushes reach ``session`` again; what was held back is pushed now."""
        with self._lock:
            held = self._held.pop(session, None) is not None
            waiting = held and bool(self._pending.get(session)) and session not in self._scheduled
            if waiting:
                self._scheduled.add(session)
        loop = self._loop() if waiting else None
        if loop is not None:
            loop.call_soon_threadsafe(self._flush, session)

    def push(
        self,
        session: str,
        fragments: set[str | None],
        still_needed: Callable[[], bool] | None = None,
    ) -> bool:
        """Ask ``session`` to rerun (the whole app if ``None`` is in ``fragments``).

        Args:
            session: The session id.
            fragments: Fragment ids whose sync blocks must rerun; ``None`` for the app.
            still_needed: Checked right before pushing; a session that already caught up
                in a run of its own is not rerun again.

        Returns:
            False if reruns cannot be pushed in this Streamlit.
        """
        loop = self._loop()
        log.debug("push %s %s loop=%s", session[:6], fragments, loop is not None)
        if loop is None:
            return False
        with self._lock:
            self._pending.setdefault(session, set()).update(fragments or {None})
            if still_needed is not None:
                self._checks[session] = still_needed
            if session in self._scheduled:
                return True
            self._scheduled.add(session)
        loop.call_soon_threadsafe(self._flush, session)
        return True

    def forget(self, session: str) -> None:
        """Drop anything pending for a session that ended."""
        with self._lock:
            self._pending.pop(session, None)
            self._checks.pop(session, None)
            self._held.pop(session, None)
            self._deferred.pop(session, None)

    def _held_for(self, session: str) -> float:
        """Seconds left on a hold of ``session`` (0 if none)."""
        with self._lock:
            until = self._held.get(session)
            if until is None:
                return 0.0
            left = until - time.monotonic()
            if left <= 0:
                del self._held[session]
                return 0.0
            return left

    def _loop(self) -> Any:
        try:
            from streamlit.runtime import Runtime

            if not Runtime.exists():
                return None
            return Runtime.instance()._get_async_objs().eventloop
        except Exception as exc:
            warn_once("Runtime event loop", exc)
            return None

    def _flush(self, session_id: str) -> None:
        """Runs on Streamlit's event loop."""
        try:
            from streamlit.proto.ClientState_pb2 import ClientState
            from streamlit.runtime import Runtime

            session = Runtime.instance().get_app_session(session_id)
            if session is None:
                log.debug(
                    "flush %s: session gone; active=%s",
                    session_id[:6],
                    [
                        i.session.id[:6]
                        for i in Runtime.instance()._session_mgr.list_active_sessions()
                    ],
                )
                self.forget(session_id)
                with self._lock:
                    self._scheduled.discard(session_id)
                return
            if session._scriptrunner is not None:
                # Mid-run: restarting now would drop the click it is processing.
                log.debug("flush %s waits: mid-run state=%s", session_id[:6], session._state)
                self._loop().call_later(MID_RUN_RETRY, self._flush, session_id)
                return
            with self._lock:
                waiting = self._deferred.get(session_id)
                request = waiting.pop(0) if waiting else None
                if waiting is not None and not waiting:
                    del self._deferred[session_id]
            if request is not None:
                # The page's own request first; pushes wait for the run it starts.
                log.debug("flush %s starts a request that waited for a click's run", session_id[:6])
                session.request_rerun(request)
                self._loop().call_later(MID_RUN_RETRY, self._flush, session_id)
                return
            held = self._held_for(session_id)
            if held:
                # `release` flushes; the timer only covers a hold that is never released.
                log.debug("flush %s waits: held for %.1fs", session_id[:6], held)
                with self._lock:
                    self._scheduled.discard(session_id)
                self._loop().call_later(held, self._flush_if_idle, session_id)
                return
            with self._lock:
                self._scheduled.discard(session_id)
                fragments = self._pending.pop(session_id, set())
                check = self._checks.pop(session_id, None)
            if not fragments or (check is not None and not check()):
                log.debug("flush %s skipped %s", session_id[:6], fragments)
                return
            log.debug("flush %s rerun %s", session_id[:6], fragments)
            base = session._client_state
            if None in fragments:
                session.request_rerun(base)
                return
            for fid in fragments:
                if fid is not None and session.has_fragment(fid):
                    state = ClientState()
                    state.CopyFrom(base)
                    state.fragment_id = fid
                    session.request_rerun(state)
                else:
                    session.request_rerun(base)
                    return
        except Exception as exc:
            log.debug("flush %s failed", session_id[:6], exc_info=True)
            with self._lock:
                self._scheduled.discard(session_id)
            warn_once("AppSession.request_rerun", exc)

    def _flush_if_idle(self, session_id: str) -> None:
        with self._lock:
            if session_id in self._scheduled or not self._pending.get(session_id):
                return
            self._scheduled.add(session_id)
        self._flush(session_id)


scheduler = RerunScheduler()
