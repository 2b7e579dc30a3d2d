"""The process's store and Hub: ``crdt_sync.configure(store=...)``, and where rooms are served.

One process serves its rooms from one store through one `Hub`. The Streamlit bridge, the
websocket endpoint and the ``crdt-sync`` command all get it here, so none of them needs
another's modules (and none of this imports Streamlit).

```py
from crdt_sync.doc import config

config.configure("memory")          # before any room is opened
room = config.hub().open("plans")
```
"""

from __future__ import annotations

import os
import threading

from .hub import Hub
from .retention import Retention
from .store_specs import DEFAULT_STORE, ENV_VAR, KEEP_DEFAULT, StoreDefault, open_store

_lock = threading.Lock()
_hub: Hub | None = None
_spec: str | None = None
_live_path: str | None = None


def configure(
    store: str | None = None, *, history: Retention | StoreDefault | None = KEEP_DEFAULT
) -> Hub:
    """Choose where rooms are stored, once per process (calling again with the same value
    is a no-op, so it can sit at the top of a Streamlit script).

    Args:
        store: ``"diskcache:PATH"`` (default ``diskcache:.crdt_sync``, or the
            ``CRDT_SYNC_STORE`` environment variable), ``"memory"``, or
            ``"redis://host:port/db"``; any of them may end with ``?history=off``.
        history: What room history keeps: a `Retention` (default: every version for a
            day, hourly for a month, daily after), or None for no history.

    Returns:
        The process's Hub.

    Raises:
        ValueError: For a store spec of none of the accepted forms.
        RuntimeError: When rooms are already open on a different store.
    """
    global _hub, _spec
    with _lock:
        if store is None and _hub is not None:
            return _hub
    spec = store or os.environ.get(ENV_VAR) or DEFAULT_STORE
    with _lock:
        if _hub is not None and spec == _spec:
            return _hub
        new_store = open_store(spec, history=history)
        if _hub is not None:
            if _hub.open_rooms():
                new_store.close()
                raise RuntimeError(
                    f"crdt_sync is already serving rooms {_hub.open_rooms()} from store "
                    f"{_spec!r}; call configure({spec!r}) before any room is opened"
                )
            _hub.close()
        _hub = Hub(new_store)
        _spec = spec
        attach = getattr(new_store, "attach_hub", None)
        if attach is not None:  # the Redis relay stops following rooms the hub closed
            attach(_hub)
        return _hub


def hub() -> Hub:
    """The process's Hub, configured with the default store on first use."""
    return _hub if _hub is not None else configure()


def configured_store() -> str | None:
    """The store spec in use, or None before the first room was opened."""
    return _spec


def announce_live_channel(path: str) -> None:
    """Record that this process serves rooms over a websocket at ``{path}/{room}``.

    `crdt_sync.App` calls it; components with live features (whiteboard cursors) use it.
    """
    global _live_path
    _live_path = path


def live_channel() -> str | None:
    """The websocket path prefix rooms are served at in this process, or None (e.g. under
    ``streamlit run``, which has no route for it)."""
    return _live_path
