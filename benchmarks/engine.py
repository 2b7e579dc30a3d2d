"""Engine benchmark: crdt_sync.doc against bare pycrdt and diskcache, measured in one run.

Run it from the repository root with ``python -m benchmarks.engine``; it prints a report
and appends it under "## Engine" in ``benchmarks/RESULTS.md``. Every figure is a ratio
against a floor measured in the same run on the same machine, so a busy machine slows
both sides alike. Times are medians of several repetitions.

1. Writes: 10,000 single-key writes through ``Room`` + ``DiskCacheStore`` against the
   same pycrdt transactions plus a raw ``diskcache`` ``Cache.set`` of the same bytes
   (target <= 1.25x), and against the pycrdt transactions alone.
2. Load: a room of 100,000 updates loaded before and after compaction, against bare
   pycrdt applying the same merged update (target after compaction <= 2x), and the
   compacted size against the encoded state (target <= 1.1x).
3. Memory: peak RSS of a process holding 1,000 rooms of 100 keys each, against a
   process that only imports the library.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import Any

import diskcache
from pycrdt import Doc, Map

from crdt_sync.doc import DiskCacheStore, Room, encode
from crdt_sync.doc.diskcache_store import SEP

RESULTS = Path(__file__).with_name("RESULTS.md")
SECTION = "## Engine"


# ------------------------------------------------------------------ 1. writes


def pycrdt_writes(n: int, sink: Callable[[str, bytes], Any] | None) -> None:
    """The pycrdt transactions a Room makes for ``room[k] = i``, plus an optional sink."""
    doc: Doc[Any] = Doc()
    kinds = doc.get("kinds", type=Map)
    registers = doc.get("registers", type=Map)
    updates: list[bytes] = []
    doc.observe(lambda event: updates.append(event.update))
    for i in range(n):
        key = f"k{i}"
        with doc.transaction():
            kinds[key] = "register"
            registers[key] = encode(i, key)
        if sink is not None:
            sink(f"plans{SEP}writer{SEP}{i + 1:012d}", updates.pop())


def timed(run: Callable[[], Any]) -> tuple[float, float]:
    """(wall, CPU) seconds of ``run()``; CPU time is this process's, all threads."""
    wall, cpu = time.perf_counter(), time.process_time()
    run()
    return time.perf_counter() - wall, time.process_time() - cpu


def bench_writes(n: int, repeat: int, compact_every: int) -> dict[str, float]:
    """Medians of wall and CPU times, and medians of the per-repetition ratios."""

    def engine() -> tuple[float, float]:
        path = Path(tempfile.mkdtemp(prefix="bench-engine-"))
        try:
            store = DiskCacheStore(path, compact_every=compact_every)
            room = store.load("plans")

            def writes() -> None:
                for i in range(n):
                    room[f"k{i}"] = i

            result = timed(writes)
            store.close()
            return result
        finally:
            shutil.rmtree(path)

    def floor() -> tuple[float, float]:
        path = Path(tempfile.mkdtemp(prefix="bench-floor-"))
        try:
            cache = diskcache.Cache(str(path / "log"), size_limit=2**62, eviction_policy="none")
            result = timed(lambda: pycrdt_writes(n, cache.set))
            cache.close()
            return result
        finally:
            shutil.rmtree(path)

    # Interleaved, and compared repetition by repetition, so that a busy phase of a
    # shared machine hits both sides alike.
    runs: dict[str, list[tuple[float, float]]] = {"engine": [], "floor": [], "raw": []}
    for _ in range(repeat):
        runs["engine"].append(engine())
        runs["floor"].append(floor())
        runs["raw"].append(timed(lambda: pycrdt_writes(n, None)))
    out: dict[str, float] = {}
    for name, pairs in runs.items():
        out[f"{name}_wall"] = statistics.median(p[0] for p in pairs)
        out[f"{name}_cpu"] = statistics.median(p[1] for p in pairs)
    for i, clock in enumerate(("wall", "cpu")):
        for base in ("floor", "raw"):
            out[f"vs_{base}_{clock}"] = statistics.median(
                e[i] / b[i] for e, b in zip(runs["engine"], runs[base], strict=True)
            )
    return out


# ------------------------------------------------------------------ 2. load


def bench_load(n: int, repeat: int) -> dict[str, float]:
    """Load times (wall, CPU) before and after compaction, and bare pycrdt's."""
    path = Path(tempfile.mkdtemp(prefix="bench-load-"))
    try:
        store = DiskCacheStore(path, compact_every=0)
        room = store.load("plans")
        for i in range(n):
            room[f"k{i}"] = i
        store.close()
        loaded: list[Room] = []

        def load() -> tuple[float, float]:
            store = DiskCacheStore(path)
            result = timed(lambda: loaded.append(store.load("plans")))
            store.close()
            assert len(loaded.pop()) == n
            return result

        before = [load() for _ in range(min(repeat, 3))]
        DiskCacheStore(path).compact("plans")
        store = DiskCacheStore(path)
        merged = store.load("plans").export()
        store.close()

        def raw() -> None:
            doc: Doc[Any] = Doc()
            doc.apply_update(merged)

        after, bare = [], []
        for _ in range(repeat):  # interleaved, compared repetition by repetition
            after.append(load())
            bare.append(timed(raw))
        with diskcache.Cache(str(path / "meta")) as meta:
            snapshot = bytes(meta.get(f"snapshot{SEP}plans"))
        out = {"snapshot_bytes": float(len(snapshot)), "state_bytes": float(len(merged))}
        for i, clock in enumerate(("wall", "cpu")):
            out[f"before_{clock}"] = statistics.median(t[i] for t in before)
            out[f"after_{clock}"] = statistics.median(t[i] for t in after)
            out[f"raw_{clock}"] = statistics.median(t[i] for t in bare)
            out[f"after_vs_raw_{clock}"] = statistics.median(
                a[i] / b[i] for a, b in zip(after, bare, strict=True)
            )
        return out
    finally:
        shutil.rmtree(path)


# ------------------------------------------------------------------ 3. memory

MEMORY_CHILD = """
import resource, sys
from crdt_sync.doc import Room
from pycrdt import Doc, Map

def vm_hwm_kib():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])

held = []
if sys.argv[1] == "rooms":
    for r in range(1000):
        room = Room(f"room{r}")
        for k in range(100):
            room[f"k{k}"] = k
        held.append(room)
elif sys.argv[1] == "pycrdt":  # the same transactions on bare pycrdt documents
    for r in range(1000):
        doc = Doc()
        kinds, registers = doc.get("kinds", type=Map), doc.get("registers", type=Map)
        for k in range(100):
            with doc.transaction():
                kinds[f"k{k}"] = "register"
                registers[f"k{k}"] = k
        held.append(doc)
print(vm_hwm_kib(), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def bench_memory() -> dict[str, float]:
    """Peak RSS (KiB) of fresh processes; VmHWM and ru_maxrss, medians of 3."""

    def peak(mode: str) -> tuple[int, int]:
        out = subprocess.run(
            [sys.executable, "-c", MEMORY_CHILD, mode], capture_output=True, text=True, check=True
        )
        hwm, maxrss = out.stdout.split()
        return int(hwm), int(maxrss)

    result: dict[str, float] = {}
    for mode in ("import", "rooms", "pycrdt"):
        runs = [peak(mode) for _ in range(3)]
        result[f"{mode}_hwm"] = statistics.median(r[0] for r in runs)
        result[f"{mode}_maxrss"] = statistics.median(r[1] for r in runs)
    return result


# ------------------------------------------------------------------ report


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    versions = ", ".join(f"{name} {metadata.version(name)}" for name in ("pycrdt", "diskcache"))
    return (
        f"{cpu}, {os.cpu_count()} cores, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}, {versions}; load average {load:.1f} at start"
    )


def verdict(ratio: float, target: float) -> str:
    return "met" if ratio <= target else "MISSED"


def report(args: argparse.Namespace) -> str:
    lines = [
        f"### {dt.datetime.now().astimezone():%Y-%m-%d %H:%M %Z}",
        "",
        f"Command: `{args.command}`  ",
        f"Machine: {machine()}",
        "",
    ]
    mem = bench_memory()  # first, while this process is small (see ru_maxrss below)
    w = bench_writes(args.writes, args.repeat, compact_every=1000)
    w0 = bench_writes(args.writes, args.repeat, compact_every=0)
    per = 1e6 / args.writes
    lines += [
        f"**Writes**: {args.writes:,} single-key writes (`room[k] = i`), {args.repeat} "
        "repetitions; times are medians, ratios are medians of per-repetition ratios",
        "",
        "| | wall / write | CPU / write | vs floor (wall) | vs floor (CPU) | vs pycrdt (CPU) |",
        "|---|---|---|---|---|---|",
        f"| Room + DiskCacheStore, default (compacts every 1000) | {w['engine_wall'] * per:.1f} µs "
        f"| {w['engine_cpu'] * per:.1f} µs | {w['vs_floor_wall']:.2f}x | {w['vs_floor_cpu']:.2f}x "
        f"| {w['vs_raw_cpu']:.1f}x |",
        f"| Room + DiskCacheStore, compact_every=0 | {w0['engine_wall'] * per:.1f} µs "
        f"| {w0['engine_cpu'] * per:.1f} µs | {w0['vs_floor_wall']:.2f}x "
        f"| {w0['vs_floor_cpu']:.2f}x | {w0['vs_raw_cpu']:.1f}x |",
        f"| floor: the same pycrdt transactions + diskcache `Cache.set` of their bytes "
        f"| {w['floor_wall'] * per:.1f} µs | {w['floor_cpu'] * per:.1f} µs | 1x | 1x | |",
        f"| the same pycrdt transactions alone | {w['raw_wall'] * per:.1f} µs "
        f"| {w['raw_cpu'] * per:.1f} µs | | | 1x |",
        "",
        f"Target <= 1.25x the floor (default store): {w['vs_floor_cpu']:.2f}x in CPU time, "
        f"{verdict(w['vs_floor_cpu'], 1.25)}; {w['vs_floor_wall']:.2f}x in wall time, "
        f"{verdict(w['vs_floor_wall'], 1.25)}.",
        "",
    ]
    ld = bench_load(args.updates, args.repeat)
    size = ld["snapshot_bytes"] / ld["state_bytes"]
    lines += [
        f"**Load** of a room of {args.updates:,} updates (one key each); medians of "
        f"{args.repeat} (before compaction: {min(args.repeat, 3)})",
        "",
        "| | wall | CPU | vs bare pycrdt (wall) | vs bare pycrdt (CPU) |",
        "|---|---|---|---|---|",
        f"| `store.load()` before compaction | {ld['before_wall'] * 1000:.0f} ms "
        f"| {ld['before_cpu'] * 1000:.0f} ms | {ld['before_wall'] / ld['raw_wall']:.1f}x "
        f"| {ld['before_cpu'] / ld['raw_cpu']:.1f}x |",
        f"| `store.load()` after compaction | {ld['after_wall'] * 1000:.0f} ms "
        f"| {ld['after_cpu'] * 1000:.0f} ms | {ld['after_vs_raw_wall']:.2f}x "
        f"| {ld['after_vs_raw_cpu']:.2f}x |",
        f"| bare pycrdt: `Doc().apply_update(merged)` | {ld['raw_wall'] * 1000:.0f} ms "
        f"| {ld['raw_cpu'] * 1000:.0f} ms | 1x | 1x |",
        "",
        f"Target after compaction <= 2x: {ld['after_vs_raw_cpu']:.2f}x in CPU time, "
        f"{verdict(ld['after_vs_raw_cpu'], 2)}; {ld['after_vs_raw_wall']:.2f}x in wall time, "
        f"{verdict(ld['after_vs_raw_wall'], 2)}. Compacted snapshot "
        f"{ld['snapshot_bytes']:,.0f} B for an encoded state of {ld['state_bytes']:,.0f} B: "
        f"{size:.3f}x, target <= 1.1x, {verdict(size, 1.1)}.",
        "",
    ]
    grown = mem["rooms_hwm"] - mem["import_hwm"]
    grown_raw = mem["pycrdt_hwm"] - mem["import_hwm"]
    lines += [
        "**Memory**: peak RSS of a fresh process, median of 3 (VmHWM; ru_maxrss beside it)",
        "",
        "| process | peak RSS | ru_maxrss |",
        "|---|---|---|",
        _mem_row("imports crdt_sync.doc only (baseline)", mem, "import"),
        _mem_row("holds 1,000 Rooms x 100 keys", mem, "rooms"),
        _mem_row("holds 1,000 bare pycrdt Docs, same transactions", mem, "pycrdt"),
        "",
        f"The rooms add {grown / 1024:.1f} MiB over the baseline: {grown / 1000:.1f} KiB per "
        f"room, {grown * 1024 / 100_000:.0f} B per key; bare pycrdt adds "
        f"{grown_raw / 1024:.1f} MiB ({grown / max(grown_raw, 1):.2f}x). ru_maxrss of a "
        "child also counts what it inherited from its parent at fork time; this script "
        "measures memory first, while it is small.",
        "",
    ]
    return "\n".join(lines)


def _mem_row(label: str, mem: dict[str, float], mode: str) -> str:
    hwm, maxrss = mem[f"{mode}_hwm"] / 1024, mem[f"{mode}_maxrss"] / 1024
    return f"| {label} | {hwm:.1f} MiB | {maxrss:.1f} MiB |"


def append_to_results(text: str) -> None:
    """Insert ``text`` at the end of the "## Engine" section (created if missing)."""
    content = RESULTS.read_text() if RESULTS.exists() else "# Benchmark results\n"
    lines = content.splitlines()
    if SECTION not in lines:
        lines += ["", SECTION, ""]
    start = lines.index(SECTION)
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
    while end > start + 1 and not lines[end - 1].strip():
        end -= 1
    lines[end:end] = ["", *text.rstrip().splitlines()]
    RESULTS.write_text("\n".join(lines).rstrip() + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--writes", type=int, default=10_000)
    parser.add_argument("--updates", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--no-save", action="store_true", help="print only")
    args = parser.parse_args()
    args.command = "python -m benchmarks.engine " + " ".join(sys.argv[1:])
    args.command = args.command.rstrip()
    text = report(args)
    print(text)
    if not args.no_save:
        append_to_results(text)
        print(f"\nappended to {RESULTS}")


if __name__ == "__main__":
    main()
