"""Fixtures of the history tests: the recorders' clock, named authors, both stores."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from crdt_sync.doc import DiskCacheStore, MemoryStore, Room, authors
from crdt_sync.doc import history_recorder as recorder_module
from crdt_sync.doc.store import LogStore

T0 = 1_780_000_000.0  # 2026-05-28, a fixed start


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now

    def tick(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture(name="clock")
def clock_fixture(monkeypatch: pytest.MonkeyPatch) -> Clock:
    c = Clock()
    monkeypatch.setattr(recorder_module, "clock", c)
    return c


@pytest.fixture(name="names")
def names_fixture() -> Iterator[None]:
    authors.name("s-ann", "Ann")
    authors.name("s-bob", "Bob")
    yield
    authors.forget("s-ann")
    authors.forget("s-bob")


@pytest.fixture(name="store", params=["memory", "diskcache"])
def store_fixture(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[LogStore]:
    made: LogStore = MemoryStore() if request.param == "memory" else DiskCacheStore(tmp_path)
    yield made
    made.close()


def edit(room: Room, origin: str, **values: object) -> None:
    with room.transaction(origin=origin):
        for key, value in values.items():
            room[key] = value


def cli_history(store: Path, room: str) -> list[dict[str, Any]]:
    """``crdt-sync history ROOM --json`` on a diskcache store, as a program reads it."""
    cli = Path(sys.executable).parent / "crdt-sync"
    command = [str(cli)] if cli.exists() else [sys.executable, "-m", "crdt_sync.cli"]
    env = {k: v for k, v in os.environ.items() if k != "CRDT_SYNC_STORE"}
    done = subprocess.run(
        [*command, "history", room, "--json", "--store", f"diskcache:{store}"],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    versions: list[dict[str, Any]] = json.loads(done.stdout)
    return versions
