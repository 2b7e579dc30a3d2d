"""Python values <-> the JSON-shaped form stored in a room's Yjs document.

pycrdt alone loses Python types (``1`` comes back as ``1.0``, tuples as lists, bytes as
bytearray), rejects dates, Decimal and UUID, and ints >= 2**63 raise a ``PanicException``
that is not even an ``Exception``. `encode` turns a value into plain JSON values plus tagged
objects ``{"$crdt": <tag>, "v": <payload>}``, which a plain JS Yjs client can still read;
`decode` reverses it. Untagged JSON written by a JS client decodes to natural Python values:
every number arrives as a float, and an integral one becomes an int. That is why `encode`
tags integral floats: a stored plain integral number always means int.

Subclasses of int, float and str (IntEnum, ``numpy.float64``, str enums) and numpy scalars
are stored as their base type and come back as that base type; a datetime subclass (pandas
Timestamp) comes back as a plain datetime. Aware datetimes and times come back with a
fixed-offset ``datetime.timezone``. Dict key order is not kept by the document.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import logging
import math
import reprlib
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any, TypeAlias, TypeVar

TAG = "$crdt"
"""Key marking a tagged object ``{"$crdt": <tag>, "v": <payload>}`` in the stored form."""

ORDER = "$crdt_keys"
"""Key of a stored dict listing its keys in the order they were written (a Yjs map keeps
no order); absent when that order is sorted, the order a dict without it reads back in."""

_MAX_SAFE = 2**53  # beyond this a JS number (a double) cannot hold every integer
_SUPPORTED = (
    "None, bool, int, float, str, bytes, list, tuple, dict with str keys, "
    "date, time, datetime, timedelta, Decimal, UUID"
)
_log = logging.getLogger("crdt_sync.codec")

_Path: TypeAlias = tuple[str | int, ...]


def _where(key: str | None, path: _Path) -> str:
    """Render ``'cfg'['items'][2]`` for error messages (built only when an error is raised)."""
    steps = "".join(f"[{step!r}]" for step in path)
    if key is None:
        return f" at {steps}" if steps else ""
    return f" under key {key!r}{steps}"


def _unsupported(value: object, key: str | None, path: _Path) -> TypeError:
    name = type(value).__name__
    hint = ""
    if isinstance(value, (set, frozenset)):
        # A top-level set probably wants the mergeable kind; a nested one cannot be that.
        merge = f"; for a set that merges use room.set({key or 'name'!r})"
        hint = "; store it as a list or tuple" if path else merge
    elif isinstance(value, bytearray):
        hint = "; convert it with bytes(...)"
    return TypeError(
        f"cannot store a {name}{_where(key, path)}: supported types are {_SUPPORTED}{hint}"
    )


def _check_str(text: str, key: str | None, path: _Path) -> str:
    # A lone surrogate makes pycrdt panic (PanicException, a BaseException): refuse it here.
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise ValueError(
                f"cannot store a str with a lone surrogate{_where(key, path)}: {exc.reason}"
            ) from None
    return text


def _tagged(tag: str, payload: Any) -> dict[str, Any]:
    return {TAG: tag, "v": payload}


def _encode(value: object, key: str | None, path: _Path, ordered: bool = True) -> Any:
    # Order matters: bool before int (bool is an int), datetime before date (subclass).
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        n = int.__int__(value)  # the exact int, whatever a subclass's __int__/__str__ do
        return n if abs(n) < _MAX_SAFE else _tagged("int", str(n))
    if isinstance(value, float):
        x = float.__float__(value)
        if math.isfinite(x) and not x.is_integer():
            return x
        return _tagged("float", repr(x))  # 1.0, -0.0, 1e300, nan, inf: must stay floats
    if isinstance(value, str):
        return _check_str(str.__str__(value), key, path)  # str() of a str enum is its name
    if isinstance(value, list):
        return [_encode(item, key, (*path, i), ordered) for i, item in enumerate(value)]
    if isinstance(value, tuple):
        return _tagged(
            "tuple", [_encode(item, key, (*path, i), ordered) for i, item in enumerate(value)]
        )
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for k, item in value.items():
            if not isinstance(k, str):
                raise TypeError(
                    f"cannot store a dict with a {type(k).__name__} key {k!r}"
                    f"{_where(key, path)}: dict keys must be str"
                )
            out[_check_str(k, key, path)] = _encode(item, key, (*path, k), ordered)
        # A user key "$crdt" would read back as a tag: wrap such dicts.
        if TAG in out or ORDER in out:
            return _tagged("dict", out)
        names = list(out)
        if ordered and names != sorted(names):
            out[ORDER] = names  # read back in the order written, on every page
        return out
    if isinstance(value, dt.datetime):
        # The base method: a pandas Timestamp would add nanoseconds fromisoformat rejects.
        return _tagged("datetime", dt.datetime.isoformat(value))
    if isinstance(value, dt.date):
        return _tagged("date", dt.date.isoformat(value))
    if isinstance(value, dt.time):
        return _tagged("time", dt.time.isoformat(value))
    if isinstance(value, dt.timedelta):
        return _tagged("timedelta", [value.days, value.seconds, value.microseconds])
    if isinstance(value, bytes):
        return _tagged("bytes", base64.b64encode(value).decode("ascii"))
    if isinstance(value, Decimal):
        return _tagged("decimal", str(value))
    if isinstance(value, uuid.UUID):
        return _tagged("uuid", str(value))
    if _is_numpy_scalar(value):
        item = value.item()  # type: ignore[attr-defined]
        if type(item) in (bool, int, float):
            return _encode(item, key, path)
    raise _unsupported(value, key, path)


def _is_numpy_scalar(value: object) -> bool:
    # Checked by name so numpy is never imported. ndarray also lives in module "numpy" and
    # has .item(), hence ndim == 0; datetime64 .item() may give an int of nanoseconds.
    cls = type(value)
    return (
        cls.__module__ == "numpy"
        and getattr(value, "ndim", None) == 0
        and callable(getattr(value, "item", None))
        and not cls.__name__.startswith(("datetime64", "timedelta64"))
    )


def encode(value: object, key: str | None = None, *, ordered: bool = True) -> Any:
    """Turn a Python value into the JSON-shaped form stored in the document.

    Args:
        value: The value to store; see the module docstring for the supported types.
        key: The room key the value is stored under, only used in error messages.
        ordered: Record a dict's key order where it is not sorted (`ORDER`): a Yjs map
            keeps none. False for a form written out as JSON text, which keeps it.

    Returns:
        A value made only of None, bool, str, int, float, list and dict with str keys, safe to
        put into a pycrdt ``Map`` or ``Array``.

    Raises:
        TypeError: If the value, or something nested in it, has an unsupported type or is a
            dict with a non-str key; the message names the key, the path and the type.
        ValueError: If a str contains a lone surrogate (pycrdt cannot store it), or an int has
            more digits than ``sys.get_int_max_str_digits()`` allows.
    """
    return _encode(value, key, (), ordered)


def element_key(value: object) -> str:
    """Return a canonical string identifying a value, e.g. as the key of an add-wins set.

    Values of the same type and representation give the same key, whatever the dict key
    order. ``1``, ``1.0``, ``True`` and ``"1"`` give different keys, and so do values that
    are ``==`` but stored differently (``0.0`` and ``-0.0``, ``Decimal("1.1")`` and
    ``Decimal("1.10")``, the same instant in two time zones).

    Args:
        value: A value `encode` accepts.

    Returns:
        Compact JSON of the encoded value, with sorted keys.

    Raises:
        TypeError: As `encode`.
        ValueError: As `encode`.
    """
    canonical = _encode(value, None, (), ordered=False)
    return json.dumps(canonical, sort_keys=True, separators=(",", ":"), allow_nan=False)


def same_stored(a: object, b: object) -> bool:
    """Whether two values are stored the same way (`element_key` equal).

    ``1`` and ``1.0`` differ, dicts in another key order do not; a value the codec cannot
    store is the same as nothing.
    """
    try:
        return element_key(a) == element_key(b)
    except (TypeError, ValueError):
        return False


_T = TypeVar("_T")


def _expect(v: object, cls: type[_T]) -> _T:
    if not isinstance(v, cls):
        raise ValueError(f"expected a {cls.__name__}, got {type(v).__name__}")
    return v


def _plain_dict(raw: dict[Any, Any]) -> dict[Any, Any]:
    """A stored dict, in the order it was written (sorted when that is not recorded)."""
    items = {k: decode(item) for k, item in raw.items() if k != ORDER}
    order = raw.get(ORDER)
    if not (isinstance(order, list) and len(order) == len(items) and set(order) == set(items)):
        order = sorted(items, key=str)
    return {k: items[k] for k in order}


def _user_dict(raw: dict[Any, Any]) -> dict[Any, Any]:
    return {k: decode(item) for k, item in raw.items()}


def _timedelta(v: object) -> dt.timedelta:
    parts = [decode(p) for p in _expect(v, list)]
    if len(parts) != 3 or not all(type(p) is int for p in parts):
        raise ValueError("expected [days, seconds, microseconds] as integers")
    return dt.timedelta(days=parts[0], seconds=parts[1], microseconds=parts[2])


# Each decoder raises ValueError, TypeError or ArithmeticError on a malformed payload.
_DECODERS: dict[str, Callable[[object], Any]] = {
    "int": lambda v: int(_expect(v, str)),
    "float": lambda v: float(_expect(v, str)),
    "tuple": lambda v: tuple(decode(item) for item in _expect(v, list)),
    "dict": lambda v: _user_dict(_expect(v, dict)),  # not decode(): its "$crdt" is user data
    "datetime": lambda v: dt.datetime.fromisoformat(_expect(v, str)),
    "date": lambda v: dt.date.fromisoformat(_expect(v, str)),
    "time": lambda v: dt.time.fromisoformat(_expect(v, str)),
    "timedelta": _timedelta,
    "bytes": lambda v: base64.b64decode(_expect(v, str), validate=True),
    "decimal": lambda v: Decimal(_expect(v, str)),
    "uuid": lambda v: uuid.UUID(_expect(v, str)),
}


def _decode_tagged(raw: dict[Any, Any]) -> Any:
    tag = raw[TAG]
    decoder = _DECODERS.get(tag) if isinstance(tag, str) else None
    if decoder is None or raw.keys() != {TAG, "v"}:
        _log.warning("not a known %s object, kept as a dict: %s", TAG, reprlib.repr(raw))
        return _plain_dict(raw)
    try:
        return decoder(raw["v"])
    # binascii.Error and UnicodeError are ValueErrors; decimal's errors are ArithmeticErrors.
    except (ValueError, TypeError, ArithmeticError) as exc:
        _log.warning("bad %r value %s, kept as a dict: %s", tag, reprlib.repr(raw["v"]), exc)
        return _plain_dict(raw)


def decode(raw: object) -> Any:
    """Turn a value read from the document back into the Python value.

    Never raises on data from the document: an unknown or malformed tagged object is returned
    as a plain dict (with its values decoded) and logged as a warning on the
    ``crdt_sync.codec`` logger.

    Args:
        raw: A value as pycrdt returns it: numbers as floats, bytes as bytearray, lists, dicts.

    Returns:
        The Python value. Integral floats below 2**53 in magnitude become ints (JS writes
        ``42`` as a number); other floats stay floats; bytearray becomes bytes.
    """
    if isinstance(raw, float):
        if raw.is_integer() and abs(raw) < _MAX_SAFE:
            return int(raw)
        return raw
    if isinstance(raw, list):
        return [decode(item) for item in raw]
    if isinstance(raw, dict):
        return _decode_tagged(raw) if TAG in raw else _plain_dict(raw)
    if isinstance(raw, bytearray):  # a JS Uint8Array
        return bytes(raw)
    return raw  # None, bool, int, str, bytes, or anything else: as is
