"""Timing-dependent trials: how many edits and clicks are lost, counted over many rounds.

Run: ``python -m benchmarks.trials`` (``--quick`` for a few rounds of each; a quick run
writes to a scratch directory, never over the published results). Each trial is driven by
real browsers on a real server, the way people act, and asks afterwards what a fresh page
shows. The target in every trial is 0 lost.

1. **Fast clicks.** A and B click a shared counter's "+1" alternately, one click every
   50 ms, 10 clicks each, without waiting for their runs; lost = 20 - what a fresh page
   shows was added.
2. **Simultaneous commits in a streamlit-server-state style app** (each run copies the
   shared value into the widget's key, ``on_change`` writes it back): A and B commit
   different inputs 0-10 ms apart; lost = a value a fresh page misses. Run on crdt_sync's
   drop-in and on streamlit-server-state itself.
3. **Typing into an empty field while someone else's text arrives.** B types into the
   empty shared notes without committing, A types and commits, B commits; lost = a text
   a fresh page misses.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from playwright.sync_api import Page

from benchmarks import latency
from benchmarks.apps import app_path
from benchmarks.harness import Browsers, Server, page_problems, scratch_dir, settle, wait_until
from benchmarks.latency import output_dir, publish_section
from benchmarks.measures import close_page, shown_count
from tests.e2e import helpers

SECTION = "Lost edits and clicks in timing-dependent trials"
CRDT = "crdt_sync"
SERVER_STATE = "streamlit-server-state"


def _start(library: str, app: str, workdir: Path) -> Server:
    return Server(app_path(library, app), workdir, latency.store_env(library, workdir)).start()


def fast_clicks(browsers: Browsers, rounds: int, workdir: Path) -> dict[str, Any]:
    """Trial 1 (see the module docstring)."""
    server = _start(CRDT, "counter", workdir)
    lost: list[int] = []
    try:
        a, b = browsers.open(server.url), browsers.open(server.url)
        before = shown_count(a) or 0
        for _ in range(rounds):
            for _ in range(10):
                for page in (a, b):
                    helpers.button(page, "+1").click(delay=0, no_wait_after=True)
                    page.wait_for_timeout(50)
            settle([a, b], 10.0)
            fresh = browsers.open(server.url)
            wait_until(lambda: shown_count(a) == shown_count(b) == shown_count(fresh), 5.0, [a])  # noqa: B023
            value = shown_count(fresh) or before
            lost.append(20 - (value - before))
            before = value
            close_page(fresh)
        problems = page_problems([a, b]) + server.problems()
    finally:
        browsers.close_all()
        server.stop()
    return {
        "rounds": rounds,
        "clicks": 20 * rounds,
        "lost": sum(lost),
        "lost_per_round": lost,
        "problems": problems,
    }


def _values(page: Page) -> tuple[str, str]:
    return (
        helpers.text_input(page, "Alpha").input_value(),
        helpers.text_input(page, "Beta").input_value(),
    )


def compat_commits(browsers: Browsers, library: str, trials: int, workdir: Path) -> dict[str, Any]:
    """Trial 2 (see the module docstring)."""
    server = _start(library, "compat_inputs", workdir)
    lost: list[dict[str, Any]] = []
    try:
        a, b = browsers.open(server.url), browsers.open(server.url)
        for i in range(trials):
            want = (f"a{i}", f"b{i}")
            field_a, field_b = helpers.text_input(a, "Alpha"), helpers.text_input(b, "Beta")
            field_a.fill(want[0])
            field_b.fill(want[1])
            field_a.press("Enter")
            if i % 3:
                time.sleep((i % 3) * 0.005)
            field_b.press("Enter")
            wait_until(lambda: _values(a) == want == _values(b), 4.0, [a])  # noqa: B023
            settle([a, b])
            fresh = browsers.open(server.url)
            shows = _values(fresh)
            if shows != want:
                lost.append({"trial": i, "expected": want, "fresh page shows": shows})
            close_page(fresh)
        problems = page_problems([a, b]) + server.problems()
    finally:
        browsers.close_all()
        server.stop()
    return {
        "library": library,
        "trials": trials,
        "lost": len(lost),
        "lost_trials": lost,
        "problems": problems,
    }


def _notes(page: Page) -> str:
    return helpers.text_area(page, "Notes").input_value()


def empty_field_typing(browsers: Browsers, trials: int, workdir: Path) -> dict[str, Any]:
    """Trial 3 (see the module docstring)."""
    server = _start(CRDT, "notes_room", workdir)
    lost: list[dict[str, Any]] = []
    problems: list[str] = []
    try:
        for i in range(trials):
            url = f"{server.url}/?room=t{i}"
            a, b = browsers.open(url), browsers.open(url)
            texts = (f"ann{i} wrote this", f"bob{i} typed that")
            field_b = helpers.text_area(b, "Notes")
            field_b.click()
            field_b.press_sequentially(texts[1][: len(texts[1]) // 2], delay=20)
            field_a = helpers.text_area(a, "Notes")
            field_a.click()
            field_a.press_sequentially(texts[0], delay=10)
            tracker = helpers.run_tracker(b)
            runs = tracker.runs_finished
            field_a.press("Control+Enter")
            # B's session got A's text: a run the server pushed into it has finished.
            wait_until(lambda: tracker.runs_finished > runs, 5.0, [b])  # noqa: B023
            field_b.press_sequentially(texts[1][len(texts[1]) // 2 :], delay=20)
            field_b.press("Control+Enter")

            def both(page: Page) -> bool:
                return all(t in _notes(page) for t in texts)  # noqa: B023

            wait_until(lambda: both(a) and both(b), 5.0, [a])  # noqa: B023
            settle([a, b])
            fresh = browsers.open(url)
            if not both(fresh):
                lost.append({"trial": i, "expected": texts, "fresh page shows": _notes(fresh)})
            problems += page_problems([a, b, fresh])
            browsers.close_all()
        problems += server.problems()
    finally:
        browsers.close_all()
        server.stop()
    return {"trials": trials, "lost": len(lost), "lost_trials": lost, "problems": problems}


def section(results: dict[str, Any], *, command: str, facts: Sequence[str]) -> str:
    """The RESULTS.md section of a run."""
    clicks = results["fast_clicks"]
    rows = [
        f"## {SECTION}",
        "",
        f"`{command}`; {' '.join(facts)}",
        "",
        "| trial | library | lost | out of |",
        "|---|---|---|---|",
        f"| fast clicks (A and B alternate every 50 ms, 10 each, per round) | crdt_sync | "
        f"{clicks['lost']} clicks | {clicks['clicks']} clicks in {clicks['rounds']} rounds |",
    ]
    for r in results["compat_commits"]:
        rows.append(
            f"| simultaneous commits, server_state style app | {r['library']} | "
            f"{r['lost']} trials | {r['trials']} trials |"
        )
    typing = results["empty_field_typing"]
    rows.append(
        f"| typing into an empty field while another's text arrives | crdt_sync | "
        f"{typing['lost']} trials | {typing['trials']} trials |"
    )
    problems = [p for r in [clicks, *results["compat_commits"], typing] for p in r["problems"]]
    rows += ["", f"Problems seen (page exceptions, server errors): {len(problems)}."]
    rows += [f"- {p[:200]}" for p in problems[:10]]
    return "\n".join(rows) + "\n"


def main(argv: Sequence[str] | None = None) -> None:
    from benchmarks.compare import machine_facts

    parser = argparse.ArgumentParser(prog="python -m benchmarks.trials", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a few rounds of each")
    parser.add_argument("--out", type=Path, default=None, help="where RESULTS.md is")
    args = parser.parse_args(argv)
    out = output_dir(args.out, args.quick)
    rounds, commits, typing = (1, 3, 2) if args.quick else (15, 30, 15)
    command = "python -m benchmarks.trials" + (" --quick" if args.quick else "")
    with Browsers() as browsers, scratch_dir("bench-trials-") as work:
        results = {
            "fast_clicks": fast_clicks(browsers, rounds, work / "clicks"),
            "compat_commits": [
                compat_commits(browsers, lib, commits, work / f"commits-{lib}")
                for lib in (CRDT, SERVER_STATE)
            ],
            "empty_field_typing": empty_field_typing(browsers, typing, work / "typing"),
        }
        facts = machine_facts(browsers.version)
    publish_section(out, SECTION, section(results, command=command, facts=facts))


if __name__ == "__main__":
    main()
