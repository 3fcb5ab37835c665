"""The OpenAI and Anthropic endpoints of ``claude-chat serve``, driven by the official ``openai``
and ``anthropic`` clients over real HTTP: one real server for the module (uvicorn on
127.0.0.1, the real CLI against the stand-in API)."""

from __future__ import annotations

import asyncio
import base64
import json
import uuid
from collections.abc import Iterator
from typing import Any

import anthropic
import httpx
import openai
import pytest

from tests.fake_api import FakeAnthropicAPI, RecordedRequest, Reply, Text, ToolUse
from tests.serving import Served, serve_for_module, server_env

pytestmark = pytest.mark.integration

ALICE_KEY = "alice-server-key"
# A 1x1 PNG.
PIXEL = base64.b64encode(
    bytes.fromhex(
        "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
        "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
    )
).decode()


@pytest.fixture(scope="module")
def shared_api() -> Iterator[FakeAnthropicAPI]:
    with FakeAnthropicAPI() as api:
        yield api


@pytest.fixture(scope="module")
def served(
    tmp_path_factory: pytest.TempPathFactory, shared_api: FakeAnthropicAPI
) -> Iterator[Served]:
    yield from serve_for_module(tmp_path_factory, shared_api, "--max-processes", "4")


@pytest.fixture
def gpt(served: Served) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{served.url}/v1", api_key=ALICE_KEY, max_retries=0)


@pytest.fixture
def claude(served: Served) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=served.url, api_key=ALICE_KEY, max_retries=0)


def tag() -> str:
    """A word no other test sends, to find this test's requests at the shared stand-in API."""
    return uuid.uuid4().hex[:8]


def request_for(api: FakeAnthropicAPI, text: str) -> RecordedRequest:
    return [r for r in api.message_requests() if r.last_user_text == text][-1]


def turns_of(request: RecordedRequest) -> list[tuple[str, str]]:
    """The conversation as the stand-in API received it: (role, text) per message."""
    turns = []
    for message in request.messages:
        if message.get("role") not in ("user", "assistant"):
            continue
        content = message["content"]
        blocks = [{"type": "text", "text": content}] if isinstance(content, str) else content
        text = " ".join(
            b["text"]
            for b in blocks
            if b.get("type") == "text" and not b["text"].lstrip().startswith("<system-reminder>")
        )
        turns.append((message["role"], text.strip()))
    return turns


def process_starts(served: Served) -> float:
    text = httpx.get(f"{served.url}/metrics").text
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("claude_chat_process_starts_total{")
    )


def session_count(served: Served) -> int:
    answer = httpx.get(
        f"{served.url}/v1/sessions", headers={"Authorization": f"Bearer {ALICE_KEY}"}
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    return len(body["sessions"] if isinstance(body, dict) else body)


def test_openai_three_turns_resent_whole_go_on_in_one_process_and_one_session(
    served: Served, shared_api: FakeAnthropicAPI, gpt: openai.OpenAI
) -> None:
    word = tag()
    history: list[Any] = []
    sessions = set()
    starts = []
    listed = session_count(served)
    for n in (1, 2, 3):
        history.append({"role": "user", "content": f"question {n} {word}"})
        raw = gpt.chat.completions.with_raw_response.create(model="opus", messages=history)
        completion = raw.parse()
        sessions.add(raw.headers["x-claude-chat-session-id"])
        starts.append(process_starts(served))
        answer = completion.choices[0].message.content
        assert answer == f"Echo: question {n} {word} | turn {n} | model claude-opus-5-5"
        assert completion.choices[0].finish_reason == "stop"
        assert completion.model == "claude-opus-5-5"
        assert completion.usage is not None and completion.usage.completion_tokens > 0
        assert completion.usage.prompt_tokens_details is not None
        history.append({"role": "assistant", "content": answer})
    assert len(sessions) == 1 and session_count(served) == listed + 1
    assert starts[0] == starts[1] == starts[2]  # turns 2 and 3 started no process
    third = request_for(shared_api, f"question 3 {word}")
    assert turns_of(third) == [
        ("user", f"question 1 {word}"),
        ("assistant", history[1]["content"]),
        ("user", f"question 2 {word}"),
        ("assistant", history[3]["content"]),
        ("user", f"question 3 {word}"),
    ]


def test_openai_streams_role_then_content_then_finish_and_usage(gpt: openai.OpenAI) -> None:
    word = tag()
    stream = gpt.chat.completions.create(
        model="opus",
        messages=[{"role": "user", "content": f"stream {word}"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    assert chunks[0].choices[0].delta.role == "assistant"
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == f"Echo: stream {word} | turn 1 | model claude-opus-5-5"
    assert len([c for c in chunks if c.choices and c.choices[0].delta.content]) > 1
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"
    assert chunks[-1].choices == [] and chunks[-1].usage is not None
    assert chunks[-1].usage.completion_tokens > 0
    assert {c.id for c in chunks} == {chunks[0].id}


def test_anthropic_streams_its_events_and_goes_on_in_the_session(
    served: Served, shared_api: FakeAnthropicAPI, claude: anthropic.Anthropic
) -> None:
    word = tag()
    history: list[Any] = [{"role": "user", "content": f"hello {word}"}]
    with claude.messages.stream(model="opus", max_tokens=1000, messages=history) as stream:
        session_id = stream.response.headers["x-claude-chat-session-id"]
        events = [event.type for event in stream]
        first = stream.get_final_message()
    assert events[0] == "message_start" and events[-1] == "message_stop"
    assert {"content_block_start", "content_block_stop", "message_delta"} <= set(events)
    assert first.content[0].type == "text"
    assert first.content[0].text == f"Echo: hello {word} | turn 1 | model claude-opus-5-5"
    assert first.stop_reason == "end_turn" and first.usage.output_tokens > 0
    starts = process_starts(served)
    history += [
        {"role": "assistant", "content": [{"type": "text", "text": first.content[0].text}]},
        {"role": "user", "content": f"again {word}"},
    ]
    raw = claude.messages.with_raw_response.create(model="opus", max_tokens=1000, messages=history)
    assert raw.headers["x-claude-chat-session-id"] == session_id
    second = raw.parse()
    assert second.type == "message" and second.role == "assistant"
    assert second.content[0].text == f"Echo: again {word} | turn 2 | model claude-opus-5-5"
    assert process_starts(served) == starts


def test_anthropic_thinking_comes_as_thinking_blocks_and_resent_goes_on(
    served: Served, claude: anthropic.Anthropic
) -> None:
    history: list[Any] = [{"role": "user", "content": "THINK"}]
    with claude.messages.stream(model="opus", max_tokens=1000, messages=history) as stream:
        starts = [e.content_block.type for e in stream if e.type == "content_block_start"]
        thought = stream.get_final_message()
    assert starts == ["thinking", "text"]
    assert [b.type for b in thought.content] == ["thinking", "text"]
    assert thought.content[0].thinking == "Let me think about this."  # type: ignore[union-attr]
    before = process_starts(served)
    history += [
        {"role": "assistant", "content": [b.model_dump() for b in thought.content]},
        {"role": "user", "content": f"after thinking {tag()}"},
    ]
    again = claude.messages.create(model="opus", max_tokens=1000, messages=history)
    assert " | turn 2 | " in again.content[0].text  # type: ignore[union-attr]
    assert process_starts(served) == before


def test_an_unseen_history_is_seeded_as_a_session_claude_code_resumes(
    served: Served, shared_api: FakeAnthropicAPI, claude: anthropic.Anthropic
) -> None:
    word = tag()
    before = session_count(served)
    history = [
        {"role": "user", "content": f"my name is {word}"},
        {"role": "assistant", "content": "Nice to meet you."},
        {"role": "user", "content": "what is the capital of France?"},
        {"role": "assistant", "content": "Paris."},
        {"role": "user", "content": "RECALL"},
    ]
    answer = claude.messages.create(model="opus", max_tokens=100, messages=history)
    said = answer.content[0].text  # type: ignore[union-attr]
    assert said == f"You said before: [my name is {word} | what is the capital of France?] (end)"
    request = [r for r in shared_api.message_requests() if f"my name is {word}" in r.user_texts]
    assert turns_of(request[-1]) == [
        ("user", f"my name is {word}"),
        ("assistant", "Nice to meet you."),
        ("user", "what is the capital of France?"),
        ("assistant", "Paris."),
        ("user", "RECALL"),
    ]
    assert session_count(served) == before + 1


def test_an_edited_history_forks_and_the_original_goes_on(
    served: Served, shared_api: FakeAnthropicAPI, gpt: openai.OpenAI
) -> None:
    word = tag()
    one = [{"role": "user", "content": f"start {word}"}]
    first = gpt.chat.completions.with_raw_response.create(model="opus", messages=one)
    reply = first.parse().choices[0].message.content
    original = first.headers["x-claude-chat-session-id"]
    # The user edits the answer they got, then goes on: a new session from there.
    edited = [*one, {"role": "assistant", "content": "an edited answer"}]
    fork = gpt.chat.completions.with_raw_response.create(
        model="opus", messages=[*edited, {"role": "user", "content": f"next {word}"}]
    )
    assert fork.headers["x-claude-chat-session-id"] != original
    assert turns_of(request_for(shared_api, f"next {word}"))[1] == ("assistant", "an edited answer")
    # The unedited history still goes on in its own session.
    kept = gpt.chat.completions.with_raw_response.create(
        model="opus",
        messages=[
            *one,
            {"role": "assistant", "content": reply},
            {"role": "user", "content": "more"},
        ],
    )
    assert kept.headers["x-claude-chat-session-id"] == original


def test_a_shortened_history_forks_with_claude_codes_own_record_of_the_turns_kept(
    shared_api: FakeAnthropicAPI, gpt: openai.OpenAI
) -> None:
    word = tag()
    history: list[Any] = [{"role": "user", "content": f"TOOL echo forked-{word}"}]
    first = gpt.chat.completions.with_raw_response.create(model="opus", messages=history)
    original = first.headers["x-claude-chat-session-id"]
    history.append({"role": "assistant", "content": first.parse().choices[0].message.content})
    second = [*history, {"role": "user", "content": f"second {word}"}]
    gpt.chat.completions.create(model="opus", messages=second)
    # The client regenerates from the first answer: a fork of the session after turn 1.
    other = [*history, {"role": "user", "content": f"other {word}"}]
    fork = gpt.chat.completions.with_raw_response.create(model="opus", messages=other)
    assert fork.headers["x-claude-chat-session-id"] != original
    request = request_for(shared_api, f"other {word}")
    assert f"second {word}" not in request.user_texts
    # The tool call the client never saw is still in the conversation Claude Code continues.
    tool_uses = [
        block
        for message in request.messages
        if message["role"] == "assistant" and isinstance(message["content"], list)
        for block in message["content"]
        if block.get("type") == "tool_use"
    ]
    assert [t["input"]["command"] for t in tool_uses] == [f"echo forked-{word}"]


def test_text_after_a_tool_call_is_a_new_paragraph_and_resent_goes_on(
    served: Served, shared_api: FakeAnthropicAPI, gpt: openai.OpenAI
) -> None:
    word = tag()
    shared_api.enqueue(
        Reply([Text("Let me look."), ToolUse("Bash", {"command": "echo hi", "description": "x"})]),
        Text("Done."),
    )
    history: list[Any] = [{"role": "user", "content": f"look around {word}"}]
    stream = gpt.chat.completions.create(model="opus", messages=history, stream=True)
    answer = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
    assert answer == "Let me look.\n\nDone."
    before = process_starts(served)
    history += [{"role": "assistant", "content": answer}, {"role": "user", "content": "next"}]
    again = gpt.chat.completions.create(model="opus", messages=history)
    assert " | turn 2 | " in str(again.choices[0].message.content)
    assert process_starts(served) == before


def test_a_named_conversation_sends_only_the_newest_message(
    served: Served, shared_api: FakeAnthropicAPI, gpt: openai.OpenAI
) -> None:
    word = tag()
    headers = {"X-Claude-Chat-Session": f"chat-{word}"}
    gpt.chat.completions.create(
        model="opus", messages=[{"role": "user", "content": f"one {word}"}], extra_headers=headers
    )
    # A client that keeps only a window of the history: the name still finds the session.
    again = gpt.chat.completions.create(
        model="opus", messages=[{"role": "user", "content": f"two {word}"}], extra_headers=headers
    )
    assert again.choices[0].message.content == f"Echo: two {word} | turn 2 | model claude-opus-5-5"


def test_system_messages_are_appended_to_claude_codes_system_prompt(
    shared_api: FakeAnthropicAPI, gpt: openai.OpenAI
) -> None:
    word = tag()
    history: list[Any] = [
        {"role": "system", "content": f"Always answer as a pirate {word}."},
        {"role": "user", "content": f"ahoy {word}"},
    ]
    first = gpt.chat.completions.with_raw_response.create(model="opus", messages=history)
    system = str(request_for(shared_api, f"ahoy {word}").body["system"])
    assert f"Always answer as a pirate {word}." in system
    assert "Claude" in system  # Claude Code's own prompt stays
    # The same conversation under another system message is another session.
    history += [
        {"role": "assistant", "content": first.parse().choices[0].message.content},
        {"role": "user", "content": f"and now {word}"},
    ]
    history[0] = {"role": "system", "content": f"Answer as a poet {word}."}
    second = gpt.chat.completions.with_raw_response.create(model="opus", messages=history)
    assert second.headers["x-claude-chat-session-id"] != first.headers["x-claude-chat-session-id"]
    system = str(request_for(shared_api, f"and now {word}").body["system"])
    assert f"Answer as a poet {word}." in system and "pirate" not in system


def test_images_go_to_claude_code_as_image_blocks(
    shared_api: FakeAnthropicAPI, gpt: openai.OpenAI
) -> None:
    word = tag()
    gpt.chat.completions.create(
        model="opus",
        messages=[
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": f"look {word}"},
                    {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PIXEL}"}},
                    {"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}},
                ],
            }
        ],
    )
    request = [r for r in shared_api.message_requests() if f"look {word}" in r.user_texts][-1]
    content = [m for m in request.messages if m["role"] == "user"][-1]["content"]
    images = [b for b in content if b.get("type") == "image"]
    assert [image["source"] for image in images] == [
        {"type": "base64", "media_type": "image/png", "data": PIXEL},
        {"type": "url", "url": "https://example.com/cat.png"},
    ]


def test_a_picture_in_an_unseen_history_is_seeded_and_reaches_the_api(
    shared_api: FakeAnthropicAPI, claude: anthropic.Anthropic
) -> None:
    word = tag()
    picture = {"type": "base64", "media_type": "image/png", "data": PIXEL}
    claude.messages.create(
        model="opus",
        max_tokens=100,
        messages=[
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": f"what is this {word}"},
                    {"type": "image", "source": picture},
                ],
            },
            {"role": "assistant", "content": "A single pixel."},
            {"role": "user", "content": f"and its colour {word}"},
        ],
    )
    request = request_for(shared_api, f"and its colour {word}")
    first = next(m for m in request.messages if m["role"] == "user")["content"]
    assert {"type": "image", "source": picture} in first
    assert turns_of(request)[1:] == [
        ("assistant", "A single pixel."),
        ("user", f"and its colour {word}"),
    ]


def test_a_model_alias_and_the_models_list(
    shared_api: FakeAnthropicAPI, gpt: openai.OpenAI, claude: anthropic.Anthropic
) -> None:
    word = tag()
    completion = gpt.chat.completions.create(
        model="haiku", messages=[{"role": "user", "content": f"small {word}"}]
    )
    assert completion.model == "claude-haiku-5-5"
    assert request_for(shared_api, f"small {word}").model == "claude-haiku-5-5"
    openai_ids = {model.id for model in gpt.models.list()}
    anthropic_ids = {model.id for model in claude.models.list()}
    assert {"sonnet", "opus", "haiku", "claude-sonnet-5-5", "claude-haiku-5-5"} <= openai_ids
    assert openai_ids == anthropic_ids
    assert gpt.models.retrieve("haiku").id == "haiku"
    assert claude.models.retrieve("claude-haiku-5-5").display_name == "Haiku 5.5"
    with pytest.raises(openai.NotFoundError):
        gpt.models.retrieve("gpt-4o")


def test_a_wrong_key_raises_each_clients_authentication_error(served: Served) -> None:
    wrong_gpt = openai.OpenAI(base_url=f"{served.url}/v1", api_key="nope", max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        wrong_gpt.chat.completions.create(model="opus", messages=[{"role": "user", "content": "x"}])
    wrong_claude = anthropic.Anthropic(base_url=served.url, api_key="nope", max_retries=0)
    with pytest.raises(anthropic.AuthenticationError) as refused:
        wrong_claude.messages.create(
            model="opus", max_tokens=10, messages=[{"role": "user", "content": "x"}]
        )
    # The Messages API's own error shape.
    assert refused.value.body == {
        "type": "error",
        "error": {"type": "authentication_error", "message": "wrong server key"},
    }


def test_client_side_tools_are_refused_with_400(
    gpt: openai.OpenAI, claude: anthropic.Anthropic
) -> None:
    tool = {"name": "get_weather", "description": "weather", "parameters": {"type": "object"}}
    with pytest.raises(openai.BadRequestError, match="Claude Code runs its own tools"):
        gpt.chat.completions.create(
            model="opus",
            messages=[{"role": "user", "content": "weather?"}],
            tools=[{"type": "function", "function": tool}],
        )
    with pytest.raises(anthropic.BadRequestError, match="Claude Code runs its own tools"):
        claude.messages.create(
            model="opus",
            max_tokens=10,
            messages=[{"role": "user", "content": "weather?"}],
            tools=[{"name": "get_weather", "input_schema": {"type": "object"}}],
        )


def test_a_failed_turn_is_the_clients_error_and_the_next_goes_on(
    gpt: openai.OpenAI, claude: anthropic.Anthropic
) -> None:
    with pytest.raises(openai.BadRequestError, match="fake 400"):
        gpt.chat.completions.create(
            model="opus", messages=[{"role": "user", "content": "FAIL 400"}]
        )
    with pytest.raises(openai.APIStatusError) as failed:
        gpt.chat.completions.create(
            model="opus", messages=[{"role": "user", "content": "FAIL 401"}]
        )
    assert failed.value.status_code == 502  # the server's credentials, not the client's key
    with pytest.raises(openai.APIError, match="fake 400"):
        list(
            gpt.chat.completions.create(
                model="opus", messages=[{"role": "user", "content": "FAIL 400"}], stream=True
            )
        )
    with (
        pytest.raises(anthropic.APIError, match="fake 400"),
        claude.messages.stream(
            model="opus", max_tokens=10, messages=[{"role": "user", "content": "FAIL 400"}]
        ) as stream,
    ):
        list(stream)
    word = tag()
    fine = gpt.chat.completions.create(
        model="opus", messages=[{"role": "user", "content": f"fine {word}"}]
    )
    assert fine.choices[0].message.content.startswith(f"Echo: fine {word}")  # type: ignore[union-attr]


def test_after_a_restart_a_resent_history_goes_on_in_its_session(
    tmp_path: Any, shared_api: FakeAnthropicAPI
) -> None:
    env = server_env(tmp_path, shared_api)
    word = tag()
    history: list[Any] = [{"role": "user", "content": f"before {word}"}]
    server = Served(tmp_path, env)
    try:
        gpt = openai.OpenAI(base_url=f"{server.url}/v1", api_key=ALICE_KEY, max_retries=0)
        first = gpt.chat.completions.with_raw_response.create(model="opus", messages=history)
        history.append({"role": "assistant", "content": first.parse().choices[0].message.content})
    finally:
        assert server.stop() == 0, server.stderr()
    journal = server.data_dir / "tenants" / "alice" / "continuations.jsonl"
    assert journal.stat().st_mode & 0o777 == 0o600
    assert word not in journal.read_text()  # digests, not the conversation
    server = Served(tmp_path, env)
    try:
        gpt = openai.OpenAI(base_url=f"{server.url}/v1", api_key=ALICE_KEY, max_retries=0)
        # Before any turn: Claude Code is asked for its models in a process of its own.
        assert "sonnet" in {model.id for model in gpt.models.list()}
        history.append({"role": "user", "content": f"after {word}"})
        second = gpt.chat.completions.with_raw_response.create(model="opus", messages=history)
        assert (
            second.headers["x-claude-chat-session-id"] == first.headers["x-claude-chat-session-id"]
        )
        metrics = httpx.get(f"{server.url}/metrics").text
        assert 'claude_chat_process_starts_total{reason="resume"} 1.0' in metrics
    finally:
        assert server.stop() == 0, server.stderr()


async def test_two_clients_whose_histories_read_the_same_both_go_on_at_once(
    served: Served, shared_api: FakeAnthropicAPI
) -> None:
    word = tag()
    gpt = openai.AsyncOpenAI(base_url=f"{served.url}/v1", api_key=ALICE_KEY, max_retries=0)
    opening: list[Any] = [{"role": "user", "content": f"hi {word}"}]
    first = await gpt.chat.completions.create(model="opus", messages=opening)
    said = first.choices[0].message.content
    history = [
        *opening,
        {"role": "assistant", "content": said},
        {"role": "user", "content": "SLOW 3"},
    ]
    # Both send the same history while the other's turn runs: neither waits or gets 409.
    raws = await asyncio.gather(
        *(
            gpt.chat.completions.with_raw_response.create(model="opus", messages=history)
            for _ in "ab"
        )
    )
    assert [raw.parse().choices[0].message.content for raw in raws] == ["slow0 slow1 slow2 "] * 2
    assert len({raw.headers["x-claude-chat-session-id"] for raw in raws}) == 2
    requests = [
        r for r in shared_api.message_requests() if r.user_texts == [f"hi {word}", "SLOW 3"]
    ]
    assert len(requests) == 2
    for request in requests:
        assert turns_of(request)[:2] == [("user", f"hi {word}"), ("assistant", said)]


async def test_a_client_that_leaves_mid_answer_goes_on_without_that_turn(
    served: Served, shared_api: FakeAnthropicAPI
) -> None:
    word = tag()
    gpt = openai.AsyncOpenAI(base_url=f"{served.url}/v1", api_key=ALICE_KEY, max_retries=0)
    history: list[Any] = [{"role": "user", "content": f"stay {word}"}]
    first = await gpt.chat.completions.create(model="opus", messages=history)
    history.append({"role": "assistant", "content": first.choices[0].message.content})
    stream = await gpt.chat.completions.create(
        model="opus", messages=[*history, {"role": "user", "content": "SLOW 20"}], stream=True
    )
    async for chunk in stream:
        if chunk.choices and chunk.choices[0].delta.content:
            break
    await stream.close()  # gone, the answer half streamed
    retry = [*history, {"role": "user", "content": f"retry {word}"}]
    again = await gpt.chat.completions.create(model="opus", messages=retry)
    assert again.choices[0].message.content == (
        f"Echo: retry {word} | turn 2 | model claude-opus-5-5"
    )
    assert request_for(shared_api, f"retry {word}").user_texts == [f"stay {word}", f"retry {word}"]


def test_tenants_keep_their_own_conversations_and_a_request_its_own_credential(
    served: Served, shared_api: FakeAnthropicAPI, gpt: openai.OpenAI
) -> None:
    word = tag()
    history: list[Any] = [{"role": "user", "content": f"mine {word}"}]
    alice = gpt.chat.completions.with_raw_response.create(model="opus", messages=history)
    history += [
        {"role": "assistant", "content": alice.parse().choices[0].message.content},
        {"role": "user", "content": f"bob's {word}"},
    ]
    bob = openai.OpenAI(base_url=f"{served.url}/v1", api_key="bob-server-key", max_retries=0)
    raw = bob.chat.completions.with_raw_response.create(
        model="opus", messages=history, extra_headers={"X-Anthropic-Api-Key": "sk-bob-own"}
    )
    # Bob's history reads as Alice's, but it goes on in a session of Bob's own.
    assert raw.headers["x-claude-chat-session-id"] != alice.headers["x-claude-chat-session-id"]
    answer = httpx.get(
        f"{served.url}/v1/sessions/{alice.headers['x-claude-chat-session-id']}",
        headers={"Authorization": "Bearer bob-server-key"},
    )
    assert answer.status_code == 404
    request = request_for(shared_api, f"bob's {word}")
    assert request.headers["x-api-key"] == "sk-bob-own"
    assert turns_of(request)[0] == ("user", f"mine {word}")


def test_with_user_names_session_the_user_field_names_the_conversation(
    tmp_path: Any, shared_api: FakeAnthropicAPI
) -> None:
    word = tag()
    server = Served(tmp_path, server_env(tmp_path, shared_api), "--user-names-session")
    try:
        claude = anthropic.Anthropic(base_url=server.url, api_key=ALICE_KEY, max_retries=0)
        gpt = openai.OpenAI(base_url=f"{server.url}/v1", api_key=ALICE_KEY, max_retries=0)
        for n in (1, 2):
            said = claude.messages.create(
                model="opus",
                max_tokens=100,
                messages=[{"role": "user", "content": f"claude {n} {word}"}],
                metadata={"user_id": f"user-{word}"},
            )
            assert f" | turn {n} | " in said.content[0].text  # type: ignore[union-attr]
        for n in (1, 2):
            completion = gpt.chat.completions.create(
                model="opus",
                messages=[{"role": "user", "content": f"gpt {n} {word}"}],
                user=f"other-{word}",
            )
            assert f" | turn {n} | " in str(completion.choices[0].message.content)
    finally:
        assert server.stop() == 0, server.stderr()


@pytest.mark.parametrize(
    ("path", "body", "says"),
    [
        ("/v1/chat/completions", {"model": "opus", "messages": []}, "messages"),
        ("/v1/chat/completions", {"messages": [{"role": "user", "content": "x"}]}, "model"),
        (
            "/v1/chat/completions",
            {"model": "opus", "messages": [{"role": "assistant", "content": "x"}]},
            "the last message must be the user's",
        ),
        (
            "/v1/chat/completions",
            {"model": "opus", "messages": [{"role": "tool", "content": "x", "tool_call_id": "1"}]},
            "messages.0: tool calls and results are not supported",
        ),
        (
            "/v1/chat/completions",
            {"model": "opus", "messages": [{"role": "user", "content": [{"type": "audio"}]}]},
            "messages.0.content.0",
        ),
        (
            "/v1/messages",
            {
                "model": "opus",
                "max_tokens": 10,
                "messages": [
                    {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t"}]}
                ],
            },
            "messages.0.content.0: tool calls and results are not supported",
        ),
        (
            "/v1/chat/completions",
            {"model": "opus", "n": 2, "messages": [{"role": "user", "content": "x"}]},
            "n: ",
        ),
        ("/v1/messages", "{not json", "malformed JSON"),
    ],
)
def test_bad_requests_get_a_400_naming_what_is_wrong(
    served: Served, path: str, body: Any, says: str
) -> None:
    headers = {"Authorization": f"Bearer {ALICE_KEY}", "Content-Type": "application/json"}
    content = body if isinstance(body, str) else json.dumps(body)
    answer = httpx.post(f"{served.url}{path}", content=content, headers=headers)
    assert answer.status_code == 400, answer.text
    error = answer.json()["error"]
    assert error["type"] == "invalid_request_error" and says in error["message"]
    if path == "/v1/messages":
        assert answer.json()["type"] == "error"
