"""What ``crdt-sync demo`` serves: the demo app plus the rooms' websocket route.

``streamlit run`` finds the ``st.App`` below and serves it, options included; the route
gives the whiteboard its live cursors (and lets any Yjs client join a room).
"""

from pathlib import Path

import streamlit as st

import crdt_sync

app = st.App(Path(__file__).with_name("app.py"), routes=[crdt_sync.yjs_route()])
