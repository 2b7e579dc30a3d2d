"""Document: one pycrdt ``Doc`` made safe to share between threads, replicas and stores.

pycrdt's ``Doc`` is not thread-safe, its observers may not touch the document, and it
mis-handles updates that arrive ahead of their predecessors. ``Document`` hides all three:
every access holds one re-entrant lock (`Document.lock`), listeners run after the
transaction (`observers`), and ``merge`` holds back an update until the updates before it
have arrived (`held_back`). What a transaction changed is collected by `changes`, undo per
origin lives in `undo`, and `layout` keeps the document's roots. `Room` adds the typed face:
registers and containers.
"""

from __future__ import annotations

import builtins
import threading
import weakref
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from typing import Any

from pycrdt import Doc

from .changes import Changes, weakly
from .errors import InvalidUpdate
from .held_back import DEFAULT_MAX_HELD_BACK_BYTES, HeldBack, HeldUpdate
from .layout import Layout
from .observers import ChangeHook, Observers, RecordHook, ResyncHook, UpdateHook
from .types import Origin, RoomObserver, StateVector, Update
from .undo import UndoHistory, UndoManagers
from .update_format import UpdateFormatError, decode_state_vector, read_update

DEFAULT_MAX_UPDATE_SIZE = 16 * 1024 * 1024
"""The largest update ``merge`` accepts by default, in bytes."""

REMOTE: Hashable = "crdt_sync:remote"
"""Origin given to merged updates when the caller names none."""


def _is_panic(exc: BaseException) -> bool:
    # pycrdt's Rust panics surface as pyo3's PanicException, a BaseException.
    return type(exc).__name__ == "PanicException"


class Document:
    """One Yjs document, locked, with transactions, listeners, merges and undo.

    The base of `Room`, which is what to use and which documents the arguments:

    ```py
    room = Room("plans")
    with room.transaction(origin="ann"):
        room["level"] = 3
    other = Room("plans")
    other.merge(room.export())
    ```
    """

    def __init__(
        self,
        name: str = "room",
        *,
        max_update_size: int = DEFAULT_MAX_UPDATE_SIZE,
        max_held_back_bytes: int = DEFAULT_MAX_HELD_BACK_BYTES,
        client_id: int | None = None,
    ) -> None:
        self.name = name
        self.max_update_size = max_update_size
        self._lock = threading.RLock()
        self._doc: Doc[Any] = Doc() if client_id is None else Doc(client_id=client_id)
        self._changes = Changes(name)
        self._undo = UndoManagers()
        self._layout = Layout(self._doc, self._changes, self._undo)
        self._observers = Observers(name, self._lock)
        self._held = HeldBack(name, max_held_back_bytes)
        # The transaction in progress (under self._lock).
        self._depth = 0
        self._origin: Origin | None = None
        # pycrdt's Doc.observe keeps the Doc alive from its own subscription, a cycle
        # the garbage collector cannot see: end it when the room goes away.
        watch = self._doc.observe(weakly(self._changes.on_update))
        weakref.finalize(self, self._doc.unobserve, watch)

    # ------------------------------------------------------------------ host surface

    @property
    def lock(self) -> threading.RLock:
        """The room's re-entrant lock: every access to its document holds it.

        Hold it around reads that must see one state (values do); never wait for another
        thread while holding it.
        """
        return self._lock

    @property
    def client_id(self) -> int:
        """This replica's Yjs client id."""
        return int(self._doc.client_id)

    # ------------------------------------------------------------------ transactions

    def container_root(self, key: str, kind: str) -> Any:
        """The root of container ``key`` of ``kind`` (see `Layout`); the caller holds
        `lock`."""
        return self._layout.root(key, kind)

    @contextmanager
    def transaction(self, origin: Origin | None = None) -> Iterator[None]:
        """Group changes into one transaction (one update, one event).

        Nested calls join the outer transaction; their origin must match it.

        Args:
            origin: Who makes the change (a session id, for example). Observers receive it.

        Raises:
            ValueError: If a nested transaction names a different origin.
        """
        with self._lock:
            nested = self._depth > 0
            if nested and origin is not None and origin != self._origin:
                raise ValueError(
                    f"room {self.name!r}: a transaction with origin {self._origin!r} is "
                    f"open, cannot nest one with origin {origin!r}"
                )
        if nested:
            with self._lock:
                self._depth += 1
                try:
                    yield
                finally:
                    self._depth -= 1
            return
        try:
            with self._lock, self._capture(origin):
                if origin is None:
                    with self._doc.transaction():
                        yield
                else:
                    with self._doc.transaction(origin=origin):
                        yield
        finally:
            self._observers.deliver()  # after the lock is released: never under it

    @contextmanager
    def _capture(self, origin: Origin | None) -> Iterator[None]:
        """Collect what the enclosed pycrdt work changes; publish it when done (locked)."""
        self._depth, self._origin = 1, origin
        self._changes.start()
        try:
            yield
        finally:
            self._depth = 0
            self._layout.adopt(self._changes.take_kinds())
            updates, changed = self._changes.take()
            self._observers.publish(changed, origin, updates)

    def observe(self, callback: RoomObserver) -> Callable[[], None]:
        """Call ``callback(RoomEvent)`` after every transaction that changed the room.

        Callbacks run after the transaction, in transaction order, outside the room's lock,
        so they may read and write the room. An exception in one is logged and does not
        affect the room or other callbacks.

        Args:
            callback: Receives one `RoomEvent` per transaction.

        Returns:
            A function that stops the observation.
        """
        return self._observers.observe(callback)

    def add_update_hook(self, hook: UpdateHook) -> None:
        """Call ``hook(update, origin)`` for every update, inside the room's lock, in order.

        For persistence: when a write returns, its hooks have run. Hooks must be quick and
        must not touch the room.
        """
        self._observers.add_update_hook(hook)

    def add_record_hook(self, hook: RecordHook) -> Callable[[], None]:
        """Call ``hook(update, origin, keys)`` for every update, inside the room's lock.

        An update hook that also hears which keys the update changed (history records
        them). Not called for replayed stored updates. Returns what removes the hook.
        """
        return self._observers.add_record_hook(hook)

    def add_change_hook(self, hook: ChangeHook) -> Callable[[], None]:
        """Call ``hook(keys)`` with the keys every transaction changed, inside the room's lock.

        Unlike an observer, a hook has run when the transaction returns, so a reader that
        keeps its own view of the room (e.g. an index) cannot miss a change that another
        thread, told by an observer, already acts on. Hooks must be quick and must not touch
        the room.

        Returns:
            A function that removes the hook.
        """
        return self._observers.add_change_hook(hook)

    def add_resync_hook(self, hook: ResyncHook) -> Callable[[], None]:
        """Call ``hook(room name)`` when the room dropped held-back updates.

        The room then lacks updates a peer sent; a state-vector exchange with the peers
        (``merge(peer.update_since(room.state_vector()))``) brings them back. Called outside
        the room's lock.

        Returns:
            A function that removes the hook.
        """
        return self._observers.add_resync_hook(hook)

    # ------------------------------------------------------------------ undo

    def undo_manager(self, origin: Origin) -> UndoHistory:
        """Undo and redo of the changes made under ``origin``, and nobody else's.

        Args:
            origin: The origin whose transactions are tracked (e.g. a session id).

        Returns:
            An `UndoHistory` of the origin's one undo manager.
        """
        with self._lock:
            manager = self._undo.get(origin, self._layout.scopes)

        def run(action: Callable[[], bool]) -> bool:
            return self._run_undo(origin, action)

        return UndoHistory(manager, self._lock, run)

    def drop_undo_manager(self, origin: Origin) -> None:
        """Forget ``origin``'s undo history (when its session ends)."""
        with self._lock:
            self._undo.drop(origin)

    def _run_undo(self, origin: Origin, action: Callable[[], bool]) -> bool:
        with self._lock:
            if self._depth:
                raise RuntimeError(f"room {self.name!r}: cannot undo inside a transaction")
            with self._capture(origin):
                done = action()
        self._observers.deliver()
        return done

    # ------------------------------------------------------------------ sync

    def state_vector(self) -> StateVector:
        """What this replica has, as a Yjs state vector."""
        with self._lock:
            return self._doc.get_state()

    def update_since(self, state_vector: StateVector) -> Update:
        """What a replica with ``state_vector`` is missing, as one update."""
        try:
            # Checked first: yrs reserves memory for the entry count a state vector
            # declares (18 random bytes can cost 256 MiB).
            decode_state_vector(bytes(state_vector))
        except UpdateFormatError as exc:
            raise InvalidUpdate(f"bad state vector: {exc}", room=self.name) from None
        with self._lock:
            try:
                return self._doc.get_update(state_vector)
            except ValueError as exc:
                raise InvalidUpdate(f"bad state vector: {exc}", room=self.name) from None

    def export(self) -> Update:
        """The whole document as one Yjs update (v1); any Yjs client can apply it."""
        with self._lock:
            return self._doc.get_update()

    @property
    def pending(self) -> int:
        """Updates held back because updates before them have not arrived yet."""
        with self._lock:
            return len(self._held)

    @property
    def pending_bytes(self) -> int:
        """Bytes held back (as counted against ``max_held_back_bytes``)."""
        with self._lock:
            return self._held.size

    def merge(self, update: bytes, origin: Origin | None = None) -> bool:
        """Merge a Yjs update from another replica (never overwrites).

        An update that starts ahead of what this room has from its author is held back and
        applied, with its own origin, once the missing updates arrive, so delivery order
        does not matter.

        Args:
            update: Yjs update bytes (v1).
            origin: Who sent it; observers receive it (default: ``REMOTE``).

        Returns:
            True if applied now, False if held back.

        Raises:
            InvalidUpdate: If the bytes are not a valid update or are too large; the room is
                unchanged.
        """
        if not isinstance(update, bytes | bytearray | memoryview):
            raise TypeError(f"an update is bytes, got {type(update).__name__}")
        data = bytes(update)
        try:
            info = read_update(data, max_size=self.max_update_size)
        except UpdateFormatError as exc:
            raise InvalidUpdate(str(exc), room=self.name) from None
        origin = REMOTE if origin is None else origin
        held = HeldUpdate(data, info.starts, origin)
        with self._lock:
            if self._depth:
                raise RuntimeError(f"room {self.name!r}: cannot merge inside a transaction")
            applied = held.ready(self._have())
            if applied:
                self._apply(data, origin)
                self._held.release(self._have, self._apply_held)
            else:
                dropped = self._held.hold(held)
        if applied:
            self._observers.deliver()
        elif dropped:
            self._observers.want_resync()
        return applied

    def _have(self) -> dict[int, int]:
        """The document's state vector, decoded (locked by the caller)."""
        return decode_state_vector(self._doc.get_state())

    def _apply_held(self, held: HeldUpdate) -> None:
        self._apply(held.data, held.origin)

    def _apply(self, data: Update, origin: Origin) -> None:
        """Apply update bytes in one transaction (locked by the caller)."""
        with self._capture(origin), self._doc.transaction(origin=origin):
            try:
                self._doc.apply_update(data)
            except (ValueError, RuntimeError) as exc:
                # yrs rejects some well-formed but inconsistent updates with RuntimeError.
                raise InvalidUpdate(str(exc), room=self.name) from None
            except BaseException as exc:
                if _is_panic(exc):
                    raise InvalidUpdate(f"decoder panicked: {exc}", room=self.name) from None
                raise

    def load_updates(self, updates: Iterator[tuple[Any, Update]]) -> builtins.list[tuple[Any, str]]:
        """Apply trusted stored updates without running hooks or observers.

        Args:
            updates: ``(label, bytes)`` pairs in stored order.

        Returns:
            ``(label, reason)`` for every update that could not be applied.
        """
        failed: builtins.list[tuple[Any, str]] = []
        with self._lock, self._observers.silenced():
            # pycrdt turns every changed key of an observed map into Python objects, which
            # makes replaying a big room several times slower than the replay itself:
            # stop observing, and give every container its root in one pass afterwards.
            self._layout.unwatch()
            try:
                for label, data in updates:
                    try:
                        self._apply(data, REMOTE)
                    except InvalidUpdate as exc:
                        failed.append((label, exc.reason))
            finally:
                self._layout.watch()
                self._layout.adopt_all()
                self._changes.discard()
        return failed
