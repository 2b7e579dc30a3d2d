"""PageViews: what one session's page was shown of each `server_state` item.

Used to recognise a page's stale echo in apps written the streamlit-server-state way.
"""

from __future__ import annotations

import time
from typing import Any

from ..bridge.key_state import ECHO_WINDOW
from ..doc import codec

_NOTHING: Any = object()


class PageViews:
    """What one session's page was shown of each item, to recognise a page's stale echo.

    Apps copy an item into their widget's key on every run
    (``st.session_state[k] = server_state[k]``) and write it back from the widget's
    ``on_change`` (``server_state[k] = st.session_state[k]``). When someone else's change
    reaches this page just as its person commits another widget, the browser sends the
    value it still shows for ``k``, Streamlit takes that for a change and the callback
    writes the old value back over the other person's edit. An assignment of a value the
    page showed before the newest one, within `ECHO_WINDOW` of the newest arriving, is
    that echo: it is not written.
    """

    def __init__(self) -> None:
        self.latest: dict[str, Any] = {}
        self.older: dict[str, list[tuple[Any, float]]] = {}

    def read(self, key: str, value: Any, displayed: Any) -> None:
        """``value`` was read for ``key`` while the session held ``displayed`` under it."""
        now = time.monotonic()
        older = self.older.setdefault(key, [])
        for old in (self.latest.get(key, _NOTHING), displayed):
            if old is not _NOTHING and not codec.same_stored(old, value):
                older.append((old, now))
        del older[:-8]
        self.latest[key] = value

    def is_echo(self, key: str, value: Any) -> bool:
        """Whether assigning ``value`` to ``key`` now re-sends an older view."""
        latest = self.latest.get(key, _NOTHING)
        if latest is _NOTHING or codec.same_stored(latest, value):
            return False
        now = time.monotonic()
        return any(
            now - t < ECHO_WINDOW and codec.same_stored(old, value)
            for old, t in self.older.get(key, [])
        )
