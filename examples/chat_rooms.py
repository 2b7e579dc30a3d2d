"""Chat with rooms: pick or create a room in the sidebar, see who else is in it."""

import streamlit as st

import crdt_sync

st.set_page_config(page_title="crdt_sync: chat rooms", page_icon="💬")

room = crdt_sync.room_selector("Chat room", default="general")
name = st.sidebar.text_input("Display name", key="display_name")
crdt_sync.set_name(name or None)
if room is None:
    st.info("Pick or create a room in the sidebar.")
    st.stop()

st.title(f"# {room}")
messages = crdt_sync.shared_state(room).list("messages")
crdt_sync.presence_bar(room)

if text := st.chat_input(f"Message #{room}", disabled=not name):
    messages.append({"who": name, "text": text})
if not name:
    st.caption("Choose a display name in the sidebar to write.")

for message in messages:
    with st.chat_message(message["who"]):
        st.markdown(f"**{message['who']}**: {message['text']}")
