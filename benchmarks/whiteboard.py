"""Whiteboard: how long until B sees A's stroke, on an empty board and on a 2,000-element one.

Run: ``python -m benchmarks.whiteboard`` (``--quick`` for a few strokes). Writes the
"## Whiteboard" section of benchmarks/RESULTS.md.

For each board size a fresh ``streamlit run`` server (memory store) serves a page with one
board; the room is filled with N pen strokes (60 points each) before the browsers open.
Two chromium sessions, A and B, open it. A draws a stroke with real mouse events; the time
is from A's ``pointerup`` (the moment the stroke is finished, page clock) to the moment B's
board shows one element more (a MutationObserver on B's ``data-count``, page clock; both
clocks are the same machine's). Bytes are every websocket frame B receives from A's
``pointerup`` until B's run for that stroke has finished (Streamlit's protocol, no
compression). Target: the 2,000-element latency at most 1.5x the empty board's.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from playwright.sync_api import Page

from benchmarks.harness import Browsers, Server, percentile, scratch_dir
from benchmarks.latency import output_dir, publish_section
from tests.e2e import helpers
from tests.e2e.helpers_board import draw_stroke, wait_board

SECTION = "## Whiteboard"
DEFAULT_OUT = Path(__file__).resolve().parent
SIZES = (0, 2000)
TARGET = 1.5

APP = """
import random

import streamlit as st

import crdt_sync
from crdt_sync.bridge.config import hub
from crdt_sync.components.whiteboard import Board

N = int(st.query_params.get("n", "0"))
ROOM = f"bench-{N}"


@st.cache_resource
def seeded(n: int) -> bool:
    room = hub().open(ROOM)  # kept open for the whole run
    board = Board(room, "wb")
    rng = random.Random(n)
    for i in range(n):
        pts = [round(rng.uniform(0, 120), 1) for _ in range(120)]
        x, y = rng.uniform(0, 880), rng.uniform(0, 480)
        board.add(
            {"id": f"seed{i:05d}", "type": "pen", "pos": [x, y], "pts": pts}, by="seed", z=i
        )
    return True


seeded(N)
crdt_sync.whiteboard(ROOM, key="wb", height=600)
"""

#: Records when the pointer is released and when the board's element count changes.
TIMING_SCRIPT = r"""
(() => {
  const clock = () => performance.timeOrigin + performance.now();
  const bench = (window.__wb = { ups: [], counts: {} });
  window.addEventListener("pointerup", () => bench.ups.push(clock()), true);
  const watch = () => {
    const root = document.querySelector("iframe") ? null : findBoard(document);
    if (!root) return setTimeout(watch, 50);
    new MutationObserver(() => {
      const n = root.dataset.count;
      if (n !== undefined && !(n in bench.counts)) bench.counts[n] = clock();
    }).observe(root, { attributes: true, attributeFilter: ["data-count"] });
  };
  const findBoard = (node) => {
    for (const el of node.querySelectorAll("*")) {
      if (el.classList && el.classList.contains("crdt-wb")) return el;
      if (el.shadowRoot) { const found = findBoard(el.shadowRoot); if (found) return found; }
    }
    return null;
  };
  window.addEventListener("load", watch);
})();
"""


def _frames(page: Page) -> list[tuple[float, int, bytes]]:
    """Start collecting (time, size, payload) of every websocket frame the page receives."""
    got: list[tuple[float, int, bytes]] = []

    def on_ws(ws: Any) -> None:
        if ws.url.endswith("/_stcore/stream"):
            ws.on(
                "framereceived",
                lambda p: got.append(
                    (time.time(), len(p), p if isinstance(p, bytes) else p.encode())
                ),
            )

    page.on("websocket", on_ws)
    return got


def measure(browsers: Browsers, size: int, strokes: int, workdir: Path) -> dict[str, Any]:
    """Latency (ms) and bytes to B for ``strokes`` strokes by A on a board of ``size``."""
    workdir.mkdir(parents=True, exist_ok=True)
    app = workdir / "app.py"
    app.write_text(APP)
    server = Server(app, workdir, env={"CRDT_SYNC_STORE": "memory"}).start()
    latencies: list[float] = []
    sizes: list[int] = []
    try:
        url = f"{server.url}/?n={size}"
        a = _open_with_frames(browsers, url)
        b = _open_with_frames(browsers, url)
        frames = b.frames_log  # type: ignore[attr-defined]
        for page in (a, b):
            wait_board(page, count=size, timeout=60_000)
        load_bytes = sum(n for _t, n, _p in frames)
        for i in range(strokes):
            expected = size + i + 1
            y = 40 + (i * 37) % 500
            start_frames = len(frames)
            draw_stroke(a, [(60 + 20 * k, y + (k % 3) * 8) for k in range(12)])
            up = float(a.evaluate("() => window.__wb.ups.at(-1)"))
            wait_board(b, count=expected, timeout=30_000)
            seen = float(b.evaluate(f"() => window.__wb.counts['{expected}']"))
            helpers.wait_idle(b, 30_000)
            wait_board(a, count=expected, timeout=30_000)
            b.wait_for_timeout(150)  # let the run's last frames arrive
            latencies.append(seen - up)
            sizes.append(sum(n for _t, n, _p in frames[start_frames:]))
        problems = server.problems()
    finally:
        browsers.close_all()
        server.stop()
    return {
        "size": size,
        "strokes": strokes,
        "latency_p50": percentile(latencies, 50),
        "latency_p90": percentile(latencies, 90),
        "bytes_p50": percentile([float(s) for s in sizes], 50),
        "bytes_max": max(sizes) if sizes else 0,
        "load_bytes": load_bytes,
        "problems": problems,
    }


def _open_with_frames(browsers: Browsers, url: str) -> Page:
    assert browsers.browser is not None
    context = browsers.browser.new_context(viewport={"width": 900, "height": 1000})
    browsers.contexts.append(context)
    context.set_default_timeout(helpers.TIMEOUT)
    context.add_init_script(helpers.init_script())
    context.add_init_script(TIMING_SCRIPT)
    page = context.new_page()
    page.frames_log = _frames(page)  # type: ignore[attr-defined]
    helpers.track_session(page)
    page.goto(url)
    helpers.wait_idle(page, 60_000)
    return page


def section(results: Sequence[dict[str, Any]], *, command: str, facts: Sequence[str]) -> str:
    empty, full = results[0], results[-1]
    ratio = full["latency_p50"] / empty["latency_p50"] if empty["latency_p50"] else float("nan")
    lines = [
        SECTION,
        "",
        f"Command: `{command}` ({empty['strokes']} strokes per board size).",
        "",
        "Time from A releasing the mouse at the end of a stroke to B's board showing it, and",
        "the websocket bytes B receives for it (Streamlit protocol). The room of the large board",
        "holds 2,000 pen strokes of 60 points before the browsers open.",
        "",
        "| board | latency p50 | latency p90 | bytes to B per stroke (p50 / max) "
        "| first load of B |",
        "|---|---|---|---|---|",
    ]
    for r in results:
        lines.append(
            f"| {r['size']:,} elements | {r['latency_p50']:.0f} ms | {r['latency_p90']:.0f} ms "
            f"| {r['bytes_p50']:,.0f} / {r['bytes_max']:,} B | {r['load_bytes']:,} B |"
        )
    verdict = "met" if ratio <= TARGET else "NOT met"
    lines += [
        "",
        f"2,000-element / empty latency (p50): **{ratio:.2f}x** (target <= {TARGET}x: {verdict}).",
        "",
        "Why it stays flat: a stroke is one operation; the server re-reads only the bucket",
        "table it touched (a board is 64 bucket tables) and each page gets only the elements",
        "changed since the version it has, in a rerun of the board's fragment alone; the",
        "component's JS/CSS are served once by URL, not resent with each rerun. In the",
        "browser, a new element is one node inserted in stacking order, and previews are drawn",
        "on a separate layer, so drawing does not repaint the board. What remains is the",
        "repaint of a board with thousands of paths (software rendering here), and the",
        "machine's load: other test runs shared its 2 cores (see the load average below).",
    ]
    problems = [p for r in results for p in r["problems"]]
    if problems:
        lines += ["", "Server log problems:", *[f"- `{p}`" for p in problems[:10]]]
    lines += ["", *facts]
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> None:
    from benchmarks.compare import machine_facts

    parser = argparse.ArgumentParser(prog="python -m benchmarks.whiteboard", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="3 strokes per size")
    parser.add_argument("--strokes", type=int, default=20)
    parser.add_argument("--out", type=Path, default=None, help="where RESULTS.md is")
    args = parser.parse_args(argv)
    args.out = output_dir(args.out, args.quick)
    strokes = 3 if args.quick else args.strokes
    command = "python -m benchmarks.whiteboard" + (" --quick" if args.quick else "")
    results = []
    with Browsers() as browsers, scratch_dir("bench-wb-") as work:
        for size in SIZES:
            results.append(measure(browsers, size, strokes, work / f"n{size}"))
            print(results[-1])
        facts = machine_facts(browsers.version)
    publish_section(args.out, SECTION, section(results, command=command, facts=facts))


if __name__ == "__main__":
    main()
