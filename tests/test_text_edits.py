"""Tests of crdt_sync.doc.text_edits: old -> new as minimal edits, and three-way rebasing."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from crdt_sync.doc.text_edits import TextEdit, apply_edits, diff_edits, rebase_edits

texts = st.text(alphabet=st.sampled_from("ab c😀é\n"), max_size=40)


def test_no_change_gives_no_edits() -> None:
    assert diff_edits("same", "same") == []
    assert diff_edits("", "") == []


def test_one_change_gives_one_edit() -> None:
    assert diff_edits("hello world", "hello big world") == [TextEdit(6, 0, "big ")]
    assert diff_edits("hello world", "hello") == [TextEdit(5, 6, "")]
    assert diff_edits("", "new") == [TextEdit(0, 0, "new")]
    assert diff_edits("cat", "cut") == [TextEdit(1, 1, "u")]


def test_edits_come_last_position_first() -> None:
    edits = diff_edits("a-b-c", "A-b-C")
    assert edits == [TextEdit(4, 1, "C"), TextEdit(0, 1, "A")]
    assert apply_edits("a-b-c", edits) == "A-b-C"


def test_positions_are_characters() -> None:
    assert diff_edits("a😀b", "a😀Xb") == [TextEdit(2, 0, "X")]


def test_long_unchanged_ends_stay_cheap_and_exact() -> None:
    old = "x" * 100_000 + "middle" + "y" * 100_000
    new = "x" * 100_000 + "MIDDLE" + "y" * 100_000
    assert diff_edits(old, new) == [TextEdit(100_000, 6, "MIDDLE")]


def test_rebase_keeps_an_insert_that_arrived_meanwhile() -> None:
    base = "hello world"
    current = "hello big world"  # someone else's edit
    new = "hello world!"  # mine, against base
    assert apply_edits(current, rebase_edits(base, new, current)) == "hello big world!"


def test_regression_rebase_does_not_delete_twice() -> None:
    # Bug: the two diffs aligned "one two three" -> "one three" differently (one removed
    # "two ", the other "wo t"), so the shared deletion removed " t" of "three" as well.
    base = "one two three"
    current = "one three"  # someone deleted "two "
    new = "one three"  # I deleted it too
    assert apply_edits(current, rebase_edits(base, new, current)) == "one three"


def test_rebase_replacement_of_text_someone_else_deleted_inserts_in_place() -> None:
    base = "keep REPLACE keep"
    current = "keep  keep"
    new = "keep new keep"
    assert apply_edits(current, rebase_edits(base, new, current)) == "keep new keep"


def test_rebase_with_base_equal_to_current_is_a_plain_diff() -> None:
    assert rebase_edits("abc", "abXc", "abc") == diff_edits("abc", "abXc")


@settings(max_examples=300, deadline=None)
@given(texts, texts)
def test_diff_edits_turn_old_into_new(old: str, new: str) -> None:
    edits = diff_edits(old, new)
    assert apply_edits(old, edits) == new
    assert [e.index for e in edits] == sorted((e.index for e in edits), reverse=True)


@settings(max_examples=300, deadline=None)
@given(texts, texts)
def test_rebase_onto_unchanged_text_gives_new(base: str, new: str) -> None:
    assert apply_edits(base, rebase_edits(base, new, base)) == new


@settings(max_examples=300, deadline=None)
@given(texts, texts, st.integers(min_value=0, max_value=40), st.sampled_from(["X", "YZ"]))
def test_rebase_keeps_a_concurrent_insert(base: str, new: str, at: int, insert: str) -> None:
    at = min(at, len(base))
    current = base[:at] + insert + base[at:]
    result = apply_edits(current, rebase_edits(base, new, current))
    # The other person's characters survive (as a subsequence, in order).
    rest = iter(result)
    assert all(ch in rest for ch in insert)
