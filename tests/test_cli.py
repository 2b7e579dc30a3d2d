"""The ``crdt-sync`` command, run for real in a subprocess."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from crdt_sync.doc import DiskCacheStore, Room

BIN = Path(sys.executable).parent / "crdt-sync"
COMMAND = [str(BIN)] if BIN.exists() else [sys.executable, "-m", "crdt_sync.cli"]


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "CRDT_SYNC_STORE"}
    return subprocess.run(
        [*COMMAND, *args], capture_output=True, text=True, timeout=120, cwd=cwd, env=env
    )


def fill(path: Path) -> None:
    store = DiskCacheStore(path)
    room = store.load("plans")
    room["level"] = 3
    room["due"] = dt.date(2026, 12, 1)
    room.text("notes").update("first draft")
    room.counter("clicks").increment(5)
    room.list("messages").append({"who": "ann", "text": "hi"})
    room.set("tags").add("urgent")
    room.table("tasks").add_row({"title": "write"}, row_id="r1")
    for i in range(20):
        room[f"k{i}"] = i
    store.load("lobby")["topic"] = "welcome"
    store.close()


@pytest.fixture
def store(tmp_path: Path) -> str:
    fill(tmp_path / "store")
    return f"diskcache:{tmp_path / 'store'}"


def contents(path: Path, name: str) -> dict[str, object]:
    store = DiskCacheStore(path)
    try:
        room = store.load(name)
        return {
            "registers": room.snapshot(),
            "notes": str(room.text("notes")),
            "clicks": room.counter("clicks").value,
        }
    finally:
        store.close()


def test_help_lists_every_command_and_each_takes_store() -> None:
    result = run("--help")
    assert result.returncode == 0
    for command in ("demo", "rooms", "inspect", "export", "import", "compact"):
        assert command in result.stdout
        sub = run(command, "--help")
        assert sub.returncode == 0 and "--store" in sub.stdout, sub.stdout


def test_rooms_table(store: str) -> None:
    result = run("rooms", "--store", store)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["ROOM", "UPDATES", "SIZE", "LAST", "CHANGE"]
    assert [line.split()[0] for line in lines[1:]] == ["lobby", "plans"]
    plans = lines[2].split()
    assert int(plans[1]) == 32  # one stored update per change (making a container is one)
    assert plans[2:4] == [plans[2], "kB"] and plans[4] == dt.date.today().isoformat()
    as_json = json.loads(run("rooms", "--store", store, "--json").stdout)
    assert [r["room"] for r in as_json] == ["lobby", "plans"]
    assert as_json[1]["updates"] == 32 and as_json[1]["bytes"] > 0


def test_inspect_shows_registers_and_containers(store: str) -> None:
    result = run("inspect", "plans", "--store", store)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == "room 'plans': 27 keys"
    for line in (
        "clicks    counter   5",
        "due       register  datetime.date(2026, 12, 1)",
        "messages  list      [{",
        "notes     text      'first draft'",
        "tags      set       ['urgent']",
        "tasks     table     {'r1': {'title': 'write'}}",
    ):
        assert f"  {line}" in result.stdout
    data = json.loads(run("inspect", "plans", "--store", store, "--json").stdout)
    assert data["room"] == "plans"
    assert data["keys"]["due"] == {
        "kind": "register",
        "value": {"$crdt": "date", "v": "2026-12-01"},
    }
    assert data["keys"]["clicks"] == {"kind": "counter", "value": 5}
    assert data["keys"]["messages"] == {"kind": "list", "value": [{"who": "ann", "text": "hi"}]}


def test_export_then_import_into_a_new_store_restores_the_room(store: str, tmp_path: Path) -> None:
    file = tmp_path / "plans.ydoc"
    result = run("export", "plans", str(file), "--store", store)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"exported room 'plans' to {file} (")
    copy = Room("copy")
    assert copy.merge(file.read_bytes())  # any Yjs replica reads it
    assert copy["level"] == 3
    fresh = tmp_path / "fresh"
    result = run("import", "plans", str(file), "--store", f"diskcache:{fresh}")
    assert result.returncode == 0, result.stderr
    assert "into new room 'plans': 27 keys, 27 new" in result.stdout
    assert contents(fresh, "plans") == contents(tmp_path / "store", "plans")


def test_import_merges_and_never_overwrites(store: str, tmp_path: Path) -> None:
    file = tmp_path / "plans.ydoc"
    run("export", "plans", str(file), "--store", store)
    offline = Room("plans")
    offline.merge(file.read_bytes())
    offline.text("notes").update("first draft, edited offline")
    offline["offline"] = True
    file.write_bytes(offline.export())
    online = DiskCacheStore(tmp_path / "store")  # meanwhile, in the store
    room = online.load("plans")
    room["level"] = 4
    room.text("notes").update("the first draft")
    online.close()
    result = run("import", "plans", str(file), "--store", store)
    assert result.returncode == 0, result.stderr
    assert "into existing room 'plans': 28 keys, 1 new" in result.stdout
    after = contents(tmp_path / "store", "plans")
    assert after["notes"] == "the first draft, edited offline"
    registers = after["registers"]
    assert isinstance(registers, dict) and registers["level"] == 4 and registers["offline"]


def test_compact_prints_size_before_and_after_and_keeps_the_room(
    store: str, tmp_path: Path
) -> None:
    before = contents(tmp_path / "store", "plans")
    result = run("compact", "plans", "--store", store)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("plans: 32 updates, ")
    assert " -> 1 update, " in result.stdout
    assert contents(tmp_path / "store", "plans") == before
    everything = run("compact", "--store", store)
    assert everything.returncode == 0
    assert [line.split(":")[0] for line in everything.stdout.splitlines()] == ["lobby", "plans"]
    rooms = run("rooms", "--store", store).stdout.splitlines()
    assert all(line.split()[1] == "1" for line in rooms[1:])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["inspect", "nope"], "no room 'nope' in store"),
        (["export", "nope", "x.ydoc"], "no room 'nope' in store"),
        (["compact", "nope"], "no room 'nope' in store"),
    ],
)
def test_unknown_room_is_an_error(
    store: str, tmp_path: Path, args: list[str], message: str
) -> None:
    result = run(*args, "--store", store, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith(f"crdt-sync: error: {message}")
    assert result.stdout == "" and not (tmp_path / "x.ydoc").exists()


def test_corrupt_file_changes_nothing(store: str, tmp_path: Path) -> None:
    bad = tmp_path / "bad.ydoc"
    bad.write_bytes(b"\x05\xff\xff garbage")
    before = run("rooms", "--store", store, "--json").stdout
    result = run("import", "plans", str(bad), "--store", store)
    assert result.returncode == 2
    assert result.stderr.startswith(f"crdt-sync: error: {bad} is not a Yjs document (")
    assert result.stderr.rstrip().endswith("; nothing was changed")
    new_room = run("import", "newroom", str(bad), "--store", store)
    assert new_room.returncode == 2
    assert run("rooms", "--store", store, "--json").stdout == before  # no room created
    missing = run("import", "plans", str(tmp_path / "missing.ydoc"), "--store", store)
    assert missing.returncode == 2 and "cannot read" in missing.stderr


def test_bad_store_is_an_error(tmp_path: Path) -> None:
    result = run("rooms", "--store", "nosuch://x")
    assert result.returncode == 2
    assert result.stderr.startswith("crdt-sync: error: unknown store 'nosuch://x'; accepted forms:")
    missing = tmp_path / "no-store"
    result = run("rooms", "--store", f"diskcache:{missing}")
    assert result.returncode == 2
    assert f"no crdt_sync store at {str(missing)!r}" in result.stderr
    assert not missing.exists()  # nothing created


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize("port_from", ["option", "environment"])
def test_demo_serves_the_demo_app_and_prints_its_url(tmp_path: Path, port_from: str) -> None:
    """Issue 12 case 14: the port also comes from Streamlit's own STREAMLIT_SERVER_PORT (the
    demo always passed --server.port 8501, so it served on the wrong port)."""
    port = _free_port()
    by_option = ["--port", str(port)] if port_from == "option" else []
    env = {**os.environ, "STREAMLIT_SERVER_PORT": str(port)} if not by_option else None
    proc = subprocess.Popen(
        [
            *COMMAND,
            "demo",
            *by_option,
            "--store",
            f"diskcache:{tmp_path / 'store'}",
            "--server.headless",
            "true",
            "--server.address",
            "127.0.0.1",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=tmp_path,
        env=env,
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        assert f"open http://localhost:{port} in two browser tabs" in first
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health") as r:
                    assert r.status == 200
                    break
            except OSError:
                assert proc.poll() is None, proc.stdout.read()
                assert time.monotonic() < deadline, "the demo never became healthy"
                time.sleep(0.1)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


def test_the_same_commands_work_on_a_redis_store(store: str, tmp_path: Path) -> None:
    from redis_helpers import RedisServer

    file = tmp_path / "plans.ydoc"
    run("export", "plans", str(file), "--store", store)
    with RedisServer(tmp_path / "redis") as redis:
        result = run("import", "plans", str(file), "--store", redis.url)
        assert result.returncode == 0, result.stderr
        assert "into new room 'plans'" in result.stdout
        assert run("rooms", "--store", redis.url).stdout.splitlines()[1].split()[0] == "plans"
        shown = run("inspect", "plans", "--store", redis.url)
        assert shown.returncode == 0 and "  clicks    counter   5" in shown.stdout
        assert run("compact", "--store", redis.url).returncode == 0
        unreachable = f"redis://127.0.0.1:{_free_port()}/0"
    result = run("rooms", "--store", unreachable)
    assert result.returncode == 2
    assert "crdt-sync: error: cannot reach the store: ConnectionError" in result.stderr
