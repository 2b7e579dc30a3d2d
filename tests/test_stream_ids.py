"""Tests of crdt_sync.net.stream_ids: Redis stream ids as ordered tuples."""

from __future__ import annotations

import pytest

from crdt_sync.net.stream_ids import MAX_SEQ, after, format_id, older_than, parse_id


def test_ids_parse_format_and_order() -> None:
    assert parse_id(b"1700000000000-3") == (1700000000000, 3)
    assert format_id((1700000000000, 3)) == "1700000000000-3"
    assert parse_id("9-10") > parse_id("9-9") > parse_id("8-99")  # not string order


@pytest.mark.parametrize("raw", ["", "12", "a-1", "1-", "-1", "1-2-3"])
def test_bad_ids_are_refused(raw: str) -> None:
    with pytest.raises(ValueError) as info:
        parse_id(raw)
    assert str(info.value) == f"not a Redis stream id: {raw!r}"


def test_after_is_the_next_id_minid_keeps() -> None:
    assert after((5, 1)) == (5, 2)
    assert after((5, MAX_SEQ)) == (6, 0)


def test_older_than_is_by_the_time_part() -> None:
    assert older_than(60, now=1000.0) == (939_999, MAX_SEQ)
    assert older_than(0, now=1.0) == (999, MAX_SEQ)
