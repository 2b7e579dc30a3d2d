"""Server memory under hostile websocket clients, before and after the limits (issue 13).

Run from the repository root::

    python -m benchmarks.hostile [--quick] [--before REF] [--out DIR]

Each attack gets a fresh ``crdt_sync.App`` under uvicorn (memory store, default `Limits`)
and raw websocket frames (``tests/security_helpers.RawWebSocket``); the number is the
server's RSS growth (``VmRSS``, its peak while the attack runs, minus the RSS before it).
"Before" serves a ``git worktree`` of ``REF`` (default: the commit before this work) the
same way. The full run writes the "## Hostile clients" section of ``DIR/RESULTS.md``
(default ``benchmarks/``); ``--quick`` uses small sizes and a scratch directory, never the
published file.

1. Amplification: a reader of a 1 MiB room sends 200 SyncStep1 frames and never reads.
2. Awareness flood: one reader announces 100 frames of 1,000 client ids.
3. Held-back updates: a writer sends 300 updates of 256 KiB whose predecessor never comes.
4. Room names: 20,000 connections, each to a room of its own, one after the other.
"""

from __future__ import annotations

import argparse
import contextlib
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from benchmarks.latency import output_dir, publish_section

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from security_helpers import (  # noqa: E402
    SYNC_STEP1_EMPTY,
    HostileServer,
    RawWebSocket,
    awareness_frame,
    varuint,
)

SECTION = "## Hostile clients"
BEFORE = "f7f102e"  # main before issue 13's work
MiB = 1024 * 1024
TARGET = 20 * MiB


class Sampler:
    """The highest RSS of a process while a block runs (sampled every 20 ms)."""

    def __init__(self, server: HostileServer) -> None:
        self.server = server
        self.peak = server.rss()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.02):
            with contextlib.suppress(Exception):
                self.peak = max(self.peak, self.server.rss())

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()
        with contextlib.suppress(Exception):
            self.peak = max(self.peak, self.server.rss())


def _quiet_send(ws: RawWebSocket, frame: bytes) -> bool:
    try:
        ws.send(frame)
        return True
    except OSError:  # the server closed it: the limit worked
        return False


def _big_room(server: HostileServer) -> None:
    server.fill("big", count=16, size=64 * 1024)  # 1 MiB


def _no_setup(server: HostileServer) -> None:
    pass


def amplification(server: HostileServer, scale: float) -> dict[str, Any]:
    frames = max(10, int(200 * scale))
    ws = RawWebSocket(server.port, "/crdt/big?token=reader", rcvbuf=4096)
    for _ in range(frames):
        _quiet_send(ws, SYNC_STEP1_EMPTY)
    time.sleep(3.0)
    ws.close()
    return {"what": f"{frames} SyncStep1 frames of 4 bytes on a 1 MiB room, never read"}


def awareness_flood(server: HostileServer, scale: float) -> dict[str, Any]:
    count = max(5, int(100 * scale))
    ws = RawWebSocket(server.port, "/crdt/flood?token=reader")
    for n in range(count):
        base = 10_000 + n * 1000
        frame = awareness_frame([(base + i, 1, {"user": {"name": f"m{i}"}}) for i in range(1000)])
        _quiet_send(ws, frame)
    time.sleep(1.0)
    members = len(server.room("flood")["presence"])
    closed = _close_code(ws)
    ws.close()
    how = f"closed with {closed}" if closed else "not closed"
    return {"what": f"{count} frames of 1,000 client ids sent, {how}", "members": members}


def _close_code(ws: RawWebSocket) -> int | None:
    """The close code the server sent, or None if it sent none within a second."""
    with contextlib.suppress(Exception):
        ws.sock.settimeout(1.0)
        while True:
            opcode, payload = ws.recv()
            if opcode == 8:
                return int.from_bytes(payload[:2], "big")
    return None


def held_back(server: HostileServer, scale: float) -> dict[str, Any]:
    from pycrdt import Doc, Text

    doc: Doc[Any] = Doc(client_id=4242)
    text = doc.get("text:t", type=Text)
    updates: list[bytes] = []
    doc.observe(lambda event: updates.append(bytes(event.update)))
    text += "first"  # withheld: everything after it waits for it
    count = max(10, int(300 * scale))
    for i in range(count):
        text += chr(65 + i % 26) * (256 * 1024)
    ws = RawWebSocket(server.port, "/crdt/held")
    for update in updates[1 : count + 1]:
        _quiet_send(ws, b"\x00\x02" + varuint(len(update)) + update)
    ws.send(SYNC_STEP1_EMPTY)  # answered once every update before it was handled
    with contextlib.suppress(Exception):
        while ws.recv()[1][:2] != b"\x00\x01":
            pass
    ws.close()
    return {"what": f"{count} updates of 256 KiB, their predecessor withheld"}


def room_names(server: HostileServer, scale: float) -> dict[str, Any]:
    count = max(200, int(20_000 * scale))
    t0 = time.monotonic()
    for i in range(count):
        ws = RawWebSocket(server.port, f"/crdt/name-{i:06d}")
        ws.recv()  # the server's SyncStep1: the room was opened
        ws.close()
    time.sleep(2.0)
    return {"what": f"{count} connections to distinct rooms ({time.monotonic() - t0:.0f} s)"}


Attack = Callable[[HostileServer, float], dict[str, Any]]
ATTACKS: list[tuple[str, str, Callable[[HostileServer], None], Attack]] = [
    ("amplification", "Reader that never reads (send queue)", _big_room, amplification),
    ("awareness", "Awareness flood", _no_setup, awareness_flood),
    ("held_back", "Held-back updates", _no_setup, held_back),
    ("room_names", "Distinct room names", _no_setup, room_names),
]


def measure(work: Path, env: dict[str, str], scale: float, label: str) -> dict[str, dict[str, Any]]:
    results: dict[str, dict[str, Any]] = {}
    for key, title, setup, attack in ATTACKS:
        server = HostileServer(work / f"{label}-{key}", env=env)
        server.start()
        try:
            setup(server)
            time.sleep(0.5)
            before = server.rss()
            with Sampler(server) as sampler:
                info = attack(server, scale)
            after = server.rss()
            info.update(grown=sampler.peak - before, kept=after - before)
            results[key] = info
            print(f"  {label:6} {title}: +{info['grown'] / MiB:.1f} MiB peak, {info['what']}")
        finally:
            server.stop()
    return results


@contextlib.contextmanager
def checkout(ref: str) -> Iterator[Path]:
    """A throwaway ``git worktree`` of ``ref``, removed afterwards."""
    path = Path(tempfile.mkdtemp(prefix="crdt-sync-before-"))
    path.rmdir()
    subprocess.run(
        ["git", "-C", str(REPO), "worktree", "add", "--detach", str(path), ref],
        check=True,
        capture_output=True,
    )
    try:
        yield path
    finally:
        subprocess.run(
            ["git", "-C", str(REPO), "worktree", "remove", "--force", str(path)],
            check=False,
            capture_output=True,
        )
        shutil.rmtree(path, ignore_errors=True)


def facts() -> str:
    """When, on what machine, with which versions (one line)."""
    import datetime as dt
    import os
    import platform
    from importlib.metadata import version

    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        "?",
    )
    return (
        f"Run {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC on {os.cpu_count()} cores "
        f"({cpu}), load average {os.getloadavg()[0]:.2f}; Python {platform.python_version()}, "
        f"uvicorn {version('uvicorn')}, websockets {version('websockets')}, Streamlit "
        f"{version('streamlit')}, pycrdt {version('pycrdt')}."
    )


def _mib(n: int) -> str:
    return f"{n / MiB:+.1f} MiB"


def section(
    before: dict[str, dict[str, Any]], after: dict[str, dict[str, Any]], *, command: str, ref: str
) -> str:
    lines = [
        SECTION,
        "",
        f"`{command}`: server RSS growth (peak while the attack runs, then what stays after it)",
        f"of `crdt_sync.App` under uvicorn with the default `Limits`; before = commit `{ref}`.",
        f"Target: every attack under {TARGET // MiB} MiB with the defaults. {facts()}",
        "",
        "| attack | before: peak / after it | after: peak / after it | what the server did |",
        "|---|---|---|---|",
    ]
    for key, title, _setup, _attack in ATTACKS:
        b, a = before.get(key, {}), after[key]
        ok = "✓" if a["grown"] < TARGET else "✗"
        old = f"{_mib(b['grown'])} / {_mib(b['kept'])}" if b else "-"
        did = a["what"] + (f"; {a['members']} members shown" if "members" in a else "")
        if "members" in b:
            did += f" (before: {b['members']} members)"
        lines.append(
            f"| {title} | {old} | **{_mib(a['grown'])}** / {_mib(a['kept'])} {ok} | {did} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.hostile", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes, nothing published")
    parser.add_argument("--before", default=BEFORE, help="the commit to compare with")
    parser.add_argument("--out", type=Path, default=None, help="where RESULTS.md is")
    args = parser.parse_args(argv)
    args.out = output_dir(args.out, args.quick)
    scale = 0.1 if args.quick else 1.0
    command = "python -m benchmarks.hostile" + (" --quick" if args.quick else "")
    with tempfile.TemporaryDirectory(prefix="bench-hostile-") as tmp:
        work = Path(tmp)
        print(f"after (this checkout, {REPO}):", flush=True)
        after = measure(work, {}, scale, "after")
        print(f"before ({args.before}):", flush=True)
        with checkout(args.before) as old:
            before = measure(work, {"PYTHONPATH": str(old)}, scale, "before")
    publish_section(args.out, SECTION, section(before, after, command=command, ref=args.before))


if __name__ == "__main__":
    main()
