"""The Redis SessionStore against a real redis-server: the SDK's own conformance suite, the
uuid as idempotency key, fencing, and the SDK's store helpers reading through it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from claude_chat.store.redis_sessions import FencedError, RedisSessionStore
from tests.redis_server import RedisServer

redis_asyncio = pytest.importorskip("redis.asyncio")


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
async def redis(redis_server: RedisServer) -> AsyncIterator[object]:
    client = redis_asyncio.Redis.from_url(redis_server.url)
    await client.flushdb()
    try:
        yield client
    finally:
        await client.aclose()


async def test_the_sdk_conformance_suite_passes(redis: object) -> None:
    from claude_agent_sdk.testing import run_session_store_conformance

    counter = iter(range(1000))

    async def fresh() -> RedisSessionStore:
        return RedisSessionStore(redis, f"test{next(counter)}")

    await run_session_store_conformance(fresh)


async def test_entries_with_a_uuid_are_kept_once_others_each_time(redis: object) -> None:
    store = RedisSessionStore(redis, "t")
    key = {"project_key": "p", "session_id": "s1"}
    await store.append(key, [{"type": "user", "uuid": "a"}, {"type": "title"}])
    await store.append(key, [{"type": "user", "uuid": "a"}, {"type": "title"}])
    loaded = await store.load(key)
    assert loaded == [{"type": "user", "uuid": "a"}, {"type": "title"}, {"type": "title"}]
    assert await store.project_of("s1") == "p"
    assert await RedisSessionStore(redis, "other").load(key) is None


async def test_a_writer_whose_fence_is_stale_is_refused(redis: object) -> None:
    old, new = RedisSessionStore(redis, "t"), RedisSessionStore(redis, "t")
    key = {"project_key": "p", "session_id": "s2"}
    await old.append(key, [{"type": "user", "uuid": "1"}])
    await redis.set(old.fence_key("s2"), 1)
    old.fences["s2"] = 1
    await old.append(key, [{"type": "user", "uuid": "2"}])
    await redis.incr(old.fence_key("s2"))  # a new owner
    new.fences["s2"] = 2
    with pytest.raises(FencedError):
        await old.append(key, [{"type": "user", "uuid": "3"}])
    with pytest.raises(FencedError):  # nor without any fence once the session is leased
        await RedisSessionStore(redis, "t").append(key, [{"type": "x"}])
    await new.append(key, [{"type": "user", "uuid": "4"}])
    assert [e["uuid"] for e in await new.load(key) or []] == ["1", "2", "4"]


async def test_the_sdk_helpers_list_and_read_sessions_through_the_store(
    redis: object, tmp_path: Path
) -> None:
    from claude_agent_sdk import (
        get_session_messages_from_store,
        list_sessions_from_store,
        project_key_for_directory,
    )

    store = RedisSessionStore(redis, "t")
    session_id = "5b7c8f0e-1a2b-4c3d-9e8f-0a1b2c3d4e5f"
    key = {"project_key": project_key_for_directory(tmp_path), "session_id": session_id}
    user = {
        "type": "user", "uuid": "u1", "parentUuid": None, "sessionId": session_id,
        "timestamp": "2026-12-01T10:00:00.000Z", "cwd": str(tmp_path),
        "message": {"role": "user", "content": "hello"},
    }  # fmt: skip
    await store.append(key, [user])
    listed = await list_sessions_from_store(store, directory=str(tmp_path))
    assert [s.session_id for s in listed] == [session_id]
    messages = await get_session_messages_from_store(store, session_id, directory=str(tmp_path))
    assert [m.uuid for m in messages] == ["u1"]
    await store.delete(key)
    assert await store.load(key) is None and await store.project_of(session_id) is None
