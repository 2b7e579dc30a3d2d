"""Shared text areas with streamlit-server-state (its shared-widget pattern).

One area per typing trial ("Story 0", "Story 1", ...; ``?areas=N``, default 10).
"""

import streamlit as st
from streamlit_server_state import server_state, server_state_lock

for i in range(int(st.query_params.get("areas", 10))):
    key = f"story{i}"
    with server_state_lock[key]:
        if key not in server_state:
            server_state[key] = ""
        server_state[key] = st.text_area(f"Story {i}", value=server_state[key])
    st.text(f"seen story {i}:{server_state[key]}|")
