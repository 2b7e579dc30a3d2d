"""One shared text area with crdt_sync: concurrent edits merge character-wise."""

import streamlit as st

import crdt_sync

with crdt_sync.sync("bench"):
    story = st.text_area("Story", key="story")
st.text(f"seen story:{story}|")
