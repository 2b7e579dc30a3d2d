"""streamlit-server-state's counter without its lock, run on crdt_sync (compat import)."""

import streamlit as st

from crdt_sync.compat.server_state import server_state

if "count" not in server_state:
    server_state.count = 0
if st.button("+1"):
    server_state.count += 1
st.text(f"count={server_state.count}|")
