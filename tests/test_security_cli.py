"""The ``crdt-sync`` command against crafted room names, keys and files (issue 13.7, 13.8).

Run for real in a subprocess, as an operator would: a bad room name is one line and exit
status 2 (it was a 30-line traceback and 1); keys written by any client cannot reach the
terminal as escape sequences; an oversize file is refused before it is read.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import pytest

from crdt_sync.doc import DiskCacheStore, Room

BIN = Path(sys.executable).parent / "crdt-sync"
COMMAND = [str(BIN)] if BIN.exists() else [sys.executable, "-m", "crdt_sync.cli"]
MiB = 1024 * 1024


def run(*args: str | bytes) -> subprocess.CompletedProcess[bytes]:
    env = {k: v for k, v in os.environ.items() if k != "CRDT_SYNC_STORE"}
    return subprocess.run([*COMMAND, *args], capture_output=True, timeout=120, env=env)


@pytest.fixture
def ydoc(tmp_path: Path) -> Path:
    room = Room("scratch")
    room["k"] = 1
    path = tmp_path / "room.ydoc"
    path.write_bytes(room.export())
    return path


@pytest.mark.parametrize(
    ("name", "says"),
    [
        ("x" * 201, b"room name is 201 characters long, the limit is 200"),
        ("bad\nname", b"contains control character '\\n'"),
        (b"bad\xffname", b"lone surrogate '\\udcff'"),  # undecodable bytes in argv
    ],
)
def test_import_with_a_bad_room_name_is_one_line_and_exit_2(
    tmp_path: Path, ydoc: Path, name: str | bytes, says: bytes
) -> None:
    store = f"diskcache:{tmp_path / 'store'}"
    done = run("import", "--store", store, name, str(ydoc))
    assert done.returncode == 2, done.stderr
    assert done.stderr.count(b"\n") == 1
    assert done.stderr.startswith(b"crdt-sync: error: ")
    assert says in done.stderr
    assert b"Traceback" not in done.stderr
    assert (
        not (tmp_path / "store" / "meta").exists()
        or DiskCacheStore(tmp_path / "store").rooms() == []
    )


def test_inspect_escapes_what_a_terminal_would_act_on(tmp_path: Path) -> None:
    store = DiskCacheStore(tmp_path / "store")
    room = store.load("plans")
    keys = ["\x1b]0;owned\x07title", "csi\x9b2J", "rlo\u202egpj.exe", "Zoë ✓", "tag\U000e0041"]
    for key in keys:
        room[key] = f"value of {key}"
    store.close()
    spec = f"diskcache:{tmp_path / 'store'}"

    text = run("inspect", "--store", spec, "plans")
    assert text.returncode == 0, text.stderr
    out = text.stdout.decode()
    for bad in ("\x1b", "\x07", "\x9b", "\u202e", "\U000e0041"):
        assert bad not in out
    assert "\\x1b]0;owned\\x07title" in out
    assert "Zoë ✓" in out  # printable text stays as it is

    as_json = run("inspect", "--store", spec, "--json", "plans")
    assert as_json.returncode == 0, as_json.stderr
    raw = as_json.stdout.decode()
    for bad in ("\x1b", "\x07", "\x9b", "\u202e", "\U000e0041"):
        assert bad not in raw
    assert sorted(json.loads(raw)["keys"]) == sorted(keys)  # the JSON still says it exactly


_MEASURE = (
    "import resource, subprocess, sys\n"
    "done = subprocess.run(sys.argv[2:])\n"
    "open(sys.argv[1], 'w').write(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))\n"
    "sys.exit(done.returncode)\n"
)


def _peak_rss_of(*args: str) -> tuple[subprocess.CompletedProcess[bytes], int]:
    """Run the CLI and measure its own peak RSS (a wrapper process has only it as child:
    this process's RUSAGE_CHILDREN would count every server the test session started)."""
    report = Path(tempfile.mkdtemp()) / "maxrss"
    env = {k: v for k, v in os.environ.items() if k != "CRDT_SYNC_STORE"}
    done = subprocess.run(
        [sys.executable, "-c", _MEASURE, str(report), *COMMAND, *args],
        capture_output=True,
        timeout=120,
        env=env,
    )
    return done, int(report.read_text()) * 1024


def test_import_checks_the_size_before_reading(tmp_path: Path) -> None:
    """Issue 13.8: a 512 MiB file peaked at 563 MiB; a multi-GB one killed the command."""
    huge = tmp_path / "huge.ydoc"
    with huge.open("wb") as f:
        f.truncate(4096 * MiB)  # sparse: costs no disk
    store = f"diskcache:{tmp_path / 'store'}"
    done, peak = _peak_rss_of("import", "--store", store, "plans", str(huge))
    assert done.returncode == 2
    assert done.stderr.decode() == (
        f"crdt-sync: error: {str(huge)!r} is {4096 * MiB} bytes; a .ydoc may be at most "
        "16777216 bytes (16.8 MB); nothing was changed\n"
    )
    assert peak < 200 * MiB


def test_import_streams_a_pipe_and_stops_at_the_limit(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.ydoc"
    os.mkfifo(fifo)

    def feed() -> None:
        try:
            with fifo.open("wb") as out:
                for _ in range(64):
                    out.write(b"\x00" * MiB)
        except BrokenPipeError:
            pass

    writer = threading.Thread(target=feed, daemon=True)
    writer.start()
    done = run("import", "--store", f"diskcache:{tmp_path / 'store'}", "plans", str(fifo))
    writer.join(10)
    assert done.returncode == 2
    assert b"is over 16777216 bytes" in done.stderr


def test_validate_room_name_refuses_lone_surrogates() -> None:
    """Issue 13.7: accepted, then the store could not encode the name."""
    from crdt_sync.doc import validate_room_name

    with pytest.raises(ValueError, match=r"lone surrogate '\\udcff'"):
        validate_room_name("bad\udcffname")
    with pytest.raises(ValueError, match="lone surrogate"):
        validate_room_name("\ud83d")  # half of an emoji
    assert validate_room_name("ok \U0001f600") == "ok \U0001f600"  # a whole one is fine
