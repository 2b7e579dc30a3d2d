"""Authors: the name each change's origin stands for, as history records it.

A room's changes carry an *origin* (a Streamlit session id, a websocket connection's id,
``"crdt-sync"`` for the command line...). History stores who made each change by name, so
the parts of the program that know names tell this book: the bridge when a session calls
``set_name`` or the app has a login (``st.user``), the websocket channel when a Yjs client
announces ``user.name`` in its awareness state. The engine itself knows nothing of those.

```py
from crdt_sync.doc import authors
authors.name("3f2a-session", "ann")
authors.who("3f2a-session")  # "ann"
authors.who("b71c-session")  # "session b71c" (nobody named it)
```

An origin object may carry the key it should be looked up by in an ``author`` attribute
(the bridge's ``QuietOrigin`` does: a change made inside ``no_rerun()`` is still its
session's).
"""

from __future__ import annotations

import threading
from collections.abc import Hashable

from .types import Origin

CLI_AUTHOR = "crdt-sync"
"""Who the command line's changes are attributed to."""

MAX_NAME_BYTES = 200
"""A name longer than this (in UTF-8 bytes) is cut: a hostile client cannot bloat history."""

_lock = threading.Lock()
_names: dict[Hashable, str] = {}


def _key(origin: Origin | None) -> Hashable:
    author = getattr(origin, "author", None)
    return author if author is not None else origin


def name(origin: Origin, who: str | None) -> None:
    """Say who changes made under ``origin`` are by; ``None`` or ``""`` forgets it.

    Args:
        origin: The origin (a session id, a connection id...).
        who: The display name (cut to `MAX_NAME_BYTES` bytes of UTF-8).
    """
    key = _key(origin)
    with _lock:
        if who:
            _names[key] = who.encode("utf-8")[:MAX_NAME_BYTES].decode("utf-8", "ignore")
        else:
            _names.pop(key, None)


def forget(origin: Origin) -> None:
    """Drop an origin's name (its session ended or its connection closed).

    Args:
        origin: The origin.
    """
    name(origin, None)


def who(origin: Origin | None) -> str:
    """The name changes made under ``origin`` are attributed to.

    Args:
        origin: A transaction's origin.

    Returns:
        The name given with `name`; otherwise ``"anonymous"`` for no origin, the string
        itself for a plain string that nobody named (``"crdt-sync"``, ``"redis"``...) cut
        to its first 12 characters when it looks like an id, or ``"session xxxx"``.
    """
    key = _key(origin)
    with _lock:
        named = _names.get(key)
    if named is not None:
        return named
    if key is None:
        return "anonymous"
    text = str(key)
    if len(text) >= 32 and "-" in text:  # a Streamlit session id (a UUID)
        return f"session {text[:4]}"
    return text[:40]
