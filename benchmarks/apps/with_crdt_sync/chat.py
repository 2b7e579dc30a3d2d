"""A chat with crdt_sync: messages live in a merging list."""

import streamlit as st

import crdt_sync

messages = crdt_sync.shared_state("bench").list("messages")
if text := st.chat_input("Say something"):
    messages.append(text)
for message in messages:
    st.chat_message("user").write(message)
