"""One shared text area with streamlit-sync."""

import streamlit as st
import streamlit_sync

with streamlit_sync.sync("bench", cache_dir=".st_sync_cache"):
    story = st.text_area("Story", key="story")
st.text(f"seen story:{story}|")
