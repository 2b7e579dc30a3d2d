"""Presence across server processes through Redis (`RedisStore.share_presence` and the
bridge's `PresenceShare`), against a real redis-server.

Two stores with their own registries stand for two server processes.
"""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType

import pytest
from redis_helpers import RedisServer
from replicas import wait_for

from crdt_sync.bridge import runtime
from crdt_sync.bridge.remote_presence import PresenceShare
from crdt_sync.bridge.sessions import Registry
from crdt_sync.net.redis_store import RedisStore


@pytest.fixture
def pushed(pushed: list[str], process_config: ModuleType) -> list[str]:
    """Registries work without Streamlit, on the memory store; the sessions they would
    rerun are recorded."""
    process_config.configure("memory")
    return pushed


def labels(registry: Registry, room: str) -> list[str]:
    return sorted(m.label for m in registry.members(room))


def test_share_presence_publishes_and_expires(stores: Callable[[], RedisStore]) -> None:
    one, two = stores(), stores()
    assert one.share_presence("plans", {"s1": "Ann"}, ttl=0.5) == {}
    assert two.share_presence("plans", {"s2": "Bob"}, ttl=0.5) == {f"{one.id}:s1": "Ann"}
    assert one.share_presence("plans", {"s1": "Ann"}, ttl=0.5) == {f"{two.id}:s2": "Bob"}
    assert one.share_presence("other", {"s1": "Ann"}, ttl=0.5) == {}  # rooms are separate
    # Bob's process says nobody is left: gone at once.
    two.share_presence("plans", {}, ttl=0.5)
    assert one.share_presence("plans", {"s1": "Ann"}, ttl=0.5) == {}
    # A process that stops renewing (killed) drops out when its entry expires.
    two.share_presence("plans", {"s2": "Bob"}, ttl=0.5)
    assert one.share_presence("plans", {"s1": "Ann"}, ttl=0.5) == {f"{two.id}:s2": "Bob"}
    wait_for(
        lambda: one.share_presence("plans", {"s1": "Ann"}, ttl=0.5) == {},
        "Bob's entry to expire",
    )


def test_regression_a_room_named_like_another_rooms_presence_key_shares_presence(
    stores: Callable[[], RedisStore],
) -> None:
    # Bug: the index of room "lobby:<process id>" was the key of that process's members of
    # room "lobby", so whichever came second failed with WRONGTYPE (issue 13, item 7).
    one, two = stores(), stores()
    assert one.share_presence("lobby", {"s1": "Ann"}) == {}
    assert two.share_presence(f"lobby:{one.id}", {"s2": "Bob"}) == {}
    assert two.share_presence("lobby", {"s3": "Cy"}) == {f"{one.id}:s1": "Ann"}
    assert one.share_presence(f"lobby:{one.id}", {"s4": "Di"}) == {f"{two.id}:s2": "Bob"}


def test_people_on_other_processes_are_members_here(
    stores: Callable[[], RedisStore], pushed: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    here, there = Registry(), Registry()
    here.bind("ann-session", "plans", private_by_default=False)
    here.set_name("ann-session", "Ann")
    with monkeypatch.context() as patch:  # Ann's page shows who is here
        patch.setattr(runtime, "session_id", lambda: "ann-session")
        here.members("plans")
    there.bind("bob-session", "plans", private_by_default=False)
    share_here = PresenceShare(stores(), here, ttl=1.0)
    share_there = PresenceShare(stores(), there, ttl=1.0)
    for share in (share_here, share_there, share_here):
        share.step()
    assert labels(here, "plans") == ["Ann", "guest-bob-se"]
    assert labels(there, "plans") == ["Ann", "guest-bob-se"]
    assert "ann-session" in pushed  # Ann's page reruns to show Bob

    there.leave_all("bob-session")
    share_there.step()
    share_here.step()
    assert labels(here, "plans") == ["Ann"]

    # Cara joins on the other process; then Ann's process dies without a word.
    there.bind("cara-session", "plans", private_by_default=False)
    there.set_name("cara-session", "Cara")
    share_here.step()
    share_there.step()
    assert labels(there, "plans") == ["Ann", "Cara"]

    def ann_gone() -> bool:
        share_there.step()
        return labels(there, "plans") == ["Cara"]

    wait_for(ann_gone, "Ann's process's entry to expire")


def test_presence_survives_a_redis_outage_without_errors(
    stores: Callable[[], RedisStore], pushed: list[str], redis_server: RedisServer
) -> None:
    here, there = Registry(), Registry()
    here.bind("ann-session", "plans", private_by_default=False)
    there.bind("bob-session", "plans", private_by_default=False)
    share_here = PresenceShare(stores(), here, ttl=0.5)
    share_there = PresenceShare(stores(), there, ttl=0.5)
    share_here.step()
    share_there.step()
    assert len(here.members("plans")) == 1 and len(there.members("plans")) == 2
    redis_server.stop()
    share_there.step()  # no exception: presence is live state, shared again later
    wait_for(
        lambda: (share_there.step(), len(there.members("plans")) == 1)[1],
        "what Bob's process knew of Ann to go stale",
    )
    redis_server.start()
    wait_for(
        lambda: (share_here.step(), share_there.step(), len(there.members("plans")) == 2)[2],
        "presence back with Redis",
    )
