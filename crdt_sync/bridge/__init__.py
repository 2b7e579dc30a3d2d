"""The Streamlit side of crdt_sync: session_state <-> rooms."""

from .config import configure as configure
from .sessions import Member as Member
from .sync import private as private
from .sync import shared as shared
from .sync import sync as sync
from .widgets import presence as presence
from .widgets import presence_bar as presence_bar
from .widgets import redo_button as redo_button
from .widgets import room_selector as room_selector
from .widgets import set_name as set_name
from .widgets import undo_button as undo_button
