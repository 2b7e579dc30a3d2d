"""Scale-out: rooms in Redis followed live by every process, and a Yjs websocket endpoint.

``RedisStore`` needs the redis extra (``pip install 'crdt-sync[redis]'``) and is imported on
first use, so importing ``crdt_sync`` never imports redis.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .app import App as App
from .limits import Limits as Limits
from .status import ConnectionStatus as ConnectionStatus

if TYPE_CHECKING:
    from .redis_store import RedisStore as RedisStore


def __getattr__(name: str) -> Any:
    if name == "RedisStore":
        from .redis_store import RedisStore

        return RedisStore
    raise AttributeError(f"module 'crdt_sync.net' has no attribute {name!r}")
