"""One shared text area with streamlit-server-state (its shared-widget pattern)."""

import streamlit as st
from streamlit_server_state import server_state, server_state_lock

with server_state_lock["story"]:
    if "story" not in server_state:
        server_state.story = ""
    server_state.story = st.text_area("Story", value=server_state.story)
st.text(f"seen story:{server_state.story}|")
