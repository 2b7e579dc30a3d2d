"""What one websocket client may cost the server: `Limits`, and the close codes that enforce them.

```py
limits = Limits(max_send_buffer=4 * 1024 * 1024, max_awareness_clients=2)
app = crdt_sync.App("app.py", limits=limits)
```

Every limit is counted in bytes, except the number of awareness client ids a connection
may announce. A client over a limit is closed with a code that says which limit it was
(see `SECURITY.md`); codes 4400-4499 tell y-websocket not to reconnect, 4503 lets it
reconnect and resync.
"""

from __future__ import annotations

from dataclasses import dataclass

from .protocol import ProtocolError

MiB = 1024 * 1024

CLOSE_BAD_REQUEST = 4400
"""A bad room name, a malformed frame, or a refused Origin's sibling: a text frame."""
CLOSE_FORBIDDEN = 4403
"""Refused by ``on_connect``, or a browser page of another site (its ``Origin``)."""
CLOSE_TOO_LARGE = 4413
"""A frame over ``max_message_size``, or awareness states over ``max_awareness_bytes``."""
CLOSE_TOO_MANY_CLIENTS = 4429
"""More awareness client ids than ``max_awareness_clients`` on one connection."""
CLOSE_TOO_SLOW = 4503
"""More than ``max_send_buffer`` bytes waiting to be sent: the client reads too slowly."""
CLOSE_HOOK_FAILED = 1011
"""``on_connect`` raised."""


@dataclass(frozen=True)
class Limits:
    """The budgets of one websocket connection (all sizes in bytes).

    ```py
    Limits()                                  # the defaults below
    Limits(max_message_size=1024 * 1024)      # smaller frames only
    ```

    Args:
        max_message_size: Largest frame read (close 4413). Keep uvicorn's ``--ws-max-size``
            near it, so that bigger frames are refused before they are read.
        max_send_buffer: Bytes waiting to be sent to a client, besides the frame being sent
            (close 4503). A single frame larger than this is still queued when nothing else
            waits, so a big room can always be synced.
        max_awareness_clients: Awareness client ids one connection may announce (close
            4429). A y-websocket client announces one.
        max_awareness_bytes: Bytes of awareness state (JSON) one connection may hold at
            once, over all its client ids (close 4413).
    """

    max_message_size: int = 8 * MiB
    max_send_buffer: int = 4 * MiB
    max_awareness_clients: int = 4
    max_awareness_bytes: int = 64 * 1024

    def __post_init__(self) -> None:
        for name in ("max_message_size", "max_send_buffer", "max_awareness_bytes"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1024:
                raise ValueError(f"Limits.{name} must be an int of at least 1024, got {value!r}")
        clients = self.max_awareness_clients
        if not isinstance(clients, int) or clients < 1:
            raise ValueError(f"Limits.max_awareness_clients must be at least 1, got {clients!r}")


class LimitExceeded(ProtocolError):
    """A client went over one of its `Limits`; ``code`` is the close code to send.

    Args:
        code: The websocket close code.
        reason: What was over which limit, e.g. ``"5 awareness client ids; the limit
            (max_awareness_clients) is 4"``.
    """

    def __init__(self, code: int, reason: str) -> None:
        self.code = code
        super().__init__(reason)
