"""One shared text area in a room named by ``?room=``, the way an app author writes it."""

import streamlit as st

import crdt_sync

with crdt_sync.sync(st.query_params.get("room", "notes")):
    st.text_area("Notes", key="notes")
