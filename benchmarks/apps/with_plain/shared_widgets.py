"""The app of ``shared_widgets.py`` without any library: two text inputs and their echo
lines, nothing shared (the baseline of `benchmarks.load`: one plain rerun, an idle
session's memory)."""

import streamlit as st

a = st.text_input("Alpha", key="a")
b = st.text_input("Beta", key="b")
st.text(f"seen a:{a}|")
st.text(f"seen b:{b}|")
