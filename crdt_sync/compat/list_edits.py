"""Turn "this list became that list" into edits of a merging list, keeping others' edits.

streamlit-server-state apps change lists by assigning a whole new list
(``server_state[k] = server_state[k] + [m]``). Written as is, two people doing that at
once would overwrite each other. Instead, the change from the list the person started
from (*base*) to the one they assign (*new*) is computed and replayed onto the list as it
is now (*current*): what they appended is appended, what they removed is removed, and
whatever others did meanwhile stays.

```py
plan_list_edits(base=["a"], new=["a", "b"], current=["a", "x"])
# -> ([], {2: ["b"]}): nothing to delete, insert "b" before index 2 (at the end)
```
"""

from __future__ import annotations

from collections.abc import Sequence
from difflib import SequenceMatcher
from typing import Any

from ..doc import List, codec

Plan = tuple[list[int], dict[int, list[Any]]]
"""(indices of ``current`` to delete, index of ``current`` -> items to insert before it)."""


def _keys(items: Sequence[Any]) -> list[str]:
    return [codec.element_key(item) for item in items]


def _same_items(a: Sequence[Any], b: Sequence[Any]) -> bool:
    return len(a) == len(b) and all(
        type(x) is type(y) and x == y for x, y in zip(a, b, strict=True)
    )


def plan_list_edits(base: Sequence[Any], new: Sequence[Any], current: Sequence[Any]) -> Plan:
    """The edits that replay ``base -> new`` onto ``current``.

    Args:
        base: The list the change was made against.
        new: The list it was changed into.
        current: The list as it is now (``base`` plus what others did meanwhile).

    Returns:
        Indices of ``current`` to delete, and items to insert before indices of
        ``current`` (``len(current)``: at the end).
    """
    base_keys, new_keys, current_keys = _keys(base), _keys(new), _keys(current)
    where: dict[int, int] = {}  # base index -> index in current
    matcher = SequenceMatcher(None, base_keys, current_keys, autojunk=False)
    for i, j, size in matcher.get_matching_blocks():
        for d in range(size):
            where[i + d] = j + d

    def anchor(i: int) -> int:
        # Before base[i] as it sits in current; if others removed it, before the next
        # base item still there; at the end if none is.
        for k in range(i, len(base)):
            if k in where:
                return where[k]
        return len(current)

    deletes: set[int] = set()
    inserts: dict[int, list[Any]] = {}
    changes = SequenceMatcher(None, base_keys, new_keys, autojunk=False).get_opcodes()
    for tag, i1, i2, j1, j2 in changes:
        if tag in ("delete", "replace"):
            deletes.update(where[i] for i in range(i1, i2) if i in where)
        if tag in ("insert", "replace"):
            inserts.setdefault(anchor(i1), []).extend(new[j1:j2])
    return sorted(deletes), inserts


def apply_list_change(target: List, base: Sequence[Any], new: Sequence[Any]) -> bool:
    """Replay ``base -> new`` onto a merging list, in the caller's transaction.

    Args:
        target: The room's list.
        base: What the change was made against.
        new: What it was changed into.

    Returns:
        True if the list changed.
    """
    n = len(base)
    if len(new) >= n and _same_items(new[:n], base):
        # The common case, a chat message: only appended. Others' changes are untouched.
        target.extend(new[n:])
        return len(new) > n
    current = target.to_list()
    deletes, inserts = plan_list_edits(base, new, current)
    doomed = set(deletes)
    for position in range(len(current), -1, -1):
        # Right to left, so the positions still to visit keep their meaning.
        if position in doomed:
            del target[position]
        for offset, item in enumerate(inserts.get(position, ())):
            target.insert(position + offset, item)
    return bool(deletes or inserts)
