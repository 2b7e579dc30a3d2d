"""One chat room: messages sent at the same moment are all kept, in one order everywhere."""

import random

import streamlit as st

import crdt_sync

st.set_page_config(page_title="crdt_sync: chat", page_icon="💬")
st.title("Chat")

if "name" not in st.session_state:
    st.session_state["name"] = f"guest-{random.randint(100, 999)}"
name = st.sidebar.text_input("Your name", key="name")  # outside sync: private to this tab

messages = crdt_sync.shared_state("chat").list("messages")  # a list that merges
if text := st.chat_input("Say something"):
    messages.append({"who": name, "text": text})

for message in messages:
    with st.chat_message(message["who"]):
        st.markdown(f"**{message['who']}**: {message['text']}")
