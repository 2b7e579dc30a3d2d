"""``crdt_sync.history_panel(room)``: see who changed what, look at a past version, restore it.

The panel lists the room's versions, newest first, each with when, who and what changed;
below it, the room as it was at the chosen version beside the room now (the items that
differ are highlighted). "Restore this version" writes the version's values forward as a
new change by the person clicking: everyone in the room sees it at once, edits made
meanwhile by others merge with it, the person's Undo takes it back, and it shows in the
history itself (nothing stored is rewritten). "Restore only these keys" does the same for
the keys picked. A whiteboard and a shared table are items like any other (their preview
is a count: "12 strokes, 2 notes", "5 rows").

The panel runs in a fragment of its own: someone else's change in the room reruns only the
panel (its timeline stays current; a change made inside ``no_rerun()`` does not); the
person's own changes show in the panel with the run that makes them, or, when made in
another fragment (a whiteboard's stroke), with the panel's next run. Its widgets are never
shared into the room, even inside a ``sync`` block (their keys start with ``crdt_sync``).
"""

from __future__ import annotations

import hashlib
import html
import logging
import time
from datetime import UTC, datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

import streamlit as st

from ..bridge import runtime
from ..bridge.sessions import registry
from ..doc import (
    NoHistory,
    Room,
    RoomHistory,
    UnknownVersion,
    Version,
    validate_room_name,
)
from ..doc.inspection import room_contents
from .history_follow import always, follow
from .history_view import Row, ago, compare, items_of, label_of, names, when

log = logging.getLogger("crdt_sync.history_panel")

CACHED = 8
"""Past versions whose contents a page keeps (a past version never changes)."""

SHOW_DONE = 30.0
"""Seconds the panel confirms a restore (while the restored version stays chosen)."""

LISTED = 500
"""The newest versions the panel lists (``crdt-sync history`` lists every one)."""


def history_panel(room: str, *, key: str | None = None) -> None:
    """A timeline of the room's versions, a preview of any of them, and restore buttons.

    ```py
    with crdt_sync.sync("plans"):
        st.text_input("Title", key="title")
    with st.expander("History"):
        crdt_sync.history_panel("plans")
    ```

    Changes are recorded under each person's name: call ``crdt_sync.set_name(name)`` (or
    use Streamlit's login, ``st.user``), else they show as ``session xxxx``.

    Args:
        room: The room's name.
        key: Widget key suffix (for two panels of one room on one page).

    Raises:
        ValueError: For an invalid room name.
        RuntimeError: Outside a running Streamlit app.
    """
    validate_room_name(room)
    if runtime.session_id() is None:
        raise RuntimeError("crdt_sync.history_panel only works inside a running Streamlit app")
    prefix = "crdt_sync_history_" + (key or hashlib.sha1(room.encode()).hexdigest()[:10])
    _panel(room, prefix)


@st.fragment
def _panel(room_name: str, prefix: str) -> None:
    session = runtime.session_id()
    assert session is not None
    room = registry.watch(session, room_name)  # opens the room; the session is a member
    follow(session, room, runtime.fragment_id())
    done = st.session_state.get(f"{prefix}_done")
    if done and done[1] == st.session_state.get(f"{prefix}_version"):
        if time.monotonic() - done[2] < SHOW_DONE:
            st.success(done[0], icon="↩")
        else:
            del st.session_state[f"{prefix}_done"]
    history = room.history
    if history is None:
        st.info("This room's store keeps no history.")
        return
    versions = history.versions(limit=LISTED)
    if not versions:
        st.caption("Nothing has been changed in this room yet.")
        return
    now = datetime.now(UTC)
    tz = _reader_zone()
    by_id = {v.version: v for v in versions}
    newest = versions[-1].version

    def label(version_id: str) -> str:
        v = by_id.get(version_id)
        if v is None:  # a label the page sent that no longer names a version
            return str(version_id)
        current = " (current)" if version_id == newest else ""
        changed = names(label_of(i) for i in items_of(v.keys))
        at = when(v.time, now=now, tz=tz)
        return f"#{version_id}{current} · {at} · {_who(v)} · {changed}"

    more = (
        f" (the newest {LISTED}: `crdt-sync history` lists all)" if len(versions) == LISTED else ""
    )
    choice_key, head_key, pinned_key = (f"{prefix}_{n}" for n in ("version", "head", "pinned"))
    if st.session_state.get(choice_key) not in by_id or not st.session_state.get(pinned_key):
        st.session_state[choice_key] = newest  # new panel, compacted, or following the head
    st.session_state[head_key] = newest
    st.session_state[f"{prefix}_ids"] = frozenset(by_id)
    choice = st.selectbox(
        "Version",
        [v.version for v in reversed(versions)],
        format_func=label,
        key=choice_key,
        on_change=_picked,
        args=(prefix,),
        help=f"Every change recorded in this room, newest first{more}.",
    )
    chosen = by_id[choice]
    changed = names((label_of(i) for i in items_of(chosen.keys)), most=6)
    st.caption(
        f"{when(chosen.time, now=now, tz=tz)} ({ago(chosen.time, now=now)}) · by "
        f"**{_who(chosen)}** · changed {changed}"
    )
    try:
        then = _state_at(history, prefix, choice, cache=choice != newest)
    except UnknownVersion:  # dropped by compaction since the list was read
        st.session_state[pinned_key] = False
        st.rerun(scope="fragment")
    rows = compare(then, room_contents(room))
    st.html(_preview(rows))
    _restore_controls(room, session, prefix, chosen, rows, f"#{choice}", tz)


def _restore_controls(
    room: Room,
    session: str,
    prefix: str,
    chosen: Version,
    rows: list[Row],
    number: str,
    tz: tzinfo,
) -> None:
    differing = [r for r in rows if r.differs]
    by_item = {r.item: r for r in rows}
    picked_key = f"{prefix}_items"
    picked_before = st.session_state.get(picked_key)
    if isinstance(picked_before, list) and any(i not in by_item for i in picked_before):
        st.session_state[picked_key] = [i for i in picked_before if i in by_item]
    restore_all = st.button(
        "Restore this version",
        key=f"{prefix}_restore",
        disabled=not differing,
        help="Write this version's values forward as a new change by you: everyone sees "
        "it, edits made since by others merge with it, your Undo takes it back, and the "
        "history keeps every version.",
    )
    pick, go = st.columns([3, 1], vertical_alignment="bottom")
    with pick:
        picked = st.multiselect(
            "Restore only these keys",
            [r.item for r in rows],
            format_func=lambda i: by_item[i].label + (" (changed)" if by_item[i].differs else ""),
            key=picked_key,
            placeholder="Pick keys to restore",
        )
    with go:
        restore_some = st.button(
            "Restore these keys", key=f"{prefix}_restore_some", disabled=not picked
        )
    if not (restore_all or (restore_some and picked)):
        return
    items = None if restore_all else [by_item[i] for i in picked if i in by_item]
    keys = None if items is None else sorted({k for r in items for k in r.keys})
    try:
        written = room.restore(chosen.version, keys=keys, origin=session)
    except (UnknownVersion, NoHistory) as exc:
        st.error(f"Nothing was restored: {exc}")
        return
    what = "the whole room" if items is None else names(r.label for r in items)
    at = when(chosen.time, now=datetime.now(UTC), tz=tz)
    shown = f"version {number} ({at}, by {_who(chosen)})"
    if written:
        changed = names(label_of(i) for i in items_of(written))
        message = f"Restored {what} as of {shown}: {changed}."
    else:
        message = f"Nothing to restore: {what} already holds the values of {shown}."
    st.session_state[f"{prefix}_done"] = (message, chosen.version, time.monotonic())
    st.session_state.pop(picked_key, None)
    st.toast(message, icon="↩")
    # The whole page, once this run ends: this person's own widgets show the restored
    # values (others are rerun by the room's change).
    runtime.scheduler.push(session, {None}, always)


def _picked(prefix: str) -> None:
    """The person chose a version: it stays chosen, unless it is the newest (then the
    panel follows the newest version as others change the room).

    A version's label can change while a page shows it (the newest one grows as its
    author goes on, and stops being "current"): a page may send the old label, which
    Streamlit hands over as a value that is no version; that is no choice either.
    """
    state = st.session_state
    chosen = state.get(f"{prefix}_version")
    known = chosen in state.get(f"{prefix}_ids", ())
    state[f"{prefix}_pinned"] = known and chosen != state.get(f"{prefix}_head")


def _who(version: Version) -> str:
    return names(version.who, most=3) if version.who else "nobody known"


def _state_at(
    history: RoomHistory, prefix: str, version: str, *, cache: bool
) -> dict[str, dict[str, Any]]:
    cached: dict[str, dict[str, dict[str, Any]]] = st.session_state.setdefault(
        f"{prefix}_cache", {}
    )
    if version in cached:
        return cached[version]
    state = history.state_at(version)
    if cache:
        while len(cached) >= CACHED:
            cached.pop(next(iter(cached)))
        cached[version] = state
    return state


def _reader_zone() -> tzinfo:
    """The browser's time zone (``st.context.timezone``), else UTC."""
    try:
        name = st.context.timezone
        return ZoneInfo(name) if name else UTC
    except Exception:
        return UTC


_CELL = "padding:4px 10px;border-bottom:1px solid rgba(128,128,128,0.2);vertical-align:top"
_DIFF = "background:rgba(255,190,0,0.18)"
_TAG = (
    "display:inline-block;margin-left:6px;padding:0 6px;border-radius:8px;font-size:0.75em;"
    "background:rgba(255,160,0,0.35)"
)


def _preview(rows: list[Row]) -> str:
    """The room at the version beside the room now, as an HTML table."""
    head = "".join(
        f'<th style="{_CELL};text-align:left">{h}</th>' for h in ("", "At this version", "Now")
    )
    body = []
    for row in rows:
        style = f' style="{_DIFF}"' if row.differs else ""
        tag = f'<span style="{_TAG}">changed since</span>' if row.differs else ""
        body.append(
            f'<tr data-item="{html.escape(row.item)}" data-differs="{str(row.differs).lower()}"'
            f"{style}>"
            f'<td style="{_CELL}"><code>{html.escape(row.label)}</code>{tag}</td>'
            f'<td style="{_CELL}">{html.escape(row.then)}</td>'
            f'<td style="{_CELL}">{html.escape(row.now)}</td></tr>'
        )
    if not body:
        body.append(f'<tr><td style="{_CELL}" colspan="3">The room is empty.</td></tr>')
    return (
        '<div data-testid="crdt-history-preview" style="overflow-x:auto">'
        f'<table style="border-collapse:collapse;width:100%;font-size:0.9em">'
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table></div>"
    )
