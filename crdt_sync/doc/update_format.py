"""A validating reader of Yjs update v1 bytes, and state-vector helpers.

`read_update` walks an update without building it: every declared count or length is
checked against the bytes left before anything relies on it, so untrusted bytes cost
O(len(data)) time and memory here, and bytes it accepts cannot make yrs reserve memory
for elements that are not there. It also reports where each client's run of structs
starts, which the engine needs to hold back an update that is ahead of the document
(yrs would integrate it with a gap, y-crdt/y-crdt#632).

The layout follows Yjs ``UpdateEncoderV1`` (lib0 varuints: LEB128, 7 bits a byte).
Where Yjs and yrs would read the same bytes differently the reader refuses them:
flag bits on GC/Skip structs, content refs above 9, numbers wider than yrs reads,
a client listed twice, invalid UTF-8 (yrs reads strings without checking them).
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
    "read_update",
]

DEFAULT_MAX_SIZE = 16 * 1024 * 1024
MAX_ANY_DEPTH = 200
_U32 = 0xFFFF_FFFF  # clocks, lengths and counts are u32 in yrs
_CLIENT_MAX = 2**53 - 1  # client ids: JavaScript safe integers (pycrdt refuses larger too)
_TYPE_REFS = frozenset({0, 1, 2, 3, 4, 5, 6, 9, 15})  # 0-6 Yjs; 9 subdoc, 15 undefined: yrs
_TYPE_REFS_WITH_NAME = (3, 5)  # XmlElement, XmlHook
_BARE_ANY = frozenset({127, 126, 121, 120})  # undefined, null, false, true
_FIXED_ANY = {124: 4, 123: 8, 122: 8}  # float32, float64, bigint64


class UpdateFormatError(ValueError):
    """Bytes are not a well-formed Yjs v1 update (or state vector).

    Attributes:
        reason: What is wrong.
        offset: Byte offset where the problem was found, when there is one.
    """

    def __init__(self, reason: str, offset: int | None = None) -> None:
        self.reason = reason
        self.offset = offset
        super().__init__(reason if offset is None else f"{reason} at byte {offset}")


@dataclass(frozen=True)
class UpdateInfo:
    """What `read_update` learnt about an update.

    Attributes:
        starts: Client id -> clock of the client's first struct in the update
            (clients listed with zero structs are left out, as `pycrdt.get_state` does).
        struct_counts: Client id -> number of structs (GC, Skip or Item) of that client.
        delete_set_clients: Clients with at least one range in the delete set.
        size: Length of the update in bytes.
    """

    starts: dict[int, int]
    struct_counts: dict[int, int]
    delete_set_clients: frozenset[int]
    size: int


class _Reader:
    """Cursor over the bytes; every method raises UpdateFormatError instead of overrunning."""

    __slots__ = ("data", "end", "pos", "view")

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.view = memoryview(data)
        self.pos = 0
        self.end = len(data)

    def fail(self, reason: str, offset: int) -> NoReturn:
        raise UpdateFormatError(reason, offset)

    def truncated(self, what: str, offset: int) -> NoReturn:
        self.fail(f"truncated: {what} runs past the end of the {self.end} bytes", offset)

    def uint(self, what: str, limit: int = _U32) -> int:
        """Read a varuint no larger than `limit`."""
        pos = self.pos
        if pos >= self.end:
            self.truncated(what, pos)
        byte = self.data[pos]
        if byte < 0x80:  # fast path: one byte
            self.pos = pos + 1
            return byte
        value, shift, start = byte & 0x7F, 7, pos
        while byte >= 0x80:
            pos += 1
            if pos >= self.end:
                self.truncated(what, start)
            if shift > 63:
                self.fail(f"{what} is a varuint longer than 10 bytes", start)
            byte = self.data[pos]
            value |= (byte & 0x7F) << shift
            shift += 7
        if value > limit:
            self.fail(f"{what} {value} exceeds the maximum {limit}", start)
        self.pos = pos + 1
        return value

    def count(self, what: str, min_size: int = 1) -> int:
        """Read a count of elements of >= `min_size` bytes each that must fit in what is left."""
        start = self.pos
        value = self.uint(what)
        left = self.end - self.pos
        if value * min_size > left:
            self.fail(f"{what} {value} exceeds the {left} bytes remaining", start)
        return value

    def skip(self, size: int, what: str) -> None:
        if self.end - self.pos < size:
            self.truncated(what, self.pos)
        self.pos += size

    def string(self, what: str) -> None:
        """Skip a varstring, checking that it is UTF-8."""
        at = self.pos
        size = self.uint(what)
        start = self.pos
        if size > self.end - start:
            self.fail(f"{what} of {size} bytes exceeds the {self.end - start} bytes remaining", at)
        self.pos = start + size
        try:
            str(self.view[start : self.pos], "utf-8")
        except UnicodeDecodeError as exc:
            self.fail(f"{what} is not valid UTF-8", start + exc.start)

    def varint(self) -> None:
        """Skip a lib0 signed varint."""
        start = pos = self.pos
        while True:
            if pos >= self.end:
                self.truncated("varint", start)
            if pos - start >= 10:
                self.fail("varint longer than 10 bytes", start)
            byte = self.data[pos]
            pos += 1
            if byte < 0x80:
                break
        self.pos = pos

    def any(self, depth: int = 0) -> None:
        """Skip one lib0 `any` value, nested at most MAX_ANY_DEPTH deep."""
        pos = self.pos
        if pos >= self.end:
            self.truncated("any value", pos)
        tag = self.data[pos]
        self.pos = pos + 1
        if tag in _BARE_ANY:
            return
        if tag == 125:
            self.varint()
        elif tag == 119:
            self.string("any string")
        elif tag in _FIXED_ANY:
            self.skip(_FIXED_ANY[tag], "any number")
        elif tag == 116:
            self.skip(self.count("any buffer length"), "any buffer")
        elif tag in (118, 117):
            if depth >= MAX_ANY_DEPTH:
                self.fail(f"any value nested deeper than {MAX_ANY_DEPTH}", pos)
            if tag == 118:
                for _ in range(self.count("any object size", 2)):
                    self.string("any object key")
                    self.any(depth + 1)
            else:
                for _ in range(self.count("any array length")):
                    self.any(depth + 1)
        else:
            self.fail(f"unknown any type {tag}", pos)

    def struct(self) -> None:
        """Skip one struct (GC, Skip or Item)."""
        pos = self.pos
        if pos >= self.end:
            self.truncated("struct", pos)
        info = self.data[pos]
        self.pos = pos + 1
        ref = info & 0x1F
        if ref == 0 or ref == 10:
            if info != ref:  # Yjs ignores these flag bits, yrs reads an Item
                self.fail(f"GC/Skip struct with flag bits (info {info:#04x})", pos)
            self.uint("GC/Skip length")
            return
        if ref > 9:
            self.fail(f"unknown content ref {ref} (info {info:#04x})", pos)
        if info & 0x80:
            self.uint("origin client", _CLIENT_MAX)
            self.uint("origin clock")
        if info & 0x40:
            self.uint("right origin client", _CLIENT_MAX)
            self.uint("right origin clock")
        if not info & 0xC0:
            at = self.pos
            parent_info = self.uint("parent info")
            if parent_info == 1:
                self.string("root type name")
            elif parent_info == 0:
                self.uint("parent client", _CLIENT_MAX)
                self.uint("parent clock")
            else:
                self.fail(f"parent info {parent_info} is neither 0 nor 1", at)
            if info & 0x20:
                self.string("parent key")
        self.content(ref)

    def content(self, ref: int) -> None:
        if ref == 4 or ref == 5:  # String, Embed (JSON text)
            self.string("string content")
        elif ref == 8:  # Any
            for _ in range(self.count("any content length")):
                self.any()
        elif ref == 1:  # Deleted
            self.uint("deleted length")
        elif ref == 7:  # Type
            at = self.pos
            type_ref = self.uint("type ref")
            if type_ref not in _TYPE_REFS:
                self.fail(f"unknown type ref {type_ref}", at)
            if type_ref in _TYPE_REFS_WITH_NAME:
                self.string("xml node name")
        elif ref == 6:  # Format
            self.string("format key")
            self.string("format value")
        elif ref == 3:  # Binary
            self.skip(self.count("binary length"), "binary content")
        elif ref == 2:  # JSON (legacy)
            for _ in range(self.count("json content length")):
                self.string("json content")
        else:  # 9: Doc
            self.string("subdocument guid")
            self.any()


def read_update(data: bytes, *, max_size: int = DEFAULT_MAX_SIZE) -> UpdateInfo:
    """Validate a Yjs v1 update and report where each client's structs start.

    Args:
        data: The update bytes (``b"\\x00\\x00"`` is the empty update).
        max_size: Largest accepted length in bytes.

    Returns:
        The clients, their first clocks and struct counts, and the delete-set clients.

    Raises:
        UpdateFormatError: `data` is empty, larger than `max_size`, truncated, declares a
            count or length larger than the bytes left, uses an unknown struct, content,
            type or `any` tag, or has bytes after the delete set.
    """
    size = len(data)
    if size == 0:
        raise UpdateFormatError("empty update")
    if size > max_size:
        raise UpdateFormatError(f"update of {size} bytes exceeds the limit of {max_size} bytes")
    r = _Reader(bytes(data))
    starts: dict[int, int] = {}
    counts: dict[int, int] = {}
    for _ in range(r.count("client count", 3)):
        n_structs = r.count("struct count", 2)
        at = r.pos
        client = r.uint("client", _CLIENT_MAX)
        if client in counts:
            r.fail(f"client {client} is listed twice", at)
        clock = r.uint("start clock")
        counts[client] = n_structs
        if n_structs:
            starts[client] = clock
        for _ in range(n_structs):
            r.struct()
    ds_clients: set[int] = set()
    for _ in range(r.count("delete set client count", 2)):
        at = r.pos
        client = r.uint("delete set client", _CLIENT_MAX)
        if client in ds_clients:
            r.fail(f"client {client} is listed twice in the delete set", at)
        n_ranges = r.count("delete range count", 2)
        for _ in range(n_ranges):
            at = r.pos
            if r.uint("delete clock") + r.uint("delete length") > _U32:
                r.fail("delete range ends past clock 2**32-1", at)
        if n_ranges:
            ds_clients.add(client)
    if r.pos != size:
        r.fail(f"{size - r.pos} trailing bytes after the delete set", r.pos)
    return UpdateInfo(
        starts=starts,
        struct_counts={c: n for c, n in counts.items() if n},
        delete_set_clients=frozenset(ds_clients),
        size=size,
    )


def decode_state_vector(data: bytes) -> dict[int, int]:
    """Decode a Yjs v1 state vector.

    Args:
        data: The encoded state vector (``b"\\x00"`` is the empty one).

    Returns:
        Client id -> clock (number of structs of that client already integrated).

    Raises:
        UpdateFormatError: The bytes are truncated, have trailing bytes, list a client
            twice, or hold a number out of range.
    """
    r = _Reader(bytes(data))
    sv: dict[int, int] = {}
    for _ in range(r.count("state vector size", 2)):
        at = r.pos
        client = r.uint("client", _CLIENT_MAX)
        if client in sv:
            r.fail(f"client {client} is listed twice", at)
        sv[client] = r.uint("clock")
    if r.pos != len(data):
        r.fail(f"{len(data) - r.pos} trailing bytes after the state vector", r.pos)
    return sv


def _write_uint(out: bytearray, value: int) -> None:
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)


def encode_state_vector(sv: dict[int, int]) -> bytes:
    """Encode a state vector as Yjs v1 bytes, highest client first (as Yjs writes it).

    Args:
        sv: Client id -> clock.

    Returns:
        The encoded state vector, readable by `decode_state_vector` and Yjs/yrs.

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
