"""SessionBinding: one browser session bound to one room.

It decides, on every run, what the person changed and what their page must show, from
facts Streamlit has rather than from values alone. The rule, for each shared key:

1. **Set by the app's code in this run** (a callback such as a Reset button's, or the
   script body before the block; Streamlit keeps these apart from browser values): an
   edit by this person, never an echo, if the session already held the key. If the key
   was absent (``if "k" not in st.session_state: st.session_state.k = default``, or a
   page switch that dropped it), it is a default: the room's value shows instead.
2. **Sent by the browser** and different from what the page was shown: an edit, unless
   it equals a value the page was shown before the latest one, the page can still be
   showing it (text until the page reports the newer value, other values for
   `ECHO_WINDOW` seconds) and the request changed something else too (the widget the
   person touched, a button): an *echo* of a page that had not caught up. An edit is applied against
   what the person was looking at: text is rebased from the view they typed on, so what
   arrived meanwhile stays; set edits add and remove only what the person added and
   removed; registers are written (last writer wins).
3. **Anything else** (a key the session lost, e.g. on another page of a multipage app):
   not an edit.

Then every shared key whose room value differs from what the session holds is written
into ``st.session_state`` before the widgets are created, so widgets show the room.
After the block, widgets it created whose keys the room does not have yet are adopted
(their value becomes the room's), and values the app's code set inside the block are
edits. Which room a block is bound to is decided per run (see `sync`): when it moves to
another room, the old room's values leave the page first.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable, Mapping, MutableMapping
from typing import Any

from ..doc import Room
from .edit_base import closest_list, typed_base
from .facts import EntryFacts as EntryFacts
from .key_state import ECHO_WINDOW as ECHO_WINDOW
from .key_state import MISSING as _MISSING
from .key_state import RESEND_FOR, KeyState
from .kinds import classify, same

log = logging.getLogger("crdt_sync.binding")

PRIVATE_PREFIX = "private:"
SHARED_PREFIX = "shared:"


class SessionBinding:
    """One session in one room.

    Args:
        session: The Streamlit session id (also the origin of its changes).
        room: The room.
        private_by_default: Only keys wrapped in `shared()` are synced.
    """

    def __init__(self, session: str, room: Room, *, private_by_default: bool = False) -> None:
        self.session = session
        self.room = room
        self.private_by_default = private_by_default
        self.read_only = False
        self.keys: dict[str, KeyState] = {}
        self.skipped: set[str] = set()
        self.fragments: set[str | None] = set()
        # The run that last entered a block bound here; after a whole run that did not
        # (another page of a multipage app, a branch not taken) the page shows nothing of
        # the room and is not rerun for its changes (`on_page`).
        self.entered_run: int | None = None
        self.on_page = True
        # Key prefixes a component (a whiteboard) shows itself: never copied into widgets.
        self.claimed: set[str] = set()
        self._dirty: set[str] = set()
        self._first = True
        self._entry_keys: set[str] = set()
        self._deferred: dict[str, Any] = {}
        self._behind = False
        self._typed_on: Mapping[str, str] = {}
        # key -> the typing probe's fingerprint when that text was committed: the same
        # fingerprint reported later means the person is no longer typing in it.
        self._committed: dict[str, str] = {}
        self._lock = threading.RLock()  # one run at a time
        self._dirty_lock = threading.Lock()  # taken by other threads' observers: never nest
        room.undo_manager(session)  # before any change, so it tracks them all

    # --- keys ------------------------------------------------------------------
    def room_key(self, key: str) -> str | None:
        """The room key a widget key maps to (None: not synced)."""
        if not isinstance(key, str) or key.startswith(
            ("$$", "_crdt_sync", "crdt_sync", "FormSubmitter:")
        ):
            return None
        if key.startswith(PRIVATE_PREFIX):
            return None
        if key.startswith(SHARED_PREFIX):
            return key[len(SHARED_PREFIX) :] or None
        return None if self.private_by_default else key

    def widget_key(self, room_key: str) -> str:
        """The widget key a room key shows up under in this session."""
        return SHARED_PREFIX + room_key if self.private_by_default else room_key

    # --- changes from the room ---------------------------------------------------
    def mark_dirty(self, keys: Iterable[str]) -> None:
        """Note room keys that changed; the next run pulls them. Thread-safe."""
        with self._dirty_lock:
            self._dirty.update(keys)

    def has_dirty(self) -> bool:
        """Whether the room changed since this session last caught up."""
        with self._dirty_lock:
            return bool(self._dirty)

    # --- one run -------------------------------------------------------------------
    def enter(
        self, state: MutableMapping[str, Any], facts: EntryFacts | set[str] | None = None
    ) -> None:
        """Before the block's widgets: publish the person's edits, then show the room.

        Args:
            state: ``st.session_state``.
            facts: What Streamlit knows about this run (a set: just the reported keys).
        """
        if not isinstance(facts, EntryFacts):
            facts = EntryFacts(reported=facts)
        with self._lock:
            self._typed_on = facts.typed_on
            edits = self._detect(state, facts)
            if edits:
                log.debug(
                    "session %s edits %s in room %r", self.session[:6], list(edits), self.room.name
                )
            if edits and self.read_only:
                for key in edits:
                    state[key] = self.keys[key].shown
                edits = {}
            if edits:
                self._publish(edits)
            self._deferred = {}
            self._behind = self._show(state, edits, facts=facts)
            self._entry_keys = set(state.keys())

    def take_deferred(self, key: str) -> Any:
        """The value to put under ``key`` now that the form sharing it exists (or a
        sentinel for which `has_value` is False)."""
        with self._lock:
            return self._deferred.pop(key, _MISSING)

    @staticmethod
    def has_value(value: Any) -> bool:
        """Whether `take_deferred` returned a value."""
        return value is not _MISSING

    def exit(
        self,
        state: MutableMapping[str, Any],
        kinds: dict[str, tuple[str | None, str | None]],
        clearing: set[str] | frozenset[str] = frozenset(),
        created: set[str] | None = None,
    ) -> bool:
        """After the block: adopt keys it created, publish values code set in it.

        Args:
            state: ``st.session_state``.
            kinds: widget key -> (widget kind, wire value type) for keys new in this run.
            clearing: keys of widgets in forms that clear on submit: they stay local (what
                was submitted is an event; afterwards the fields are empty on every page).
            created: keys of the widgets the block created (None: unknown, then keys new
                in the session during the block count as created).

        Returns:
            True if this session must rerun to show room values it could not show yet.
        """
        with self._lock:
            needs_rerun, self._behind = self._behind, False
            edits: dict[str, Any] = {}
            for key in list(state.keys()):
                if key in self.skipped:
                    continue
                ks = self.keys.get(key)
                if ks is None:
                    made_here = key not in self._entry_keys or (
                        created is not None and key in created
                    )
                    if not made_here:
                        continue  # made outside the block
                    if key in clearing:
                        self.skipped.add(key)
                        continue
                    needs_rerun |= self._adopt(key, state[key], kinds.get(key, (None, None)))
                elif not same(state[key], ks.shown):
                    edits[key] = state[key]
            if edits and not self.read_only:
                self._publish(edits)
                needs_rerun |= self._show(state, edits, widgets_created=True)
            elif edits:
                needs_rerun = True  # read-only: show the room's value again next run
            return needs_rerun

    def shown_keys(self) -> set[str]:
        """Widget keys this session shows from the room."""
        with self._lock:
            return set(self.keys)

    def _adopt(self, key: str, value: Any, kind: tuple[str | None, str | None]) -> bool:
        room_key = self.room_key(key)
        bridge_kind = classify(kind[0], kind[1], value)
        if room_key is None or bridge_kind is None:
            self.skipped.add(key)
            return False
        held = self.room.kind(room_key)
        if held is not None:
            # The room already has it (set by someone since this run started): show it next run.
            if held in ("text", "register", "set"):
                self.keys[key] = KeyState(room_key, held, value)  # type: ignore[arg-type]
            self.mark_dirty([room_key])
            return True
        self.keys[key] = KeyState(room_key, bridge_kind, _MISSING)
        if not self.read_only:
            self._publish({key: value})
        self.keys[key].shown = value
        return False

    def _detect(self, state: MutableMapping[str, Any], facts: EntryFacts) -> dict[str, Any]:
        edits: dict[str, Any] = {}
        now = time.monotonic()
        for key, ks in self.keys.items():
            if key not in state or ks.shown is _MISSING:
                continue
            value = state[key]
            if same(value, ks.shown):
                if facts.reported is None or key in facts.reported:
                    ks.superseded.clear()  # the page shows what it was given
                    ks.resend_until = 0.0
                continue
            if key in facts.code_set:
                # The app's own code set it: this person's change, unless it put a default
                # in place of a value the session did not hold (the room's value shows).
                if facts.held is None or key in facts.held:
                    edits[key] = value
                continue
            # The request changed this widget and nothing else: the person chose it. (No
            # request, a pushed run: a value carried over from an earlier one is no choice.)
            alone = facts.changed == frozenset({key})
            if not alone and any(same(value, old) for old in ks.older_views(now)):
                # An older view of this page: an echo if the browser sent it, else carried
                # over in the session from before it was shown the current value. Either
                # way not an edit; taking it for one would leave the page showing it.
                state[key] = ks.shown
                continue
            edits[key] = value
        return edits

    def _publish(self, edits: dict[str, Any]) -> None:
        with self.room.transaction(origin=self.session):
            for key, value in edits.items():
                ks = self.keys[key]
                candidates = [*(v for v, _t in ks.superseded), ks.shown]
                if ks.kind == "text":
                    new = "" if value is None else str(value)
                    typed_on = self._typed_on.get(key)
                    base = typed_base(candidates, new, typed_on)
                    if typed_on is not None:
                        self._committed[key] = typed_on
                    self.room.text(ks.room_key).update(new, base=base)
                elif ks.kind == "set":
                    new_items = list(value or [])
                    base_items = closest_list(candidates, new_items)
                    target = self.room.set(ks.room_key)
                    for item in base_items:
                        if item not in new_items:
                            target.discard(item)
                    for item in new_items:
                        if item not in base_items:
                            target.add(item)
                else:
                    self.room[ks.room_key] = value
                # The page shows what it sent; older views are gone from it.
                ks.superseded.clear()
                ks.resend_until = 0.0
                ks.shown = value

    def _read(self, room_key: str, kind: str) -> Any:
        if kind == "text":
            return str(self.room.text(room_key))
        if kind == "set":
            return self.room.set(room_key).to_list()  # one order on every page
        return self.room[room_key]

    def _show(
        self,
        state: MutableMapping[str, Any],
        edits: dict[str, Any],
        *,
        widgets_created: bool = False,
        facts: EntryFacts | None = None,
    ) -> bool:
        """Show what the room holds; True if some of it must wait for the next run."""
        behind = False
        facts = facts or EntryFacts()
        later: set[str] = set()  # keys another block of the page shows
        with self._dirty_lock:
            dirty, self._dirty = self._dirty, set()
        if self._first:
            dirty |= set(self.room.kinds())
            self._first = False
        dirty |= {self.keys[k].room_key for k in edits}
        now = time.monotonic()

        def again(key: str, held: KeyState) -> bool:
            # Given again, unless its person is typing in it (that can reset the field).
            typing = key in facts.typed_on and facts.typed_on[key] != self._committed.get(key)
            return held.resending(now) and not typing

        if not widgets_created:
            # A key the session lost or holds differently (e.g. it was on another page of
            # a multipage app meanwhile) is shown again, even if the room did not change.
            for key, held in self.keys.items():
                if key not in self.skipped and (
                    again(key, held) or key not in state or not same(state[key], held.shown)
                ):
                    dirty.add(held.room_key)
        for room_key in dirty:
            if self.claimed and room_key.startswith(tuple(self.claimed)):
                continue
            kind = self.room.kind(room_key)
            if kind not in ("text", "register", "set"):
                continue
            key = self.widget_key(room_key)
            if key in self.skipped:
                continue
            current = state.get(key, _MISSING)
            try:
                value = self._read(room_key, kind)
            except KeyError:
                continue
            ks = self.keys.get(key)
            if ks is None:
                ks = self.keys[key] = KeyState(room_key, kind, _MISSING)  # type: ignore[arg-type]
            elsewhere = (
                facts.fragment is not None
                and ks.owner is not _MISSING
                and ks.owner != facts.fragment
            )
            if not widgets_created and (elsewhere or key in facts.instantiated):
                # Another block shows it: a block of another fragment, or an earlier block
                # of this run that already made its widget (it shows the room next run).
                if not same(current, value):
                    later.add(room_key)
                    behind |= key in facts.instantiated
                continue
            if widgets_created:
                # The widgets exist: the page keeps showing `current` until the next run.
                if not same(current, value):
                    self.mark_dirty([room_key])
                    behind = True
                ks.show(current)
                continue
            changed = not same(current, value)
            if changed or again(key, ks):
                if key in facts.unwritable:
                    self._deferred[key] = value
                else:
                    state[key] = value
                if changed:
                    ks.resend_until = now + RESEND_FOR
            ks.show(value, current)
        if later:
            self.mark_dirty(later)
        return behind

    def own(self, keys: Iterable[str], fragment: str | None) -> None:
        """The block running in ``fragment`` created the widgets of ``keys``."""
        with self._lock:
            for key in keys:
                ks = self.keys.get(key)
                if ks is not None:
                    ks.owner = fragment
