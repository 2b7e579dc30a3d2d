"""Start/stop real ``streamlit run`` servers for end-to-end tests.

A :class:`StreamlitServer` is one ``streamlit run`` subprocess bound to 127.0.0.1 on a
free port, headless, with stdout+stderr captured in a log file. It is started and
stopped by the fixture that created it (by pid: terminate, wait, kill on timeout).
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]

#: Seconds to wait for ``/_stcore/health`` to answer 200.
STARTUP_TIMEOUT = 30.0
#: Seconds to wait after SIGTERM before SIGKILL.
STOP_TIMEOUT = 5.0

#: Log lines matching this are suspicious (see :meth:`StreamlitServer.assert_clean_log`).
SUSPICIOUS = re.compile(r"Traceback|Exception|Error")

#: Suspicious-looking lines observed to be harmless with Streamlit 1.67. Extend per test
#: with ``assert_clean_log(allow=[...])`` rather than here, unless it is general noise.
DEFAULT_ALLOW: tuple[str, ...] = ()


class ServerStartError(RuntimeError):
    """The server process died or never became healthy."""


CHROMIUM = os.environ.get("E2E_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
"""Debian's chromium and the flags it runs with here (tests and benchmarks alike)."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class StreamlitServer:
    """One ``streamlit run`` subprocess; see :func:`StreamlitServer.start`."""

    def __init__(
        self,
        app_path: Path,
        *,
        port: int | None = None,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        args: Sequence[str] = (),
        log_path: Path | None = None,
    ) -> None:
        self.app_path = app_path
        self.port = port or free_port()
        self.extra_env = dict(env or {})
        self.cwd = cwd or app_path.parent
        self.args = list(args)
        self.log_path = log_path or app_path.parent / "streamlit.log"
        self.startup_seconds: float | None = None
        self._proc: subprocess.Popen[bytes] | None = None

    # ------------------------------------------------------------------ properties
    @property
    def url(self) -> str:
        """Base URL of the app, e.g. ``http://127.0.0.1:8765``."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int | None:
        """Pid of the running server, or None when stopped."""
        return self._proc.pid if self._proc is not None else None

    @property
    def running(self) -> bool:
        """True while the subprocess is alive."""
        return self._proc is not None and self._proc.poll() is None

    # ------------------------------------------------------------------ lifecycle
    def command(self) -> list[str]:
        """The argv used to start the server."""
        return [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            str(self.app_path),
            "--server.headless",
            "true",
            "--server.address",
            "127.0.0.1",
            "--server.port",
            str(self.port),
            "--browser.gatherUsageStats",
            "false",
            "--server.fileWatcherType",
            "none",
            *self.args,
        ]

    def _environ(self) -> dict[str, str]:
        env = dict(os.environ)
        env["PYTHONUNBUFFERED"] = "1"
        # Apps import the working tree's crdt_sync, not whatever is installed.
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(REPO_ROOT), env.get("PYTHONPATH", "")) if p
        )
        env.update(self.extra_env)
        return env

    def start(self, timeout: float = STARTUP_TIMEOUT) -> StreamlitServer:
        """Spawn the process and wait (polling ``/_stcore/health``) until it serves."""
        if self.running:
            raise RuntimeError(f"server already running (pid {self.pid})")
        t0 = time.monotonic()
        with self.log_path.open("ab") as log:
            log.write(f"=== e2e: starting {' '.join(self.command())}\n".encode())
            log.flush()
            self._proc = subprocess.Popen(
                self.command(),
                cwd=self.cwd,
                env=self._environ(),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # Ctrl-C in the terminal goes to pytest only
            )
        try:
            self._wait_healthy(t0 + timeout)
        except BaseException:
            self.stop()
            raise
        self.startup_seconds = time.monotonic() - t0
        return self

    def _wait_healthy(self, deadline: float) -> None:
        health = f"{self.url}/_stcore/health"
        while True:
            assert self._proc is not None
            if self._proc.poll() is not None:
                raise ServerStartError(
                    f"streamlit exited with {self._proc.returncode} before becoming healthy"
                    f"\n--- {self.log_path} ---\n{self.log_text()}"
                )
            try:
                with urllib.request.urlopen(health, timeout=1.0) as resp:
                    if resp.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
                pass
            if time.monotonic() > deadline:
                raise ServerStartError(
                    f"{health} not 200 in time\n--- {self.log_path} ---\n{self.log_text()}"
                )
            time.sleep(0.05)

    def stop(self, timeout: float = STOP_TIMEOUT) -> int | None:
        """Terminate by pid, wait, SIGKILL on timeout. Returns the exit code (idempotent)."""
        proc, self._proc = self._proc, None
        if proc is None:
            return None
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout)
        with self.log_path.open("ab") as log:
            log.write(f"=== e2e: stopped pid {proc.pid}, exit code {proc.returncode}\n".encode())
        return proc.returncode

    def restart(self, timeout: float = STARTUP_TIMEOUT) -> StreamlitServer:
        """Stop, then start again on the same port with the same files and env."""
        self.stop()
        return self.start(timeout)

    # ------------------------------------------------------------------ logs
    def log_text(self) -> str:
        """Everything the server printed so far (all restarts included)."""
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def suspicious_lines(self, allow: Iterable[str | re.Pattern[str]] = ()) -> list[str]:
        """Log lines mentioning Traceback/Exception/Error, minus allow-listed ones."""
        patterns = [re.compile(a) if isinstance(a, str) else a for a in (*DEFAULT_ALLOW, *allow)]
        return [
            line
            for line in self.log_text().splitlines()
            if SUSPICIOUS.search(line)
            and not line.startswith("=== e2e:")
            and not any(p.search(line) for p in patterns)
        ]

    def assert_clean_log(self, allow: Iterable[str | re.Pattern[str]] = ()) -> None:
        """Fail if the log has Traceback/Exception/Error lines (``allow``: regexes to ignore)."""
        bad = self.suspicious_lines(allow)
        assert not bad, (
            f"server log {self.log_path} has {len(bad)} suspicious line(s):\n"
            + "\n".join(bad)
            + f"\n--- full log ---\n{self.log_text()}"
        )

    def __repr__(self) -> str:
        return f"<StreamlitServer {self.url} pid={self.pid} app={self.app_path}>"


class StreamlitAppFactory:
    """``start(app_source, ...)`` → a healthy :class:`StreamlitServer`; ``close()`` stops all."""

    def __init__(self, base_dir: Path) -> None:
        self.base_dir = base_dir
        self.servers: list[StreamlitServer] = []

    def start(
        self,
        app_source: str,
        *,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        args: Sequence[str] = (),
        files: Mapping[str, str | bytes] | None = None,
        port: int | None = None,
        timeout: float = STARTUP_TIMEOUT,
    ) -> StreamlitServer:
        """Write ``app.py`` (+ ``files``, relative paths) and run it until healthy.

        The first server of a test lives in ``base_dir`` itself (``tmp_path/app.py``),
        later ones in ``base_dir/server<N>/``. ``cwd`` defaults to that directory.
        """
        n = len(self.servers)
        app_dir = self.base_dir if n == 0 else self.base_dir / f"server{n}"
        app_dir.mkdir(parents=True, exist_ok=True)
        app_path = app_dir / "app.py"
        app_path.write_text(app_source)
        for rel, content in (files or {}).items():
            target = app_dir / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                target.write_bytes(content)
            else:
                target.write_text(content)
        last_error: ServerStartError | None = None
        for _attempt in range(3 if port is None else 1):
            server = StreamlitServer(app_path, port=port, env=env, cwd=cwd, args=args)
            self.servers.append(server)
            try:
                return server.start(timeout)
            except ServerStartError as exc:
                # The free port may have been grabbed between probe and bind: retry.
                last_error = exc
                if "already in use" not in str(exc):
                    raise
        assert last_error is not None
        raise last_error

    def close(self) -> None:
        """Stop every server this factory started (by pid)."""
        errors: list[BaseException] = []
        for server in self.servers:
            try:
                server.stop()
            except BaseException as exc:  # keep stopping the others
                errors.append(exc)
        if errors:
            raise errors[0]

    def dump_logs(self) -> str:
        """All server logs, for failure reports."""
        return "\n".join(f"--- {s.log_path} ({s.url}) ---\n{s.log_text()}" for s in self.servers)
