"""Any JS Yjs client can read and write our room documents.

A room is a Y.Doc laid out as (the contract JS clients rely on):

- ``Y.Map "kinds"``: key -> "register" | "text" | "counter" | "list" | "set" | "table";
- ``Y.Map "registers"``: key -> encoded value;
- ``Y.Text "text:<key>"``;
- ``Y.Map "counter:<key>"``: str(client id) -> that replica's running total (value = sum);
- ``Y.Array "list:<key>"``: encoded values;
- ``Y.Map "set:<key>"``: canonical JSON of the encoded element -> encoded element;
- ``Y.Map "table:<key>"``: "c\\x1f<row>\\x1f<col>" -> cell, "r\\x1f<row>" -> row position,
  "d\\x1f<row>" -> True (deleted row).

The JS side is ``tests/js/ydoc_tool.mjs`` (files) and ``tests/js/ws_client.mjs`` (y-websocket),
run with plain ``node`` against the pinned ``yjs`` of ``tests/js/package-lock.json``.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import anyio
import pytest
from own_loop import run_on_own_loop
from pycrdt import Array, Doc, Map, Provider, Text, get_state

NODE = shutil.which("node")
JS_DIR = Path(__file__).parent / "js"
SEP = "\x1f"

pytestmark = pytest.mark.skipif(
    NODE is None, reason="node is not installed: the JS Yjs interop tests need Node.js 18+"
)


def canonical_json(value: Any) -> str:
    """The key of a set element (ydoc_tool.mjs computes the same bytes)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


class RawRoom:
    """A room written with bare pycrdt following the layout contract; values stay encoded.

    TODO: swap to ``crdt_sync.doc.Room`` once it exists (same calls: set, text_insert, ...).
    """

    def __init__(self, doc: Doc | None = None) -> None:
        self.doc = doc if doc is not None else Doc()
        self.kinds = self.doc.get("kinds", type=Map)
        self.registers = self.doc.get("registers", type=Map)

    def _kind(self, key: str, kind: str) -> None:
        holds = self.kinds.get(key)
        if holds is None:
            self.kinds[key] = kind
        elif holds != kind:
            raise TypeError(f"key {key!r} holds a {holds}, not a {kind}")

    def text(self, key: str) -> Text:
        return self.doc.get(f"text:{key}", type=Text)

    def counter(self, key: str) -> Map:
        return self.doc.get(f"counter:{key}", type=Map)

    def list(self, key: str) -> Array:
        return self.doc.get(f"list:{key}", type=Array)

    def set_map(self, key: str) -> Map:
        return self.doc.get(f"set:{key}", type=Map)

    def table(self, key: str) -> Map:
        return self.doc.get(f"table:{key}", type=Map)

    def set(self, key: str, value: Any) -> None:
        with self.doc.transaction():
            self._kind(key, "register")
            self.registers[key] = value

    def text_insert(self, key: str, index: int, text: str) -> None:
        """Insert at ``index`` counted in code points (Python ``str`` indices)."""
        with self.doc.transaction():
            self._kind(key, "text")
            ytext = self.text(key)
            # pycrdt 0.14 counts Y.Text offsets in UTF-8 bytes (and len(ytext) too); JS counts
            # UTF-16 units. Convert, or non-ASCII text gets edits at the wrong place.
            ytext.insert(len(str(ytext)[:index].encode("utf-8")), text)

    def text_append(self, key: str, text: str) -> None:
        self.text_insert(key, len(str(self.text(key))), text)

    def counter_add(self, key: str, n: float) -> None:
        with self.doc.transaction():
            self._kind(key, "counter")
            me = str(self.doc.client_id)
            counter = self.counter(key)
            counter[me] = counter.get(me, 0) + n

    def list_push(self, key: str, value: Any) -> None:
        with self.doc.transaction():
            self._kind(key, "list")
            self.list(key).append(value)

    def set_add(self, key: str, value: Any) -> None:
        with self.doc.transaction():
            self._kind(key, "set")
            self.set_map(key)[canonical_json(value)] = value

    def table_set(self, key: str, row: str, col: str, value: Any, pos: float) -> None:
        with self.doc.transaction():
            self._kind(key, "table")
            table = self.table(key)
            table[f"r{SEP}{row}"] = pos
            table[f"c{SEP}{row}{SEP}{col}"] = value

    def table_delete_row(self, key: str, row: str) -> None:
        with self.doc.transaction():
            self._kind(key, "table")
            self.table(key)[f"d{SEP}{row}"] = True

    def state(self) -> bytes:
        return self.doc.get_state()

    def update(self, since: bytes | None = None) -> bytes:
        return self.doc.get_update(since)

    def apply(self, update: bytes) -> None:
        self.doc.apply_update(update)

    def dump(self) -> dict[str, Any]:
        """The same shape as ``node ydoc_tool.mjs dump``."""
        out: dict[str, Any] = {
            "kinds": self.kinds.to_py(),
            "registers": self.registers.to_py(),
            "texts": {},
            "counters": {},
            "lists": {},
            "sets": {},
            "tables": {},
        }
        for key, kind in self.kinds.items():
            if kind == "text":
                out["texts"][key] = str(self.text(key))
            elif kind == "counter":
                out["counters"][key] = sum(self.counter(key).values())
            elif kind == "list":
                out["lists"][key] = self.list(key).to_py()
            elif kind == "set":
                entries = self.set_map(key).to_py() or {}
                out["sets"][key] = [entries[k] for k in sorted(entries)]
            elif kind == "table":
                out["tables"][key] = _read_table(self.table(key).to_py() or {})
        return out


def _read_table(entries: dict[str, Any]) -> dict[str, Any]:
    pos: dict[str, float] = {}
    deleted: set[str] = set()
    cells: dict[str, dict[str, Any]] = {}
    for k, v in entries.items():
        parts = k.split(SEP)
        if parts[0] == "r" and len(parts) == 2:
            pos[parts[1]] = v
        elif parts[0] == "d" and len(parts) == 2 and v is True:
            deleted.add(parts[1])
        elif parts[0] == "c" and len(parts) == 3:
            cells.setdefault(parts[1], {})[parts[2]] = v
    return {
        "rows": sorted((r for r in pos if r not in deleted), key=lambda r: (pos[r], r)),
        "cells": {r: cells[r] for r in sorted(cells) if r not in deleted},
        "deleted": sorted(deleted),
    }


def clients_in(update: bytes) -> set[int]:
    """Client ids whose changes an update carries (from its state vector)."""
    sv = get_state(update)
    pos = 0

    def var_uint() -> int:
        nonlocal pos
        n = shift = 0
        while True:
            byte = sv[pos]
            pos += 1
            n |= (byte & 0x7F) << shift
            shift += 7
            if byte < 0x80:
                return n

    clients = set()
    for _ in range(var_uint()):
        clients.add(var_uint())
        var_uint()  # clock
    return clients


class JsTool:
    """Runs tests/js/ydoc_tool.mjs."""

    def run(self, script: str, *args: str | Path, timeout: float = 60) -> str:
        assert NODE is not None
        proc = subprocess.run(
            [NODE, script, *map(str, args)],
            cwd=JS_DIR,
            capture_output=True,
            encoding="utf-8",
            timeout=timeout,
        )
        if proc.returncode != 0:
            pytest.fail(
                f"node {script} {' '.join(map(str, args))} exited {proc.returncode}:\n"
                f"{proc.stderr}{proc.stdout}"
            )
        return proc.stdout

    def dump(self, *updates: Path) -> dict[str, Any]:
        """What a JS client sees after applying these update files in order."""
        return json.loads(self.run("ydoc_tool.mjs", "dump", *updates))

    def edit(self, doc: Path, out: Path, ops: list[dict[str, Any]]) -> dict[str, Any]:
        """Apply ops in JS on top of ``doc``; writes only the new changes to ``out``."""
        ops_file = out.with_suffix(".ops.json")
        ops_file.write_text(json.dumps(ops, ensure_ascii=False), encoding="utf-8")
        return json.loads(self.run("ydoc_tool.mjs", "edit", doc, out, ops_file))


@pytest.fixture(scope="session")
def js() -> JsTool:
    """The node tools, with the locked npm dependencies installed (``npm ci``) if missing."""
    deps = json.loads((JS_DIR / "package.json").read_text(encoding="utf-8"))["dependencies"]
    if any(not (JS_DIR / "node_modules" / dep / "package.json").is_file() for dep in deps):
        npm = shutil.which("npm")
        if npm is None:
            pytest.fail(f"node is installed but npm is not: cannot install {JS_DIR}/node_modules")
        subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=JS_DIR, check=True, timeout=600)
    return JsTool()


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def test_js_reads_python_room_and_python_merges_js_edits(js: JsTool, tmp_path: Path) -> None:
    room = RawRoom()
    room.set("level", 3)  # pycrdt stores every number as a float: JS reads the JSON number 3
    room.set("name", "Zoë 😀 \u2028 \x1f")
    room.set("ratio", 0.1)
    room.set("flag", True)
    room.set("nothing", None)
    room.set("big", {"$crdt": "int", "v": str(2**70)})
    room.set("one", {"$crdt": "float", "v": "1.0"})
    room.set("pair", {"$crdt": "tuple", "v": [1, "a"]})
    room.set("raw", {"$crdt": "dict", "v": {"$crdt": "x", "n": [1, 2]}})
    room.text_append("notes", "Hello, wörld 😀")
    room.list_push("msgs", {"who": "py"})
    room.list_push("msgs", "ünïcode")
    room.counter_add("clicks", 2)
    room.set_add("tags", "a")
    room.set_add("tags", {"k": 1})
    room.table_set("grid", "r1", "name", "first", pos=0)
    room.table_set("grid", "r2", "name", "second", pos=1)
    room.table_set("grid", "r0", "name", "zeroth", pos=-1)
    room.table_delete_row("grid", "r2")
    base = _write(tmp_path / "base.ydoc", room.update())

    seen = js.dump(base)
    assert seen == room.dump()
    assert seen["kinds"] == {
        "level": "register",
        "name": "register",
        "ratio": "register",
        "flag": "register",
        "nothing": "register",
        "big": "register",
        "one": "register",
        "pair": "register",
        "raw": "register",
        "notes": "text",
        "msgs": "list",
        "clicks": "counter",
        "tags": "set",
        "grid": "table",
    }
    assert seen["registers"]["level"] == 3
    assert seen["registers"]["name"] == "Zoë 😀 \u2028 \x1f"
    assert seen["registers"]["ratio"] == 0.1
    assert seen["registers"]["flag"] is True
    assert seen["registers"]["nothing"] is None
    assert seen["registers"]["big"] == {"$crdt": "int", "v": "1180591620717411303424"}
    assert seen["registers"]["raw"] == {"$crdt": "dict", "v": {"$crdt": "x", "n": [1, 2]}}
    assert seen["texts"] == {"notes": "Hello, wörld 😀"}
    assert seen["lists"] == {"msgs": [{"who": "py"}, "ünïcode"]}
    assert seen["counters"] == {"clicks": 2}
    assert seen["sets"] == {"tags": ["a", {"k": 1}]}
    assert seen["tables"]["grid"] == {
        "rows": ["r0", "r1"],
        "cells": {"r0": {"name": "zeroth"}, "r1": {"name": "first"}},
        "deleted": ["r2"],
    }

    ops = [
        {"op": "set", "key": "from_js", "value": {"$crdt": "tuple", "v": ["ünï 😀", 7]}},
        {"op": "set", "key": "level", "value": 42},
        {"op": "set", "key": "half", "value": 0.5},
        {"op": "text_insert", "key": "notes", "index": 0, "text": "JS says hi. "},
        # JS indices are UTF-16 units: the emoji is 2 of them, so 15 + 12 is the end.
        {"op": "text_insert", "key": "notes", "index": 27, "text": " 🎉"},
        {"op": "list_push", "key": "msgs", "value": {"who": "js"}},
        {"op": "counter_add", "key": "clicks", "n": 5},
        {"op": "set_add", "key": "tags", "value": {"k": 1}},  # already there: no-op
        {"op": "set_add", "key": "tags", "value": "b"},
        {"op": "table_set", "key": "grid", "row": "r3", "col": "name", "value": "third"},
        {"op": "text_insert", "key": "fresh", "text": "new text from JS"},
    ]
    edited = js.edit(base, tmp_path / "js.update", ops)
    js_update = (tmp_path / "js.update").read_bytes()

    # Only JS's own changes travel: one client (not Python's), smaller than the base.
    (js_client,) = clients_in(js_update)
    assert js_client != room.doc.client_id
    assert len(js_update) < len(base.read_bytes())

    room.apply(js_update)
    # JS counted under its own replica id, next to Python's entry.
    assert room.counter("clicks").to_py() == {str(room.doc.client_id): 2, str(js_client): 5}
    assert room.dump() == edited
    assert room.registers["level"] == 42  # 42.0 in pycrdt: every number is a float there
    assert room.registers["from_js"] == {"$crdt": "tuple", "v": ["ünï 😀", 7]}
    assert room.registers["half"] == 0.5
    assert room.registers["name"] == "Zoë 😀 \u2028 \x1f"
    assert str(room.text("notes")) == "JS says hi. Hello, wörld 😀 🎉"
    assert str(room.text("fresh")) == "new text from JS"
    assert room.kinds["fresh"] == "text"
    assert room.list("msgs").to_py() == [{"who": "py"}, "ünïcode", {"who": "js"}]
    assert room.dump()["counters"] == {"clicks": 7}
    assert room.dump()["sets"] == {"tags": ["a", "b", {"k": 1}]}
    assert room.dump()["tables"]["grid"]["rows"] == ["r0", "r1", "r3"]


def test_concurrent_text_edits_from_python_and_js_both_survive(js: JsTool, tmp_path: Path) -> None:
    room = RawRoom()
    room.text_append("notes", "Hello wörld 😀 end")
    room.set("title", "draft")
    base_state = room.state()
    base = _write(tmp_path / "base.ydoc", room.update())

    # Python edits from the base...
    room.text_insert("notes", 5, ",")  # after "Hello"
    room.text_append("notes", " — from Python 🐍")
    room.list_push("log", "py")
    py_update = _write(tmp_path / "py.update", room.update(base_state))

    # ...and, concurrently, JS edits the same base (it has not seen Python's changes).
    edited = js.edit(
        base,
        tmp_path / "js.update",
        [
            {"op": "text_insert", "key": "notes", "index": 0, "text": "JS: "},
            # after "Hello wörld 😀" in UTF-16 units (the emoji counts 2), in JS's own view
            {"op": "text_insert", "key": "notes", "index": 4 + 14, "text": "!"},
            {"op": "text_insert", "key": "notes", "text": " (js end)"},
            {"op": "list_push", "key": "log", "value": "js"},
        ],
    )
    assert edited["texts"]["notes"] == "JS: Hello wörld 😀! end (js end)"
    js_update = tmp_path / "js.update"

    # Exchange updates both ways.
    room.apply(js_update.read_bytes())
    js_view = js.dump(base, js_update, py_update)

    merged = str(room.text("notes"))
    assert js_view["texts"]["notes"] == merged
    assert merged in {
        "JS: Hello, wörld 😀! end — from Python 🐍 (js end)",
        "JS: Hello, wörld 😀! end (js end) — from Python 🐍",
    }
    assert js_view == room.dump()
    assert sorted(js_view["lists"]["log"]) == ["js", "py"]
    assert js_view["registers"] == {"title": "draft"}


# --- y-websocket client against a pycrdt Provider served with `websockets` -------------------


class _WsChannel:
    """A pycrdt Channel over a server-side `websockets` connection."""

    def __init__(self, ws: Any) -> None:
        self._ws = ws

    @property
    def path(self) -> str:
        return str(self._ws.request.path)

    def __aiter__(self) -> _WsChannel:
        return self

    async def __anext__(self) -> bytes:
        from websockets.exceptions import ConnectionClosed

        try:
            message = await self._ws.recv()
        except ConnectionClosed:
            raise StopAsyncIteration from None
        return message if isinstance(message, bytes) else message.encode()

    async def recv(self) -> bytes:
        return await self.__anext__()

    async def send(self, message: bytes) -> None:
        from websockets.exceptions import ConnectionClosed

        with contextlib.suppress(ConnectionClosed):
            await self._ws.send(message)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"  # `websockets` is asyncio-only


def test_y_websocket_client_syncs_with_pycrdt_provider(js: JsTool, tmp_path: Path) -> None:
    """Runs the async body on a loop of its own thread (`own_loop`)."""
    run_on_own_loop(lambda: _y_websocket_client_syncs_with_pycrdt_provider(js, tmp_path))


async def _y_websocket_client_syncs_with_pycrdt_provider(js: JsTool, tmp_path: Path) -> None:
    from websockets.asyncio.server import serve  # a dev dependency

    room = RawRoom()
    room.set("level", 3)
    room.text_append("notes", "shared 😀")
    rooms = {"room-1": room}

    async def handler(ws: Any) -> None:
        name = ws.request.path.split("?", 1)[0].lstrip("/")
        async with Provider(rooms[name].doc, _WsChannel(ws)):
            await ws.wait_closed()

    ops = tmp_path / "ops.json"
    ops.write_text(
        json.dumps(
            [
                {"op": "set", "key": "level", "value": 42},
                {"op": "text_insert", "key": "notes", "text": " + JS ✓"},
            ],
            ensure_ascii=False,
        ),
        encoding="utf-8",
    )

    async def answer_when_js_wrote() -> None:
        while room.registers.get("level") != 42:
            await anyio.sleep(0.02)
        room.set("py_ack", "seen 42 ✓")

    async with serve(handler, "127.0.0.1", 0) as server:
        port = server.sockets[0].getsockname()[1]
        with anyio.fail_after(60):
            async with anyio.create_task_group() as tg:
                tg.start_soon(answer_when_js_wrote)
                proc = await anyio.run_process(
                    [
                        str(NODE),
                        "ws_client.mjs",
                        "--url",
                        f"ws://127.0.0.1:{port}",
                        "--room",
                        "room-1",
                        "--ops",
                        str(ops),
                        "--expect-key",
                        "py_ack",
                        "--expect-value",
                        json.dumps("seen 42 ✓"),
                        "--timeout",
                        "30",
                    ],
                    cwd=JS_DIR,
                    check=False,
                )
                tg.cancel_scope.cancel()

    stdout, stderr = proc.stdout.decode("utf-8"), proc.stderr.decode("utf-8")
    assert proc.returncode == 0, f"ws_client exited {proc.returncode}:\n{stderr}{stdout}"
    seen = json.loads(stdout)
    assert seen["registers"] == {"level": 42, "py_ack": "seen 42 ✓"}
    assert seen["texts"] == {"notes": "shared 😀 + JS ✓"}
    assert str(room.text("notes")) == "shared 😀 + JS ✓"
    assert seen == room.dump()


def test_ydoc_file_round_trip_through_js_with_engine_types(js: JsTool, tmp_path: Path) -> None:
    """The engine's own export / import (``.ydoc``): a JS Yjs client reads the values with
    the codec's meaning, edits them, and the engine merges the JS update back, types kept."""
    import datetime

    from crdt_sync.doc import Room, export_file, import_file

    room = Room("interop")
    room["level"] = 3
    room["due"] = datetime.date(2026, 12, 1)
    room["pair"] = (1, "a")
    room["huge"] = 2**70
    room["one"] = 1.0
    room.text("notes").update("Hello from Python")
    room.list("msgs").append({"who": "py", "n": 1})
    room.counter("clicks").increment(2)
    room.set("tags").add("red")
    path = export_file(room, tmp_path / "room.ydoc")

    seen = js.dump(path)
    assert seen["registers"]["level"] == 3
    assert seen["registers"]["due"] == {"$crdt": "date", "v": "2026-12-01"}
    assert seen["registers"]["pair"] == {"$crdt": "tuple", "v": [1, "a"]}
    assert seen["registers"]["huge"] == {"$crdt": "int", "v": str(2**70)}
    assert seen["texts"]["notes"] == "Hello from Python"
    assert seen["counters"]["clicks"] == 2
    # Keys written out of sorted order carry their order (a Yjs map keeps none; README).
    assert seen["lists"]["msgs"] == [{"who": "py", "n": 1, "$crdt_keys": ["who", "n"]}]

    # Meanwhile the room changes online; the offline JS edit must not undo it.
    room.text("notes").update("Hello from Python, online")
    js.edit(
        path,
        tmp_path / "js.update",
        [
            {"op": "set", "key": "level", "value": 42},
            {"op": "text_insert", "key": "notes", "index": 0, "text": "JS: "},
            {"op": "list_push", "key": "msgs", "value": {"who": "js"}},
            {"op": "counter_add", "key": "clicks", "n": 5},
        ],
    )
    assert import_file(tmp_path / "js.update", into=room)
    assert room["level"] == 42 and type(room["level"]) is int
    assert room["due"] == datetime.date(2026, 12, 1)
    assert room["pair"] == (1, "a")
    assert room["huge"] == 2**70
    assert room["one"] == 1.0 and type(room["one"]) is float
    assert str(room.text("notes")) == "JS: Hello from Python, online"
    assert room.list("msgs").to_list() == [{"who": "py", "n": 1}, {"who": "js"}]
    assert room.counter("clicks").value == 7
