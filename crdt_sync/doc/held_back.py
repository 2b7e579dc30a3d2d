"""Delivery of held-back updates: updates that arrived before their predecessors.

yrs integrates an update whose author's clock is ahead of the document with a gap, and a
later update that depends on the missing part is then lost (y-crdt/y-crdt#632). A room
therefore holds such an update back, with its own origin, and applies it once the updates
before it have arrived.

What is held back is bounded in bytes (`DEFAULT_MAX_HELD_BACK_BYTES`, per room): beyond
the bound the oldest updates are dropped and the room asks its peers for a resync (a
state-vector exchange brings back whatever was dropped).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from .errors import InvalidUpdate
from .types import Origin, Update

log = logging.getLogger("crdt_sync.room")

DEFAULT_MAX_HELD_BACK_BYTES = 8 * 1024 * 1024
"""Bytes of held-back updates one room keeps, by default."""

ENTRY_OVERHEAD = 256
"""Bytes counted for each held-back update on top of its own (its bookkeeping)."""


@dataclass(frozen=True)
class HeldUpdate:
    """An update waiting for its predecessors.

    Attributes:
        data: The update bytes.
        starts: Client id -> the clock its structs start at (from `read_update`).
        origin: Who sent it; it is applied with this origin, whoever fills the gap.
    """

    data: Update = field(repr=False)
    starts: dict[int, int]
    origin: Origin

    @property
    def cost(self) -> int:
        """Bytes it counts for against the bound."""
        return len(self.data) + ENTRY_OVERHEAD

    def ready(self, have: dict[int, int]) -> bool:
        """Whether a document with state vector ``have`` has everything before it."""
        return all(start <= have.get(client, 0) for client, start in self.starts.items())


class HeldBack:
    """The updates one room holds back, oldest first, within a byte bound.

    ```py
    held = HeldBack("plans", max_bytes=1 << 20)
    if held.hold(HeldUpdate(data, info.starts, "peer")):
        ...                                  # older ones were dropped: resync
    held.release(state_vector_of_doc, apply) # once the gap has filled
    ```

    Args:
        room: The room's name, for messages.
        max_bytes: The bound, in bytes (each update counts ``len + ENTRY_OVERHEAD``).
    """

    def __init__(self, room: str, max_bytes: int = DEFAULT_MAX_HELD_BACK_BYTES) -> None:
        self.room = room
        self.max_bytes = max_bytes
        self._held: list[HeldUpdate] = []
        self._bytes = 0

    def __len__(self) -> int:
        return len(self._held)

    @property
    def size(self) -> int:
        """Bytes held, as counted against the bound."""
        return self._bytes

    def hold(self, update: HeldUpdate) -> bool:
        """Keep ``update`` until its predecessors arrive.

        Returns:
            True if updates were dropped to stay within the bound (the room then wants a
            resync), False otherwise.
        """
        dropped = 0
        while self._held and self._bytes + update.cost > self.max_bytes:
            self._bytes -= self._held.pop(0).cost
            dropped += 1
        if update.cost > self.max_bytes:
            dropped += 1
        else:
            self._held.append(update)
            self._bytes += update.cost
        if dropped:
            log.warning(
                "room %r: held-back updates exceed %d bytes; dropped the %d oldest (a "
                "state-vector sync with the peers recovers them)",
                self.room,
                self.max_bytes,
                dropped,
            )
        return bool(dropped)

    def release(
        self, have: Callable[[], dict[int, int]], apply: Callable[[HeldUpdate], None]
    ) -> None:
        """Apply, oldest first, every update whose predecessors are now there.

        Args:
            have: The document's state vector now (called again after every apply).
            apply: Applies one update; an `InvalidUpdate` drops it (logged).
        """
        progress = True
        while progress and self._held:
            progress = False
            state = have()
            for update in self._held:
                if update.ready(state):
                    self._held.remove(update)
                    self._bytes -= update.cost
                    try:
                        apply(update)
                    except InvalidUpdate:
                        log.exception("room %r: dropping a held-back update", self.room)
                    progress = True
                    break
