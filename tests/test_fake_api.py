"""The stand-in Messages API on its own (urllib), then once with the real bundled CLI."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.fake_api import (
    COMPACTION_REQUEST,
    FakeAnthropicAPI,
    HTTPError,
    RecordedRequest,
    Reply,
    Text,
)

Event = tuple[str, dict[str, Any]]


@pytest.fixture
def server() -> Iterator[FakeAnthropicAPI]:
    with FakeAnthropicAPI() as api:
        yield api


def user(text: str) -> dict[str, Any]:
    return {"role": "user", "content": text}


def post(
    api: FakeAnthropicAPI, path: str, body: dict[str, Any], timeout: float = 10
) -> tuple[int, bytes]:
    request = urllib.request.Request(
        api.base_url + path,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "X-Api-Key": "sk-test-fake"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def conversation(*messages: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """A request body with the marks of a conversation turn (tools, thinking), streamed."""
    return {
        "model": "claude-test-1",
        "max_tokens": 1000,
        "stream": True,
        "tools": [{"name": "Bash", "input_schema": {"type": "object"}}],
        "thinking": {"type": "adaptive"},
        "messages": list(messages),
        **extra,
    }


def turn(api: FakeAnthropicAPI, *messages: dict[str, Any]) -> list[Event]:
    """One streamed conversation request; its SSE events."""
    status, data = post(api, "/v1/messages?beta=true", conversation(*messages))
    assert status == 200, data
    return parse_sse(data.decode())


def parse_sse(text: str) -> list[Event]:
    events = []
    for chunk in text.split("\n\n"):
        if not chunk.strip():
            continue
        name_line, data_line = chunk.split("\n")
        assert name_line.startswith("event: ") and data_line.startswith("data: ")
        data = json.loads(data_line.removeprefix("data: "))
        assert data["type"] == name_line.removeprefix("event: ")
        events.append((data["type"], data))
    return events


def texts(events: list[Event], kind: str = "text_delta", key: str = "text") -> str:
    return "".join(
        e["delta"][key]
        for t, e in events
        if t == "content_block_delta" and e["delta"]["type"] == kind
    )


def test_a_streamed_answer_has_the_real_event_order(server: FakeAnthropicAPI) -> None:
    first = turn(server, user("Hi"))
    assert [t for t, _ in first[:2]] == ["message_start", "content_block_start"]
    assert {t for t, _ in first[2:-3]} == {"content_block_delta"} and len(first[2:-3]) >= 3
    assert [t for t, _ in first[-3:]] == ["content_block_stop", "message_delta", "message_stop"]
    start = first[0][1]["message"]
    assert start["model"] == "claude-test-1" and start["usage"]["input_tokens"] > 10
    assert first[-2][1]["delta"]["stop_reason"] == "end_turn"
    assert first[-2][1]["usage"]["output_tokens"] >= 1
    assert texts(first) == "Echo: Hi | turn 1 | model claude-test-1"
    second = turn(server, user("Hi"), {"role": "assistant", "content": "x"}, user("again"))
    assert texts(second) == "Echo: again | turn 2 | model claude-test-1"
    assert second[0][1]["message"]["id"] != start["id"]


def test_thinking_then_text_and_a_tool_call_with_its_result(server: FakeAnthropicAPI) -> None:
    events = turn(server, user("THINK"))
    assert texts(events, "thinking_delta", "thinking") == "Let me think about this."
    assert texts(events, "signature_delta", "signature")
    assert texts(events) == "Thought done."
    assert [e["index"] for t, e in events if t == "content_block_start"] == [0, 1]

    events = turn(server, user("TOOL echo hi"))
    block = next(e["content_block"] for t, e in events if t == "content_block_start")
    assert block["type"] == "tool_use" and block["name"] == "Bash"
    command = json.loads(texts(events, "input_json_delta", "partial_json"))
    assert command == {"command": "echo hi", "description": "run a command"}
    assert events[-2][1]["delta"]["stop_reason"] == "tool_use"
    result = {
        "role": "user",
        "content": [{"type": "tool_result", "tool_use_id": block["id"], "content": "hi"}],
    }
    call = {"role": "assistant", "content": [{**block, "input": command}]}
    assert texts(turn(server, user("TOOL echo hi"), call, result)) == "Tool said: hi"


def test_a_reply_reports_the_usage_it_is_given(server: FakeAnthropicAPI) -> None:
    server.enqueue(Reply([Text("big")], usage={"input_tokens": 10, "cache_read_input_tokens": 9}))
    usage = turn(server, user("Hi"))[0][1]["message"]["usage"]
    assert (usage["input_tokens"], usage["cache_read_input_tokens"]) == (10, 9)
    assert usage["cache_creation_input_tokens"] == 0 and usage["output_tokens"] == 1


def test_the_compaction_request_gets_a_summary_of_the_earlier_texts(
    server: FakeAnthropicAPI,
) -> None:
    ask = f"Your task is to {COMPACTION_REQUEST}, paying close attention..."
    events = turn(server, user("one"), {"role": "assistant", "content": "x"}, user(ask))
    assert "<summary>Summary of: one</summary>" in texts(events)


def test_fail_answers_with_the_api_error_shape(server: FakeAnthropicAPI) -> None:
    for status, kind in ((400, "invalid_request_error"), (529, "overloaded_error")):
        code, data = post(server, "/v1/messages", conversation(user(f"FAIL {status}")))
        assert code == status
        assert json.loads(data) == {
            "type": "error",
            "error": {"type": kind, "message": f"fake {status}"},
        }


def test_queued_replies_go_first_in_first_out_and_skip_side_requests(
    server: FakeAnthropicAPI,
) -> None:
    server.enqueue(
        Reply([Text("one", chunks=["o", "ne"])]),
        HTTPError(429, "rate_limit_error", "slow down"),
        Text("three"),
    )
    title = {
        "model": "claude-test-1",
        "stream": True,
        "tools": [],
        "output_config": {
            "format": {
                "type": "json_schema",
                "schema": {"type": "object", "properties": {"title": {"type": "string"}}},
            }
        },
        "messages": [user("<session>\nHi\n</session>")],
    }
    assert texts(parse_sse(post(server, "/v1/messages", title)[1].decode())) == (
        '{"title": "Fake title"}'
    )
    assert texts(turn(server, user("a"))) == "one"
    # An error answers its request and the CLI's retries of it, then the queue moves on.
    for _ in range(2):
        assert post(server, "/v1/messages", conversation(user("b")))[0] == 429
    assert texts(turn(server, user("b"), user("c"))) == "three"
    assert texts(turn(server, user("d"))).startswith("Echo: d")
    assert server.pending() == 0
    assert len(server.message_requests()) == 5 and len(server.side_requests()) == 1


def test_every_request_is_recorded_and_other_paths_get_empty_json(
    server: FakeAnthropicAPI,
) -> None:
    with urllib.request.urlopen(server.base_url + "/api/hello", timeout=5) as response:
        assert response.status == 200 and json.loads(response.read()) == {}
    head = urllib.request.Request(server.base_url + "/api/hello", method="HEAD")
    with urllib.request.urlopen(head, timeout=5) as response:
        assert response.status == 200
    assert post(server, "/v1/messages/count_tokens", {"messages": [user("Hi")]})[1].startswith(
        b'{"input_tokens": '
    )
    assert post(server, "/api/other", {"a": 1}) == (200, b"{}")
    status, data = post(
        server,
        "/v1/messages",
        {"model": "m", "messages": [user("Hi")], "tools": [{"name": "Bash"}]},
    )
    message = json.loads(data)
    assert status == 200 and message["type"] == "message" and message["model"] == "m"
    assert message["content"] == [{"type": "text", "text": "Echo: Hi | turn 1 | model m"}]
    assert [(r.method, r.path) for r in server.requests] == [
        ("GET", "/api/hello"),
        ("HEAD", "/api/hello"),
        ("POST", "/v1/messages/count_tokens"),
        ("POST", "/api/other"),
        ("POST", "/v1/messages"),
    ]
    assert server.requests[3].body == {"a": 1}
    assert server.requests[3].headers["x-api-key"] == "sk-test-fake"
    assert server.message_requests() == [server.requests[4]]


def test_user_texts_leave_out_what_the_cli_adds() -> None:
    reminder = "<system-reminder>\nAttribution...\n</system-reminder>\n"
    model_switch = (
        "<local-command-caveat>The command below was run</local-command-caveat>\n",
        "<command-name>/model</command-name>\n  <command-args>haiku</command-args>\n",
        "<local-command-stdout>Set model to haiku</local-command-stdout>\n",
    )
    blocks = [reminder, "Hello", *model_switch, "two\nlines"]
    request = RecordedRequest(
        method="POST",
        path="/v1/messages",
        headers={},
        body={
            "messages": [
                {"role": "user", "content": [{"type": "text", "text": t} for t in blocks]},
                {"role": "system", "content": "# Environment"},
                {"role": "assistant", "content": [{"type": "text", "text": "partial"}]},
                {
                    "role": "user",
                    "content": [
                        {"type": "text", "text": "[Request interrupted by user]\n"},
                        {"type": "text", "text": "FAIL 400\n"},
                        {"type": "text", "text": "after", "cache_control": {}},
                    ],
                },
            ]
        },
    )
    assert request.user_texts == ["Hello", "two\nlines", "FAIL 400", "after"]
    assert request.last_user_text == "after"


def test_first_token_delay_and_a_client_that_goes_away(
    capfd: pytest.CaptureFixture[str],
) -> None:
    with FakeAnthropicAPI(first_token_delay=0.3) as api:
        started = time.monotonic()
        turn(api, user("Hi"))
        assert time.monotonic() - started >= 0.3
        api.enqueue(Text("", chunks=[f"w{i} " for i in range(50)], delay=0.05))
        body = json.dumps(conversation(user("x"))).encode()
        request = urllib.request.Request(api.base_url + "/v1/messages", data=body)
        with urllib.request.urlopen(request, timeout=5) as response:
            response.readline()  # message_start has come: hang up mid-answer
        time.sleep(0.5)
        assert texts(turn(api, user("after"))).startswith("Echo: after")
        assert api.errors == []
    assert capfd.readouterr().err == ""


def test_standalone_prints_ready_records_and_stops_on_sigterm(tmp_path: Path) -> None:
    record = tmp_path / "requests.jsonl"
    process = subprocess.Popen(
        [sys.executable, str(Path(__file__).with_name("fake_api.py")), "--record", str(record)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        ready = process.stdout.readline().split()
        assert ready[0] == "READY" and ready[1].startswith("http://127.0.0.1:")
        request = urllib.request.Request(ready[1] + "/v1/messages/count_tokens", data=b"{}")
        with urllib.request.urlopen(request, timeout=5) as response:
            assert response.status == 200
        process.send_signal(signal.SIGTERM)
        stdout, stderr = process.communicate(timeout=10)
    finally:
        process.kill()
    assert process.returncode == 0 and stdout == "" and stderr == ""
    (line,) = record.read_text().splitlines()
    assert json.loads(line)["path"] == "/v1/messages/count_tokens"


# --------------------------------------------------------------------------------------------
# The real CLI
# --------------------------------------------------------------------------------------------


def bundled_cli() -> Path:
    import claude_agent_sdk

    return Path(claude_agent_sdk.__file__).parent / "_bundled" / "claude"


class Lines:
    """A process's stdout lines, read by a thread so that every wait has a deadline."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.lines: queue.Queue[str | None] = queue.Queue()
        assert process.stdout is not None
        stdout = process.stdout

        def pump() -> None:
            for line in stdout:
                self.lines.put(line)
            self.lines.put(None)

        threading.Thread(target=pump, daemon=True).start()

    def until_result(self, timeout: float) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        messages: list[dict[str, Any]] = []
        while True:
            line = self.lines.get(timeout=max(deadline - time.monotonic(), 0.01))
            assert line is not None, f"the CLI stopped; it said: {messages}"
            message = json.loads(line)
            messages.append(message)
            if message.get("type") == "result":
                return messages


def streamed_text(messages: list[dict[str, Any]]) -> str:
    return "".join(
        m["event"]["delta"].get("text", "")
        for m in messages
        if m.get("type") == "stream_event" and m["event"]["type"] == "content_block_delta"
    )


@pytest.mark.integration
def test_the_real_cli_talks_to_it(tmp_path: Path) -> None:
    cli = bundled_cli()
    if not cli.exists():
        pytest.skip("no bundled Claude Code CLI")
    home, project = tmp_path / "cli-home", tmp_path / "cli-project"
    home.mkdir()
    project.mkdir()
    with FakeAnthropicAPI() as api:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("ANTHROPIC", "CLAUDE"))}
        env.update(
            HOME=str(home),
            ANTHROPIC_BASE_URL=api.base_url,
            ANTHROPIC_API_KEY="sk-test-fake",
            CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC="1",
        )
        argv = [str(cli), "-p", "--input-format", "stream-json", "--output-format"]
        argv += ["stream-json", "--verbose", "--include-partial-messages"]
        process = subprocess.Popen(
            argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            cwd=project,
            env=env,
            text=True,
        )
        try:
            lines = Lines(process)
            answers = []
            for text in ("Hello", "RECALL"):
                message = {"role": "user", "content": text}
                line = {"type": "user", "message": message, "parent_tool_use_id": None}
                assert process.stdin is not None
                process.stdin.write(json.dumps({**line, "session_id": "default"}) + "\n")
                process.stdin.flush()
                messages = lines.until_result(timeout=90)
                assert messages[-1]["is_error"] is False, messages[-1]
                answers.append(streamed_text(messages))
            assert process.stdin is not None
            process.stdin.close()
            assert process.wait(timeout=30) == 0
        finally:
            process.kill()
            process.wait(timeout=10)
        requests = api.message_requests()
        assert api.errors == []
    model = requests[0].model
    assert answers == [f"Echo: Hello | turn 1 | model {model}", "You said before: [Hello] (end)"]
    assert len(requests) == 2
    assert requests[1].user_texts == ["Hello", "RECALL"]
    assert requests[1].headers["x-api-key"] == "sk-test-fake"
