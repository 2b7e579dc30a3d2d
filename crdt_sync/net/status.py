"""What a store's connection is doing: `ConnectionStatus`, a frozen snapshot."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ConnectionStatus:
    """The state of a store's link to its server, at one moment.

    ```py
    status = store.status()
    if not status.connected:
        print(f"{status.queued} edits wait for {status.server}: {status.error}")
    ```

    Attributes:
        server: Where the store connects to (no password), e.g. ``"redis://127.0.0.1:6379/0"``.
        connected: True while writes reach the server.
        queued: Updates made in this process that the server has not acknowledged yet.
        since: When the link entered its current state (epoch seconds).
        error: Why the link is down (None while connected).
    """

    server: str
    connected: bool
    queued: int
    since: float
    error: str | None = None

    @property
    def message(self) -> str:
        """One sentence for people: what happens to their edits."""
        if self.connected:
            return f"Connected to {self.server}."
        waiting = f" ({self.queued} waiting)" if self.queued else ""
        return (
            f"The shared store at {self.server} is unreachable: edits are kept on this "
            f"server and saved when it is back{waiting}."
        )
