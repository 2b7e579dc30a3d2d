"""A chat with streamlit-sync: the message list is a synced session_state value."""

import streamlit as st
import streamlit_sync

with streamlit_sync.sync("bench", cache_dir=".st_sync_cache"):
    if st.session_state.get("messages") is None:
        st.session_state["messages"] = []
    if text := st.chat_input("Say something"):
        st.session_state["messages"] = [*st.session_state["messages"], text]
for message in st.session_state["messages"]:
    st.chat_message("user").write(message)
