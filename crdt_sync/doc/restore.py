"""Writing an old state forward: the keys of a past room put back into the live room.

Restoring never rewinds the document (a Yjs document only grows, and peers would not
follow): it makes, in one transaction, the changes that turn each chosen key's current
value into its old one, so the restore merges with edits made meanwhile, can be undone by
its origin, and is itself a new change in history. Per kind:

- a register gets its old value; a key that did not exist is deleted;
- a text is edited with the smallest edits (`text_edits`), not re-inserted;
- a counter is adjusted by the difference of the *values* (not each replica's share);
- a list has its differing middle replaced; a set gets the missing elements added and the
  extra ones removed;
- a table gets each cell, deleted row (its tombstone removed) and row position back;
- a key whose kind changed since is emptied and removed, then recreated with its old kind.

```py
changed = write_back(room, old_room, keys=None, origin="ann")   # ["level", "notes"]
```
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from . import codec
from .room import Room
from .types import Origin


def write_back(
    room: Room, old: Room, *, keys: Iterable[str] | None, origin: Origin | None
) -> list[str]:
    """Make ``room``'s keys equal ``old``'s, in one transaction.

    Args:
        room: The live room.
        old: A scratch room holding the old state.
        keys: Only these keys (each restored, or removed if ``old`` has none); None: every
            key of either room.
        origin: The transaction's origin (who restores).

    Returns:
        The keys that changed, sorted.
    """
    old_kinds, old_raw = _read(old)
    changed: list[str] = []
    with room.transaction(origin):
        now_kinds, now_raw = _read(room)
        wanted = set(old_kinds) | set(now_kinds) if keys is None else set(keys)
        for key in sorted(wanted):
            was, now = old_kinds.get(key), now_kinds.get(key)
            if was is None and now is None:
                continue
            if was == now == "register" and key in old_raw:
                # Compared in stored form and copied as stored: a room of many registers
                # restores without decoding every value.
                if old_raw[key] != now_raw.get(key):
                    with old.lock:
                        room._layout.registers[key] = old._layout.registers[key]
                    changed.append(key)
                continue
            if now == "register" and was is None and key in now_raw:
                del room._layout.registers[key]  # the common removal, without lookups
                if key in room._layout.kinds:
                    del room._layout.kinds[key]
                changed.append(key)
                continue
            if now is not None and was != now:
                _remove(room, key, now)
                now = None
            if was is None or _write(room, old, key, was, fresh=now is None):
                changed.append(key)
    return changed


def _read(room: Room) -> tuple[dict[str, str], dict[str, Any]]:
    """A room's kinds (as `Room.kinds` gives them) and its registers in stored form,
    read as JSON in one pass each (pycrdt's item by item reads cost far more)."""
    with room.lock:
        kinds_json, registers_json = str(room._layout.kinds), str(room._layout.registers)
    try:
        kinds, registers = json.loads(kinds_json), json.loads(registers_json)
    except ValueError:  # not JSON after all: read item by item
        return dict(room.kinds()), dict(room._layout.registers.to_py() or {})
    found = dict.fromkeys(registers, "register")
    found.update(kinds)
    return found, registers


def _remove(room: Room, key: str, kind: str) -> None:
    """Empty ``key``'s container (or delete its register) and drop its kind."""
    layout = room._layout  # the restore is part of the engine: it writes the raw layout
    if kind == "register":
        if key in layout.registers:
            del layout.registers[key]
    else:
        root = room.container_root(key, kind)
        _clear(root, kind)
        if kind == "set":
            _clear(room.container_root(key, "setorder"), "list")
        layout.views.pop(key, None)
    if key in layout.kinds:
        del layout.kinds[key]


def _clear(root: Any, kind: str) -> None:
    if kind in ("text", "list"):
        if len(root):
            del root[0 : len(root)]
    else:
        for name in list(root.keys()):
            del root[name]


def _write(room: Room, old: Room, key: str, kind: str, *, fresh: bool) -> bool:
    """Give ``key`` its old value (its kind is ``kind`` or absent); True if it changed."""
    if kind == "register":
        value = old[key]
        if not fresh and key in room and room[key] == value:
            return False
        room[key] = value
        return True
    if kind == "text":
        return room.text(key).update(str(old.text(key))) or fresh
    if kind == "counter":
        target, counter = old.counter(key).value, room.counter(key)
        if counter.value == target:
            return fresh
        counter.increment(target - counter.value)
        return True
    if kind == "list":
        return _write_list(room, old, key) or fresh
    if kind == "set":
        return _write_set(room, old, key) or fresh
    return _write_table(room, old, key) or fresh


def _write_list(room: Room, old: Room, key: str) -> bool:
    want, target = old.list(key).to_list(), room.list(key)
    have = target.to_list()
    if want == have:
        return False
    head = 0
    while head < min(len(want), len(have)) and want[head] == have[head]:
        head += 1
    tail = 0
    while tail < min(len(want), len(have)) - head and want[-1 - tail] == have[-1 - tail]:
        tail += 1
    if len(have) - tail > head:
        del target[head : len(have) - tail]
    for offset, value in enumerate(want[head : len(want) - tail]):
        target.insert(head + offset, value)
    return True


def _write_set(room: Room, old: Room, key: str) -> bool:
    want, target = old.set(key).to_list(), room.set(key)
    have = target.to_list()
    want_keys = {codec.element_key(v) for v in want}
    have_keys = {codec.element_key(v) for v in have}
    extra = [v for v in have if codec.element_key(v) not in want_keys]
    missing = [v for v in want if codec.element_key(v) not in have_keys]
    for value in extra:
        target.discard(value)
    for value in missing:
        target.add(value)
    return bool(extra or missing)


def _write_table(room: Room, old: Room, key: str) -> bool:
    """The table's raw map (positions, tombstones, cells) made equal to the old one."""
    room.table(key)  # gives the key its kind if it was removed
    want = dict(old.container_root(key, "table").items())
    root = room.container_root(key, "table")
    have = dict(root.items())
    changed = False
    for name in have:
        if name not in want:
            del root[name]
            changed = True
    for name, value in want.items():
        if have.get(name, _MISSING) != value:
            root[name] = value
            changed = True
    return changed


_MISSING = object()
