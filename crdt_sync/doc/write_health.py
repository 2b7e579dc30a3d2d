"""Writes a store could not make: who waits to retry, and the status people are shown.

When an append fails (a full disk, a read-only directory), the room's writer keeps the
update in memory and registers here; a background thread retries every ``retry_every``
seconds until every waiting writer got through. Meanwhile `WriteHealth.status` says
``connected=False`` with the error and how many updates wait, exactly as the Redis store
reports an outage, and status listeners hear the change (the Streamlit pages rerun and
show a warning).

```py
health = WriteHealth("diskcache:/srv/rooms")
health.failed(writer, OSError(28, "No space left on device"))  # writer.retry() soon
health.status().connected      # False, until writer.retry() succeeds and calls recovered
```
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Protocol

from .status import ConnectionStatus
from .types import RoomName, Update

log = logging.getLogger("crdt_sync.store")

StatusListener = Callable[[ConnectionStatus], None]
DEFAULT_RETRY_EVERY = 1.0


class WaitingWriter(Protocol):
    """What a writer with unwritten updates offers (a room's persister)."""

    @property
    def room_name(self) -> RoomName: ...

    def waiting(self) -> list[Update]:
        """The updates not written yet, in order (without taking the writer's lock)."""
        ...

    def retry(self) -> bool:
        """Try to write them; True once nothing waits."""
        ...


def describe(exc: BaseException) -> str:
    """An exception as a short reason, e.g. ``"database or disk is full"``."""
    text = str(exc) or type(exc).__name__
    return text if len(text) <= 200 else text[:199] + "…"


class WriteHealth:
    """The writers of one store that wait to retry, and the store's status.

    Args:
        where: The store as people should read it (``"diskcache:/srv/rooms"``).
        retry_every: Seconds between retries while writes fail.
    """

    def __init__(self, where: str, *, retry_every: float = DEFAULT_RETRY_EVERY) -> None:
        self.where = where
        self.retry_every = retry_every
        self._lock = threading.Lock()
        self._waiting: dict[int, WaitingWriter] = {}
        self._error: str | None = None
        self._since = time.time()
        self._listeners: list[StatusListener] = []
        self._thread: threading.Thread | None = None
        self._closed = threading.Event()

    def failed(self, writer: WaitingWriter, exc: BaseException) -> None:
        """A writer could not write: retry it later, and report the store as failing."""
        with self._lock:
            first = not self._waiting
            self._waiting[id(writer)] = writer
            self._error = describe(exc)
            if first:
                self._since = time.time()
            if self._thread is None and not self._closed.is_set():
                self._thread = threading.Thread(
                    target=self._retry_loop, name="crdt_sync-store-retry", daemon=True
                )
                self._thread.start()
        if first:
            log.error(
                "%s: could not write room %r (%s); its edits are kept in memory and "
                "written when the store can write again",
                self.where,
                writer.room_name,
                self._error,
            )
            self._notify_soon()

    def recovered(self, writer: WaitingWriter) -> None:
        """A writer got everything written."""
        with self._lock:
            if self._waiting.pop(id(writer), None) is None or self._waiting:
                return
            self._error = None
            self._since = time.time()
        log.warning("%s: writes work again; every kept edit is written", self.where)
        self._notify_soon()

    def waiting(self, name: RoomName) -> list[Update]:
        """Updates of room ``name`` that wait in memory (a reload must include them)."""
        with self._lock:
            writers = [w for w in self._waiting.values() if w.room_name == name]
        return [update for writer in writers for update in writer.waiting()]

    def status(self) -> ConnectionStatus:
        """Where writes stand now."""
        with self._lock:
            writers = list(self._waiting.values())
            error, since = self._error, self._since
        queued = sum(len(w.waiting()) for w in writers)
        return ConnectionStatus(
            server=self.where,
            connected=not writers,
            queued=queued,
            since=since,
            error=error,
            local=True,
        )

    def add_listener(self, listener: StatusListener) -> Callable[[], None]:
        """Call ``listener(status)`` (from any thread) when writes start or stop failing.

        Returns:
            A function that removes the listener.
        """
        with self._lock:
            self._listeners.append(listener)

        def remove() -> None:
            with self._lock:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return remove

    def retry_now(self) -> bool:
        """Retry every waiting writer once; True if nothing waits afterwards."""
        with self._lock:
            writers = list(self._waiting.values())
        for writer in writers:
            try:
                writer.retry()
            except Exception:
                log.exception("%s: retrying room %r failed", self.where, writer.room_name)
        with self._lock:
            return not self._waiting

    def close(self) -> None:
        """Stop retrying (what still waits stays unwritten)."""
        self._closed.set()
        with self._lock:
            count = sum(len(w.waiting()) for w in self._waiting.values())
        if count:
            log.error("%s: closed with %d edit(s) that could not be written", self.where, count)

    def _retry_loop(self) -> None:
        while not self._closed.wait(self.retry_every):
            if self.retry_now():
                with self._lock:
                    if not self._waiting:  # nothing came in meanwhile
                        self._thread = None
                        return

    def _notify_soon(self) -> None:
        # From a thread of its own: the caller holds a room's lock, listeners take others.
        threading.Thread(target=self._notify, name="crdt_sync-store-status", daemon=True).start()

    def _notify(self) -> None:
        status = self.status()
        with self._lock:
            listeners = list(self._listeners)
        for listener in listeners:
            try:
                listener(status)
            except Exception:
                log.exception("%s: a status listener failed", self.where)
