"""Meeting notes: a shared form, and one text area that several people type in at once."""

import datetime

import streamlit as st

import crdt_sync

st.set_page_config(page_title="crdt_sync: notes", page_icon="📝")
st.title("Meeting notes")

with crdt_sync.sync("notes"):
    with st.form("meeting_form"):  # fields travel when someone clicks Save
        st.text_input("Meeting", key="meeting")
        st.date_input("Date", datetime.date(2026, 12, 1), key="date")
        st.selectbox("Status", ["planned", "held", "cancelled"], key="status")
        st.form_submit_button("Save")
    st.text_area("Notes", key="notes", height=240)  # everyone's keystrokes are kept

crdt_sync.presence_bar()
crdt_sync.undo_button()
with st.sidebar:
    st.subheader("Offline copy")
    crdt_sync.offline_controls("notes")
