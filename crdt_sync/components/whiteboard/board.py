"""Board: the elements of one whiteboard in a room, and the operations a browser may send.

Every element is a row of one of the board's 64 bucket tables (element id -> one register
per field), so two people moving or restyling different elements, or different fields of
one element, both win; a sticky note's text is a collaborative text of its own and merges
character-wise. Stacking order is a number per element; ties between concurrent inserts are
broken by id, the same way on every replica.

Layout in the room (``wb:<board>:`` is the board's prefix):

- ``wb:<board>:eNN`` (tables, NN = 00..3f): row = element id; cells ``type``, ``pos``
  ``[x, y]``, ``pts`` (pen and arrow: flat ``[x0, y0, x1, y1, ...]`` relative to ``pos``),
  ``size`` ``[w, h]`` (rect, ellipse, note), ``color``, ``width``, ``z``, ``by`` (author).
- ``wb:<board>:t:<id>`` (text): a sticky note's text.

Buckets, not one table: a table reads and adds rows in time linear in its size, a bucket
stays small, and a change names the bucket it touched, so a reader refreshes only that.
"""

from __future__ import annotations

import math
import re
import zlib
from collections.abc import Iterable, Mapping
from typing import Any

from ...doc import Room

BUCKETS = 64
TYPES = ("pen", "rect", "ellipse", "arrow", "note")
SHAPES = ("pen", "rect", "ellipse", "arrow")
"""What "clear my strokes" removes (notes stay: others may have typed in them)."""

MAX_POINTS = 20_000
MAX_TEXT = 20_000
MAX_COORD = 1_000_000.0
_ID = re.compile(r"^[A-Za-z0-9_-]{1,40}$")
_COLOR = re.compile(r"^#[0-9a-fA-F]{3,8}$")
_FIELDS = ("type", "pos", "pts", "size", "color", "width", "z", "by")


class InvalidOp(ValueError):
    """An operation sent by a browser was malformed; nothing was changed."""

    def __init__(self, board: str, reason: str, op: object) -> None:
        self.board, self.reason = board, reason
        shown = repr(op)
        super().__init__(
            f"whiteboard {board!r}: {reason} in op {shown[:120]}{'...' if len(shown) > 120 else ''}"
        )


def prefix(board: str) -> str:
    """The room-key prefix of a board's entries."""
    return f"wb:{board}:"


class Board:
    """One whiteboard in a room.

    ```py
    board = Board(room, "sketch")
    board.add({"id": "n1", "type": "note", "pos": [10, 10], "size": [160, 120]}, by="ann")
    board.set_text("n1", "hello")
    board.move("n1", [200, 40])
    board.elements()["n1"]["text"]   # 'hello'
    ```

    Args:
        room: The room holding the board.
        key: The board's name within the room.
    """

    def __init__(self, room: Room, key: str) -> None:
        if not isinstance(key, str) or not key or ":" in key:
            raise ValueError(f"a whiteboard key is a non-empty str without ':', got {key!r}")
        self.room = room
        self.key = key
        self.prefix = prefix(key)

    # ------------------------------------------------------------------ layout
    def bucket_key(self, element_id: str) -> str:
        """The table holding an element."""
        return f"{self.prefix}e{zlib.crc32(element_id.encode()) % BUCKETS:02x}"

    def bucket_keys(self) -> list[str]:
        """Every bucket table's key (existing or not)."""
        return [f"{self.prefix}e{n:02x}" for n in range(BUCKETS)]

    def text_key(self, element_id: str) -> str:
        """The text holding a note's words."""
        return f"{self.prefix}t:{element_id}"

    def element_id_of_text(self, key: str) -> str | None:
        """The note id a text key belongs to (None for other keys)."""
        head = f"{self.prefix}t:"
        return key[len(head) :] if key.startswith(head) else None

    def is_bucket(self, key: str) -> bool:
        """Whether ``key`` is one of this board's bucket tables."""
        return key.startswith(f"{self.prefix}e") and len(key) == len(self.prefix) + 3

    # ------------------------------------------------------------------ reading
    def read_bucket(
        self, key: str, kinds: Mapping[str, str] | None = None
    ) -> dict[str, dict[str, Any]]:
        """The elements of one bucket, without note texts (never creates the bucket)."""
        kinds = self.room.kinds() if kinds is None else kinds
        if kinds.get(key) != "table":
            return {}
        out: dict[str, dict[str, Any]] = {}
        for element_id, cells in self.room.table(key).rows().items():
            if cells.get("type") in TYPES:
                out[element_id] = {"id": element_id, **{f: cells[f] for f in _FIELDS if f in cells}}
        return out

    def read_text(self, element_id: str, kinds: Mapping[str, str] | None = None) -> str:
        """A note's text ("" if it has none yet; never creates it)."""
        kinds = self.room.kinds() if kinds is None else kinds
        key = self.text_key(element_id)
        return str(self.room.text(key)) if kinds.get(key) == "text" else ""

    def elements(self) -> dict[str, dict[str, Any]]:
        """Every element: id -> fields (notes also have ``text``)."""
        kinds = self.room.kinds()
        out: dict[str, dict[str, Any]] = {}
        for key in self.bucket_keys():
            out.update(self.read_bucket(key, kinds))
        for element_id, element in out.items():
            if element.get("type") == "note":
                element["text"] = self.read_text(element_id, kinds)
        return out

    def top_z(self) -> float:
        """The highest stacking number in use (0 on an empty board)."""
        kinds = self.room.kinds()
        return max(
            (
                float(e.get("z", 0))
                for key in self.bucket_keys()
                for e in self.read_bucket(key, kinds).values()
            ),
            default=0.0,
        )

    # ------------------------------------------------------------------ writing
    def add(
        self,
        element: Mapping[str, Any],
        *,
        by: str | None = None,
        z: float | None = None,
        origin: Any = None,
    ) -> str:
        """Add an element (fields checked as for a browser's ``add`` op).

        Args:
            element: ``id``, ``type``, ``pos`` and the type's fields; notes may bring ``text``.
            by: Who drew it ("clear my strokes" removes only one's own).
            z: Stacking number (default: above everything).
            origin: Transaction origin (a session id).

        Returns:
            The element's id.
        """
        fields = clean_element(self.key, element)
        element_id: str = fields.pop("id")
        text: str = fields.pop("text", "")
        fields["z"] = self.top_z() + 1.0 if z is None else float(z)
        if by is not None:
            fields["by"] = by
        with self.room.transaction(origin):
            table = self.room.table(self.bucket_key(element_id))
            if element_id in table:
                return element_id  # sent twice: the first one counts
            try:
                table.add_row(fields, row_id=element_id)
            except KeyError:
                raise InvalidOp(self.key, f"element {element_id!r} was deleted", element) from None
            if fields["type"] == "note" and text:
                self.room.text(self.text_key(element_id)).update(text)
        return element_id

    def _table_with(self, element_id: str) -> Any:
        key = self.bucket_key(element_id)
        if self.room.kinds().get(key) != "table":
            return None
        table = self.room.table(key)
        return table if element_id in table else None

    def move(self, element_id: str, pos: Iterable[float], *, origin: Any = None) -> bool:
        """Put an element at ``pos``. Returns False if it does not exist (deleted meanwhile)."""
        where = clean_point(self.key, pos, "pos")
        with self.room.transaction(origin):
            table = self._table_with(element_id)
            if table is None:
                return False
            table.set_cell(element_id, "pos", where)
        return True

    def restyle(
        self,
        element_id: str,
        *,
        color: str | None = None,
        z: float | None = None,
        origin: Any = None,
    ) -> bool:
        """Change an element's colour or stacking number."""
        with self.room.transaction(origin):
            table = self._table_with(element_id)
            if table is None:
                return False
            if color is not None:
                table.set_cell(element_id, "color", clean_color(self.key, color))
            if z is not None:
                table.set_cell(element_id, "z", float(z))
        return True

    def delete(self, element_id: str, *, origin: Any = None) -> bool:
        """Delete an element for good (a concurrent move does not bring it back)."""
        with self.room.transaction(origin):
            table = self._table_with(element_id)
            if table is None:
                return False
            table.delete_row(element_id)
        return True

    def set_text(
        self, element_id: str, text: str, *, base: str | None = None, origin: Any = None
    ) -> bool:
        """Make a note say ``text``; typed against ``base``, so others' typing meanwhile stays.

        Returns:
            False if the note does not exist.
        """
        if not isinstance(text, str) or len(text) > MAX_TEXT:
            raise InvalidOp(self.key, f"note text must be a str of at most {MAX_TEXT}", text)
        with self.room.transaction(origin):
            table = self._table_with(element_id)
            if table is None or table.get_cell(element_id, "type") != "note":
                return False
            self.room.text(self.text_key(element_id)).update(text, base=base)
        return True

    def clear(self, by: str, *, origin: Any = None) -> int:
        """Delete every pen stroke and shape drawn by ``by``. Returns how many."""
        mine = [
            e["id"] for e in self.elements().values() if e.get("by") == by and e["type"] in SHAPES
        ]
        with self.room.transaction(origin):
            for element_id in mine:
                self.delete(element_id)
        return len(mine)

    def apply(self, op: Mapping[str, Any], *, by: str, top_z: float | None = None) -> bool:
        """Apply one operation a browser sent, in one transaction with origin ``by``.

        Ops: ``add`` (``el``), ``move`` (``id``, ``pos``), ``delete`` (``id``), ``text``
        (``id``, ``text``, ``base``), ``color`` (``id``, ``color``), ``front`` (``id``),
        ``clear`` (my strokes), ``undo``, ``redo``.

        Args:
            op: The operation.
            by: The session that sent it: the transaction origin and the author.
            top_z: The highest stacking number in use, if the caller knows it.

        Returns:
            Whether the board changed.

        Raises:
            InvalidOp: The op is malformed; nothing changed.
        """
        if not isinstance(op, Mapping):
            raise InvalidOp(self.key, "an op must be an object", op)
        kind = op.get("op")
        if kind == "undo":
            return self.room.undo_manager(by).undo()
        if kind == "redo":
            return self.room.undo_manager(by).redo()
        if kind == "clear":
            return self.clear(by, origin=by) > 0
        if kind == "add":
            top = self.top_z() if top_z is None else top_z
            self.add(op.get("el", {}), by=by, z=top + 1.0, origin=by)
            return True
        element_id = clean_id(self.key, op.get("id"))
        if kind == "move":
            return self.move(element_id, clean_point(self.key, op.get("pos"), "pos"), origin=by)
        if kind == "delete":
            return self.delete(element_id, origin=by)
        if kind == "text":
            base = op.get("base")
            if base is not None and not isinstance(base, str):
                raise InvalidOp(self.key, "base must be a str", op)
            return self.set_text(element_id, op.get("text"), base=base, origin=by)  # type: ignore[arg-type]
        if kind == "color":
            return self.restyle(element_id, color=clean_color(self.key, op.get("color")), origin=by)
        if kind == "front":
            top = self.top_z() if top_z is None else top_z
            return self.restyle(element_id, z=top + 1.0, origin=by)
        raise InvalidOp(self.key, f"unknown op {kind!r}", op)


# ---------------------------------------------------------------------- validation


def _number(board: str, value: object, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidOp(board, f"{what} must be a number, got {type(value).__name__}", value)
    number = float(value)
    if not math.isfinite(number) or abs(number) > MAX_COORD:
        raise InvalidOp(board, f"{what} out of range", value)
    return round(number, 1)


def clean_point(board: str, value: object, what: str) -> list[float]:
    """``[x, y]`` as two rounded finite numbers."""
    if not isinstance(value, list | tuple) or len(value) != 2:
        raise InvalidOp(board, f"{what} must be [x, y]", value)
    return [_number(board, v, what) for v in value]


def clean_color(board: str, value: object) -> str:
    """A ``#rgb``/``#rrggbb``/``#rrggbbaa`` colour."""
    if not isinstance(value, str) or not _COLOR.match(value):
        raise InvalidOp(board, "color must look like #rrggbb", value)
    return value


def clean_id(board: str, value: object) -> str:
    """An element id: 1-40 letters, digits, ``_`` or ``-``."""
    if not isinstance(value, str) or not _ID.match(value):
        raise InvalidOp(board, "id must be 1-40 letters, digits, _ or -", value)
    return value


def clean_element(board: str, element: Mapping[str, Any]) -> dict[str, Any]:
    """Check a new element from a browser and keep only its known fields.

    Raises:
        InvalidOp: Naming the board and what is wrong.
    """
    if not isinstance(element, Mapping):
        raise InvalidOp(board, "an element must be an object", element)
    kind = element.get("type")
    if kind not in TYPES:
        raise InvalidOp(board, f"type must be one of {', '.join(TYPES)}", element)
    out: dict[str, Any] = {
        "id": clean_id(board, element.get("id")),
        "type": kind,
        "pos": clean_point(board, element.get("pos"), "pos"),
        "color": clean_color(board, element.get("color", "#1f2937")),
    }
    width = _number(board, element.get("width", 3), "width")
    out["width"] = min(max(width, 0.5), 64.0)
    if kind in ("pen", "arrow"):
        pts = element.get("pts")
        if not isinstance(pts, list | tuple) or len(pts) % 2 or not 2 <= len(pts) <= MAX_POINTS:
            raise InvalidOp(board, f"pts must be 2 to {MAX_POINTS} numbers, x and y pairs", element)
        out["pts"] = [_number(board, v, "pts") for v in pts]
    else:
        size = clean_point(board, element.get("size", [160, 120]), "size")
        if size[0] < 0 or size[1] < 0:
            raise InvalidOp(board, "size must not be negative", element)
        out["size"] = size
    if kind == "note":
        text = element.get("text", "")
        if not isinstance(text, str) or len(text) > MAX_TEXT:
            raise InvalidOp(board, f"text must be a str of at most {MAX_TEXT}", element)
        out["text"] = text
    return out
