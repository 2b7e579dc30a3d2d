"""Drop-in APIs of streamlit-server-state and streamlit-sync, running on crdt_sync rooms.

Change the import line and keep the app:

```py
from crdt_sync.compat.server_state import server_state, server_state_lock
from crdt_sync.compat import streamlit_sync
```
"""
