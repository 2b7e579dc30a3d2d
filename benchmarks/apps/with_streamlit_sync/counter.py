"""A shared counter with streamlit-sync (its README's NB_CLICKS example); it has no lock."""

import streamlit as st
import streamlit_sync

with streamlit_sync.sync("bench", cache_dir=".st_sync_cache"):
    if st.session_state.get("count") is None:
        st.session_state["count"] = 0
    if st.button("+1"):
        st.session_state["count"] += 1
st.text(f"count={st.session_state['count']}|")
