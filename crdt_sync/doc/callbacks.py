"""Callbacks: a list of listeners that code adds to and removes from under a lock.

Rooms (observers, hooks), the hub (subscribers) and the stores' links (status listeners)
all keep such lists; each guards it with a lock of its own choosing, the one it already
holds when it calls the listeners.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any, Generic, TypeVar

C = TypeVar("C")


class Callbacks(Generic[C]):
    """Listeners in the order they were added.

    ```py
    hooks: Callbacks[Callable[[str], None]] = Callbacks(lock)
    remove = hooks.add(print)
    with lock:
        for hook in hooks:      # iterate holding the lock, or over hooks.copy()
            hook("hello")
    remove()
    ```

    Args:
        lock: Guards the list: held by `add`, the remover and `copy`.
    """

    def __init__(self, lock: AbstractContextManager[Any]) -> None:
        self._lock = lock
        self._items: list[C] = []

    def add(self, callback: C) -> Callable[[], None]:
        """Add ``callback``; returns the function that removes it (once, harmlessly again)."""
        with self._lock:
            self._items.append(callback)

        def remove() -> None:
            with self._lock:
                if callback in self._items:
                    self._items.remove(callback)

        return remove

    def copy(self) -> list[C]:
        """The listeners now (for calling them without the lock)."""
        with self._lock:
            return list(self._items)

    def __iter__(self) -> Iterator[C]:
        return iter(self._items)

    def __bool__(self) -> bool:
        return bool(self._items)

    def __len__(self) -> int:
        return len(self._items)

    @contextmanager
    def muted(self) -> Iterator[None]:
        """No listeners while the block runs (the caller holds the lock)."""
        items, self._items = self._items, []
        try:
            yield
        finally:
            self._items = items
