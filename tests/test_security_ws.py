"""The rooms' websocket route against hostile clients: raw frames, foreign origins, slow readers.

Each test pins a failure of issue 13 (cross-site websocket hijacking, memory amplification
by a reader that does not read, awareness flood and spoofing, bad percent-escapes); the
clients are `security_helpers.RawWebSocket`, which sends bytes as given and reads only when
told.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from own_loop import run_on_own_loop
from security_helpers import (
    SYNC_STEP1_EMPTY,
    HostileServer,
    RawWebSocket,
    awareness_frame,
)

from crdt_sync.net.protocol import MESSAGE_AWARENESS, parse_awareness, parse_frame

MiB = 1024 * 1024


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HostileServer]:
    srv = HostileServer(tmp_path_factory.mktemp("hostile"))
    srv.start()
    yield srv
    srv.stop()


def _states(ws: RawWebSocket) -> dict[int, Any]:
    """Every awareness state a client has been sent so far (latest per client id)."""
    states: dict[int, Any] = {}
    for opcode, payload in ws.frames_until_quiet():
        if opcode == 2 and payload[:1] == bytes([MESSAGE_AWARENESS]):
            for client, (_clock, state) in parse_awareness(parse_frame(payload).payload).items():
                states[client] = state
    return states


def _wait(condition: Any, what: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


# ---------------------------------------------------------------------------- origins


def test_a_page_of_another_site_is_refused(server: HostileServer) -> None:
    """Issue 13.1: any web page could open /crdt/{room} and read or rewrite the room."""
    evil = RawWebSocket(server.port, "/crdt/plans", headers={"Origin": "http://evil.example"})
    assert evil.status == 101  # accepted, then closed with a code y-websocket does not retry
    assert evil.recv_close() == (4403, "origin 'http://evil.example' is not allowed")
    lookalike = RawWebSocket(
        server.port,
        "/crdt/plans",
        headers={"Origin": f"http://127.0.0.1.evil.example:{server.port}"},
    )
    assert lookalike.recv_close()[0] == 4403
    null = RawWebSocket(server.port, "/crdt/plans", headers={"Origin": "null"})
    assert null.recv_close()[0] == 4403


def test_the_apps_own_pages_and_programs_may_connect(server: HostileServer) -> None:
    for headers in ({"Origin": f"http://127.0.0.1:{server.port}"}, {}):
        ws = RawWebSocket(server.port, "/crdt/plans", headers=headers)
        opcode, frame = ws.recv()  # the server's SyncStep1
        assert (opcode, frame[:2]) == (2, b"\x00\x00")
        ws.close()


def test_allowed_origins_and_streamlits_cors_settings(tmp_path: Path) -> None:
    trusted = "https://intranet.example"
    listed = HostileServer(tmp_path / "listed", allowed_origins=[trusted])
    by_config = HostileServer(
        tmp_path / "config", config_toml=f'[server]\ncorsAllowedOrigins = ["{trusted}"]\n'
    )
    open_cors = HostileServer(tmp_path / "open", config_toml="[server]\nenableCORS = false\n")
    hosts = HostileServer(
        tmp_path / "hosts", config_toml='[server]\nallowedHosts = ["app.example"]\n'
    )
    for srv in (listed, by_config, open_cors, hosts):
        srv.start()
    try:
        # server.allowedHosts: a rebound name (DNS rebinding) is refused, even same-origin.
        rebound = f"rebound.example:{hosts.port}"
        ws = RawWebSocket(
            hosts.port, "/crdt/p", headers={"Host": rebound, "Origin": f"http://{rebound}"}
        )
        assert ws.recv_close() == (4403, f"host '{rebound}' is not in server.allowedHosts")
        ok = RawWebSocket(hosts.port, "/crdt/p", headers={"Host": f"app.example:{hosts.port}"})
        assert ok.recv()[1][:2] == b"\x00\x00"
        for srv in (listed, by_config, open_cors):
            ok = RawWebSocket(srv.port, "/crdt/plans", headers={"Origin": trusted})
            assert ok.recv()[1][:2] == b"\x00\x00", srv
        for srv in (listed, by_config):
            other = RawWebSocket(
                srv.port, "/crdt/plans", headers={"Origin": "https://evil.example"}
            )
            assert other.recv_close()[0] == 4403
        anyone = RawWebSocket(
            open_cors.port, "/crdt/plans", headers={"Origin": "https://x.example"}
        )
        assert anyone.recv()[1][:2] == b"\x00\x00"
    finally:
        for srv in (listed, by_config, open_cors, hosts):
            srv.stop()


# ---------------------------------------------------------------------------- room names


@pytest.mark.parametrize("encoded", ["bad%FFname", "%ED%A0%80", "%C0%AF", "a%0Ab", "%7F"])
def test_a_bad_room_name_in_the_path_closes_with_4400(server: HostileServer, encoded: str) -> None:
    """Issue 13.7: undecodable escapes gave HTTP 500 (y-websocket retries forever), %0A 403."""
    ws = RawWebSocket(server.port, f"/crdt/{encoded}")
    assert ws.status == 101
    code, reason = ws.recv_close()
    assert code == 4400
    assert "room name" in reason
    assert "Traceback" not in server.log_text()


# ---------------------------------------------------------------------------- send budget


def test_a_reader_that_does_not_read_is_closed_before_it_costs_more_than_its_budget(
    tmp_path: Path,
) -> None:
    """Issue 13.2: 200 SyncStep1 frames on a 1 MiB room grew the server by ~200 MiB."""
    srv = HostileServer(tmp_path / "slow", limits={"max_send_buffer": 4 * MiB})
    srv.start()
    try:
        srv.fill("big", count=16, size=64 * 1024)  # a room of 1 MiB
        before = srv.rss()
        ws = RawWebSocket(srv.port, "/crdt/big?token=reader", rcvbuf=4096)
        for _ in range(200):
            ws.send(SYNC_STEP1_EMPTY)
        time.sleep(3.0)
        grown = srv.rss() - before
        assert grown < 20 * MiB, f"the server grew by {grown / MiB:.1f} MiB"
        # It was cut off: its socket holds a few frames, then the end (a client that reads
        # slowly gets close code 4503 after them).
        code = None
        with pytest.raises((ConnectionError, OSError)):
            for _ in range(100):
                opcode, payload = ws.recv()
                if opcode == 8:
                    code = int.from_bytes(payload[:2], "big")
                    ws.close()
        assert code in (None, 4503)
        assert "limit (max_send_buffer) is 4194304" in srv.log_text()
        # The room is still served to others.
        other = RawWebSocket(srv.port, "/crdt/big")
        assert other.recv()[1][:2] == b"\x00\x00"
    finally:
        srv.stop()


# ---------------------------------------------------------------------------- awareness


def test_an_awareness_flood_is_closed_after_the_first_frame(server: HostileServer) -> None:
    """Issue 13.3: 100 frames of 1,000 client ids cost ~130 MiB and 100,000 members."""
    before = server.rss()
    ws = RawWebSocket(server.port, "/crdt/flood?token=reader")
    code = None
    try:
        for frame in range(100):
            base = 10_000 + frame * 1000
            ws.send(
                awareness_frame(
                    [(base + i, 1, {"user": {"name": f"m{base + i}"}}) for i in range(1000)]
                )
            )
    except OSError:
        pass
    code, reason = ws.recv_close()
    assert code == 4429
    assert "max_awareness_clients" in reason
    assert len(server.room("flood")["presence"]) == 0
    assert server.rss() - before < 20 * MiB


def test_a_connection_holds_a_few_client_ids_and_a_few_bytes_of_state(
    server: HostileServer,
) -> None:
    ws = RawWebSocket(server.port, "/crdt/few?token=reader")
    ws.send(awareness_frame([(i, 1, {"user": {"name": f"n{i}"}}) for i in range(1, 5)]))
    _wait(lambda: len(server.room("few")["presence"]) == 4, "four members")
    ws.send(awareness_frame([(5, 1, {"user": {"name": "n5"}})]))
    assert ws.recv_close()[0] == 4429
    _wait(lambda: server.room("few")["presence"] == [], "their states to leave with them")
    at_once = RawWebSocket(server.port, "/crdt/few?token=reader")
    at_once.send(awareness_frame([(i, 1, {"user": {"name": f"n{i}"}}) for i in range(20, 25)]))
    assert at_once.recv_close()[0] == 4429
    assert server.room("few")["presence"] == []  # none of the five was taken
    big = RawWebSocket(server.port, "/crdt/few?token=reader")
    big.send(awareness_frame([(7, 1, {"user": {"name": "big"}, "blob": "x" * 70_000})]))
    code, reason = big.recv_close()
    assert code == 4413 and "max_awareness_bytes" in reason


def test_a_client_cannot_overwrite_or_remove_anothers_awareness_state(
    server: HostileServer,
) -> None:
    """Issue 13.3: a reader could rename Bob to Mallory, and remove Eve with a null state."""
    bob = RawWebSocket(server.port, "/crdt/spoof")
    bob.send(awareness_frame([(1001, 1, {"user": {"name": "Bob"}})]))
    eve = RawWebSocket(server.port, "/crdt/spoof")
    eve.send(awareness_frame([(1002, 1, {"user": {"name": "Eve"}})]))
    _wait(lambda: server.room("spoof")["presence"] == ["Bob", "Eve"], "Bob and Eve")
    mallory = RawWebSocket(server.port, "/crdt/spoof?token=reader")
    mallory.send(awareness_frame([(1001, 99, {"user": {"name": "Mallory"}}), (1002, 99, None)]))
    mallory.send(SYNC_STEP1_EMPTY)  # answered after the awareness frame was handled
    newcomer = RawWebSocket(server.port, "/crdt/spoof")
    newcomer.send(SYNC_STEP1_EMPTY)
    states = _states(newcomer)
    assert states[1001] == {"user": {"name": "Bob"}}
    assert states[1002] == {"user": {"name": "Eve"}}
    assert server.room("spoof")["presence"] == ["Bob", "Eve"]
    # Bob still owns his id: his own update and his leaving work as before.
    bob.send(awareness_frame([(1001, 2, {"user": {"name": "Bobby"}})]))
    _wait(lambda: server.room("spoof")["presence"] == ["Bobby", "Eve"], "Bob's rename")
    for ws in (bob, eve, mallory, newcomer):
        ws.close()


# ---------------------------------------------------------------------------- in process


class _StuckSocket:
    """A websocket whose client never reads: every send waits forever."""

    def __init__(self) -> None:
        self.sent: list[int] = []
        self.closed: tuple[int, str] | None = None

    async def send_bytes(self, data: bytes) -> None:
        self.sent.append(len(data))
        await asyncio.Event().wait()

    async def close(self, code: int = 1000, reason: str = "") -> None:
        self.closed = (code, reason)


def test_the_send_queue_is_bounded_in_bytes_not_frames() -> None:
    from crdt_sync.doc import Room
    from crdt_sync.net.channel import Connection
    from crdt_sync.net.limits import Limits

    async def scenario() -> None:
        sock = _StuckSocket()
        conn = Connection(sock, Room("q"), "read", limits=Limits(max_send_buffer=MiB))  # type: ignore[arg-type]
        conn.start()
        conn.send(b"x" * (5 * MiB))  # bigger than the budget, but nothing waits: sent
        await asyncio.sleep(0.01)
        assert sock.sent == [5 * MiB] and conn.closed is None
        for _ in range(3):
            conn.send(b"y" * (300 * 1024))  # waiting: 900 KiB
        assert conn.closed is None and conn.queued_bytes == 900 * 1024
        conn.send(b"z" * (300 * 1024))  # 1.2 MiB would wait: closed, the queue dropped
        assert conn.closed is not None and conn.closed[0] == 4503
        assert "the limit (max_send_buffer) is 1048576" in conn.closed[1]
        assert conn.queued_bytes == 0
        await asyncio.wait_for(conn.finish(), 5)
        assert sock.closed is not None and sock.closed[0] == 4503
        assert sock.sent == [5 * MiB]  # nothing more was sent to it

    run_on_own_loop(scenario)
