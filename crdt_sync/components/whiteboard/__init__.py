"""``crdt_sync.whiteboard(room)``: a canvas several people draw on at once.

```py
import crdt_sync

crdt_sync.whiteboard("plans", key="sketch", height=560)
```

Pen, sticky notes, rectangles, ellipses and arrows; select and move; delete; clear my own
strokes; undo/redo of your own changes (Ctrl+Z / Ctrl+Shift+Z; it is the session's history
in the room, shared with ``crdt_sync.undo_button``); export as PNG or SVG.
Drawing happens in the browser; a finished stroke, move or note edit is one small
operation applied to the room (see `Board`), and the other pages receive only the elements
that changed, in a rerun of the board's fragment alone.
"""

from __future__ import annotations

import functools
import logging
import re
import urllib.parse
import zlib
from collections.abc import Callable
from importlib import resources
from typing import Any

import streamlit as st
from streamlit.errors import StreamlitAPIException

from ...bridge import config, runtime
from ...bridge.sessions import registry
from ...doc import validate_room_name
from .board import Board as Board
from .board import InvalidOp as InvalidOp
from .board import prefix
from .index import BoardIndex as BoardIndex
from .index import Delta as Delta
from .index import index_for

log = logging.getLogger("crdt_sync.whiteboard")

COMPONENT = "crdt-sync.whiteboard"
HTML = '<div class="crdt-wb"></div>'
PEOPLE_COLORS = ("#2563eb", "#dc2626", "#16a34a", "#d97706", "#7c3aed", "#0891b2", "#db2777")
MAX_OPS_PER_MESSAGE = 500
IMPORT_CURSORS = 'import { LiveCursors } from "./cursors.js";\n'

_mount: Callable[..., Any] | None = None


def _asset(name: str) -> str:
    return resources.files(__package__).joinpath(name).read_text(encoding="utf-8")


def _component() -> Callable[..., Any]:
    """The registered component (registered on first use, inside a running app).

    Its files are served by URL when Streamlit found the package's manifest
    (``crdt_sync/pyproject.toml``), so a rerun of the board sends only its data; otherwise
    (e.g. the package is not installed) they are sent inline.
    """
    global _mount
    if _mount is None:
        try:
            _mount = st.components.v2.component(
                COMPONENT, html=HTML, css="board.css", js="board.js"
            )
        except StreamlitAPIException:
            log.info("crdt_sync: whiteboard assets not declared to Streamlit; sending them inline")
            _mount = st.components.v2.component(
                COMPONENT, html=HTML, css=_asset("board.css"), js=inline_script()
            )
    return _mount


def inline_script() -> str:
    """board.js with cursors.js put in place of its import (an inline script has no URL
    that a relative import could resolve against)."""
    board = _asset("board.js")
    if IMPORT_CURSORS not in board:
        raise RuntimeError("board.js no longer imports cursors.js as expected")
    cursors = re.sub(r"^export ", "", _asset("cursors.js"), flags=re.MULTILINE)
    return f"{cursors}\n{board.replace(IMPORT_CURSORS, '')}"


def _state_key(room: str, key: str) -> str:
    return f"_crdt_sync_wb:{room}:{key}"


def whiteboard(
    room: str,
    *,
    key: str = "whiteboard",
    height: int = 560,
    read_only: bool = False,
) -> None:
    """A shared whiteboard: everyone in ``room`` sees and edits the same board, live.

    The board runs in its own fragment: a change made elsewhere reruns only the board on
    this page, not the whole app.

    Args:
        room: The room holding the board (the same room as a ``sync`` block is fine).
        key: The board's name: one room can hold several boards. Also the widget key.
        height: The board's height in board units; the board is 1000 units wide and scales
            to the width of its column.
        read_only: Follow the board live but change nothing (enforced on the server).

    Raises:
        ValueError: For an invalid room name, key or height.
    """
    validate_room_name(room)
    if not isinstance(key, str) or not key or ":" in key:
        raise ValueError(f"whiteboard key must be a non-empty str without ':', got {key!r}")
    if isinstance(height, bool) or not isinstance(height, int) or not 100 <= height <= 10_000:
        raise ValueError(f"whiteboard height must be an int from 100 to 10000, got {height!r}")
    _board(room, key, height, bool(read_only))


@st.fragment
def _board(room_name: str, key: str, height: int, read_only: bool) -> None:
    session = runtime.session_id()
    if session is None:
        return
    registry.claim(room_name, prefix(key))
    fragment = runtime.fragment_id()
    room = registry.watch(session, room_name, fragment=fragment)
    history = room.undo_manager(session)  # before this session's first change
    index = index_for(room, key)
    board = index.board
    # Mark the keys read *before* reading them: a change landing in between then reruns
    # this page again instead of being taken as already shown.
    notes = set(index.note_ids())
    keys = [*board.bucket_keys(), *(board.text_key(i) for i in notes)]
    registry.watch(session, room_name, keys, fragment=fragment)
    index.refresh()
    new_notes = set(index.note_ids()) - notes
    if new_notes:
        registry.watch(
            session, room_name, [board.text_key(i) for i in new_notes], fragment=fragment
        )
        index.refresh()
    state = st.session_state.setdefault(_state_key(room_name, key), {"acks": {}})
    people = _people(room_name, session)
    delta = index.delta(state.get("epoch"), state.get("shown"))
    state["epoch"], state["shown"] = delta.epoch, delta.version
    data = {
        "board": key,
        "height": height,
        "readOnly": read_only,
        "epoch": delta.epoch,
        "from": delta.since,
        "to": delta.version,
        "full": delta.full,
        "els": [_public(e, session) for e in delta.elements],
        "del": delta.deleted,
        "acks": state["acks"],
        "people": people,
        "canUndo": history.can_undo(),
        "canRedo": history.can_redo(),
    }
    live = config.live_channel()
    if live is not None:
        me = next((p for p in people if p["you"]), {"label": "someone", "color": "#6b7280"})
        url = f"{live}/{urllib.parse.quote(room_name, safe='')}?awareness=1"
        data["live"] = {"url": url, "name": me["label"], "color": me["color"]}
    _component()(
        key=key,
        data=data,
        on_ops_change=functools.partial(_on_ops, room_name, key, read_only),
    )


def _public(element: dict[str, Any], session: str) -> dict[str, Any]:
    """An element as a page gets it: who drew it becomes "is it mine"."""
    out = {k: v for k, v in element.items() if k != "by"}
    if element.get("by") == session:
        out["mine"] = True
    return out


def _people(room_name: str, session: str) -> list[dict[str, Any]]:
    people = []
    for member in registry.members(room_name):
        color = PEOPLE_COLORS[zlib.crc32(member.short_id.encode()) % len(PEOPLE_COLORS)]
        people.append({"label": member.label, "you": member.session == session, "color": color})
    return people


def _on_ops(room_name: str, key: str, read_only: bool) -> None:
    """Apply the operations the page sent (each once, in order), before the board reruns."""
    session = runtime.session_id()
    widget = st.session_state.get(key)
    message = widget.get("ops") if isinstance(widget, dict) else None
    if session is None or not isinstance(message, dict):
        return
    state = st.session_state.setdefault(_state_key(room_name, key), {"acks": {}})
    room = registry.watch(session, room_name, fragment=runtime.fragment_id())
    apply_message(index_for(room, key), state, message, session=session, read_only=read_only)


def apply_message(
    index: BoardIndex,
    state: dict[str, Any],
    message: dict[str, Any],
    *,
    session: str,
    read_only: bool = False,
) -> int:
    """Apply one message of a page: its new operations, each in its own transaction.

    A page sends ``{"client": id, "ops": [{"seq": n, "op": ...}, ...], "resync": bool}``
    and resends operations until they are acknowledged; ``state["acks"][client]`` is the
    last sequence number applied, so each operation counts once. A read-only page's
    operations are acknowledged and dropped. ``resync`` asks for the whole board next run.

    Args:
        index: The board's index.
        state: This page's board state (``acks``, ``shown``); updated.
        message: What the page sent.
        session: The session (origin and author of the changes).
        read_only: Drop the operations.

    Returns:
        How many operations were applied.
    """
    if message.get("resync"):
        state["shown"] = None
    client, ops = message.get("client"), message.get("ops")
    if not isinstance(client, str) or not isinstance(ops, list):
        return 0
    acks = state.setdefault("acks", {})
    acked = int(acks.get(client, 0))
    applied = 0
    for op in ops[:MAX_OPS_PER_MESSAGE]:
        seq = op.get("seq") if isinstance(op, dict) else None
        if isinstance(seq, bool) or not isinstance(seq, int) or seq <= acked:
            continue
        acked = seq
        if read_only:
            continue
        try:
            index.board.apply(op, by=session, top_z=index.top_z())
            applied += 1
        except InvalidOp as exc:
            log.warning("crdt_sync: ignored an operation from session %s: %s", session[:6], exc)
        if op.get("op") in ("add", "front"):
            index.refresh()  # the next add stacks above this one
    state["acks"] = {**acks, client: acked}
    return applied
