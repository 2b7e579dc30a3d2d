"""The results page of `benchmarks.compare`: markdown tables and PNG plots.

``render(results, ...)`` turns what `benchmarks.compare.run` measured into the section
"## Compared with streamlit-server-state and streamlit-sync" of RESULTS.md, with every
target of issue 9 marked met or missed; ``make_plots`` draws the figures (matplotlib, from
the ``bench`` extra; without it the page says so).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from benchmarks import latency
from benchmarks.apps import LIBRARIES
from benchmarks.harness import summary
from benchmarks.latency import fmt_ratio, ms, ratio
from benchmarks.measures import CRDT, SSS, SYNC, best

SECTION = "## Compared with streamlit-server-state and streamlit-sync"


def _err(r: dict[str, Any]) -> str | None:
    return r.get("error")


def _telling(problems: Sequence[str]) -> str:
    """The most telling line of a list of log lines: an exception's message if any."""
    for line in problems:
        if re.match(r"\s*[\w.]*(Error|Exception)\b.*:", line):
            return line.strip()
    return problems[0].strip() if problems else ""


def _problems_cell(r: dict[str, Any]) -> str:
    problems = r.get("problems", [])
    return "0" if not problems else f"{len(problems)}: `{_telling(problems)[:90]}`"


def render(results: dict[str, Any], command: str, plots: dict[str, str]) -> str:
    status = results["status"]
    lines = [
        SECTION,
        "",
        f"Command: `{command}` (from the repository root, with `pip install -e '.[bench]'`).",
        "",
        *results["facts"],
        "",
        "Each library runs the same small apps (`benchmarks/apps/with_crdt_sync/`, "
        "`with_server_state/`, `with_streamlit_sync/`), written the way its own README "
        "writes them, each on a fresh `streamlit run` server on 127.0.0.1, driven by real "
        "chromium sessions (Playwright): typing, clicking, pressing Enter. crdt_sync uses "
        "its default store (diskcache, on disk); streamlit-server-state keeps its state in "
        "memory.",
        "",
        "| library | version | status |",
        "|---|---|---|",
    ]
    for lib, st in status.items():
        state = "runs" if st["error"] is None else f"**does not run**: `{st['error']}`"
        lines.append(f"| {lib} | {st['version'] or '-'} | {state} |")
    lines += [""]
    lines += _summary(results)
    lines += _propagation(results)
    lines += _lost(results)
    lines += _counter(results)
    lines += _typing(results)
    lines += _chat(results)
    lines += _restore(results)
    lines += _cost(results)
    lines += _problems(results)
    lines += _targets(results)
    lines += _why_cost(results)
    for title, path in plots.items():
        lines += [f"![{title}]({path})", ""]
    if not plots:
        lines += ["No plots: matplotlib is not installed (`pip install -e '.[bench]'`).", ""]
    return "\n".join(lines).rstrip() + "\n"


def _prop(results: dict[str, Any], lib: str, n: int) -> dict[str, Any] | None:
    for r in results["propagation"]:
        if r.get("library") == lib and r.get("sessions") == n and not _err(r):
            found: dict[str, Any] = r
            return found
    return None


def _cell(
    results: dict[str, Any], name: str, lib: str, fmt: Callable[[dict[str, Any]], str]
) -> str:
    r = results.get(name, {}).get(lib)
    if r is None:
        return "-"
    if _err(r):
        return "does not run" if r["error"].startswith("does not run") else f"error: {r['error']}"
    return fmt(r)


def _summary(results: dict[str, Any]) -> list[str]:
    libs = list(results["status"])
    lines = [
        "### Summary",
        "",
        "| measure | " + " | ".join(libs) + " |",
        "|---|" + "---|" * len(libs),
    ]
    for n in results["plan"]["sessions"]:
        row = [f"propagation p50 / p95, {n} sessions (floor)"]
        for lib in libs:
            r = _prop(results, lib, n)
            if r is None:
                row.append("does not run" if results["status"][lib]["error"] else "error")
                continue
            s, f = summary(r["receivers"]), summary(r["floor"])
            row.append(f"{ms(s['p50'])} / {ms(s['p95'])} ({ms(f['p50'])} / {ms(f['p95'])})")
        lines.append("| " + " | ".join(row) + " |")
    lines.append(
        "| lost edits (trials losing a value) | "
        + " | ".join(
            _cell(results, "lost_edits", lib, lambda r: f"{r['lost']} / {r['trials']}")
            for lib in libs
        )
        + " |"
    )
    for app, label in (("counter", "without lock"), ("counter_lock", "with lock")):
        row = []
        for lib in libs:
            r = results["counter"].get(f"{lib}:{app}", {})
            if _err(r):
                row.append("does not run" if r["error"].startswith("does not") else "error")
            elif r:
                row.append(", ".join(str(x) for x in r["increments"]) + f" of {r['expected']}")
            else:
                row.append("-")
        lines.append(f"| counter {label} (per round) | " + " | ".join(row) + " |")
    lines.append(
        "| typing: characters lost | "
        + " | ".join(
            _cell(results, "typing", lib, lambda r: f"{r['lost']} of {r['typed']}") for lib in libs
        )
        + " |"
    )
    lines.append(
        "| chat: lost / duplicated, one order | "
        + " | ".join(
            _cell(
                results,
                "chat",
                lib,
                lambda r: (
                    f"{r['lost']} / {r['duplicated']} of {r['sent']}, "
                    f"{'yes' if r['same_order'] else 'no'}"
                ),
            )
            for lib in libs
        )
        + " |"
    )
    lines.append(
        "| restore after restart | "
        + " | ".join(_cell(results, "restore", lib, _restore_cell) for lib in libs)
        + " |"
    )
    lines.append(
        f"| server CPU per edit, {results['plan']['cost_sessions']} sessions | "
        + " | ".join(
            _cell(results, "cost", lib, lambda r: f"{r['cpu_per_edit_ms']:.0f} ms") for lib in libs
        )
        + " |"
    )
    lines.append(
        "| server peak memory | "
        + " | ".join(
            _cell(results, "cost", lib, lambda r: f"{r['peak_rss_mib']:.0f} MiB") for lib in libs
        )
        + " |"
    )
    return [*lines, ""]


def _restore_cell(r: dict[str, Any]) -> str:
    if "compacted" in r:
        extra = best(r["compacted"]["visible"], "page") - best(r["floor"], "page")
        return (
            f"{r['changes']:,} changes: first page {extra:+.2f} s over an empty room "
            f"(compacted), {r['compacted']['bytes'] / 1024:.0f} KiB on disk"
        )
    return "survives" if r["survives_restart"] else "**lost** (memory only)"


def _propagation(results: dict[str, Any]) -> list[str]:
    lines = [
        "### 1. Propagation",
        "",
        "A types a new value into a shared text input and presses Enter; every page's "
        "MutationObserver (installed with `add_init_script`) timestamps when it first shows "
        "the value. A->B: Enter in A to each other page showing it, pooled over the other "
        f"pages; floor: A's own round trip on the same edit; {results['plan']['edits']} edits "
        "after 2 warm-up edits, each edit once all pages are idle again.",
        "",
        *latency.propagation_table(results["propagation"]),
        "",
    ]
    rows = []
    for n in results["plan"]["sessions"]:
        c, s = _prop(results, CRDT, n), _prop(results, SSS, n)
        if c and s:
            cs, ss = summary(c["receivers"]), summary(s["receivers"])
            rows.append(
                f"| {n} | {fmt_ratio(ratio(cs['p50'], ss['p50']))} "
                f"| {fmt_ratio(ratio(cs['p95'], ss['p95']))} |"
            )
    if rows:
        lines += [
            "crdt_sync's A->B against streamlit-server-state's, same run:",
            "",
            "| sessions | p50 ratio | p95 ratio |",
            "|---|---|---|",
            *rows,
            "",
        ]
    return lines


def _lost(results: dict[str, Any]) -> list[str]:
    lines = [
        "### 2. Lost edits",
        "",
        "A fills Alpha, B fills Beta, A presses Enter, B presses Enter 0-50 ms later (the "
        "gap cycles through 0, 10, ..., 50 ms; the measured gap between the two keydowns is "
        "given). A trial loses an edit when, after both pages are idle, either page lacks "
        "either value in its input or its echo line.",
        "",
        "| library | trials | trials losing an edit | rate | keydown gap p50 / max "
        "| new page shows the last values | page/server errors |",
        "|---|---|---|---|---|---|---|",
    ]
    for lib, r in results["lost_edits"].items():
        if _err(r):
            lines.append(f"| {lib} | - | {r['error']} | | | | |")
            continue
        gaps = r["gaps_ms"]
        lines.append(
            f"| {lib} | {r['trials']} | {r['lost']} | {100 * r['lost'] / r['trials']:.0f}% "
            f"| {summary(gaps)['p50']:.0f} / {max(gaps):.0f} ms "
            f"| {'yes' if r['fresh_page_shows_last'] else 'no'} | {_problems_cell(r)} |"
        )
    examples = [
        (lib, r["lost_trials"][0])
        for lib, r in results["lost_edits"].items()
        if not _err(r) and r["lost_trials"]
    ]
    lines.append("")
    for lib, ex in examples:
        lines.append(
            f"Example, {lib} trial {ex['trial']}: expected Alpha={ex['expected']['a']!r}, "
            f"Beta={ex['expected']['b']!r}; A shows {ex['A shows']}, B shows {ex['B shows']}."
        )
    return [*lines, ""] if examples else lines


def _counter(results: dict[str, Any]) -> list[str]:
    lines = [
        "### 3. Concurrent counter",
        "",
        'Two sessions click "+1" interleaved (A, B, A, B, ...), each page clicking again as '
        "soon as its previous click's run has finished; a round is "
        f"{results['plan']['clicks']} clicks per page. The increment a freshly opened page "
        "shows after each round, against the number of clicks.",
        "",
        "| library | app | lock | increments per round | expected | pages disagreeing "
        "| page/server errors |",
        "|---|---|---|---|---|---|---|",
    ]
    describe = {
        "counter": ("no", "`shared_state(...).counter` for crdt_sync"),
        "counter_lock": ("`server_state_lock`", ""),
        "counter_compat": ("no", "compat `server_state`, no lock"),
    }
    for key, r in results["counter"].items():
        lib, app = key.split(":")
        lock, note = describe[app]
        label = f"`{app}.py`" + (f" ({note})" if note and lib == CRDT else "")
        if _err(r):
            lines.append(f"| {lib} | {label} | {lock} | {r['error']} | | | |")
            continue
        lines.append(
            f"| {lib} | {label} | {lock} | {', '.join(str(x) for x in r['increments'])} "
            f"| {r['expected']} | {r['disagreements']} | {_problems_cell(r)} |"
        )
    return [*lines, ""]


def _typing(results: dict[str, Any]) -> list[str]:
    lines = [
        "### 4. Concurrent typing",
        "",
        "Trial i uses its own text area (`Story <i>`, untouched before): A types `t<i> the "
        "quick brown fox` and commits; once B shows it, A inserts `very ` in the middle, B "
        "appends ` jumps<i>`, both press Ctrl+Enter together. Characters of the expected "
        "merge `t<i> the very quick brown fox jumps<i>` missing from a page afterwards "
        "(worst page per trial), summed over the trials.",
        "",
        "| library | trials | could not start | characters typed | characters lost "
        "| trials losing text | pages disagreeing | extra characters | page/server errors |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for lib, r in results["typing"].items():
        if _err(r):
            lines.append(f"| {lib} | - | {r['error']} | | | | | | |")
            continue
        lines.append(
            f"| {lib} | {r['trials']} | {r['not_started']} | {r['typed']} | {r['lost']} "
            f"| {r['trials_losing']} | {r['disagree']} | {r['extra']} | {_problems_cell(r)} |"
        )
    for lib, r in results["typing"].items():
        failed = [] if _err(r) else [o for o in r["outcomes"] if "error" in o]
        if failed and "B shows" in failed[0]:
            ex = failed[0]
            lines += [
                "",
                f"{lib} trial {ex['trial']} could not start: A typed `{ex['typed']}` into an "
                f"untouched area (pressing Ctrl+Enter); A shows `{ex['A shows']}`, B shows "
                f"`{ex['B shows']}`. A trial that cannot start counts as a miss for the target "
                "below.",
            ]
    return [*lines, ""]


def _chat(results: dict[str, Any]) -> list[str]:
    lines = [
        "### 5. Chat",
        "",
        f"A and B each send {results['plan']['messages']} messages with `st.chat_input`, "
        "interleaved; then a new page opens. Lost or duplicated messages on the worst page, "
        "and whether all three pages show one order.",
        "",
        "| library | sent | lost | duplicated | one order on every page | page/server errors |",
        "|---|---|---|---|---|---|",
    ]
    for lib, r in results["chat"].items():
        if _err(r):
            lines.append(f"| {lib} | - | {r['error']} | | | |")
            continue
        lines.append(
            f"| {lib} | {r['sent']} | {r['lost']} | {r['duplicated']} "
            f"| {'yes' if r['same_order'] else '**no**'} | {_problems_cell(r)} |"
        )
    return [*lines, ""]


def _restore(results: dict[str, Any]) -> list[str]:
    lines = [
        "### 6. Restore",
        "",
        "crdt_sync: a room whose text input was changed "
        f"{results['plan']['restore_changes']:,} times (one stored update per change), "
        "first as the append-only log, then compacted. The server is started afresh and one "
        "page opened: seconds until it shows the last value, from spawning the server and "
        "from the page's navigation start (best of "
        f"{results['plan']['restore_reps']}, after a warm-up start), next to the same app on "
        "an empty store; and the store loaded by itself in a fresh process (median of 5).",
        "",
        "| library | stored as | bytes on disk | spawn to visible | page open to visible "
        "| over an empty room | load in-process |",
        "|---|---|---|---|---|---|---|",
    ]
    for lib, r in results["restore"].items():
        if _err(r):
            lines.append(f"| {lib} | - | - | {r['error']} | | | |")
            continue
        if "compacted" in r:
            spawn, page = best(r["floor"], "spawn"), best(r["floor"], "page")
            lines.append(f"| {lib} | empty room | - | {spawn:.2f} s | {page:.2f} s | - | - |")
            for phase, label in (("log", "update log"), ("compacted", "compacted snapshot")):
                p = r[phase]
                vis = best(p["visible"], "page")
                lines.append(
                    f"| {lib} | {r['changes']:,} changes, {label} | {p['bytes']:,} "
                    f"| {best(p['visible'], 'spawn'):.2f} s | {vis:.2f} s "
                    f"| {vis - page:+.2f} s | {p['load_s'] * 1000:.0f} ms |"
                )
        else:
            lines.append(
                f"| {lib} | memory only | {r['bytes']} | value after a restart: "
                f"{'kept' if r['survives_restart'] else '**gone**'} | - | - | - |"
            )
    sync = results["restore"].get(SYNC, {})
    if _err(sync):
        pick = next(
            (
                r["snapshot_pickle_bytes"]
                for r in results["restore"].values()
                if not _err(r) and "snapshot_pickle_bytes" in r
            ),
            None,
        )
        if pick:
            lines += [
                "",
                f"streamlit-sync would pickle the latest snapshot only ({pick} B for this "
                "app's two values, by `pickle.dumps`): a small file, but no history to merge "
                "with and pickle to unpickle.",
            ]
    return [*lines, ""]


def _cost(results: dict[str, Any]) -> list[str]:
    plan = results["plan"]
    lines = [
        "### 7. Server cost",
        "",
        f"{plan['cost_sessions']} sessions open the two-input app, then commit "
        f"{plan['cost_edits']} edits in turn: session i types `w<i>` into Alpha (even i) or "
        "Beta (odd i) and presses Enter; the next edit starts once every page shows it (or "
        "after 4 s). CPU seconds (user + system, all threads) and peak RSS (VmHWM) of the "
        "server process, from `/proc`. An edit counts as not shown when some page did not "
        "show the typed value within those 4 s.",
        "",
        "| library | CPU: opening sessions | CPU: edits | CPU per edit | RSS at start "
        "| peak RSS | edits not shown as typed |",
        "|---|---|---|---|---|---|---|",
    ]
    for lib, r in results["cost"].items():
        if _err(r):
            lines.append(f"| {lib} | {r['error']} | | | | | |")
            continue
        lines.append(
            f"| {lib} | {r['cpu_open_s']:.2f} s | {r['cpu_edits_s']:.2f} s "
            f"| {r['cpu_per_edit_ms']:.0f} ms | {r['rss_start_mib']:.0f} MiB "
            f"| {r['peak_rss_mib']:.0f} MiB | {r['edits_not_shown']} of {r['edits']} |"
        )
    for lib, r in results["cost"].items():
        for ex in [] if _err(r) else r.get("not_shown_examples", [])[:2]:
            lines.append(
                f"\n{lib}, edit {ex['edit']}: typed `{ex['typed']}`, the pages show "
                f"`{ex['shown']}`."
            )
    crdt = results["cost"].get(CRDT, {})
    rebased = [
        ex
        for ex in ([] if _err(crdt) else crdt.get("not_shown_examples", []))
        if ex["shown"] and ex["shown"] != ex["typed"]
    ]
    if rebased:
        lines += [
            "",
            "For crdt_sync this is a wrong value, not a slow one: the typed text was applied "
            "as a diff against an older view of the field, not the value on screen (the base "
            "of a text edit is chosen in `crdt_sync/bridge/binding.py`, `SessionBinding."
            "_publish`).",
        ]
    return [*lines, ""]


def _all_problems(results: dict[str, Any], lib: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for r in results["propagation"]:
        if r.get("library") == lib and r.get("problems"):
            found[f"propagation {r['sessions']}"] = r["problems"]
    for name in ("lost_edits", "typing", "chat", "restore", "cost"):
        r = results.get(name, {}).get(lib, {})
        if r.get("problems"):
            found[name] = r["problems"]
    for key, r in results["counter"].items():
        if key.startswith(lib + ":") and r.get("problems"):
            found[key.split(":")[1]] = r["problems"]
    return found


def _problems(results: dict[str, Any]) -> list[str]:
    lines = [
        "### Errors seen",
        "",
        "Server log lines mentioning Traceback/Exception/Error and exception boxes or "
        "uncaught errors in the pages, per library, over every measure above.",
        "",
        "| library | lines | where | first one |",
        "|---|---|---|---|",
    ]
    for lib, st in results["status"].items():
        if st["error"]:
            lines.append(f"| {lib} | - | import | `{st['error']}` |")
            continue
        found = _all_problems(results, lib)
        total = sum(len(v) for v in found.values())
        first = _telling([line for v in found.values() for line in v])
        where = ", ".join(f"{k} ({len(v)})" for k, v in found.items()) or "-"
        lines.append(
            f"| {lib} | {total} | {where} | {('`' + first[:120] + '`') if first else '-'} |"
        )
    return [*lines, ""]


def _targets(results: dict[str, Any]) -> list[str]:
    """crdt_sync's targets from issue 9, each met or missed, plainly."""
    out: list[str] = []

    def line(ok: bool | None, text: str) -> None:
        mark = "not measured" if ok is None else ("**met**" if ok else "**missed**")
        out.append(f"- {text}: {mark}.")

    lost = results["lost_edits"].get(CRDT, {})
    line(
        None if _err(lost) else lost["lost"] == 0,
        f"0 lost edits ({lost.get('lost', '?')} of {lost.get('trials', '?')} trials lost one)",
    )
    counters = [r for k, r in results["counter"].items() if k.startswith(CRDT) and not _err(r)]
    exact = all(all(x == r["expected"] for x in r["increments"]) for r in counters)
    line(
        bool(counters) and exact if counters else None,
        "counters exact (every crdt_sync counter app, every round)",
    )
    chat_r = results["chat"].get(CRDT, {})
    chat_ok = (
        None
        if _err(chat_r)
        else (chat_r["lost"] == 0 and chat_r["duplicated"] == 0 and chat_r["same_order"])
    )
    line(chat_ok, "chat exact (nothing lost or duplicated, one order)")
    typ = results["typing"].get(CRDT, {})
    line(
        None
        if _err(typ)
        else typ["lost"] == 0 and typ["disagree"] == 0 and typ["not_started"] == 0,
        f"concurrent typing merged (no character lost; "
        f"{typ.get('not_started', '?')} of {typ.get('trials', '?')} trials could not start)",
    )
    problems = _all_problems(results, CRDT)
    line(
        not problems,
        f"no exceptions in any page or server log ({sum(len(v) for v in problems.values())} seen)",
    )
    for n in results["plan"]["sessions"]:
        c, s = _prop(results, CRDT, n), _prop(results, SSS, n)
        if c is None:
            continue
        cs, cf = summary(c["receivers"]), summary(c["floor"])
        r50 = ratio(cs["p50"], cf["p50"])
        line(
            r50 <= latency.TARGET_P50,
            f"propagation p50 <= 1.1x the floor, {n} sessions ({fmt_ratio(r50)})",
        )
        if s is not None:
            ss = summary(s["receivers"])
            ok = cs["p50"] <= ss["p50"] and cs["p95"] <= ss["p95"]
            line(
                ok,
                f"propagation no slower than streamlit-server-state at p50 and p95, {n} "
                f"sessions ({ms(cs['p50'])} / {ms(cs['p95'])} against {ms(ss['p50'])} / "
                f"{ms(ss['p95'])})",
            )
    rest = results["restore"].get(CRDT, {})
    if not _err(rest) and "compacted" in rest:
        extra = best(rest["compacted"]["visible"], "page") - best(rest["floor"], "page")
        line(
            extra < 1.0 and rest["compacted"]["load_s"] < 1.0 and rest["changes"] >= 10_000,
            f"restore of 10,000 changes under a second after compaction (first page "
            f"{extra:+.2f} s over an empty room, {rest['compacted']['load_s'] * 1000:.0f} ms "
            f"to load the room; {rest['changes']:,} changes in this run)",
        )
    c, s = results["cost"].get(CRDT, {}), results["cost"].get(SSS, {})
    if c and not _err(c):
        line(
            c["edits_not_shown"] == 0,
            f"every edit of measure 7 (each session in turn types into a shared input) shown "
            f"as typed on every page ({c['edits_not_shown']} of {c['edits']} not)",
        )
    if not _err(c) and s and not _err(s):
        line(
            c["cpu_per_edit_ms"] <= s["cpu_per_edit_ms"],
            f"server CPU per edit no higher than streamlit-server-state's "
            f"({c['cpu_per_edit_ms']:.0f} ms against {s['cpu_per_edit_ms']:.0f} ms)",
        )
    return ["### Targets for crdt_sync (issue 9)", "", *out, ""]


def _why_cost(results: dict[str, Any]) -> list[str]:
    """GC probe and (with --profile) py-spy profiles of the servers in measure 7."""
    lines = ["### Where the server time goes", ""]
    probes = results.get("gc", {}).get("probes", {})
    if probes:
        lines += [
            "Streamlit runs `gc.collect(2)` after every script run (`runner.postScriptGC`, on "
            "by default), so every object a library keeps alive is walked again on every "
            "rerun of every session. One such collection in a fresh process, best of 15:",
            "",
            "| process imported | modules | live objects | one gc.collect(2) |",
            "|---|---|---|---|",
        ]
        for label, g in probes.items():
            lines.append(f"| {label} | {g['modules']:,} | {g['objects']:,} | {g['gc_ms']:.1f} ms |")
        lines.append("")
    profiled = {
        lib: r["profile"]
        for lib, r in results.get("cost", {}).items()
        if not _err(r) and r.get("profile")
    }
    if not profiled:
        lines += ["No py-spy profile in this run (`--profile` takes one).", ""]
        return lines
    lines += [
        "py-spy (`record --rate 250 --format raw`) on each server during the edits of "
        "measure 7. Samples in Streamlit's post-run garbage collection "
        "(`ScriptRunner._on_script_finished`):",
        "",
        "| library | samples | in gc after runs | share |",
        "|---|---|---|---|",
    ]
    for lib, prof in profiled.items():
        if _err(prof):
            lines.append(f"| {lib} | {prof['error']} | | |")
            continue
        lines.append(
            f"| {lib} | {prof['samples']:,} | {prof['gc_after_runs']:,} "
            f"| {100 * prof['gc_after_runs'] / max(prof['samples'], 1):.0f}% |"
        )
    own = profiled.get(CRDT, {})
    if own and not _err(own):
        lines += [
            "",
            "crdt_sync's own functions in its server's profile (callees included):",
            "",
            "| function | samples | share |",
            "|---|---|---|",
        ]
        for frame, count in own["crdt_sync_inclusive"]:
            share = 100 * count / max(own["samples"], 1)
            lines.append(f"| `{frame}` | {count} | {share:.1f}% |")
        lines += ["", "Busiest functions of that server (self time):", ""]
        lines += ["| function | samples | share |", "|---|---|---|"]
        for frame, count in own["self"]:
            share = 100 * count / max(own["samples"], 1)
            lines.append(f"| `{frame}` | {count} | {share:.1f}% |")
    return [*lines, ""]


# ------------------------------------------------------------------ plots


def make_plots(results: dict[str, Any], plot_dir: Path) -> dict[str, tuple[str, str]]:
    """PNG figures; returns name -> (title, path relative to RESULTS.md).

    Without matplotlib (the ``bench`` extra) no figure is drawn and RESULTS.md says so.
    """
    try:
        import matplotlib
    except ImportError:
        return {}

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    plot_dir.mkdir(parents=True, exist_ok=True)
    made: dict[str, tuple[str, str]] = {}
    colors = {CRDT: "#2a7ab0", SSS: "#d0792a", SYNC: "#888888"}

    # Propagation: floor and A->B per library, per number of sessions.
    counts = results["plan"]["sessions"]
    fig, axes = plt.subplots(
        1, len(counts), figsize=(max(7.0, 4.2 * len(counts)), 4.4), sharey=True
    )
    axes = list(axes) if len(counts) > 1 else [axes]
    for ax, n in zip(axes, counts, strict=True):
        data, labels, cols = [], [], []
        for lib in (CRDT, SSS):
            r = _prop(results, lib, n)
            if r is None:
                continue
            data += [r["floor"], r["receivers"]]
            short = "crdt_sync" if lib == CRDT else "server-state"
            labels += [f"{short}\nfloor", f"{short}\nA->B"]
            cols += [colors[lib], colors[lib]]
        if data:
            parts = ax.boxplot(data, tick_labels=labels, patch_artist=True, showfliers=True)
            for patch, col, k in zip(parts["boxes"], cols, range(len(cols)), strict=True):
                patch.set_facecolor(col)
                patch.set_alpha(0.35 if k % 2 == 0 else 0.8)
        ax.set_title(f"{n} sessions")
        ax.tick_params(axis="x", labelsize=8)
        ax.grid(axis="y", alpha=0.3)
    axes[0].set_ylabel("ms from Enter to the page showing it")
    fig.suptitle("Propagation: own round trip (floor) and the other pages (A->B)")
    fig.tight_layout()
    fig.savefig(plot_dir / "propagation.png", dpi=110)
    plt.close(fig)
    made["propagation"] = (
        "Propagation latency per library and number of sessions",
        "plots/propagation.png",
    )

    # Losses: % per measure and library.
    measures = [
        "lost edits\n(% of trials)",
        "counter, no lock\n(% clicks lost)",
        "counter, lock\n(% clicks lost)",
        "typing\n(% chars lost)",
        "chat\n(% msgs lost)",
    ]
    fig, ax = plt.subplots(figsize=(9, 4.2))
    libs = [lib for lib in LIBRARIES if not results["status"][lib]["error"]]
    width = 0.8 / max(len(libs), 1)
    for k, lib in enumerate(libs):
        vals = _loss_rates(results, lib)
        xs = [i + (k - (len(libs) - 1) / 2) * width for i in range(len(measures))]
        bars = ax.bar(xs, vals, width, label=lib, color=colors[lib])
        for x, v, bar in zip(xs, vals, bars, strict=True):
            ax.text(
                x,
                bar.get_height() + 0.5,
                "n/a" if math.isnan(v) else f"{v:.0f}%",
                ha="center",
                fontsize=8,
            )
    ax.set_xticks(range(len(measures)), measures, fontsize=8)
    ax.set_ylabel("% lost")
    ax.set_ylim(0, max(10, ax.get_ylim()[1] * 1.1))
    handles, labels = ax.get_legend_handles_labels()
    for lib in LIBRARIES:
        if results["status"][lib]["error"]:
            handles.append(Patch(facecolor="white", edgecolor="white"))
            labels.append(f"{lib}: does not run")
    ax.legend(handles, labels, fontsize=8)
    ax.set_title("What is lost when two people act at once (lower is better)")
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(plot_dir / "losses.png", dpi=110)
    plt.close(fig)
    made["losses"] = ("Lost edits, clicks, characters and messages", "plots/losses.png")

    over = results.get("overhead", {})
    if over and not _err(over):
        fig, ax = plt.subplots(figsize=(6.5, 4))
        data, labels = [], []
        for case in ("no change", "one edit"):
            for mode in ("plain", "sync"):
                data.append([s * 1000 for s in over["runs"][mode][case]])
                labels.append(f"{case}\n{'without sync' if mode == 'plain' else 'in sync'}")
        ax.boxplot(data, tick_labels=labels)
        ax.set_ylabel("script run, ms")
        ax.set_title("One rerun of a 100-widget app, with and without crdt_sync.sync")
        ax.grid(axis="y", alpha=0.3)
        ax.tick_params(axis="x", labelsize=8)
        fig.tight_layout()
        fig.savefig(plot_dir / "overhead.png", dpi=110)
        plt.close(fig)
        made["overhead"] = ("Rerun cost of sync, 100 widgets", "plots/overhead.png")
    return made


def _loss_rates(results: dict[str, Any], lib: str) -> list[float]:
    nan = math.nan
    le = results["lost_edits"].get(lib, {})
    rates = [nan if _err(le) else 100 * le["lost"] / le["trials"]]
    for app in ("counter", "counter_lock"):
        r = results["counter"].get(f"{lib}:{app}", {})
        if _err(r) or not r:
            rates.append(nan)
            continue
        got = sum(x or 0 for x in r["increments"])
        want = r["expected"] * len(r["increments"])
        rates.append(100 * max(0, want - got) / want)
    ty = results["typing"].get(lib, {})
    rates.append(nan if _err(ty) or not ty["typed"] else 100 * ty["lost"] / ty["typed"])
    ch = results["chat"].get(lib, {})
    rates.append(nan if _err(ch) else 100 * ch["lost"] / ch["sent"])
    return rates


def latency_notes(results: dict[str, Any]) -> list[str]:
    lines = []
    for r in results["propagation"]:
        if r.get("library") == SSS and not _err(r) and r["sessions"] in (2, 10):
            s, f = summary(r["receivers"]), summary(r["floor"])
            lines.append(
                f"- streamlit-server-state in the same run, {r['sessions']} sessions: A->B "
                f"{ms(s['p50'])} / {ms(s['p95'])} against its floor {ms(f['p50'])} / "
                f"{ms(f['p95'])} ({fmt_ratio(ratio(s['p50'], f['p50']))} at p50)."
            )
    return ["For comparison (full tables in the section above):", "", *lines, ""] if lines else []
