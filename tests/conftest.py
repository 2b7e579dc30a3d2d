"""Fixtures shared by the unit tests (helpers that are plain functions live in
``replicas.py``, ``redis_helpers.py``, ``ws_helpers.py`` and ``fake_sessions.py``).

* ``process_config``: the engine's process configuration (`crdt_sync.doc.config`) with no
  store chosen and no Hub yet; the test's Hub is closed and the old one restored after.
* ``pushed``: the bridge's runtime without Streamlit; the sessions it would rerun are
  recorded in the list it yields.
* ``redis_server``: a ``redis-server`` of the test's own; ``stores``: a factory of
  `RedisStore` on it (closed at teardown).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

import pytest
from redis_helpers import RedisServer

from crdt_sync.doc import config

if TYPE_CHECKING:
    from crdt_sync.net.redis_store import RedisStore


@pytest.fixture
def process_config(monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    monkeypatch.setattr(config, "_hub", None)
    monkeypatch.setattr(config, "_spec", None)
    yield config
    if config._hub is not None:
        config._hub.close()


@pytest.fixture
def pushed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    from crdt_sync.bridge import runtime

    calls: list[str] = []
    monkeypatch.setattr(runtime, "on_session_end", lambda session, callback: None)
    monkeypatch.setattr(
        runtime.scheduler,
        "push",
        lambda session, fragments, still_needed=None: calls.append(session),
    )
    return calls


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    with RedisServer(tmp_path / "redis") as server:
        yield server


@pytest.fixture
def stores(redis_server: RedisServer) -> Iterator[Callable[..., RedisStore]]:
    """Factory of stores on the test's Redis (``timeout=0.5`` unless given); all closed at
    teardown."""
    from crdt_sync.net.redis_store import RedisStore

    made: list[RedisStore] = []

    def make(url: str | None = None, **kwargs: Any) -> RedisStore:
        kwargs.setdefault("timeout", 0.5)
        store = RedisStore(url or redis_server.url, **kwargs)
        made.append(store)
        return store

    yield make
    for store in made:
        store.close()
