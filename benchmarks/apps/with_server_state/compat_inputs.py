"""Two inputs kept in server_state the way many streamlit-server-state apps keep them:
each run copies the shared value into the widget's key before the widget is created, and
the input's on_change writes it back. streamlit-server-state itself."""

import streamlit as st
from streamlit_server_state import server_state


def publish(key: str) -> None:
    server_state[key] = st.session_state[key]


for key in ("a", "b"):
    if key in server_state:
        st.session_state[key] = server_state[key]

st.text_input("Alpha", key="a", on_change=publish, args=("a",))
st.text_input("Beta", key="b", on_change=publish, args=("b",))
