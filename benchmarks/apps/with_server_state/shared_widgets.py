"""Two shared text inputs with streamlit-server-state, as its shared-widget example does it
(app_global_widget.py: the widget's value comes from and goes back to server_state)."""

import streamlit as st
from streamlit_server_state import server_state, server_state_lock

with server_state_lock["a"]:
    if "a" not in server_state:
        server_state.a = ""
    server_state.a = st.text_input("Alpha", value=server_state.a)
with server_state_lock["b"]:
    if "b" not in server_state:
        server_state.b = ""
    server_state.b = st.text_input("Beta", value=server_state.b)
st.text(f"seen a:{server_state.a}|")
st.text(f"seen b:{server_state.b}|")
