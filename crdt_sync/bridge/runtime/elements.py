"""What a ``sync`` block puts on the page, read off the messages Streamlit sends.

The block learns which widgets it created (and so which keys it shares), which of them
sit in forms that clear on submit, which shareable widgets have no key (and so are not
shared), and when a form is created, so that a value for a key the form shares with its
widget is put in place only once Streamlit's check of the form has passed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from .context import script_ctx, warn_once
from .state_facts import _session_state_internals

# Element types whose value a person sets and the bridge can share.
SHAREABLE_ELEMENTS = frozenset(
    {
        "text_input",
        "text_area",
        "number_input",
        "slider",
        "selectbox",
        "multiselect",
        "radio",
        "checkbox",
        "date_input",
        "time_input",
        "color_picker",
        "button_group",
    }
)


@dataclass
class KeylessWidget:
    """A shareable widget made without ``key=``: it cannot be shared.

    Attributes:
        kind: The element type, e.g. ``"slider"``.
        label: Its label.
    """

    kind: str
    label: str


@dataclass
class ElementWatch:
    """What the block created, from the messages it sent."""

    clearing_forms: set[str] = field(default_factory=set)
    widget_forms: dict[str, str] = field(default_factory=dict)  # widget id -> form id
    widget_ids: list[str] = field(default_factory=list)
    keyless: list[KeylessWidget] = field(default_factory=list)
    forms: set[str] = field(default_factory=set)
    on_form: Callable[[str], None] | None = None

    def see(self, msg: Any) -> None:
        if msg.WhichOneof("type") != "delta":
            return
        delta = msg.delta
        kind = delta.WhichOneof("type")
        if kind == "add_block" and delta.add_block.WhichOneof("type") == "form":
            form = delta.add_block.form
            self.forms.add(form.form_id)
            if form.clear_on_submit:
                self.clearing_forms.add(form.form_id)
            if self.on_form is not None:
                self.on_form(form.form_id)
        elif kind == "new_element":
            element = delta.new_element
            which = element.WhichOneof("type")
            proto = getattr(element, which) if which else None
            widget_id = getattr(proto, "id", "")
            if not isinstance(widget_id, str) or not widget_id.startswith("$$ID-"):
                return
            self.widget_ids.append(widget_id)
            form_id = getattr(proto, "form_id", "")
            if form_id:
                self.widget_forms[widget_id] = form_id
            if which in SHAREABLE_ELEMENTS and widget_id.endswith("-None"):
                self.keyless.append(KeylessWidget(str(which), str(getattr(proto, "label", ""))))

    def _keys_of(self, widget_ids: Iterator[str] | list[str]) -> set[str]:
        state = _session_state_internals()
        keys: set[str] = set()
        if state is None:
            return keys
        for widget_id in widget_ids:
            try:
                keys.add(state._key_id_mapper.get_key_from_id(widget_id))
            except (KeyError, AttributeError):
                continue
        return keys

    def widget_keys(self) -> set[str]:
        """User keys of the widgets the block created."""
        return self._keys_of(self.widget_ids)

    def clearing_keys(self) -> set[str]:
        """User keys of widgets inside ``st.form(clear_on_submit=True)`` forms."""
        return self._keys_of([w for w, f in self.widget_forms.items() if f in self.clearing_forms])


@contextmanager
def watch_elements(watch: ElementWatch) -> Iterator[ElementWatch]:
    """Let ``watch`` see what the block creates (see `ElementWatch`).

    Args:
        watch: The watch; its ``on_form`` is called with a form's id right after the
            form was created.
    """
    ctx = script_ctx()
    original = getattr(ctx, "_enqueue", None)
    if ctx is None or original is None:
        yield watch
        return

    def enqueue(msg: Any) -> None:
        try:
            watch.see(msg)
        except Exception as exc:
            warn_once("ForwardMsg elements", exc)
        original(msg)

    ctx._enqueue = enqueue
    try:
        yield watch
    finally:
        ctx._enqueue = original
