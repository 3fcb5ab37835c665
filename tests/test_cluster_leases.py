"""Leases between two in-process ``Cluster`` objects on a real redis-server: one holder at a
time, a node cut off past its lease's expiry fenced off from the session and told it lost it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import pytest

from claude_chat.server.auth import Tenant
from claude_chat.server.cluster import Cluster
from claude_chat.server.errors import ApiError
from claude_chat.server.metrics import Metrics
from claude_chat.server.settings import ClusterSettings
from claude_chat.store.redis_sessions import FencedError
from tests.redis_server import RedisServer

pytest.importorskip("redis.asyncio")

SESSION = "0b6e1f6c-53a4-4a3e-9d41-0c1f9d3b2a10"
ALICE = Tenant("alice", "alice-key")


@dataclass(eq=False)
class Conversation:
    tenant: Tenant
    session_id: str | None


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
async def nodes(redis_server: RedisServer) -> AsyncIterator[tuple[Cluster, Cluster]]:
    def node(name: str) -> Cluster:
        settings = ClusterSettings(
            redis_url=redis_server.url, node_id=name, advertise_url=f"http://{name}:1",
            lease_ttl_s=0.6,
        )  # fmt: skip
        return Cluster(settings, Metrics())

    a, b = node("a"), node("b")
    await a.redis.flushdb()
    try:
        yield a, b
    finally:
        await a.close()
        await b.close()


async def test_one_holder_at_a_time_and_the_lease_goes_when_released(
    nodes: tuple[Cluster, Cluster],
) -> None:
    a, b = nodes
    on_a, on_b = Conversation(ALICE, SESSION), Conversation(ALICE, SESSION)
    await a.claim(on_a)
    with pytest.raises(ApiError) as refused:
        await b.claim(on_b)
    assert refused.value.status == 409 and "node a" in refused.value.message
    owner = await b.owner("alice", SESSION)
    assert owner is not None and owner.node_id == "a" and owner.url == "http://a:1"
    assert await b.owner("bob", SESSION) is None  # another tenant's namespace
    await a.release(on_a)
    await b.claim(on_b)
    assert await a.owner("alice", SESSION) is not None


async def test_a_node_whose_lease_ran_out_is_fenced_off_and_told(
    nodes: tuple[Cluster, Cluster],
) -> None:
    a, b = nodes
    on_a, on_b = Conversation(ALICE, SESSION), Conversation(ALICE, SESSION)
    lost: list[object] = []

    async def record(conversation: object) -> None:
        lost.append(conversation)

    a.on_lost = record
    await a.claim(on_a)
    key = {"project_key": "p", "session_id": SESSION}
    await a.store_for(on_a).append(key, [{"type": "user", "uuid": "1"}])
    await asyncio.sleep(0.8)  # a is cut off: no renewal, its lease expires
    await b.claim(on_b)
    with pytest.raises(FencedError):
        await a.store_for(on_a).append(key, [{"type": "user", "uuid": "2"}])
    await b.store_for(on_b).append(key, [{"type": "user", "uuid": "3"}])
    await a.renew_all()  # back: its renewal finds the session taken
    await asyncio.sleep(0.05)
    assert lost == [on_a]
    loaded = await b.store_for(on_b).load(key)
    assert [e["uuid"] for e in loaded or []] == ["1", "3"]


async def test_a_lease_that_expired_while_redis_was_away_is_renewed_if_nobody_took_it(
    nodes: tuple[Cluster, Cluster],
) -> None:
    a, b = nodes
    on_a = Conversation(ALICE, SESSION)
    await a.claim(on_a)
    await a.redis.delete(f"claude-chat:alice:lease:{SESSION}")  # as if it had expired
    await a.renew_all()
    owner = await b.owner("alice", SESSION)
    assert owner is not None and owner.node_id == "a"
    renewed = {
        sample.labels["outcome"]: sample.value
        for metric in a.renewals.collect()
        for sample in metric.samples
        if sample.name.endswith("_total")
    }
    assert renewed == {"ok": 1, "lost": 0, "error": 0}
