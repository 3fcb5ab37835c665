"""``POST /v1/chat/completions``, as OpenAI's chat completions API speaks it, on long-lived
Claude Code sessions (see ``conversations``): one ``chat.completion``, or with ``stream: true``
``chat.completion.chunk`` events (``data:`` lines only) ending with ``data: [DONE]``."""

from __future__ import annotations

import contextlib
import re
import time
import uuid
from collections.abc import AsyncGenerator
from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from claude_chat.server.conversations import (
    NO_TOOLS,
    SESSION_HEADER,
    ApiTurn,
    ClientTenant,
    event_stream,
    failure,
    open_turn,
)
from claude_chat.server.errors import ApiError
from claude_chat.server.history import Block, HistoryError, Role, build, text_block
from claude_chat.server.protocol import WireEvent, encode
from claude_chat.server.state import server_state

router = APIRouter()

DONE = b"data: [DONE]\n\n"
_DATA_URL = re.compile(r"data:(image/[a-z0-9.+-]+);base64,(.*)", re.I | re.S)


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="allow")
    role: Literal["system", "developer", "user", "assistant", "tool", "function"]
    content: str | list[dict[str, Any]] | None = None
    tool_calls: list[Any] | None = None


class ChatCompletionRequest(BaseModel):
    model_config = ConfigDict(extra="allow")
    model: str = Field(min_length=1, description="A Claude Code model alias or name.")
    messages: list[ChatMessage] = Field(min_length=1)
    stream: bool = False
    stream_options: dict[str, Any] | None = None
    tools: list[Any] | None = None
    functions: list[Any] | None = None
    user: str | None = None
    n: int = Field(default=1, ge=1, le=1, description="One choice: the conversation's answer.")


@router.post("/v1/chat/completions")
async def chat_completions(
    request: Request, body: ChatCompletionRequest, tenant: ClientTenant
) -> Any:
    """OpenAI chat completions: the newest user message goes to the conversation's session."""
    if body.tools or body.functions:
        raise ApiError(400, f"tools: {NO_TOOLS}")
    history = _history(body)
    name = request.headers.get(SESSION_HEADER) or (
        body.user if server_state(request).settings.user_names_session else None
    )
    turn = await open_turn(request, tenant, history, body.model, name)
    completion_id = f"chatcmpl-{uuid.uuid4().hex}"
    if body.stream:
        usage = bool((body.stream_options or {}).get("include_usage"))
        chunks = _chunks(turn, completion_id, usage)
        return await event_stream(turn, chunks, frame=_frame, done=DONE)
    try:
        result, error = await _run(turn)
    finally:
        turn.release()
    if result.get("is_error", True):
        raise failure(error)
    body_out = {
        "id": completion_id,
        "object": "chat.completion",
        "created": int(time.time()),
        "model": result.get("model") or body.model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": turn.text, "refusal": None},
                "logprobs": None,
                "finish_reason": "stop",
            }
        ],
        "usage": _usage(result),
    }
    return JSONResponse(body_out, headers=turn.headers())


async def _run(turn: ApiTurn) -> tuple[WireEvent, WireEvent | None]:
    result: WireEvent = {}
    error: WireEvent | None = None
    async with contextlib.aclosing(turn.events()) as events:
        async for event in events:
            if event["type"] == "error":
                error = error or event
            elif event["type"] == "result":
                result = event
    return result, error


async def _chunks(
    turn: ApiTurn, completion_id: str, include_usage: bool
) -> AsyncGenerator[WireEvent, None]:
    created = int(time.time())
    model = ""
    error: WireEvent | None = None

    def chunk(delta: dict[str, Any], finish: str | None = None) -> WireEvent:
        return {
            "id": completion_id,
            "object": "chat.completion.chunk",
            "created": created,
            "model": model,
            "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
        }

    async with contextlib.aclosing(turn.events()) as events:
        async for event in events:
            kind = event["type"]
            if kind == "session":
                model = event["model"] or ""
                yield chunk({"role": "assistant", "content": ""})
            elif kind == "content_block_delta" and event["parent_tool_use_id"] is None:
                text = event["delta"].get("text")
                if text:
                    yield chunk({"content": text})
            elif kind == "error":
                error = error or event
            elif kind == "result":
                model = event["model"] or model
                if event["is_error"]:
                    failed = failure(error)
                    yield {"error": {"message": failed.message, "type": failed.type, "code": None}}
                    return
                yield chunk({}, "stop")
                if include_usage:
                    yield {**chunk({}), "choices": [], "usage": _usage(event)}


def _frame(event: WireEvent) -> bytes:
    return f"data: {encode(event)}\n\n".encode()


def _usage(result: WireEvent) -> dict[str, Any]:
    """OpenAI's usage: every token the model read is a prompt token, cached ones counted too."""
    usage = result.get("usage") or {}
    prompt = sum(
        int(usage.get(k, 0)) for k in ("input_tokens", "cache_read_tokens", "cache_creation_tokens")
    )
    completion = int(usage.get("output_tokens", 0))
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "prompt_tokens_details": {"cached_tokens": int(usage.get("cache_read_tokens", 0))},
    }


def _history(body: ChatCompletionRequest) -> Any:
    system: list[str] = []
    messages: list[tuple[Role, list[Block]]] = []
    for index, message in enumerate(body.messages):
        where = f"messages.{index}"
        if message.role in ("tool", "function") or message.tool_calls:
            raise ApiError(400, f"{where}: tool calls and results are not supported: {NO_TOOLS}")
        blocks = _blocks(message.content, where)
        if message.role in ("system", "developer"):
            system.extend(b["text"] for b in blocks if b["type"] == "text")
        else:
            messages.append(("user" if message.role == "user" else "assistant", blocks))
    try:
        return build("\n\n".join(system), messages)
    except HistoryError as exc:
        raise ApiError(400, str(exc)) from None


def _blocks(content: str | list[dict[str, Any]] | None, where: str) -> list[Block]:
    if content is None:
        return []
    if isinstance(content, str):
        return [text_block(content)]
    blocks = []
    for index, part in enumerate(content):
        kind = part.get("type")
        if kind == "text" and isinstance(part.get("text"), str):
            blocks.append(text_block(part["text"]))
        elif kind == "image_url":
            blocks.append(_image(part.get("image_url"), f"{where}.content.{index}"))
        elif kind == "refusal":
            continue
        else:
            raise ApiError(400, f"{where}.content.{index}: parts of type text or image_url only")
    return blocks


def _image(image_url: Any, where: str) -> Block:
    url = image_url.get("url") if isinstance(image_url, dict) else None
    if not isinstance(url, str) or not url:
        raise ApiError(400, f"{where}.image_url.url: a data: or https: URL")
    found = _DATA_URL.fullmatch(url)
    if found:
        source = {"type": "base64", "media_type": found[1].lower(), "data": found[2].strip()}
    elif url.startswith(("https://", "http://")):
        source = {"type": "url", "url": url}
    else:
        raise ApiError(400, f"{where}.image_url.url: a data:image/...;base64 or https: URL")
    return {"type": "image", "source": source}
