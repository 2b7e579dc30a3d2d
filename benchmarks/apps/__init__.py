"""The small apps the benchmarks run, each written once per library.

``with_crdt_sync/``, ``with_server_state/`` (streamlit-server-state) and
``with_streamlit_sync/`` (streamlit-sync) hold the same apps, written the way each
library's own README and examples write them:

- ``shared_widgets.py``: two shared text inputs, "Alpha" and "Beta", and an echo line per
  value (``seen a:<value>|``) that the harness watches for.
- ``shared_text.py``: one shared text area, "Story", and its echo line.
- ``counter.py``: a shared counter with a "+1" button, without a lock;
  ``counter_lock.py``: the same with the anchor's lock (``server_state_lock``).
- ``chat.py``: a chat (``st.chat_input``) whose messages every session sees.

``overhead.py`` (here) is the 100-widget app of the bridge-overhead measure, with and
without ``crdt_sync.sync`` (``?mode=sync`` / ``?mode=plain``).

The directories are named ``with_*`` so that no app directory shadows a package of the
same name on ``sys.path`` (Streamlit puts the script's directory first).
"""

from __future__ import annotations

from pathlib import Path

APPS = Path(__file__).resolve().parent

#: Library label -> (directory, distribution name on PyPI, import name).
LIBRARIES: dict[str, tuple[str, str, str]] = {
    "crdt_sync": ("with_crdt_sync", "crdt-sync", "crdt_sync"),
    "streamlit-server-state": (
        "with_server_state",
        "streamlit-server-state",
        "streamlit_server_state",
    ),
    "streamlit-sync": ("with_streamlit_sync", "streamlit-sync", "streamlit_sync"),
}


def app_path(library: str, app: str) -> Path:
    """The script of ``app`` (e.g. ``"chat"``) written with ``library``."""
    return APPS / LIBRARIES[library][0] / f"{app}.py"
