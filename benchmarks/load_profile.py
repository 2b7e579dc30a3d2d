"""Where the server's CPU goes when one edit reruns N sessions (py-spy on the server).

Run from the repository root (needs ``py-spy`` in the venv: ``pip install py-spy``)::

    python -m benchmarks.load_profile [--sessions 50] [--edits 10] [--out FILE]

For crdt_sync and for the same app without it (`benchmarks.load`'s setups), N headless
sessions connect, then py-spy samples the ``streamlit run`` process while session 0
commits ``--edits`` values of Alpha. Prints, per setup, the milliseconds per script run
(samples / rate / runs that ended) spent in each function, callees included, the
largest first, and writes them as JSON to ``--out`` (default: a scratch file).
"""

from __future__ import annotations

import argparse
import json
import re
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks.harness import Profiler
from benchmarks.load import CRDT, PLAIN, _connect, _edit_round, in_own_loop, start_servers
from benchmarks.load_client import close_all, quiet

REPO = Path(__file__).resolve().parents[1]
RATE = 250


def _frame(raw: str) -> str:
    """A py-spy frame without the site-packages / repository prefix and the line."""
    frame = re.sub(r"\(/\S*/(site-packages|python3\.\d+)/", "(", raw)
    return re.sub(r":\d+\)$", ")", frame.replace(str(REPO) + "/", ""))


def inclusive(raw: Path, runs: int, rate: int = RATE) -> dict[str, float]:
    """Milliseconds per run in each function, callees included (a function counted once
    per sample even when recursive); ``"(all)"`` is every sample of an active thread."""
    per: dict[str, float] = {}
    scale = 1000 / rate / max(1, runs)
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        ms = int(count) * scale
        per["(all)"] = per.get("(all)", 0.0) + ms
        for frame in {_frame(f) for f in stack.split(";")}:
            per[frame] = per.get(frame, 0.0) + ms
    return per


async def profiled(setup: str, sessions: int, edits: int, work: Path) -> dict[str, Any]:
    """py-spy over ``edits`` edits of ``setup`` with ``sessions`` sessions."""
    (server,) = start_servers(setup, work, None)
    everyone = []
    try:
        everyone = await _connect([server], sessions)
        await quiet(everyone, quiet_for=1.0)
        waiting = [] if setup == PLAIN else everyone[1:]
        for i in range(2):  # warm
            await _edit_round(everyone[0], waiting, everyone, f"w{i}")
        runs0 = sum(s.runs for s in everyone)
        spy = Profiler(server.pid, work / "profile.txt", rate=RATE)
        for i in range(edits):
            await _edit_round(everyone[0], waiting, everyone, f"p{i}")
        error = spy.stop()
        runs = sum(s.runs for s in everyone) - runs0
    finally:
        await close_all(everyone)
        server.stop()
    if error:
        return {"setup": setup, "error": error}
    return {
        "setup": setup,
        "sessions": sessions,
        "edits": edits,
        "runs": runs,
        "ms_per_run": inclusive(spy.raw, runs),
    }


def table(result: dict[str, Any], limit: int = 30, match: str = "") -> list[str]:
    """The ``limit`` costliest functions (whose frame contains ``match``), per run."""
    if "error" in result:
        return [f"{result['setup']}: {result['error']}"]
    per = result["ms_per_run"]
    total = per["(all)"]
    lines = [
        f"{result['setup']}: N = {result['sessions']}, {result['edits']} edits, "
        f"{result['runs']} runs; {total:.1f} ms of server CPU per run (py-spy, active threads)"
    ]
    names = sorted((n for n in per if match in n and n != "(all)"), key=lambda n: -per[n])
    lines += [f"  {per[n]:7.2f} ms  {100 * per[n] / total:5.1f}%  {n}" for n in names[:limit]]
    return lines


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.load_profile", description=__doc__)
    parser.add_argument("--sessions", type=int, default=50)
    parser.add_argument("--edits", type=int, default=10)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    results = []
    with tempfile.TemporaryDirectory(prefix="bench-load-profile-") as tmp:
        for setup in (CRDT, PLAIN):
            work = Path(tmp) / setup.replace(" ", "-")
            results.append(in_own_loop(profiled(setup, args.sessions, args.edits, work)))
    for result in results:
        print("\n".join(table(result)))
        print("\n".join(table(result, 25, "crdt_sync/")))
    out = args.out or Path(tempfile.mkdtemp(prefix="load-profile-")) / "profile.json"
    out.write_text(json.dumps(results, indent=1))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
