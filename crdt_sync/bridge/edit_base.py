"""What a person's edit was made against: the view of the value their page showed.

A page shows the newest value it was given, except a text field someone is typing in
(Streamlit keeps its unsent text). The bridge applies an edit from that base, so what
arrived meanwhile is kept.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..doc.text_edits import changed_ranges


def _touches(mine: list[tuple[int, int, str]], theirs: list[tuple[int, int, str]]) -> bool:
    """Whether two sets of changes to one text touch: one deletes where the other acts.

    Two pure insertions never touch (both are kept, side by side).
    """
    for a1, a2, _ in mine:
        for b1, b2, _ in theirs:
            deletes = a2 > a1 or b2 > b1
            if deletes and a1 <= b2 and b1 <= a2:
                return True
    return False


def _cost(changes: list[tuple[int, int, str]]) -> int:
    return sum(end - start + len(text) for start, end, text in changes)


def fingerprint(text: str) -> str:
    """``"<length>:<FNV-1a hash>"`` of ``text``'s UTF-16 code units, as the typing probe's
    script computes it.

    Args:
        text: The text.
    """
    units = text.encode("utf-16-le")
    h = 0x811C9DC5
    for i in range(0, len(units), 2):
        h ^= units[i] | (units[i + 1] << 8)
        h = (h * 0x01000193) & 0xFFFFFFFF
    return f"{len(units) // 2}:{h:x}"


def typed_base(candidates: list[Any], value: str, typed_on: str | None) -> str:
    """The text the person edited, from what their page reported (`typing_probe`).

    Args:
        candidates: The views the page was given, oldest first (the last is the newest).
        value: What the page sent.
        typed_on: The fingerprint of the text the person started typing on, if the page
            reported one.

    Returns:
        The view with that fingerprint, unless what arrived after it is in ``value`` (the
        field took the newer view after all); else `text_base`'s answer.
    """
    texts = [c for c in candidates if isinstance(c, str)]
    if typed_on is not None and texts:
        shown = texts[-1]
        for view in reversed(texts):
            if fingerprint(view) != typed_on:
                continue
            since = changed_ranges(view, shown)
            if not any(text and text in value for _s, _e, text in since):
                return view
            break
    return text_base(candidates, value)


def text_base(candidates: list[Any], value: str) -> str:
    """The text the person edited: what their page showed when they started typing.

    Their page shows the newest value it was given, unless they were already typing in
    that field when it arrived (Streamlit keeps a field's unsent text). An older view is
    taken as the base when everything says the person typed on it: their text is closer
    to it than to the newest view, lacks what arrived since, and their edit does not touch
    what arrived. The newest such view wins; an empty field counts as a view too,
    so two people typing into an empty field both keep their text. Otherwise they edited
    what they saw.
    """
    texts = [c for c in candidates if isinstance(c, str)]
    if not texts:
        return ""
    shown = texts[-1]
    for older in reversed(texts[:-1]):
        if not older or older == shown:
            continue  # values alone cannot tell typing into an empty field from replacing
        since = changed_ranges(older, shown)
        mine = changed_ranges(older, value)
        if (
            _cost(mine) < _cost(changed_ranges(shown, value))
            and not any(text and text in value for _s, _e, text in since)
            and not _touches(mine, since)
        ):
            return older
    return shown


def closest_list(candidates: list[Any], value: list[Any]) -> list[Any]:
    lists = [c for c in candidates if isinstance(c, list | tuple)]
    if not lists:
        return []

    def distance(c: Iterable[Any]) -> int:
        base = list(c)
        return sum(1 for x in value if x not in base) + sum(1 for x in base if x not in value)

    return list(min(reversed(lists), key=distance))
