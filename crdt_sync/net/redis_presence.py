"""Presence across processes: who is in a room on the other servers, through Redis.

Each process publishes its members of a room under a key of its own that expires unless
renewed, and lists itself in the room's index; reading the index and the other processes'
keys tells who is in the room elsewhere. A process that stops (even by ``kill -9``) drops
out when its key expires. Presence is live state: nothing is queued while Redis is down.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from ..doc.types import RoomName
from .redis_api import RedisApi

DEFAULT_PRESENCE_TTL = 5.0
"""Seconds published members last without renewal, by default."""

MAX_LABEL = 100
"""Characters of another process's member label that are kept."""


class RedisPresence:
    """One process's presence in Redis.

    ```py
    presence = RedisPresence(api, process="ab12cd34ef56")
    others = presence.share("plans", {"s1": "Ann"})   # {"<process>:<member>": label}
    ```

    Args:
        api: The Redis commands.
        process: This process's id (no ``:``).
    """

    def __init__(self, api: RedisApi, process: str) -> None:
        self.api = api
        self.process = process

    def share(
        self, name: RoomName, members: Mapping[str, str], *, ttl: float = DEFAULT_PRESENCE_TTL
    ) -> dict[str, str]:
        """Publish who is in room ``name`` in this process; learn who is in it elsewhere.

        Args:
            name: The room.
            members: This process's members: member id -> display label (empty: none).
            ttl: Seconds the published members last without renewal.

        Returns:
            The members published by the other processes: ``"<process>:<member id>"`` ->
            label.

        Raises:
            redis.RedisError: Redis is unreachable.
        """
        expire_ms = max(1, int(ttl * 1000))
        published = json.dumps(dict(members)) if members else None
        listed = self.api.publish_presence(name, self.process, published, expire_ms)
        processes = [p for p in listed if p != self.process]
        if not processes:
            return {}
        others: dict[str, str] = {}
        gone = []
        for process, raw in zip(processes, self.api.presence_of(name, processes), strict=True):
            if raw is None:
                gone.append(process)  # expired: that process stopped
                continue
            try:
                found = json.loads(raw)
            except ValueError:
                continue
            if isinstance(found, dict):
                for member, label in found.items():
                    others[f"{process}:{member}"] = str(label)[:MAX_LABEL]
        if gone:
            self.api.forget_presence(name, gone)
        return others
