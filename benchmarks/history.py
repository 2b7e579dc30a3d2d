"""Room history benchmark (issue 14): what history costs in storage and in time.

Run from the repository root: ``python -m benchmarks.history`` (``--quick``: small rooms,
results in a scratch directory, never over the published file). Writes the "## History"
section of benchmarks/RESULTS.md.

1. Storage, history on vs off (`DiskCacheStore`, default settings), after ``compact`` (the
   log's snapshot and the history's retention, as ``crdt-sync compact`` leaves them); the
   bytes each store keeps for the room (log + snapshot rows; plus history records, bases
   and version rows). Target: on / off <= 1.5x with the default retention. Rooms:
   - the restore benchmark's room (`benchmarks.measures`): 10,000 ``text.update`` by one
     writer, as fast as it can (real clock);
   - a widget room: 10,000 changes by 4 people taking turns (simulated clock): drag a
     slider (20 values 50 ms apart), type in a text (10 keystrokes 200 ms apart) or tick
     a checkbox, then 2 to 30 s until the next person;
   - a whiteboard: 2,000 pen strokes (60 points each, as `benchmarks.whiteboard`) by 3
     people, one every 1 to 8 s.
2. Time in a 100,000-update widget room (same people, simulated clock), against a plain
   load of the room (new store, ``load``): listing its history, showing a version (the
   oldest, one in the middle and the newest: the slowest is reported) and restoring one.
   Target: each <= 2x the load. Medians of ``--repeat`` runs.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any

from benchmarks.engine import machine, verdict
from benchmarks.latency import replace_section
from crdt_sync.doc import DiskCacheStore, Room, authors
from crdt_sync.doc import history_recorder as recorder
from crdt_sync.doc.inspection import room_contents, room_stats

SECTION = "## History"
DEFAULT_OUT = Path(__file__).resolve().parent
PEOPLE = ("ann", "bob", "cem", "dia")
STORAGE_TARGET = 1.5
TIME_TARGET = 2.0


class SimClock:
    """The recorders' clock, moved by the generator (history groups by time)."""

    def __init__(self) -> None:
        self.now = dt.datetime(2026, 12, 1, 9, tzinfo=dt.UTC).timestamp()

    def __call__(self) -> float:
        return self.now


@contextmanager
def simulated() -> Iterator[SimClock]:
    clock, real = SimClock(), recorder.clock
    recorder.clock = clock
    try:
        yield clock
    finally:
        recorder.clock = real


# ------------------------------------------------------------------ rooms


def restore_room(room: Room, changes: int, _clock: SimClock | None) -> None:
    """The restore benchmark's room: one writer updating one text."""
    text = room.text("a")
    for i in range(changes):
        text.update(f"restored-{i}")


def widget_room(room: Room, changes: int, clock: SimClock | None) -> None:
    """People taking turns: sliders, texts, checkboxes."""
    assert clock is not None
    rng = random.Random(14)
    for person in PEOPLE:
        authors.name(f"session-{person}", person)
    done = 0
    while done < changes:
        origin = f"session-{rng.choice(PEOPLE)}"
        action = rng.random()
        if action < 0.5:  # drag a slider
            key = f"slider{rng.randrange(6)}"
            for _ in range(min(20, changes - done)):
                with room.transaction(origin=origin):
                    room[key] = rng.randrange(100)
                clock.now += 0.05
                done += 1
        elif action < 0.8:  # type in a text
            text = room.text(f"text{rng.randrange(3)}")
            for _ in range(min(10, changes - done)):
                with room.transaction(origin=origin):
                    now = str(text)
                    text.update(now + rng.choice("abcdefgh ") if len(now) < 400 else now[40:])
                clock.now += 0.2
                done += 1
        else:  # a checkbox
            with room.transaction(origin=origin):
                room[f"check{rng.randrange(8)}"] = rng.random() < 0.5
            done += 1
        clock.now += rng.uniform(2, 30)


def keys_room(room: Room, changes: int, clock: SimClock | None) -> None:
    """The engine benchmark's 100,000-update room (``room[f"k{i}"] = i``), written by 4
    people taking turns: a burst of 1 to 30 keys 0.1 s apart, then 2 to 30 s."""
    assert clock is not None
    rng = random.Random(100)
    for person in PEOPLE:
        authors.name(f"session-{person}", person)
    i = 0
    while i < changes:
        origin = f"session-{rng.choice(PEOPLE)}"
        for _ in range(min(rng.randint(1, 30), changes - i)):
            with room.transaction(origin=origin):
                room[f"k{i}"] = i
            clock.now += 0.1
            i += 1
        clock.now += rng.uniform(2, 30)


def whiteboard_room(room: Room, strokes: int, clock: SimClock | None) -> None:
    """Pen strokes of 60 points, as the whiteboard benchmark draws them."""
    from crdt_sync.components.whiteboard.board import Board

    assert clock is not None
    board = Board(room, "wb")
    rng = random.Random(2000)
    for i in range(strokes):
        person = PEOPLE[i % 3] if rng.random() < 0.3 else PEOPLE[(i // 7) % 3]
        pts = [round(rng.uniform(0, 120), 1) for _ in range(120)]
        x, y = rng.uniform(0, 880), rng.uniform(0, 480)
        element = {"id": f"s{i:05d}", "type": "pen", "pos": [x, y], "pts": pts}
        board.add(element, by=person, z=i, origin=f"session-{person}")
        clock.now += rng.uniform(1, 8)


Filler = Callable[[Room, int, "SimClock | None"], None]


def build(path: Path, fill: Filler, n: int, *, history: bool, sim: bool) -> float:
    """Fill a room of a new store; returns the seconds it took."""
    store = DiskCacheStore(path) if history else DiskCacheStore(path, history=None)
    start = time.perf_counter()
    if sim:
        with simulated() as clock:
            fill(store.load("room"), n, clock)
            store.compact("room")
            store.compact_history("room")
    else:
        fill(store.load("room"), n, None)
        store.compact("room")
        store.compact_history("room")
    took = time.perf_counter() - start
    store.close()
    return took


def disk_bytes(path: Path) -> int:
    """What the store's directory takes on disk (every file, SQLite's free pages too)."""
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def stored_bytes(path: Path) -> dict[str, int]:
    store = DiskCacheStore(path)
    room = room_stats(store, "room").size or 0
    history_log = store._history_log
    versions = 0
    history = 0
    if history_log is not None:
        history = history_log.size("room")
        versions = len(history_log.versions("room"))
    store.close()
    return {"room": room, "history": history, "versions": versions, "disk": disk_bytes(path)}


def bench_storage(work: Path, name: str, fill: Filler, n: int, sim: bool) -> dict[str, Any]:
    off, on = work / f"{name}-off", work / f"{name}-on"
    build(off, fill, n, history=False, sim=sim)
    seconds = build(on, fill, n, history=True, sim=sim)
    without, with_ = stored_bytes(off), stored_bytes(on)
    total_on = with_["room"] + with_["history"]
    return {
        "room": name,
        "changes": n,
        "off": without["room"],
        "on": total_on,
        "history": with_["history"],
        "versions": with_["versions"],
        "ratio": total_on / without["room"],
        "disk_off": without["disk"],
        "disk_on": with_["disk"],
        "build_s": seconds,
    }


# ------------------------------------------------------------------ time


def timed(run: Callable[[], Any]) -> float:
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def bench_time(work: Path, name: str, fill: Filler, updates: int, repeat: int) -> dict[str, Any]:
    path = work / f"time-{fill.__name__}"
    with simulated():
        build(path, fill, updates, history=True, sim=True)
        store = DiskCacheStore(path)
        versions = store.load("room").history.versions()  # type: ignore[union-attr]
        store.close()
        picks = [versions[0].version, versions[len(versions) // 2].version, versions[-1].version]
        runs: dict[str, list[float]] = {k: [] for k in PHASES}
        for rep in range(repeat):  # interleaved: a busy moment hits every phase alike
            runs["load"].append(_load(path, contents=False))
            runs["inspect"].append(_load(path, contents=True))
            store = DiskCacheStore(path)
            history = store.load("room").history
            assert history is not None
            runs["list"].append(timed(history.versions))
            runs["rebuild"].append(max(timed(partial(history.room_at, v)) for v in picks))
            runs["show"].append(max(timed(partial(history.state_at, v)) for v in picks))
            target = picks[1] if rep % 2 == 0 else picks[0]  # each restore changes the room
            runs["restore"].append(timed(partial(history.restore, target, origin="bench")))
            store.close()
    out: dict[str, Any] = {"room": name, "updates": updates, "versions": len(versions)}
    for phase, times in runs.items():
        out[phase] = statistics.median(times)
    for phase, floor in FLOORS.items():
        out[f"{phase}_ratio"] = out[phase] / out[floor]
    return out


PHASES = ("load", "inspect", "list", "rebuild", "show", "restore")
FLOORS = {"list": "load", "rebuild": "load", "show": "inspect", "restore": "load"}
"""What each phase is compared with: rebuilding a past room with loading the room, showing
its contents with loading and reading the room's contents (what `crdt-sync inspect` does)."""


def _load(path: Path, *, contents: bool) -> float:
    store = DiskCacheStore(path)
    try:
        if contents:
            return timed(lambda: room_contents(store.load("room")))
        return timed(lambda: store.load("room"))
    finally:
        store.close()


# ------------------------------------------------------------------ report


def section(storage: list[dict[str, Any]], times: list[dict[str, Any]], *, command: str) -> str:
    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        SECTION,
        "",
        f"### {stamp}",
        "",
        f"Command: `{command}`. Machine: {machine()}.",
        "",
        "Storage with history on vs off (DiskCacheStore, default settings, after `compact`:",
        "the log's snapshot and the default retention, which keeps every version of the last",
        "day; all these changes are within a day, so every version is kept). Bytes the store",
        "keeps for the room: log and snapshot rows, plus history records, bases and version",
        "rows (values, as the store's `room_stats` counts them); the store's files on disk",
        f"too (SQLite pages, free ones included). Target: <= {STORAGE_TARGET}x.",
        "",
        "| room | changes | versions kept | off | on (of which history) | on / off "
        "| files off / on | target |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in storage:
        lines.append(
            f"| {r['room']} | {r['changes']:,} | {r['versions']:,} | {r['off']:,} B | "
            f"{r['on']:,} B ({r['history']:,} B) | {r['ratio']:.2f}x | "
            f"{r['disk_off'] / 1e6:.2f} / {r['disk_on'] / 1e6:.2f} MB | "
            f"{verdict(r['ratio'], STORAGE_TARGET)} |"
        )
    lines += [
        "",
        "Time in 100,000-update rooms (medians; the room compacted, history after the default",
        "retention), against a plain load of the room by a new store. List:",
        "`history.versions()`. Rebuild: `history.room_at(version)`, the past room (the",
        "slowest of the oldest, a middle and the newest version), against the load. Show:",
        "`history.state_at(version)`, its contents as `inspect` prints them, against a load",
        "plus `room_contents` (what `crdt-sync inspect` does). Restore:",
        f"`history.restore(version)`, against the load. Target: each <= {TIME_TARGET}x.",
        "",
        "| room | versions | load | load + contents | list | rebuild | show | restore |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for t in times:
        cells = [
            f"{t[p] * 1000:.0f} ms ({t[f'{p}_ratio']:.2f}x, "
            f"{verdict(t[f'{p}_ratio'], TIME_TARGET)})"
            for p in ("list", "rebuild", "show", "restore")
        ]
        lines.append(
            f"| {t['room']}, {t['updates']:,} updates | {t['versions']:,} | "
            f"{t['load'] * 1000:.0f} ms | {t['inspect'] * 1000:.0f} ms | "
            + " | ".join(cells)
            + " |"
        )
    return "\n".join([*lines, "", *WHY]) + "\n"


WHY = [
    "Where the bytes and the time go (profiled with cProfile and the stores' own counts):",
    "",
    "- **Widget rooms: storage is O(versions), the room is O(keys).** With history off, a",
    "  compacted widget room is one garbage-collected snapshot: 10,000 slider moves leave",
    "  only the last value of each slider, about 10 kB. History keeps every version of the",
    "  last day, and each costs about 260 B (its record: the values it set and the Yjs",
    "  delete set, compressed when that helps, about 160 B; its row: times, author, keys,",
    "  about 100 B). 752 versions cannot fit in half of 10 kB whatever the encoding, so",
    "  the 1.5x target cannot hold for a busy widget room within the first day. What",
    "  bounds it is the retention: after a day only the last version of each hour stays,",
    "  after a month one per day, so a room busy every day of a year keeps about one day",
    "  of versions plus 720 hourly and 335 daily ones (about 0.5 MB at these sizes).",
    "- **Rooms that only grow (strokes, the restore room's text) cost about 1.3-1.5x:**",
    "  history holds each change once more, zlib-compressed (a stroke's 120 numbers to",
    "  about half), plus a row per version.",
    "- **Widget rooms: the floor is a load of a few ms (a 10 kB snapshot).** Listing 5,000",
    "  versions reads 5,000 rows and builds 5,000 `Version` objects (about 15 us each);",
    "  rebuilding a version applies one base and at most about 130 records (a base is",
    "  written every 100 kept versions once their records weigh twice the base). These",
    "  are tens of milliseconds in absolute terms (`versions(limit=N)` lists only the",
    "  newest), but several times a load that small.",
    "- **The 100,000-key room:** a restore to the middle version deletes about 50,000",
    "  keys: as many Yjs map deletions in one transaction, and that update written to the",
    "  log and to history, which is more work than loading the room.",
]


def output_dir(out: Path | None, quick: bool) -> Path:
    """``--out``; for ``--quick`` a scratch directory (never the published file)."""
    if out is not None:
        return out
    if quick:
        scratch = Path(tempfile.mkdtemp(prefix="crdt-sync-quick-"))
        print(f"--quick: results go to {scratch}, not to the published {DEFAULT_OUT}")
        return scratch
    return DEFAULT_OUT


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.history", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small rooms, scratch output")
    parser.add_argument("--out", type=Path, default=None, help="where RESULTS.md is")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    out = output_dir(args.out, args.quick)
    scale = 10 if args.quick else 1
    work = Path(tempfile.mkdtemp(prefix="bench-history-"))
    try:
        storage = [
            bench_storage(work, "restore benchmark room", restore_room, 10_000 // scale, False),
            bench_storage(work, "widgets, 4 people", widget_room, 10_000 // scale, True),
            bench_storage(work, "whiteboard strokes", whiteboard_room, 2_000 // scale, True),
        ]
        repeat = 2 if args.quick else args.repeat
        times = [
            bench_time(work, "engine benchmark's keys", keys_room, 100_000 // scale, repeat),
            bench_time(work, "widgets, 4 people", widget_room, 100_000 // scale, repeat),
        ]
    finally:
        shutil.rmtree(work, ignore_errors=True)
    command = "python -m benchmarks.history" + (" --quick" if args.quick else "")
    body = section(storage, times, command=command)
    print(body)
    replace_section(out / "RESULTS.md", SECTION, body)
    print(f"wrote {SECTION!r} in {out / 'RESULTS.md'}", file=sys.stderr)


if __name__ == "__main__":
    main()
