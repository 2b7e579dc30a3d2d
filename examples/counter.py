"""A counter everyone shares: click in two tabs at once and no click is lost."""

import streamlit as st

import crdt_sync

st.set_page_config(page_title="crdt_sync: counter", page_icon="🔢")
st.title("Shared counter")

count = crdt_sync.shared_state("counter").counter("count")  # merges concurrent clicks
plus, minus = st.columns(2)
if plus.button("Increment", icon=":material/add:"):
    count.increment()
if minus.button("Decrement", icon=":material/remove:"):
    count.decrement()

st.metric("Count", count.value)
crdt_sync.presence_bar("counter")
