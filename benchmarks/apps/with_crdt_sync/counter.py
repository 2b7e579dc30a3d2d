"""A shared counter with crdt_sync: a merging counter, no lock needed."""

import streamlit as st

import crdt_sync

count = crdt_sync.shared_state("bench").counter("count")
if st.button("+1"):
    count.increment()
st.text(f"count={count.value}|")
