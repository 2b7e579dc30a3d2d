"""Measures 2-7 of the comparison: what happens when two people act at once, restore,
server cost. Each takes the browsers, a library and a fresh working directory, runs its own
``streamlit run`` server of that library's app (``benchmarks/apps/with_*/``) and returns a
JSON-able dict; ``problems`` lists server-log and page errors seen meanwhile.

Measure 1 (propagation) is `benchmarks.latency.propagation`; `benchmarks.compare` runs
them all.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import re
import subprocess
import sys
import time
from collections.abc import Sequence
from difflib import SequenceMatcher
from pathlib import Path
from typing import Any

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page

from benchmarks import latency
from benchmarks.apps import app_path
from benchmarks.harness import (
    REPO_ROOT,
    Browsers,
    Profiler,
    Server,
    cpu_seconds,
    dir_bytes,
    last_commit,
    memory_kib,
    page_problems,
    settle,
    shown_times,
    wait_until,
)
from tests.e2e import helpers

CRDT = "crdt_sync"
SSS = "streamlit-server-state"
SYNC = "streamlit-sync"


# ------------------------------------------------------------------ page reading


def body_text(page: Page) -> str:
    return str(page.evaluate("() => document.body.textContent"))


def shows_values(page: Page, values: dict[str, str], labels: dict[str, str]) -> bool:
    """The page's inputs and echo lines all show ``values`` (key -> value)."""
    text = body_text(page)
    for key, value in values.items():
        if f"seen {key}:{value}|" not in text:
            return False
        if helpers.text_input(page, labels[key]).input_value(timeout=2_000) != value:
            return False
    return True


def shown_count(page: Page) -> int | None:
    found = re.findall(r"count=(\d+)\|", body_text(page))
    return int(found[-1]) if found else None


def shown_messages(page: Page) -> list[str]:
    return re.findall(
        r"\b[AB]-\d\d\b", page.get_by_test_id("stMainBlockContainer").inner_text(timeout=5_000)
    )


def close_page(page: Page) -> None:
    with contextlib.suppress(PlaywrightError):
        page.context.close()


class Clicks:
    """Send an action without waiting, then wait until the run it caused has finished."""

    def __init__(self, pages: Sequence[Page]) -> None:
        self.trackers = {page: helpers.run_tracker(page) for page in pages}
        self.timeouts = 0

    def sent(self, page: Page) -> int:
        return self.trackers[page].rerun_requests

    def processed(self, page: Page, sent: int, timeout: float = 10_000) -> None:
        tracker = self.trackers[page]
        try:
            tracker.wait(
                page,
                lambda: (
                    tracker.rerun_requests > sent
                    and tracker.last_finished_request >= tracker.rerun_requests
                ),
                "the action's run",
                timeout,
            )
        except AssertionError:
            self.timeouts += 1


# ------------------------------------------------------------------ 2. lost edits

LABELS = {"a": "Alpha", "b": "Beta"}
GAPS_MS = (0, 10, 20, 30, 40, 50)


def lost_edits(browsers: Browsers, library: str, trials: int, workdir: Path) -> dict[str, Any]:
    server = Server(
        app_path(library, "shared_widgets"), workdir, latency.store_env(library, workdir)
    )
    server.start()
    lost: list[dict[str, Any]] = []
    gaps: list[float] = []
    try:
        a, b = browsers.open(server.url), browsers.open(server.url)
        for i in range(trials):
            values = {"a": f"a{i}", "b": f"b{i}"}
            field_a, field_b = helpers.text_input(a, "Alpha"), helpers.text_input(b, "Beta")
            field_a.fill(values["a"])
            field_b.fill(values["b"])
            field_a.press("Enter")
            if GAPS_MS[i % len(GAPS_MS)]:
                time.sleep(GAPS_MS[i % len(GAPS_MS)] / 1000)
            field_b.press("Enter")
            gaps.append(last_commit(b) - last_commit(a))

            def both() -> bool:
                return all(shows_values(p, values, LABELS) for p in (a, b))  # noqa: B023

            ok = wait_until(both, 4.0, [a])
            if ok:  # still there once every page has settled (not overwritten later)?
                settle([a, b])
                time.sleep(0.2)
                ok = wait_until(both, 0.5, [a])
            if not ok:
                lost.append(
                    {
                        "trial": i,
                        "expected": values,
                        "A shows": [
                            helpers.text_input(a, x).input_value() for x in LABELS.values()
                        ],
                        "B shows": [
                            helpers.text_input(b, x).input_value() for x in LABELS.values()
                        ],
                    }
                )
        fresh = browsers.open(server.url)
        last = {"a": f"a{trials - 1}", "b": f"b{trials - 1}"}
        fresh_ok = wait_until(lambda: shows_values(fresh, last, LABELS), 3.0, [fresh])
        problems = page_problems([a, b, fresh]) + server.problems()
    finally:
        browsers.close_all()
        server.stop()
    return {
        "trials": trials,
        "lost": len(lost),
        "lost_trials": lost,
        "gaps_ms": gaps,
        "fresh_page_shows_last": fresh_ok,
        "problems": problems,
    }


# ------------------------------------------------------------------ 3. counter


def counter(
    browsers: Browsers, library: str, app: str, rounds: int, clicks: int, workdir: Path
) -> dict[str, Any]:
    server = Server(app_path(library, app), workdir, latency.store_env(library, workdir))
    server.start()
    increments: list[int | None] = []
    disagreements = 0
    try:
        a, b = browsers.open(server.url), browsers.open(server.url)
        driver = Clicks([a, b])
        before = 0
        for _ in range(rounds):
            for _ in range(clicks):
                sent_a, sent_b = driver.sent(a), driver.sent(b)
                helpers.button(a, "+1").click(delay=0, no_wait_after=True)
                helpers.button(b, "+1").click(delay=0, no_wait_after=True)
                driver.processed(a, sent_a)
                driver.processed(b, sent_b)
            wait_until(lambda: shown_count(a) == shown_count(b) is not None, 5.0, [a])
            settle([a, b])
            fresh = browsers.open(server.url)
            value = shown_count(fresh)
            if not (shown_count(a) == shown_count(b) == value):
                disagreements += 1
            close_page(fresh)
            increments.append(None if value is None else value - before)
            before = value or before
        problems = page_problems([a, b]) + server.problems()
        timeouts = driver.timeouts
    finally:
        browsers.close_all()
        server.stop()
    return {
        "app": app,
        "expected": 2 * clicks,
        "increments": increments,
        "disagreements": disagreements,
        "click_timeouts": timeouts,
        "problems": problems,
    }


# ------------------------------------------------------------------ 4. typing


def concurrent_typing(
    browsers: Browsers, library: str, trials: int, workdir: Path
) -> dict[str, Any]:
    server = Server(app_path(library, "shared_text"), workdir, latency.store_env(library, workdir))
    server.start()
    outcomes: list[dict[str, Any]] = []
    try:
        # A fresh area per trial: every trial starts from a field nobody edited before.
        url = f"{server.url}/?areas={trials}"
        a, b = browsers.open(url), browsers.open(url)
        for i in range(trials):
            area_a, area_b = helpers.text_area(a, f"Story {i}"), helpers.text_area(b, f"Story {i}")
            base = f"t{i} the quick brown fox"
            area_a.fill(base)
            area_a.press("Control+Enter")
            if not wait_until(lambda: area_b.input_value() == base, 5.0, [a]):  # noqa: B023
                settle([a, b])
                outcomes.append(
                    {
                        "trial": i,
                        "error": "the starting text never reached B as typed",
                        "typed": base,
                        "A shows": area_a.input_value(),
                        "B shows": area_b.input_value(),
                    }
                )
                continue
            settle([a, b])
            insert_a, insert_b = "very ", f" jumps{i}"
            expected = f"t{i} the {insert_a}quick brown fox{insert_b}"
            area_a.fill(base.replace("quick", insert_a + "quick"))
            area_b.fill(base + insert_b)
            area_a.press("Control+Enter")
            area_b.press("Control+Enter")
            wait_until(lambda: area_a.input_value() == area_b.input_value() == expected, 4.0, [a])  # noqa: B023
            settle([a, b])
            time.sleep(0.2)
            finals = [area_a.input_value(), area_b.input_value()]
            lost = extra = 0
            for final in finals:
                matched = sum(
                    m.size for m in SequenceMatcher(None, final, expected).get_matching_blocks()
                )
                lost = max(lost, len(expected) - matched)
                extra = max(extra, len(final) - matched)
            outcomes.append(
                {
                    "trial": i,
                    "typed": len(insert_a) + len(insert_b),
                    "lost": lost,
                    "extra": extra,
                    "pages_agree": finals[0] == finals[1],
                    "finals": finals,
                    "expected": expected,
                }
            )
        problems = page_problems([a, b]) + server.problems()
    finally:
        browsers.close_all()
        server.stop()
    done = [o for o in outcomes if "error" not in o]
    return {
        "trials": trials,
        "outcomes": outcomes,
        "typed": sum(o["typed"] for o in done),
        "lost": sum(o["lost"] for o in done),
        "extra": sum(o["extra"] for o in done),
        "trials_losing": sum(1 for o in done if o["lost"]),
        "disagree": sum(1 for o in done if not o["pages_agree"]),
        "not_started": len(outcomes) - len(done),
        "problems": problems,
    }


# ------------------------------------------------------------------ 5. chat


def chat(browsers: Browsers, library: str, per_session: int, workdir: Path) -> dict[str, Any]:
    server = Server(app_path(library, "chat"), workdir, latency.store_env(library, workdir))
    server.start()
    expected = [f"{who}-{k:02d}" for k in range(per_session) for who in "AB"]
    try:
        a, b = browsers.open(server.url), browsers.open(server.url)
        driver = Clicks([a, b])
        for k in range(per_session):
            sent = {}
            for page, who in ((a, "A"), (b, "B")):
                sent[who] = driver.sent(page)
                box = page.get_by_test_id("stChatInputTextArea")
                box.fill(f"{who}-{k:02d}")
                box.press("Enter")
            driver.processed(a, sent["A"])
            driver.processed(b, sent["B"])

        def complete() -> bool:
            seen = [shown_messages(p) for p in (a, b)]
            return seen[0] == seen[1] and sorted(seen[0]) == sorted(expected)

        wait_until(complete, 5.0, [a])
        settle([a, b])
        fresh = browsers.open(server.url)
        shown = {name: shown_messages(p) for name, p in (("A", a), ("B", b), ("new page", fresh))}
        problems = page_problems([a, b, fresh]) + server.problems()
    finally:
        browsers.close_all()
        server.stop()
    lost = max(len(set(expected) - set(msgs)) for msgs in shown.values())
    duplicated = max(len(msgs) - len(set(msgs)) for msgs in shown.values())
    orders = {tuple(m) for m in shown.values()}
    return {
        "sent": len(expected),
        "lost": lost,
        "duplicated": duplicated,
        "same_order": len(orders) == 1,
        "shown": shown,
        "send_timeouts": driver.timeouts,
        "problems": problems,
    }


# ------------------------------------------------------------------ 6. restore

_GENERATE = """
import sys
from crdt_sync.doc import DiskCacheStore
store = DiskCacheStore(sys.argv[1], compact_every=0)
text = store.load("bench").text("a")
for i in range(int(sys.argv[2])):
    text.update(f"restored-{i}")
store.close()
"""
_COMPACT = """
import sys
from crdt_sync.doc import DiskCacheStore
store = DiskCacheStore(sys.argv[1])
store.compact("bench")
store.close()
"""
_LOAD = """
import statistics, sys, time
from crdt_sync.doc import DiskCacheStore
times = []
for _ in range(5):
    store = DiskCacheStore(sys.argv[1])
    start = time.perf_counter()
    value = str(store.load("bench").text("a"))
    times.append(time.perf_counter() - start)
    store.close()
print(statistics.median(times), value)
"""


def _python(code: str, *args: str) -> str:
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    proc = subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        env=env,
        check=True,
        timeout=600,
    )
    return proc.stdout.strip()


def _start_to_visible(browsers: Browsers, server: Server, marker: str) -> dict[str, float]:
    """Start the server, open one page; seconds until it shows ``marker``, counted from
    spawning the server (``spawn``) and from the page's navigation start (``page``)."""
    server.start()
    try:
        page = browsers.open(server.url, watch=[marker], wait=False)
        seen = helpers.text_appeared_at(page, marker, 30_000)
        origin = float(page.evaluate("() => performance.timeOrigin"))
        return {"spawn": seen / 1000 - server.started_at, "page": (seen - origin) / 1000}
    finally:
        browsers.close_all()
        server.stop()


def restore(
    browsers: Browsers, library: str, changes: int, reps: int, workdir: Path
) -> dict[str, Any]:
    if library == CRDT:
        return _restore_crdt(browsers, changes, reps, workdir)
    return _restore_not_persisted(browsers, library, workdir)


def _restore_crdt(browsers: Browsers, changes: int, reps: int, workdir: Path) -> dict[str, Any]:
    app = app_path(CRDT, "shared_widgets")
    empty, full = workdir / "empty", workdir / "full"
    last = f"restored-{changes - 1}"
    started = time.monotonic()
    _python(_GENERATE, str(full / "store"), str(changes))
    result: dict[str, Any] = {"changes": changes, "generate_s": time.monotonic() - started}
    floor = Server(app, empty, latency.store_env(CRDT, empty))
    if reps > 1:  # a warm-up start: imports and files in the OS cache for every phase alike
        _start_to_visible(browsers, floor, "seen a:|")
    result["floor"] = [_start_to_visible(browsers, floor, "seen a:|") for _ in range(reps)]
    for phase in ("log", "compacted"):
        if phase == "compacted":
            _python(_COMPACT, str(full / "store"))
        load_s, value = _python(_LOAD, str(full / "store")).split(" ", 1)
        server = Server(app, full, latency.store_env(CRDT, full))
        visible = [_start_to_visible(browsers, server, f"seen a:{last}|") for _ in range(reps)]
        result[phase] = {
            "bytes": dir_bytes(full / "store"),
            "load_s": float(load_s),
            "loaded_value_ok": value == last,
            "visible": visible,
            "problems": server.problems(),
        }
    result["problems"] = floor.problems() + result["log"]["problems"]
    result["problems"] += result["compacted"]["problems"]
    return result


def best(runs: Sequence[dict[str, float]], what: str) -> float:
    """The smallest ``what`` (``spawn`` / ``page``) of repeated `_start_to_visible` runs."""
    return min(r[what] for r in runs)


def _restore_not_persisted(browsers: Browsers, library: str, workdir: Path) -> dict[str, Any]:
    """The anchor keeps state in memory only: does a value survive a restart?"""
    server = Server(app_path(library, "shared_widgets"), workdir)
    server.start()
    try:
        page = browsers.open(server.url)
        helpers.type_and_commit(page, "Alpha", "persist-me")
    finally:
        browsers.close_all()
        server.stop()
    server.start()
    try:
        page = browsers.open(server.url, watch=["seen a:persist-me|"])
        survived = wait_until(lambda: "seen a:persist-me|" in body_text(page), 3.0, [page])
    finally:
        browsers.close_all()
        server.stop()
    on_disk = sum(
        p.stat().st_size for p in workdir.rglob("*") if p.is_file() and p.suffix != ".log"
    )
    return {
        "survives_restart": survived,
        "bytes": on_disk,
        "problems": server.problems(),
        # What a snapshot store (streamlit-sync) pickles for this app: the latest values only.
        "snapshot_pickle_bytes": len(pickle.dumps({"a": "persist-me", "b": ""})),
    }


# ------------------------------------------------------------------ 7. server cost


def server_cost(
    browsers: Browsers,
    library: str,
    sessions: int,
    edits: int,
    workdir: Path,
    *,
    profile: bool = False,
) -> dict[str, Any]:
    """Server CPU and memory for ``sessions`` pages and ``edits`` edits; with ``profile``,
    py-spy samples the server during the edits (`summarize_profile`)."""
    server = Server(
        app_path(library, "shared_widgets"), workdir, latency.store_env(library, workdir)
    )
    server.start()
    missed = 0
    wrong: list[dict[str, Any]] = []
    try:
        pid = server.pid
        cpu0, rss0 = cpu_seconds(pid), memory_kib(pid, "VmRSS")
        pages = [browsers.open(server.url) for _ in range(sessions)]
        settle(pages)
        time.sleep(0.5)
        spy = Profiler(pid, workdir / "profile.txt") if profile else None
        cpu1 = cpu_seconds(pid)
        for i in range(edits):
            key = "ab"[i % 2]
            value = f"w{i}"
            marker = f"seen {key}:{value}|"
            for page in pages:
                helpers.watch_text(page, marker)
            field = helpers.text_input(pages[i % sessions], LABELS[key])
            field.fill(value)
            field.press("Enter")
            times = shown_times(pages, marker, 4.0)
            if None in times:
                missed += 1
                if len(wrong) < 3:
                    settle(pages)
                    page = pages[times.index(None)]
                    shows = helpers.text_input(page, LABELS[key]).input_value()
                    wrong.append({"edit": i, "typed": value, "shown": shows})
        settle(pages, 10.0)
        time.sleep(0.5)
        cpu2 = cpu_seconds(pid)
        hwm = memory_kib(pid, "VmHWM")
        profiled = None
        if spy is not None:
            error = spy.stop()
            profiled = {"error": error} if error else summarize_profile(spy.raw)
        problems = page_problems(pages) + server.problems()
    finally:
        browsers.close_all()
        server.stop()
    return {
        "profile": profiled,
        "sessions": sessions,
        "edits": edits,
        "cpu_open_s": cpu1 - cpu0,
        "cpu_edits_s": cpu2 - cpu1,
        "cpu_total_s": cpu2 - cpu0,
        "cpu_per_edit_ms": (cpu2 - cpu1) / edits * 1000,
        "rss_start_mib": rss0 / 1024,
        "peak_rss_mib": hwm / 1024,
        "edits_not_shown": missed,
        "not_shown_examples": wrong,
        "problems": problems,
    }


# ------------------------------------------------------------------ profile


_GC_PROBE = """
import gc, statistics, sys, time, importlib
import streamlit
for name in sys.argv[1:]:
    importlib.import_module(name)
gc.collect(2)
times = []
for _ in range(15):
    start = time.perf_counter()
    gc.collect(2)
    times.append(time.perf_counter() - start)
print(min(times), len(gc.get_objects()), len(sys.modules))
"""


def gc_probe() -> dict[str, dict[str, float]]:
    """What one ``gc.collect(2)`` costs in a fresh process that imported each library.

    Streamlit collects after every script run (``runner.postScriptGC``, on by default), so
    the objects a library keeps alive are paid for on every rerun of every session.
    """
    probes = {"streamlit only": [], "streamlit-server-state": ["streamlit_server_state"]}
    probes["crdt_sync"] = ["crdt_sync"]
    out: dict[str, dict[str, float]] = {}
    for label, modules in probes.items():
        try:
            seconds, objects, count = _python(_GC_PROBE, *modules).split()
        except subprocess.CalledProcessError:
            continue
        out[label] = {
            "gc_ms": float(seconds) * 1000,
            "objects": int(objects),
            "modules": int(count),
        }
    return out


def summarize_profile(raw: Path, limit: int = 12) -> dict[str, Any]:
    """Inclusive share of samples per function, for crdt_sync's own and the busiest others.

    py-spy's raw format: one line per distinct stack, ``frame;frame;... count``, root first,
    frames as ``function (file:line)``.
    """
    total = 0
    busy = 0
    inclusive: dict[str, int] = {}
    self_time: dict[str, int] = {}
    for line in raw.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        total += count
        frames = [re.sub(r":\d+\)$", ")", f) for f in stack.split(";")]
        frames = [f.replace(str(REPO_ROOT) + "/", "") for f in frames]
        frames = [re.sub(r"\(/\S*/(site-packages|python3\.\d+)/", "(", f) for f in frames]
        if any("script_runner" in f or "crdt_sync" in f or "tornado" in f for f in frames):
            busy += count
        for frame in set(frames):
            inclusive[frame] = inclusive.get(frame, 0) + count
        leaf = frames[-1]
        self_time[leaf] = self_time.get(leaf, 0) + count
    own = sorted(((f, c) for f, c in inclusive.items() if "crdt_sync/" in f), key=lambda x: -x[1])[
        :limit
    ]
    hot = sorted(((f, c) for f, c in self_time.items() if "idle" not in f), key=lambda x: -x[1])[
        :limit
    ]
    gc_after_runs = self_time.get(
        "ScriptRunner._on_script_finished (streamlit/runtime/scriptrunner/script_runner.py)", 0
    )
    return {
        "samples": total,
        "busy": busy,
        "gc_after_runs": gc_after_runs,
        "crdt_sync_inclusive": own,
        "self": hot,
    }
