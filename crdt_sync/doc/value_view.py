"""`ValueView`: what every container of a room (text, counter, list, set, table) is.

A view is a thin, typed handle on one root shared type of a room. Every method that reads
the content goes through `ValueView._reading` (the room's lock, and the view's *reader*
told which key was read); every method that changes it goes through `ValueView._writing`
(one room transaction, with the view's default origin when the caller gives none). So a
program that wants to know what was read and on whose behalf changes are made, as the
Streamlit bridge does for `shared_state`, asks for a `tracked` view instead of wrapping
each method: a new method is tracked by construction.

```py
seen = []
notes = room.text("notes").tracked(reader=seen.append, origin=lambda: "ann")
str(notes)            # seen == ["notes"]
notes.insert(0, "a")  # one transaction with origin "ann"
```
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import TYPE_CHECKING, Any, TypeVar

from .types import Origin

if TYPE_CHECKING:
    from .document import Document

Reader = Callable[[str], object]
"""Told the key whose content a view read."""

OriginSource = Callable[[], Origin | None]
"""Gives the origin of a change made through a view when the caller names none."""

V = TypeVar("V", bound="ValueView")


class ValueView:
    """The base of every container view.

    Args:
        room: The room (its `Document` surface: ``lock``, ``transaction``, ``name``).
        key: The container's key.
        root: The pycrdt root holding it.
        reader: Called with ``key`` whenever the content is read (see `tracked`).
        origin: Gives the origin of changes made without an explicit one.
    """

    kind = ""

    def __init__(
        self,
        room: Document,
        key: str,
        root: Any,
        *,
        reader: Reader | None = None,
        origin: OriginSource | None = None,
    ) -> None:
        self.room = room
        self.key = key
        self._root = root
        self._reader = reader
        self._origin = origin

    def tracked(self: V, *, reader: Reader | None, origin: OriginSource | None) -> V:
        """The same container, telling ``reader`` of every read and writing with ``origin``.

        Args:
            reader: Called with the key whenever the content is read.
            origin: Gives the origin of a change made without an explicit one.

        Returns:
            A new view of the same root.
        """
        return type(self)(self.room, self.key, self._root, reader=reader, origin=origin)

    def _reading(self) -> AbstractContextManager[object]:
        """Hold the room's lock around a read of the content, and report it."""
        if self._reader is not None:
            self._reader(self.key)
        return self.room.lock

    @contextmanager
    def _writing(self, origin: Origin | None = None) -> Iterator[None]:
        """One room transaction for a change (``origin``, else the view's default)."""
        if origin is None and self._origin is not None:
            origin = self._origin()
        with self.room.transaction(origin):
            yield

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.room.name!r}, {self.key!r})"
