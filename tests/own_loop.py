"""Run an async test body on an event loop of its own thread.

The browser tests' Playwright driver keeps an event loop running on the main thread for
the whole test session, so ``asyncio.run`` there fails once a browser test has run.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine
from typing import Any


def run_on_own_loop(main: Callable[[], Coroutine[Any, Any, Any]], timeout: float = 120) -> None:
    """``asyncio.run(main())`` in a new thread; re-raise what it raised; fail on a hang."""
    failure: list[BaseException] = []

    def body() -> None:
        try:
            asyncio.run(main())
        except BaseException as exc:
            failure.append(exc)

    thread = threading.Thread(target=body, daemon=True)
    thread.start()
    thread.join(timeout)
    assert not thread.is_alive(), f"the async body hung for {timeout} s"
    if failure:
        raise failure[0]
