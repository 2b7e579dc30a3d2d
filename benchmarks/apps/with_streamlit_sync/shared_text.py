"""Shared text areas with streamlit-sync (one per typing trial; ``?areas=N``, default 10)."""

import streamlit as st
import streamlit_sync

with streamlit_sync.sync("bench", cache_dir=".st_sync_cache"):
    for i in range(int(st.query_params.get("areas", 10))):
        story = st.text_area(f"Story {i}", key=f"story{i}")
        st.text(f"seen story {i}:{story}|")
