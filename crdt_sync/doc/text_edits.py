"""Turn "the text was X, it is now Y" into the smallest inserts and deletes.

Two people typing into one shared text must both keep their characters, so a new value
is never written as a whole: it becomes character edits. When the edit was made against
an older view of the text (``base``) while others changed it, the edits are moved onto
the current text (a three-way merge), so that nothing that arrived meanwhile is undone.
The diff itself is the standard library's ``difflib``.
"""

from __future__ import annotations

from dataclasses import dataclass
from difflib import SequenceMatcher


@dataclass(frozen=True)
class TextEdit:
    """Delete ``delete`` characters at ``index``, then insert ``insert`` there.

    Positions count Python characters (code points) of the text the edit applies to.
    """

    index: int
    delete: int
    insert: str


def _opcodes(old: str, new: str) -> list[tuple[int, int, int, int]]:
    """Changed regions ``(i1, i2, j1, j2)``: ``old[i1:i2]`` became ``new[j1:j2]``."""
    # Trim the common ends first: most edits touch one region, and it keeps difflib's
    # quadratic worst case away from long unchanged texts.
    start = 0
    limit = min(len(old), len(new))
    while start < limit and old[start] == new[start]:
        start += 1
    end = 0
    while end < limit - start and old[-1 - end] == new[-1 - end]:
        end += 1
    old_mid, new_mid = old[start : len(old) - end], new[start : len(new) - end]
    if not old_mid and not new_mid:
        return []
    if not old_mid or not new_mid:
        return [(start, start + len(old_mid), start, start + len(new_mid))]
    matcher = SequenceMatcher(None, old_mid, new_mid, autojunk=False)
    return [
        (start + i1, start + i2, start + j1, start + j2)
        for tag, i1, i2, j1, j2 in matcher.get_opcodes()
        if tag != "equal"
    ]


def diff_edits(old: str, new: str) -> list[TextEdit]:
    """Edits that turn ``old`` into ``new``, in descending position order.

    Applying them in the returned order keeps every position valid.

    Args:
        old: The current text.
        new: The wanted text.

    Returns:
        Edits, last position first.
    """
    edits = [TextEdit(i1, i2 - i1, new[j1:j2]) for i1, i2, j1, j2 in _opcodes(old, new)]
    return edits[::-1]


def rebase_edits(base: str, new: str, current: str) -> list[TextEdit]:
    """Edits that apply the change ``base -> new`` onto ``current``.

    ``current`` is ``base`` plus whatever others did meanwhile. Characters the change
    deleted are deleted only where they still exist; insertions are placed right after the
    character they followed in ``base``, so concurrent edits elsewhere are kept.

    Args:
        base: The text the person saw when they made their change.
        new: The text they produced.
        current: The text as it is now.

    Returns:
        Edits on ``current``, last position first.
    """
    if base == current:
        return diff_edits(current, new)
    # Where each character of ``base`` sits in ``current`` (None: someone removed it).
    # Aligned by the same `_opcodes` as the change itself, so that a deletion both sides
    # made picks the same characters on both sides (``"two three"`` minus ``"two "``
    # must not look like minus ``"wo t"`` on one side).
    where: list[int | None] = []
    done_base = done_current = 0
    for i1, i2, _j1, j2 in _opcodes(base, current):
        where.extend(range(done_current, done_current + i1 - done_base))  # unchanged run
        where.extend([None] * (i2 - i1))
        done_base, done_current = i2, j2
    where.extend(range(done_current, done_current + len(base) - done_base))

    def after(i: int) -> int:
        # Position just after the nearest surviving character before base position i.
        for j in range(i - 1, -1, -1):
            pos = where[j]
            if pos is not None:
                return pos + 1
        return 0

    edits: list[TextEdit] = []
    # Rightmost change first, so that at equal positions a later deletion runs before an
    # earlier insertion (the sort below is stable).
    for i1, i2, j1, j2 in reversed(_opcodes(base, new)):
        survivors = [p for p in where[i1:i2] if p is not None]
        # Deleted characters that still exist, as contiguous runs.
        runs: list[tuple[int, int]] = []
        for pos in survivors:
            if runs and runs[-1][0] + runs[-1][1] == pos:
                runs[-1] = (runs[-1][0], runs[-1][1] + 1)
            else:
                runs.append((pos, 1))
        for pos, count in reversed(runs[1:]):
            edits.append(TextEdit(pos, count, ""))
        if runs:
            edits.append(TextEdit(runs[0][0], runs[0][1], new[j1:j2]))
        elif j2 > j1:
            edits.append(TextEdit(after(i1), 0, new[j1:j2]))
    edits.sort(key=lambda e: e.index, reverse=True)
    return edits


def apply_edits(text: str, edits: list[TextEdit]) -> str:
    """Apply edits (as returned by this module) to a plain string; used to check results.

    Args:
        text: The text.
        edits: Edits, last position first.

    Returns:
        The edited text.
    """
    for edit in edits:
        text = text[: edit.index] + edit.insert + text[edit.index + edit.delete :]
    return text


def changed_ranges(old: str, new: str) -> list[tuple[int, int, str]]:
    """Where ``old`` was changed to make ``new``, and what was put there.

    Args:
        old: The text before.
        new: The text after.

    Returns:
        ``(start, end, inserted)``: ``old[start:end]`` became ``inserted``; ``start == end``
        is a pure insertion. In order.
    """
    return [(i1, i2, new[j1:j2]) for i1, i2, j1, j2 in _opcodes(old, new)]
