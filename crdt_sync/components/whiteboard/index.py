"""BoardIndex: a board's elements kept in memory, with what changed at which version.

One index per open board per process, shared by every session showing it. It listens to
the room and, when asked, re-reads only the buckets and note texts that changed, so an
incoming stroke costs the same on an empty board and on a board of thousands of elements.
Each session remembers the version its page shows; `BoardIndex.delta` gives it just the
elements changed since then (or everything, the first time).
"""

from __future__ import annotations

import secrets
import threading
import weakref
from dataclasses import dataclass, field
from typing import Any

from ...doc import Room
from .board import Board


@dataclass(frozen=True)
class Delta:
    """What a page must apply to go from one version of a board to the current one.

    Attributes:
        epoch: Identifies this index; versions of different epochs are unrelated.
        since: The version the page had (0 with ``full``).
        version: The version after applying.
        full: The elements are the whole board (replace, don't patch).
        elements: Elements added or changed (all of them when ``full``).
        deleted: Ids of elements that are gone.
    """

    epoch: str
    since: int
    version: int
    full: bool
    elements: list[dict[str, Any]] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)


class BoardIndex:
    """The in-memory, versioned view of one board.

    Thread-safe: a change hook of the room queues changed keys as each transaction commits
    (so a page that reruns because of a change always finds it here; an observer could run
    later than that rerun); `refresh` and `delta` run in script threads.

    Args:
        board: The board to follow.
    """

    def __init__(self, board: Board) -> None:
        self.board = board
        self.epoch = secrets.token_hex(4)
        self.version = 0
        self._lock = threading.Lock()
        self._elements: dict[str, dict[str, Any]] = {}
        self._changed: dict[str, int] = {}  # element id -> version it last changed at
        self._by_bucket: dict[str, set[str]] = {}
        self._pending: set[str] = set()
        # Guards only _pending: the hook runs under the room's lock, and refresh holds
        # self._lock while it reads the room, so the hook must never wait for self._lock.
        self._pending_lock = threading.Lock()
        self._loaded = False
        # The room keeps this index alive through its hook (and nothing else does), so the
        # index goes when the hub closes the room.
        self.unobserve = board.room.add_change_hook(self._on_change)

    def _on_change(self, keys: frozenset[str]) -> None:
        mine = [k for k in keys if k.startswith(self.board.prefix)]
        if mine:
            with self._pending_lock:
                self._pending.update(mine)

    def refresh(self) -> int:
        """Catch up with the room (reads only what changed). Returns the version."""
        with self._lock:
            if not self._loaded:
                self._load()
            else:
                self._catch_up()
            return self.version

    def _load(self) -> None:
        with self._pending_lock:
            self._pending.clear()
        elements = self.board.elements()
        self.version += 1
        self._elements = elements
        self._changed = dict.fromkeys(elements, self.version)
        self._by_bucket = {}
        for element_id in elements:
            self._by_bucket.setdefault(self.board.bucket_key(element_id), set()).add(element_id)
        self._loaded = True

    def _catch_up(self) -> None:
        with self._pending_lock:
            pending, self._pending = self._pending, set()
        if not pending:
            return
        kinds = self.board.room.kinds()
        changed: dict[str, dict[str, Any] | None] = {}
        texts: set[str] = set()
        for key in pending:
            note = self.board.element_id_of_text(key)
            if note is not None:
                texts.add(note)
            elif self.board.is_bucket(key):
                rows = self.board.read_bucket(key, kinds)
                for element_id in self._by_bucket.get(key, set()) - rows.keys():
                    changed[element_id] = None
                for element_id, element in rows.items():
                    old = self._elements.get(element_id)
                    if old is not None and "text" in old:
                        element["text"] = old["text"]
                    elif element.get("type") == "note":
                        texts.add(element_id)
                    if old != element:
                        changed[element_id] = element
                self._by_bucket[key] = set(rows)
        for element_id in texts:
            shown = changed.get(element_id, self._elements.get(element_id))
            if shown is None or shown.get("type") != "note":
                continue
            text = self.board.read_text(element_id, kinds)
            if shown.get("text") != text:
                changed[element_id] = {**shown, "text": text}
        if not changed:
            return
        self.version += 1
        for element_id, new in changed.items():
            if new is None:
                self._elements.pop(element_id, None)
            else:
                self._elements[element_id] = new
            self._changed[element_id] = self.version

    def delta(self, epoch: str | None, since: int | None) -> Delta:
        """What a page at version ``since`` of ``epoch`` needs (everything if None)."""
        with self._lock:
            if since is None or epoch != self.epoch or since > self.version:
                elements = sorted(self._elements.values(), key=_stacking)
                return Delta(self.epoch, 0, self.version, True, elements)
            ids = [i for i, v in self._changed.items() if v > since]
            return Delta(
                self.epoch,
                since,
                self.version,
                False,
                sorted((self._elements[i] for i in ids if i in self._elements), key=_stacking),
                [i for i in ids if i not in self._elements],
            )

    def top_z(self) -> float:
        """The highest stacking number on the board."""
        with self._lock:
            return max((float(e.get("z", 0)) for e in self._elements.values()), default=0.0)

    def ids(self) -> list[str]:
        """Every element's id."""
        with self._lock:
            return list(self._elements)

    def note_ids(self) -> list[str]:
        """Ids of the sticky notes."""
        with self._lock:
            return [i for i, e in self._elements.items() if e.get("type") == "note"]

    def __len__(self) -> int:
        with self._lock:
            return len(self._elements)


def _stacking(element: dict[str, Any]) -> tuple[float, str]:
    return (float(element.get("z", 0)), str(element.get("id")))


_indexes: weakref.WeakValueDictionary[tuple[int, str], BoardIndex] = weakref.WeakValueDictionary()
_indexes_lock = threading.Lock()


def index_for(room: Room, key: str) -> BoardIndex:
    """The shared index of board ``key`` in ``room`` (made on first use)."""
    with _indexes_lock:
        index = _indexes.get((id(room), key))
        if index is None or index.board.room is not room:
            index = BoardIndex(Board(room, key))
            _indexes[(id(room), key)] = index
        return index
