"""A room with its history as one file (``crdt-sync export --with-history``).

A plain ``.ydoc`` export is the room's Yjs update and nothing else (any Yjs client reads
it; history is never in it). With history, the file is one JSON object (UTF-8):

```json
{"format": "crdt-sync-history/1", "room": "plans",
 "ydoc": "<base64 of the .ydoc bytes>",
 "versions": [{"version": "1", "first": 1, "last": 3, "t0": ..., "t1": ...,
               "who": ["ann"], "keys": ["level"], "n": 3}, ...],
 "records": [[1, "1", "<base64 update>"], ...],
 "bases": [[0, "<base64 state>"], ...]}
```

``versions`` are the version rows of `history_log`; ``records`` ``[seq, version id,
update]``; ``bases`` ``[seq, full state after seq]``. ``crdt-sync import`` takes it back:
the room is merged and, if the room has no history yet, the history is stored as it was.

```py
data = history_document(room)             # a dict as above
restore_history_document(target, data)    # True if the history was taken
```
"""

from __future__ import annotations

import base64
import json
from typing import Any

from .history_log import Meta
from .room import Room

FORMAT = "crdt-sync-history/1"


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: Any, what: str) -> bytes:
    if not isinstance(text, str):
        raise ValueError(f"{what} is not base64 text")
    try:
        return base64.b64decode(text, validate=True)
    except ValueError as exc:
        raise ValueError(f"{what} is not valid base64: {exc}") from None


def history_document(room: Room) -> dict[str, Any]:
    """The room and its history as the JSON object described above.

    Args:
        room: A room loaded from a store with history on.

    Raises:
        ValueError: If the room has no history.
    """
    if room.history is None:
        raise ValueError(f"room {room.name!r} has no history (the store keeps none)")
    history, name = room.history, room.name
    history.recorder.flush()
    metas = history.log.versions(name)
    last = history.log.last_seq(name)
    records = history.log.records(name, -1, last)
    first = records[0][0] if records else last + 1
    base = history.log.base_before(name, first - 1)
    return {
        "format": FORMAT,
        "room": name,
        "ydoc": _b64(room.export()),
        "versions": metas,
        "records": [[seq, version, _b64(update)] for seq, version, update in records],
        "bases": [] if base is None else [[base[0], _b64(base[1])]],
    }


def dumps(document: dict[str, Any]) -> bytes:
    """The file's bytes."""
    return json.dumps(document, separators=(",", ":")).encode()


def loads(data: bytes) -> dict[str, Any] | None:
    """The document a file holds, or None if it is not a history file (a plain .ydoc).

    Raises:
        ValueError: If it claims to be one but is damaged (the reason says where).
    """
    if data.lstrip()[:1] != b"{":
        return None
    try:
        document = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        return None
    for field, kind in (("ydoc", str), ("versions", list), ("records", list), ("bases", list)):
        if not isinstance(document.get(field), kind):
            raise ValueError(f"history file: {field!r} is missing or not a {kind.__name__}")
    return document


def ydoc_of(document: dict[str, Any]) -> bytes:
    """The room's Yjs update the document carries."""
    return _unb64(document["ydoc"], "ydoc")


def restore_history_document(room: Room, document: dict[str, Any]) -> bool:
    """Store the document's history as ``room``'s, if the room has none yet.

    Args:
        room: The target room (loaded from a store with history on).
        document: What `loads` returned.

    Returns:
        True if the history was stored; False if the room has history already (or none
        can be kept), which is left as it is.

    Raises:
        ValueError: If a record or base is damaged.
    """
    if room.history is None or room.history.versions():
        return False
    records = [
        (int(seq), str(version), _unb64(data, f"record {seq}"))
        for seq, version, data in document["records"]
    ]
    bases = [(int(seq), _unb64(data, f"base {seq}")) for seq, data in document["bases"]]
    metas: list[Meta] = [m for m in document["versions"] if isinstance(m, dict)]
    upto = max([0, *(s for s, _v, _d in records), *(int(m.get("last", 0)) for m in metas)])
    room.history.log.rewrite(room.name, -1, upto, records, bases, metas)
    return True
