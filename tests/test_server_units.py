"""The server's parts on their own: keys, the pool with a fake CLI, the event stream."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from claude_chat.server.auth import (
    Credentials,
    Keyring,
    KeysError,
    Tenant,
    request_credentials,
    tenants_from_file,
    tenants_from_text,
)
from claude_chat.server.errors import ApiError
from claude_chat.server.metrics import Metrics
from claude_chat.server.pool import Pool, TurnRequest
from claude_chat.server.protocol import SSE_PING
from claude_chat.server.settings import ServerSettings
from claude_chat.server.sse import EventStream
from tests.fake_transport import SESSION, FakeCLI


def test_keys_find_their_tenant_and_nothing_else() -> None:
    keyring = Keyring(tenants_from_text("alice:one-key, bob:two-key"))
    alice = keyring.tenant_for_header("Bearer one-key")
    assert alice is not None and alice.name == "alice"
    assert keyring.tenant_for_header("bearer two-key").name == "bob"  # type: ignore[union-attr]
    for header in (None, "", "Bearer", "Bearer one", "Basic one-key", "Bearer one-key2"):
        assert keyring.tenant_for_header(header) is None
    with pytest.raises(KeysError):
        tenants_from_text("alice")
    with pytest.raises(KeysError):
        tenants_from_text("../etc:key")


def test_a_keys_file_says_what_is_wrong_with_it(tmp_path: Path) -> None:
    path = tmp_path / "keys.toml"
    path.write_text('[tenants.a]\nkey = "KEY-X"\noauth_token = "TOKEN-Y"\nmax_concurrent = 2\n')
    (tenant,) = tenants_from_file(path)
    assert tenant.credentials == Credentials(oauth_token="TOKEN-Y") and tenant.max_concurrent == 2
    assert "KEY-X" not in repr(tenant) and "TOKEN-Y" not in repr(tenant)
    for text, complaint in (
        ("[tenants.a]\n", "needs a key"),
        ('[tenants.a]\nkey = "k"\nmax_concurrent = 0\n', "max_concurrent"),
        ('[tenants.a]\nkey = "k"\nport = 1\n', "unknown field"),
        ('[tenants.a]\nkey = "k"\napi_key = "x"\noauth_token = "y"\n', "not both"),
        ("tenants = 3\n", "no [tenants.NAME]"),
        ("[tenants.a\n", "not TOML"),
    ):
        path.write_text(text)
        with pytest.raises(KeysError, match=complaint.replace("[", r"\[")):
            tenants_from_file(path)


def test_a_requests_credential_wins_over_the_tenants() -> None:
    tenant = Tenant("a", "k", Credentials(api_key="tenant-key"))
    assert request_credentials({}, tenant) == Credentials(api_key="tenant-key")
    mine = request_credentials({"x-claude-code-oauth-token": "mine"}, tenant)
    assert mine == Credentials(oauth_token="mine")
    with pytest.raises(ValueError):
        request_credentials({"x-claude-code-oauth-token": "a", "x-anthropic-api-key": "b"}, tenant)


def _pool(tmp_path: Path, **settings: Any) -> Pool:
    options: dict[str, Any] = {"max_processes": 2, "queue_timeout_s": 0.2}
    options.update(settings)
    return Pool(ServerSettings(data_dir=tmp_path, cwd=tmp_path, **options), Metrics(), FakeCLI)


async def _turn(pool: Pool, tenant: Tenant, session_id: str | None = None) -> None:
    conversation = await pool.acquire(tenant, TurnRequest(session_id, Credentials()))
    try:
        assert conversation.engine is not None
        async for _ in conversation.engine.send("hi"):
            pass
    finally:
        pool.release(conversation)


async def test_a_full_pool_closes_the_least_recently_used_idle_process(tmp_path: Path) -> None:
    pool = _pool(tmp_path)
    first, second, third = (Tenant(name, name) for name in ("a", "b", "c"))
    await _turn(pool, first)
    await _turn(pool, second)
    await _turn(pool, first, SESSION)  # the same conversation: now the more recently used
    await _turn(pool, third)
    live = {c.tenant.name for c in pool._conversations if c.engine is not None}
    assert live == {"a", "c"} and pool.live == 2
    assert pool.metrics.evictions.labels("room")._value.get() == 1
    await pool.close()
    assert pool.live == 0


async def test_busy_processes_make_a_turn_wait_then_503_and_a_tenant_limit_429(
    tmp_path: Path,
) -> None:
    pool = _pool(tmp_path, max_processes=1)
    limited = Tenant("a", "a", max_concurrent=1)
    held = await pool.acquire(limited, TurnRequest(None, Credentials()))
    with pytest.raises(ApiError) as over_limit:
        await pool.acquire(limited, TurnRequest(None, Credentials()))
    assert over_limit.value.status == 429 and over_limit.value.headers()["Retry-After"]
    with pytest.raises(ApiError) as full:
        await pool.acquire(Tenant("b", "b"), TurnRequest(None, Credentials()))
    assert full.value.status == 503 and full.value.retry_after is not None
    # A turn waiting for a process gets the one released meanwhile.
    waiting = asyncio.create_task(pool.acquire(Tenant("c", "c"), TurnRequest(None, Credentials())))
    await asyncio.sleep(0)
    pool.release(held)
    got = await asyncio.wait_for(waiting, 30)
    assert got.tenant.name == "c" and pool.live == 1
    pool.release(got)
    await pool.close()


async def _events(delay: float, count: int) -> AsyncIterator[dict[str, Any]]:
    await asyncio.sleep(delay)
    for index in range(count):
        yield {"type": "content_block_delta", "index": index}


async def test_an_idle_event_stream_sends_comment_lines(tmp_path: Path) -> None:
    sent: list[dict[str, Any]] = []
    closed = asyncio.Event()

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    async def receive() -> dict[str, Any]:
        await asyncio.Event().wait()  # the client stays
        raise AssertionError

    stream = EventStream(_events(0.3, 2), closed.set, ping_interval_s=0.05, send_timeout_s=5)
    await stream({"type": "http"}, receive, send)  # type: ignore[arg-type]
    bodies = [m.get("body", b"") for m in sent]
    assert SSE_PING in bodies
    assert bodies[-2] == b"data: [DONE]\n\n" and closed.is_set()


async def test_a_client_that_does_not_read_ends_its_stream() -> None:
    closed = asyncio.Event()
    ended = asyncio.Event()

    async def events() -> AsyncIterator[dict[str, Any]]:
        try:
            while True:
                yield {"type": "content_block_delta"}
        finally:
            ended.set()

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.body":
            await asyncio.Event().wait()  # never takes it

    async def receive() -> dict[str, Any]:
        await asyncio.Event().wait()
        raise AssertionError

    stream = EventStream(events(), closed.set, ping_interval_s=10, send_timeout_s=0.05)
    await asyncio.wait_for(stream({"type": "http"}, receive, send), 30)  # type: ignore[arg-type]
    assert ended.is_set() and closed.is_set()
