"""Shared text areas with crdt_sync: concurrent edits merge character-wise.

One area per typing trial ("Story 0", "Story 1", ...), so every trial starts from a field
nobody has edited (``?areas=N``, default 10).
"""

import streamlit as st

import crdt_sync

with crdt_sync.sync("bench"):
    for i in range(int(st.query_params.get("areas", 10))):
        story = st.text_area(f"Story {i}", key=f"story{i}")
        st.text(f"seen story {i}:{story}|")
