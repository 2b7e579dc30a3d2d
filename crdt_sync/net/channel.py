"""RoomChannel: the Yjs websocket clients of one room in this process, and their presence.

Every change of the room (from Streamlit sessions, the Redis relay, or a client) goes out to
every client but the one that sent it. Awareness (presence, cursors) goes to every client,
the sender included, as the y-websocket server does (clients use it as a keep-alive). The
room's Streamlit sessions appear to clients as awareness states (``{"user": {"name": ...},
"streamlit": true}``), and clients that announce a ``user.name`` (or ``name``) appear in
`crdt_sync.presence()`, except states marked ``"streamlit": true`` (a Streamlit page's
whiteboard cursor: its person is a member already); history records the connection's edits
under that name (`crdt_sync.doc.authors`) until it closes. Awareness-only connections (live
cursors) get awareness and never the room's updates. A newcomer gets every current state
right after its SyncStep2.

What a client may cost is bounded by its `Limits`: the bytes waiting to be sent to it
(a client that does not read is closed with 4503, its queue dropped), and the awareness
client ids and state bytes it owns. A connection owns the ids it introduced and may only
set or remove those.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import time
import uuid
from typing import Any, Literal, TypeAlias

from pycrdt import Awareness, Doc
from starlette.websockets import WebSocket

from ..bridge.sessions import registry
from ..doc import Room, RoomEvent, authors
from .limits import (
    CLOSE_TOO_LARGE,
    CLOSE_TOO_MANY_CLIENTS,
    CLOSE_TOO_SLOW,
    LimitExceeded,
    Limits,
)
from .protocol import (
    RoomDoc,
    awareness_frame,
    encode_awareness,
    parse_awareness,
    update_frame,
)

log = logging.getLogger("crdt_sync.websocket")

Access: TypeAlias = Literal["write", "read"]

STREAMLIT_ORIGIN = "crdt_sync:streamlit"
EXTERNAL_PREFIX = "yjs:"
PRESENCE_EVERY = 1.0
RENEW_EVERY = 15.0  # Yjs peers drop states not renewed for 30 s
CLOSE_TIMEOUT = 2.0  # seconds a close may wait for a client that does not read
_CLOSE = object()


class Connection:
    """One websocket client in a room: what it may do, and its outgoing frames in order.

    ```py
    conn = Connection(websocket, room, "read", limits=Limits(max_send_buffer=1 << 20))
    conn.send(frame)   # queued; over the budget the client is closed with 4503
    ```

    Args:
        websocket: The accepted websocket.
        room: The room.
        access: ``"write"`` or ``"read"``.
        awareness_only: Presence only: the room's updates are not sent to it.
        limits: Its budgets (``max_send_buffer`` bounds the bytes waiting to be sent).
    """

    def __init__(
        self,
        websocket: WebSocket,
        room: Room,
        access: Access,
        *,
        awareness_only: bool = False,
        limits: Limits | None = None,
    ) -> None:
        self.websocket = websocket
        self.access = access
        self.awareness_only = awareness_only
        self.limits = limits or Limits()
        self.origin = f"crdt_sync:ws:{uuid.uuid4().hex[:12]}"
        self.doc = RoomDoc(room, self.origin)
        self.clients: set[int] = set()  # awareness client ids it announced
        self.state_bytes: dict[int, int] = {}  # their states' JSON sizes
        self.denied = False
        self.closed: tuple[int, str] | None = None
        self.queued_bytes = 0  # waiting to be sent (the frame being sent is not counted)
        self._queue: asyncio.Queue[Any] = asyncio.Queue()
        self._pump: asyncio.Task[None] | None = None
        self._closer: asyncio.Task[None] | None = None
        self._sending = False

    def send(self, frame: bytes) -> None:
        """Queue a frame (event-loop thread); a client too far behind is disconnected."""
        if self.closed is not None:
            return
        budget = self.limits.max_send_buffer
        if self.queued_bytes and self.queued_bytes + len(frame) > budget:
            self._abort(
                CLOSE_TOO_SLOW,
                f"{self.queued_bytes + len(frame)} bytes waiting to be sent; the limit "
                f"(max_send_buffer) is {budget}: reconnect to resync",
            )
            return
        self.queued_bytes += len(frame)
        self._queue.put_nowait(frame)

    def close(self, code: int, reason: str) -> None:
        """Close after the frames already queued (codes 44xx tell y-websocket to stop)."""
        if self.closed is None:
            self.closed = (code, reason.encode()[:120].decode(errors="ignore"))
            self._queue.put_nowait(_CLOSE)

    def _abort(self, code: int, reason: str) -> None:
        # A client that does not read: drop what waits for it (freeing its memory) and
        # close now, without waiting for the frame it is not reading.
        log.warning("closing websocket client %s (%d): %s", self.origin, code, reason)
        while not self._queue.empty():
            self._queue.get_nowait()
        self.queued_bytes = 0
        self.close(code, reason)
        if self._sending and self._pump is not None:
            self._pump.cancel()
            self._closer = asyncio.get_running_loop().create_task(self._close_socket())

    async def _close_socket(self) -> None:
        assert self.closed is not None
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.websocket.close(*self.closed), CLOSE_TIMEOUT)

    def start(self) -> asyncio.Task[None]:
        """Start sending queued frames (a task that ends once the connection is closed)."""
        self._pump = asyncio.get_running_loop().create_task(self.pump())
        return self._pump

    async def pump(self) -> None:
        """Send queued frames until closed."""
        while True:
            item = await self._queue.get()
            if item is None:
                return
            if item is _CLOSE:
                await self._close_socket()
                return
            self.queued_bytes = max(0, self.queued_bytes - len(item))
            self._sending = True
            try:
                await self.websocket.send_bytes(item)
            finally:
                self._sending = False

    async def finish(self) -> None:
        """Send what is queued (unless aborted), then end; the client may be gone already."""
        self._queue.put_nowait(None)
        tasks = [t for t in (self._pump, self._closer) if t is not None]
        if tasks:
            await asyncio.wait(tasks)
        for task in tasks:
            if not task.cancelled() and task.exception() is not None:
                log.debug("sending to a websocket client failed: %s", task.exception())


def session_client_id(session: str) -> int:
    """A stable awareness client id for a Streamlit session (above Yjs's 32-bit ids)."""
    return 2**40 + int(hashlib.sha1(session.encode()).hexdigest()[:10], 16)


def display_name(state: dict[str, Any] | None) -> str | None:
    """The name an awareness state announces (``user.name``, else ``name``)."""
    if not state:
        return None
    user = state.get("user")
    name = user.get("name") if isinstance(user, dict) else state.get("name")
    return name if isinstance(name, str) and name else None


class RoomChannel:
    """The clients of one room in this process (event-loop thread, except `_on_room_event`).

    Args:
        name: The room's name.
        room: The room.
        loop: The event loop the websockets live on.
    """

    def __init__(self, name: str, room: Room, loop: asyncio.AbstractEventLoop) -> None:
        self.name = name
        self.room = room
        self.loop = loop
        self.connections: list[Connection] = []
        self.awareness = Awareness(Doc())
        self.awareness.set_local_state(None)  # the server itself has no presence
        self.owners: dict[int, Connection] = {}
        self._sessions: dict[int, dict[str, Any]] = {}
        self._renewed = time.monotonic()
        self._unobserve = room.observe(self._on_room_event)
        self._subscription = self.awareness.observe(self._on_awareness)
        self._presence = loop.create_task(self._presence_loop())

    # ------------------------------------------------------------------ members

    def add(self, conn: Connection) -> None:
        self.connections.append(conn)

    def remove(self, conn: Connection) -> None:
        """Take a client out; its awareness states leave with it."""
        if conn in self.connections:
            self.connections.remove(conn)
        authors.forget(conn.origin)
        gone = [c for c in conn.clients if self.owners.get(c) is conn]
        for client in gone:
            del self.owners[client]
        if gone:
            self.awareness.remove_awareness_states(gone, conn)

    def close(self) -> None:
        """Stop following the room (the last client left)."""
        self._unobserve()
        self._presence.cancel()
        self.awareness.unobserve(self._subscription)
        for client in list(self.awareness.states):
            if client not in self._sessions:
                registry.remove_external(self.name, f"{EXTERNAL_PREFIX}{client}")

    # ------------------------------------------------------------------ document

    def _on_room_event(self, event: RoomEvent) -> None:
        # Any thread: hand over to the loop, in order.
        frame = update_frame(event.update)
        with contextlib.suppress(RuntimeError):  # the loop is closed: shutting down
            self.loop.call_soon_threadsafe(self._fan_out, frame, event.origin)

    def _fan_out(self, frame: bytes, origin: object) -> None:
        for conn in self.connections:
            if conn.origin != origin and not conn.awareness_only:
                conn.send(frame)

    # ------------------------------------------------------------------ awareness

    def apply_awareness(self, conn: Connection, payload: bytes) -> None:
        """A client's awareness update (checked, then merged and passed on).

        A connection owns the client ids it introduced (they leave with it) and may only
        set or remove those: entries for anyone else's id (other connections, Streamlit
        sessions) are dropped. They are mostly echoes: y-websocket re-sends every state it
        receives. At most ``max_awareness_clients`` ids and ``max_awareness_bytes`` of
        state per connection.

        Raises:
            ProtocolError: If it is malformed.
            LimitExceeded: If the connection would go over one of its limits.
        """
        limits = conn.limits
        accepted: list[tuple[int, int, dict[str, Any] | None]] = []
        sizes = dict(conn.state_bytes)
        introduced = 0  # ids new in this update
        for client, (clock, state) in parse_awareness(payload).items():
            owner = self.owners.get(client)
            if client in self._sessions or (owner is not None and owner is not conn):
                continue
            if owner is None:
                if state is None:
                    continue  # nothing of its own to remove
                introduced += 1
                if len(conn.clients) + introduced > limits.max_awareness_clients:
                    raise LimitExceeded(
                        CLOSE_TOO_MANY_CLIENTS,
                        f"more than {limits.max_awareness_clients} awareness client ids on "
                        "one connection (the limit: max_awareness_clients)",
                    )
            sizes[client] = 0 if state is None else len(json.dumps(state, separators=(",", ":")))
            if sum(sizes.values()) > limits.max_awareness_bytes:
                raise LimitExceeded(
                    CLOSE_TOO_LARGE,
                    f"{sum(sizes.values())} bytes of awareness state on one connection; the "
                    f"limit (max_awareness_bytes) is {limits.max_awareness_bytes}",
                )
            accepted.append((client, clock, state))
        if not accepted:
            return
        self.awareness.apply_awareness_update(encode_awareness(accepted), conn)
        for client, _clock, _state in accepted:
            if client in conn.clients and client in self.awareness.states:
                conn.state_bytes[client] = sizes[client]
            else:
                conn.state_bytes.pop(client, None)

    def send_awareness(self, conn: Connection) -> None:
        """Send a client every current state at once (late joiners see everyone)."""
        clients = list(self.awareness.states)
        if clients:
            conn.send(awareness_frame(self.awareness.encode_awareness_update(clients)))

    def _on_awareness(self, topic: str, event: tuple[dict[str, list[int]], Any]) -> None:
        changes, origin = event
        clients = changes["added"] + changes["updated"] + changes["removed"]
        if topic == "update" and isinstance(origin, Connection):
            for client in changes["added"] + changes["updated"]:
                if self.owners.setdefault(client, origin) is origin:  # see apply_awareness
                    origin.clients.add(client)
            for client in changes["removed"]:
                if self.owners.get(client) is origin:
                    del self.owners[client]
                    origin.clients.discard(client)
                    origin.state_bytes.pop(client, None)
        if topic == "update" and clients:
            frame = awareness_frame(self.awareness.encode_awareness_update(clients))
            for conn in self.connections:
                conn.send(frame)
        if topic == "change" and origin != STREAMLIT_ORIGIN:
            for client in changes["added"] + changes["updated"]:
                state = self.awareness.states.get(client)
                if isinstance(state, dict) and state.get("streamlit"):
                    continue  # a Streamlit page's cursor: that person is a member already
                if isinstance(origin, Connection) and display_name(state):
                    authors.name(origin.origin, display_name(state))  # history names its edits
                registry.set_external(
                    self.name, f"{EXTERNAL_PREFIX}{client}", display_name(state), kind="yjs"
                )
            for client in changes["removed"]:
                registry.remove_external(self.name, f"{EXTERNAL_PREFIX}{client}")

    async def _presence_loop(self) -> None:
        while True:
            try:
                self.sync_sessions()
            except Exception:
                log.exception("room %r: publishing Streamlit presence failed", self.name)
            await asyncio.sleep(PRESENCE_EVERY)

    def sync_sessions(self) -> None:
        """Publish the room's Streamlit sessions as awareness states (changes only, plus a
        renewal every 15 s so Yjs peers keep them)."""
        wanted = {
            session_client_id(m.session): {"user": {"name": m.label}, "streamlit": True}
            for m in registry.members(self.name)
            if m.kind == "session"
        }
        renew = time.monotonic() - self._renewed >= RENEW_EVERY
        if renew:
            self._renewed = time.monotonic()
        entries: list[tuple[int, int, dict[str, Any] | None]] = []
        for client, state in wanted.items():
            if renew or self._sessions.get(client) != state:
                entries.append((client, self._next_clock(client), state))
        for client in set(self._sessions) - set(wanted):
            entries.append((client, self._next_clock(client), None))
        self._sessions = wanted
        if entries:
            self.awareness.apply_awareness_update(encode_awareness(entries), STREAMLIT_ORIGIN)

    def _next_clock(self, client: int) -> int:
        # A peer takes a state whose clock is above the one it knows (0 for a stranger).
        meta = self.awareness.meta.get(client)
        return 1 if meta is None else int(meta["clock"]) + 1
