"""crdt_sync: collaborative Streamlit apps that merge concurrent edits instead of losing them.

```py
import streamlit as st
import crdt_sync

with crdt_sync.sync("plans"):
    st.text_input("Title", key="title")
```

The engine (`crdt_sync.doc`) never imports Streamlit; the Streamlit-facing names below are
loaded on first use, so ``from crdt_sync.doc import Room`` stays light in any program.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .doc import DiskCacheStore as DiskCacheStore
from .doc import Hub as Hub
from .doc import InvalidUpdate as InvalidUpdate
from .doc import KindMismatch as KindMismatch
from .doc import MemoryStore as MemoryStore
from .doc import NoHistory as NoHistory
from .doc import Retention as Retention
from .doc import Room as Room
from .doc import UnknownVersion as UnknownVersion
from .doc import Version as Version

if TYPE_CHECKING:
    from .bridge import FrozenDict as FrozenDict
    from .bridge import FrozenList as FrozenList
    from .bridge import FrozenValueError as FrozenValueError
    from .bridge import Member as Member
    from .bridge import RerunSuppressed as RerunSuppressed
    from .bridge import SharedState as SharedState
    from .bridge import force_rerun as force_rerun
    from .bridge import no_rerun as no_rerun
    from .bridge import offline_controls as offline_controls
    from .bridge import presence as presence
    from .bridge import presence_bar as presence_bar
    from .bridge import private as private
    from .bridge import redo_button as redo_button
    from .bridge import room_selector as room_selector
    from .bridge import set_name as set_name
    from .bridge import shared as shared
    from .bridge import shared_state as shared_state
    from .bridge import sync as sync
    from .bridge import undo_button as undo_button
    from .bridge.status import connection_status as connection_status
    from .components.data_editor import data_editor as data_editor
    from .components.history_panel import history_panel as history_panel
    from .components.whiteboard import whiteboard as whiteboard
    from .doc.config import configure as configure
    from .net.app import App as App
    from .net.app import yjs_route as yjs_route

_BRIDGE = [
    "FrozenDict",
    "FrozenList",
    "FrozenValueError",
    "Member",
    "RerunSuppressed",
    "SharedState",
    "force_rerun",
    "no_rerun",
    "offline_controls",
    "presence",
    "presence_bar",
    "private",
    "redo_button",
    "room_selector",
    "set_name",
    "shared",
    "shared_state",
    "sync",
    "undo_button",
]
_LAZY: dict[str, str] = {
    **dict.fromkeys(_BRIDGE, ".bridge"),
    "connection_status": ".bridge.status",
    "configure": ".doc.config",
    "data_editor": ".components.data_editor",
    "history_panel": ".components.history_panel",
    "whiteboard": ".components.whiteboard",
    "App": ".net.app",
    "yjs_route": ".net.app",
}

__all__ = sorted(
    [
        *_LAZY,
        "DiskCacheStore",
        "Hub",
        "InvalidUpdate",
        "KindMismatch",
        "MemoryStore",
        "NoHistory",
        "Retention",
        "Room",
        "UnknownVersion",
        "Version",
    ]
)
__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'crdt_sync' has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value  # later lookups skip this function
    return value
