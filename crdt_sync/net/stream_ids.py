"""Redis stream ids (``"<ms>-<seq>"``) as ordered tuples."""

from __future__ import annotations

import time
from typing import TypeAlias

StreamId: TypeAlias = tuple[int, int]
"""A Redis stream entry id as ``(milliseconds, sequence)``; tuples order like the ids."""

ZERO: StreamId = (0, 0)
MAX_SEQ = 2**64 - 1


def parse_id(raw: bytes | str) -> StreamId:
    """``b"1700000000000-3"`` -> ``(1700000000000, 3)``.

    Raises:
        ValueError: If ``raw`` is not a stream id.
    """
    text = raw.decode() if isinstance(raw, bytes) else raw
    ms, sep, seq = text.partition("-")
    if not sep or not ms.isdigit() or not seq.isdigit():
        raise ValueError(f"not a Redis stream id: {text!r}")
    return int(ms), int(seq)


def format_id(sid: StreamId) -> str:
    """``(1700000000000, 3)`` -> ``"1700000000000-3"``."""
    return f"{sid[0]}-{sid[1]}"


def after(sid: StreamId) -> StreamId:
    """The smallest id greater than ``sid`` (for ``XTRIM MINID``, which keeps ids >= it)."""
    return (sid[0], sid[1] + 1) if sid[1] < MAX_SEQ else (sid[0] + 1, 0)


def older_than(seconds: float, now: float | None = None) -> StreamId:
    """The largest id of an entry added more than ``seconds`` ago (by its time part)."""
    ms = int(((time.time() if now is None else now) - seconds) * 1000)
    return (max(ms - 1, 0), MAX_SEQ)
