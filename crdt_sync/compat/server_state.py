"""streamlit-server-state's API on a crdt_sync room: change the import line, keep the app.

```py
# from streamlit_server_state import server_state, server_state_lock
from crdt_sync.compat.server_state import server_state, server_state_lock

with server_state_lock["count"]:
    if "count" not in server_state:
        server_state.count = 0
if st.button("Increment"):
    with server_state_lock.count:
        server_state.count += 1
st.write("Count = ", server_state.count)
```

What stays: item and attribute access, ``in``, per-key locks (real ``threading.RLock``s),
a session that read an item reruns when it changes, `no_rerun` and
`force_rerun_bound_sessions`. It works under ``streamlit run`` and under an ``st.App``
served by uvicorn.

What gets better:

- Lists merge. A list value is stored as a merging list; assigning a list replays the
  change from the list this session last read (``server_state[k] + [m]`` appends ``m``),
  and ``server_state[k].append(m)`` appends to the shared list and reruns its readers. So
  simultaneous senders keep every message, with or without the lock, in one order.
- ``del server_state[k]`` works (on a list it empties the list).
- The writer's own page is rerun only if it showed the item before changing it.
- Values survive a restart (they live in the configured store) and are never pickled.

What changes: values must be storable by the codec (None, bool, int, float, str, bytes,
list, tuple, dict with str keys, date/time types, Decimal, UUID); other objects raise
``TypeError``. Dicts (and lists nested in values) read back frozen: changing them in
place raises `FrozenValueError` instead of silently changing only this session's copy;
assign a changed copy instead.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator, MutableMapping, Sequence
from typing import Any, SupportsIndex

import streamlit as st

from ..bridge import runtime
from ..bridge.frozen import FrozenValueError as FrozenValueError
from ..bridge.frozen import PlainCopies, freeze, thaw
from ..bridge.state import RerunSuppressed as RerunSuppressed
from ..bridge.state import SharedState, current_origin, force_rerun, open_room
from ..bridge.state import no_rerun as no_rerun
from ..doc import Room, codec
from .list_edits import apply_list_change
from .page_views import _NOTHING, PageViews

__all__ = [
    "FrozenValueError",
    "RerunSuppressed",
    "ServerState",
    "ServerStateLock",
    "force_rerun_bound_sessions",
    "no_rerun",
    "server_state",
    "server_state_lock",
]

log = logging.getLogger("crdt_sync.server_state")

ROOM = "server_state"
"""The room that holds the server state (one per store, like one per server before)."""

_BASES = "_crdt_sync_server_state_bases"  # st.session_state key (never synced)
_VIEWS = "_crdt_sync_server_state_views"  # st.session_state key (never synced)
_thread_bases = threading.local()


def _advice(key: str, kind: str, nested: bool) -> str:
    if nested:
        return (
            f"Change a copy and assign it back: value = copy.deepcopy(server_state[{key!r}]); "
            f"...; server_state[{key!r}] = value."
        )
    if kind == "list":
        return (
            f"Change the list through server_state: server_state[{key!r}] = [...] or "
            f"server_state[{key!r}].append(...)."
        )
    return f"Assign a changed copy: server_state[{key!r}] = {{**server_state[{key!r}], ...}}."


def _bases() -> dict[str, list[Any]]:
    """What this session last read of each list: the base its next assignment diffs from."""
    if runtime.session_id() is not None:
        bases: dict[str, list[Any]] = st.session_state.setdefault(_BASES, {})
        return bases
    if not hasattr(_thread_bases, "bases"):
        _thread_bases.bases = {}
    found: dict[str, list[Any]] = _thread_bases.bases
    return found


def _views() -> PageViews | None:
    if runtime.session_id() is None:
        return None
    views = st.session_state.get(_VIEWS)
    if not isinstance(views, PageViews):
        views = st.session_state[_VIEWS] = PageViews()
    return views


class ServerList(PlainCopies):
    """A list read from `server_state`: changing it in place changes the shared list.

    ``append``, ``extend``, ``insert``, ``remove``, ``pop``, ``clear``, ``sort``,
    ``reverse``, item assignment and ``+=`` apply to this copy and, merged, to the list
    everyone sees, and rerun its readers. Items that are dicts or lists are frozen.
    """

    __slots__ = ("_key", "_owner")

    def __init__(self, items: Sequence[Any], owner: ServerState, key: str) -> None:
        list.__init__(self, items)
        self._owner = owner
        self._key = key

    def _changed(self, before: list[Any]) -> None:
        self._owner._assign_list(self._key, before, list(self))

    def append(self, value: Any, /) -> None:
        before = list(self)
        list.append(self, value)
        self._changed(before)

    def extend(self, values: Any, /) -> None:
        before = list(self)
        list.extend(self, values)
        self._changed(before)

    def insert(self, index: SupportsIndex, value: Any, /) -> None:
        before = list(self)
        list.insert(self, index, value)
        self._changed(before)

    def remove(self, value: Any, /) -> None:
        before = list(self)
        list.remove(self, value)
        self._changed(before)

    def pop(self, index: SupportsIndex = -1, /) -> Any:
        before = list(self)
        value = list.pop(self, index)
        self._changed(before)
        return value

    def clear(self) -> None:
        before = list(self)
        list.clear(self)
        self._changed(before)

    def sort(self, *args: Any, **kwargs: Any) -> None:
        before = list(self)
        list.sort(self, *args, **kwargs)
        self._changed(before)

    def reverse(self) -> None:
        before = list(self)
        list.reverse(self)
        self._changed(before)

    def __setitem__(self, index: Any, value: Any) -> None:
        before = list(self)
        list.__setitem__(self, index, value)
        self._changed(before)

    def __delitem__(self, index: Any) -> None:
        before = list(self)
        list.__delitem__(self, index)
        self._changed(before)

    def __iadd__(self, values: Any) -> ServerList:  # type: ignore[override,misc]
        self.extend(values)
        return self

    def __imul__(self, n: Any) -> ServerList:  # type: ignore[override,misc]
        before = list(self)
        list.__imul__(self, n)
        self._changed(before)
        return self


class ServerState(MutableMapping[str, Any]):
    """The server-wide state: a mutable mapping (items and attributes) kept in a room.

    Args:
        room: The room holding it (default `ROOM`).
    """

    _room_name: str

    def __init__(self, room: str = ROOM) -> None:
        object.__setattr__(self, "_room_name", room)

    def _room(self, keys: tuple[str, ...] = (), *, everything: bool = False) -> Room:
        return open_room(self._room_name, keys, everything=everything)

    # --- reading -------------------------------------------------------------------
    def __getitem__(self, key: str) -> Any:
        room = self._room((key,))
        kind = room.kinds().get(key)
        if kind == "list":
            items = room.list(key).to_list()
            _bases()[key] = items
            frozen = freeze(items, room=room.name, key=key, advice=_advice)  # items nested
            return ServerList(frozen, self, key)
        if kind in (None, "register"):
            try:
                value = room[key]
            except KeyError:
                _bases()[key] = []
                raise KeyError(key) from None
            views = _views()
            if views is not None:
                views.read(key, value, st.session_state.get(key, _NOTHING))
            return freeze(value, room=room.name, key=key, advice=_advice)
        # A counter, text, set or table made with the crdt_sync API: the live container.
        return getattr(SharedState(self._room_name), kind)(key)

    def __contains__(self, key: object) -> bool:
        if not isinstance(key, str):
            return False
        room = self._room((key,))
        present = key in room.kinds()
        if not present:
            _bases()[key] = []  # an assignment after this check merges with concurrent ones
        return present

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._room(everything=True).kinds()))

    def __len__(self) -> int:
        return len(self._room(everything=True).kinds())

    # --- writing -------------------------------------------------------------------
    def __setitem__(self, key: str, value: Any) -> None:
        if not isinstance(key, str):
            raise TypeError(f"server_state keys are str, got {type(key).__name__}: {key!r}")
        if isinstance(value, list):
            self._assign_list(key, None, value)
            return
        views = _views()
        if views is not None and views.is_echo(key, value):
            log.debug("server_state[%r]: a page re-sent a value it showed before; not written", key)
            return
        room = self._room()
        with room.transaction(origin=current_origin()):
            kind = room.kinds().get(key)
            if kind == "list":
                raise TypeError(
                    f"server_state[{key!r}] holds a list; it can only be given a list "
                    f"(got {type(value).__name__})"
                )
            if kind not in (None, "register"):
                raise TypeError(f"server_state[{key!r}] holds a crdt_sync {kind}")
            if key in room and codec.same_stored(room[key], value):
                return  # unchanged: reruns nobody, like the original
            room[key] = value

    def _assign_list(self, key: str, base: list[Any] | None, value: Sequence[Any]) -> None:
        """Replay ``base -> value`` onto the shared list (base: what this session read)."""
        new = thaw(list(value))
        room = self._room()
        bases = _bases()
        with room.transaction(origin=current_origin()):
            kind = room.kinds().get(key)
            if kind == "register":
                del room[key]  # was a plain value: becomes a list
            elif kind not in (None, "list"):
                raise TypeError(f"server_state[{key!r}] holds a crdt_sync {kind}")
            target = room.list(key)
            if base is None:
                base = bases.get(key)
            if base is None:  # never read here: a plain replacement
                base = target.to_list()
            apply_list_change(target, thaw(base), new)
        bases[key] = new

    def __delitem__(self, key: str) -> None:
        room = self._room()
        with room.transaction(origin=current_origin()):
            kind = room.kinds().get(key)
            if kind is None:
                raise KeyError(key)
            if kind == "list":
                room.list(key).clear()
            else:
                del room[key]
        _bases()[key] = []

    # --- attributes ----------------------------------------------------------------
    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            return self[name]
        except KeyError:
            raise AttributeError(f"server_state has no item {name!r}") from None

    def __setattr__(self, name: str, value: Any) -> None:
        if name.startswith("_"):
            raise AttributeError(f"server_state items may not start with '_': {name!r}")
        self[name] = value

    def __delattr__(self, name: str) -> None:
        try:
            del self[name]
        except KeyError:
            raise AttributeError(f"server_state has no item {name!r}") from None

    def __repr__(self) -> str:
        return f"<server_state in room {self._room_name!r}>"


class ServerStateLock:
    """``server_state_lock[key]`` / ``server_state_lock.key``: one re-entrant lock per key.

    Real ``threading.RLock``s shared by every session of this process. The state no
    longer needs them to stay correct for lists (they merge), but read-modify-write of a
    plain value (``server_state.count += 1``) still wants one.
    """

    _guard: threading.Lock
    _locks: dict[str, threading.RLock]

    def __init__(self) -> None:
        object.__setattr__(self, "_guard", threading.Lock())
        object.__setattr__(self, "_locks", {})

    def __getitem__(self, key: str) -> threading.RLock:
        with self._guard:
            lock = self._locks.get(key)
            if lock is None:
                lock = self._locks[key] = threading.RLock()
            return lock

    def __getattr__(self, name: str) -> threading.RLock:
        if name.startswith("_"):
            raise AttributeError(name)
        return self[name]

    def __contains__(self, key: object) -> bool:
        with self._guard:
            return key in self._locks

    def __iter__(self) -> Iterator[str]:
        with self._guard:
            return iter(list(self._locks))

    def __len__(self) -> int:
        with self._guard:
            return len(self._locks)


def force_rerun_bound_sessions(key: str) -> None:
    """Rerun every other session that read ``key`` (for changes made inside a value).

    Raises:
        RerunSuppressed: Inside ``no_rerun``.
    """
    force_rerun(ROOM, key)


server_state = ServerState()
server_state_lock = ServerStateLock()
