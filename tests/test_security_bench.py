"""``python -m benchmarks.hostile --quick`` runs, and never writes the published results."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]

REPO = Path(__file__).resolve().parents[1]


def test_a_quick_run_measures_every_attack_and_leaves_results_md_alone() -> None:
    published = REPO / "benchmarks" / "RESULTS.md"
    before = published.read_bytes() if published.exists() else None
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.hostile", "--quick"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert (published.read_bytes() if published.exists() else None) == before
    scratch = Path(done.stdout.split("results go to ", 1)[1].split(",", 1)[0])
    section = (scratch / "RESULTS.md").read_text()
    for title in ("Reader that never reads", "Awareness flood", "Held-back", "room names"):
        assert title.lower() in section.lower()
    assert section.count("✓") + section.count("✗") == 4
