"""What a store's connection is doing: `ConnectionStatus`, a frozen snapshot.

It lives in the engine (`crdt_sync.doc.status`), which the diskcache store reports with
too; this module keeps its old import path.
"""

from __future__ import annotations

from ..doc.status import ConnectionStatus as ConnectionStatus

__all__ = ["ConnectionStatus"]
