"""One server process on a Redis store, driven over stdin/stdout (for tests and benchmarks).

    python tests/redis_peer.py REDIS_URL ROOM

Each stdin line is a JSON command ``{"id": N, "cmd": ..., ...}``; the answer is one stdout
line ``{"id": N, "ok": true, ...}``. Commands:

- ``set {key, value}``: ``room[key] = value`` (answered once acknowledged: in Redis), with
  ``{"before": time.time()}`` taken just before the write
- ``burst {prefix, count, quiet?}``: ``room[prefix + str(i)] = i`` for each i, printing
  ``{"ack": i}`` after each write returned (unless ``quiet``); then answers
- ``text {key, index, insert}``, ``counter {key, n}``
- ``wait {key, value, timeout}``, ``wait_keys {prefix, count, timeout}``
- ``dump``: ``{"registers", "texts", "counters"}``; ``status``; ``quit``
- ``wait`` answers with ``{"at": time.time()}``: when the value arrived
"""

from __future__ import annotations

import json
import sys
import threading
import time
from typing import Any

from crdt_sync.doc import Hub, RoomEvent
from crdt_sync.net.redis_store import RedisStore


def main() -> int:
    url, name = sys.argv[1], sys.argv[2]
    store = RedisStore(url, timeout=0.5)
    hub = Hub(store)
    store.attach_hub(hub)
    room = hub.open(name)
    changed = threading.Condition()

    def on_event(_event: RoomEvent) -> None:
        with changed:
            changed.notify_all()

    room.observe(on_event)

    def wait(check: Any, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        with changed:
            while not check():
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                changed.wait(min(left, 0.05))
        return True

    def out(obj: dict[str, Any]) -> None:
        sys.stdout.write(json.dumps(obj) + "\n")
        sys.stdout.flush()

    def handle(msg: dict[str, Any]) -> dict[str, Any]:
        cmd, reply = msg["cmd"], {"id": msg.get("id"), "ok": True}
        key, value, timeout = msg.get("key", ""), msg.get("value"), msg.get("timeout", 10)
        if cmd == "set":
            reply["before"] = time.time()
            room[key] = value
        elif cmd == "burst":
            reply["before"] = time.time()
            for i in range(msg["count"]):
                room[f"{msg['prefix']}{i}"] = i
                if not msg.get("quiet"):
                    out({"ack": i})
        elif cmd == "text":
            with room.transaction():
                text = room.text(key)
                text.insert(msg.get("index", len(str(text))), msg["insert"])
        elif cmd == "counter":
            room.counter(key).increment(msg.get("n", 1))
        elif cmd in ("wait", "timed_wait"):
            reply["ok"] = wait(lambda: room.get(key) == value, timeout)
            reply["at"] = time.time()
        elif cmd == "wait_keys":
            keys = [f"{msg['prefix']}{i}" for i in range(msg["count"])]
            reply["ok"] = wait(lambda: all(k in room for k in keys), timeout)
        elif cmd == "dump":
            kinds = room.kinds()
            reply["registers"] = room.snapshot()
            reply["texts"] = {k: str(room.text(k)) for k, v in kinds.items() if v == "text"}
            reply["counters"] = {
                k: room.counter(k).value for k, v in kinds.items() if v == "counter"
            }
        elif cmd == "status":
            status = store.status()
            reply.update(connected=status.connected, queued=status.queued)
        elif cmd != "quit":
            reply = {"id": msg.get("id"), "ok": False, "error": f"unknown command {cmd!r}"}
        return reply

    for line in sys.stdin:
        if line.strip():
            msg = json.loads(line)
            out(handle(msg))
            if msg["cmd"] == "quit":
                break
    hub.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
