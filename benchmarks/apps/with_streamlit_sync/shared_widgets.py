"""Two shared text inputs with streamlit-sync (its README: widgets inside ``sync``)."""

import streamlit as st
import streamlit_sync

with streamlit_sync.sync("bench", cache_dir=".st_sync_cache"):
    a = st.text_input("Alpha", key="a")
    b = st.text_input("Beta", key="b")
st.text(f"seen a:{a}|")
st.text(f"seen b:{b}|")
