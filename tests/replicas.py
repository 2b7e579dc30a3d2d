"""Helpers for tests with several replicas of a room: sync them, compare them, wait.

```py
a, b = replicas()
a["x"] = 1
sync(a, b)
assert converged(a, b)
```
"""

from __future__ import annotations

import time
from collections.abc import Callable

from crdt_sync.doc import Room
from crdt_sync.doc.update_format import read_delete_set, read_update


def sync(*rooms: Room) -> None:
    """Bring every room up to date with every other one (state-vector exchange)."""
    for a in rooms:
        for b in rooms:
            if a is not b:
                b.merge(a.update_since(b.state_vector()))


def replicas(n: int = 2) -> list[Room]:
    """Replicas that already share one empty history."""
    first = Room("r")
    others = [Room("r") for _ in range(n - 1)]
    for room in others:
        room.merge(first.export())
    return [first, *others]


def missing(update: bytes) -> tuple[int, dict[int, set[int]]]:
    """(number of structs, deleted clocks per client) in an update."""
    structs = read_update(update).struct_counts
    if structs:
        return sum(structs.values()), {}
    deleted = {
        client: {clock for start, length in ranges for clock in range(start, start + length)}
        for client, ranges in read_delete_set(update).items()
    }
    return 0, deleted


def converged(a: Room, b: Room) -> bool:
    """Neither replica has anything the other lacks.

    ``update_since`` is ``b"\\x00\\x00"`` both ways only when nothing was ever deleted:
    like Yjs, it always carries the whole delete set, so compare that instead.
    """
    ab = missing(a.update_since(b.state_vector()))
    ba = missing(b.update_since(a.state_vector()))
    return ab == ba and ab[0] == 0


def wait_for(
    condition: Callable[[], object], what: str, timeout: float = 10.0, interval: float = 0.01
) -> None:
    """Wait until ``condition()`` is true; fail naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)
