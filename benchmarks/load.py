"""Load: how many people can share one room, with headless sessions (issue 16).

Run from the repository root (``redis-server`` for the two-process setup, chromium for
the check against real browsers)::

    python -m benchmarks.load [--quick] [--out DIR] [--sessions 10,50,100,200]
    python -m benchmarks.load --pages-only      # "who needs a rerun" alone (N = 100)
    python -m benchmarks.load --from-json benchmarks/plots/load.json   # pages again

It writes the "## Load" section of ``DIR/RESULTS.md`` (default ``benchmarks/``; with
``--quick`` a scratch directory), ``DIR/plots/load.png`` and ``DIR/plots/load.json``.

Each session is a `benchmarks.load_client.Session`: Streamlit's own websocket protocol,
no browser, so one process holds hundreds of real server sessions. The app is the
browser harness's ``shared_widgets.py`` (``benchmarks/apps/with_*/``): a shared text
input "Alpha" and the line ``seen a:<value>|``. Session 0 (the editor) sends the rerun a
browser sends when Enter is pressed in Alpha; the harness times, from just before that
send, when each other session received a frame with the new line (on loopback: when the
server sent it). Setups, run in turns for each N: crdt_sync (diskcache store, one
process), streamlit-server-state, crdt_sync with 2 ``streamlit run`` processes on one
``redis-server`` (sessions split across them), and the same app without any library
(``benchmarks/apps/with_plain/``: what one plain rerun costs, what an idle session
weighs). Server CPU from ``/proc/<pid>/stat``, RSS from ``/proc/<pid>/status``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from collections.abc import Coroutine, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path
from typing import Any, TypeVar

from benchmarks.apps import APPS, app_path
from benchmarks.harness import Server, cpu_seconds, memory_kib, scratch_dir
from benchmarks.latency import output_dir, publish_section
from benchmarks.load_client import Session, close_all, open_sessions, quiet

REPO = Path(__file__).resolve().parents[1]
CRDT, SSS, REDIS2, PLAIN = (
    "crdt_sync",
    "streamlit-server-state",
    "crdt_sync, 2 processes on Redis",
    "without crdt_sync",
)
SETUPS = (CRDT, SSS, REDIS2, PLAIN)
T = TypeVar("T")
#: Seconds an edit may take to reach every session before the rest count as never sent.
TIMEOUT = 30.0


def in_own_loop(job: Coroutine[Any, Any, T]) -> T:
    """Run ``job`` on an event loop of its own thread (Playwright's sync API keeps a loop
    on the main thread while browsers are open)."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, job).result()


def _apps(setup: str) -> Path:
    if setup == SSS:
        return app_path(SSS, "shared_widgets")
    if setup == PLAIN:
        return APPS / "with_plain" / "shared_widgets.py"
    return app_path(CRDT, "shared_widgets")


def start_servers(
    setup: str, work: Path, redis_url: str | None, app: Path | None = None
) -> list[Server]:
    """The ``streamlit run`` processes of ``setup`` (two on one Redis for `REDIS2`)."""
    app = app or _apps(setup)
    if setup == REDIS2:
        assert redis_url is not None
        env = {"CRDT_SYNC_STORE": redis_url}
        return [Server(app, work / f"p{i}", env).start() for i in (1, 2)]
    env = {"CRDT_SYNC_STORE": f"diskcache:{work / 'store'}"} if setup != SSS else {}
    return [Server(app, work, env).start()]


def _cpu(servers: Sequence[Server]) -> float:
    return sum(cpu_seconds(s.pid) for s in servers)


def _rss_kib(servers: Sequence[Server]) -> int:
    return sum(memory_kib(s.pid, "VmRSS") for s in servers)


async def _connect(servers: Sequence[Server], count: int, page: str = "") -> list[Session]:
    """``count`` sessions, dealt round-robin over ``servers`` (session 0 on the first)."""
    per = [
        count // len(servers) + (1 if i < count % len(servers) else 0) for i in range(len(servers))
    ]
    groups = [await open_sessions(s.url, k, page=page) for s, k in zip(servers, per, strict=True)]
    dealt: list[Session] = []
    for i in range(max(per)):
        dealt += [g[i] for g in groups if i < len(g)]
    return dealt


async def _edit_round(
    editor: Session, waiting: Sequence[Session], everyone: Sequence[Session], value: str
) -> tuple[float | None, list[float | None]]:
    """One edit of Alpha by ``editor``: (ms until the editor's own page had it, ms until
    each of ``waiting`` had it, None for never); then waits until all are quiet."""
    marker = f"seen a:{value}|"
    sent = await editor.edit({"Alpha": value})
    await asyncio.gather(
        editor.wait_text(marker, TIMEOUT), *(s.wait_text(marker, TIMEOUT) for s in waiting)
    )
    await quiet(list(everyone))

    def ms(s: Session) -> float | None:
        at = s.seen.get(marker)
        return None if at is None else (at - sent) * 1000

    return ms(editor), [ms(s) for s in waiting]


async def measure(
    setup: str,
    sessions: int,
    edits: int,
    work: Path,
    *,
    redis_url: str | None = None,
    warmup: int = 2,
) -> dict[str, Any]:
    """``sessions`` sessions of ``setup`` in one room; the editor commits ``edits`` values.

    Returns per edit: ``floor`` (ms, the editor's own round trip), ``slowest`` (ms until
    the last other session had it; only edits every session got), ``receivers`` (ms per
    other session, pooled), ``missed`` (session-edits never sent within `TIMEOUT`),
    ``cpu_per_edit`` (server seconds, all processes, idle rate taken off), ``runs_per_edit``
    (script runs that ended, all sessions), ``rss_per_session_kib``, ``problems``.
    """
    servers = start_servers(setup, work, redis_url)
    everyone: list[Session] = []
    try:
        everyone = await _connect(servers, len(servers))  # one warm session per process
        await quiet(everyone)
        rss0 = _rss_kib(servers)
        everyone += await _connect(servers, sessions - len(servers))
        await quiet(everyone, quiet_for=1.0)
        join_runs = sum(s.runs for s in everyone)
        await asyncio.sleep(1.0)
        rss1 = _rss_kib(servers)
        editor, others = everyone[0], everyone[1:]
        waiting = [] if setup == PLAIN else others
        cpu_idle0, t_idle0 = _cpu(servers), time.perf_counter()
        await asyncio.sleep(1.0)
        idle_rate = (_cpu(servers) - cpu_idle0) / (time.perf_counter() - t_idle0)
        floor: list[float] = []
        slowest: list[float] = []
        receivers: list[float] = []
        missed = 0
        cpu0 = t0 = runs0 = client0 = 0.0
        for i in range(warmup + edits):
            if i == warmup:
                cpu0, t0 = _cpu(servers), time.perf_counter()
                runs0, client0 = sum(s.runs for s in everyone), time.process_time()
            own, shown = await _edit_round(editor, waiting, everyone, f"n{sessions}e{i}")
            if i < warmup:
                continue
            if own is not None:
                floor.append(own)
            got = [s for s in shown if s is not None]
            missed += len(shown) - len(got)
            receivers += got
            if got and len(got) == len(shown):
                slowest.append(max(got))
        seconds = time.perf_counter() - t0
        cpu = _cpu(servers) - cpu0 - idle_rate * seconds
        runs = sum(s.runs for s in everyone) - runs0
        client_cpu = time.process_time() - client0
        problems = [e for s in everyone for e in s.errors]
    finally:
        await close_all(everyone)
        for server in servers:
            server.stop()
    problems += [p for server in servers for p in server.problems()]
    return {
        "setup": setup,
        "sessions": sessions,
        "processes": len(servers),
        "edits": edits,
        "floor": floor,
        "slowest": slowest,
        "receivers": receivers,
        "missed": missed,
        "cpu_per_edit": cpu / edits,
        "idle_cpu_rate": idle_rate,
        "client_cpu_per_edit": client_cpu / edits,
        "runs_per_edit": runs / edits,
        "runs_per_join": join_runs / sessions,
        "rss_per_session_kib": (rss1 - rss0) / max(1, sessions - len(servers)),
        "rss_kib": rss1,
        "problems": problems[:20],
    }


async def measure_pages(
    sessions: int, edits: int, work: Path, *, other: str = "two", warmup: int = 2
) -> dict[str, Any]:
    """Who needs a rerun: ``benchmarks/apps/with_crdt_sync/two_pages.py``, half the
    sessions on page "one" (shows Alpha; the editor is one of them), half on page
    ``other``: "two" (shows only Beta, in the same room) or "three" (no sync block).
    Reruns per edit of each half, from the ``script_finished`` messages each session
    received; CPU per edit."""
    servers = start_servers(CRDT, work, None, APPS / "with_crdt_sync" / "two_pages.py")
    one: list[Session] = []
    two: list[Session] = []
    try:
        half = sessions // 2
        one = await _connect(servers, sessions - half)  # the first page is served at "/"
        two = await _connect(servers, half, page=other)
        everyone = one + two
        await quiet(everyone, quiet_for=1.0)
        slowest: list[float] = []
        missed = 0
        cpu0 = t0 = 0.0
        runs0 = [0, 0]
        for i in range(warmup + edits):
            if i == warmup:
                cpu0, t0 = _cpu(servers), time.perf_counter()
                runs0 = [sum(s.runs for s in one), sum(s.runs for s in two)]
            _own, shown = await _edit_round(one[0], one[1:], everyone, f"p{sessions}e{i}")
            if i < warmup:
                continue
            got = [s for s in shown if s is not None]
            missed += len(shown) - len(got)
            if got and len(got) == len(shown):
                slowest.append(max(got))
        cpu = _cpu(servers) - cpu0
        seconds = time.perf_counter() - t0
        runs = [sum(s.runs for s in one) - runs0[0], sum(s.runs for s in two) - runs0[1]]
        problems = [e for s in everyone for e in s.errors]
    finally:
        await close_all(one + two)
        for server in servers:
            server.stop()
    return {
        "sessions": sessions,
        "edits": edits,
        "page_one": len(one),
        "page_two": len(two),
        "runs_per_edit_one": runs[0] / edits / max(1, len(one)),
        "runs_per_edit_two": runs[1] / edits / max(1, len(two)),
        "cpu_per_edit": cpu / edits,
        "seconds": seconds,
        "slowest": slowest,
        "missed": missed,
        "problems": problems[:20] + [p for s in servers for p in s.problems()][:20],
    }


# ------------------------------------------------------------------ the check against browsers


def browser_check(counts: Sequence[int], edits: int, rounds: int, work: Path) -> dict[str, Any]:
    """crdt_sync's propagation at each N in ``counts``, measured by real chromium pages
    (`benchmarks.latency.propagation`: Enter keydown to the page showing the value) and
    by headless sessions, in turns (the order flips each round), on the same app."""
    from benchmarks.compare import machine_facts
    from benchmarks.harness import Browsers
    from benchmarks.latency import propagation

    runs: list[dict[str, Any]] = []
    with Browsers() as browsers:
        for r in range(rounds):
            for n in counts:
                kinds = ("browser", "headless") if r % 2 == 0 else ("headless", "browser")
                for kind in kinds:
                    where = work / f"check-{kind}-{n}-{r}"
                    print(f"  check: {kind}, {n} sessions, round {r + 1}", flush=True)
                    if kind == "browser":
                        result = propagation(browsers, CRDT, n, edits, where)
                    else:
                        result = in_own_loop(measure(CRDT, n, edits, where))
                    runs.append({"kind": kind, "round": r, **result})
        facts = machine_facts(browsers.version)
    return {"runs": runs, "facts": facts}


# ------------------------------------------------------------------ the whole run


def run(
    counts: Sequence[int],
    *,
    edits: int,
    rounds: int,
    pages_n: int,
    check_counts: Sequence[int],
    check_edits: int,
    work: Path,
    setups: Sequence[str] = SETUPS,
    partial: Path | None = None,
) -> dict[str, Any]:
    """Every setup at every N (setups in turns, the order reversed each round), the
    two-page measure, and the check against real browsers. What is measured so far is
    written to ``partial`` (JSON) after each measure, for ``--from-json``."""
    sys.path.insert(0, str(REPO / "tests"))
    from redis_helpers import REDIS_SERVER, RedisServer  # type: ignore[import-not-found]

    results: dict[str, Any] = {"runs": [], "plan": {"sessions": list(counts), "edits": edits}}
    if not os.path.exists(REDIS_SERVER):
        setups = [s for s in setups if s != REDIS2]
        results["redis"] = "redis-server is not installed"
    for n in counts:
        for r in range(rounds):
            order = list(setups) if r % 2 == 0 else list(reversed(setups))
            for setup in order:
                print(f"  {setup}, {n} sessions, round {r + 1}", flush=True)
                where = work / f"{n}-{r}-{setup.split(',')[0]}-{len(setup)}"
                with ExitStack() as stack:
                    url = None
                    if setup == REDIS2:
                        url = stack.enter_context(RedisServer(where / "redis")).url
                    try:
                        result = in_own_loop(measure(setup, n, edits, where, redis_url=url))
                    except Exception as exc:  # recorded, the run goes on
                        result = {"setup": setup, "sessions": n, "error": f"{exc!r}"[:300]}
                results["runs"].append({"round": r, **result})
                if partial is not None:
                    partial.write_text(json.dumps(results, indent=1))
    for key, other in (("pages", "two"), ("pages_no_block", "three")) if pages_n else ():
        print(f"  two pages, {pages_n} sessions, the other page {other!r}", flush=True)
        job = measure_pages(pages_n, edits, work / key, other=other)
        results[key] = {**in_own_loop(job), "other": other}
    if check_counts:
        from tests.e2e.server import CHROMIUM

        if os.path.exists(CHROMIUM):
            results["check"] = browser_check(check_counts, check_edits, rounds, work)
        else:
            results["check"] = {"error": f"no chromium at {CHROMIUM}"}
    return results


def main(argv: Sequence[str] | None = None) -> None:
    from benchmarks.compare import machine_facts
    from benchmarks.load_report import make_plot, section

    parser = argparse.ArgumentParser(prog="python -m benchmarks.load", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="N = 2 and 4, a few edits")
    parser.add_argument("--out", type=Path, default=None, help="where RESULTS.md is")
    parser.add_argument("--sessions", default="10,50,100,200", help="the N to measure")
    parser.add_argument("--edits", type=int, default=None, help="timed edits per run")
    parser.add_argument("--rounds", type=int, default=None, help="runs per setup and N")
    parser.add_argument("--pages-only", action="store_true", help="only the two-page measure")
    parser.add_argument("--no-check", action="store_true", help="no check against browsers")
    parser.add_argument("--from-json", type=Path, default=None, help="measure nothing")
    args = parser.parse_args(argv)
    args.out = output_dir(args.out, args.quick)
    if args.from_json is not None:
        results = json.loads(args.from_json.read_text())
    else:
        counts = [2, 4] if args.quick else [int(n) for n in args.sessions.split(",")]
        edits = args.edits or (3 if args.quick else 20)
        rounds = args.rounds or (1 if args.quick else 2)
        check = [] if args.no_check or args.pages_only else ([2] if args.quick else [2, 10])
        partial = args.out / "plots" / "load.partial.json"
        partial.parent.mkdir(parents=True, exist_ok=True)
        with scratch_dir("bench-load-") as work:
            results = run(
                [] if args.pages_only else counts,
                edits=edits,
                rounds=rounds,
                pages_n=4 if args.quick else 100,
                check_counts=check,
                check_edits=edits,
                work=work,
                partial=partial,
            )
            partial.unlink(missing_ok=True)
        saved = args.out / "plots" / "load.json"
        if args.pages_only and saved.exists():  # the other measures stay as they were
            pages = {k: results[k] for k in ("pages", "pages_no_block")}
            results = {**json.loads(saved.read_text()), **pages}
        else:
            results["command"] = "python -m benchmarks.load" + " ".join(
                ["", *(argv if argv is not None else sys.argv[1:])]
            )
            results["facts"] = results.get("check", {}).get("facts") or machine_facts()
        (args.out / "plots").mkdir(parents=True, exist_ok=True)
        (args.out / "plots" / "load.json").write_text(json.dumps(results, indent=1))
    plot = make_plot(results, args.out / "plots")
    from benchmarks.load_report import SECTION

    publish_section(args.out, SECTION, section(results, plot))


if __name__ == "__main__":
    main()
