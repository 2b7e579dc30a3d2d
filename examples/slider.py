"""One slider for everyone: move it in one tab, it moves in every tab."""

import streamlit as st

import crdt_sync

st.set_page_config(page_title="crdt_sync: slider", page_icon="🎚️")
st.title("Shared slider")

with crdt_sync.sync("slider"):
    level = st.slider("Level", 0, 100, 50, key="level")

st.write(f"{level} squared is {level * level}")
crdt_sync.presence_bar()
