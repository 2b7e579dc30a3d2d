"""Which widgets the bridge shares, and how each kind of value merges.

| widget value | bridge kind |
|---|---|
| ``text_input``, ``text_area`` | ``"text"``: merges character-wise |
| ``multiselect``, multi ``pills`` / ``segmented_control`` | ``"set"``: add-wins |
| any other value widget | ``"register"``: last writer wins, per key |
| buttons, uploads, chat input, data editor, selections | never shared (events) |
"""

from __future__ import annotations

from typing import Any, Literal

BridgeKind = Literal["text", "register", "set"]

# Widgets whose value is an event or cannot be written through st.session_state.
NEVER_SYNCED = frozenset(
    {
        "button",
        "download_button",
        "form_submit_button",
        "file_uploader",
        "camera_input",
        "audio_input",
        "chat_input",
        "data_editor",
        "menu_button",
        "component",
        "dataframe_selection",
        "plotly_chart_selection",
        "vega_lite_state",
        "pydeck_selection",
        "e_charts_chart_selection",
        "expander",
        "popover",
        "tabs",
        "pagination",
    }
)
TEXT_WIDGETS = frozenset({"text_input", "text_area"})
SET_WIDGETS = frozenset({"multi_select", "multi_select_button_group"})


def same(a: Any, b: Any) -> bool:
    """Equal and of the same type (``1``, ``1.0`` and ``True`` are different values)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, list | tuple):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    try:
        return bool(a == b)
    except Exception:
        return False


def classify(widget: str | None, value_type: str | None, value: Any) -> BridgeKind | None:
    """How a key is shared, from the widget that owns it (None: never synced)."""
    if widget in NEVER_SYNCED or value_type in ("trigger_value", "json_trigger_value"):
        return None
    if widget in TEXT_WIDGETS:
        return "text"
    if widget in SET_WIDGETS:
        return "set"
    return "register"
