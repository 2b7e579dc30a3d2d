"""A shared form: open it in two tabs and edit at the same time."""

import datetime

import streamlit as st

import crdt_sync

st.set_page_config(page_title="crdt_sync: shared form", page_icon="🤝")
room = crdt_sync.room_selector(default="lobby") or "lobby"
st.title(f"Shared form · {room}")
with crdt_sync.sync(room):
    st.text_input("Title", key="title")
    st.text_area("Notes", key="notes")
    st.slider("Level", 0, 100, key="level")
    st.multiselect("Tags", ["urgent", "bug", "feature", "docs"], key="tags")
    st.date_input("Due", datetime.date(2026, 12, 1), key="due")
    st.checkbox("Done", key="done")
    st.text_input("My private draft", key=crdt_sync.private("draft"))
crdt_sync.presence_bar()
c1, c2 = st.columns(2)
with c1:
    crdt_sync.undo_button()
with c2:
    crdt_sync.redo_button()
