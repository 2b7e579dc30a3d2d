"""Which rerun requests carry a click: a one-run event a button, chat input or component
sends, that the run must not lose."""

from __future__ import annotations

from typing import Any

_CLICK_FIELDS = ("trigger_value", "string_trigger_value", "chat_input_value", "json_trigger_value")


def has_click(client_state: Any) -> bool:
    """Whether a rerun request carries a click (a one-run event) of some widget."""
    states = getattr(client_state, "widget_states", None)
    for widget in getattr(states, "widgets", ()):
        field = widget.WhichOneof("value")
        if field == "trigger_value":
            if widget.trigger_value:
                return True
        elif field == "json_trigger_value":
            if widget.json_trigger_value:
                return True
        elif field in _CLICK_FIELDS:
            return True
    return False
