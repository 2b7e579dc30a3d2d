"""Playwright (sync) helpers for driving Streamlit 1.67 apps in chromium.

Every selector here was found by experiment against Streamlit 1.67 + Debian chromium.
Widgets are located by their ``data-testid`` container whose label matches EXACTLY
(``stWidgetLabel`` text, or the control's ``aria-label``), never by a label substring —
``get_by_label("Name")`` would also hit e.g. the "Main menu" button or the slider's
``role=group``.

Helpers that change a widget wait until Streamlit has finished the rerun they caused
(see :func:`expect_rerun`), so after they return the server has the new value.

Streamlit 1.67 + chromium quirks these helpers encode:

* ``[data-testid=stApp]`` carries ``data-test-script-state`` (``initial`` → ``running``
  → ``notRunning``; also ``rerunRequested``...) and ``data-test-connection-state``
  (``PINGING_SERVER`` → ``CONNECTING`` → ``CONNECTED``). When the state first reads
  ``notRunning`` widgets can still be ``stSkeleton`` placeholders (lazy-loaded code).
* A fast rerun's ``running`` flip is often batched away by React and never reaches the
  DOM, so reruns are counted from websocket frames instead (:class:`RunTracker`).
* text_input / number_input commit on Enter (or blur); text_area on Ctrl+Enter (or
  blur) — plain Enter inserts a newline.
* Slider: the ``<input type=range>`` is visually hidden; focus it and use the arrow
  keys (Home/End/PageUp/PageDown work too). ``fill()`` changes nothing server-side.
  Key-driven updates are throttled (not every intermediate value is sent).
* selectbox/multiselect are react-aria comboboxes; a mouse click on a not-yet-focused
  combobox opens and instantly closes the popover, so open with focus + ArrowDown.
  The listbox is in a portal (find it by ``aria-controls``), virtualized (type to
  filter), multiselect's starts with a "Select all" option and stays open after a
  pick; Escape closes it with a ~200 ms exit animation.
* ``st.number_input``'s +/- buttons are ``aria-label="Increment"/"Decrement"``.
* ``st.toggle`` is also a ``stCheckbox``; the checkbox ``<input>`` is visually hidden,
  click its ``<label>``.
* The document never scrolls, ``[data-testid=stMain]`` does: Playwright's
  ``full_page`` screenshots are viewport-only (see :func:`screenshot`).
"""

from __future__ import annotations

import io
import itertools
import json
import math
import os
import time
import weakref
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

from playwright.sync_api import BrowserContext, Locator, Page, ViewportSize, WebSocket, expect
from playwright.sync_api import Error as PlaywrightError
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

#: Default timeout (ms) of every wait in this module.
TIMEOUT = 10_000

#: Installed in every session by ``open_session`` (``context.add_init_script``).
#: ``window.__e2e.watch(text)`` records the wall clock
#: (``performance.timeOrigin + performance.now()``, ms) at which ``text`` first appears
#: in the page text or in an input/textarea value (MutationObserver + input events).
INIT_SCRIPT = r"""
(() => {
  if (window.__e2e) return;
  const e2e = (window.__e2e = { watches: {}, seen: {} });
  const clock = () => performance.timeOrigin + performance.now();
  const check = () => {
    let body = null, values = null;
    for (const t in e2e.watches) {
      if (t in e2e.seen) continue;
      if (body === null) body = document.body ? document.body.textContent : "";
      if (body.includes(t)) { e2e.seen[t] = clock(); continue; }
      if (values === null)
        values = Array.from(document.querySelectorAll("input,textarea"), (e) => e.value);
      if (values.some((v) => v.includes(t))) e2e.seen[t] = clock();
    }
  };
  e2e.watch = (t) => {
    if (!(t in e2e.watches)) e2e.watches[t] = clock();
    check();
    return t in e2e.seen ? e2e.seen[t] : null;
  };
  new MutationObserver(check).observe(document, {
    subtree: true, childList: true, characterData: true, attributes: true,
  });
  document.addEventListener("input", check, true);
  for (const t of WATCH_TEXTS) e2e.watch(t);
})();
"""

_IDLE_JS = """() => {
  const app = document.querySelector('[data-testid="stApp"]');
  return !!app
    && app.getAttribute("data-test-script-state") === "notRunning"
    && app.getAttribute("data-test-connection-state") === "CONNECTED"
    && !document.querySelector('[data-testid="stSkeleton"]')
    && !document.querySelector('[data-stale="true"]');
}"""

_STATE_JS = """() => {
  const app = document.querySelector('[data-testid="stApp"]');
  return {
    script: app && app.getAttribute("data-test-script-state"),
    connection: app && app.getAttribute("data-test-connection-state"),
    skeletons: document.querySelectorAll('[data-testid="stSkeleton"]').length,
    stale: document.querySelectorAll('[data-stale="true"]').length,
  };
}"""


def init_script(watch_texts: Sequence[str] = ()) -> str:
    """The JS to pass to ``context.add_init_script`` (``watch_texts`` watched from load)."""
    return INIT_SCRIPT.replace("WATCH_TEXTS", json.dumps(list(watch_texts)))


# ---------------------------------------------------------------------------- runs


class RunTracker:
    """Counts script runs of one page's Streamlit session from its websocket frames.

    The DOM can't be trusted for this: a fast rerun's ``running`` → ``notRunning``
    flip of ``data-test-script-state`` is often batched by React and never reaches the
    DOM. The protocol is exact: the browser sends a ``rerun_script`` BackMsg per widget
    change; the server answers ``new_session`` … ``script_finished`` per run.
    ``widget_values`` is the full widget state of the latest request (id → value).

    Limit: "a run that began after request N" is judged by when ``new_session``
    arrives, so a server-initiated run (e.g. pushed by another session) that starts
    and *finishes* between the browser sending N and the server reading N would be
    mistaken for N's run. Assert on the resulting page content where that matters.
    """

    _DONE = frozenset(
        {
            ForwardMsg.FINISHED_SUCCESSFULLY,
            ForwardMsg.FINISHED_WITH_COMPILE_ERROR,
            ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY,
        }
    )  # not FINISHED_EARLY_FOR_RERUN: another run follows

    def __init__(self) -> None:
        self.rerun_requests = 0  # rerun_script BackMsgs sent by the browser
        self.runs_started = 0  # new_session ForwardMsgs received
        self.runs_finished = 0  # script_finished (not "early for rerun") received
        self.last_finished_request = -1  # rerun_requests when the last finished run began
        self.widget_values: dict[str, object] = {}
        self.sockets: list[WebSocket] = []
        self._run_request = -1

    def attach(self, page: Page) -> None:
        """Follow every Streamlit websocket the page opens (reconnects included)."""
        page.on("websocket", self._on_websocket)

    def _on_websocket(self, ws: WebSocket) -> None:
        if not ws.url.endswith("/_stcore/stream"):
            return
        self.sockets.append(ws)
        ws.on("framesent", self._on_sent)
        ws.on("framereceived", self._on_received)

    def _on_sent(self, payload: str | bytes) -> None:
        if isinstance(payload, bytes):
            msg = BackMsg()
            msg.ParseFromString(payload)
            if msg.WhichOneof("type") == "rerun_script":
                self.rerun_requests += 1
                self.widget_values = {
                    w.id: _widget_value(w) for w in msg.rerun_script.widget_states.widgets
                }

    def _on_received(self, payload: str | bytes) -> None:
        if not isinstance(payload, bytes):
            return
        msg = ForwardMsg()
        msg.ParseFromString(payload)
        kind = msg.WhichOneof("type")
        if kind == "new_session":
            self.runs_started += 1
            self._run_request = self.rerun_requests
        elif kind == "script_finished" and msg.script_finished in self._DONE:
            self.runs_finished += 1
            self.last_finished_request = self._run_request

    def wait(self, page: Page, condition: Callable[[], bool], what: str, timeout: float) -> None:
        """Pump Playwright events until ``condition()`` holds (frames wake us up at once)."""
        deadline = time.monotonic() + timeout / 1000
        while not condition():
            remaining_ms = (deadline - time.monotonic()) * 1000
            if remaining_ms <= 0:
                raise AssertionError(f"timed out waiting for {what}: {self!r} {app_state(page)}")
            ws = self.sockets[-1] if self.sockets else None
            try:
                if ws is not None and not ws.is_closed():
                    ws.wait_for_event("framereceived", timeout=min(remaining_ms, 250))
                else:
                    page.wait_for_timeout(min(remaining_ms, 50))
            except PlaywrightError:
                pass  # timeout slice elapsed or socket closed: re-check

    def __repr__(self) -> str:
        return (
            f"<RunTracker requests={self.rerun_requests} started={self.runs_started} "
            f"finished={self.runs_finished} last_finished_request={self.last_finished_request}>"
        )


def _widget_value(state: Any) -> object:
    kind = state.WhichOneof("value")
    value: Any = getattr(state, kind) if kind else None
    return list(value.data) if hasattr(value, "data") else value  # *_array_value → list


_TRACKERS: weakref.WeakKeyDictionary[Page, RunTracker] = weakref.WeakKeyDictionary()


def run_tracker(page: Page) -> RunTracker:
    """The :class:`RunTracker` of a page opened by ``open_session`` (or ``track_session``)."""
    try:
        return _TRACKERS[page]
    except KeyError:
        raise RuntimeError("page not opened by open_session()/track_session()") from None


# ---------------------------------------------------------------------------- state


def app_state(page: Page) -> dict[str, object]:
    """Script/connection state and skeleton/stale-element counts, as the DOM shows them."""
    state: dict[str, object] = page.evaluate(_STATE_JS)
    return state


def wait_idle(page: Page, timeout: float = TIMEOUT) -> None:
    """Wait until the app has finished a run and is connected, not running, fully rendered.

    "Fully rendered" matters: at the instant ``data-test-script-state`` becomes
    ``notRunning`` widgets may still be ``stSkeleton`` placeholders (lazy-loaded JS).
    """
    tracker = _TRACKERS.get(page)
    if tracker is not None:
        tracker.wait(page, lambda: tracker.runs_finished >= 1, "a first script run", timeout)
    try:
        page.wait_for_function(_IDLE_JS, timeout=timeout)
    except PlaywrightError as exc:
        raise AssertionError(f"app never became idle: {app_state(page)}") from exc


def runs_completed(page: Page) -> int:
    """How many script runs of this page's session have finished (from the websocket)."""
    return run_tracker(page).runs_finished


@contextmanager
def expect_rerun(page: Page, timeout: float = TIMEOUT) -> Iterator[None]:
    """After the ``with`` body: wait until the browser sent a rerun request and a run
    that started after its latest request has finished (so the server has the new
    widget values), then wait until idle.

    Use around an action that must trigger a rerun (button click, changed widget).
    """
    tracker = run_tracker(page)
    before = tracker.rerun_requests
    yield
    tracker.wait(
        page,
        lambda: before < tracker.rerun_requests <= tracker.last_finished_request,
        "the rerun caused by the action",
        timeout,
    )
    wait_idle(page, timeout)


def wait_connected(page: Page, timeout: float = 30_000) -> None:
    """Wait until ``stApp`` reports ``data-test-connection-state="CONNECTED"``.

    After a server restart an open page goes ``PINGING_SERVER`` → ``CONNECTING`` →
    ``CONNECTED`` by itself (well under a second) but does NOT rerun the script: its
    content stays stale until :func:`reload_session` (or a widget change).
    """
    page.wait_for_function(
        """() => { const a = document.querySelector('[data-testid="stApp"]');
                   return !!a && a.getAttribute("data-test-connection-state") === "CONNECTED"; }""",
        timeout=timeout,
    )


def reload_session(page: Page, timeout: float = TIMEOUT) -> None:
    """Reload the tab (new Streamlit session, same cookies) and wait for its first run."""
    tracker = run_tracker(page)
    before = tracker.runs_finished
    page.reload(timeout=timeout)
    tracker.wait(page, lambda: tracker.runs_finished > before, "the run after reload", timeout)
    wait_idle(page, timeout)


def exceptions_on_page(page: Page) -> list[str]:
    """Texts of ``st.exception`` / uncaught-exception boxes rendered by the app."""
    return page.get_by_test_id("stException").all_inner_texts()


# ---------------------------------------------------------------------------- locating


def _css_str(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def widget(page: Page, test_id: str, label: str) -> Locator:
    """The ``[data-testid=test_id]`` container whose label is exactly ``label``."""
    by_label = page.get_by_test_id("stWidgetLabel").get_by_text(label, exact=True)
    by_aria = page.locator(
        f"input[aria-label={_css_str(label)}], textarea[aria-label={_css_str(label)}]"
    )
    return page.get_by_test_id(test_id).filter(has=by_label.or_(by_aria))


def text_input(page: Page, label: str) -> Locator:
    """The ``<input>`` of ``st.text_input(label)``."""
    return widget(page, "stTextInput", label).locator("input")


def text_area(page: Page, label: str) -> Locator:
    """The ``<textarea>`` of ``st.text_area(label)``."""
    return widget(page, "stTextArea", label).locator("textarea")


def number_input(page: Page, label: str) -> Locator:
    """The ``<input type=number>`` of ``st.number_input(label)``."""
    return widget(page, "stNumberInput", label).locator("input")


def slider(page: Page, label: str) -> Locator:
    """The hidden ``<input type=range>`` thumb(s) of ``st.slider(label)`` (2 for ranges)."""
    return widget(page, "stSlider", label).locator('input[type="range"]')


def checkbox(page: Page, label: str) -> Locator:
    """The (visually hidden) ``<input type=checkbox>`` of ``st.checkbox(label)``."""
    return widget(page, "stCheckbox", label).locator('input[type="checkbox"]')


def button(page: Page, label: str) -> Locator:
    """``st.button`` / ``st.form_submit_button`` with exactly this text.

    Scoped to the button containers: ``get_by_role("button", name="Increment")`` alone
    also matches ``st.number_input``'s step-up button (``aria-label="Increment"``).
    """
    containers = page.locator('[data-testid="stButton"], [data-testid="stFormSubmitButton"]')
    return containers.get_by_role("button", name=label, exact=True)


# ---------------------------------------------------------------------------- actions


def _commit(page: Page, field: Locator, text: str, key: str, timeout: float) -> None:
    changed = field.input_value(timeout=timeout) != text
    if changed:
        with expect_rerun(page, timeout):
            field.fill(text, timeout=timeout)
            field.press(key, timeout=timeout)
    else:
        wait_idle(page, timeout)


def type_and_commit(page: Page, label: str, text: str, timeout: float = TIMEOUT) -> None:
    """Replace the text of ``st.text_input(label)`` and commit it with Enter."""
    _commit(page, text_input(page, label), text, "Enter", timeout)


def set_text_area(page: Page, label: str, text: str, timeout: float = TIMEOUT) -> None:
    """Replace the text of ``st.text_area(label)``; commit with Ctrl+Enter (Enter = newline)."""
    _commit(page, text_area(page, label), text, "Control+Enter", timeout)


def set_number_input(page: Page, label: str, value: float | str, timeout: float = TIMEOUT) -> None:
    """Type ``value`` into ``st.number_input(label)`` and commit with Enter."""
    _commit(page, number_input(page, label), str(value), "Enter", timeout)


def click_button(page: Page, label: str, timeout: float = TIMEOUT) -> None:
    """Click ``st.button(label)`` and wait for the rerun it triggers."""
    with expect_rerun(page, timeout):
        button(page, label).click(timeout=timeout)


def slider_value(page: Page, label: str, thumb: int = 0) -> str:
    """The value shown above the slider's thumb (``stSliderThumbValue``), as text."""
    return (
        widget(page, "stSlider", label)
        .get_by_test_id("stSliderThumbValue")
        .nth(thumb)
        .inner_text(timeout=TIMEOUT)
    )


def set_slider(
    page: Page, label: str, value: float, *, thumb: int = 0, timeout: float = TIMEOUT
) -> None:
    """Move a numeric slider to ``value`` with ArrowLeft/ArrowRight on its focused thumb.

    Each key press changes the value by ``step`` (Home/End/PageUp/PageDown also work).
    Key presses are throttled: the browser sends only some intermediate values, so
    this waits until a request carrying ``value`` was sent and a run after it finished.
    """
    tracker = run_tracker(page)
    sent_before = dict(tracker.widget_values)
    inp = slider(page, label).nth(thumb)
    current = float(inp.input_value(timeout=timeout))
    step = float(inp.get_attribute("step", timeout=timeout) or 1)
    presses = round((value - current) / step)
    if presses == 0:
        wait_idle(page, timeout)
        return
    key = "ArrowRight" if presses > 0 else "ArrowLeft"
    with expect_rerun(page, timeout):
        inp.focus(timeout=timeout)
        for _ in range(abs(presses)):
            page.keyboard.press(key)  # ~3x faster than inp.press (no re-resolve/focus)

        def sent() -> bool:
            return any(
                isinstance(v, list)
                and len(v) > thumb
                and isinstance(v[thumb], float)
                and math.isclose(v[thumb], value, abs_tol=step / 2)
                and sent_before.get(k) != v
                for k, v in tracker.widget_values.items()
            )

        tracker.wait(page, sent, f"slider {label!r} = {value} to be sent", timeout)
    wait_idle(page, timeout)
    got = float(inp.input_value(timeout=timeout))
    assert math.isclose(got, value, abs_tol=step / 2), f"slider {label!r} at {got}, not {value}"


def _open_listbox(page: Page, combo: Locator, timeout: float) -> Locator:
    """Open a selectbox/multiselect dropdown by keyboard; return its listbox.

    Mouse clicks on the combobox (or its "Open" button) in a not-yet-focused widget
    open the popover and immediately close it again when focus returns to the input;
    focus + ArrowDown is deterministic. The listbox lives in a portal: find it via
    ``aria-controls``.
    """
    expect(page.get_by_role("listbox")).to_have_count(0, timeout=timeout)
    open_button = combo.locator("xpath=ancestor::div[@role='group'][1]").get_by_role(
        "button", name="Open", exact=True
    )
    deadline = time.monotonic() + timeout / 1000
    for attempt in itertools.count():
        # Seen once under heavy CPU load: ArrowDown did not open it. Retry, alternating
        # with a click on the (by then focused) widget's "Open" button.
        combo.focus(timeout=timeout)
        if attempt % 2 == 0:
            combo.press("ArrowDown", timeout=timeout)
        else:
            open_button.click(timeout=timeout)
        try:
            expect(combo).to_have_attribute("aria-expanded", "true", timeout=2_000)
            break
        except AssertionError:
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"dropdown did not open after {attempt + 1} tries: {app_state(page)}"
                ) from None
    listbox_id = combo.get_attribute("aria-controls", timeout=timeout)
    listbox = page.locator(f"[id={_css_str(listbox_id or '')}]")
    expect(listbox).to_be_visible(timeout=timeout)
    return listbox


def _close_listboxes(page: Page, timeout: float) -> None:
    # After Escape the popover stays in the DOM ~200 ms (exit animation); opening
    # another dropdown meanwhile fails, so wait for it to be gone.
    if page.get_by_role("listbox").count():
        page.keyboard.press("Escape")
    expect(page.get_by_role("listbox")).to_have_count(0, timeout=timeout)


def choose_option(page: Page, combo: Locator, option: str, timeout: float = TIMEOUT) -> None:
    """Pick ``option`` (exact text) in any selectbox/multiselect ``role=combobox`` locator.

    For widgets not reachable by label (e.g. ``page.get_by_test_id("stSidebar")
    .get_by_role("combobox")``). Waits for the rerun and for the dropdown to close.
    """
    if combo.input_value(timeout=timeout) == option:  # a selectbox already showing it
        wait_idle(page, timeout)
        return
    with expect_rerun(page, timeout):
        listbox = _open_listbox(page, combo, timeout)
        combo.fill(option, timeout=timeout)  # filter: the option list is virtualized
        listbox.get_by_role("option", name=option, exact=True).click(timeout=timeout)
    _close_listboxes(page, timeout)
    wait_idle(page, timeout)


def selectbox_choose(page: Page, label: str, option: str, timeout: float = TIMEOUT) -> None:
    """Choose ``option`` (exact text) in ``st.selectbox(label)``."""
    choose_option(page, widget(page, "stSelectbox", label).get_by_role("combobox"), option, timeout)


def selectbox_value(page: Page, label: str) -> str:
    """The option currently shown by ``st.selectbox(label)`` ("" when None)."""
    return widget(page, "stSelectbox", label).get_by_role("combobox").input_value(timeout=TIMEOUT)


def multiselect_add(page: Page, label: str, option: str, timeout: float = TIMEOUT) -> None:
    """Add ``option`` (exact text) to ``st.multiselect(label)``; closes the dropdown."""
    combo = widget(page, "stMultiSelect", label).get_by_role("combobox")
    choose_option(page, combo, option, timeout)


def multiselect_remove(page: Page, label: str, option: str, timeout: float = TIMEOUT) -> None:
    """Remove the selected ``option`` from ``st.multiselect(label)`` via its tag's x."""
    w = widget(page, "stMultiSelect", label)
    with expect_rerun(page, timeout):
        w.get_by_role("button", name=f"Remove {option}", exact=True).click(timeout=timeout)


def multiselect_values(page: Page, label: str) -> list[str]:
    """The selected options of ``st.multiselect(label)``, in display order."""
    tags = widget(page, "stMultiSelect", label).locator("[data-tag] [title]")
    values: list[str] = tags.evaluate_all("els => els.map(e => e.getAttribute('title'))")
    return values


def checkbox_checked(page: Page, label: str) -> bool:
    """Whether ``st.checkbox(label)`` is ticked."""
    return checkbox(page, label).is_checked(timeout=TIMEOUT)


def checkbox_toggle(page: Page, label: str, timeout: float = TIMEOUT) -> bool:
    """Click ``st.checkbox(label)`` (its label: the input is visually hidden); new state."""
    before = checkbox_checked(page, label)
    with expect_rerun(page, timeout):
        widget(page, "stCheckbox", label).locator("label").first.click(timeout=timeout)
        expect(checkbox(page, label)).to_be_checked(checked=not before, timeout=timeout)
    return not before


# ---------------------------------------------------------------------------- waiting


def wait_for_value(page: Page, locator: Locator, value: str, timeout: float = TIMEOUT) -> None:
    """Wait until an input/textarea ``locator`` holds exactly ``value``."""
    expect(locator).to_have_value(value, timeout=timeout)


def wait_for_text(page: Page, text: str, *, exact: bool = False, timeout: float = TIMEOUT) -> None:
    """Wait until app output (``st.write``/``st.markdown``/...) shows ``text``."""
    expect(page.get_by_test_id("stApp").get_by_text(text, exact=exact).first).to_be_visible(
        timeout=timeout
    )


def wait_for_no_text(
    page: Page, text: str, *, exact: bool = False, timeout: float = TIMEOUT
) -> None:
    """Wait until no app element shows ``text``."""
    expect(page.get_by_test_id("stApp").get_by_text(text, exact=exact)).to_have_count(
        0, timeout=timeout
    )


# ---------------------------------------------------------------------------- timing


def page_clock(page: Page) -> float:
    """The page's wall clock in ms (``performance.timeOrigin + performance.now()``).

    Comparable across pages/contexts of the same browser (same machine clock).
    """
    return float(page.evaluate("() => performance.timeOrigin + performance.now()"))


def watch_text(page: Page, text: str) -> None:
    """Start recording when ``text`` first appears (page text or an input's value).

    To catch a text from the very first render, pass it to
    ``open_session(url, watch_texts=[...])`` instead.
    """
    page.evaluate("t => window.__e2e.watch(t)", text)


def text_appeared_at(page: Page, text: str, timeout: float = TIMEOUT) -> float:
    """Wait for a watched ``text`` and return when it appeared (page-clock ms, see above)."""
    watch_text(page, text)
    handle = page.wait_for_function(
        "t => (t in window.__e2e.seen) ? window.__e2e.seen[t] : null", arg=text, timeout=timeout
    )
    return float(handle.json_value())


# ---------------------------------------------------------------------------- sessions


class OpenSession(Protocol):
    """Signature of the ``open_session`` fixture."""

    def __call__(
        self,
        url: str,
        *,
        wait: bool = True,
        watch_texts: Sequence[str] = (),
        viewport: ViewportSize | None = None,
        timeout: float = TIMEOUT,
    ) -> Page: ...


#: Browser-side errors (console ``error`` + uncaught page errors) per page.
_BROWSER_ERRORS: weakref.WeakKeyDictionary[Page, list[str]] = weakref.WeakKeyDictionary()


def track_session(page: Page) -> RunTracker:
    """Before ``goto``: track script runs (websocket) and console/page errors of ``page``."""
    errors = _BROWSER_ERRORS.setdefault(page, [])
    page.on(
        "console",
        lambda m: errors.append(f"console.{m.type}: {m.text}") if m.type == "error" else None,
    )
    page.on("pageerror", lambda e: errors.append(f"pageerror: {e}"))
    tracker = _TRACKERS.setdefault(page, RunTracker())
    tracker.attach(page)
    return tracker


def browser_errors(page: Page) -> list[str]:
    """Console errors / uncaught exceptions seen in ``page`` (opened by ``open_session``)."""
    return list(_BROWSER_ERRORS.get(page, []))


def close_session(page: Page) -> None:
    """Close the page's whole browser context (simulates the user closing the tab)."""
    context: BrowserContext = page.context
    context.close()


# ---------------------------------------------------------------------------- screenshots


DOCS_IMAGES = Path(__file__).resolve().parents[2] / "docs" / "images"


def screenshot_path(name: str, tmp_path: Path) -> Path:
    """Where a test saves its screenshot ``name``: ``docs/images/`` (what the README shows)
    when ``CRDT_SYNC_SCREENSHOTS=1``, else the test's temporary folder (a test run leaves
    the working tree as it was)."""
    return (DOCS_IMAGES if os.environ.get("CRDT_SYNC_SCREENSHOTS") else tmp_path) / name


def screenshot(page: Page, *, full_page: bool = True) -> bytes:
    """PNG of ``page``; ``full_page`` includes the part of the app scrolled out of view.

    Playwright's own ``full_page=True`` is useless here: the document never scrolls,
    ``[data-testid=stMain]`` does. So the viewport is stretched to the content height
    for the shot and restored afterwards (no rerun: the width is unchanged).
    """
    size = page.viewport_size
    overflow = 0
    if full_page and size:
        overflow = int(
            page.evaluate(
                """() => { const m = document.querySelector('[data-testid="stMain"]');
                           return m ? m.scrollHeight - m.clientHeight : 0; }"""
            )
        )
    if overflow <= 0 or not size:
        return page.screenshot()
    page.set_viewport_size({"width": size["width"], "height": size["height"] + overflow})
    try:
        page.wait_for_function(
            """() => { const m = document.querySelector('[data-testid="stMain"]');
                       return !m || m.scrollHeight <= m.clientHeight + 1; }""",
            timeout=TIMEOUT,
        )
        return page.screenshot()
    finally:
        page.set_viewport_size(size)


def screenshot_side_by_side(
    pages: Sequence[Page], path: Path, *, full_page: bool = True, gap: int = 12
) -> Path:
    """Screenshot each page and join them left-to-right into one PNG at ``path``."""
    from PIL import Image  # streamlit depends on Pillow

    shots = [
        Image.open(io.BytesIO(screenshot(p, full_page=full_page))).convert("RGB") for p in pages
    ]
    width = sum(s.width for s in shots) + gap * (len(shots) - 1)
    height = max(s.height for s in shots)
    canvas = Image.new("RGB", (width, height), (128, 128, 128))
    x = 0
    for shot in shots:
        canvas.paste(shot, (x, 0))
        x += shot.width + gap
    path.parent.mkdir(parents=True, exist_ok=True)
    canvas.save(path, format="PNG")
    return path
