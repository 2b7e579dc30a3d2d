"""A raw websocket client (frames by hand, reads only when told) and a server to attack.

`RawWebSocket` speaks RFC 6455 over a plain socket: it sends whatever bytes it is given,
with any headers (``Origin``), and never reads unless asked, as a hostile or slow client
would. `HostileServer` serves ``crdt_sync.App`` with uvicorn in a subprocess, with its
`Limits` and ``allowed_origins`` taken from the environment, and reports its RSS.
"""

from __future__ import annotations

import base64
import json
import os
import socket
import struct
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pycrdt import write_var_uint
from ws_helpers import ROOM_ACCESS, AppServer

HOSTILE_APP_SERVER = """
import json
import os

from starlette.responses import JSONResponse
from starlette.routing import Route

import crdt_sync
from crdt_sync.bridge.sessions import registry

try:
    from crdt_sync.doc import config
except ImportError:  # an older checkout (benchmarks/hostile.py --before)
    from crdt_sync.bridge import config

crdt_sync.configure(store=os.environ["CRDT_SYNC_STORE"])
try:
    from crdt_sync.net import Limits
except ImportError:  # before the limits: the App takes none of them
    settings = {}
else:
    allowed = os.environ.get("ALLOWED_ORIGINS")
    settings = {
        "limits": Limits(**json.loads(os.environ.get("LIMITS", "{}"))),
        "allowed_origins": None if allowed is None else json.loads(allowed),
    }


# ROOM_ACCESS


async def show(request):
    def read(room):
        return {
            "repr": {k: repr(v) for k, v in room.snapshot().items()},
            "presence": sorted(m.label for m in registry.members(room.name)),
        }
    return JSONResponse(_with_room(request, read))


async def fill(request):
    body = await request.json()
    def write(room):
        for i in range(body["count"]):
            room[f"k{i}"] = "x" * body["size"]
    _with_room(request, write)
    return JSONResponse({"ok": True})


app = crdt_sync.App(
    "app.py",
    on_connect=on_connect,
    routes=[Route("/test/room", show), Route("/test/fill", fill, methods=["POST"])],
    **settings,
)
"""
HOSTILE_APP_SERVER = HOSTILE_APP_SERVER.replace("# ROOM_ACCESS\n", ROOM_ACCESS)


class HostileServer(AppServer):
    """``crdt_sync.App`` under uvicorn, with ``Limits(**limits)`` and ``allowed_origins``.

    Args:
        directory: Where the app files are written.
        store: The store spec (default ``memory``).
        limits: Keyword arguments of `crdt_sync.net.Limits`.
        allowed_origins: ``allowed_origins`` of the App (None: Streamlit's rules).
        config_toml: More lines for ``.streamlit/config.toml`` (e.g. ``[server]`` options).
        env: More environment variables (``PYTHONPATH``: serve another checkout).
    """

    def __init__(
        self,
        directory: Path,
        *,
        store: str = "memory",
        limits: Mapping[str, Any] | None = None,
        allowed_origins: list[str] | None = None,
        config_toml: str = "",
        env: Mapping[str, str] | None = None,
    ) -> None:
        env = {"LIMITS": json.dumps(dict(limits or {})), **(env or {})}
        if allowed_origins is not None:
            env["ALLOWED_ORIGINS"] = json.dumps(allowed_origins)
        super().__init__(directory, store=store, env=env, ws_max_size=64 * 1024 * 1024)
        (directory / "app_server.py").write_text(HOSTILE_APP_SERVER)
        if config_toml:
            config = directory / ".streamlit" / "config.toml"
            config.write_text(config.read_text() + "\n" + config_toml + "\n")

    def rss(self) -> int:
        """The server's resident memory, in bytes."""
        assert self.pid is not None
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        raise AssertionError("no VmRSS in /proc status")

    def fill(self, room: str, count: int, size: int) -> None:
        """Write ``count`` registers of ``size`` bytes into ``room`` (server side)."""
        import urllib.request

        request = urllib.request.Request(
            f"{self.url}/test/fill?room={room}",
            data=json.dumps({"count": count, "size": size}).encode(),
            headers={"content-type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=60) as resp:
            assert resp.status == 200


class RawWebSocket:
    """A websocket client built from bytes: ``send`` frames, ``recv`` only when asked.

    ```py
    ws = RawWebSocket(port, "/crdt/plans", headers={"Origin": "http://evil.example"})
    ws.status                 # 101 once upgraded
    ws.send(SYNC_STEP1)       # a binary frame
    ws.recv_close()           # (4403, "origin ... is not allowed")
    ```

    Args:
        port: The server's port on 127.0.0.1.
        path: Request path (already percent-encoded, sent as is).
        headers: More request headers.
        rcvbuf: The socket's receive buffer (small: the server's sends back up sooner).
    """

    def __init__(
        self,
        port: int,
        path: str,
        *,
        headers: Mapping[str, str] | None = None,
        rcvbuf: int | None = None,
        timeout: float = 10.0,
    ) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf is not None:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(timeout)
        self.sock.connect(("127.0.0.1", port))
        key = base64.b64encode(os.urandom(16)).decode()
        headers = dict(headers or {})
        lines = [
            f"GET {path} HTTP/1.1",
            f"Host: {headers.pop('Host', f'127.0.0.1:{port}')}",
            "Upgrade: websocket",
            "Connection: Upgrade",
            f"Sec-WebSocket-Key: {key}",
            "Sec-WebSocket-Version: 13",
            *(f"{k}: {v}" for k, v in (headers or {}).items()),
        ]
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        self._buf = b""
        head = self._read_until(b"\r\n\r\n")
        self.status = int(head.split(b" ", 2)[1])

    def _read_until(self, marker: bytes) -> bytes:
        while marker not in self._buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("the server closed the connection")
            self._buf += chunk
        head, self._buf = self._buf.split(marker, 1)
        return head

    def _read(self, n: int) -> bytes:
        while len(self._buf) < n:
            chunk = self.sock.recv(max(65536, n - len(self._buf)))
            if not chunk:
                raise ConnectionError("the server closed the connection")
            self._buf += chunk
        data, self._buf = self._buf[:n], self._buf[n:]
        return data

    def send(self, payload: bytes, *, opcode: int = 2) -> None:
        """Send one frame (binary by default; opcode 1 is text), masked as clients must."""
        head = bytes([0x80 | opcode])
        n = len(payload)
        if n < 126:
            head += bytes([0x80 | n])
        elif n < 1 << 16:
            head += bytes([0x80 | 126]) + struct.pack(">H", n)
        else:
            head += bytes([0x80 | 127]) + struct.pack(">Q", n)
        mask = os.urandom(4)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(head + mask + masked)

    def recv(self) -> tuple[int, bytes]:
        """The next frame: (opcode, payload)."""
        b0, b1 = self._read(2)
        n = b1 & 0x7F
        if n == 126:
            (n,) = struct.unpack(">H", self._read(2))
        elif n == 127:
            (n,) = struct.unpack(">Q", self._read(8))
        return b0 & 0x0F, self._read(n)

    def recv_close(self, *, timeout: float = 10.0) -> tuple[int, str]:
        """Read frames until the close frame: (code, reason)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            opcode, payload = self.recv()
            if opcode == 8:
                code = struct.unpack(">H", payload[:2])[0] if len(payload) >= 2 else 1005
                return code, payload[2:].decode("utf-8", "replace")
        raise AssertionError(f"no close frame within {timeout}s")

    def frames_until_quiet(self, quiet: float = 0.3) -> list[tuple[int, bytes]]:
        """Every frame that arrives before the line stays quiet for ``quiet`` seconds."""
        frames = []
        self.sock.settimeout(quiet)
        try:
            while True:
                frames.append(self.recv())
        except TimeoutError:
            return frames
        finally:
            self.sock.settimeout(10.0)

    def close(self) -> None:
        self.sock.close()


def varuint(n: int) -> bytes:
    return bytes(write_var_uint(n))


SYNC_STEP1_EMPTY = b"\x00\x00\x01\x00"  # sync, step 1, a 1-byte empty state vector


def awareness_frame(entries: list[tuple[int, int, dict[str, Any] | None]]) -> bytes:
    """An awareness frame from raw (client, clock, state) entries (anything goes)."""
    payload = varuint(len(entries))
    for client, clock, state in entries:
        text = b"null" if state is None else json.dumps(state).encode()
        payload += varuint(client) + varuint(clock) + varuint(len(text)) + text
    return b"\x01" + varuint(len(payload)) + payload
