"""The crdt_sync demo: a dashboard several people use at once. ``crdt-sync demo`` starts it.

Open it in two tabs: every filter, the task table, the notes and the whiteboard are shared
by everyone in the room, and edits made at the same time are merged, not overwritten. The
room's history (who changed what; any past version previewed and restored) is at the end.
"""

from __future__ import annotations

import datetime as dt

import streamlit as st

import crdt_sync
from crdt_sync.demo import data

st.set_page_config(page_title="crdt_sync demo", page_icon="🤝", layout="wide")

SALES = data.sales()
FIRST, LAST = SALES["date"].min().date(), SALES["date"].max().date()

with st.sidebar:
    st.markdown("### crdt_sync demo")
    room = crdt_sync.room_selector(default="demo") or "demo"
    name = st.text_input("Your name", key=crdt_sync.private("name"), placeholder="e.g. Ann")
    crdt_sync.set_name(name.strip() or None)
    st.caption("Shown to everyone in the room.")
    with st.expander("Offline copy of the room"):
        crdt_sync.offline_controls(room)
    st.caption("Rooms are Yjs documents stored on this server; they survive restarts.")

st.markdown(f"## Team dashboard · room **{room}**")
st.info(
    "**Everything on this page is shared live.** Open it in a second tab (or send the link): "
    "move a filter, tick a task, type a note, draw on the board, and watch the other tab "
    "follow. Two people editing at the same moment both keep their changes; Undo takes "
    "back only your own.",
)

with crdt_sync.sync(room):
    top = st.columns([3, 2, 2], vertical_alignment="bottom")
    with top[0]:
        crdt_sync.presence_bar(room)
    with top[1]:
        u, r = st.columns(2)
        with u:
            crdt_sync.undo_button(room, key="demo_undo")
        with r:
            crdt_sync.redo_button(room, key="demo_redo")

    filters, chart = st.columns([2, 3], gap="large")
    with filters:
        st.markdown("#### Shared filters")
        regions = st.multiselect("Regions", data.REGIONS, default=list(data.REGIONS), key="regions")
        period = st.date_input(
            "Period", (dt.date(2026, 2, 1), dt.date(2026, 5, 31)), FIRST, LAST, key="period"
        )
        smooth = st.slider("Smooth over (days)", 1, 14, 7, key="smooth")
    with chart:
        start, end = (
            (period[0], period[-1])
            if isinstance(period, tuple | list) and period
            else (FIRST, LAST)
        )
        view = SALES[
            SALES["region"].isin(regions)
            & (SALES["date"].dt.date >= start)
            & (SALES["date"].dt.date <= end)
        ]
        daily = view.pivot_table(index="date", columns="region", values="orders", aggfunc="sum")
        st.markdown(f"#### Orders per day · {int(view['orders'].sum()):,} in the period")
        if daily.empty:
            st.caption("No data for these filters.")
        else:
            st.line_chart(daily.rolling(smooth, min_periods=1).mean().round(1), height=270)

    left, right = st.columns([3, 2], gap="large")
    with left:
        st.markdown("#### Shared tasks")
        crdt_sync.data_editor(
            "tasks",
            data.tasks(),
            key="tasks",
            room=room,
            column_config={
                "task": st.column_config.TextColumn("Task", width="medium"),
                "owner": st.column_config.TextColumn("Owner", width="small"),
                "points": st.column_config.NumberColumn("Points", width="small"),
                "done": st.column_config.CheckboxColumn("Done", width="small"),
                "due": st.column_config.DateColumn("Due", width="small"),
            },
        )
    with right:
        st.markdown("#### Shared notes")
        st.text_area(
            "Notes",
            key="notes",
            height=220,
            placeholder="Type here while someone else types too: both texts are kept.",
            label_visibility="collapsed",
        )

st.markdown("#### Whiteboard")
st.caption("Draw, add sticky notes, move things around: each stroke appears on every page.")
crdt_sync.whiteboard(room, key="board", height=520)

with st.expander("History of this room: who changed what, restore a past version", icon="🕘"):
    st.caption(
        "Every change is recorded under the name its author gave in the sidebar. Pick a version to "
        "see the room as it was; restoring writes it forward as a new change by you, so "
        "everyone sees it and your Undo takes it back."
    )
    crdt_sync.history_panel(room)
