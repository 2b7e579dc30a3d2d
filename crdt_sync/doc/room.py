"""Room: one Yjs document with a typed, thread-safe, Pythonic face.

A room is a mutable mapping of *registers* (``room["level"] = 3``; last writer wins per
key) plus named *containers* that merge (``room.text("notes")``, ``room.counter(...)``,
``room.list(...)``, ``room.set(...)``, ``room.table(...)``). Keys share one namespace.

Document layout (readable by any Yjs client, see the README):

- ``Y.Map "kinds"``: key -> ``"register" | "text" | "counter" | "list" | "set" | "table"``
- ``Y.Map "registers"``: key -> value in the codec's JSON form
- one root per container, named ``"<kind>:<key>"``

Containers are roots, not values nested under a map key, so that two replicas creating the
same container at the same time both keep what they put in it.

pycrdt's ``Doc`` is not thread-safe, its observers may not touch the document, and it
mis-handles updates that arrive ahead of their predecessors. ``Room`` hides all three: every
access holds one re-entrant lock, observers run after the transaction, and ``merge`` holds
back an update until the updates before it have arrived.
"""

from __future__ import annotations

import builtins
import json
import logging
import threading
import weakref
from collections.abc import Callable, Hashable, Iterator, MutableMapping
from contextlib import contextmanager
from typing import Any, TypeVar, cast

from pycrdt import Array, Doc, Map, Text, UndoManager

from . import codec
from .errors import InvalidUpdate, KindMismatch
from .types import Kind, Origin, RoomEvent, RoomObserver, StateVector, Update
from .update_format import UpdateFormatError, decode_state_vector, read_update
from .values import Counter, List, Set, Table
from .values import Text as SharedText

log = logging.getLogger("crdt_sync.room")

DEFAULT_MAX_UPDATE_SIZE = 16 * 1024 * 1024
MAX_PENDING_UPDATES = 10_000

REMOTE: Hashable = "crdt_sync:remote"
"""Origin given to merged updates when the caller names none."""

UpdateHook = Callable[[Update, "Origin | None"], None]
ChangeHook = Callable[[frozenset[str]], None]

_ROOT_TYPES: dict[str, type[Map[Any]] | type[Text] | type[Array[Any]]] = {
    "text": Text,
    "counter": Map,
    "list": Array,
    "set": Map,
    "table": Map,
}
_WRAPPERS: dict[str, type[Any]] = {
    "text": SharedText,
    "counter": Counter,
    "list": List,
    "set": Set,
    "table": Table,
}
W = TypeVar("W")
_MISSING = object()


def _weakly(method: Callable[[Any], None]) -> Callable[[Any], None]:
    """A pycrdt callback that calls a room's method without keeping the room alive.

    pycrdt holds callbacks in subscriptions the garbage collector cannot look into, so a
    callback that holds its room would keep the room and its document alive for ever.
    """
    ref = weakref.WeakMethod(method)

    def call(event: Any) -> None:
        bound = ref()
        if bound is not None:
            bound(event)

    return call


def _is_panic(exc: BaseException) -> bool:
    # pycrdt's Rust panics surface as pyo3's PanicException, a BaseException.
    return type(exc).__name__ == "PanicException"


class Room(MutableMapping[str, Any]):
    """One collaborative document: registers plus containers that merge.

    ```py
    room = Room("plans")
    room["level"] = 3
    room.text("notes").update("first draft")
    other = Room("plans")
    other.merge(room.export())
    ```

    Args:
        name: The room's name, used in messages and by stores.
        max_update_size: The largest update ``merge`` accepts, in bytes.
        client_id: The Yjs client id of this replica (random when omitted).
    """

    def __init__(
        self,
        name: str = "room",
        *,
        max_update_size: int = DEFAULT_MAX_UPDATE_SIZE,
        client_id: int | None = None,
    ) -> None:
        self.name = name
        self.max_update_size = max_update_size
        self._lock = threading.RLock()
        self._doc: Doc[Any] = Doc() if client_id is None else Doc(client_id=client_id)
        self._kinds: Map[Any] = self._doc.get("kinds", type=Map)
        self._registers: Map[Any] = self._doc.get("registers", type=Map)
        self._roots: dict[str, Map[Any] | Text | Array[Any]] = {}
        self._wrappers: dict[str, Any] = {}
        self._undo: dict[Hashable, UndoManager] = {}
        self._observers: list[RoomObserver] = []
        self._update_hooks: list[UpdateHook] = []
        self._change_hooks: list[ChangeHook] = []
        self._pending: list[tuple[Update, dict[int, int]]] = []
        # Bookkeeping of the transaction in progress (under self._lock).
        self._depth = 0
        self._origin: Origin | None = None
        self._changed: set[str] = set()
        self._kinds_touched: dict[str, Any] = {}  # key -> new kind, since last adopted
        self._updates: list[Update] = []
        # Events waiting to be delivered to observers, in transaction order.
        self._outbox: list[RoomEvent] = []
        self._delivery = threading.Lock()
        self._delivering = threading.local()
        # pycrdt's Doc.observe keeps the Doc alive from its own subscription, a cycle
        # the garbage collector cannot see: end it when the room goes away.
        watch = self._doc.observe(_weakly(self._on_update))
        weakref.finalize(self, self._doc.unobserve, watch)
        self._watch_maps()

    # ------------------------------------------------------------------ registers

    def __getitem__(self, key: str) -> Any:
        with self._lock:
            kind = self._kinds.get(key)
            if kind not in (None, "register"):
                raise KindMismatch(self.name, key, kind, "register")
            raw = self._registers.get(key, _MISSING)
            if raw is _MISSING:
                raise KeyError(f"no key {key!r} in room {self.name!r}")
            return codec.decode(raw)

    def __setitem__(self, key: str, value: Any) -> None:
        if not isinstance(key, str):
            raise TypeError(f"room keys are str, got {type(key).__name__}: {key!r}")
        encoded = codec.encode(value, key)
        with self.transaction():
            kind = self._kinds.get(key)
            if kind is None:
                self._kinds[key] = "register"
            elif kind != "register":
                raise KindMismatch(self.name, key, kind, "register")
            self._registers[key] = encoded

    def __delitem__(self, key: str) -> None:
        with self.transaction():
            kind = self._kinds.get(key)
            if kind not in (None, "register"):
                raise KindMismatch(self.name, key, kind, "register")
            if key not in self._registers:
                raise KeyError(f"no key {key!r} in room {self.name!r}")
            del self._registers[key]
            if kind is not None:
                del self._kinds[key]

    def __iter__(self) -> Iterator[str]:
        with self._lock:
            keys = [k for k in self._registers.keys() if self._kinds.get(k) in (None, "register")]
        return iter(keys)

    def __len__(self) -> int:
        return len(list(iter(self)))

    def __contains__(self, key: object) -> bool:
        with self._lock:
            return (
                isinstance(key, str)
                and key in self._registers
                and self._kinds.get(key) in (None, "register")
            )

    def __repr__(self) -> str:
        return f"Room({self.name!r})"

    def snapshot(self) -> dict[str, Any]:
        """All registers as a plain dict (one lock, one pass).

        Returns:
            key -> decoded value.
        """
        with self._lock:
            return {
                k: codec.decode(v)
                for k, v in self._registers.items()
                if self._kinds.get(k) in (None, "register")
            }

    def kinds(self) -> dict[str, Kind]:
        """What every key holds, registers and containers alike.

        Returns:
            key -> kind.
        """
        with self._lock:
            found: dict[str, Kind] = {k: cast(Kind, v) for k, v in self._kinds.items()}
            for k in self._registers.keys():
                found.setdefault(k, "register")
            return found

    def kind(self, key: str) -> Kind | None:
        """What ``key`` holds, or None if nothing."""
        with self._lock:
            kind = self._kinds.get(key)
            if kind is None and key in self._registers:
                kind = "register"
            return cast("Kind | None", kind)

    # ------------------------------------------------------------------ containers

    def text(self, key: str) -> SharedText:
        """The collaborative text under ``key`` (created empty if missing).

        Raises:
            KindMismatch: If ``key`` holds another kind of value.
        """
        return cast(SharedText, self._container(key, "text"))

    def counter(self, key: str) -> Counter:
        """The counter under ``key``: exact under concurrent increments."""
        return cast(Counter, self._container(key, "counter"))

    def list(self, key: str) -> List:
        """The list under ``key``: concurrent appends and inserts are all kept."""
        return cast(List, self._container(key, "list"))

    def set(self, key: str) -> Set:
        """The add-wins set under ``key``."""
        return cast(Set, self._container(key, "set"))

    def table(self, key: str) -> Table:
        """The table under ``key``: rows by id, each cell its own register."""
        return cast(Table, self._container(key, "table"))

    def _container(self, key: str, kind: str) -> Any:
        if not isinstance(key, str) or not key:
            raise TypeError(f"container keys are non-empty str, got {key!r}")
        with self._lock:
            holds = self._kinds.get(key)
            wrapper = self._wrappers.get(key)
            if wrapper is not None and wrapper.kind == kind == holds:
                return wrapper
            if holds is None and key in self._registers:
                holds = "register"
            if holds not in (None, kind):
                # Also when a concurrent creation of another kind won this key.
                raise KindMismatch(self.name, key, str(holds), kind)
            if holds is None:
                with self.transaction():
                    self._kinds[key] = kind
                    root = self._root(key, kind)
            else:
                root = self._root(key, kind)
            wrapper = _WRAPPERS[kind](self, key, root)
            self._wrappers[key] = wrapper
            return wrapper

    def _root(self, key: str, kind: str) -> Map[Any] | Text | Array[Any]:
        name = f"{kind}:{key}"
        root = self._roots.get(name)
        if root is None:
            root = self._doc.get(name, type=_ROOT_TYPES[kind])
            self._roots[name] = root
            root.observe(self._marker(key))
            for manager in self._undo.values():
                manager.expand_scope(root)
        return root

    def _marker(self, key: str) -> Callable[[Any], None]:
        # One-parameter callback: pycrdt passes (event, txn) to two-parameter callables.
        room = weakref.ref(self)

        def mark(_event: Any) -> None:
            alive = room()
            if alive is not None:
                alive._changed.add(key)

        return mark

    def _watch_maps(self) -> None:
        # Below pycrdt's Map.observe, which wraps every event in Python objects (the
        # target, the transaction, each key's values): a third of a write's cost.
        self._map_watches = (
            self._registers.integrated.observe(_weakly(self._on_registers_changed)),
            self._kinds.integrated.observe(_weakly(self._on_kinds_changed)),
        )

    def _on_update(self, event: Any) -> None:
        self._updates.append(event.update)

    def _unwatch_maps(self) -> None:
        for watch in self._map_watches:
            watch.drop()

    def _on_registers_changed(self, event: Any) -> None:
        self._changed.update(event.keys)

    def _on_kinds_changed(self, event: Any) -> None:
        for key, change in event.keys.items():
            self._changed.add(key)
            old, new = change.get("oldValue"), change.get("newValue")
            self._kinds_touched[key] = new
            if change.get("action") == "update" and old != new:
                # Two replicas gave one key two kinds; the map's rule picked one everywhere.
                log.warning(
                    "room %r: key %r was made a %s and a %s at the same time; the %s wins "
                    "on every replica and the %s is hidden (its data stays in root %r)",
                    self.name,
                    key,
                    old,
                    new,
                    new,
                    old,
                    f"{old}:{key}" if old != "register" else "registers",
                )

    def _adopt_new_roots(self) -> None:
        # Containers created by other replicas arrive as kinds entries; give them a type.
        # Only the entries this transaction touched: a scan of all keys per write would
        # make every write cost O(keys).
        touched, self._kinds_touched = self._kinds_touched, {}
        for key, kind in touched.items():
            if kind in _ROOT_TYPES and f"{kind}:{key}" not in self._roots:
                self._root(key, kind)
                self._changed.add(key)

    # ------------------------------------------------------------------ transactions

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
            self._deliver()  # after the lock is released: observers never run under it

    @contextmanager
    def _capture(self, origin: Origin | None) -> Iterator[None]:
        """Collect what the enclosed pycrdt work changes; publish it when done (locked)."""
        self._depth, self._origin = 1, origin
        self._changed, self._updates = set(), []
        try:
            yield
        finally:
            self._depth = 0
            self._adopt_new_roots()
            updates, changed = self._updates, self._changed
            self._changed, self._updates = set(), []
            if changed and self._change_hooks:
                keys = frozenset(changed)
                for change_hook in self._change_hooks:
                    change_hook(keys)
            for update in updates:
                for hook in self._update_hooks:
                    hook(update, origin)
                if self._observers:  # an observer added later hears later transactions
                    self._outbox.append(RoomEvent(self.name, frozenset(changed), origin, update))
                changed = set()

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
        return self._subscribe(self._observers, callback)

    def add_update_hook(self, hook: UpdateHook) -> None:
        """Call ``hook(update, origin)`` for every update, inside the room's lock, in order.

        For persistence: when a write returns, its hooks have run. Hooks must be quick and
        must not touch the room.
        """
        with self._lock:
            self._update_hooks.append(hook)

    def add_change_hook(self, hook: ChangeHook) -> Callable[[], None]:
        """Call ``hook(keys)`` with the keys every transaction changed, inside the room's lock.

        Unlike an observer, a hook has run when the transaction returns, so a reader that
        keeps its own view of the room (e.g. an index) cannot miss a change that another
        thread, told by an observer, already acts on. Hooks must be quick and must not touch
        the room.

        Returns:
            A function that removes the hook.
        """
        return self._subscribe(self._change_hooks, hook)

    def _subscribe(self, callbacks: builtins.list[Any], callback: Any) -> Callable[[], None]:
        """Add ``callback`` to ``callbacks`` (under the lock); return what removes it."""
        with self._lock:
            callbacks.append(callback)

        def remove() -> None:
            with self._lock:
                if callback in callbacks:
                    callbacks.remove(callback)

        return remove

    def _deliver(self) -> None:
        # One thread at a time delivers, in order; a thread that finds another delivering
        # leaves its events to it (never waits: an observer may be waiting for a lock this
        # thread holds). The deliverer re-checks after letting go, so nothing is stranded.
        if getattr(self._delivering, "active", False):
            return  # an outer frame of this thread is delivering; it picks these up
        while self._delivery.acquire(blocking=False):
            self._delivering.active = True
            try:
                while True:
                    with self._lock:
                        if not self._outbox:
                            break
                        event = self._outbox.pop(0)
                        observers = list(self._observers)
                    for callback in observers:
                        try:
                            callback(event)
                        except Exception:
                            log.exception("room %r: observer %r failed", self.name, callback)
            finally:
                self._delivering.active = False
                self._delivery.release()
            with self._lock:
                if not self._outbox:
                    return

    # ------------------------------------------------------------------ undo

    def undo_manager(self, origin: Origin) -> UndoHistory:
        """Undo and redo of the changes made under ``origin``, and nobody else's.

        Args:
            origin: The origin whose transactions are tracked (e.g. a session id).

        Returns:
            The same `UndoHistory` for the same origin.
        """
        with self._lock:
            manager = self._undo.get(origin)
            if manager is None:
                scopes: list[Any] = [self._kinds, self._registers, *self._roots.values()]
                manager = UndoManager(scopes=scopes, capture_timeout_millis=0)
                manager.include_origin(origin)
                self._undo[origin] = manager
            return UndoHistory(self, origin, manager)

    def drop_undo_manager(self, origin: Origin) -> None:
        """Forget ``origin``'s undo history (when its session ends)."""
        with self._lock:
            self._undo.pop(origin, None)

    def _run_undo(self, origin: Origin, action: Callable[[], bool]) -> bool:
        with self._lock:
            if self._depth:
                raise RuntimeError(f"room {self.name!r}: cannot undo inside a transaction")
            with self._capture(origin):
                done = action()
        self._deliver()
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
            return len(self._pending)

    def merge(self, update: bytes, origin: Origin | None = None) -> bool:
        """Merge a Yjs update from another replica (never overwrites).

        An update that starts ahead of what this room has from its author is held back and
        applied once the missing updates arrive, so delivery order does not matter.

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
        with self._lock:
            if self._depth:
                raise RuntimeError(f"room {self.name!r}: cannot merge inside a transaction")
            have = decode_state_vector(self._doc.get_state())
            if any(start > have.get(client, 0) for client, start in info.starts.items()):
                self._hold(data, info.starts)
                return False
            self._apply(data, REMOTE if origin is None else origin)
            self._release_pending(REMOTE if origin is None else origin)
        self._deliver()
        return True

    def _hold(self, data: Update, starts: dict[int, int]) -> None:
        if len(self._pending) >= MAX_PENDING_UPDATES:
            log.warning(
                "room %r: %d updates wait for missing predecessors; dropping the oldest "
                "(a state-vector sync with the peer recovers it)",
                self.name,
                len(self._pending),
            )
            self._pending.pop(0)
        self._pending.append((data, starts))

    def _release_pending(self, origin: Origin) -> None:
        progress = True
        while progress and self._pending:
            progress = False
            have = decode_state_vector(self._doc.get_state())
            for entry in list(self._pending):
                data, starts = entry
                if all(start <= have.get(client, 0) for client, start in starts.items()):
                    self._pending.remove(entry)
                    try:
                        self._apply(data, origin)
                    except InvalidUpdate:
                        log.exception("room %r: dropping a held-back update", self.name)
                    progress = True
                    break

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
        with self._lock:
            hooks, self._update_hooks = self._update_hooks, []
            observers, self._observers = self._observers, []
            # pycrdt turns every changed key of an observed map into Python objects, which
            # makes replaying a big room several times slower than the replay itself:
            # stop observing, and give every container its root in one pass afterwards.
            self._unwatch_maps()
            try:
                for label, data in updates:
                    try:
                        self._apply(data, REMOTE)
                    except InvalidUpdate as exc:
                        failed.append((label, exc.reason))
            finally:
                self._watch_maps()
                for key, kind in json.loads(str(self._kinds)).items():
                    if kind in _ROOT_TYPES and f"{kind}:{key}" not in self._roots:
                        self._root(key, kind)
                self._update_hooks, self._observers = hooks, observers
                self._outbox.clear()
                self._changed, self._kinds_touched = set(), {}
        return failed


class UndoHistory:
    """Undo/redo of one origin's changes in one room.

    Args:
        room: The room.
        origin: Whose changes.
        manager: pycrdt's undo manager tracking that origin.
    """

    def __init__(self, room: Room, origin: Origin, manager: UndoManager) -> None:
        self._room, self._origin, self._manager = room, origin, manager

    def undo(self) -> bool:
        """Revert this origin's most recent change. Returns True if something changed."""
        return self._room._run_undo(self._origin, self._manager.undo)

    def redo(self) -> bool:
        """Re-apply the most recently undone change. Returns True if something changed."""
        return self._room._run_undo(self._origin, self._manager.redo)

    def can_undo(self) -> bool:
        """Whether there is a change to undo."""
        with self._room._lock:
            return bool(self._manager.can_undo())

    def can_redo(self) -> bool:
        """Whether there is an undone change to redo."""
        with self._room._lock:
            return bool(self._manager.can_redo())
