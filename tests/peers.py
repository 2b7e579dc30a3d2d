"""Drive a JSON-lines peer process (``redis_peer.py``, ``js/ws_peer.mjs``) from a test.

A peer reads ``{"id": N, "cmd": ..., ...}`` lines on stdin and answers ``{"id": N, "ok":
...}`` on stdout; any other stdout line is an event (``{"event": ...}`` or ``{"ack": i}``).
"""

from __future__ import annotations

import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

TESTS = Path(__file__).resolve().parent
REPO = TESTS.parent
JS_DIR = TESTS / "js"
NODE = shutil.which("node")


class PeerError(AssertionError):
    """A peer answered ``ok: false``, died, or did not answer in time."""


class Peer:
    """One peer process.

    Args:
        argv: The command.
        name: For messages.
        cwd: Working directory.
    """

    def __init__(self, argv: Sequence[str], *, name: str, cwd: Path = REPO) -> None:
        self.name = name
        env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONUNBUFFERED": "1"}
        self.proc = subprocess.Popen(
            list(argv),
            cwd=cwd,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            bufsize=1,
        )
        self.events: list[dict[str, Any]] = []
        self.stderr: list[str] = []
        self._replies: queue.Queue[dict[str, Any]] = queue.Queue()
        self._event = threading.Condition()
        self._ids = iter(range(1, 1 << 30))
        self._done = False
        threading.Thread(target=self._read, daemon=True).start()
        threading.Thread(target=self._read_stderr, daemon=True).start()

    @classmethod
    def redis(cls, url: str, room: str, *, name: str = "redis-peer") -> Peer:
        """A Python server process on a Redis store (``tests/redis_peer.py``)."""
        return cls([sys.executable, str(TESTS / "redis_peer.py"), url, room], name=name)

    @classmethod
    def yjs(
        cls, url: str, room: str, *, params: dict[str, str] | None = None, name: str = "js"
    ) -> Peer:
        """A y-websocket client (``tests/js/ws_peer.mjs``) joining ``url``/``room``."""
        assert NODE is not None, "node is not installed"
        argv = [NODE, str(JS_DIR / "ws_peer.mjs"), "--url", url, "--room", room]
        for key, value in (params or {}).items():
            argv += ["--param", f"{key}={value}"]
        return cls(argv, name=name, cwd=JS_DIR)

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            try:
                msg = json.loads(line)
            except ValueError:
                self.stderr.append(f"(stdout) {line}")
                continue
            if "id" in msg and msg["id"] is not None and "ok" in msg:
                self._replies.put(msg)
            else:
                with self._event:
                    self.events.append(msg)
                    self._event.notify_all()
        with self._event:
            self._done = True
            self._event.notify_all()

    def _read_stderr(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.stderr.append(line)

    def request(
        self, cmd: str, *, timeout: float = 20.0, check: bool = True, **args: Any
    ) -> dict[str, Any]:
        """Send a command and return its answer (raises `PeerError` unless ``ok``)."""
        return self.reply(self.send(cmd, **args), cmd, timeout=timeout, check=check)

    def send(self, cmd: str, **args: Any) -> int:
        """Send a command without waiting; `reply` collects the answer."""
        msg_id = next(self._ids)
        assert self.proc.stdin is not None
        try:
            self.proc.stdin.write(json.dumps({"id": msg_id, "cmd": cmd, **args}) + "\n")
            self.proc.stdin.flush()
        except BrokenPipeError:
            raise PeerError(f"{self.name} is gone: {''.join(self.stderr)[-2000:]}") from None
        return msg_id

    def reply(
        self, msg_id: int, cmd: str = "?", *, timeout: float = 20.0, check: bool = True
    ) -> dict[str, Any]:
        """The answer to a command sent with `send` (answers come in order)."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                reply = self._replies.get(timeout=max(0.0, min(0.2, deadline - time.monotonic())))
            except queue.Empty:
                if self.proc.poll() is not None:
                    raise PeerError(
                        f"{self.name} exited ({self.proc.returncode}) during {cmd!r}: "
                        f"{''.join(self.stderr)[-2000:]}"
                    ) from None
                if time.monotonic() > deadline:
                    raise PeerError(f"{self.name}: no answer to {cmd!r} in {timeout}s") from None
                continue
            if reply["id"] != msg_id:
                continue
            if check and not reply["ok"]:
                raise PeerError(f"{self.name}: {cmd!r} failed: {reply.get('error', reply)}")
            return reply

    def wait_event(
        self,
        match: Callable[[dict[str, Any]], bool],
        what: str,
        timeout: float = 20.0,
        *,
        since: int = 0,
    ) -> dict[str, Any]:
        """The first event from ``events[since]`` on (seen or still to come) that matches."""
        deadline = time.monotonic() + timeout
        with self._event:
            while True:
                for event in self.events[since:]:
                    if match(event):
                        return event
                left = deadline - time.monotonic()
                if left <= 0 or self._done:
                    raise PeerError(
                        f"{self.name}: no {what} in {timeout}s; events {self.events[-10:]}"
                    )
                self._event.wait(min(left, 0.2))

    def kill(self) -> None:
        """``kill -9`` by pid."""
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)

    def close(self) -> None:
        """Ask it to quit; kill it if it does not."""
        if self.proc.poll() is None:
            try:
                self.request("quit", timeout=5)
                self.proc.wait(5)
            except (PeerError, subprocess.TimeoutExpired, OSError):
                pass
        if self.proc.poll() is None:
            self.kill()
