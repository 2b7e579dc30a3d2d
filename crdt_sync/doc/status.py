"""Whether a store's writes get through: `ConnectionStatus`, a frozen snapshot.

A networked store (Redis) reports its link to the server; the diskcache store reports its
disk (``connected`` is False while writes fail, e.g. on a full disk). Either way the edits
that could not be written wait in memory (``queued``) and are written once it works again.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ConnectionStatus:
    """The state of a store's link to where it writes, at one moment.

    ```py
    status = store.status()
    if not status.connected:
        print(f"{status.queued} edits wait for {status.server}: {status.error}")
    ```

    Attributes:
        server: Where the store writes (no password), e.g. ``"redis://127.0.0.1:6379/0"`` or
            ``"diskcache:/srv/rooms"``.
        connected: True while writes reach it.
        queued: Updates made in this process that it has not stored yet.
        since: When the link entered its current state (epoch seconds).
        error: Why writes fail (None while connected).
        local: A local store (a directory): writes fail because of the disk, not a network.
    """

    server: str
    connected: bool
    queued: int
    since: float
    error: str | None = None
    local: bool = False

    @property
    def message(self) -> str:
        """One sentence for people: what happens to their edits."""
        if self.connected:
            return f"Connected to {self.server}."
        waiting = f" ({self.queued} waiting)" if self.queued else ""
        if self.local:
            return (
                f"Edits cannot be saved to {self.server} ({self.error}): they are kept on "
                f"this server and saved when it can write again{waiting}."
            )
        return (
            f"The shared store at {self.server} is unreachable: edits are kept on this "
            f"server and saved when it is back{waiting}."
        )
