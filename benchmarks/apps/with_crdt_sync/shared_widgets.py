"""Two shared text inputs with crdt_sync (propagation, lost edits, server cost)."""

import streamlit as st

import crdt_sync

with crdt_sync.sync("bench"):
    a = st.text_input("Alpha", key="a")
    b = st.text_input("Beta", key="b")
st.text(f"seen a:{a}|")
st.text(f"seen b:{b}|")
