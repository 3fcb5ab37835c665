"""The engine as a library: events with to_dict, callbacks, sync and async, many at once."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from claude_chat import AsyncChatClient, ChatClient
from claude_chat.engine.events import (
    Event,
    TextDelta,
    ThinkingDelta,
    ToolCall,
    ToolResult,
    TurnError,
    TurnResult,
    Usage,
)
from tests.fake_api import FakeAnthropicAPI
from tests.terminal import processes_with_env


def test_every_event_has_a_dict_and_deltas_have_the_api_shape() -> None:
    assert TextDelta("Hi").to_dict() == {
        "type": "content_block_delta",
        "delta": {"type": "text_delta", "text": "Hi"},
        "parent_tool_use_id": None,
    }
    assert ThinkingDelta("Hm").to_dict()["delta"] == {"type": "thinking_delta", "thinking": "Hm"}
    assert ToolCall("t", "Bash", {"command": "ls"}).to_dict()["type"] == "tool_use"
    assert ToolResult("t", "out", False).to_dict()["type"] == "tool_result"
    assert TurnError("api", "boom", 500).to_dict() == {
        "type": "turn_error",
        "kind": "api",
        "message": "boom",
        "status": 500,
    }
    result = TurnResult("s", "m", False, False, Usage(1, 2), prompt="p", ended_at=1.0).to_dict()
    assert result["type"] == "turn_result" and result["usage"]["output_tokens"] == 2


@pytest.mark.integration
def test_sync_client_streams_follows_up_and_calls_back(
    api: FakeAnthropicAPI, project: Path
) -> None:
    chunks: list[Event] = []
    done = threading.Event()
    with ChatClient(cwd=project, on_chunk=chunks.append, on_complete=lambda r: done.set()) as chat:
        events = list(chat.send("hello"))
        assert "".join(e.text for e in events if isinstance(e, TextDelta)).startswith("Echo: hello")
        assert isinstance(events[-1], TurnResult) and chat.session_id
        first_pid = chat._client.engine.cli_pid
        # Callbacks fire whether or not the events are read.
        done.clear()
        chat.send("RECALL")
        assert done.wait(30)
        assert chat._client.engine.cli_pid == first_pid
        assert "You said before: [hello] (end)" in "".join(
            e.text for e in chunks if isinstance(e, TextDelta)
        )
        assert chat.ask("again").answer.startswith("Echo: again")


@pytest.mark.integration
async def test_two_clients_use_their_own_credentials(api: FakeAnthropicAPI, project: Path) -> None:
    async with (
        AsyncChatClient(cwd=project, api_key="sk-client-one") as one,
        AsyncChatClient(cwd=project, api_key="sk-client-two") as two,
    ):
        await asyncio.gather(one.ask("from one"), two.ask("from two"))
    keys = {r.last_user_text: r.headers.get("x-api-key") for r in api.message_requests()}
    assert keys["from one"] == "sk-client-one" and keys["from two"] == "sk-client-two"


@pytest.mark.integration
async def test_a_clients_credential_replaces_every_ambient_one(
    api: FakeAnthropicAPI, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Claude Code prefers an API key to an OAuth token: an ambient one of either kind must not
    # win over, or be sent beside, the client's own.
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ambient-key")
    monkeypatch.setenv("ANTHROPIC_AUTH_TOKEN", "ambient-auth-token")
    monkeypatch.setenv("CLAUDE_CODE_OAUTH_TOKEN", "ambient-oauth-token")
    async with (
        AsyncChatClient(cwd=project, api_key="sk-client-key") as keyed,
        AsyncChatClient(cwd=project, oauth_token="client-oauth-token") as tokened,
    ):
        await asyncio.gather(keyed.ask("with a key"), tokened.ask("with a token"))
    sent = {
        r.last_user_text: (r.headers.get("x-api-key"), r.headers.get("authorization"))
        for r in api.message_requests()
    }
    assert sent["with a key"] == ("sk-client-key", None)
    assert sent["with a token"] == (None, "Bearer client-oauth-token")


@pytest.mark.integration
async def test_twenty_conversations_at_once_each_get_their_own_answer(
    api: FakeAnthropicAPI, project: Path, isolated: Path
) -> None:
    clients = [AsyncChatClient(cwd=project) for _ in range(20)]

    async def converse(index: int, client: AsyncChatClient) -> list[str]:
        answers = []
        for turn in range(2):
            text = ""
            async for event in await client.send(f"client {index} turn {turn}"):
                if isinstance(event, TextDelta):
                    text += event.text
            answers.append(text)
        return answers

    try:
        results = await asyncio.gather(*(converse(i, c) for i, c in enumerate(clients)))
    finally:
        await asyncio.gather(*(c.close() for c in clients))
    for index, answers in enumerate(results):
        assert answers[0].startswith(f"Echo: client {index} turn 0 | turn 1")
        assert answers[1].startswith(f"Echo: client {index} turn 1 | turn 2")
    assert processes_with_env(str(isolated)) == []


@pytest.mark.integration
def test_no_claude_code_process_outlives_a_program_that_forgot_to_close(
    api: FakeAnthropicAPI, project: Path, isolated: Path
) -> None:
    program = (
        "from claude_chat import ChatClient\nchat = ChatClient()\nprint(chat.ask('hi').answer)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", program], cwd=project, capture_output=True, text=True, timeout=120
    )
    assert done.stdout.startswith("Echo: hi"), done.stderr
    deadline = time.monotonic() + 10
    while processes_with_env(str(isolated)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert processes_with_env(str(isolated)) == []
    assert "sk-test-fake" not in done.stderr and os.environ["ANTHROPIC_API_KEY"] == "sk-test-fake"


@pytest.mark.integration
def test_calling_the_sync_client_from_its_callback_is_an_error_not_a_hang(
    api: FakeAnthropicAPI, project: Path
) -> None:
    errors: list[Exception] = []

    def on_complete(result: TurnResult) -> None:
        try:
            chat.interrupt()
        except Exception as exc:
            errors.append(exc)

    with ChatClient(cwd=project, on_complete=on_complete) as chat:
        assert chat.ask("hi").answer.startswith("Echo: hi")
    assert errors and "cannot be called from its callbacks" in str(errors[0])
