"""``crdt_sync.shared_state(room)``: a dict-like view of a room, shared by every session.

```py
shared = crdt_sync.shared_state("chat")
shared["topic"] = "CRDTs"                        # a register: last writer wins
shared.topic                                     # 'CRDTs' (attribute access works too)
shared.list("messages").append({"who": "ann"})   # containers merge: no lock needed
shared.counter("clicks").increment()
```

Which session reruns: one that *read* a key reruns when that key changes afterwards, and
only then (its own changes included when it read the key before changing it: what it
showed is stale). Reading a container's content (iterating it, its length, a counter's
value, a text's string...) counts as reading its key; getting the container does not.
Entering or leaving a room reruns the others in it (their presence lists change).
``with no_rerun():`` makes changes that rerun nobody; `force_rerun` reruns the readers of
a key on demand.

Registers hold values, not live objects: a list or dict read from a register comes back
frozen (`FrozenList`, `FrozenDict`), so changing it in place raises `FrozenValueError`
instead of silently changing only this session's copy. Use ``shared.list(key)`` for a list
that several people append to, or assign a new value.
"""

from __future__ import annotations

import builtins
import functools
import threading
from collections.abc import Iterator, MutableMapping
from types import TracebackType
from typing import Any, cast

from ..doc import Counter, List, Room, Set, Table, Text, codec, validate_room_name
from ..doc.types import Origin
from . import config, runtime
from .frozen import freeze
from .sessions import registry
from .watch import QuietOrigin

# ---------------------------------------------------------------------- no_rerun


class NoRerun:
    """Changes made inside ``with no_rerun():`` rerun nobody (``with no_rerun:`` works too).

    Other sessions see them on their next run. Applies to changes made through
    `shared_state` in this thread; nests.
    """

    _local = threading.local()

    def __call__(self) -> NoRerun:
        return self

    def __enter__(self) -> NoRerun:
        self._local.depth = getattr(self._local, "depth", 0) + 1
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._local.depth -= 1

    @property
    def active(self) -> bool:
        """Whether this thread is inside ``no_rerun()``."""
        return bool(getattr(self._local, "depth", 0))

    def __repr__(self) -> str:
        return "crdt_sync.no_rerun"


no_rerun = NoRerun()


def current_origin() -> Origin | None:
    """The origin of a change made now: this session, marked quiet inside ``no_rerun()``."""
    session = runtime.session_id()
    return QuietOrigin(session) if no_rerun.active else session


class RerunSuppressed(RuntimeError):
    """`force_rerun` was called inside ``no_rerun()``."""


def force_rerun(room: str, key: str | None = None) -> int:
    """Rerun the sessions that read ``key`` in ``room`` (every session in it when None).

    For changes the room cannot see, e.g. when what a page shows depends on the room in a
    way no key records. The calling session is not rerun.

    Args:
        room: The room's name.
        key: The key whose readers rerun; None for every session in the room.

    Returns:
        How many sessions were asked to rerun.

    Raises:
        RerunSuppressed: Inside ``no_rerun()``.
    """
    validate_room_name(room)
    if no_rerun.active:
        raise RerunSuppressed(f"force_rerun({room!r}, {key!r}) cannot be used inside no_rerun()")
    return len(registry.force_rerun(room, key, exclude=runtime.session_id()))


# ---------------------------------------------------------------------- containers


def _note_read(room_name: str, key: str) -> None:
    session = runtime.session_id()
    if session is not None:
        registry.watch(session, room_name, (key,), fragment=runtime.fragment_id())


# ---------------------------------------------------------------------- shared_state

_OWN = frozenset({"_name"})
_detached: dict[str, Room] = {}
_detached_lock = threading.Lock()


def open_room(name: str, keys: tuple[str, ...] = (), *, everything: bool = False) -> Room:
    """The room ``name``, recording that the running session reads ``keys`` of it.

    In a Streamlit run the session joins the room (see `Registry.watch`); elsewhere (a
    script, a background thread) the room is opened once for the rest of the process.

    Args:
        name: The room's name.
        keys: Keys read now.
        everything: Every key is read now.

    Returns:
        The room.
    """
    session = runtime.session_id()
    if session is not None:
        return registry.watch(
            session, name, keys, everything=everything, fragment=runtime.fragment_id()
        )
    with _detached_lock:
        room = _detached.get(name)
        hub = config.hub()
        if room is None or hub.get(name) is not room:
            room = _detached[name] = hub.open(name)
        return room


class SharedState(MutableMapping[str, Any]):
    """A room seen as a mutable mapping of registers, plus containers that merge.

    Get one with `shared_state`. Every operation looks up the session running it, so one
    object may be kept at module level and used by every session.

    Keys are str. Registers and containers share one namespace: a key holding a list
    container is reached with ``shared.list(key)``, not ``shared[key]``.
    """

    _name: str

    def __init__(self, room: str) -> None:
        object.__setattr__(self, "_name", validate_room_name(room))

    def _room(self, keys: builtins.tuple[str, ...] = (), *, everything: bool = False) -> Room:
        return open_room(self._name, keys, everything=everything)

    def enter(self) -> SharedState:
        """Join the room now (presence), before reading anything. Returns self."""
        self._room()
        return self

    # --- registers -------------------------------------------------------------------
    def __getitem__(self, key: str) -> Any:
        room = self._room((key,))
        return freeze(room[key], room=room.name, key=key)

    def __setitem__(self, key: str, value: Any) -> None:
        room = self._room()
        with room.transaction(origin=current_origin()):
            if key in room and codec.same_stored(room[key], value):
                return  # an unchanged value reruns nobody
            room[key] = value

    def __delitem__(self, key: str) -> None:
        room = self._room()
        with room.transaction(origin=current_origin()):
            del room[key]

    def __contains__(self, key: object) -> bool:
        if not isinstance(key, str):
            return False
        return key in self._room((key,))

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._room(everything=True)))

    def __len__(self) -> int:
        return len(self._room(everything=True))

    def snapshot(self) -> dict[str, Any]:
        """Every register, as a plain dict you may change (a copy)."""
        return self._room(everything=True).snapshot()

    def __repr__(self) -> str:
        return f"shared_state({self._name!r})"

    # --- attribute access ----------------------------------------------------------
    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or name in _OWN:
            raise AttributeError(name)
        try:
            return self[name]
        except KeyError:
            raise AttributeError(f"shared_state({self._name!r}) has no key {name!r}") from None

    def __setattr__(self, name: str, value: Any) -> None:
        self._check_attribute(name)
        self[name] = value

    def __delattr__(self, name: str) -> None:
        self._check_attribute(name)
        try:
            del self[name]
        except KeyError:
            raise AttributeError(f"shared_state({self._name!r}) has no key {name!r}") from None

    def _check_attribute(self, name: str) -> None:
        if name.startswith("_") or hasattr(type(self), name):
            raise AttributeError(
                f"{name!r} is a name of shared_state itself; use shared[{name!r}] for the key"
            )

    # --- containers ----------------------------------------------------------------
    def _container(self, key: str, kind: str) -> Any:
        room = self._room()  # reading its content (len, iteration, value...) is the read
        with room.transaction(origin=current_origin()):  # creating it is a change too
            engine = getattr(room, kind)(key)
        # The engine tells which reads happen (the session that reads is looked up at the
        # time of the read: one container may be kept and used by every session).
        return engine.tracked(
            reader=functools.partial(_note_read, room.name), origin=current_origin
        )

    def text(self, key: str) -> Text:
        """The collaborative text under ``key``: concurrent edits merge character-wise."""
        return cast(Text, self._container(key, "text"))

    def counter(self, key: str) -> Counter:
        """The counter under ``key``: exact when several sessions increment at once."""
        return cast(Counter, self._container(key, "counter"))

    def list(self, key: str) -> List:
        """The list under ``key``: concurrent appends are all kept, in one order."""
        return cast(List, self._container(key, "list"))

    def set(self, key: str) -> Set:
        """The add-wins set under ``key``."""
        return cast(Set, self._container(key, "set"))

    def table(self, key: str) -> Table:
        """The table under ``key``: rows by id, each cell merging on its own."""
        return cast(Table, self._container(key, "table"))


def shared_state(room: str) -> SharedState:
    """The shared state of ``room``: registers and merging containers, in every session.

    ```py
    shared = crdt_sync.shared_state("chat")
    for message in shared.list("messages"):
        st.chat_message(message["who"]).write(message["text"])
    if text := st.chat_input():
        shared.list("messages").append({"who": name, "text": text})
    ```

    A session joins the room (presence) the first time it uses it, and leaves when its
    tab closes. Values are stored with their Python types (see the codec); an unsupported
    type raises `TypeError` naming the key.

    Args:
        room: The room's name (1-200 characters, no control characters).

    Returns:
        A `SharedState`.

    Raises:
        ValueError: For an invalid room name.
    """
    state = SharedState(room)
    if runtime.session_id() is not None:
        state.enter()
    return state
