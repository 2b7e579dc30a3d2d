"""EntryFacts: what Streamlit knows about a run when a ``sync`` block is entered.

The bridge reads them in `sync` (from `runtime` and the typing probe) and hands them to
the session's `SessionBinding`, which decides from them what the person changed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class EntryFacts:
    """What Streamlit knows about this run when a block is entered.

    Attributes:
        reported: Keys whose value the browser sent with this run (None: unknown, every
            value counts as sent).
        changed: Keys (or ids of keyless widgets and buttons) the browser changed with
            this run's request (None: unknown). An older value re-sent alongside nothing
            else is the person choosing it again, not an echo.
        code_set: Keys the app's own code set in this run before the block (callbacks,
            the script body).
        held: Keys the session held when the run began (None: unknown).
        unwritable: Keys Streamlit forbids setting before the block (a form shares the
            key): their value is put in place when the form has been created.
        instantiated: Keys whose widgets an earlier block of this run already created:
            they show the room's value from the next run.
        fragment: The fragment running the block (None: the app).
        typed_on: Key -> fingerprint of the text the person started typing on in that
            field, as the page reported it (`typing_probe`).
    """

    reported: set[str] | None = None
    changed: frozenset[str] | None = None
    code_set: frozenset[str] = frozenset()
    held: frozenset[str] | None = None
    unwritable: frozenset[str] = frozenset()
    instantiated: frozenset[str] = frozenset()
    fragment: str | None = None
    typed_on: Mapping[str, str] = field(default_factory=dict)
