"""A hidden component that tells the server which text a person started typing on.

Streamlit keeps the unsent text of a field someone is typing in when the server gives the
field a new value, so a commit can be typed on an older view than the one the page was
given last (someone else's text arrived meanwhile). Values alone cannot tell that apart
from a person who saw the new text and replaced it. The probe's script
(``typing_probe.js``) reports, at the first keystroke in a shared text field, a
fingerprint of the text the field held just before; the binding applies the edit from the
view with that fingerprint. The probe is hidden, sits in a fragment of its own (its
reports rerun only the probe), and is mounted once per run, in the first ``sync`` block
outside fragments and forms.

```py
typing_probe.mount()                  # inside the first sync block of a full run
typing_probe.typed_on()               # {"notes": "12:9f3a01c2"}: CSS key -> fingerprint
typing_probe.fingerprint("some text")
```
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from importlib import resources
from typing import Any

import streamlit as st

from .edit_base import fingerprint as fingerprint

COMPONENT = "crdt-sync.typing_probe"
KEY = "_crdt_sync_typing_probe"
"""The probe's widget key (never shared: the binding skips ``_crdt_sync`` keys)."""

# The probe's own element and the block its fragment makes: neither takes room or a gap.
# (A newline: Streamlit takes a one-line string with "[" for a file path.)
_CSS = (
    f".st-key-{KEY},\n[data-testid='stLayoutWrapper']:has(> [data-testid='stVerticalBlock'] "
    f"> .st-key-{KEY}) {{ display: none !important; }}\n"
)
_mount: Callable[..., Any] | None = None


def css_key(key: str) -> str:
    """The name Streamlit gives a widget key in its ``st-key-`` CSS class."""
    return re.sub(r"[^a-zA-Z0-9_-]", "-", key.strip())


def _component() -> Callable[..., Any]:
    global _mount
    if _mount is None:
        script = resources.files(__package__).joinpath("typing_probe.js").read_text("utf-8")
        _mount = st.components.v2.component(
            COMPONENT, html="<span></span>", js=script, css=_CSS, isolate_styles=False
        )
    return _mount


@st.fragment
def mount() -> None:
    """Mount the probe (in its own fragment); call it once per run."""
    _component()(key=KEY, default={"bases": {}}, on_bases_change=_ignore, height=0)


def _ignore() -> None:
    """The report needs no work of its own: the next run reads it (`typed_on`)."""


def typed_on() -> dict[str, str]:
    """What the page last reported: CSS key of a text field -> fingerprint of the text the
    person started typing on (empty before any report)."""
    state = st.session_state.get(KEY)
    bases = state.get("bases") if isinstance(state, Mapping) else None
    if not isinstance(bases, Mapping):
        return {}
    return {str(k): str(v) for k, v in bases.items() if isinstance(v, str)}
