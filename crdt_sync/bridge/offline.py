"""``crdt_sync.offline_controls(room)``: save a room as a ``.ydoc`` file, merge one back.

The download is the whole room as Yjs update bytes, made when the button is clicked (so it
is never stale). An uploaded file is *merged*: what happened in the room since the copy
was made is kept, and so is what was changed in the copy offline (with the engine, with
any Yjs client, or in another deployment).
"""

from __future__ import annotations

import hashlib
import re

import streamlit as st

from ..doc import InvalidUpdate, validate_room_name
from . import runtime
from .sessions import registry

_MERGED = "_crdt_sync_offline_merged"  # st.session_state: upload ids already merged


def _file_name(room: str) -> str:
    return (re.sub(r"[^\w.-]+", "_", room).strip("._") or "room") + ".ydoc"


def offline_controls(room: str, *, key: str | None = None) -> bool:
    """A download button (the room as ``.ydoc``) and an uploader that merges a ``.ydoc``.

    ```py
    with st.sidebar:
        crdt_sync.offline_controls("board")
    ```

    Every page in the room shows the merged result; a file that is not a Yjs document is
    refused with a message and changes nothing.

    Args:
        room: The room's name.
        key: Widget key prefix (for two controls of one room on one page).

    Returns:
        True in the run where an upload was merged.

    Raises:
        ValueError: For an invalid room name.
        RuntimeError: Outside a running Streamlit app.
    """
    validate_room_name(room)
    session = runtime.session_id()
    if session is None:
        raise RuntimeError("crdt_sync.offline_controls only works inside a running Streamlit app")
    the_room = registry.watch(session, room)
    prefix = key or "crdt_sync_offline_" + hashlib.sha1(room.encode()).hexdigest()[:10]
    st.download_button(
        "⬇ Download .ydoc",
        data=the_room.export,  # called on click: the room as it is then
        file_name=_file_name(room),
        mime="application/octet-stream",
        on_click="ignore",
        key=f"{prefix}_download",
        help=f"The whole room {room!r} as a Yjs document, to keep or edit offline",
    )
    upload = st.file_uploader(
        "Merge a .ydoc into this room",
        type=["ydoc"],
        key=f"{prefix}_upload",
        help="Merged, never overwritten: changes made here meanwhile are kept",
    )
    if upload is None:
        return False
    merged: dict[str, str] = st.session_state.setdefault(_MERGED, {})
    upload_id = f"{room}\x1f{upload.file_id}"
    if upload_id in merged:
        st.caption(merged[upload_id])
        return False
    data = upload.getvalue()
    try:
        applied = the_room.merge(data, origin=None)
    except InvalidUpdate as exc:
        st.error(f"{upload.name} is not a .ydoc of a room, nothing was changed: {exc.reason}")
        return False
    if not applied:
        st.warning(
            f"{upload.name} builds on changes this room has not seen yet; it will be merged "
            "when they arrive"
        )
        return False
    merged[upload_id] = f"Merged {upload.name} ({len(data):,} bytes) into room {room!r}."
    st.success(merged[upload_id])
    return True
