"""How the diskcache store frames what it writes: checksummed updates and snapshots.

A stored update is ``ENTRY_MAGIC + crc32 + update``; a snapshot is ``SNAPSHOT_MAGIC +
header length + header + crc32 + update`` (the header is the JSON coverage, writer id ->
highest sequence number). The CRC-32 covers everything after the magic, so a flipped bit
anywhere is found when the entry is read. ``ENTRY_MAGIC`` starts with ten ``0xff`` bytes,
a varuint wider than 64 bits, which no Yjs reader accepts: an old entry (a bare update,
written before checksums) can never be taken for a new one, and is read as it is.

```py
blob = wrap_entry(update)
unwrap_entry(blob) == update        # True
unwrap_entry(blob[:-1] + b"x")      # CorruptEntry: checksum mismatch ...
```
"""

from __future__ import annotations

import json
import struct
import zlib

from .types import Update

ENTRY_MAGIC = b"\xff" * 10 + b"C1"
SNAPSHOT_MAGIC_V1 = b"CRDTSNAP1"  # no checksum (read for compatibility)
SNAPSHOT_MAGIC = b"CRDTSNAP2"


class CorruptEntry(ValueError):
    """Stored bytes are not what was written (a checksum mismatch, a truncated frame).

    Args:
        reason: What is wrong, e.g. ``"checksum mismatch (stored 0x1234abcd, computed
            0x1234abcf)"``.
    """

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


def _crc(data: bytes) -> int:
    return zlib.crc32(data) & 0xFFFFFFFF


def _check(stored: int, data: bytes) -> None:
    computed = _crc(data)
    if stored != computed:
        raise CorruptEntry(
            f"checksum mismatch (stored {stored:#010x}, computed {computed:#010x}): "
            "the bytes changed after they were written"
        )


def wrap_entry(update: Update) -> bytes:
    """An update as stored: magic, CRC-32, the update.

    Args:
        update: Yjs update bytes.
    """
    return ENTRY_MAGIC + struct.pack(">I", _crc(update)) + update


def unwrap_entry(blob: bytes) -> Update:
    """The update a stored entry holds, checked; an entry from before checksums as it is.

    Args:
        blob: The stored bytes.

    Raises:
        CorruptEntry: If the checksum does not match or the entry is cut short.
    """
    if not blob.startswith(ENTRY_MAGIC):
        return blob
    head = len(ENTRY_MAGIC)
    if len(blob) < head + 4:
        raise CorruptEntry(f"entry of {len(blob)} bytes is cut short inside its checksum")
    (stored,) = struct.unpack(">I", blob[head : head + 4])
    update = blob[head + 4 :]
    _check(stored, update)
    return update


def pack_snapshot(update: Update, covered: dict[str, int]) -> bytes:
    """A snapshot as stored: magic, header length, JSON coverage, CRC-32, the update.

    Args:
        update: The merged state.
        covered: Writer id -> highest sequence number it includes.
    """
    header = json.dumps(dict(covered), sort_keys=True).encode()
    body = struct.pack(">I", len(header)) + header
    return SNAPSHOT_MAGIC + body + struct.pack(">I", _crc(body + update)) + update


def unpack_snapshot(blob: bytes) -> tuple[Update, dict[str, int]]:
    """The update and coverage of a stored snapshot (either format), checked.

    Args:
        blob: The stored bytes.

    Raises:
        ValueError: If it is not a snapshot, or is damaged (`CorruptEntry`).
    """
    checked = blob.startswith(SNAPSHOT_MAGIC)
    if not checked and not blob.startswith(SNAPSHOT_MAGIC_V1):
        raise ValueError("snapshot does not start with the expected marker")
    offset = len(SNAPSHOT_MAGIC)
    try:
        (size,) = struct.unpack(">I", blob[offset : offset + 4])
        end = offset + 4 + size
        if checked:
            (stored,) = struct.unpack(">I", blob[end : end + 4])
            _check(stored, blob[offset:end] + blob[end + 4 :])
        header = json.loads(blob[offset + 4 : end])
    except (struct.error, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CorruptEntry(f"snapshot header is damaged: {exc}") from None
    if not isinstance(header, dict) or not all(type(v) is int for v in header.values()):
        raise ValueError("snapshot header is not a map of writer to sequence number")
    return blob[end + 4 if checked else end :], {str(k): v for k, v in header.items()}
