"""KeyState: what one shared key of one session's page was given, and when.

The views a page was given and may still display (an echo of one is not an edit), and
whether a value must be given again (a widget that mounts late).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from .kinds import BridgeKind, same

MISSING: Any = object()
"""No value (a key the page was not given yet)."""
MAX_SUPERSEDED = 8
RESEND_FOR = 3.0
"""Seconds a value given to a page is given again on every run until the page reports it."""
ECHO_WINDOW = 1.5
"""Seconds after a page was given a new value during which the page may still send the
value it showed before (its request was on the way, or it had not rendered yet). Later,
the old value coming back is a person choosing it again."""


@dataclass
class KeyState:
    """What one synced key of one session looks like.

    Attributes:
        room_key: The key in the room.
        kind: How it merges.
        shown: The value this session's page was last given.
        superseded: Values the page was given before ``shown`` and may still display,
            each with the time it was superseded.
        resend_until: Until when (``time.monotonic()``) every run gives the page ``shown``
            again, unless the browser reported it back (not while its person types in the
            field): a
            widget that mounts late (a cold page loading its code) takes its value from the
            run it mounts in, and would show its default. Bounded (`RESEND_FOR`), since
            giving a field its value again while someone types in it can reset the field.
        owner: The fragment whose block created the widget (None: the app; unknown until
            created). A fragment's own reruns show only its widgets' keys.
    """

    room_key: str
    kind: BridgeKind
    shown: Any
    superseded: list[tuple[Any, float]] = field(default_factory=list)
    resend_until: float = 0.0
    owner: Any = MISSING

    def resending(self, now: float) -> bool:
        """Whether runs still give the page ``shown`` again (see ``resend_until``)."""
        return now < self.resend_until

    def show(self, value: Any, displayed: Any = MISSING) -> None:
        now = time.monotonic()
        for old in (self.shown, displayed):
            known = any(same(old, s) for s, _t in self.superseded)
            if old is not MISSING and not same(old, value) and not known:
                self.superseded.append((old, now))
        del self.superseded[:-MAX_SUPERSEDED]
        self.shown = value

    def older_views(self, now: float) -> list[Any]:
        """Values the page may still display besides ``shown`` (oldest first)."""
        if self.kind == "text":  # an unsent text stays on the page until it is sent
            return [v for v, _t in self.superseded]
        return [v for v, t in self.superseded if now - t < ECHO_WINDOW]
