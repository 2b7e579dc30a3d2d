"""Where a room's keys live in its Yjs document (readable by any Yjs client).

- ``Y.Map "kinds"``: key -> ``"register" | "text" | "counter" | "list" | "set" | "table"``
- ``Y.Map "registers"``: key -> value in the codec's JSON form
- one root per container, named ``"<kind>:<key>"``; a set also has ``"setorder:<key>"``,
  a ``Y.Array`` of its elements' canonical forms in the order they were added

Containers are roots, not values nested under a map key, so that two replicas creating the
same container at the same time both keep what they put in it. A container created by
another replica arrives as a kinds entry; `Layout.adopt` gives its root a type.
"""

from __future__ import annotations

import json
from typing import Any

from pycrdt import Array, Doc, Map, Text

from .changes import Changes, weakly
from .undo import UndoManagers

Root = Map[Any] | Text | Array[Any]

ROOT_TYPES: dict[str, type[Map[Any]] | type[Text] | type[Array[Any]]] = {
    "text": Text,
    "counter": Map,
    "list": Array,
    "set": Map,
    "setorder": Array,
    "table": Map,
}
"""Container kind -> the pycrdt type of its root (``setorder``: the order a set's
elements were added in, beside the set's own root)."""


class Layout:
    """The roots of one room's document, typed and watched.

    Callers hold the room's lock.

    Args:
        doc: The room's document.
        changes: Where the roots' callbacks report changed keys.
        undo: The room's undo managers (new roots join their scope).
    """

    def __init__(self, doc: Doc[Any], changes: Changes, undo: UndoManagers) -> None:
        self.doc = doc
        self.kinds: Map[Any] = doc.get("kinds", type=Map)
        self.registers: Map[Any] = doc.get("registers", type=Map)
        self.roots: dict[str, Root] = {}
        self.views: dict[str, Any] = {}  # key -> the container's typed view (values)
        self._changes = changes
        self._undo = undo
        self._watches: tuple[Any, ...] = ()
        self.watch()

    def root(self, key: str, kind: str) -> Root:
        """The root of container ``key`` of ``kind``, typed and watched on first use."""
        name = f"{kind}:{key}"
        root = self.roots.get(name)
        if root is None:
            root = self.doc.get(name, type=ROOT_TYPES[kind])
            self.roots[name] = root
            root.observe(self._changes.marker(key))
            self._undo.expand_scope(root)
        return root

    def scopes(self) -> list[Any]:
        """Every shared type an undo manager tracks."""
        return [self.kinds, self.registers, *self.roots.values()]

    def adopt(self, kinds: dict[str, Any]) -> None:
        """Give a root to every container among ``kinds`` (key -> kind) that has none.

        Only the entries a transaction touched: a scan of all keys per write would make
        every write cost O(keys).
        """
        for key, kind in kinds.items():
            if kind in ROOT_TYPES and f"{kind}:{key}" not in self.roots:
                self.root(key, kind)
                self._changes.mark(key)

    def adopt_all(self) -> None:
        """Give a root to every container of the document (after a replay)."""
        for key, kind in json.loads(str(self.kinds)).items():
            if kind in ROOT_TYPES and f"{kind}:{key}" not in self.roots:
                self.root(key, kind)

    def watch(self) -> None:
        """Report the keys of the kinds and registers maps that transactions change."""
        # Below pycrdt's Map.observe, which wraps every event in Python objects (the
        # target, the transaction, each key's values): a third of a write's cost.
        self._watches = (
            self.registers.integrated.observe(weakly(self._changes.on_registers)),
            self.kinds.integrated.observe(weakly(self._changes.on_kinds)),
        )

    def unwatch(self) -> None:
        """Stop `watch` (replaying a big room is several times faster unwatched)."""
        for watch in self._watches:
            watch.drop()
        self._watches = ()
