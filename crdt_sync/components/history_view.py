"""What a room's history looks like to a person: things instead of keys, short summaries,
times in words.

A room's keys are what the app wrote; a person thinks in things. A whiteboard is 64
bucket tables plus one text per sticky note (``wb:<board>:...``): here it is one item,
"whiteboard board", summed up as "12 strokes, 2 notes". Every other key is an item of its
own (a shared data editor's table: "5 rows"). Big values are summed up, never dumped.

```py
then = {"title": {"kind": "text", "value": "Q3"}, "level": {"kind": "register", "value": 3}}
now = {"title": {"kind": "text", "value": "Q4"}, "level": {"kind": "register", "value": 3}}
[(r.label, r.then, r.now, r.differs) for r in compare(then, now)]
# [('level', '3', '3', False), ('title', "'Q3'", "'Q4'", True)]
when(datetime(2026, 12, 7, 9, 5, tzinfo=UTC), now=datetime(2026, 12, 7, 10, 0, tzinfo=UTC))
# '09:05:00'
```
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any

Contents = Mapping[str, Mapping[str, Any]]
"""A room's contents: key -> ``{"kind": ..., "value": ...}`` (`room_contents`)."""

SHORT = 60
"""Values whose text is longer than this many characters are summed up."""

_BOARD = "wb:"
_ABSENT = "—"
_SHAPES = {"pen": "stroke", "note": "note", "rect": "shape", "ellipse": "shape", "arrow": "shape"}


@dataclass(frozen=True)
class Row:
    """One item of a room, at a past version and now.

    Attributes:
        item: The item's id (a room key, or ``wb:<board>:`` for a whiteboard).
        label: What to call it.
        keys: The room keys it is made of, at that version or now.
        then: Its summary at the version (``"—"``: not there).
        now: Its summary now.
        differs: Whether its value now differs from the version's.
    """

    item: str
    label: str
    keys: tuple[str, ...]
    then: str
    now: str
    differs: bool


def item_of(key: str) -> str:
    """The item a room key belongs to: ``wb:<board>:`` for a whiteboard's keys, else the key.

    Args:
        key: A room key.
    """
    if key.startswith(_BOARD):
        board, sep, _rest = key[len(_BOARD) :].partition(":")
        if sep and board:
            return f"{_BOARD}{board}:"
    return key


def label_of(item: str) -> str:
    """What to call an item (``whiteboard board`` for ``wb:board:``).

    Args:
        item: An item id from `item_of`.
    """
    if item.startswith(_BOARD) and item.endswith(":"):
        return f"whiteboard {item[len(_BOARD) : -1]}"
    return item


def items_of(keys: Iterable[str]) -> list[str]:
    """The items some keys belong to, each once, in order of first appearance.

    Args:
        keys: Room keys (a version's changed keys).
    """
    return list(dict.fromkeys(item_of(k) for k in keys))


def compare(then: Contents, now: Contents) -> list[Row]:
    """Every item of the room at a version and now, sorted by label.

    Args:
        then: The room's contents at the version.
        now: The room's contents now.

    Returns:
        One `Row` per item present at the version or now.
    """
    groups: dict[str, set[str]] = {}
    for key in (*then, *now):
        groups.setdefault(item_of(key), set()).add(key)
    rows = []
    for item, keys in groups.items():
        old = {k: then[k] for k in keys if k in then}
        new = {k: now[k] for k in keys if k in now}
        rows.append(
            Row(
                item=item,
                label=label_of(item),
                keys=tuple(sorted(keys)),
                then=_summary(item, old),
                now=_summary(item, new),
                differs=_plain(old) != _plain(new),
            )
        )
    return sorted(rows, key=lambda r: (r.label.startswith("whiteboard "), r.label))


def summarize(kind: str, value: Any) -> str:
    """A short text for one key's value: the value when short, else what it is.

    Args:
        kind: The key's kind (``register``, ``text``, ``counter``, ``list``, ``set``,
            ``table``).
        value: Its value (as `room_contents` gives it).
    """
    if kind == "table":
        rows = len(value) if isinstance(value, Mapping) else 0
        return _count(rows, "row")
    if kind == "text":
        text = str(value)
        if not text:
            return "(empty text)"
        shown = repr(text)
        return (
            shown if len(shown) <= SHORT else f"{shown[: SHORT - 4]}…' ({len(text):,} characters)"
        )
    shown = _show(value)
    if len(shown) <= SHORT:
        return shown
    if isinstance(value, list | tuple):
        return _count(len(value), "item")
    if isinstance(value, Mapping):
        return _count(len(value), "field")
    return shown[: SHORT - 1] + "…"


def when(at: datetime, *, now: datetime, tz: tzinfo | None = None) -> str:
    """A time as a person says it: ``09:05:00`` today, ``yesterday 09:05``, ``Dec 3, 09:05``.

    Args:
        at: The time (aware; naive is taken as UTC).
        now: The current time (aware).
        tz: The reader's time zone (None: UTC).
    """
    zone = tz or UTC
    local = _aware(at).astimezone(zone)
    today = _aware(now).astimezone(zone).date()
    if local.date() == today:
        return local.strftime("%H:%M:%S")
    if local.date() == today - timedelta(days=1):
        return local.strftime("yesterday %H:%M")
    if local.year == today.year:
        return f"{local.strftime('%b')} {local.day}, {local.strftime('%H:%M')}"
    return f"{local.strftime('%b')} {local.day} {local.year}, {local.strftime('%H:%M')}"


def ago(at: datetime, *, now: datetime) -> str:
    """How long ago, roughly: ``just now``, ``42 s ago``, ``5 min ago``, ``3 days ago``.

    Args:
        at: The time.
        now: The current time.
    """
    seconds = (_aware(now) - _aware(at)).total_seconds()
    if seconds < 10:
        return "just now"
    for size, unit in ((86_400, "day"), (3_600, "h"), (60, "min")):
        if seconds >= size:
            n = int(seconds // size)
            return _count(n, "day") + " ago" if unit == "day" else f"{n} {unit} ago"
    return f"{int(seconds)} s ago"


def names(things: Iterable[str], *, most: int = 3) -> str:
    """Things listed for a person: ``title, level and 2 more``.

    Args:
        things: What to list.
        most: How many to name before counting the rest.
    """
    listed = list(things)
    if not listed:
        return "nothing"
    if len(listed) <= most:
        return ", ".join(listed)
    return f"{', '.join(listed[:most])} and {len(listed) - most} more"


def _summary(item: str, contents: Mapping[str, Mapping[str, Any]]) -> str:
    if not contents:
        return _ABSENT
    if item.startswith(_BOARD) and item.endswith(":"):
        return _board_summary(contents)
    entry = next(iter(contents.values()))
    return summarize(str(entry.get("kind")), entry.get("value"))


def _board_summary(contents: Mapping[str, Mapping[str, Any]]) -> str:
    counts: dict[str, int] = {}
    for entry in contents.values():
        if entry.get("kind") != "table" or not isinstance(entry.get("value"), Mapping):
            continue  # a note's text: its note is counted in its bucket
        for cells in entry["value"].values():
            kind = _SHAPES.get(str(cells.get("type"))) if isinstance(cells, Mapping) else None
            if kind is not None:
                counts[kind] = counts.get(kind, 0) + 1
    if not counts:
        return "empty"
    return ", ".join(_count(counts[k], k) for k in ("stroke", "shape", "note") if k in counts)


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


def _show(value: Any) -> str:
    if isinstance(value, date | time):
        return value.isoformat(sep=" ") if isinstance(value, datetime) else value.isoformat()
    if isinstance(value, list | tuple):
        inner = ", ".join(_show(v) for v in value[: SHORT // 2])
        return f"[{inner}{', …' if len(value) > SHORT // 2 else ''}]"
    if isinstance(value, Mapping):
        pairs = list(value.items())[: SHORT // 4]
        inner = ", ".join(f"{_show(k)}: {_show(v)}" for k, v in pairs)
        return "{" + inner + (", …" if len(value) > SHORT // 4 else "") + "}"
    return repr(value)


def _plain(contents: Mapping[str, Mapping[str, Any]]) -> str:
    """A comparable form of some keys' contents (values of any type, sets in any order)."""
    canonical = {
        key: [entry.get("kind"), _canonical(entry.get("kind"), entry.get("value"))]
        for key, entry in contents.items()
    }
    return json.dumps(canonical, sort_keys=True, default=repr)


def _canonical(kind: Any, value: Any) -> Any:
    if kind == "set" and isinstance(value, list):
        return sorted(json.dumps(v, sort_keys=True, default=repr) for v in value)
    return value


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)
