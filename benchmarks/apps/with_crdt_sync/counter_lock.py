"""streamlit-server-state's locked counter, run on crdt_sync by changing the import line."""

import streamlit as st

from crdt_sync.compat.server_state import server_state, server_state_lock

with server_state_lock["count"]:
    if "count" not in server_state:
        server_state.count = 0
if st.button("+1"):
    with server_state_lock.count:
        server_state.count += 1
st.text(f"count={server_state.count}|")
