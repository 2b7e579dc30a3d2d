"""A chat written for streamlit-server-state; only the import line was changed.

Before: from streamlit_server_state import server_state, server_state_lock
"""

import streamlit as st

from crdt_sync.compat.server_state import server_state, server_state_lock

st.title("Chat (a streamlit-server-state app)")

with server_state_lock["chat_messages"]:
    if "chat_messages" not in server_state:
        server_state["chat_messages"] = []

nickname = st.text_input("Nickname", key="nickname")
if not nickname:
    st.warning("Choose a nickname to chat.")
    st.stop()


def on_message():
    text = st.session_state["message"]
    if not text:
        return
    with server_state_lock["chat_messages"]:
        server_state["chat_messages"] = server_state["chat_messages"] + [
            {"nickname": nickname, "text": text}
        ]
    st.session_state["message"] = ""


st.text_input("Message", key="message", on_change=on_message)
st.subheader("Messages")
for message in server_state["chat_messages"]:
    st.markdown(f"**{message['nickname']}**: {message['text']}")
