"""Room: one Yjs document with a typed, thread-safe, Pythonic face.

A room is a mutable mapping of *registers* (``room["level"] = 3``; last writer wins per
key) plus named *containers* that merge (``room.text("notes")``, ``room.counter(...)``,
``room.list(...)``, ``room.set(...)``, ``room.table(...)``). Keys share one namespace;
`layout` says where each lives in the document (readable by any Yjs client, see the README).

Transactions, listeners, merging and undo come from `Document`: every access holds the
room's lock, observers run after the transaction, and ``merge`` holds back an update until
the updates before it have arrived.
"""

from __future__ import annotations

import builtins
from collections.abc import Iterable, Iterator, MutableMapping
from typing import TYPE_CHECKING, Any, cast

from . import codec
from .document import DEFAULT_MAX_UPDATE_SIZE, REMOTE, Document
from .errors import KindMismatch, NoHistory
from .held_back import DEFAULT_MAX_HELD_BACK_BYTES
from .observers import ChangeHook, ResyncHook, UpdateHook
from .types import Kind
from .undo import UndoHistory
from .values import Counter, List, Set, Table
from .values import Text as SharedText

if TYPE_CHECKING:
    import datetime as dt

    from .history import RoomHistory
    from .types import Origin

__all__ = [
    "DEFAULT_MAX_HELD_BACK_BYTES",
    "DEFAULT_MAX_UPDATE_SIZE",
    "REMOTE",
    "ChangeHook",
    "ResyncHook",
    "Room",
    "UndoHistory",
    "UpdateHook",
]

_WRAPPERS: dict[str, type[Any]] = {
    "text": SharedText,
    "counter": Counter,
    "list": List,
    "set": Set,
    "table": Table,
}
_MISSING = object()


class Room(Document, MutableMapping[str, Any]):
    """One collaborative document: registers plus containers that merge.

    ```py
    room = Room("plans")
    room["level"] = 3
    room.text("notes").update("first draft")
    other = Room("plans")
    other.merge(room.export())
    ```

    Args:
        name: The room's name, used in messages and by stores.
        max_update_size: The largest update ``merge`` accepts, in bytes.
        max_held_back_bytes: The most bytes of updates ``merge`` holds back for their
            predecessors; beyond it the oldest are dropped and resync hooks are called.
        client_id: The Yjs client id of this replica (random when omitted).
    """

    history: RoomHistory | None = None
    """Who changed what, past states and restore (`RoomHistory`); None for a bare room or
    a store with history off."""

    def restore(
        self,
        at: str | dt.datetime,
        keys: Iterable[str] | None = None,
        origin: Origin | None = None,
    ) -> builtins.list[str]:
        """Write the state at a past version forward, as one change (see
        `RoomHistory.restore`).

        ```py
        room.restore("12", keys=["filters"], origin="ann")   # -> ["filters"]
        ```

        Args:
            at: A version id, an ISO 8601 time or a datetime.
            keys: Only these keys; None: the whole room.
            origin: Who restores (default: ``"restore"``).

        Returns:
            The keys that changed.

        Raises:
            NoHistory: If the room has no history (a bare ``Room()``).
            UnknownVersion: If ``at`` is not in its history.
        """
        if self.history is None:
            raise NoHistory(self.name)
        if origin is None:
            return self.history.restore(at, keys=keys)
        return self.history.restore(at, keys=keys, origin=origin)

    # ------------------------------------------------------------------ registers

    def __getitem__(self, key: str) -> Any:
        with self._lock:
            kind = self._layout.kinds.get(key)
            if kind not in (None, "register"):
                raise KindMismatch(self.name, key, kind, "register")
            raw = self._layout.registers.get(key, _MISSING)
            if raw is _MISSING:
                raise KeyError(f"no key {key!r} in room {self.name!r}")
            return codec.decode(raw)

    def __setitem__(self, key: str, value: Any) -> None:
        if not isinstance(key, str):
            raise TypeError(f"room keys are str, got {type(key).__name__}: {key!r}")
        encoded = codec.encode(value, key)
        with self.transaction():
            kind = self._layout.kinds.get(key)
            if kind is None:
                self._layout.kinds[key] = "register"
            elif kind != "register":
                raise KindMismatch(self.name, key, kind, "register")
            self._layout.registers[key] = encoded

    def __delitem__(self, key: str) -> None:
        with self.transaction():
            kind = self._layout.kinds.get(key)
            if kind not in (None, "register"):
                raise KindMismatch(self.name, key, kind, "register")
            if key not in self._layout.registers:
                raise KeyError(f"no key {key!r} in room {self.name!r}")
            del self._layout.registers[key]
            if kind is not None:
                del self._layout.kinds[key]

    def __iter__(self) -> Iterator[str]:
        with self._lock:
            keys = [
                k
                for k in self._layout.registers.keys()
                if self._layout.kinds.get(k) in (None, "register")
            ]
        return iter(keys)

    def __len__(self) -> int:
        return len(list(iter(self)))

    def __contains__(self, key: object) -> bool:
        with self._lock:
            return (
                isinstance(key, str)
                and key in self._layout.registers
                and self._layout.kinds.get(key) in (None, "register")
            )

    def __repr__(self) -> str:
        return f"Room({self.name!r})"

    def snapshot(self) -> dict[str, Any]:
        """All registers as a plain dict (one lock, one pass).

        Returns:
            key -> decoded value.
        """
        with self._lock:
            return {
                k: codec.decode(v)
                for k, v in self._layout.registers.items()
                if self._layout.kinds.get(k) in (None, "register")
            }

    def kinds(self) -> dict[str, Kind]:
        """What every key holds, registers and containers alike.

        Returns:
            key -> kind.
        """
        with self._lock:
            found: dict[str, Kind] = {k: cast(Kind, v) for k, v in self._layout.kinds.items()}
            for k in self._layout.registers.keys():
                found.setdefault(k, "register")
            return found

    def kind(self, key: str) -> Kind | None:
        """What ``key`` holds, or None if nothing."""
        with self._lock:
            kind = self._layout.kinds.get(key)
            if kind is None and key in self._layout.registers:
                kind = "register"
            return cast("Kind | None", kind)

    # ------------------------------------------------------------------ containers

    def text(self, key: str) -> SharedText:
        """The collaborative text under ``key`` (created empty if missing).

        Raises:
            KindMismatch: If ``key`` holds another kind of value.
        """
        return cast(SharedText, self._container(key, "text"))

    def counter(self, key: str) -> Counter:
        """The counter under ``key``: exact under concurrent increments."""
        return cast(Counter, self._container(key, "counter"))

    def list(self, key: str) -> List:
        """The list under ``key``: concurrent appends and inserts are all kept."""
        return cast(List, self._container(key, "list"))

    def set(self, key: str) -> Set:
        """The add-wins set under ``key``."""
        return cast(Set, self._container(key, "set"))

    def table(self, key: str) -> Table:
        """The table under ``key``: rows by id, each cell its own register."""
        return cast(Table, self._container(key, "table"))

    def _container(self, key: str, kind: str) -> Any:
        if not isinstance(key, str) or not key:
            raise TypeError(f"container keys are non-empty str, got {key!r}")
        with self._lock:
            holds = self._layout.kinds.get(key)
            wrapper = self._layout.views.get(key)
            if wrapper is not None and wrapper.kind == kind == holds:
                return wrapper
            if holds is None and key in self._layout.registers:
                holds = "register"
            if holds not in (None, kind):
                # Also when a concurrent creation of another kind won this key.
                raise KindMismatch(self.name, key, str(holds), kind)
            if holds is None:
                with self.transaction():
                    self._layout.kinds[key] = kind
                    root = self._layout.root(key, kind)
            else:
                root = self._layout.root(key, kind)
            wrapper = _WRAPPERS[kind](self, key, root)
            self._layout.views[key] = wrapper
            return wrapper
