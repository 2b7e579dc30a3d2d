"""Whether the store's writes get through: `connection_status()` and the app's warning.

A Redis store reports its server; the diskcache store reports its disk (a full disk): both
the same way, so pages show one warning for either.
"""

from __future__ import annotations

import threading
from typing import Any, Protocol

import streamlit as st

from . import config, runtime
from .sessions import registry

_lock = threading.Lock()
_watched: set[int] = set()


class StoreStatus(Protocol):
    """What a store that can fail to write reports (see `crdt_sync.net.ConnectionStatus`)."""

    @property
    def connected(self) -> bool: ...

    @property
    def queued(self) -> int: ...

    @property
    def message(self) -> str: ...


def connection_status() -> StoreStatus | None:
    """Whether the store's writes get through (Redis: its server; diskcache: its disk), or
    None for the memory store.

    ```py
    status = crdt_sync.connection_status()
    if status and not status.connected:
        st.caption(f"{status.queued} edits wait to be saved: {status.error}")
    ```
    """
    store = config.hub().store
    status = getattr(store, "status", None)
    if status is None:
        return None
    _rerun_on_change(store)
    result: StoreStatus = status()
    return result


def connection_warning() -> None:
    """A small warning in the page while the store cannot write (server down, disk full)."""
    status = connection_status()
    if status is not None and not status.connected:
        st.warning(status.message, icon="⚠️")


def _rerun_on_change(store: Any) -> None:
    """Rerun every session in a room when writes start or stop failing (once per store)."""
    add = getattr(store, "add_status_listener", None)
    with _lock:
        if add is None or id(store) in _watched:
            return
        _watched.add(id(store))

    def rerun_everyone(_status: object) -> None:
        for name in config.hub().open_rooms():
            for member in registry.members(name):
                if member.kind == "session":
                    runtime.scheduler.push(member.session, {None})

    add(rerun_everyone)
