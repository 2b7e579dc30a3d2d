"""Collaborative value kinds that merge: text, counter, list, set, table.

Each is a thin, typed view of one root shared type of a `Room`; every method takes the
room's lock (`Document.lock`) and writes in one room transaction. Get them from the room
(``room.text("notes")``), not by constructing them.
"""

from __future__ import annotations

import builtins
import uuid
from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, cast

from pycrdt import Array, Map
from pycrdt import Text as YText

from . import codec
from .text_edits import TextEdit, diff_edits, rebase_edits

if TYPE_CHECKING:
    from .document import Document


class _Value:
    kind = ""

    def __init__(self, room: Document, key: str, root: Any) -> None:
        self.room = room
        self.key = key
        self._root = root

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.room.name!r}, {self.key!r})"


class Text(_Value):
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
        with self.room.lock:
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
        with self.room.transaction(origin):
            current = str(self._root)
            if base is None or base == current:
                edits = diff_edits(current, new)
            else:
                edits = rebase_edits(base, new, current)
            self.apply(edits)
        return bool(edits)

    def apply(self, edits: Iterable[TextEdit], origin: Any = None) -> None:
        """Apply edits, last position first (as `diff_edits` returns them)."""
        with self.room.transaction(origin):
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


class Counter(_Value):
    """A counter that stays exact when replicas increment at the same time.

    Each replica adds to its own entry; the value is the sum of all entries.
    """

    kind = "counter"
    _root: Map[Any]

    @property
    def value(self) -> int | float:
        """The sum of every replica's increments."""
        with self.room.lock:
            return cast(int, sum(codec.decode(v) for v in self._root.values()))

    def increment(self, n: int | float = 1, *, origin: Any = None) -> int | float:
        """Add ``n``. Returns the new value."""
        if isinstance(n, bool) or not isinstance(n, int | float):
            raise TypeError(f"counter {self.key!r} adds numbers, got {type(n).__name__}")
        with self.room.transaction(origin):
            mine = str(self.room.client_id)
            self._root[mine] = codec.encode(codec.decode(self._root.get(mine, 0)) + n, self.key)
            return self.value

    def decrement(self, n: int | float = 1, *, origin: Any = None) -> int | float:
        """Subtract ``n``. Returns the new value."""
        return self.increment(-n, origin=origin)

    def __int__(self) -> int:
        return int(self.value)


class List(_Value):
    """A list where concurrent appends and inserts are all kept, in one agreed order."""

    kind = "list"
    _root: Array[Any]

    def __len__(self) -> int:
        with self.room.lock:
            return len(self._root)

    def __getitem__(self, index: int | slice) -> Any:
        with self.room.lock:
            if isinstance(index, slice):
                return [codec.decode(v) for v in self._root[index]]
            return codec.decode(self._root[index])

    def __iter__(self) -> Iterator[Any]:
        return iter(self.to_list())

    def __delitem__(self, index: int | slice) -> None:
        with self.room.transaction():
            del self._root[index]

    def __setitem__(self, index: int, value: Any) -> None:
        with self.room.transaction():
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
        with self.room.transaction(origin):
            self._root.append(encoded)

    def extend(self, values: Iterable[Any], *, origin: Any = None) -> None:
        """Add ``values`` at the end, in one transaction."""
        encoded = [codec.encode(v, f"{self.key}[]") for v in values]
        with self.room.transaction(origin):
            for value in encoded:  # pycrdt's Array.extend uses quadratic memory
                self._root.append(value)

    def insert(self, index: int, value: Any, *, origin: Any = None) -> None:
        """Insert ``value`` before ``index``."""
        encoded = codec.encode(value, f"{self.key}[{index}]")
        with self.room.transaction(origin):
            self._root.insert(index, encoded)

    def pop(self, index: int = -1) -> Any:
        """Remove and return the item at ``index``."""
        with self.room.transaction():
            value = codec.decode(self._root[index])
            del self._root[index]
            return value

    def clear(self) -> None:
        """Remove every item."""
        with self.room.transaction():
            del self._root[:]

    def to_list(self) -> builtins.list[Any]:
        """The items as a plain list."""
        with self.room.lock:
            return [codec.decode(v) for v in self._root.to_py() or []]


class Set(_Value):
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
        with self.room.transaction(origin):
            self._root[key] = encoded
            order = self._order()
            if key not in (order.to_py() or []):
                order.append(key)

    def update(self, values: Iterable[Any], *, origin: Any = None) -> None:
        """Add every value, in one transaction."""
        with self.room.transaction(origin):
            for value in values:
                self.add(value)

    def discard(self, value: Any, *, origin: Any = None) -> None:
        """Remove ``value`` if present."""
        key = codec.element_key(value)
        with self.room.transaction(origin):
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
        with self.room.lock:
            return key in self._root

    def __iter__(self) -> Iterator[Any]:
        return iter(self.to_list())

    def __len__(self) -> int:
        with self.room.lock:
            return len(self._root)

    def to_list(self) -> builtins.list[Any]:
        """The elements in the order they were added, the same on every replica (elements
        added without an order, e.g. by a Yjs client, come last by canonical form)."""
        with self.room.lock:
            items = sorted(self._root.items())
            added = self._order().to_py() or []
        first: dict[str, int] = {}
        for i, key in enumerate(added):
            first.setdefault(key, i)
        items.sort(key=lambda item: (first.get(item[0], len(first)), item[0]))
        return [codec.decode(v) for _k, v in items]


_SEP = "\x1f"


class Table(_Value):
    """Rows by id, each cell its own register: edits of different cells all win.

    A deleted row stays deleted even if someone edits one of its cells at the same time.
    Rows keep the order they were added in (ties between concurrent adds broken by id).
    """

    kind = "table"
    _root: Map[Any]

    def add_row(
        self,
        values: Mapping[str, Any] | None = None,
        *,
        row_id: str | None = None,
        origin: Any = None,
    ) -> str:
        """Add a row. Returns its id (a new random id unless given)."""
        row = uuid.uuid4().hex[:12] if row_id is None else row_id
        self._check_id(row)
        encoded = {
            c: codec.encode(v, f"{self.key}[{row!r}][{c!r}]") for c, v in (values or {}).items()
        }
        with self.room.transaction(origin):
            if self._root.get(f"d{_SEP}{row}"):
                raise KeyError(f"row {row!r} of table {self.key!r} was deleted")
            if f"r{_SEP}{row}" not in self._root:
                positions = [float(v) for k, v in self._root.items() if k.startswith(f"r{_SEP}")]
                self._root[f"r{_SEP}{row}"] = max(positions, default=0.0) + 1.0
            for column, value in encoded.items():
                self._root[f"c{_SEP}{row}{_SEP}{column}"] = value
        return row

    def set_cell(self, row: str, column: str, value: Any, *, origin: Any = None) -> None:
        """Set one cell of an existing row."""
        encoded = codec.encode(value, f"{self.key}[{row!r}][{column!r}]")
        with self.room.transaction(origin):
            if row not in self:
                raise KeyError(f"no row {row!r} in table {self.key!r} of room {self.room.name!r}")
            self._root[f"c{_SEP}{row}{_SEP}{column}"] = encoded

    def update_row(self, row: str, values: Mapping[str, Any], *, origin: Any = None) -> None:
        """Set several cells of one row in one transaction."""
        with self.room.transaction(origin):
            for column, value in values.items():
                self.set_cell(row, column, value)

    def get_cell(self, row: str, column: str, default: Any = None) -> Any:
        """One cell's value (``default`` if unset)."""
        with self.room.lock:
            raw = self._root.get(f"c{_SEP}{row}{_SEP}{column}", None)
        return default if raw is None else codec.decode(raw)

    def delete_row(self, row: str, *, origin: Any = None) -> None:
        """Delete a row for good."""
        with self.room.transaction(origin):
            if row not in self:
                raise KeyError(f"no row {row!r} in table {self.key!r} of room {self.room.name!r}")
            self._root[f"d{_SEP}{row}"] = True
            prefix = f"c{_SEP}{row}{_SEP}"
            for key in [k for k in self._root.keys() if k.startswith(prefix)]:
                del self._root[key]

    def rows(self) -> dict[str, dict[str, Any]]:
        """Every live row, in order: row id -> {column: value}."""
        with self.room.lock:
            items = list(self._root.items())
        positions: dict[str, float] = {}
        deleted: builtins.set[str] = set()
        cells: dict[str, dict[str, Any]] = {}
        for key, raw in items:
            tag, _, rest = key.partition(_SEP)
            if tag == "r":
                positions[rest] = float(raw)
            elif tag == "d":
                deleted.add(rest)
            elif tag == "c":
                row, _, column = rest.partition(_SEP)
                cells.setdefault(row, {})[column] = codec.decode(raw)
        order = sorted((pos, row) for row, pos in positions.items() if row not in deleted)
        return {row: cells.get(row, {}) for _pos, row in order}

    def columns(self) -> builtins.list[str]:
        """Column names in first-seen order over the rows."""
        seen: dict[str, None] = {}
        for cells in self.rows().values():
            for column in cells:
                seen.setdefault(column, None)
        return list(seen)

    def __contains__(self, row: object) -> bool:
        with self.room.lock:
            return (
                isinstance(row, str)
                and f"r{_SEP}{row}" in self._root
                and not self._root.get(f"d{_SEP}{row}", False)
            )

    def __iter__(self) -> Iterator[str]:
        return iter(self.rows())

    def __len__(self) -> int:
        return len(self.rows())

    def _check_id(self, row: str) -> None:
        if not isinstance(row, str) or not row or _SEP in row:
            raise ValueError(f"row ids are non-empty str without \\x1f, got {row!r}")
