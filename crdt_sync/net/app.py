"""``crdt_sync.App``: a Streamlit ``st.App`` that Yjs clients can join over a websocket.

```py
# app_server.py, run with: uvicorn app_server:app
import crdt_sync
crdt_sync.configure(store="redis://127.0.0.1:6379/0")
app = crdt_sync.App("app.py")   # serves app.py, and the rooms at ws://HOST/crdt/{room}
```

The route ``/crdt/{room}`` (``{room}`` URL-encoded) speaks the standard y-protocols sync and
awareness messages (``/crdt/{room}?awareness=1``: awareness only, as the whiteboard's live
cursors use it), so npm ``y-websocket``'s ``WebsocketProvider`` joins a room as it is:
``new WebsocketProvider("ws://host/crdt", encodeURIComponent(room), ydoc)``. Edits from
clients go into the room with the connection as origin (the app's sessions rerun and show
them); the room's changes go to every client except the one that made them.

Who may connect: programs (no ``Origin`` header) and the app's own pages; a page of another
site only if its origin is trusted (``allowed_origins``, by default Streamlit's
``server.corsAllowedOrigins``, or any while ``server.enableCORS`` is off). Every client may
write unless ``on_connect`` says otherwise. What each client may cost is set by `Limits`.

Close codes (y-websocket stops reconnecting on 4400-4499 and retries on others):
4400 bad room name or malformed frame, 4403 refused by ``on_connect`` or a page of another
site, 4413 frame larger than ``max_message_size`` (or awareness states over
``max_awareness_bytes``), 4429 more awareness client ids than ``max_awareness_clients``,
4503 more than ``max_send_buffer`` bytes waiting for the client (it reconnects and
resyncs), 1011 the ``on_connect`` hook failed. A read-only client that sends an update gets
y-protocols' "permission denied" message and the update is dropped.

A client knows its edits are stored (in Redis: acknowledged) once the server answers a
SyncStep1 it sent after them: a connection's frames are handled in order.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import dataclasses
import inspect
import logging
import re
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import unquote

import streamlit as st
from starlette.routing import BaseRoute, WebSocketRoute
from starlette.websockets import WebSocket

from ..doc import InvalidUpdate, config, validate_room_name
from .channel import Access, Connection, RoomChannel
from .limits import (
    CLOSE_BAD_REQUEST,
    CLOSE_FORBIDDEN,
    CLOSE_HOOK_FAILED,
    CLOSE_TOO_LARGE,
    LimitExceeded,
    Limits,
)
from .origin import host_allowed, origin_allowed, streamlit_allowed_origins
from .protocol import (
    EMPTY_UPDATE,
    MESSAGE_AUTH,
    MESSAGE_AWARENESS,
    MESSAGE_QUERY_AWARENESS,
    MESSAGE_SYNC,
    SYNC_STEP1,
    SYNC_STEP2,
    SYNC_UPDATE,
    ProtocolError,
    parse_frame,
    permission_denied_frame,
)

log = logging.getLogger("crdt_sync.websocket")

OnConnect = Callable[[WebSocket, str], "Access | Awaitable[Access | None] | None"]
"""``on_connect(websocket, room) -> "write" | "read" | None`` (may be async); None refuses."""

DEFAULT_PATH = "/crdt"
DEFAULT_MAX_MESSAGE_SIZE = Limits().max_message_size
T = TypeVar("T")
__all__ = [
    "CLOSE_BAD_REQUEST",
    "CLOSE_FORBIDDEN",
    "CLOSE_HOOK_FAILED",
    "CLOSE_TOO_LARGE",
    "App",
    "YjsEndpoint",
    "yjs_route",
]


class YjsEndpoint:
    """The websocket endpoint serving rooms to Yjs clients (one per `App`).

    Args:
        on_connect: Decides per connection: ``"write"``, ``"read"`` or None (refused).
            Without it every client may write.
        path: The route's prefix.
        max_message_size: Frames larger than this (bytes) close the connection (4413);
            overrides ``limits.max_message_size``.
        limits: What one connection may cost (`Limits`; the defaults without it).
        allowed_origins: Origins of other sites whose pages may connect (``"*"``: any).
            None follows Streamlit's ``server.enableCORS`` / ``server.corsAllowedOrigins``.
    """

    def __init__(
        self,
        *,
        on_connect: OnConnect | None = None,
        path: str = DEFAULT_PATH,
        max_message_size: int | None = None,
        limits: Limits | None = None,
        allowed_origins: Sequence[str] | None = None,
    ) -> None:
        self.on_connect = on_connect
        self.path = path.rstrip("/")
        limits = limits or Limits()
        if max_message_size is not None:
            limits = dataclasses.replace(limits, max_message_size=max_message_size)
        self.limits = limits
        self.allowed_origins = None if allowed_origins is None else tuple(allowed_origins)
        self.channels: dict[str, RoomChannel] = {}
        self._executor: concurrent.futures.ThreadPoolExecutor | None = None
        config.announce_live_channel(self.path)

    @property
    def max_message_size(self) -> int:
        """The largest frame read, in bytes."""
        return self.limits.max_message_size

    def route(self) -> WebSocketRoute:
        """The Starlette route: ``{path}/{room}`` (any room, even one with a newline, is
        this route's to refuse)."""
        route = WebSocketRoute(f"{self.path}/{{room:path}}", self.serve, name="crdt_sync")
        route.path_regex = re.compile(route.path_regex.pattern, re.DOTALL)
        return route

    async def serve(self, websocket: WebSocket) -> None:
        """Serve one client until it leaves."""
        origin = websocket.headers.get("origin")
        host = websocket.headers.get("host")
        allowed = self.allowed_origins
        if allowed is None:
            allowed = streamlit_allowed_origins()
        refused = None
        if not host_allowed(host):
            refused = f"host {host!r} is not in server.allowedHosts"
        elif not origin_allowed(origin, host=host, allowed=allowed):
            refused = f"origin {origin!r} is not allowed"
        if refused is not None:  # a page of another site (or a rebound host name)
            log.warning("crdt_sync: refused a websocket: %s", refused)
            await _refuse(websocket, CLOSE_FORBIDDEN, refused)
            return
        try:
            name = validate_room_name(self._room_name(websocket))
        except ValueError as exc:
            await _refuse(websocket, CLOSE_BAD_REQUEST, str(exc))
            return
        try:
            access = await self._authorize(websocket, name)
        except Exception:
            log.exception("crdt_sync: on_connect failed for room %r", name)
            await _refuse(websocket, CLOSE_HOOK_FAILED, "on_connect failed")
            return
        if access is None:
            await _refuse(websocket, CLOSE_FORBIDDEN, f"not allowed in room {name!r}")
            return
        await websocket.accept()
        hub = config.hub()
        room = await self._run(hub.open, name)
        channel = self.channels.get(name)
        if channel is None:
            channel = self.channels[name] = RoomChannel(name, room, asyncio.get_running_loop())
        # ?awareness=1: presence only (a whiteboard's live cursors): no document sync, no
        # updates sent to it, and nothing it sends can change the document.
        awareness_only = websocket.query_params.get("awareness") == "1"
        if awareness_only:
            access = "read"
        conn = Connection(
            websocket, room, access, awareness_only=awareness_only, limits=self.limits
        )
        channel.add(conn)
        conn.start()
        try:
            if access == "write":
                conn.send(await self._run(conn.doc.sync_step1))
            await self._receive(channel, conn)
        finally:
            channel.remove(conn)
            if not channel.connections and self.channels.get(name) is channel:
                del self.channels[name]
                channel.close()
            await conn.finish()
            await self._run(hub.release, name)

    async def _receive(self, channel: RoomChannel, conn: Connection) -> None:
        while conn.closed is None:
            message = await conn.websocket.receive()
            if message["type"] == "websocket.disconnect":
                return
            data = message.get("bytes")
            if data is None:
                conn.close(CLOSE_BAD_REQUEST, "y-protocols frames are binary")
                return
            if len(data) > self.max_message_size:
                conn.close(
                    CLOSE_TOO_LARGE,
                    f"frame of {len(data)} bytes; the limit (max_message_size) is "
                    f"{self.max_message_size}",
                )
                return
            try:
                await self._handle(channel, conn, data)
            except LimitExceeded as exc:
                conn.close(exc.code, str(exc))
            except ProtocolError as exc:
                conn.close(CLOSE_BAD_REQUEST, str(exc))
            except InvalidUpdate as exc:
                conn.close(CLOSE_BAD_REQUEST, f"invalid update: {exc.reason}")

    async def _handle(self, channel: RoomChannel, conn: Connection, data: bytes) -> None:
        frame = parse_frame(data)
        if frame.kind == MESSAGE_SYNC and conn.awareness_only:
            # Presence only: no document either way. A y-websocket client still opens
            # with SyncStep1; it gets everyone's presence for it.
            if frame.sync_type == SYNC_STEP1:
                channel.send_awareness(conn)
        elif frame.kind == MESSAGE_SYNC:
            if frame.sync_type == SYNC_STEP1:
                reply = await self._run(conn.doc.handle_sync, data)
                if reply is not None:
                    conn.send(reply)
                channel.send_awareness(conn)
            elif frame.sync_type in (SYNC_STEP2, SYNC_UPDATE):
                if conn.access != "write":
                    if frame.payload != EMPTY_UPDATE:
                        self._deny(channel, conn)
                    return
                await self._run(conn.doc.handle_sync, data)
            else:
                raise ProtocolError(f"unknown sync message type {frame.sync_type}")
        elif frame.kind == MESSAGE_AWARENESS:
            channel.apply_awareness(conn, frame.payload)
        elif frame.kind == MESSAGE_QUERY_AWARENESS:
            channel.send_awareness(conn)
        elif frame.kind != MESSAGE_AUTH:
            log.debug("room %r: ignoring a message of unknown type %d", channel.name, frame.kind)

    def _deny(self, channel: RoomChannel, conn: Connection) -> None:
        if not conn.denied:
            conn.denied = True
            log.info(
                "room %r: refused an update from read-only client %s", channel.name, conn.origin
            )
            conn.send(permission_denied_frame(f"read-only access to room {channel.name!r}"))

    async def _authorize(self, websocket: WebSocket, name: str) -> Access | None:
        if self.on_connect is None:
            return "write"
        result = self.on_connect(websocket, name)
        if inspect.isawaitable(result):
            result = await result
        if result not in ("write", "read", None):
            raise ValueError(f'on_connect returned {result!r}; expected "write", "read" or None')
        return result  # type: ignore[return-value]

    def _room_name(self, websocket: WebSocket) -> str:
        """The room named by the path, percent-decoded as UTF-8.

        Raises:
            ValueError: If the escapes are not UTF-8 (``%FF``, an overlong ``%C0%AF``, an
                encoded surrogate ``%ED%A0%80``).
        """
        raw = websocket.scope.get("raw_path")
        if isinstance(raw, bytes | bytearray):
            path = bytes(raw).decode("latin-1").split("?", 1)[0]
            prefix = f"{self.path}/"
            root = str(websocket.scope.get("root_path", ""))
            for start in (root + prefix, prefix):
                if path.startswith(start):
                    encoded = path[len(start) :]
                    try:
                        return unquote(encoded, errors="strict")
                    except UnicodeDecodeError as exc:
                        raise ValueError(
                            f"room name {encoded[:60]!r} is not UTF-8 once decoded: {exc.reason}"
                        ) from None
        return str(websocket.path_params.get("room", ""))

    async def _run(self, func: Callable[..., T], *args: Any) -> T:
        # Room and store calls take locks and may wait on Redis: never on the event loop.
        if self._executor is None:
            self._executor = concurrent.futures.ThreadPoolExecutor(
                max_workers=8, thread_name_prefix="crdt_sync-ws"
            )
        return await asyncio.get_running_loop().run_in_executor(self._executor, func, *args)


async def _refuse(websocket: WebSocket, code: int, reason: str) -> None:
    # Accept, then close with a code: a bare HTTP 403/500 makes y-websocket retry forever.
    await websocket.accept()
    await websocket.close(code, reason.encode()[:120].decode(errors="ignore"))


def yjs_route(
    *,
    on_connect: OnConnect | None = None,
    path: str = DEFAULT_PATH,
    max_message_size: int | None = None,
    limits: Limits | None = None,
    allowed_origins: Sequence[str] | None = None,
) -> WebSocketRoute:
    """The rooms' websocket route, for an ``st.App`` of your own (what `App` adds).

    ```py
    # server.py: `streamlit run server.py` finds `app` and serves it (so do uvicorn and
    # the other ASGI servers)
    import streamlit as st
    import crdt_sync
    app = st.App("app.py", routes=[crdt_sync.yjs_route()])
    ```

    ``streamlit run`` only recognises an ``st.App(...)`` call, so this form keeps all of
    its options (port, headless...) where `App` needs uvicorn.

    Args:
        on_connect: As for `App`.
        path: Where the route lives (default ``/crdt``).
        max_message_size: As for `App`.
        limits: As for `App`.
        allowed_origins: As for `App`.

    Returns:
        A Starlette ``WebSocketRoute`` at ``{path}/{room}``.
    """
    endpoint = YjsEndpoint(
        on_connect=on_connect,
        path=path,
        max_message_size=max_message_size,
        limits=limits,
        allowed_origins=allowed_origins,
    )
    return endpoint.route()


class App(st.App):
    """A Streamlit app (``st.App``) with a Yjs websocket route at ``/crdt/{room}``.

    ```py
    def on_connect(websocket, room):
        token = websocket.query_params.get("token")
        return "write" if token == "secret" else "read"

    app = crdt_sync.App("app.py", on_connect=on_connect)   # uvicorn app_server:app
    ```

    Args:
        script_path: The Streamlit script.
        on_connect: ``on_connect(websocket, room) -> "write" | "read" | None`` (may be
            async), called for every connection; None refuses it (close code 4403). Without
            a hook every client may write.
        path: Where the route lives (default ``/crdt``).
        max_message_size: The largest frame accepted, in bytes (larger: close 4413;
            default 8 MiB). The ASGI server's own limit (``uvicorn --ws-max-size``) refuses
            larger frames before reading them; keep it close to this.
        limits: What one connection may cost: frame, send-queue and awareness budgets
            (`crdt_sync.net.Limits`; see ``SECURITY.md``).
        allowed_origins: Origins of other sites whose pages may connect, e.g.
            ``["https://intranet.example"]`` (``["*"]``: any site). By default Streamlit's
            own rule: ``server.corsAllowedOrigins``, or any site while ``server.enableCORS``
            is off. The app's own pages and programs (no ``Origin`` header) always may.
        routes: More routes, as for ``st.App``.
        **kwargs: Everything else ``st.App`` takes (``lifespan``, ``middleware``, ...).
    """

    def __init__(
        self,
        script_path: str | Path,
        *,
        on_connect: OnConnect | None = None,
        path: str = DEFAULT_PATH,
        max_message_size: int | None = None,
        limits: Limits | None = None,
        allowed_origins: Sequence[str] | None = None,
        routes: Sequence[BaseRoute] | None = None,
        **kwargs: Any,
    ) -> None:
        self.yjs = YjsEndpoint(
            on_connect=on_connect,
            path=path,
            max_message_size=max_message_size,
            limits=limits,
            allowed_origins=allowed_origins,
        )
        super().__init__(script_path, routes=[self.yjs.route(), *(routes or [])], **kwargs)
