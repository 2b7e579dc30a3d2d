"""Offline copies: ``.ydoc`` files are plain Yjs update v1 bytes of a whole room.

Any Yjs implementation reads them (``Y.applyUpdate(doc, bytes)``). Importing merges, it
never overwrites: what happened in the room since the export is kept.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from .errors import InvalidUpdate
from .room import Room
from .types import Origin

YDOC_SUFFIX = ".ydoc"


def export_file(room: Room, path: str | os.PathLike[str]) -> Path:
    """Write the whole room to ``path`` (atomically: a crash never leaves half a file).

    Args:
        room: The room.
        path: The file to write.

    Returns:
        The path written.
    """
    target = Path(path)
    data = room.export()
    fd, tmp = tempfile.mkstemp(prefix=".ydoc-", dir=target.parent or ".")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def import_file(path: str | os.PathLike[str], *, into: Room, origin: Origin | None = None) -> bool:
    """Merge a ``.ydoc`` file into a room (CRDT merge: nothing in the room is lost).

    Args:
        path: The file to read.
        into: The room to merge into.
        origin: Origin of the merge transaction.

    Returns:
        True if applied now; False if it depends on updates the room has not seen yet.

    Raises:
        InvalidUpdate: If the file is not a Yjs update; names the file; the room is unchanged.
    """
    data = Path(path).read_bytes()
    try:
        return into.merge(data, origin=origin)
    except InvalidUpdate as exc:
        raise InvalidUpdate(
            f"{os.fspath(path)} is not a Yjs document: {exc.reason}", room=into.name
        ) from None
