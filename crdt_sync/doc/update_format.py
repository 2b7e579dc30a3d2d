"""A validating reader of Yjs update v1 bytes, and state-vector helpers.

`read_update` walks an update without building it. Every declared count or length is
checked against the bytes left before it is used, so untrusted bytes cost O(len(data))
time and memory here, and an update it accepts holds every element it declares: yrs can
no longer be made to reserve memory for elements that are not there. It also reports
where each client's run of structs starts, which the engine needs to hold back updates
that are ahead of the document (yrs integrates them with a gap, y-crdt/y-crdt#632).

The layout is Yjs ``UpdateEncoderV1`` with lib0 varuints (LEB128). Bytes that Yjs and
yrs would read differently are refused: flag bits on GC/Skip structs, content refs above
9, numbers wider than yrs reads them (it wraps), multi-byte type refs, a client listed
twice. Strings must be UTF-8, as lib0 (a fatal TextDecoder) requires.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NoReturn

__all__ = [
    "DEFAULT_MAX_SIZE",
    "MAX_ANY_DEPTH",
    "UpdateFormatError",
    "UpdateInfo",
    "decode_state_vector",
    "encode_state_vector",
    "read_delete_set",
    "read_update",
]

DEFAULT_MAX_SIZE = 16 * 1024 * 1024
MAX_ANY_DEPTH = 200
_U32 = 2**32 - 1  # clocks and lengths are u32 in yrs
_CLIENT_MAX = 2**53 - 1  # JavaScript's safe integers; pycrdt refuses larger client ids too
_MEMO_SIZE = 1024  # distinct long varuints (client ids) remembered per read
_TYPE_REFS = frozenset({0, 1, 2, 3, 4, 5, 6, 9, 15})  # 0-6 Yjs; 9 subdoc, 15 undefined: yrs
_NAMED_TYPE_REFS = (3, 5)  # XmlElement, XmlHook
# lib0 `any` tags of fixed size: undefined, null, false, true, float32, float64, bigint64
_ANY_SIZE = {127: 0, 126: 0, 121: 0, 120: 0, 124: 4, 123: 8, 122: 8}


class UpdateFormatError(ValueError):
    """Bytes are not a well-formed Yjs v1 update or state vector.

    Attributes:
        reason: What is wrong.
        offset: Byte offset where it was found, or None when it is about the whole input.
    """

    def __init__(self, reason: str, offset: int | None = None) -> None:
        self.reason = reason
        self.offset = offset
        super().__init__(reason if offset is None else f"{reason} at byte {offset}")


@dataclass(frozen=True)
class UpdateInfo:
    """What `read_update` found in an update.

    Attributes:
        starts: Client id -> clock of that client's first struct in the update. Clients
            listed with no structs are left out, as `pycrdt.get_state` leaves them out.
        struct_counts: Client id -> number of structs (GC, Skip or Item), same clients.
        delete_set_clients: Clients with at least one range in the delete set.
        size: Length of the update in bytes.
    """

    starts: dict[int, int]
    struct_counts: dict[int, int]
    delete_set_clients: frozenset[int]
    size: int


class _Reader:
    """A cursor that raises UpdateFormatError rather than read past the end."""

    __slots__ = ("data", "end", "memo", "pos")

    def __init__(self, data: bytes) -> None:
        self.data, self.pos, self.end = data, 0, len(data)
        self.memo: dict[bytes, tuple[int, int]] = {}

    def fail(self, reason: str, offset: int) -> NoReturn:
        raise UpdateFormatError(reason, offset)

    def need(self, size: int, what: str) -> int:
        """Check that `size` bytes are left; return the current offset."""
        if self.end - self.pos < size:
            self.fail(f"truncated: {what} runs past the end of the {self.end} bytes", self.pos)
        return self.pos

    def byte(self, what: str) -> int:
        pos = self.pos
        if pos >= self.end:
            self.need(1, what)
        self.pos = pos + 1
        return self.data[pos]

    def uint(self, what: str, limit: int = _U32) -> int:
        """Read a varuint no larger than `limit`."""
        data, pos = self.data, self.pos
        if pos + 1 < self.end:  # fast paths: one or two bytes (< 16384, within any limit)
            if data[pos] < 0x80:
                self.pos = pos + 1
                return data[pos]
            if data[pos + 1] < 0x80:
                self.pos = pos + 2
                return (data[pos] & 0x7F) | data[pos + 1] << 7
        # Client ids take 7-8 bytes and repeat a lot: decode each distinct 8-byte window once.
        window = data[pos : pos + 8]
        known = self.memo.get(window)
        if known is None:
            known = self.decode_uint(what)
            if 6 <= known[1] <= len(window) and len(self.memo) < _MEMO_SIZE:
                self.memo[window] = known
        value, size = known
        if value > limit:
            self.fail(f"{what} {value} exceeds the maximum {limit}", pos)
        self.pos = pos + size
        return value

    def decode_uint(self, what: str) -> tuple[int, int]:
        """Decode the varuint at the cursor without moving: (value, size in bytes)."""
        data, start = self.data, self.pos
        value = shift = 0
        for pos in range(start, min(start + 10, self.end)):
            value |= (data[pos] & 0x7F) << shift
            if data[pos] < 0x80:
                return value, pos + 1 - start
            shift += 7
        self.need(11, what)  # fails if the varuint runs past the end
        self.fail(f"{what} is a varuint longer than 10 bytes", start)

    def count(self, what: str, min_size: int = 1) -> int:
        """Read a count of elements of >= `min_size` bytes each, which must fit in what is left."""
        start = self.pos
        value = self.uint(what)
        if value * min_size > self.end - self.pos:
            self.fail(f"{what} {value} exceeds the {self.end - self.pos} bytes remaining", start)
        return value

    def string(self, what: str) -> None:
        """Skip a varstring, checking that it is UTF-8."""
        at = self.pos
        size = self.uint(what)
        start = self.pos
        if size > self.end - start:
            self.fail(f"{what} of {size} bytes exceeds the {self.end - start} remaining", at)
        self.pos = start + size
        try:
            self.data[start : self.pos].decode()
        except UnicodeDecodeError as exc:
            self.fail(f"{what} is not valid UTF-8", start + exc.start)

    def varint(self) -> None:
        """Skip a lib0 signed varint (at most 10 bytes)."""
        start = self.pos
        while self.byte("varint") >= 0x80:
            if self.pos - start >= 10:
                self.fail("varint longer than 10 bytes", start)

    def any(self, depth: int = 0) -> None:
        """Skip one lib0 `any` value, nested at most MAX_ANY_DEPTH deep."""
        tag = self.byte("any value")
        size = _ANY_SIZE.get(tag)
        if size is not None:
            self.pos = self.need(size, "any number") + size
        elif tag == 119:
            self.string("any string")
        elif tag == 125:
            self.varint()
        elif tag == 118 or tag == 117:
            if depth >= MAX_ANY_DEPTH:
                self.fail(f"any value nested deeper than {MAX_ANY_DEPTH}", self.pos - 1)
            if tag == 118:
                for _ in range(self.count("any object size", 2)):
                    self.string("any object key")
                    self.any(depth + 1)
            else:
                for _ in range(self.count("any array length")):
                    self.any(depth + 1)
        elif tag == 116:
            size = self.count("any buffer length")  # not `pos += count()`: adds to the old pos
            self.pos += size
        else:
            self.fail(f"unknown any type {tag}", self.pos - 1)

    def struct(self) -> None:
        """Skip one struct: GC, Skip or Item."""
        info = self.byte("struct")
        ref = info & 0x1F
        if ref == 0 or ref == 10:
            if info != ref:  # Yjs ignores the flag bits here, yrs reads an Item
                self.fail(f"GC/Skip struct with flag bits (info {info:#04x})", self.pos - 1)
            self.uint("GC/Skip length")
            return
        if ref > 9:
            self.fail(f"unknown content ref {ref} (info {info:#04x})", self.pos - 1)
        if info & 0x80:
            self.uint("origin client", _CLIENT_MAX)
            self.uint("origin clock")
        if info & 0x40:
            self.uint("right origin client", _CLIENT_MAX)
            self.uint("right origin clock")
        if not info & 0xC0:  # no origin to copy the parent from: it is written out
            if self.uint("parent info") == 1:
                self.string("root type name")
            else:
                self.uint("parent client", _CLIENT_MAX)
                self.uint("parent clock")
            if info & 0x20:
                self.string("parent key")
        self.content(ref)

    def content(self, ref: int) -> None:
        if ref == 4 or ref == 5:  # String; Embed (JSON text)
            self.string("string content")
        elif ref == 8:  # Any
            for _ in range(self.count("any content length")):
                self.any()
        elif ref == 1:  # Deleted
            self.uint("deleted length")
        elif ref == 7:  # Type; yrs reads its ref as one byte, Yjs as a varuint
            type_ref = self.byte("type ref")
            if type_ref not in _TYPE_REFS:
                self.fail(f"unknown type ref {type_ref}", self.pos - 1)
            if type_ref in _NAMED_TYPE_REFS:
                self.string("xml node name")
        elif ref == 6:  # Format
            self.string("format key")
            self.string("format value")
        elif ref == 3:  # Binary
            size = self.count("binary length")
            self.pos += size
        elif ref == 2:  # JSON (legacy)
            for _ in range(self.count("json content length")):
                self.string("json content")
        else:  # 9: Doc
            self.string("subdocument guid")
            self.any()


def read_update(data: bytes, *, max_size: int = DEFAULT_MAX_SIZE) -> UpdateInfo:
    """Validate a Yjs v1 update and report where each client's structs start.

    Args:
        data: The update (``b"\\x00\\x00"`` is the empty update).
        max_size: Largest accepted length in bytes.

    Returns:
        Each client's first clock and struct count, and the delete-set clients.

    Raises:
        UpdateFormatError: `data` is empty or longer than `max_size`, is truncated,
            declares a count or length larger than the bytes left, uses an unknown struct,
            content, type or `any` tag, holds a number out of range or invalid UTF-8,
            lists a client twice, or has bytes after the delete set.
    """
    return _read(data, max_size, None)


def read_delete_set(data: bytes) -> dict[int, list[tuple[int, int]]]:
    """The delete set of a Yjs v1 update, validated as `read_update` validates it.

    ```py
    read_delete_set(doc.get_update(other.get_state()))   # {client: [(clock, length)]}
    ```

    Args:
        data: The update.

    Returns:
        Client id -> its deleted ranges as ``(clock, length)``, in stored order (clients
        listed with no range are left out).

    Raises:
        UpdateFormatError: As `read_update`.
    """
    deleted: dict[int, list[tuple[int, int]]] = {}
    _read(data, DEFAULT_MAX_SIZE, deleted)
    return deleted


def _read(
    data: bytes, max_size: int, deleted: dict[int, list[tuple[int, int]]] | None
) -> UpdateInfo:
    """`read_update`; also fills ``deleted`` with the delete set when given."""
    size = len(data)
    if size == 0:
        raise UpdateFormatError("empty update")
    if size > max_size:
        raise UpdateFormatError(f"update of {size} bytes exceeds the limit of {max_size} bytes")
    r = _Reader(bytes(data))
    starts: dict[int, int] = {}
    counts: dict[int, int] = {}
    seen: set[int] = set()
    for _ in range(r.count("client count", 3)):
        n_structs = r.count("struct count", 2)
        at = r.pos
        client = r.uint("client", _CLIENT_MAX)
        if client in seen:
            r.fail(f"client {client} is listed twice", at)
        seen.add(client)
        clock = r.uint("start clock")
        if n_structs:
            starts[client], counts[client] = clock, n_structs
        for _ in range(n_structs):
            r.struct()
    deleters: set[int] = set()
    seen.clear()
    for _ in range(r.count("delete set client count", 2)):
        at = r.pos
        client = r.uint("delete set client", _CLIENT_MAX)
        if client in seen:
            r.fail(f"client {client} is listed twice in the delete set", at)
        seen.add(client)
        n_ranges = r.count("delete range count", 2)
        for _ in range(n_ranges):
            at = r.pos
            clock, length = r.uint("delete clock"), r.uint("delete length")
            if clock + length > _U32:
                r.fail("delete range ends past clock 2**32-1", at)
            if deleted is not None:
                deleted.setdefault(client, []).append((clock, length))
        if n_ranges:
            deleters.add(client)
    if r.pos != size:
        r.fail(f"{size - r.pos} trailing bytes after the delete set", r.pos)
    return UpdateInfo(starts, counts, frozenset(deleters), size)


def decode_state_vector(data: bytes) -> dict[int, int]:
    """Decode a Yjs v1 state vector.

    Args:
        data: The encoded state vector (``b"\\x00"`` is the empty one).

    Returns:
        Client id -> clock: how many clock ticks of that client the document holds.

    Raises:
        UpdateFormatError: The bytes are truncated, have trailing bytes, list a client
            twice or hold a number out of range.
    """
    r = _Reader(bytes(data))
    sv: dict[int, int] = {}
    for _ in range(r.count("state vector size", 2)):
        at = r.pos
        client = r.uint("client", _CLIENT_MAX)
        if client in sv:
            r.fail(f"client {client} is listed twice", at)
        sv[client] = r.uint("clock")
    if r.pos != r.end:
        r.fail(f"{r.end - r.pos} trailing bytes after the state vector", r.pos)
    return sv


def _write_uint(out: bytearray, value: int) -> None:
    while value >= 0x80:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)


def encode_state_vector(sv: dict[int, int]) -> bytes:
    """Encode a state vector as Yjs v1 bytes, highest client first as Yjs writes it.

    Args:
        sv: Client id -> clock.

    Returns:
        The encoded state vector, readable by `decode_state_vector`, Yjs and yrs.

    Raises:
        ValueError: A client id is outside 0..2**53-1 or a clock outside 0..2**32-1.
    """
    out = bytearray()
    _write_uint(out, len(sv))
    for client, clock in sorted(sv.items(), reverse=True):
        if not 0 <= client <= _CLIENT_MAX:
            raise ValueError(f"client id {client} is outside 0..2**53-1")
        if not 0 <= clock <= _U32:
            raise ValueError(f"clock {clock} of client {client} is outside 0..2**32-1")
        _write_uint(out, client)
        _write_uint(out, clock)
    return bytes(out)
