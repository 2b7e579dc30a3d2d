"""Streamlit components built on the bridge: a shared whiteboard and a shared data editor."""
