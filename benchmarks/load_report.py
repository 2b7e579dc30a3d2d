"""The "## Load" section of RESULTS.md and its plot, from what `benchmarks.load` measured.

``section(results, plot)`` pools the rounds of each (setup, N), writes the tables, and
marks each target of issue 16 met or missed; ``make_plot`` draws latency against N, one
line per setup (matplotlib, from the ``bench`` extra). Redraw from saved results with
``python -m benchmarks.load --from-json benchmarks/plots/load.json``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks.harness import percentile, summary
from benchmarks.latency import fmt_ratio, ratio, verdict
from benchmarks.load import CRDT, PLAIN, REDIS2, SETUPS, SSS

SECTION = "## Load"
TARGET_P95 = 0.7  # crdt_sync p95 / streamlit-server-state p95, every N
TARGET_CPU = 1.1  # CPU per edit per session / one plain rerun
TARGET_REDIS = 0.6  # p95 at N = 100, 2 processes / 1 process
TARGET_RSS = 1.1  # RSS per idle session / without crdt_sync
COLORS = {CRDT: "#2a7ab0", SSS: "#d0792a", REDIS2: "#3a9a5a", PLAIN: "#888888"}


def pooled(results: dict[str, Any], setup: str, n: int) -> dict[str, Any] | None:
    """Every round of ``setup`` at ``n`` sessions, pooled (lists joined, figures averaged
    over rounds, ``per_round`` the p95 of each round's slowest); None when not run."""
    runs = [
        r
        for r in results["runs"]
        if r["setup"] == setup and r["sessions"] == n and "error" not in r
    ]
    if not runs:
        return None
    out: dict[str, Any] = {"rounds": len(runs), "edits": sum(r["edits"] for r in runs)}
    for key in ("floor", "slowest", "receivers"):
        out[key] = [v for r in runs for v in r[key]]
    out["missed"] = sum(r["missed"] for r in runs)
    for key in ("cpu_per_edit", "runs_per_edit", "rss_per_session_kib", "client_cpu_per_edit"):
        out[key] = sum(r[key] for r in runs) / len(runs)
    out["runs_per_join"] = sum(r.get("runs_per_join", math.nan) for r in runs) / len(runs)
    out["per_round_p95"] = [percentile(r["slowest"], 95) for r in runs]
    out["problems"] = [p for r in runs for p in r["problems"]]
    return out


def _ms(v: float) -> str:
    return "-" if math.isnan(v) else f"{v:.0f}"


def _errors(results: dict[str, Any]) -> list[str]:
    return [
        f"- {r['setup']}, {r['sessions']} sessions, round {r['round'] + 1}: harness error "
        f"`{r['error']}`"
        for r in results["runs"]
        if "error" in r
    ]


def main_table(results: dict[str, Any]) -> list[str]:
    lines = [
        "| setup | N | edits | until all others were sent it, p50 / p95 (ms) | p95 per "
        "round | one other, p50 / p95 | editor's own | never sent | runs per edit "
        "| server CPU per edit | per edit per session | vs one plain rerun | RSS per "
        "session | vs without crdt_sync | runs per session joining |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for n in results["plan"]["sessions"]:
        plain = pooled(results, PLAIN, n)
        for setup in SETUPS:
            p = pooled(results, setup, n)
            if p is None:
                continue
            slow, recv, floor = summary(p["slowest"]), summary(p["receivers"]), summary(p["floor"])
            per_session = p["cpu_per_edit"] / n
            if setup == PLAIN:
                per_session = p["cpu_per_edit"]  # one run per edit
            cpu_ratio = ratio(per_session, plain["cpu_per_edit"]) if plain else math.nan
            rss_ratio = (
                ratio(p["rss_per_session_kib"], plain["rss_per_session_kib"]) if plain else math.nan
            )
            rounds = ", ".join(_ms(v) for v in p["per_round_p95"])
            lines.append(
                f"| {setup} | {n} | {p['edits']} | {_ms(slow['p50'])} / **{_ms(slow['p95'])}** "
                f"| {rounds} | {_ms(recv['p50'])} / {_ms(recv['p95'])} | {_ms(floor['p50'])} "
                f"| {p['missed']} | {p['runs_per_edit']:.1f} | {p['cpu_per_edit'] * 1000:.0f} ms "
                f"| {per_session * 1000:.1f} ms | {fmt_ratio(cpu_ratio)} "
                f"| {p['rss_per_session_kib']:.0f} KiB | {fmt_ratio(rss_ratio)} "
                f"| {p['runs_per_join']:.1f} |"
            )
    return lines


def targets(results: dict[str, Any]) -> list[str]:
    counts = results["plan"]["sessions"]
    lines = []
    for n in counts:
        c, s = pooled(results, CRDT, n), pooled(results, SSS, n)
        if c and s:
            r = ratio(summary(c["slowest"])["p95"], summary(s["slowest"])["p95"])
            lines.append(
                f"- Propagation, N = {n}: crdt_sync p95 / streamlit-server-state p95 = "
                f"{fmt_ratio(r)} (target <= {TARGET_P95}x) {verdict(r, TARGET_P95)}."
            )
    for n in counts:
        c, p = pooled(results, CRDT, n), pooled(results, PLAIN, n)
        if c and p:
            r = ratio(c["cpu_per_edit"] / n, p["cpu_per_edit"])
            lines.append(
                f"- Server CPU per edit per session, N = {n}: {c['cpu_per_edit'] / n * 1000:.1f} "
                f"ms against {p['cpu_per_edit'] * 1000:.1f} ms for one plain rerun = "
                f"{fmt_ratio(r)} (target <= {TARGET_CPU}x) {verdict(r, TARGET_CPU)}."
            )
    one, two = pooled(results, CRDT, 100), pooled(results, REDIS2, 100)
    if one and two:
        r = ratio(summary(two["slowest"])["p95"], summary(one["slowest"])["p95"])
        lines.append(
            f"- Two processes on Redis, N = 100: p95 {fmt_ratio(r)} of one process "
            f"(target <= {TARGET_REDIS}x) {verdict(r, TARGET_REDIS)}."
        )
    else:
        lines.append("- Two processes on Redis at N = 100: not measured in this run.")
    for n in counts:
        c, p = pooled(results, CRDT, n), pooled(results, PLAIN, n)
        if c and p and n == max(counts):
            r = ratio(c["rss_per_session_kib"], p["rss_per_session_kib"])
            lines.append(
                f"- RSS per idle session, N = {n} (the largest N: the least noisy): "
                f"{c['rss_per_session_kib']:.0f} KiB against {p['rss_per_session_kib']:.0f} KiB "
                f"without crdt_sync = {fmt_ratio(r)} (target <= {TARGET_RSS}x) "
                f"{verdict(r, TARGET_RSS)}."
            )
    lines.append(
        "- Engine write path (Room + DiskCacheStore against the floor): not measured by this "
        'harness; `python -m benchmarks.engine` measures it (section "Engine").'
    )
    return lines


def pages_part(results: dict[str, Any]) -> list[str]:
    variants = [results[k] for k in ("pages", "pages_no_block") if results.get(k)]
    if not variants:
        return []
    what = {"two": 'page "two": Beta, in the same room', "three": 'page "three": no sync block'}
    pg = variants[0]
    lines = [
        "### Who needs a rerun (two pages, one room)",
        "",
        f"`benchmarks/apps/with_crdt_sync/two_pages.py`, N = {pg['sessions']}: half the "
        'sessions on page "one" (shows Alpha; the editor is one of them), half on another '
        f"page that shows nothing Alpha changes. {pg['edits']} edits of Alpha. Command: "
        "`python -m benchmarks.load --pages-only` (measures both again, rewrites this part "
        "only).",
        "",
        "| the other half on | runs per edit per session, page one | the other page (needs "
        "none) | server CPU per edit | until all of page one were sent it, p50 / p95 "
        "| never sent |",
        "|---|---|---|---|---|---|",
    ]
    for pg in variants:
        slow = summary(pg["slowest"])
        lines.append(
            f"| {what.get(pg.get('other', 'two'), pg.get('other'))} "
            f"| {pg['runs_per_edit_one']:.2f} | **{pg['runs_per_edit_two']:.2f}** "
            f"| {pg['cpu_per_edit'] * 1000:.0f} ms | {_ms(slow['p50'])} / {_ms(slow['p95'])} ms "
            f"| {pg['missed']} |"
        )
    return [*lines, ""]


def check_part(results: dict[str, Any]) -> list[str]:
    check = results.get("check")
    if not check:
        return []
    if "error" in check:
        return [
            "### Headless sessions against real browsers",
            "",
            f"Not run: {check['error']}.",
            "",
        ]
    lines = [
        "### Headless sessions against real browsers",
        "",
        "crdt_sync, `shared_widgets.py`, same machine, same run, the two kinds in turns (the "
        "order flips each round). Browser: chromium pages (`benchmarks.latency.propagation`), "
        "from A's Enter keydown to each page's MutationObserver seeing the value. Headless: "
        "from just before A's rerun request is sent to each session receiving the frame.",
        "",
        "| N | kind | round | edits | one other, p50 / p95 (ms) | all others, p50 / p95 "
        "| editor's own, p50 | never shown |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in sorted(check["runs"], key=lambda r: (r["sessions"], r["kind"], r["round"])):
        recv, slow, floor = summary(r["receivers"]), summary(r["slowest"]), summary(r["floor"])
        lines.append(
            f"| {r['sessions']} | {r['kind']} | {r['round'] + 1} | {r['edits']} "
            f"| {_ms(recv['p50'])} / {_ms(recv['p95'])} | {_ms(slow['p50'])} / "
            f"{_ms(slow['p95'])} | {_ms(floor['p50'])} | {r['missed']} |"
        )
    lines.append("")
    for n in sorted({r["sessions"] for r in check["runs"]}):
        by = {
            k: [
                v
                for r in check["runs"]
                if r["sessions"] == n and r["kind"] == k
                for v in r["slowest"]
            ]
            for k in ("browser", "headless")
        }
        b, h = summary(by["browser"]), summary(by["headless"])
        rounds = {
            k: [
                percentile(r["slowest"], 50)
                for r in check["runs"]
                if r["sessions"] == n and r["kind"] == k
            ]
            for k in ("browser", "headless")
        }
        spread = [max(v) - min(v) for v in rounds.values() if len(v) > 1]
        noise = f"{max(spread):.0f} ms" if spread else "- (one round)"
        lines.append(
            f"- N = {n}: all others, p50 headless {_ms(h['p50'])} ms vs browser "
            f"{_ms(b['p50'])} ms ({fmt_ratio(ratio(h['p50'], b['p50']))}), p95 {_ms(h['p95'])} "
            f"vs {_ms(b['p95'])} ms ({fmt_ratio(ratio(h['p95'], b['p95']))}); the same kind's "
            f"p50 moved by up to {noise} between rounds."
        )
    return [*lines, ""]


def section(results: dict[str, Any], plot: str | None, notes: Sequence[str] = ()) -> str:
    lines = [
        SECTION,
        "",
        f"Command: `{results.get('command', 'python -m benchmarks.load')}`",
        "",
        *results.get("facts", []),
        "",
        "Headless sessions (`benchmarks/load_client.py`: Streamlit's websocket protocol and "
        "protobuf messages, no browser), all in one Python process, on `streamlit run` "
        "servers on 127.0.0.1. App: `shared_widgets.py` of each library (`benchmarks/apps/`); "
        'session 0 commits a new value of Alpha; "until all others were sent it": from just '
        "before its request is sent until the last other session received the new `seen a:` "
        "line (edits every session got). Setups in turns for each N, order reversed each "
        "round. Server CPU from `/proc/<pid>/stat` over the timed edits (both processes for "
        "Redis; idle rate taken off); CPU per edit per session = CPU per edit / N; one plain "
        "rerun = CPU per edit of the app without crdt_sync (one run per edit). RSS per "
        "session: RSS after N sessions minus RSS with one warm session per process, / the "
        "sessions added. Runs per session joining: script runs that ended while the N "
        "sessions connected, / N (a session's own first run is 1).",
        "",
        *main_table(results),
        "",
        *_errors(results),
        "**Targets** (issue 16):",
        "",
        *targets(results),
        "",
        *pages_part(results),
        *check_part(results),
    ]
    if plot:
        lines += [f"![Load: latency against N]({plot})", ""]
    else:
        lines += ["No plot: matplotlib is not installed (`pip install -e '.[bench]'`).", ""]
    lines += [*results.get("notes", []), *notes]
    return "\n".join(lines).rstrip() + "\n"


def make_plot(results: dict[str, Any], plot_dir: Path) -> str | None:
    """``plot_dir/load.png``: p50 and p95 until all others were sent the value, against
    N, one line per setup; returns its path relative to RESULTS.md (None: no matplotlib)."""
    try:
        import matplotlib
    except ImportError:
        return None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plot_dir.mkdir(parents=True, exist_ok=True)
    fig, ax = plt.subplots(figsize=(7.5, 4.6))
    counts = results["plan"]["sessions"]
    for setup in (CRDT, SSS, REDIS2):
        points = [(n, pooled(results, setup, n)) for n in counts]
        xs = [n for n, p in points if p and p["slowest"]]
        if not xs:
            continue
        p95 = [summary(p["slowest"])["p95"] for _n, p in points if p and p["slowest"]]
        p50 = [summary(p["slowest"])["p50"] for _n, p in points if p and p["slowest"]]
        ax.plot(xs, p95, "o-", color=COLORS[setup], label=f"{setup}, p95")
        ax.plot(xs, p50, "o--", color=COLORS[setup], alpha=0.6, label=f"{setup}, p50")
    ax.set_xlabel("sessions in the room (N)")
    ax.set_ylabel("ms until every other session was sent it")
    ax.set_title("One edit, N headless sessions")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(plot_dir / "load.png", dpi=110)
    plt.close(fig)
    return "plots/load.png"
