"""Read-only views of values read from shared state.

A list or dict stored as a register is a *value*: what a session reads is its own copy,
and changing that copy in place would change nothing anyone else sees, silently (the trap
users of streamlit-server-state fall into most). So values come back frozen: a
`FrozenList` or `FrozenDict` is a real ``list`` / ``dict`` (``json.dumps``, ``st.write``,
``isinstance`` and ``==`` work) whose in-place changes raise `FrozenValueError`, whose
message says what to do instead. ``list(v)``, ``dict(v)``, ``copy.copy`` and
``copy.deepcopy`` give ordinary, mutable copies; ``v + [x]`` gives an ordinary list.

```py
messages = shared["messages"]          # FrozenList
messages.append("hi")                  # FrozenValueError: ... use shared.list('messages')
shared["messages"] = [*messages, "hi"] # fine: a new value
```
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NoReturn, SupportsIndex, TypeVar

_F = TypeVar("_F", bound=Callable[..., Any])


class FrozenValueError(TypeError):
    """A value read from shared state was changed in place; nobody else would see it.

    Attributes:
        room: The room the value was read from.
        path: Where the value was found, e.g. ``"messages"`` or ``"cfg['items']"``.
        method: The method that was called, e.g. ``"append"``.
    """

    def __init__(self, room: str, path: str, kind: str, method: str, advice: str) -> None:
        self.room, self.path, self.method = room, path, method
        super().__init__(
            f"{path} read from room {room!r} is a stored value, not a live {kind}: "
            f"{kind}.{method}() would change only this session's copy and nobody else would "
            f"see it. {advice}"
        )


def _path(key: str, steps: tuple[str | int, ...]) -> str:
    return repr(key) if not steps else repr(key) + "".join(f"[{s!r}]" for s in steps)


def thaw(value: Any) -> Any:
    """An ordinary, mutable deep copy of a value that may contain frozen parts."""
    if isinstance(value, list):
        return [thaw(v) for v in value]
    if isinstance(value, dict):
        return {k: thaw(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return tuple(thaw(v) for v in value)
    return value


def freeze(
    value: Any, *, room: str, key: str, advice: Callable[[str, str, bool], str] | None = None
) -> Any:
    """Turn lists and dicts, at any depth, into `FrozenList` and `FrozenDict`.

    Args:
        value: A value decoded from a room.
        room: The room's name (for error messages).
        key: The key it was read under (for error messages).
        advice: ``advice(key, kind, nested)`` -> what the error message recommends
            instead (``nested``: the value sits inside the stored one); the default points
            to ``shared.list(key)`` and to assigning a new value.

    Returns:
        The frozen value; other values unchanged.
    """
    return _freeze(value, room, key, (), advice or _default_advice)


def _default_advice(key: str, kind: str, nested: bool) -> str:
    if nested:
        return (
            f"Change a copy and assign it back: value = copy.deepcopy(shared[{key!r}]); "
            f"...; shared[{key!r}] = value."
        )
    if kind == "list":
        return (
            f"Assign a new value (shared[{key!r}] = [*shared[{key!r}], item]), or keep a "
            f"list that merges concurrent appends with shared.list({key!r})."
        )
    return f"Assign a new value: shared[{key!r}] = {{**shared[{key!r}], name: value}}."


def _freeze(
    value: Any,
    room: str,
    key: str,
    steps: tuple[str | int, ...],
    advice: Callable[[str, str, bool], str],
) -> Any:
    if isinstance(value, list):
        items = [_freeze(v, room, key, (*steps, i), advice) for i, v in enumerate(value)]
        return FrozenList(items, _where=(room, _path(key, steps), advice(key, "list", bool(steps))))
    if isinstance(value, dict):
        items_d = {k: _freeze(v, room, key, (*steps, k), advice) for k, v in value.items()}
        return FrozenDict(
            items_d, _where=(room, _path(key, steps), advice(key, "dict", bool(steps)))
        )
    if isinstance(value, tuple):
        return tuple(_freeze(v, room, key, (*steps, i), advice) for i, v in enumerate(value))
    return value


_Where = tuple[str, str, str]  # room, path, advice


class PlainCopies(list[Any]):
    """A list subclass whose copies, pickles and repr are those of a plain ``list``: what
    was read from a room copies into an ordinary, independent value."""

    __slots__ = ()

    def __copy__(self) -> list[Any]:
        return list(self)

    def __deepcopy__(self, memo: dict[int, Any]) -> Any:
        return thaw(self)

    def __reduce__(self) -> tuple[Any, ...]:
        return (list, (thaw(self),))

    def __repr__(self) -> str:
        return list.__repr__(self)


class FrozenList(PlainCopies):
    """A ``list`` read from shared state; in-place changes raise `FrozenValueError`."""

    __slots__ = ("_where",)

    def __init__(self, items: Any = (), *, _where: _Where = ("?", "value", "")) -> None:
        list.__init__(self, items)
        self._where = _where

    def _refuse(self, method: str) -> NoReturn:
        room, path, advice = self._where
        raise FrozenValueError(room, path, "list", method, advice)

    def append(self, value: Any, /) -> NoReturn:
        self._refuse("append")

    def extend(self, values: Any, /) -> NoReturn:
        self._refuse("extend")

    def insert(self, index: SupportsIndex, value: Any, /) -> NoReturn:
        self._refuse("insert")

    def remove(self, value: Any, /) -> NoReturn:
        self._refuse("remove")

    def pop(self, index: SupportsIndex = -1, /) -> NoReturn:
        self._refuse("pop")

    def clear(self) -> NoReturn:
        self._refuse("clear")

    def sort(self, *args: Any, **kwargs: Any) -> NoReturn:
        self._refuse("sort")

    def reverse(self) -> NoReturn:
        self._refuse("reverse")

    def __setitem__(self, index: Any, value: Any) -> NoReturn:
        self._refuse("__setitem__")

    def __delitem__(self, index: Any) -> NoReturn:
        self._refuse("__delitem__")

    def __iadd__(self, values: Any) -> NoReturn:  # type: ignore[misc]
        self._refuse("__iadd__")

    def __imul__(self, n: Any) -> NoReturn:  # type: ignore[misc]
        self._refuse("__imul__")


class FrozenDict(dict[Any, Any]):
    """A ``dict`` read from shared state; in-place changes raise `FrozenValueError`."""

    __slots__ = ("_where",)

    def __init__(self, items: Any = (), *, _where: _Where = ("?", "value", "")) -> None:
        dict.__init__(self, items)
        self._where = _where

    def _refuse(self, method: str) -> NoReturn:
        room, path, advice = self._where
        raise FrozenValueError(room, path, "dict", method, advice)

    def __setitem__(self, key: Any, value: Any) -> NoReturn:
        self._refuse("__setitem__")

    def __delitem__(self, key: Any) -> NoReturn:
        self._refuse("__delitem__")

    def clear(self) -> NoReturn:
        self._refuse("clear")

    def pop(self, *args: Any) -> NoReturn:
        self._refuse("pop")

    def popitem(self) -> NoReturn:
        self._refuse("popitem")

    def setdefault(self, *args: Any) -> NoReturn:
        self._refuse("setdefault")

    def update(self, *args: Any, **kwargs: Any) -> NoReturn:
        self._refuse("update")

    def __ior__(self, other: Any) -> NoReturn:  # type: ignore[misc]
        self._refuse("__ior__")

    def __copy__(self) -> dict[Any, Any]:
        return dict(self)

    def __deepcopy__(self, memo: dict[int, Any]) -> Any:
        return thaw(self)

    def __reduce__(self) -> tuple[Any, ...]:
        return (dict, (thaw(self),))

    def __repr__(self) -> str:
        return dict.__repr__(self)
