"""streamlit-server-state's counter (README), without the lock."""

import streamlit as st
from streamlit_server_state import server_state

if "count" not in server_state:
    server_state.count = 0
if st.button("+1"):
    server_state.count += 1
st.text(f"count={server_state.count}|")
