"""``POST /v1/messages``, as Anthropic's Messages API speaks it, on long-lived Claude Code
sessions (see ``conversations``): one ``message``, or with ``stream: true`` the API's own
events (``message_start``, ``content_block_start/delta/stop``, ``message_delta``,
``message_stop``; ``error`` for a turn that fails)."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncGenerator, Callable, Coroutine
from typing import Any, Literal

from fastapi import APIRouter, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
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
from claude_chat.server.errors import ApiError, describe_validation, error_body
from claude_chat.server.history import Block, History, HistoryError, Role, build, text_block
from claude_chat.server.protocol import WireEvent
from claude_chat.server.state import server_state


class _AnthropicErrors(APIRoute):
    """Errors in the Messages API's own shape: ``{"type": "error", "error": {...}}``."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            try:
                return await handler(request)
            except ApiError as exc:
                return _error_response(exc.status, exc.message, exc.headers())
            except RequestValidationError as exc:
                return _error_response(400, describe_validation(exc.errors()), {})

        return handle


def _error_response(status: int, message: str, headers: dict[str, str]) -> JSONResponse:
    return JSONResponse(
        {"type": "error", **error_body(status, message)}, status_code=status, headers=headers
    )


router = APIRouter(route_class=_AnthropicErrors)

# Blocks a client resends from earlier answers that Claude Code's session keeps its own way.
_DROPPED = ("thinking", "redacted_thinking")


class InputMessage(BaseModel):
    model_config = ConfigDict(extra="allow")
    role: Literal["user", "assistant"]
    content: str | list[dict[str, Any]]


class MessagesRequest(BaseModel):
    model_config = ConfigDict(extra="allow")
    model: str = Field(min_length=1, description="A Claude Code model alias or name.")
    messages: list[InputMessage] = Field(min_length=1)
    system: str | list[dict[str, Any]] | None = None
    max_tokens: int | None = Field(default=None, description="Accepted; Claude Code decides.")
    stream: bool = False
    tools: list[Any] | None = None
    metadata: dict[str, Any] | None = None


@router.post("/v1/messages")
async def messages(request: Request, body: MessagesRequest, tenant: ClientTenant) -> Any:
    """Anthropic messages: the newest user message goes to the conversation's session."""
    if body.tools:
        raise ApiError(400, f"tools: {NO_TOOLS}")
    history = _history(body)
    user_id = (body.metadata or {}).get("user_id")
    name = request.headers.get(SESSION_HEADER) or (
        str(user_id) if user_id and server_state(request).settings.user_names_session else None
    )
    turn = await open_turn(request, tenant, history, body.model, name)
    message_id = f"msg_{uuid.uuid4().hex[:24]}"
    if body.stream:
        return await event_stream(turn, _events(turn, message_id, body.model))
    result: WireEvent = {}
    error: WireEvent | None = None
    blocks = _Blocks()
    try:
        async with contextlib.aclosing(turn.events()) as events:
            async for event in events:
                if (found := _delta(event)) is not None:
                    blocks.add(*found)
                elif event["type"] == "error":
                    error = error or event
                elif event["type"] == "result":
                    result = event
    finally:
        turn.release()
    if result.get("is_error", True):
        raise failure(error)
    blocks.finish()
    message = {
        **_message(message_id, result.get("model") or body.model, _usage(result)),
        "content": blocks.blocks,
        "stop_reason": "end_turn",
    }
    return JSONResponse(message, headers=turn.headers())


def _message(message_id: str, model: str, usage: dict[str, int]) -> dict[str, Any]:
    return {
        "id": message_id,
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
        "usage": usage,
    }


class _Blocks:
    """The answer's content blocks as the Messages API has them: thinking and text, a new
    block each time the kind changes."""

    def __init__(self) -> None:
        self.blocks: list[Block] = []
        self._open = False

    def add(self, kind: str, piece: str) -> list[WireEvent]:
        """Take one delta; the stream events it makes."""
        events: list[WireEvent] = []
        if not self.blocks or self.blocks[-1]["type"] != kind:
            events += self.close()
            block = {"type": "thinking", "thinking": "", "signature": ""}
            self.blocks.append(block if kind == "thinking" else text_block(""))
            start = {**self.blocks[-1], kind: ""}
            events.append(
                {"type": "content_block_start", "index": self._index, "content_block": start}
            )
        self.blocks[-1][kind] += piece
        delta = {"type": f"{kind}_delta", kind: piece}
        events.append({"type": "content_block_delta", "index": self._index, "delta": delta})
        self._open = True
        return events

    def close(self) -> list[WireEvent]:
        if not self._open:
            return []
        self._open = False
        return [{"type": "content_block_stop", "index": self._index}]

    def finish(self) -> list[WireEvent]:
        """The last block's end (an empty text block for an empty answer)."""
        events = [] if self.blocks else self.add("text", "")
        return events + self.close()

    @property
    def _index(self) -> int:
        return len(self.blocks) - 1


def _delta(event: WireEvent) -> tuple[str, str] | None:
    """(kind, piece) of a text or thinking delta of the answer itself."""
    if event["type"] != "content_block_delta" or event["parent_tool_use_id"] is not None:
        return None
    delta = event["delta"]
    for kind in ("text", "thinking"):
        if delta.get("type") == f"{kind}_delta" and delta.get(kind):
            return kind, str(delta[kind])
    return None


async def _events(turn: ApiTurn, message_id: str, model: str) -> AsyncGenerator[WireEvent, None]:
    error: WireEvent | None = None
    blocks = _Blocks()
    async with contextlib.aclosing(turn.events()) as events:
        async for event in events:
            kind = event["type"]
            if kind == "session":
                start = _message(message_id, event["model"] or model, _usage({}))
                yield {"type": "message_start", "message": start}
            elif (found := _delta(event)) is not None:
                for out in blocks.add(*found):
                    yield out
            elif kind == "error":
                error = error or event
            elif kind == "result":
                if event["is_error"]:
                    failed = failure(error)
                    yield {
                        "type": "error",
                        "error": {"type": failed.type, "message": failed.message},
                    }
                    return
                for out in blocks.finish():
                    yield out
                yield {
                    "type": "message_delta",
                    "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                    "usage": _usage(event),
                }
                yield {"type": "message_stop"}


def _usage(result: WireEvent) -> dict[str, int]:
    usage = result.get("usage") or {}
    return {
        "input_tokens": int(usage.get("input_tokens", 0)),
        "cache_read_input_tokens": int(usage.get("cache_read_tokens", 0)),
        "cache_creation_input_tokens": int(usage.get("cache_creation_tokens", 0)),
        "output_tokens": int(usage.get("output_tokens", 0)),
    }


def _history(body: MessagesRequest) -> History:
    system = body.system
    if isinstance(system, list):
        system = "\n\n".join(str(b.get("text", "")) for b in system if b.get("type") == "text")
    messages: list[tuple[Role, list[Block]]] = []
    for index, message in enumerate(body.messages):
        messages.append((message.role, _blocks(message.content, f"messages.{index}")))
    try:
        return build(system, messages)
    except HistoryError as exc:
        raise ApiError(400, str(exc)) from None


def _blocks(content: str | list[dict[str, Any]], where: str) -> list[Block]:
    if isinstance(content, str):
        return [text_block(content)]
    blocks: list[Block] = []
    for index, block in enumerate(content):
        kind = block.get("type")
        place = f"{where}.content.{index}"
        if kind == "text" and isinstance(block.get("text"), str):
            blocks.append(text_block(block["text"]))
        elif kind == "image" and isinstance(block.get("source"), dict):
            blocks.append({"type": "image", "source": block["source"]})
        elif kind in ("tool_use", "tool_result", "server_tool_use"):
            raise ApiError(400, f"{place}: tool calls and results are not supported: {NO_TOOLS}")
        elif kind not in _DROPPED:
            raise ApiError(400, f"{place}: blocks of type text or image only")
    return blocks
