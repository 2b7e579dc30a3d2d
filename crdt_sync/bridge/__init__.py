"""The Streamlit side of crdt_sync: session_state <-> rooms."""

from .config import configure as configure
from .frozen import FrozenDict as FrozenDict
from .frozen import FrozenList as FrozenList
from .frozen import FrozenValueError as FrozenValueError
from .members import Member as Member
from .offline import offline_controls as offline_controls
from .state import RerunSuppressed as RerunSuppressed
from .state import SharedState as SharedState
from .state import force_rerun as force_rerun
from .state import no_rerun as no_rerun
from .state import shared_state as shared_state
from .sync import private as private
from .sync import shared as shared
from .sync import sync as sync
from .widgets import presence as presence
from .widgets import presence_bar as presence_bar
from .widgets import redo_button as redo_button
from .widgets import room_selector as room_selector
from .widgets import set_name as set_name
from .widgets import undo_button as undo_button
