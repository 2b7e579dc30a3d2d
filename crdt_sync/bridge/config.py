"""Which store the process uses: the engine's `crdt_sync.doc.config`, under its old path.

Store specs, the process's Hub and ``configure`` live in the engine (no Streamlit needed);
this module re-exports them for the bridge's existing imports.
"""

from __future__ import annotations

from ..doc.config import announce_live_channel as announce_live_channel
from ..doc.config import configure as configure
from ..doc.config import configured_store as configured_store
from ..doc.config import hub as hub
from ..doc.config import live_channel as live_channel
from ..doc.store_specs import DEFAULT_STORE as DEFAULT_STORE
from ..doc.store_specs import ENV_VAR as ENV_VAR
from ..doc.store_specs import open_store as open_store

__all__ = [
    "DEFAULT_STORE",
    "ENV_VAR",
    "announce_live_channel",
    "configure",
    "configured_store",
    "hub",
    "live_channel",
    "open_store",
]
