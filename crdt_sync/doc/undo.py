"""Undo and redo, per origin: each session undoes its own changes and nobody else's.

A room keeps one pycrdt ``UndoManager`` per origin (`UndoManagers`), tracking only that
origin's transactions over every root of the document, and hands out `UndoHistory` faces
of them. An undo is itself a transaction of that origin: observers and hooks hear it.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from contextlib import AbstractContextManager
from typing import Any

from pycrdt import UndoManager

from .types import Origin

UndoRunner = Callable[[Callable[[], bool]], bool]
"""Runs an undo or redo step as a transaction of one origin; returns what the step did."""


class UndoManagers:
    """The undo managers of one room, one per origin.

    ```py
    managers = UndoManagers()
    manager = managers.get("ann", scopes=[kinds, registers, *roots])
    managers.expand_scope(new_root)      # a container created later is tracked too
    ```
    """

    def __init__(self) -> None:
        self._managers: dict[Hashable, UndoManager] = {}

    def get(self, origin: Origin, scopes: Callable[[], list[Any]]) -> UndoManager:
        """The manager of ``origin``, created over ``scopes()`` the first time."""
        manager = self._managers.get(origin)
        if manager is None:
            manager = UndoManager(scopes=scopes(), capture_timeout_millis=0)
            manager.include_origin(origin)
            self._managers[origin] = manager
        return manager

    def drop(self, origin: Origin) -> None:
        """Forget ``origin``'s manager."""
        self._managers.pop(origin, None)

    def expand_scope(self, root: Any) -> None:
        """Track ``root`` (a container's root type) in every manager."""
        for manager in self._managers.values():
            manager.expand_scope(root)


class UndoHistory:
    """Undo/redo of one origin's changes in one room.

    ```py
    history = room.undo_manager("ann")
    room.transaction(origin="ann") ...   # ann's changes
    history.undo()                       # True: ann's last change is reverted
    ```

    Args:
        manager: pycrdt's undo manager tracking the origin.
        lock: The room's lock (every access to the document holds it).
        run: Runs a step as a transaction of the origin (see `Room.undo_manager`).
    """

    def __init__(
        self, manager: UndoManager, lock: AbstractContextManager[Any], run: UndoRunner
    ) -> None:
        self._manager, self._lock, self._run = manager, lock, run

    def undo(self) -> bool:
        """Revert this origin's most recent change. Returns True if something changed."""
        return self._run(self._manager.undo)

    def redo(self) -> bool:
        """Re-apply the most recently undone change. Returns True if something changed."""
        return self._run(self._manager.redo)

    def can_undo(self) -> bool:
        """Whether there is a change to undo."""
        with self._lock:
            return bool(self._manager.can_undo())

    def can_redo(self) -> bool:
        """Whether there is an undone change to redo."""
        with self._lock:
            return bool(self._manager.can_redo())
