"""A chat with streamlit-server-state, as its app_chat.py does it (list replaced under the lock)."""

import streamlit as st
from streamlit_server_state import server_state, server_state_lock

with server_state_lock["messages"]:
    if "messages" not in server_state:
        server_state["messages"] = []
if text := st.chat_input("Say something"):
    with server_state_lock["messages"]:
        server_state["messages"] = server_state["messages"] + [text]
for message in server_state["messages"]:
    st.chat_message("user").write(message)
