"""What every browser benchmark needs: real servers, real browsers, clocks and statistics.

Servers are ``streamlit run`` subprocesses (`tests.e2e.server.StreamlitServer`) bound to
127.0.0.1 on free ports, each with its own working directory, store and log, stopped by
pid. Browsers are Debian's chromium driven by Playwright (never ``playwright install``);
each simulated person is a fresh browser context, so a fresh Streamlit session. The page
helpers are the end-to-end tests' own (`tests.e2e.helpers`).

Times in pages are wall-clock milliseconds (``performance.timeOrigin +
performance.now()``), comparable across the pages of one browser and with ``time.time()``.
"""

from __future__ import annotations

import contextlib
import math
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright
from playwright.sync_api import Error as PlaywrightError

from tests.e2e import helpers
from tests.e2e.server import CHROMIUM, CHROMIUM_ARGS, StreamlitServer, free_port

REPO_ROOT = Path(__file__).resolve().parents[1]

#: Records when Enter / Ctrl+Enter goes down in the page (the moment a person commits).
COMMIT_SCRIPT = r"""
(() => {
  if (window.__bench) return;
  const bench = (window.__bench = { commits: [] });
  document.addEventListener("keydown", (e) => {
    if (e.key === "Enter") bench.commits.push(performance.timeOrigin + performance.now());
  }, true);
})();
"""

#: Server log lines that are not problems of the library under test.
LOG_NOISE = (
    re.compile(r"=== e2e:"),
    re.compile(r"streamlit\.errors\.StreamlitAPIWarning"),
)


# ------------------------------------------------------------------------ statistics


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0-100) with linear interpolation; NaN when empty."""
    if not values:
        return math.nan
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100
    low, high = math.floor(pos), math.ceil(pos)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def summary(values: Sequence[float]) -> dict[str, float]:
    """n, p50, p95, mean of ``values``."""
    return {
        "n": len(values),
        "p50": percentile(values, 50),
        "p95": percentile(values, 95),
        "mean": statistics.fmean(values) if values else math.nan,
    }


# ------------------------------------------------------------------------ processes


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds the process (all its threads) has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks  # utime, stime


def memory_kib(pid: int, field_name: str = "VmHWM") -> int:
    """A memory figure of the process from /proc (``VmHWM`` peak RSS, ``VmRSS`` now), KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field_name + ":"):
            return int(line.split()[1])
    raise KeyError(field_name)


def dir_bytes(path: Path) -> int:
    """Bytes of all files under ``path``."""
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


class Profiler:
    """py-spy sampling a process until `stop` (raw format: ``frame;frame;... count`` per
    line, root first). Needs py-spy and the right to trace the process (root here)."""

    def __init__(self, pid: int, raw: Path, *, rate: int = 250) -> None:
        self.raw = raw
        self.rate = rate
        spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
        self.error: str | None = None
        self.proc: subprocess.Popen[bytes] | None = None
        if not Path(spy).exists():
            self.error = "py-spy not installed (pip install py-spy)"
            return
        command = [spy, "record", "--pid", str(pid), "--rate", str(rate), "--format", "raw"]
        self.proc = subprocess.Popen(
            [*command, "--output", str(raw), "--nonblocking"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        time.sleep(1.0)  # py-spy attaches

    def stop(self) -> str | None:
        """Stop sampling; None when ``raw`` was written, else why not."""
        if self.proc is None:
            return self.error
        self.proc.send_signal(signal.SIGINT)
        try:
            _out, err = self.proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            _out, err = self.proc.communicate()
        if not self.raw.exists():
            return f"py-spy wrote nothing: {err.decode(errors='replace')[-300:]}"
        return None


def script_profile(raw: Path, script: str, runs: int, rate: int) -> dict[str, float]:
    """Milliseconds per run spent in each function called (directly or not) by the script
    body of ``script`` (a file name), from a py-spy raw profile of ``runs`` runs; the key
    ``"(script body)"`` holds the whole body."""
    per: dict[str, float] = {}
    scale = 1000 / rate / runs
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if script not in stack or not count.isdigit():
            continue
        frames = [re.sub(r"\(/\S*/(site-packages|python3\.\d+)/", "(", f) for f in stack.split(";")]
        frames = [re.sub(r":\d+\)$", ")", f.replace(str(REPO_ROOT) + "/", "")) for f in frames]
        top = max(i for i, f in enumerate(frames) if script in f)
        per["(script body)"] = per.get("(script body)", 0.0) + int(count) * scale
        for frame in set(frames[top + 1 :]):
            per[frame] = per.get(frame, 0.0) + int(count) * scale
    return per


# ------------------------------------------------------------------------ servers


@dataclass
class Server:
    """One ``streamlit run`` of an app in its own directory (store, log, cwd)."""

    app: Path
    workdir: Path
    env: dict[str, str] = field(default_factory=dict)
    server: StreamlitServer | None = None
    started_at: float = 0.0  # time.time() just before the process was spawned

    def start(self) -> Server:
        self.workdir.mkdir(parents=True, exist_ok=True)
        if self.server is None:
            self.server = StreamlitServer(
                self.app,
                port=free_port(),
                env=self.env,
                cwd=self.workdir,
                log_path=self.workdir / "streamlit.log",
            )
        self.started_at = time.time()
        self.server.start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()

    @property
    def url(self) -> str:
        assert self.server is not None
        return self.server.url

    @property
    def pid(self) -> int:
        assert self.server is not None and self.server.pid is not None
        return self.server.pid

    def problems(self) -> list[str]:
        """Log lines with Traceback/Exception/Error, minus known noise."""
        if self.server is None:
            return []
        return self.server.suspicious_lines(allow=LOG_NOISE)


# ------------------------------------------------------------------------ browsers


class Browsers:
    """One headless chromium for a benchmark run; each `open` is one new person."""

    def __init__(self) -> None:
        self._playwright: Playwright | None = None
        self.browser: Browser | None = None
        self.contexts: list[BrowserContext] = []

    def __enter__(self) -> Browsers:
        self._playwright = sync_playwright().start()
        self.browser = self._playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS
        )
        return self

    def __exit__(self, *exc: object) -> None:
        self.close_all()
        if self.browser is not None:
            self.browser.close()
        if self._playwright is not None:
            self._playwright.stop()

    @property
    def version(self) -> str:
        return self.browser.version if self.browser is not None else "?"

    def open(self, url: str, *, watch: Sequence[str] = (), wait: bool = True) -> Page:
        """A new session on ``url``, with the timing scripts installed, waited until idle."""
        assert self.browser is not None
        context = self.browser.new_context(viewport={"width": 900, "height": 1000})
        self.contexts.append(context)
        context.set_default_timeout(helpers.TIMEOUT)
        context.add_init_script(helpers.init_script(watch))
        context.add_init_script(COMMIT_SCRIPT)
        page = context.new_page()
        helpers.track_session(page)
        page.goto(url)
        if wait:
            helpers.wait_idle(page, 30_000)
        return page

    def close_all(self) -> None:
        for context in self.contexts:
            with contextlib.suppress(PlaywrightError):
                context.close()
        self.contexts.clear()


def page_problems(pages: Sequence[Page]) -> list[str]:
    """Exception boxes shown by the app and uncaught errors in the pages."""
    found: list[str] = []
    for page in pages:
        with contextlib.suppress(PlaywrightError):
            found += [f"page exception: {t[:200]}" for t in helpers.exceptions_on_page(page)]
        found += [e for e in helpers.browser_errors(page) if "pageerror" in e]
    return found


def last_commit(page: Page) -> float:
    """When Enter last went down in ``page`` (page-clock ms)."""
    return float(page.evaluate("() => window.__bench.commits.at(-1)"))


def seen_at(page: Page, text: str) -> float | None:
    """When a watched ``text`` first appeared in ``page``, or None (not yet)."""
    value = page.evaluate("t => (t in window.__e2e.seen) ? window.__e2e.seen[t] : null", text)
    return None if value is None else float(value)


def shown_times(pages: Sequence[Page], text: str, timeout: float) -> list[float | None]:
    """When each page first showed a watched ``text`` (page-clock ms), None for a page that
    did not within ``timeout`` seconds, one deadline shared by all pages."""
    deadline = time.monotonic() + timeout
    times: list[float | None] = []
    for page in pages:
        left = max(1.0, (deadline - time.monotonic()) * 1000)
        try:
            times.append(helpers.text_appeared_at(page, text, left))
        except PlaywrightError:
            times.append(None)
    return times


def wait_until(check: Any, timeout: float, pages: Sequence[Page] = (), step: float = 0.05) -> bool:
    """Poll ``check()`` until true or ``timeout`` seconds pass; returns the last result.

    Pumps Playwright events on ``pages`` while waiting (so trackers stay current).
    """
    deadline = time.monotonic() + timeout
    while True:
        with contextlib.suppress(PlaywrightError):
            if check():
                return True
        if time.monotonic() > deadline:
            return False
        if pages:
            pages[0].wait_for_timeout(step * 1000)
        else:
            time.sleep(step)


def settle(pages: Sequence[Page], timeout: float = 5.0) -> bool:
    """Wait until every page is idle (connected, not running, nothing stale)."""
    deadline = time.monotonic() + timeout
    ok = True
    for page in pages:
        try:
            helpers.wait_idle(page, max(100.0, (deadline - time.monotonic()) * 1000))
        except (AssertionError, PlaywrightError):
            ok = False
    return ok


@contextlib.contextmanager
def scratch_dir(prefix: str, keep: Path | None = None) -> Iterator[Path]:
    """A temporary directory (removed afterwards unless ``keep`` is given)."""
    if keep is not None:
        keep.mkdir(parents=True, exist_ok=True)
        yield keep
        return
    path = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)
