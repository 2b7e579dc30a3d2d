"""``python -m benchmarks.compare --quick`` still runs and writes well-formed results.

Real servers and real browsers, a few trials of each measure, into a temporary directory
(never over the committed ``benchmarks/RESULTS.md``). It asserts the shape of what was
written, never a speed: every table is there, every library has a row in it, with numbers
or with the recorded reason it does not run, and the other sections of the file are kept.
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get("E2E_CHROMIUM", "/usr/bin/chromium")
LIBRARIES = ("crdt_sync", "streamlit-server-state", "streamlit-sync")
COMPARE = "## Compared with streamlit-server-state and streamlit-sync"
LATENCY = "## Bridge latency"
OTHERS = {
    "## Engine": "engine numbers stay",
    "## Whiteboard": "whiteboard numbers stay",
    "## Scale-out": "scale-out numbers stay",
}
MEASURES = (
    "### 1. Propagation",
    "### 2. Lost edits",
    "### 3. Concurrent counter",
    "### 4. Concurrent typing",
    "### 5. Chat",
    "### 6. Restore",
    "### 7. Server cost",
)


def section(text: str, heading: str) -> str:
    """The lines of ``text`` from ``heading`` to the next heading of the same level."""
    level = heading.split(" ")[0] + " "
    lines = text.splitlines()
    assert heading in lines, f"{heading!r} missing from:\n{text}"
    start = lines.index(heading)
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith(level)), len(lines))
    return "\n".join(lines[start:end])


def table_rows(block: str) -> list[list[str]]:
    """Cells of the markdown table rows in ``block`` (header and rule excluded)."""
    rows = [
        [c.strip() for c in line.strip().strip("|").split("|")]
        for line in block.splitlines()
        if line.startswith("|")
    ]
    return [r for r in rows[2:] if not all(set(c) <= {"-"} for c in r)]


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no chromium at {CHROMIUM}")
    out = tmp_path_factory.mktemp("bench")
    seeded = "# Benchmark results\n\n" + "".join(f"{h}\n\n{t}\n\n" for h, t in OTHERS.items())
    (out / "RESULTS.md").write_text(seeded)
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.compare", "--quick", "--out", str(out)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, f"{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"
    return out, (out / "RESULTS.md").read_text()


def test_other_sections_are_kept(results: tuple[Path, str]) -> None:
    _out, text = results
    for heading, body in OTHERS.items():
        assert body in section(text, heading)
    assert text.count(COMPARE) == 1 and text.count(LATENCY) == 1


def test_every_library_runs_or_says_why_not(results: tuple[Path, str]) -> None:
    _out, text = results
    compare = section(text, COMPARE)
    status = {row[0]: row for row in table_rows(compare.split("### Summary")[0])}
    assert set(status) == set(LIBRARIES)
    for library, row in status.items():
        assert row[2] == "runs" or row[2].startswith("**does not run**: `"), (library, row)
    assert status["crdt_sync"][2] == "runs"
    assert "harness failed" not in text, "a measure crashed the harness"


def test_every_measure_has_a_row_per_library(results: tuple[Path, str]) -> None:
    _out, text = results
    compare = section(text, COMPARE)
    for heading in ("### Summary", *MEASURES, "### Errors seen", "### Targets for crdt_sync"):
        assert heading in compare, heading
    for heading in MEASURES:
        rows = table_rows(section(compare, heading))
        named = {row[0] for row in rows}
        assert set(LIBRARIES) <= named, (heading, named)
        crdt = [row for row in rows if row[0] == "crdt_sync"]
        assert all(re.search(r"\d", " ".join(row[1:])) for row in crdt), (heading, crdt)
    summary_rows = table_rows(section(compare, "### Summary"))
    assert summary_rows and all(len(row) == 1 + len(LIBRARIES) for row in summary_rows)
    targets = section(compare, "### Targets for crdt_sync (issue 9)")
    assert re.search(r"\*\*(met|missed)\*\*", targets)


def test_bridge_latency_and_plots(results: tuple[Path, str]) -> None:
    out, text = results
    latency = section(text, LATENCY)
    assert "| crdt_sync | 2 |" in latency
    assert "| no change |" in latency and "| one edit |" in latency
    if importlib.util.find_spec("matplotlib") is None:  # the bench extra is not installed
        assert "No plots: matplotlib is not installed" in text
        return
    for name in ("propagation", "losses", "overhead"):
        png = out / "plots" / f"{name}.png"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", png
        assert f"(plots/{name}.png)" in text


def test_trials_quick_writes_well_formed_counts_and_leaves_published_results_alone() -> None:
    """``python -m benchmarks.trials --quick`` (no ``--out``): the lost-edit and lost-click
    table is well formed, and the published ``benchmarks/RESULTS.md`` is not touched
    (issue 12 case 14: ``benchmarks.compare --quick`` overwrote it)."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no chromium at {CHROMIUM}")
    published = REPO / "benchmarks" / "RESULTS.md"
    before = published.read_bytes()
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.trials", "--quick"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, f"{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"
    assert published.read_bytes() == before
    match = re.search(r"wrote '.*' in (\S+RESULTS\.md)", proc.stdout)
    assert match and Path(match.group(1)).parent != published.parent, proc.stdout
    rows = table_rows(
        section(
            Path(match.group(1)).read_text(), "## Lost edits and clicks in timing-dependent trials"
        )
    )
    assert {row[1] for row in rows} == {"crdt_sync", "streamlit-server-state"}
    assert all(re.fullmatch(r"\d+ (clicks|trials)", row[2]) for row in rows), rows


def test_load_quick_writes_well_formed_results_and_leaves_published_results_alone(
    tmp_path: Path,
) -> None:
    """``python -m benchmarks.load --quick`` (issue 16): headless sessions at N = 2 and 4,
    every setup has a row with numbers, every target is marked, the two-page measure and
    the raw JSON are there; the published ``benchmarks/RESULTS.md`` is not touched."""
    import json
    import shutil

    published = REPO / "benchmarks" / "RESULTS.md"
    before = published.read_bytes()
    seeded = "# Benchmark results\n\n" + "".join(f"{h}\n\n{t}\n\n" for h, t in OTHERS.items())
    (tmp_path / "RESULTS.md").write_text(seeded)
    command = [sys.executable, "-m", "benchmarks.load", "--quick", "--out", str(tmp_path)]
    if not Path(CHROMIUM).exists():
        command.append("--no-check")
    proc = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=800)
    assert proc.returncode == 0, f"{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"
    assert published.read_bytes() == before
    text = (tmp_path / "RESULTS.md").read_text()
    for heading, body in OTHERS.items():
        assert body in section(text, heading)
    load = section(text, "## Load")
    setups = {"crdt_sync", "streamlit-server-state", "without crdt_sync"}
    if shutil.which("redis-server") or Path("/usr/bin/redis-server").exists():
        setups.add("crdt_sync, 2 processes on Redis")
    rows = table_rows(load.split("**Targets**")[0])
    assert {(row[0], row[1]) for row in rows} == {(s, n) for s in setups for n in ("2", "4")}
    for row in rows:
        assert re.fullmatch(r"\d+ ms", row[9]) and re.fullmatch(r"-?\d+ KiB", row[12]), row
        assert re.fullmatch(r"\d+", row[7]), row  # sessions never sent it
    assert len(re.findall(r"\*\*(met|missed)\*\*", load)) >= 4, load
    pages = table_rows(section(load, "### Who needs a rerun (two pages, one room)"))
    assert len(pages) == 2, pages  # the other page in the room, and one with no sync block
    assert all(re.fullmatch(r"\*\*\d+\.\d\d\*\*", row[2]) for row in pages), pages
    raw = json.loads((tmp_path / "plots" / "load.json").read_text())
    assert {r["setup"] for r in raw["runs"]} == setups
    assert all("error" not in r for r in raw["runs"]), raw["runs"]
    if Path(CHROMIUM).exists():
        check = table_rows(section(load, "### Headless sessions against real browsers"))
        assert {row[1] for row in check} == {"browser", "headless"}, check
    if importlib.util.find_spec("matplotlib") is not None:
        png = tmp_path / "plots" / "load.png"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert "(plots/load.png)" in load


def test_history_quick_writes_well_formed_results_and_leaves_published_results_alone() -> None:
    """``python -m benchmarks.history --quick`` (issue 14), no ``--out``: storage on vs off
    for each room and the time table, with numbers and a verdict in every row, written to a
    scratch directory; the published ``benchmarks/RESULTS.md`` is not touched."""
    published = REPO / "benchmarks" / "RESULTS.md"
    before = published.read_bytes()
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.history", "--quick"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert published.read_bytes() == before
    scratch = re.search(r"--quick: results go to (\S+),", proc.stdout)
    assert scratch, proc.stdout[-2000:]
    text = (Path(scratch.group(1)) / "RESULTS.md").read_text()
    history = section(text, "## History")
    rows = [row for row in table_rows(history) if row[0] != "room"]  # two tables: 2nd header
    rooms = [row[0] for row in rows]
    for room in ("restore benchmark room", "widgets, 4 people", "whiteboard strokes"):
        assert room in rooms, rooms
    assert sum(room.startswith("engine benchmark's keys") for room in rooms) == 1
    for row in rows:
        assert re.search(r"\d", " ".join(row[1:])) and re.search(r"met|MISSED", row[-1]), row
