"""A real ``redis-server`` for tests: started on a free loopback port, stopped by pid.

```py
with RedisServer(tmp_path / "redis") as server:
    ...                   # server.url == "redis://127.0.0.1:PORT/0"
```

The ``redis_server`` and ``stores`` fixtures of ``conftest.py`` are built on it.

Tests are skipped only when the ``redis-server`` binary is missing (``scripts/test.sh``
installs Debian's package).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path
from types import TracebackType

import pytest

REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"
START_TIMEOUT = 10.0


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def require_redis_server() -> str:
    """The redis-server binary, or skip the test."""
    if not os.path.exists(REDIS_SERVER):
        pytest.skip("redis-server is not installed (apt-get install redis-server)")
    return REDIS_SERVER


class RedisServer:
    """One ``redis-server`` process in ``directory``.

    Args:
        directory: Working directory (logs, and the AOF when ``appendonly``).
        appendonly: Keep data across restarts (AOF, ``appendfsync always``).
        port: The port (default: a free one, kept across restarts).
    """

    def __init__(self, directory: Path, *, appendonly: bool = False, port: int | None = None):
        self.binary = require_redis_server()
        self.directory = directory
        self.directory.mkdir(parents=True, exist_ok=True)
        self.appendonly = appendonly
        self.port = port or free_port()
        self.log_path = directory / "redis.log"
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    def command(self) -> list[str]:
        persistence = (
            ["--appendonly", "yes", "--appendfsync", "always"]
            if self.appendonly
            else ["--appendonly", "no"]
        )
        return [
            self.binary,
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            *persistence,
            "--dir",
            str(self.directory),
            "--daemonize",
            "no",
            "--protected-mode",
            "yes",
        ]

    def start(self) -> RedisServer:
        """Start and wait until it answers PING."""
        with self.log_path.open("ab") as log:
            self._proc = subprocess.Popen(
                self.command(),
                cwd=self.directory,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + START_TIMEOUT
        while not self.ping():
            if self._proc.poll() is not None:
                raise RuntimeError(f"redis-server exited:\n{self.log_path.read_text()}")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"redis-server never answered:\n{self.log_path.read_text()}")
            time.sleep(0.02)
        return self

    def ping(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self, *, kill: bool = False) -> None:
        """Stop it by pid (SIGTERM, or SIGKILL with ``kill``); waits until it is gone."""
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)

    def restart(self) -> RedisServer:
        self.stop()
        return self.start()

    def __enter__(self) -> RedisServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
