"""The ``crdt-sync`` history commands, run for real in a subprocess, on diskcache and Redis:
history, show, restore, export --with-history / import, compact's history line."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from redis_helpers import RedisServer
from test_cli import run

from crdt_sync.doc import DiskCacheStore, authors
from crdt_sync.doc.store import LogStore


def fill(store: LogStore | object) -> list[str]:
    """Two people edit room "plans" (two versions); returns the version ids."""
    load = store.load  # type: ignore[attr-defined]
    room = load("plans")
    authors.name("s-ann", "Ann")
    authors.name("s-bob", "Bob")
    try:
        with room.transaction(origin="s-ann"):
            room["level"] = 1
            room.text("notes").update("first draft")
            room.table("tasks").add_row({"title": "write"}, row_id="r1")
        room.history.recorder.split()  # as if Bob came a while later
        with room.transaction(origin="s-bob"):
            room["level"] = 2
            room.text("notes").update("second draft")
            room.table("tasks").delete_row("r1")
            room["extra"] = True
    finally:
        authors.forget("s-ann")
        authors.forget("s-bob")
    return [v.version for v in room.history.versions()]


@pytest.fixture
def disk(tmp_path: Path) -> tuple[str, list[str]]:
    store = DiskCacheStore(tmp_path / "store")
    versions = fill(store)
    store.close()
    return f"diskcache:{tmp_path / 'store'}", versions


def ok(*args: str) -> subprocess.CompletedProcess[str]:
    result = run(*args)
    assert result.returncode == 0, result.stderr
    return result


def test_history_lists_who_changed_which_keys(disk: tuple[str, list[str]]) -> None:
    spec, versions = disk
    lines = ok("history", "plans", "--store", spec).stdout.splitlines()
    assert lines[0].split() == ["VERSION", "TIME", "(UTC)", "WHO", "KEYS"]
    first, second = (line.split(None, 3) for line in lines[1:])
    assert (first[0], first[2], first[3]) == (versions[0], "Ann", "level, notes, tasks")
    assert (second[0], second[2], second[3]) == (versions[1], "Bob", "extra, level, notes, tasks")
    listed = json.loads(ok("history", "plans", "--json", "--store", spec).stdout)
    assert [(v["version"], v["who"], v["keys"]) for v in listed] == [
        (versions[0], ["Ann"], ["level", "notes", "tasks"]),
        (versions[1], ["Bob"], ["extra", "level", "notes", "tasks"]),
    ]
    assert listed[0]["time"].endswith("Z") and listed[0]["time"] <= listed[1]["time"]


def test_show_prints_the_room_at_a_version_or_a_time(disk: tuple[str, list[str]]) -> None:
    spec, versions = disk
    shown = ok("show", "plans", "--at", versions[0], "--store", spec).stdout
    assert shown.splitlines()[0].startswith(f"room 'plans' at version {versions[0]} (")
    assert "first draft" in shown and "extra" not in shown
    document = json.loads(
        ok("show", "plans", "--at", versions[0], "--json", "--store", spec).stdout
    )
    assert document["version"] == versions[0]
    assert document["keys"]["tasks"] == {"kind": "table", "value": {"r1": {"title": "write"}}}
    assert document["keys"]["level"] == {"kind": "register", "value": 1}
    listed = json.loads(ok("history", "plans", "--json", "--store", spec).stdout)
    at_time = json.loads(
        ok("show", "plans", "--at", listed[1]["time"], "--json", "--store", spec).stdout
    )
    assert at_time["version"] == versions[1] and at_time["keys"]["level"]["value"] == 2
    early = json.loads(
        ok("show", "plans", "--at", "2001-01-01T00:00:00Z", "--json", "--store", spec).stdout
    )
    assert early["keys"] == {} and early["version"] is None
    inspected = json.loads(ok("inspect", "plans", "--json", "--store", spec).stdout)
    latest = json.loads(ok("show", "plans", "--at", versions[1], "--json", "--store", spec).stdout)
    assert latest["keys"] == inspected["keys"]  # the same form as inspect


def test_restore_writes_a_version_forward_as_crdt_sync(disk: tuple[str, list[str]]) -> None:
    spec, versions = disk
    result = ok("restore", "plans", "--at", versions[0], "--keys", "level,tasks", "--store", spec)
    assert result.stdout.strip() == (
        f"restored room 'plans' to version {versions[0]}: 2 key(s) changed: level, tasks"
    )
    now = json.loads(ok("inspect", "plans", "--json", "--store", spec).stdout)["keys"]
    assert now["level"]["value"] == 1 and now["tasks"]["value"] == {"r1": {"title": "write"}}
    assert now["notes"]["value"] == "second draft" and "extra" in now  # not listed: untouched
    listed = json.loads(ok("history", "plans", "--json", "--store", spec).stdout)
    assert [v["version"] for v in listed[:2]] == versions  # stored history kept as it was
    assert listed[-1]["who"] == ["crdt-sync"] and listed[-1]["keys"] == ["level", "tasks"]
    again = ok("restore", "plans", "--at", versions[0], "--keys", "level", "--store", spec)
    assert "already matches" in again.stdout
    whole = ok("restore", "plans", "--at", versions[0], "--store", spec).stdout
    assert "extra" in whole and "notes" in whole
    now = json.loads(ok("inspect", "plans", "--json", "--store", spec).stdout)["keys"]
    assert "extra" not in now and now["notes"]["value"] == "first draft"


def test_errors_name_the_room_or_version_and_change_nothing(
    disk: tuple[str, list[str]], tmp_path: Path
) -> None:
    spec, _versions = disk
    before = ok("history", "plans", "--json", "--store", spec).stdout
    for args, message in [
        (("history", "nowhere"), "no room 'nowhere' in store"),
        (("show", "plans", "--at", "999"), "room 'plans' has no version '999' in its history"),
        (("restore", "plans", "--at", "999"), "room 'plans' has no version '999' in its history"),
        (("restore", "plans", "--at", "last tuesday"), "has no version 'last tuesday'"),
    ]:
        result = run(*args, "--store", spec)
        assert result.returncode == 2 and result.stdout == ""
        assert result.stderr.strip().startswith("crdt-sync: error: ")
        assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert ok("history", "plans", "--json", "--store", spec).stdout == before
    off = run("history", "plans", "--store", f"{spec}?history=off")
    assert off.returncode == 2 and "room 'plans' has no history" in off.stderr


def test_export_with_history_and_import_it_back(
    disk: tuple[str, list[str]], tmp_path: Path
) -> None:
    spec, versions = disk
    plain, full = tmp_path / "plans.ydoc", tmp_path / "plans.history.json"
    ok("export", "plans", str(plain), "--store", spec)
    assert plain.read_bytes()[:1] != b"{"  # plain Yjs, no history in it
    assert (
        "2 versions of history"
        in ok("export", "plans", str(full), "--with-history", "--store", spec).stdout
    )
    assert json.loads(full.read_text())["format"] == "crdt-sync-history/1"
    other = f"diskcache:{tmp_path / 'other'}"
    imported = ok("import", "copy", str(full), "--store", other).stdout
    assert "history: 2 versions imported" in imported
    listed = json.loads(ok("history", "copy", "--json", "--store", other).stdout)
    assert [(v["version"], v["who"]) for v in listed[:2]] == [
        (versions[0], ["Ann"]),
        (versions[1], ["Bob"]),
    ]
    old = json.loads(ok("show", "copy", "--at", versions[0], "--json", "--store", other).stdout)
    assert old["keys"]["notes"]["value"] == "first draft"
    again = ok("import", "copy", str(full), "--store", other).stdout
    assert "history: not imported (the room has history of its own)" in again
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps({"format": "crdt-sync-history/1", "ydoc": 3}))
    result = run("import", "copy", str(broken), "--store", other)
    assert result.returncode == 2 and "'ydoc' is missing or not a str" in result.stderr


def test_compact_prints_what_history_kept(disk: tuple[str, list[str]]) -> None:
    spec, _versions = disk
    out = ok("compact", "plans", "--store", spec).stdout.splitlines()
    assert len(out) == 1 and out[0].endswith("; history: 2 versions -> 2 kept")


def test_the_history_commands_on_redis_and_after_a_cold_start(tmp_path: Path) -> None:
    from crdt_sync.net.redis_store import RedisStore

    with RedisServer(tmp_path / "redis") as redis:
        store = RedisStore(redis.url, timeout=0.5)
        versions = fill(store)
        store.close()  # every command below is a new process: a cold start
        listed = json.loads(ok("history", "plans", "--json", "--store", redis.url).stdout)
        assert [(v["version"], v["who"]) for v in listed] == [
            (versions[0], ["Ann"]),
            (versions[1], ["Bob"]),
        ]
        shown = json.loads(
            ok("show", "plans", "--at", versions[0], "--json", "--store", redis.url).stdout
        )
        assert shown["keys"]["notes"]["value"] == "first draft"
        restored = ok("restore", "plans", "--at", versions[0], "--store", redis.url).stdout
        assert restored.startswith(f"restored room 'plans' to version {versions[0]}:")
        # The restoring process wrote it before exiting: a new one reads it.
        keys = json.loads(ok("inspect", "plans", "--json", "--store", redis.url).stdout)
        assert keys["keys"]["level"]["value"] == 1 and "extra" not in keys["keys"]
        listed = json.loads(ok("history", "plans", "--json", "--store", redis.url).stdout)
        assert listed[-1]["who"] == ["crdt-sync"]
        compacted = ok("compact", "plans", "--store", redis.url).stdout
        assert "history: 3 versions -> 3 kept" in compacted
        missing = run("show", "plans", "--at", "999", "--store", redis.url)
        assert missing.returncode == 2 and "has no version '999'" in missing.stderr
