"""crdt_sync side by side with streamlit-server-state and streamlit-sync, in real browsers.

Run from the repository root, with the benchmark extra installed
(``pip install -e '.[bench]'``)::

    python -m benchmarks.compare            # the full run, about 10 minutes on 2 cores
    python -m benchmarks.compare --quick    # a few trials of each: checks the harness
    python -m benchmarks.compare --out DIR  # write DIR/RESULTS.md and DIR/plots/

The same small apps, written once per library (``benchmarks/apps/with_*/``), each run by
its own ``streamlit run`` server on 127.0.0.1 and driven by real chromium sessions the
way a person would (typing, clicking, pressing Enter). An anchor that does not run on this
Streamlit (streamlit-sync 0.1.0 fails on import) is recorded with its error.

Measures (issue 9):

1. Propagation with 2, 5 and 10 sessions, next to the floor (see `benchmarks.latency`).
2. Lost edits: A and B change different widgets 0-50 ms apart; a trial loses an edit when,
   after things settle, a value is missing on either page.
3. Concurrent counter: two sessions click "+1" ten times each, interleaved as fast as the
   harness can (each page clicks again once its previous click has been run); the count
   a freshly opened page shows, against 20; with and without the anchor's lock.
4. Concurrent typing: two sessions edit one text area at different places and commit
   together; characters of either edit missing afterwards.
5. Chat: two sessions send 20 messages each, interleaved; messages lost or duplicated on
   any page, and whether every page shows one order.
6. Restore: server start to a room of 10,000 changes visible in a new page, before and
   after compaction, next to the same app on an empty store; bytes on disk.
7. Server cost: CPU seconds and peak memory of the server process (``/proc``) for 10
   sessions opening the app and committing a fixed series of edits.

Plus the bridge overhead per rerun (`benchmarks.latency.overhead`). Writes the sections
"## Compared with streamlit-server-state and streamlit-sync" and "## Bridge latency" of
RESULTS.md and leaves the others alone.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import re
import subprocess
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from benchmarks import latency
from benchmarks.apps import LIBRARIES
from benchmarks.harness import REPO_ROOT, Browsers, scratch_dir
from benchmarks.measures import (
    CRDT,
    chat,
    concurrent_typing,
    counter,
    gc_probe,
    lost_edits,
    restore,
    server_cost,
)
from benchmarks.report import SECTION, latency_notes, make_plots, render

DEFAULT_OUT = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Plan:
    """How many trials of each measure a run makes."""

    sessions: tuple[int, ...] = (2, 5, 10)
    edits: int = 30
    lost_trials: int = 30
    counter_rounds: int = 3
    clicks: int = 10
    typing_trials: int = 10
    messages: int = 20
    restore_changes: int = 10_000
    restore_reps: int = 2
    cost_sessions: int = 10
    cost_edits: int = 30
    reruns: int = 30
    warmup: int = 2  # edits / reruns not counted at the start of a propagation / overhead run
    counter_apps: tuple[str, ...] = ("counter", "counter_lock", "counter_compat")
    probe_gc: bool = True


FULL = Plan()
QUICK = Plan(
    sessions=(2,),
    edits=2,
    lost_trials=2,
    counter_rounds=1,
    clicks=2,
    typing_trials=1,
    messages=2,
    restore_changes=200,
    restore_reps=1,
    cost_sessions=2,
    cost_edits=2,
    reruns=2,
    warmup=1,
    counter_apps=("counter",),
    probe_gc=False,
)


# ------------------------------------------------------------------ libraries


def library_status() -> dict[str, dict[str, str | None]]:
    """Version of each library and, if it cannot be imported here, the error."""
    checks: dict[str, tuple[str | None, subprocess.Popen[str] | None]] = {}
    for library, (_dir, dist, module) in LIBRARIES.items():
        try:
            version: str | None = metadata.version(dist)
        except metadata.PackageNotFoundError:
            checks[library] = (None, None)
            continue
        proc = subprocess.Popen(
            [sys.executable, "-c", f"import {module}"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            cwd=REPO_ROOT,
        )
        checks[library] = (version, proc)
    status: dict[str, dict[str, str | None]] = {}
    for library, (version, check) in checks.items():
        error: str | None = None
        if check is None:
            dist = LIBRARIES[library][1]
            error = f"not installed (pip install -e '.[bench]'): no distribution {dist!r}"
        else:
            _out, stderr = check.communicate(timeout=120)
            if check.returncode != 0:
                lines = [line for line in stderr.strip().splitlines() if line.strip()]
                where = next(
                    (ln.strip() for ln in reversed(lines) if ln.strip().startswith("File ")), ""
                )
                error = lines[-1] if lines else f"exit {check.returncode}"
                if where:
                    error += " (" + re.sub(r'File ".*/site-packages/', 'File "', where) + ")"
        status[library] = {"version": version, "error": error}
    return status


def versions(browser_version: str) -> dict[str, str]:
    out = {"python": platform.python_version(), "chromium": browser_version}
    for dist in ("streamlit", "pycrdt", "playwright", "matplotlib"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = "not installed"
    return out


def machine_facts(browser_version: str = "?") -> list[str]:
    """Markdown lines: when, on what machine, with which versions."""
    cpu = "?"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem = "?"
    with contextlib.suppress(OSError, KeyError, ValueError):
        kib = next(
            int(line.split()[1])
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal:")
        )
        mem = f"{kib / 1024 / 1024:.0f} GiB"
    v = versions(browser_version)
    return [
        f"Run {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC on {os.cpu_count()} cores "
        f"({cpu}), {mem} RAM, {platform.platform()}, load average {os.getloadavg()[0]:.2f} "
        f"at the start; Python {v['python']}, Streamlit "
        f"{v['streamlit']}, pycrdt {v['pycrdt']}, Playwright {v['playwright']} driving "
        f"Debian chromium {v['chromium']} (headless)."
    ]


def guarded(what: str, run: Callable[..., dict[str, Any]], *args: Any, **kw: Any) -> dict[str, Any]:
    """``run(*args, **kw)``, one measure; a harness failure is recorded, not raised, so the
    run goes on."""
    started = time.monotonic()
    print(f"  {what} ...", flush=True)
    try:
        result = run(*args, **kw)
    except Exception as exc:
        traceback.print_exc()
        result = {"error": f"harness failed: {type(exc).__name__}: {str(exc).splitlines()[0]}"}
    result["seconds"] = time.monotonic() - started
    print(f"  {what}: {result['seconds']:.0f} s", flush=True)
    return result


# ------------------------------------------------------------------ the run


def run(plan: Plan, *, profile: bool, workroot: Path | None = None) -> dict[str, Any]:
    status = library_status()
    results: dict[str, Any] = {"status": status, "plan": plan.__dict__}
    runnable = [lib for lib in LIBRARIES if status[lib]["error"] is None]
    with Browsers() as browsers, scratch_dir("bench-compare-", workroot) as work:
        results["facts"] = machine_facts(browsers.version)
        results["versions"] = versions(browsers.version)

        def each(name: str, measure: Callable[[str, Path], dict[str, Any]]) -> None:
            results[name] = {}
            for lib in LIBRARIES:
                if lib not in runnable:
                    results[name][lib] = {"error": f"does not run: {status[lib]['error']}"}
                    continue
                where = work / name / LIBRARIES[lib][0]
                results[name][lib] = guarded(f"{name} {lib}", measure, lib, where)

        results["propagation"] = []
        for n in plan.sessions:
            for lib in LIBRARIES:
                if lib not in runnable:
                    results["propagation"].append(
                        {
                            "library": lib,
                            "sessions": n,
                            "error": f"does not run: {status[lib]['error']}",
                        }
                    )
                    continue
                where = work / f"propagation{n}" / LIBRARIES[lib][0]
                r = guarded(
                    f"propagation {n} {lib}",
                    latency.propagation,
                    *(browsers, lib, n, plan.edits, where),
                    warmup=plan.warmup,
                )
                r.setdefault("library", lib)
                r.setdefault("sessions", n)
                results["propagation"].append(r)
        each("lost_edits", lambda lib, w: lost_edits(browsers, lib, plan.lost_trials, w))
        results["counter"] = {}
        for lib in LIBRARIES:
            for app in plan.counter_apps:
                if app == "counter_compat" and lib != CRDT:
                    continue  # crdt_sync's compat layer only
                key = f"{lib}:{app}"
                if lib not in runnable:
                    results["counter"][key] = {"error": f"does not run: {status[lib]['error']}"}
                    continue
                where = work / "counter" / f"{LIBRARIES[lib][0]}-{app}"
                results["counter"][key] = guarded(
                    f"counter {key}",
                    counter,
                    *(browsers, lib, app, plan.counter_rounds, plan.clicks, where),
                )
        each("typing", lambda lib, w: concurrent_typing(browsers, lib, plan.typing_trials, w))
        each("chat", lambda lib, w: chat(browsers, lib, plan.messages, w))
        each(
            "restore",
            lambda lib, w: restore(browsers, lib, plan.restore_changes, plan.restore_reps, w),
        )
        each(
            "cost",
            lambda lib, w: server_cost(
                browsers, lib, plan.cost_sessions, plan.cost_edits, w, profile=profile
            ),
        )
        if plan.probe_gc:
            results["gc"] = guarded("gc probe", lambda: {"probes": gc_probe()})
        results["overhead"] = guarded(
            "overhead",
            lambda: latency.overhead(
                browsers, plan.reruns, work / "overhead", warmup=plan.warmup, profile=profile
            ),
        )
    return results


# ------------------------------------------------------------------ main


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.compare",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--quick", action="store_true", help="a few trials of each measure")
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help="directory of RESULTS.md and plots/ (default: benchmarks/; a scratch "
        "directory with --quick)",
    )
    parser.add_argument(
        "--profile", action="store_true", help="profile the servers with py-spy during measure 7"
    )
    parser.add_argument(
        "--keep", type=Path, default=None, help="keep servers' directories and logs here"
    )
    parser.add_argument(
        "--from-json",
        type=Path,
        default=None,
        help="measure nothing: write the pages again from a run's plots/compare.json",
    )
    args = parser.parse_args(argv)
    plan = QUICK if args.quick else FULL
    command = (
        "python -m benchmarks.compare"
        + (" --quick" if args.quick else "")
        + (" --profile" if args.profile else "")
    )
    started = time.monotonic()
    if args.from_json is not None:
        results = json.loads(args.from_json.read_text())
        command = results.get("command", command)
    else:
        results = run(plan, profile=args.profile, workroot=args.keep)
        results["command"] = command
        results["facts"][0] += (
            f" Whole run: {(time.monotonic() - started) / 60:.1f} minutes; load average "
            f"{os.getloadavg()[0]:.2f} at the end (above 2 means other work competed for the "
            "2 cores)."
        )
    elapsed = time.monotonic() - started
    out: Path = latency.output_dir(args.out, args.quick)
    (out / "plots").mkdir(parents=True, exist_ok=True)
    plots = make_plots(results, out / "plots")
    compare_md = render(
        results, command, {t: p for name, (t, p) in plots.items() if name != "overhead"}
    )
    props = [
        r
        for r in results["propagation"]
        if r.get("library") == CRDT and r.get("sessions") in (2, 10)
    ] or [r for r in results["propagation"] if r.get("library") == CRDT]
    over = results.get("overhead")
    latency_md = latency.section(
        props,
        None if over is None or "error" in over else over,
        command=command,
        facts=results["facts"],
        plots=[plots["overhead"]] if "overhead" in plots else [],
        notes=latency_notes(results),
    )
    results_md = out / "RESULTS.md"
    latency.replace_section(results_md, SECTION, compare_md)
    latency.replace_section(results_md, latency.SECTION, latency_md)
    if args.from_json is None:
        (out / "plots" / "compare.json").write_text(json.dumps(results, indent=1, default=str))
    print(f"wrote {results_md} and {out / 'plots'} in {elapsed / 60:.1f} minutes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
