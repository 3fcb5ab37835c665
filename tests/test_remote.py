"""``RemoteChatClient`` / ``AsyncRemoteChatClient`` against a real ``claude-chat serve``
(uvicorn on 127.0.0.1, the real CLI against the stand-in API)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any, get_args

import httpx
import pytest
from websockets.asyncio.server import ServerConnection, serve

from claude_chat import (
    AsyncRemoteChatClient,
    PermissionDecision,
    PermissionRequest,
    RemoteChatClient,
)
from claude_chat.engine.errors import ChatError
from claude_chat.engine.events import (
    Compacted,
    Compacting,
    Event,
    PermissionDenied,
    Retrying,
    SessionStarted,
    TextDelta,
    ThinkingDelta,
    ToolCall,
    ToolResult,
    TurnError,
    TurnResult,
    Usage,
    event_from_dict,
)
from claude_chat.remote import (
    RemoteAuthError,
    RemoteConflictError,
    RemoteConnectionError,
    RemoteError,
    RemoteNotFoundError,
    RemoteOverloadedError,
    RemoteRateLimitError,
    socket_url,
)
from tests.fake_api import FakeAnthropicAPI
from tests.serving import ALICE, CAROL, Served, serve_for_module, server_env, sse_events
from tests.terminal import processes_with_env

ALICE_KEY = "alice-server-key"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def shared_api() -> Iterator[FakeAnthropicAPI]:
    with FakeAnthropicAPI() as api:
        yield api


@pytest.fixture(scope="module")
def served(
    tmp_path_factory: pytest.TempPathFactory, shared_api: FakeAnthropicAPI
) -> Iterator[Served]:
    yield from serve_for_module(tmp_path_factory, shared_api, "--max-processes", "4")


def text_of(events: list[Event]) -> str:
    return "".join(e.text for e in events if isinstance(e, TextDelta))


def test_every_event_comes_back_from_its_dict() -> None:
    events = [
        SessionStarted("s", "m", "/p", "default"),
        TextDelta("hi", "t0"),
        ThinkingDelta("hm"),
        ToolCall("t1", "Bash", {"command": "ls"}),
        ToolResult("t1", "out", False, "t0"),
        PermissionDenied("t2", "Bash", {"command": "rm"}, "no"),
        TurnError("api", "boom", 500),
        Retrying("again"),
        Compacting(),
        Compacted("auto", 1000, 200, 1.5),
        TurnResult("s", "m", True, False, Usage(1, 2, 3, 4), 0.5, 2.0, 0.3, TurnError("api", "x")),
    ]
    # One of each kind of event: a new kind must come back too, not be dropped by clients.
    assert {type(e) for e in events} == set(get_args(Event))
    for event in events:
        assert event_from_dict(event.to_dict()) == event
    assert event_from_dict({"type": "a_newer_event"}) is None
    assert event_from_dict({**TextDelta("x").to_dict(), "extra": 1}) == TextDelta("x")


def test_a_server_url_becomes_its_socket_url() -> None:
    assert socket_url("http://127.0.0.1:8765") == "ws://127.0.0.1:8765/v1/chat/ws"
    assert socket_url("https://chat.example/base/") == "wss://chat.example/base/v1/chat/ws"
    assert socket_url("ws://h:1/v1/chat/ws") == "ws://h:1/v1/chat/ws"
    with pytest.raises(ValueError, match="not a server URL"):
        socket_url("127.0.0.1:8765")


@pytest.mark.integration
def test_sync_client_streams_calls_back_and_follows_up_with_context(served: Served) -> None:
    chunks: list[Event] = []
    completed: list[TurnResult] = []
    done = threading.Event()

    def on_complete(result: TurnResult) -> None:
        completed.append(result)
        done.set()

    with RemoteChatClient(
        served.url, ALICE_KEY, on_chunk=chunks.append, on_complete=on_complete
    ) as chat:
        events = list(chat.send("SLOW 3"))
        assert isinstance(events[0], SessionStarted) and events[0].session_id == chat.session_id
        assert text_of(events) == "slow0 slow1 slow2 "
        result = events[-1]
        assert isinstance(result, TurnResult) and not result.is_error
        assert result.answer == "slow0 slow1 slow2 " and result.prompt == "SLOW 3"
        assert result.session_id == chat.session_id and result.model == chat.model
        assert result.usage.output_tokens > 0 and result.time_to_first_token_s is not None
        assert completed == [result] and text_of(chunks) == result.answer

        # Callbacks fire whether or not the events are read.
        done.clear()
        chat.send("RECALL")
        assert done.wait(60)
        assert "You said before: [SLOW 3] (end)" in completed[-1].answer

        assert chat.set_model("sonnet") == "sonnet"
        answer = chat.ask("which model").answer
        assert "| model claude-sonnet" in answer, answer
        assert "sonnet" in (chat.model or "")


@pytest.mark.integration
async def test_interrupt_then_the_next_turn_goes_on_in_the_same_session(served: Served) -> None:
    async with AsyncRemoteChatClient(served.url, ALICE_KEY) as chat:
        events: list[Event] = []
        async for event in await chat.send("SLOW 40"):
            events.append(event)
            if isinstance(event, TextDelta) and len(events) == 2:
                await chat.interrupt()
        result = events[-1]
        assert isinstance(result, TurnResult) and result.interrupted and not result.is_error
        assert len([e for e in events if isinstance(e, TextDelta)]) < 39
        session_id = chat.session_id
        again = await chat.ask("RECALL")
        assert again.session_id == session_id
        assert "You said before: [SLOW 40] (end)" in again.answer

    # A new client given the session id goes on with it too.
    async with AsyncRemoteChatClient(served.url, ALICE_KEY, session_id=session_id) as resumed:
        assert "[SLOW 40 | RECALL]" in (await resumed.ask("RECALL")).answer


@pytest.mark.integration
async def test_permission_requests_reach_the_callback_and_are_denied_without_one(
    served: Served, tmp_path: Path
) -> None:
    allowed, refused, unasked = tmp_path / "allowed", tmp_path / "refused", tmp_path / "unasked"
    allowed_plainly = tmp_path / "allowed-plainly"
    asked: list[PermissionRequest] = []

    async def on_permission(request: PermissionRequest) -> PermissionDecision:
        asked.append(request)
        if str(allowed) in request.input.get("command", ""):
            return PermissionDecision("once")
        return PermissionDecision("deny", "not that one")

    async with AsyncRemoteChatClient(
        served.url, "bob-server-key", on_permission=on_permission
    ) as chat:
        events = [e async for e in await chat.send(f"TOOL touch {allowed}")]
        assert allowed.exists() and not events[-1].is_error  # type: ignore[union-attr]
        assert any(isinstance(e, ToolCall) and e.name == "Bash" for e in events)
        assert asked[0].name == "Bash" and asked[0].input["command"] == f"touch {allowed}"

        events = [e async for e in await chat.send(f"TOOL touch {refused}")]
        assert not refused.exists()
        assert [e.reason for e in events if isinstance(e, PermissionDenied)] == ["not that one"]

    # A plain function works as well; and without any callback the tool is denied.
    def yes(request: PermissionRequest) -> PermissionDecision:
        return PermissionDecision("once")

    with RemoteChatClient(served.url, "bob-server-key", on_permission=yes) as plain:
        plain.ask(f"TOOL touch {allowed_plainly}")
    assert allowed_plainly.exists()
    async with AsyncRemoteChatClient(served.url, "bob-server-key") as chat:
        events = [e async for e in await chat.send(f"TOOL touch {unasked}")]
    assert not unasked.exists()
    assert any(isinstance(e, PermissionDenied) for e in events)


@pytest.mark.integration
async def test_what_the_server_refuses_is_a_remote_error_with_its_status(served: Served) -> None:
    errors: list[object] = []
    async with AsyncRemoteChatClient(served.url, "wrong-key", on_error=errors.append) as chat:
        with pytest.raises(RemoteAuthError) as refused:
            await chat.ask("hi")
    assert refused.value.status == 401 and "wrong server key" in str(refused.value)
    assert isinstance(refused.value, RemoteError) and isinstance(refused.value, ChatError)
    assert errors == [refused.value]

    unknown = "00000000-0000-4000-8000-000000000000"
    async with AsyncRemoteChatClient(served.url, ALICE_KEY, session_id=unknown) as chat:
        with pytest.raises(RemoteNotFoundError) as missing:
            await chat.ask("hi")
    assert missing.value.status == 404

    closed = f"http://127.0.0.1:{free_port()}"
    with (
        pytest.raises(RemoteConnectionError) as unreachable,
        RemoteChatClient(closed, "k") as plain,
    ):
        plain.ask("hi")
    assert unreachable.value.status is None and "cannot reach" in str(unreachable.value)
    assert "Traceback" not in str(unreachable.value)

    # carol may run one turn at a time: 429, waited for once, then raised.
    async with busy_turn(served, CAROL):
        async with AsyncRemoteChatClient(served.url, "carol-server-key") as chat:
            with pytest.raises(RemoteRateLimitError) as limited:
                await chat.ask("hi")
        assert limited.value.status == 429 and "at most 1 turns" in str(limited.value)

    # A session whose turn is still running (over SSE, here): 409.
    async with AsyncRemoteChatClient(served.url, ALICE_KEY) as chat:
        session_id = (await chat.ask("hello")).session_id
        async with busy_turn(served, ALICE, session_id):
            with pytest.raises(RemoteConflictError) as conflict:
                await chat.ask("hi")
        assert conflict.value.status == 409


@pytest.mark.integration
async def test_a_full_pool_is_remote_overloaded_with_503(
    tmp_path: Path, api: FakeAnthropicAPI
) -> None:
    server = Served(
        tmp_path, server_env(tmp_path, api), "--max-processes", "1", "--queue-timeout", "1"
    )
    try:
        async with (
            busy_turn(server, ALICE),
            AsyncRemoteChatClient(server.url, "bob-server-key") as chat,
        ):
            with pytest.raises(RemoteOverloadedError) as full:
                await chat.ask("hi")
        assert full.value.status == 503 and "busy" in str(full.value)
    finally:
        assert server.stop() == 0, server.stderr()


@contextlib.asynccontextmanager
async def busy_turn(
    served: Served, headers: dict[str, str], session_id: str | None = None
) -> AsyncIterator[None]:
    """A long turn over SSE, read as it streams, running until the block ends."""
    started = asyncio.Event()

    async def stream() -> None:
        async with httpx.AsyncClient(base_url=served.url, timeout=120) as http:
            body = {"message": "SLOW 60", "session_id": session_id}
            async with http.stream("POST", "/v1/chat/stream", json=body, headers=headers) as sse:
                assert sse.status_code == 200, await sse.aread()
                async for _ in sse_events(sse):
                    started.set()

    reader = asyncio.get_running_loop().create_task(stream())
    try:
        await asyncio.wait(
            [reader, asyncio.ensure_future(started.wait())], return_when="FIRST_COMPLETED"
        )
        assert started.is_set(), reader.result()
        yield
    finally:
        reader.cancel()  # the client gone: the server interrupts the turn
        await asyncio.gather(reader, return_exceptions=True)


@pytest.mark.integration
async def test_a_server_killed_mid_turn_is_one_turn_error_and_the_restarted_one_goes_on(
    tmp_path: Path, api: FakeAnthropicAPI
) -> None:
    port = str(free_port())
    env = server_env(tmp_path, api)
    server = Served(tmp_path, env, "--port", port)
    errors: list[object] = []
    try:
        async with AsyncRemoteChatClient(server.url, ALICE_KEY, on_error=errors.append) as chat:
            first = await chat.ask("hello")
            events: list[Event] = []
            async for event in await chat.send("SLOW 40"):
                events.append(event)
                if isinstance(event, TextDelta) and len(events) == 2:
                    clis = processes_with_env(server.cli_marker())
                    server.process.kill()
            lost = [e for e in events if isinstance(e, TurnError)]
            assert len(lost) == 1 and lost[0].kind == "other" and "lost" in lost[0].message
            result = events[-1]
            assert isinstance(result, TurnResult) and result.is_error and result.error == lost[0]
            assert errors == lost
            server.process.wait(30)
            await asyncio.to_thread(_wait_gone, clis)

            server = Served(tmp_path, env, "--port", port)
            again = await chat.ask("RECALL")
            assert again.session_id == first.session_id and not again.is_error
            assert "You said before: [hello | SLOW 40] (end)" in again.answer, again.answer
    finally:
        assert server.stop() == 0, server.stderr()


def _wait_gone(pids: list[int]) -> None:
    """The killed server's Claude Code processes end with their stdin; if not, they are ours."""
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        alive = [pid for pid in pids if Path(f"/proc/{pid}").exists() and _alive(pid)]
        if not alive:
            return
        time.sleep(0.1)
    for pid in alive:
        os.kill(pid, signal.SIGKILL)


def _alive(pid: int) -> bool:
    try:
        return ") Z " not in Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False


# -- against a scripted WebSocket server: what the real one rarely does on cue -------------


CLOSE = "(close the connection)"


@contextlib.asynccontextmanager
async def scripted(
    replies: list[list[dict[str, Any] | str]], process_request: Any = None
) -> AsyncIterator[tuple[str, list[dict[str, Any]], list[str]]]:
    """A server answering the n-th message with ``replies[n]``; yields its URL, the messages
    it got and the Authorization headers it saw."""
    received: list[dict[str, Any]] = []
    authorizations: list[str] = []

    async def handler(connection: ServerConnection) -> None:
        authorizations.append(connection.request.headers.get("Authorization", ""))  # type: ignore[union-attr]
        async for raw in connection:
            received.append(json.loads(raw))
            for reply in replies[len(received) - 1]:
                if reply == CLOSE:
                    await connection.close()
                    return
                await connection.send(reply if isinstance(reply, str) else json.dumps(reply))

    async with serve(handler, "127.0.0.1", 0, process_request=process_request) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        yield f"http://127.0.0.1:{port}", received, authorizations


async def ask_once(chat: AsyncRemoteChatClient, text: str) -> TurnResult:
    async with chat:
        result = await chat.ask(text)
        assert chat.session_id == result.session_id
        return result


RESULT = {
    "type": "result",
    "session_id": "s-1",
    "model": "m-1",
    "usage": {"input_tokens": 3, "output_tokens": 2},
    "cost_usd": 0.5,
    "time_to_first_token_s": 0.1,
    "duration_s": 0.2,
    "is_error": False,
    "interrupted": False,
}


async def test_429_is_waited_for_once_and_what_this_client_cannot_read_is_skipped() -> None:
    limited = {"type": "error", "kind": "rate_limit_error", "status": 429, "message": "busy"}
    turn: list[dict[str, Any] | str] = [
        {"type": "session", "session_id": "s-1", "model": "m-1"},
        {"type": "a_newer_event", "x": 1},
        "not json",
        {"type": "tool_use"},  # fields missing
        {"type": "content_block_delta", "delta": {"type": "text_delta", "text": "hi"}},
        RESULT,
    ]
    async with scripted([[{**limited, "retry_after": 0.01}], turn]) as (url, received, auth):
        result = await ask_once(AsyncRemoteChatClient(url, "k-secret", model="opus"), "hello")
    assert [m["text"] for m in received] == ["hello", "hello"]
    assert received[0]["model"] == "opus" and "key" not in received[0]
    assert auth == ["Bearer k-secret"]
    assert result.answer == "hi" and result.cost_usd == 0.5 and result.usage.output_tokens == 2
    assert result.session_id == "s-1" and result.prompt == "hello"

    async with scripted([[limited], [limited]]) as (url, received, _):
        with pytest.raises(RemoteRateLimitError):
            await ask_once(AsyncRemoteChatClient(url, "k"), "hello")
    assert len(received) == 2


async def test_after_a_lost_connection_a_409_is_waited_out_while_the_server_ends_that_turn() -> (
    None
):
    session = {"type": "session", "session_id": "s-1", "model": "m-1"}
    busy = {"type": "error", "kind": "conflict_error", "status": 409, "message": "still running"}
    delta = {"type": "content_block_delta", "delta": {"type": "text_delta", "text": "on"}}
    replies: list[list[dict[str, Any] | str]] = [[session, CLOSE], [busy], [session, delta, RESULT]]
    async with scripted(replies) as (url, received, auth), AsyncRemoteChatClient(url, "k") as chat:
        lost = await chat.ask("first")
        assert lost.is_error and lost.error is not None and "lost" in lost.error.message
        assert (await chat.ask("again")).answer == "on"
    assert [m["text"] for m in received] == ["first", "again", "again"]
    assert [m.get("session_id") for m in received] == [None, "s-1", "s-1"]
    assert len(auth) == 2  # connected again after the loss

    # Without a lost turn before it, a 409 is the caller's to handle.
    async with scripted([[busy]]) as (url, _, _), AsyncRemoteChatClient(url, "k") as chat:
        with pytest.raises(RemoteConflictError):
            await chat.ask("hello")


async def test_503_over_the_socket_or_at_the_handshake_is_remote_overloaded(
    caplog: pytest.LogCaptureFixture,
) -> None:
    full = {"type": "error", "kind": "overloaded_error", "status": 503, "message": "all busy"}
    async with scripted([[full]]) as (url, _, _), AsyncRemoteChatClient(url, "k") as chat:
        with pytest.raises(RemoteOverloadedError, match="all busy"):
            await chat.ask("hello")

    def draining(connection: ServerConnection, request: Any) -> Any:
        body = json.dumps({"error": {"type": "overloaded_error", "message": "draining"}})
        response = connection.respond(503, body)
        response.headers["Retry-After"] = "7"
        return response

    caplog.set_level(logging.DEBUG)
    async with scripted([], process_request=draining) as (url, _, _):
        with pytest.raises(RemoteOverloadedError) as refused:
            await ask_once(AsyncRemoteChatClient(url, "k-secret", api_key="sk-also-secret"), "hi")
    assert refused.value.status == 503 and refused.value.retry_after == 7
    assert "draining" in str(refused.value)
    # The WebSocket library logs the handshake's headers at debug level: not the credentials.
    logged = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("claude_chat"))
    assert "> Authorization: <redacted>" in logged
    assert "k-secret" not in logged and "sk-also-secret" not in logged
