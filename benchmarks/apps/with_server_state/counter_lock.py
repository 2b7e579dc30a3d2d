"""streamlit-server-state's counter exactly as its README writes it: with the lock."""

import streamlit as st
from streamlit_server_state import server_state, server_state_lock

with server_state_lock["count"]:
    if "count" not in server_state:
        server_state.count = 0
if st.button("+1"):
    with server_state_lock.count:
        server_state.count += 1
st.text(f"count={server_state.count}|")
