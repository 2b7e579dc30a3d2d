"""crdt_sync: collaborative Streamlit apps that merge concurrent edits instead of losing them.

```py
import streamlit as st
import crdt_sync

with crdt_sync.sync("plans"):
    st.text_input("Title", key="title")
```
"""

from .bridge import FrozenDict as FrozenDict
from .bridge import FrozenList as FrozenList
from .bridge import FrozenValueError as FrozenValueError
from .bridge import Member as Member
from .bridge import RerunSuppressed as RerunSuppressed
from .bridge import SharedState as SharedState
from .bridge import configure as configure
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
from .components.whiteboard import whiteboard as whiteboard
from .doc import DiskCacheStore as DiskCacheStore
from .doc import Hub as Hub
from .doc import InvalidUpdate as InvalidUpdate
from .doc import KindMismatch as KindMismatch
from .doc import MemoryStore as MemoryStore
from .doc import Room as Room
from .net.app import App as App

__version__ = "0.1.0"
