"""Scale-out: rooms in Redis followed live by every process, and a Yjs websocket endpoint.

Importing this package registers the ``redis://``, ``rediss://`` and ``unix://`` store
schemes with the engine (`crdt_sync.doc.store_specs`). ``RedisStore`` needs the redis extra
(``pip install 'crdt-sync[redis]'``) and ``App`` needs Streamlit; both are imported on
first use, so importing ``crdt_sync.net`` imports neither redis nor Streamlit.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ..doc.store_specs import register_scheme
from .status import ConnectionStatus as ConnectionStatus

if TYPE_CHECKING:
    from ..doc.store import UpdateStore
    from .app import App as App
    from .limits import Limits as Limits
    from .redis_store import RedisStore as RedisStore

_LAZY = {"App": ".app", "Limits": ".limits", "RedisStore": ".redis_store"}

REDIS_SCHEMES = ("redis://", "rediss://", "unix://")


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'crdt_sync.net' has no attribute {name!r}")
    return getattr(importlib.import_module(module, __name__), name)


def _open_redis(spec: str) -> UpdateStore:
    try:
        from .redis_store import RedisStore  # type: ignore[import-not-found,unused-ignore]
    except ImportError as exc:  # redis-py missing
        raise ValueError(
            f"store {spec!r} needs the redis extra: pip install 'crdt-sync[redis]' ({exc})"
        ) from None
    store: UpdateStore = RedisStore(spec)
    return store


register_scheme(REDIS_SCHEMES, _open_redis, form='"redis://HOST:PORT/DB"')
