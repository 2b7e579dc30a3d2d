"""Collaborative value kinds that merge: text, counter, list, set (and `Table`, in
`table.py`).

Each is a `ValueView` of one root shared type of a `Room`: reads hold the room's lock,
changes are one room transaction. Get them from the room (``room.text("notes")``), not by
constructing them.
"""

from __future__ import annotations

import builtins
from collections.abc import Iterable, Iterator
from typing import Any, cast

from pycrdt import Array, Map
from pycrdt import Text as YText

from . import codec
from .table import Table as Table
from .text_edits import TextEdit, diff_edits, rebase_edits
from .value_view import ValueView

__all__ = ["Counter", "List", "Set", "Table", "Text"]


class Text(ValueView):
    """A text that merges character-wise: concurrent edits at different places all survive.

    ```py
    notes = room.text("notes")
    notes.update("hello world")   # turned into minimal inserts/deletes
    notes.insert(0, ">> ")
    str(notes)                    # '>> hello world'
    ```
    """

    kind = "text"
    _root: YText

    def __str__(self) -> str:
        with self._reading():
            return str(self._root)

    def __len__(self) -> int:
        return len(str(self))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, str):
            return str(self) == other
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def insert(self, index: int, text: str) -> None:
        """Insert ``text`` before character ``index`` (Python characters, not bytes)."""
        self.apply([TextEdit(index, 0, text)])

    def delete(self, index: int, count: int) -> None:
        """Delete ``count`` characters starting at ``index``."""
        self.apply([TextEdit(index, count, "")])

    def update(self, new: str, *, base: str | None = None, origin: Any = None) -> bool:
        """Make the text equal ``new`` with the smallest edits.

        Args:
            new: The wanted text.
            base: The text the change was made against, if older than the current text;
                the change ``base -> new`` is then moved onto the current text, keeping what
                others typed meanwhile (the result may differ from ``new``).
            origin: Transaction origin.

        Returns:
            True if anything changed.
        """
        if not isinstance(new, str):
            raise TypeError(f"text {self.key!r} takes a str, got {type(new).__name__}")
        with self._writing(origin):
            current = str(self._root)
            if base is None or base == current:
                edits = diff_edits(current, new)
            else:
                edits = rebase_edits(base, new, current)
            self.apply(edits, origin)
        return bool(edits)

    def apply(self, edits: Iterable[TextEdit], origin: Any = None) -> None:
        """Apply edits, last position first (as `diff_edits` returns them)."""
        with self._writing(origin):
            current = str(self._root)
            for edit in edits:
                if not 0 <= edit.index <= len(current) or edit.delete < 0:
                    raise IndexError(
                        f"text {self.key!r} in room {self.room.name!r} has {len(current)} "
                        f"characters; cannot edit at {edit.index} (delete {edit.delete})"
                    )
                # pycrdt indexes text by UTF-8 byte; convert from characters.
                start = len(current[: edit.index].encode())
                if edit.delete:
                    stop = start + len(current[edit.index : edit.index + edit.delete].encode())
                    del self._root[start:stop]
                if edit.insert:
                    self._root.insert(start, edit.insert)
                current = current[: edit.index] + edit.insert + current[edit.index + edit.delete :]


class Counter(ValueView):
    """A counter that stays exact when replicas increment at the same time.

    Each replica adds to its own entry; the value is the sum of all entries.
    """

    kind = "counter"
    _root: Map[Any]

    @property
    def value(self) -> int | float:
        """The sum of every replica's increments."""
        with self._reading():
            return cast(int, sum(codec.decode(v) for v in self._root.values()))

    def increment(self, n: int | float = 1, *, origin: Any = None) -> int | float:
        """Add ``n``. Returns the new value."""
        if isinstance(n, bool) or not isinstance(n, int | float):
            raise TypeError(f"counter {self.key!r} adds numbers, got {type(n).__name__}")
        with self._writing(origin):
            mine = str(self.room.client_id)
            self._root[mine] = codec.encode(codec.decode(self._root.get(mine, 0)) + n, self.key)
            return self.value

    def decrement(self, n: int | float = 1, *, origin: Any = None) -> int | float:
        """Subtract ``n``. Returns the new value."""
        return self.increment(-n, origin=origin)

    def __int__(self) -> int:
        return int(self.value)


class List(ValueView):
    """A list where concurrent appends and inserts are all kept, in one agreed order."""

    kind = "list"
    _root: Array[Any]

    def __len__(self) -> int:
        with self._reading():
            return len(self._root)

    def __getitem__(self, index: int | slice) -> Any:
        with self._reading():
            if isinstance(index, slice):
                return [codec.decode(v) for v in self._root[index]]
            return codec.decode(self._root[index])

    def __iter__(self) -> Iterator[Any]:
        return iter(self.to_list())

    def __delitem__(self, index: int | slice) -> None:
        with self._writing():
            del self._root[index]

    def __setitem__(self, index: int, value: Any) -> None:
        with self._writing():
            size = len(self._root)
            i = index + size if index < 0 else index
            if not 0 <= i < size:
                raise IndexError(f"list {self.key!r} index {index} out of range ({size})")
            encoded = codec.encode(value, f"{self.key}[{index}]")
            del self._root[i]
            self._root.insert(i, encoded)

    def append(self, value: Any, *, origin: Any = None) -> None:
        """Add ``value`` at the end."""
        encoded = codec.encode(value, f"{self.key}[]")
        with self._writing(origin):
            self._root.append(encoded)

    def extend(self, values: Iterable[Any], *, origin: Any = None) -> None:
        """Add ``values`` at the end, in one transaction."""
        encoded = [codec.encode(v, f"{self.key}[]") for v in values]
        with self._writing(origin):
            for value in encoded:  # pycrdt's Array.extend uses quadratic memory
                self._root.append(value)

    def insert(self, index: int, value: Any, *, origin: Any = None) -> None:
        """Insert ``value`` before ``index``."""
        encoded = codec.encode(value, f"{self.key}[{index}]")
        with self._writing(origin):
            self._root.insert(index, encoded)

    def pop(self, index: int = -1) -> Any:
        """Remove and return the item at ``index``."""
        with self._writing():
            value = codec.decode(self._root[index])
            del self._root[index]
            return value

    def clear(self) -> None:
        """Remove every item."""
        with self._writing():
            del self._root[:]

    def to_list(self) -> builtins.list[Any]:
        """The items as a plain list."""
        with self._reading():
            return [codec.decode(v) for v in self._root.to_py() or []]


class Set(ValueView):
    """An add-wins set: when one replica adds an element while another removes it, it stays."""

    kind = "set"
    _root: Map[Any]

    def _order(self) -> Array[Any]:
        root: Array[Any] = self.room.container_root(self.key, "setorder")
        return root

    def add(self, value: Any, *, origin: Any = None) -> None:
        """Add ``value`` (always a fresh add, so it wins over a concurrent removal)."""
        key = codec.element_key(value)
        encoded = codec.encode(value, f"{self.key}{{}}")
        with self._writing(origin):
            self._root[key] = encoded
            order = self._order()
            if key not in (order.to_py() or []):
                order.append(key)

    def update(self, values: Iterable[Any], *, origin: Any = None) -> None:
        """Add every value, in one transaction."""
        with self._writing(origin):
            for value in values:
                self.add(value, origin=origin)

    def discard(self, value: Any, *, origin: Any = None) -> None:
        """Remove ``value`` if present."""
        key = codec.element_key(value)
        with self._writing(origin):
            if key in self._root:
                del self._root[key]
            order = self._order()
            for i in reversed([i for i, k in enumerate(order.to_py() or []) if k == key]):
                del order[i]

    def remove(self, value: Any) -> None:
        """Remove ``value``; `KeyError` if absent."""
        if value not in self:
            raise KeyError(f"{value!r} is not in set {self.key!r} of room {self.room.name!r}")
        self.discard(value)

    def __contains__(self, value: object) -> bool:
        try:
            key = codec.element_key(value)
        except TypeError:
            return False
        with self._reading():
            return key in self._root

    def __iter__(self) -> Iterator[Any]:
        return iter(self.to_list())

    def __len__(self) -> int:
        with self._reading():
            return len(self._root)

    def to_list(self) -> builtins.list[Any]:
        """The elements in the order they were added, the same on every replica (elements
        added without an order, e.g. by a Yjs client, come last by canonical form)."""
        with self._reading():
            items = sorted(self._root.items())
            added = self._order().to_py() or []
        first: dict[str, int] = {}
        for i, key in enumerate(added):
            first.setdefault(key, i)
        items.sort(key=lambda item: (first.get(item[0], len(first)), item[0]))
        return [codec.decode(v) for _k, v in items]
