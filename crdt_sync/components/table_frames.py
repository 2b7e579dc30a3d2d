"""Shared tables as pandas frames: column kinds, typed cell values, seeding a table.

The pandas side of `crdt_sync.data_editor`; the change computation is in `table_edits`.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from typing import Any, Literal

import pandas as pd

from ..doc import Table

ColumnKind = Literal["int", "float", "bool", "str", "date", "datetime", "time"]
"""How a column's values are typed (kept through edits)."""


def column_kinds(data: pd.DataFrame | None, table: Table) -> dict[str, ColumnKind]:
    """Each column's value type: from ``data``'s dtypes, else from the stored values."""
    kinds: dict[str, ColumnKind] = {}
    if data is not None:
        for column in data.columns:
            kinds[str(column)] = _kind_of_series(data[column])
    for cells in table.rows().values():
        for column, value in cells.items():
            if column not in kinds and value is not None:
                kinds[column] = _kind_of_value(value)
    return kinds


def _kind_of_series(series: pd.Series) -> ColumnKind:
    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return "bool"
    if pd.api.types.is_integer_dtype(dtype):
        return "int"
    if pd.api.types.is_float_dtype(dtype):
        return "float"
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return "datetime"
    for value in series:
        if value is not None and not (isinstance(value, float) and math.isnan(value)):
            return _kind_of_value(value)
    return "str"


def _kind_of_value(value: object) -> ColumnKind:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, dt.datetime):
        return "datetime"
    if isinstance(value, dt.date):
        return "date"
    if isinstance(value, dt.time):
        return "time"
    return "str"


def to_python(value: Any, kind: ColumnKind) -> Any:
    """A value from pandas/numpy or from the editor's JSON, as the column's Python type.

    Missing values (None, NaN, NaT, ``pd.NA``, "") become None.
    """
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if hasattr(value, "item") and not isinstance(value, str | bytes):
        value = value.item()  # numpy scalar -> Python
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, str) and not value.strip() and kind != "str":
        return None
    if kind == "bool":
        return value.lower() in ("true", "1", "yes") if isinstance(value, str) else bool(value)
    if kind == "int":
        number = float(value)
        return int(number) if number.is_integer() else number
    if kind == "float":
        return float(value)
    if kind == "datetime":
        if isinstance(value, pd.Timestamp):
            return value.to_pydatetime()
        if isinstance(value, dt.datetime):
            return value
        if isinstance(value, int | float):
            return dt.datetime.fromtimestamp(value / 1000, dt.timezone.utc).replace(tzinfo=None)
        return dt.datetime.fromisoformat(str(value))
    if kind == "date":
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, dt.date):
            return value
        if isinstance(value, int | float):
            return dt.datetime.fromtimestamp(value / 1000, dt.timezone.utc).date()
        return dt.date.fromisoformat(str(value)[:10])
    if kind == "time":
        if isinstance(value, dt.time):
            return value
        return dt.time.fromisoformat(str(value))
    return str(value)


def seed(table: Table, data: pd.DataFrame, kinds: Mapping[str, ColumnKind]) -> int:
    """Add the rows of ``data`` the table has never had (by index label). Returns how many.

    Rows someone deleted are not brought back; rows someone edited are left as they are.
    """
    added = 0
    for label, row in data.iterrows():
        row_id = str(label)
        if row_id in table:
            continue
        values = {str(c): to_python(v, kinds[str(c)]) for c, v in row.items()}
        try:
            table.add_row(values, row_id=row_id)
        except KeyError:
            continue  # deleted: stays deleted
        added += 1
    return added


def to_frame(
    rows: Mapping[str, Mapping[str, Any]], kinds: Mapping[str, ColumnKind], *, index: bool = False
) -> pd.DataFrame:
    """Table rows as a DataFrame with typed columns; indexed by row id if ``index``, else
    by position (what ``st.data_editor`` needs to let people add rows)."""
    ids = list(rows)
    labels = pd.Index(ids, dtype="object") if index else pd.RangeIndex(len(ids))
    columns = {
        column: _series([rows[r].get(column) for r in ids], kind, labels)
        for column, kind in kinds.items()
    }
    return pd.DataFrame(columns, index=labels)


def _series(values: list[Any], kind: ColumnKind, index: pd.Index) -> pd.Series:
    if kind == "int":
        if all(v is None or (isinstance(v, int) and not isinstance(v, bool)) for v in values):
            return pd.Series(values, index=index, dtype="Int64")
        return pd.Series(values, index=index, dtype="float64")
    if kind == "float":
        return pd.Series(
            [math.nan if v is None else v for v in values], index=index, dtype="float64"
        )
    if kind == "bool":
        return pd.Series(values, index=index, dtype="boolean")
    if kind == "datetime":
        return pd.Series(pd.to_datetime(values), index=index)
    return pd.Series(values, index=index, dtype="object")
