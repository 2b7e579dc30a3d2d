"""Bridge latency: how soon the others see an edit, and what ``sync`` costs per rerun.

Run from the repository root::

    python -m benchmarks.latency [--quick] [--out DIR]

It writes the "## Bridge latency" section of ``DIR/RESULTS.md`` (default ``benchmarks/``)
and leaves every other section alone. ``python -m benchmarks.compare`` runs the same
measures as part of the comparison with the anchors.

1. Propagation, with N real browser sessions in one room on a real ``streamlit run``
   server: A types a value into a shared text input and presses Enter; a MutationObserver
   installed before Streamlit's scripts (``context.add_init_script``) timestamps the moment
   each page first shows the echo line ``seen a:<value>|``. A->B is the time from A's Enter
   (its keydown, in A's page) to B's page showing it; the floor, measured on the same
   edit, is A's own round trip (Enter to A's page showing its echo line).
2. Overhead: an app of 100 keyed widgets (``benchmarks/apps/overhead.py``) inside
   ``crdt_sync.sync`` and the same app without it, served by one server, driven in
   turns; the script body's wall time of every run is written by the script itself
   (``time.perf_counter``). Two cases: a rerun where nothing changed (a button) and a
   rerun carrying one edited text input (in ``sync`` mode that edit is published).
"""

from __future__ import annotations

import argparse
import math
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from playwright.sync_api import Page

from benchmarks.apps import APPS, app_path
from benchmarks.harness import (
    Browsers,
    Profiler,
    Server,
    last_commit,
    page_problems,
    scratch_dir,
    script_profile,
    settle,
    shown_times,
    summary,
)
from tests.e2e import helpers

SECTION = "## Bridge latency"
DEFAULT_OUT = Path(__file__).resolve().parent

#: Targets of issue 5.
TARGET_P50 = 1.10
TARGET_P95 = 1.30
TARGET_OVERHEAD = 1.10


def store_env(library: str, workdir: Path) -> dict[str, str]:
    """The environment of a server of ``library``: crdt_sync on its default kind of store
    (diskcache), in a directory of its own."""
    if library == "crdt_sync":
        return {"CRDT_SYNC_STORE": f"diskcache:{workdir / 'store'}"}
    return {}


# ------------------------------------------------------------------ 1. propagation


def propagation(
    browsers: Browsers,
    library: str,
    sessions: int,
    edits: int,
    workdir: Path,
    *,
    warmup: int = 2,
    pause: float = 0.15,
    on_start: Callable[[Server], None] | None = None,
) -> dict[str, Any]:
    """A commits ``edits`` values; when does each page (A's own: the floor) show them?

    Returns:
        ``floor`` (ms per edit), ``receivers`` (ms per edit and other page), ``slowest``
        (ms per edit: the last page to show it), ``missed`` (page-edits never shown
        within 10 s), ``problems`` (server log / page errors).
    """
    server = Server(app_path(library, "shared_widgets"), workdir, store_env(library, workdir))
    server.start()
    if on_start is not None:
        on_start(server)
    floor: list[float] = []
    receivers: list[float] = []
    slowest: list[float] = []
    missed = 0
    pages: list[Page] = []
    try:
        pages = [browsers.open(server.url) for _ in range(sessions)]
        a = pages[0]
        for i in range(warmup + edits):
            value = f"n{sessions}e{i}"
            marker = f"seen a:{value}|"
            for page in pages:
                helpers.watch_text(page, marker)
            field = helpers.text_input(a, "Alpha")
            field.fill(value)
            field.press("Enter")
            commit = last_commit(a)
            shown = [None if at is None else at - commit for at in shown_times(pages, marker, 10.0)]
            settle(pages)
            time.sleep(pause)
            if i < warmup:
                continue
            missed += sum(1 for s in shown if s is None)
            if shown[0] is not None:
                floor.append(shown[0])
            others = [s for s in shown[1:] if s is not None]
            receivers += others
            if others and len(others) == len(shown) - 1:
                slowest.append(max(others))
        problems = page_problems(pages) + server.problems()
    finally:
        browsers.close_all()
        server.stop()
    return {
        "library": library,
        "sessions": sessions,
        "edits": edits,
        "floor": floor,
        "receivers": receivers,
        "slowest": slowest,
        "missed": missed,
        "problems": problems,
    }


# ------------------------------------------------------------------ 2. overhead


def _new_runs(timings: Path, seen: int) -> tuple[list[tuple[str, float]], int]:
    lines = timings.read_text().splitlines() if timings.exists() else []
    runs = [(m, float(s)) for m, s in (line.split() for line in lines[seen:])]
    return runs, len(lines)


def overhead(
    browsers: Browsers,
    reruns: int,
    workdir: Path,
    *,
    warmup: int = 3,
    profile: bool = False,
    profiled_edits: int = 15,
) -> dict[str, Any]:
    """Script time of the 100-widget app with and without ``sync``, per run and per action.

    Returns:
        ``runs[mode][case]``: seconds of each script run caused by the actions of that
        case; ``actions[mode][case]``: seconds of all runs one action caused, summed;
        ``runs_per_action[mode][case]``; ``problems``.
    """
    timings = workdir / "timings.txt"
    env = {**store_env("crdt_sync", workdir), "BENCH_TIMINGS": str(timings)}
    server = Server(APPS / "overhead.py", workdir, env)
    server.start()
    modes = ("sync", "plain")
    cases = ("no change", "one edit")
    runs: dict[str, dict[str, list[float]]] = {m: {c: [] for c in cases} for m in modes}
    actions: dict[str, dict[str, list[float]]] = {m: {c: [] for c in cases} for m in modes}
    counts: dict[str, dict[str, list[int]]] = {m: {c: [] for c in cases} for m in modes}
    try:
        pages = {m: browsers.open(f"{server.url}/?mode={m}") for m in modes}
        _, seen = _new_runs(timings, 0)
        for i in range(warmup + reruns):
            for case in cases:
                for mode in modes:
                    page = pages[mode]
                    if case == "no change":
                        helpers.click_button(page, "Rerun")
                    else:
                        helpers.type_and_commit(page, "Text 0", f"{mode}-{i}")
                    time.sleep(0.15)  # a run the bridge asks for after this one
                    settle([page])
                    new, seen = _new_runs(timings, seen)
                    if i < warmup:
                        continue
                    mine = [s for m, s in new if m == mode]
                    runs[mode][case] += mine
                    actions[mode][case].append(sum(mine))
                    counts[mode][case].append(len(mine))
        profiles = _profile_edits(server, pages, profiled_edits, workdir) if profile else None
        problems = page_problems(list(pages.values())) + server.problems()
    finally:
        browsers.close_all()
        server.stop()
    return {
        "runs": runs,
        "actions": actions,
        "runs_per_action": counts,
        "problems": problems,
        "profile": profiles,
    }


def _profile_edits(
    server: Server, pages: dict[str, Page], edits: int, workdir: Path
) -> dict[str, Any]:
    """py-spy over ``edits`` one-edit reruns of each mode in turn (after the timed part):
    milliseconds per run in each function under the script body (`script_profile`)."""
    out: dict[str, Any] = {"edits": edits}
    for mode, page in pages.items():
        spy = Profiler(server.pid, workdir / f"profile-{mode}.txt", rate=1000)
        for i in range(edits):
            helpers.type_and_commit(page, "Text 1", f"profiled-{mode}-{i}")
        settle([page])
        error = spy.stop()
        if error:
            return {"error": error}
        out[mode] = script_profile(spy.raw, "overhead.py", edits, spy.rate)
    return out


# ------------------------------------------------------------------ report


def ms(value: float) -> str:
    """Milliseconds, rounded, or a dash for NaN."""
    return "-" if math.isnan(value) else f"{value:.0f} ms"


def ratio(a: float, b: float) -> float:
    return a / b if b and not (math.isnan(a) or math.isnan(b)) else math.nan


def fmt_ratio(value: float) -> str:
    return "-" if math.isnan(value) else f"{value:.2f}x"


def verdict(value: float, target: float) -> str:
    if math.isnan(value):
        return "not measured"
    return "**met**" if value <= target else "**missed**"


def propagation_table(results: Sequence[dict[str, Any]]) -> list[str]:
    """One row per (library, sessions): A->B and floor p50/p95 and their ratios."""
    lines = [
        "| library | sessions | edits | A->B p50 | A->B p95 | floor p50 | floor p95 "
        "| p50 / floor | p95 / floor | slowest page p95 | never shown |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        if "error" in r:
            lines.append(f"| {r['library']} | {r['sessions']} | - | {r['error']} | | | | | | | |")
            continue
        recv, floor, slow = summary(r["receivers"]), summary(r["floor"]), summary(r["slowest"])
        lines.append(
            f"| {r['library']} | {r['sessions']} | {r['edits']} | {ms(recv['p50'])} "
            f"| {ms(recv['p95'])} | {ms(floor['p50'])} | {ms(floor['p95'])} "
            f"| {fmt_ratio(ratio(recv['p50'], floor['p50']))} "
            f"| {fmt_ratio(ratio(recv['p95'], floor['p95']))} | {ms(slow['p95'])} "
            f"| {r['missed']} |"
        )
    return lines


def overhead_table(result: dict[str, Any]) -> list[str]:
    lines = [
        "| case | runs (sync / plain) | per run p50, sync | per run p50, plain | ratio p50 "
        "| per run p95, sync | per run p95, plain | ratio p95 | runs per action (sync) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for case in ("no change", "one edit"):
        s, p = summary(result["runs"]["sync"][case]), summary(result["runs"]["plain"][case])
        per_action = result["runs_per_action"]["sync"][case]
        mean_runs = sum(per_action) / len(per_action) if per_action else math.nan
        lines.append(
            f"| {case} | {s['n']} / {p['n']} | {s['p50'] * 1000:.1f} ms "
            f"| {p['p50'] * 1000:.1f} ms | {fmt_ratio(ratio(s['p50'], p['p50']))} "
            f"| {s['p95'] * 1000:.1f} ms | {p['p95'] * 1000:.1f} ms "
            f"| {fmt_ratio(ratio(s['p95'], p['p95']))} | {mean_runs:.2f} |"
        )
    return lines


def overhead_profile_table(profile: dict[str, Any] | None, limit: int = 14) -> list[str]:
    """Where a one-edit rerun spends its time with and without ``sync`` (py-spy)."""
    if not profile:
        return []
    if "error" in profile:
        return [f"No profile of the reruns: {profile['error']}", ""]
    sync, plain = profile["sync"], profile["plain"]
    body = "(script body)"
    lines = [
        f"Profile of {profile['edits']} one-edit reruns per mode, after the timed part "
        "(py-spy at 1 kHz on the server; milliseconds per run inside the script body, "
        "callees included, largest differences first). Script body: "
        f"{sync.get(body, 0):.1f} ms in sync, {plain.get(body, 0):.1f} ms without.",
        "",
        "| function | in sync | without sync | difference |",
        "|---|---|---|---|",
    ]
    names = sorted(
        (n for n in set(sync) | set(plain) if n != body),
        key=lambda n: -(sync.get(n, 0.0) - plain.get(n, 0.0)),
    )[:limit]
    for name in names:
        s, p = sync.get(name, 0.0), plain.get(name, 0.0)
        lines.append(f"| `{name}` | {s:.1f} ms | {p:.1f} ms | {s - p:+.1f} ms |")
    return [*lines, ""]


def overhead_ratio(result: dict[str, Any], case: str) -> float:
    s, p = summary(result["runs"]["sync"][case]), summary(result["runs"]["plain"][case])
    return ratio(s["p50"], p["p50"])


def section(
    props: Sequence[dict[str, Any]],
    over: dict[str, Any] | None,
    *,
    command: str,
    facts: Sequence[str],
    plots: Sequence[tuple[str, str]] = (),
    notes: Sequence[str] = (),
) -> str:
    """The "## Bridge latency" section: tables, targets met or missed, command, machine."""
    lines = [
        SECTION,
        "",
        f"Command: `{command}`",
        "",
        *facts,
        "",
        "**Propagation** (crdt_sync, `benchmarks/apps/with_crdt_sync/shared_widgets.py`): A "
        "types into a shared text input and presses Enter; each page's MutationObserver "
        "timestamps the moment it first shows the value. A->B: Enter in A to B's page "
        "showing it (every other page, pooled). Floor: A's own round trip on the same edit.",
        "",
        *propagation_table([p for p in props if p["library"] == "crdt_sync"]),
        "",
    ]
    verdicts = []
    for p in props:
        if p["library"] != "crdt_sync" or "error" in p:
            continue
        recv, floor = summary(p["receivers"]), summary(p["floor"])
        r50, r95 = ratio(recv["p50"], floor["p50"]), ratio(recv["p95"], floor["p95"])
        verdicts.append(
            f"- {p['sessions']} sessions: A->B p50 {fmt_ratio(r50)} of the floor (target <= "
            f"{TARGET_P50:.2f}x) {verdict(r50, TARGET_P50)}; p95 {fmt_ratio(r95)} (target <= "
            f"{TARGET_P95:.2f}x) {verdict(r95, TARGET_P95)}."
        )
    if over is not None:
        lines += [
            "**Overhead of `sync` per rerun** (`benchmarks/apps/overhead.py`: 40 text inputs, "
            "20 number inputs, 20 checkboxes, 10 sliders, 10 selectboxes; the script body's "
            "time, measured by the script; one server, the two modes driven in turns):",
            "",
            *overhead_table(over),
            "",
        ]
        lines += overhead_profile_table(over.get("profile"))
        for case in ("no change", "one edit"):
            r = overhead_ratio(over, case)
            verdicts.append(
                f"- Overhead, {case}: {fmt_ratio(r)} per rerun (target <= "
                f"{TARGET_OVERHEAD:.2f}x) {verdict(r, TARGET_OVERHEAD)}."
            )
    lines += ["**Targets** (issue 5):", "", *verdicts, ""]
    for title, path in plots:
        lines += [f"![{title}]({path})", ""]
    lines += list(notes)
    return "\n".join(lines).rstrip() + "\n"


def output_dir(out: Path | None, quick: bool) -> Path:
    """Where a run writes RESULTS.md: ``--out`` if given; for ``--quick`` a scratch
    directory (a quick run checks the harness, its numbers are never published);
    otherwise ``benchmarks/``."""
    if out is not None:
        return out
    if quick:
        scratch = Path(tempfile.mkdtemp(prefix="crdt-sync-quick-"))
        print(f"--quick: results go to {scratch}, not to the published {DEFAULT_OUT}")
        return scratch
    return DEFAULT_OUT


def replace_section(results_md: Path, heading: str, body: str) -> None:
    """Put ``body`` (starting with ``heading``) in place of that section of the file;
    every other section stays as it is. Appended at the end if missing."""
    text = results_md.read_text() if results_md.exists() else "# Benchmark results\n"
    lines = text.splitlines()
    if heading in lines:
        start = lines.index(heading)
        end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), None)
        tail = lines[end:] if end is not None else []
        new = [*lines[:start], *body.rstrip().splitlines(), "", *tail]
    else:
        new = [*lines, "", *body.rstrip().splitlines()]
    results_md.parent.mkdir(parents=True, exist_ok=True)
    results_md.write_text("\n".join(new).rstrip() + "\n")


def publish_section(out: Path, heading: str, body: str) -> None:
    """Print a benchmark's section and put it in ``out/RESULTS.md`` (`replace_section`)."""
    print(body)
    replace_section(out / "RESULTS.md", heading, body)
    print(f"wrote {heading!r} in {out / 'RESULTS.md'}")


def main(argv: Sequence[str] | None = None) -> None:
    from benchmarks.compare import machine_facts

    parser = argparse.ArgumentParser(prog="python -m benchmarks.latency", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a few edits of each")
    parser.add_argument("--out", type=Path, default=None, help="where RESULTS.md is")
    args = parser.parse_args(argv)
    args.out = output_dir(args.out, args.quick)
    edits, reruns = (3, 3) if args.quick else (30, 40)
    command = "python -m benchmarks.latency" + (" --quick" if args.quick else "")
    props = []
    with Browsers() as browsers, scratch_dir("bench-latency-") as work:
        for n in (2, 10):
            props.append(propagation(browsers, "crdt_sync", n, edits, work / f"prop{n}"))
        over = overhead(browsers, reruns, work / "overhead")
        facts = machine_facts(browsers.version)
    publish_section(args.out, SECTION, section(props, over, command=command, facts=facts))


if __name__ == "__main__":
    main()
