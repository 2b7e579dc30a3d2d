"""The crdt_sync engine: rooms as Yjs documents, merging values, persistence. No Streamlit."""

from .codec import decode as decode
from .codec import encode as encode
from .diskcache_store import DiskCacheStore as DiskCacheStore
from .errors import InvalidUpdate as InvalidUpdate
from .errors import KindMismatch as KindMismatch
from .errors import StoreError as StoreError
from .files import export_file as export_file
from .files import import_file as import_file
from .hub import Hub as Hub
from .memory_store import MemoryStore as MemoryStore
from .room import Room as Room
from .store import UpdateStore as UpdateStore
from .text_edits import TextEdit as TextEdit
from .types import RoomEvent as RoomEvent
from .types import RoomName as RoomName
from .types import validate_room_name as validate_room_name
from .undo import UndoHistory as UndoHistory
from .values import Counter as Counter
from .values import List as List
from .values import Set as Set
from .values import Table as Table
from .values import Text as Text
