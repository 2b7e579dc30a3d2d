"""`Table`: rows by id, each cell its own register, in one root of a room."""

from __future__ import annotations

import builtins
import uuid
from collections.abc import Iterator, Mapping
from typing import Any

from pycrdt import Map

from . import codec
from .value_view import ValueView

_SEP = "\x1f"


class Table(ValueView):
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
        with self._writing(origin):
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
        with self._writing(origin):
            if row not in self:
                raise KeyError(f"no row {row!r} in table {self.key!r} of room {self.room.name!r}")
            self._root[f"c{_SEP}{row}{_SEP}{column}"] = encoded

    def update_row(self, row: str, values: Mapping[str, Any], *, origin: Any = None) -> None:
        """Set several cells of one row in one transaction."""
        with self._writing(origin):
            for column, value in values.items():
                self.set_cell(row, column, value, origin=origin)

    def get_cell(self, row: str, column: str, default: Any = None) -> Any:
        """One cell's value (``default`` if unset)."""
        with self._reading():
            raw = self._root.get(f"c{_SEP}{row}{_SEP}{column}", None)
        return default if raw is None else codec.decode(raw)

    def delete_row(self, row: str, *, origin: Any = None) -> None:
        """Delete a row for good."""
        with self._writing(origin):
            if row not in self:
                raise KeyError(f"no row {row!r} in table {self.key!r} of room {self.room.name!r}")
            self._root[f"d{_SEP}{row}"] = True
            prefix = f"c{_SEP}{row}{_SEP}"
            for key in [k for k in self._root.keys() if k.startswith(prefix)]:
                del self._root[key]

    def rows(self) -> dict[str, dict[str, Any]]:
        """Every live row, in order: row id -> {column: value}."""
        with self._reading():
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
        with self._reading():
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
