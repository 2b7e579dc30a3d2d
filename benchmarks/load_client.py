"""A headless Streamlit session: Streamlit's own browser protocol, without a browser.

One `Session` is one browser tab as far as the server can tell: a websocket on
``/_stcore/stream`` (subprotocol ``streamlit``), protobuf ``BackMsg`` messages out
(``rerun_script`` carrying a ``ClientState`` with every widget's state, as the frontend
sends it), ``ForwardMsg`` messages in (``new_session``, deltas, ``script_finished``), using
the classes Streamlit ships in ``streamlit.proto``. It keeps what a browser keeps:

- the widgets of the last run, by label, with the value the page holds (the default of a
  new widget, the value the server gave with ``set_value``, the value sent in an edit);
  widgets a full run did not draw are forgotten, as the frontend forgets them;
- when each text shown by ``st.text`` / ``st.markdown`` first arrived
  (``time.perf_counter()`` of this process, taken when the frame was read off the socket:
  on loopback that is when the server sent it, plus this process's own delay);
- how many runs ended (``script_finished`` messages), by status.

Nothing here renders or runs the page's JavaScript: a component's script (such as
crdt_sync's typing probe) never reports, as if the person pasted a value and pressed Enter.

Used by `benchmarks.load` (``python -m benchmarks.load``); by hand::

    async with Session("http://127.0.0.1:8501") as s:
        await s.wait_until(lambda: s.runs >= 1)
        sent_at = await s.edit({"Alpha": "hello"})
        await s.wait_until(lambda: "seen a:hello|" in s.seen)
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import websockets
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ClientState_pb2 import ClientState
from streamlit.proto.Element_pb2 import Element
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState

#: Widget element type -> the WidgetState field its value travels in.
WIDGET_FIELDS: dict[str, str] = {
    "text_input": "string_value",
    "text_area": "string_value",
    "checkbox": "bool_value",
    "number_input": "double_value",
    "slider": "double_array_value",
}
#: Element types whose body is a text the harness can wait for.
TEXT_TYPES = ("text", "markdown")
FINISHED = {
    ForwardMsg.FINISHED_SUCCESSFULLY: "full",
    ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY: "fragment",
    ForwardMsg.FINISHED_EARLY_FOR_RERUN: "early",
    ForwardMsg.FINISHED_WITH_COMPILE_ERROR: "compile error",
}


@dataclass
class Widget:
    """One widget of the page, as the frontend holds it."""

    id: str
    kind: str
    label: str
    value: Any


def _proto_value(kind: str, proto: Any, which: str) -> Any:
    """A widget proto's ``value`` or ``default`` as a Python value (None when unset)."""
    if kind == "slider":
        return list(getattr(proto, which))
    if kind in ("text_input", "text_area", "number_input") and not proto.HasField(which):
        return None
    return getattr(proto, which)


def widget_state(widget: Widget) -> WidgetState | None:
    """The ``WidgetState`` a browser sends for ``widget`` (None: no value to send)."""
    if widget.value is None:
        return None
    state = WidgetState(id=widget.id)
    field = WIDGET_FIELDS[widget.kind]
    if field == "double_array_value":
        state.double_array_value.data.extend(float(v) for v in widget.value)
    else:
        setattr(state, field, widget.value)
    return state


class Session:
    """One headless browser tab on ``url`` (``http://host:port``), optionally on a page
    of a multipage app (``page``: its URL path name) with a query string."""

    def __init__(self, url: str, *, page: str = "", query: str = "", name: str = "") -> None:
        self.ws_url = url.replace("http://", "ws://").rstrip("/") + "/_stcore/stream"
        self.page = page
        self.query = query
        self.name = name
        self.widgets: dict[str, Widget] = {}  # by id, the page's widgets
        self.seen: dict[str, float] = {}  # text body -> perf_counter when first received
        self.finished: Counter[str] = Counter()  # script_finished by kind
        self.running = False
        self.session_id = ""
        self.page_hash = ""
        self.last_message = 0.0  # perf_counter of the last frame read
        self.messages = 0
        self.errors: list[str] = []  # exceptions the app showed, socket errors
        self._drawn: set[str] = set()  # widget ids drawn by the run in progress
        self._ws: Any = None
        self._reader: asyncio.Task[None] | None = None
        self._changed = asyncio.Event()

    # ------------------------------------------------------------------ lifecycle

    async def open(self) -> Session:
        """Connect and ask for the first run (as a browser loading the page does)."""
        self._ws = await websockets.connect(
            self.ws_url,
            subprotocols=[websockets.Subprotocol("streamlit")],
            max_size=None,
            ping_interval=None,
            compression=None,
            close_timeout=2,
        )
        self._reader = asyncio.create_task(self._read())
        await self._send_rerun(first=True)
        return self

    async def close(self) -> None:
        if self._ws is not None:
            with contextlib.suppress(Exception):
                await self._ws.close()
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._reader

    async def __aenter__(self) -> Session:
        return await self.open()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def runs(self) -> int:
        """Runs that ended (full, fragment, or stopped early for a rerun)."""
        return sum(self.finished.values())

    # ------------------------------------------------------------------ sending

    def widget(self, label: str) -> Widget:
        """The page's widget labelled ``label`` (KeyError when the page has none)."""
        for w in self.widgets.values():
            if w.label == label:
                return w
        raise KeyError(f"{self.name}: no widget {label!r} on the page ({self.labels()})")

    def labels(self) -> list[str]:
        return [w.label for w in self.widgets.values()]

    async def edit(self, values: Mapping[str, Any]) -> float:
        """Give widgets (by label) new values and send the rerun a browser sends (every
        widget's state); returns ``time.perf_counter()`` just before the send."""
        for label, value in values.items():
            self.widget(label).value = value
        return await self._send_rerun()

    async def _send_rerun(self, *, first: bool = False) -> float:
        state = ClientState(query_string=self.query, page_name=self.page if first else "")
        if not first:
            state.page_script_hash = self.page_hash
        for w in self.widgets.values():
            ws = widget_state(w)
            if ws is not None:
                state.widget_states.widgets.append(ws)
        state.context_info.timezone = "UTC"
        state.context_info.locale = "en-US"
        msg = BackMsg(rerun_script=state)
        data = msg.SerializeToString()
        at = time.perf_counter()
        await self._ws.send(data)
        return at

    # ------------------------------------------------------------------ receiving

    async def _read(self) -> None:
        try:
            async for raw in self._ws:
                at = time.perf_counter()
                msg = ForwardMsg()
                msg.ParseFromString(raw)
                self._handle(msg, at)
                self.last_message = at
                self.messages += 1
                self._changed.set()
        except websockets.ConnectionClosed as exc:
            if exc.rcvd is None or exc.rcvd.code not in (1000, 1001):
                self.errors.append(f"connection closed: {exc}")
        except Exception as exc:  # a harness bug must not hang the waits
            self.errors.append(f"reader: {exc!r}")
        finally:
            self._changed.set()

    def _handle(self, msg: ForwardMsg, at: float) -> None:
        kind = msg.WhichOneof("type")
        if kind == "delta":
            if msg.delta.WhichOneof("type") == "new_element":
                self._element(msg.delta.new_element, at)
        elif kind == "new_session":
            self.running = True
            self.session_id = msg.new_session.initialize.session_id or self.session_id
            self.page_hash = msg.new_session.page_script_hash
            if not msg.metadata.run.fragment_ids:
                self._drawn = set()
        elif kind == "navigation":
            self.page_hash = msg.navigation.page_script_hash or self.page_hash
        elif kind == "session_status_changed":
            self.running = msg.session_status_changed.script_is_running
        elif kind == "script_finished":
            status = FINISHED.get(msg.script_finished, str(msg.script_finished))
            self.finished[status] += 1
            if status == "full":  # the frontend drops the states of widgets not drawn
                self.widgets = {i: w for i, w in self.widgets.items() if i in self._drawn}
        elif kind == "page_not_found":
            self.errors.append(f"page not found: {msg.page_not_found.page_name}")

    def _element(self, element: Element, at: float) -> None:
        kind = element.WhichOneof("type")
        if kind in TEXT_TYPES:
            body = getattr(element, kind).body
            self.seen.setdefault(body, at)
        elif kind in WIDGET_FIELDS:
            proto = getattr(element, kind)
            self._drawn.add(proto.id)
            known = self.widgets.get(proto.id)
            if proto.set_value:
                value = _proto_value(kind, proto, "value")
            elif known is not None:
                value = known.value
            else:
                value = _proto_value(kind, proto, "default")
            self.widgets[proto.id] = Widget(proto.id, kind, proto.label, value)
        elif kind == "exception":
            self.errors.append(f"{element.exception.type}: {element.exception.message[:200]}")

    # ------------------------------------------------------------------ waiting

    async def wait_until(self, check: Callable[[], bool], timeout: float = 10.0) -> bool:
        """Wait until ``check()`` is true (re-checked at every message); False on timeout."""
        deadline = time.perf_counter() + timeout
        while not check():
            left = deadline - time.perf_counter()
            if left <= 0:
                return False
            self._changed.clear()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._changed.wait(), min(left, 0.5))
        return True

    async def wait_text(self, text: str, timeout: float = 10.0) -> bool:
        """Wait until a frame showing ``text`` arrived; False on timeout."""
        return await self.wait_until(lambda: text in self.seen, timeout)

    async def wait_runs(self, full: int, timeout: float = 10.0) -> bool:
        """Wait until ``full`` full runs ended; False on timeout."""
        return await self.wait_until(lambda: self.finished["full"] >= full, timeout)


async def quiet(sessions: list[Session], quiet_for: float = 0.3, timeout: float = 30.0) -> bool:
    """Wait until no session is running and none received anything for ``quiet_for`` s."""
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        last = max((s.last_message for s in sessions), default=0.0)
        if not any(s.running for s in sessions) and time.perf_counter() - last >= quiet_for:
            return True
        await asyncio.sleep(0.05)
    return False


async def close_all(sessions: list[Session]) -> None:
    """Close every session at once (one by one, a busy server makes it take minutes)."""
    await asyncio.gather(*(s.close() for s in sessions))


async def open_sessions(
    url: str, count: int, *, page: str = "", query: str = "", batch: int = 10
) -> list[Session]:
    """``count`` sessions on ``url``, opened ``batch`` at a time, each after its first run."""
    sessions: list[Session] = []
    for start in range(0, count, batch):
        group = [
            Session(url, page=page, query=query, name=f"s{i}")
            for i in range(start, min(count, start + batch))
        ]
        await asyncio.gather(*(s.open() for s in group))
        await asyncio.gather(*(s.wait_runs(1, 60) for s in group))
        sessions += group
    return sessions
