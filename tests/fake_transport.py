"""A fast stand-in for the Claude Code process, below the SDK's control protocol.

It speaks the stream-json lines recorded from the real CLI (tests/data/*.jsonl): it answers
``initialize``, ``set_model`` and ``interrupt``, and answers each user message with the next
enqueued turn (or an echo). ``written`` records every line the SDK sent, in order.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

from claude_agent_sdk._internal.transport import Transport

SESSION = "5824a483-66ce-4325-93d5-2275b8561da2"
MODELS = [
    {"value": "default", "resolvedModel": "claude-opus-5-5", "description": "Default"},
    {"value": "opus", "resolvedModel": "claude-opus-5-5", "description": "Opus"},
    {"value": "sonnet", "resolvedModel": "claude-sonnet-5-5", "description": "Sonnet"},
    {"value": "haiku", "resolvedModel": "claude-haiku-5-5", "description": "Haiku"},
]
Line = dict[str, Any]


def stream(event: dict[str, Any], parent: str | None = None) -> Line:
    return {
        "type": "stream_event",
        "uuid": str(uuid.uuid4()),
        "session_id": SESSION,
        "event": event,
        "parent_tool_use_id": parent,
    }


def init(model: str) -> Line:
    return {
        "type": "system",
        "subtype": "init",
        "cwd": "/home/user/project",
        "session_id": SESSION,
        "model": model,
        "permissionMode": "default",
        "tools": ["Bash"],
    }


def result(
    cost: float, *, is_error: bool = False, reason: str = "completed", text: str = ""
) -> Line:
    return {
        "type": "result",
        "subtype": "error_during_execution" if reason.startswith("aborted") else "success",
        "duration_ms": 100,
        "duration_api_ms": 90,
        "is_error": is_error,
        "num_turns": 1,
        "session_id": SESSION,
        "total_cost_usd": cost,
        "usage": {"input_tokens": 10, "output_tokens": 4, "cache_read_input_tokens": 5},
        "result": text,
        "terminal_reason": reason,
    }


def assistant(content: list[dict[str, Any]], model: str, message_id: str, **extra: Any) -> Line:
    return {
        "type": "assistant",
        "message": {"id": message_id, "model": model, "role": "assistant", "content": content},
        "parent_tool_use_id": None,
        "session_id": SESSION,
        **extra,
    }


def text_message(chunks: list[str], model: str) -> list[Line]:
    """One streamed text answer, with the complete message the CLI sends besides the deltas."""
    message_id = f"msg_{uuid.uuid4().hex[:8]}"
    lines = [
        stream({"type": "message_start", "message": {"id": message_id, "model": model}}),
        stream({"type": "content_block_start", "index": 0, "content_block": {"type": "text"}}),
    ]
    for chunk in chunks:
        lines.append(
            stream(
                {
                    "type": "content_block_delta",
                    "index": 0,
                    "delta": {"type": "text_delta", "text": chunk},
                }
            )
        )
    lines.append(assistant([{"type": "text", "text": "".join(chunks)}], model, message_id))
    lines.append(stream({"type": "content_block_stop", "index": 0}))
    lines.append(stream({"type": "message_stop"}))
    return lines


def thinking_message(thinking: str, model: str) -> list[Line]:
    message_id = f"msg_{uuid.uuid4().hex[:8]}"
    delta = {"type": "thinking_delta", "thinking": thinking}
    return [
        stream({"type": "message_start", "message": {"id": message_id, "model": model}}),
        stream({"type": "content_block_delta", "index": 0, "delta": delta}),
        assistant(
            [{"type": "thinking", "thinking": thinking, "signature": "s"}], model, message_id
        ),
    ]


def tool_round(name: str, tool_input: dict[str, Any], output: str, model: str) -> list[Line]:
    message_id = f"msg_{uuid.uuid4().hex[:8]}"
    tool_id = f"toolu_{uuid.uuid4().hex[:8]}"
    block = {"type": "tool_use", "id": tool_id, "name": name, "input": tool_input}
    return [
        stream({"type": "message_start", "message": {"id": message_id, "model": model}}),
        assistant([block], model, message_id),
        {
            "type": "user",
            "message": {
                "role": "user",
                "content": [{"type": "tool_result", "tool_use_id": tool_id, "content": output}],
            },
            "parent_tool_use_id": None,
            "session_id": SESSION,
        },
    ]


def api_error(text: str, kind: str = "unknown", status: int | None = 400) -> list[Line]:
    """The CLI's synthetic answer for an API error: no deltas, just a complete message."""
    message = assistant(
        [{"type": "text", "text": text}],
        "<synthetic>",
        str(uuid.uuid4()),
        error=kind,
        is_api_error_message=True,
        api_error_status=status,
    )
    return [message]


class FakeCLI(Transport):
    """``enqueue()`` turns; each is a list of lines sent after one user message."""

    def __init__(
        self, model: str = "claude-opus-5-5", delay: float = 0.0, start_delay: float = 0.0
    ) -> None:
        self.model = model
        self.delay = delay  # seconds before each line of an answer
        self.start_delay = start_delay  # seconds the process takes to start
        self.written: list[Line] = []
        self.turns: list[list[Line]] = []
        self.user_texts: list[str] = []
        self.connected = False
        self.closed = False
        self.broken = False
        self._out: asyncio.Queue[Line | None] = asyncio.Queue()
        self._cost = 0.0
        self._streaming: asyncio.Task[None] | None = None

    def enqueue(self, *turns: list[Line]) -> None:
        self.turns.extend(turns)

    # Transport ---------------------------------------------------------------------------

    async def connect(self) -> None:
        if self.start_delay:
            await asyncio.sleep(self.start_delay)
        self.connected = True

    def is_ready(self) -> bool:
        return self.connected and not self.closed

    async def end_input(self) -> None:
        await self.close()

    async def close(self) -> None:
        self.closed = True
        if self._streaming is not None:
            self._streaming.cancel()
        self._out.put_nowait(None)

    async def read_messages(self) -> AsyncIterator[dict[str, Any]]:
        while True:
            line = await self._out.get()
            if line is None:
                return
            yield line

    async def write(self, data: str) -> None:
        if self.broken:
            raise BrokenPipeError("the CLI's standard input is closed")
        for raw in data.splitlines():
            message = json.loads(raw)
            self.written.append(message)
            await self._answer(message)

    # Behaviour ---------------------------------------------------------------------------

    async def _answer(self, message: Line) -> None:
        if message.get("type") == "control_request":
            request = message["request"]
            response: dict[str, Any] = {}
            if request["subtype"] == "initialize":
                response = {"models": MODELS, "claude_code_version": "9.9.9", "pid": 4242}
            elif request["subtype"] == "set_model":
                alias = request.get("model") or "default"
                resolved = {m["value"]: m["resolvedModel"] for m in MODELS}
                self.model = resolved.get(alias, alias)
                response = {"model": self.model}
            elif request["subtype"] == "interrupt":
                self._interrupt()
            self._out.put_nowait(
                {
                    "type": "control_response",
                    "response": {
                        "subtype": "success",
                        "request_id": message["request_id"],
                        "response": response,
                    },
                }
            )
        elif message.get("type") == "user":
            text = message["message"]["content"]
            self.user_texts.append(text)
            body = self.turns.pop(0) if self.turns else text_message([f"Echo: {text}"], self.model)
            self._streaming = asyncio.get_running_loop().create_task(self._play(body))

    async def _play(self, body: list[Line]) -> None:
        self._out.put_nowait(init(self.model))
        for line in body:
            if self.delay:
                await asyncio.sleep(self.delay)
            self._out.put_nowait(line)
        self._finish(is_error=any(line.get("error") for line in body))

    def _finish(self, *, is_error: bool = False, reason: str = "completed") -> None:
        self._cost += 0.001
        self._out.put_nowait(result(self._cost, is_error=is_error, reason=reason))
        self._streaming = None

    def _interrupt(self) -> None:
        if self._streaming is not None:
            self._streaming.cancel()
            self._finish(is_error=True, reason="aborted_streaming")

    def break_input(self) -> None:
        """The process is gone but its end of output is not read yet: writes fail."""
        self.broken = True

    def die(self) -> None:
        """The process exits: the output stream ends."""
        if self._streaming is not None:
            self._streaming.cancel()
        self._out.put_nowait(None)
