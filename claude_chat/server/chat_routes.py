"""``POST /v1/chat/stream`` (server-sent events) and ``POST /v1/chat`` (one JSON answer)."""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, Request

from claude_chat.server.auth import Tenant, request_credentials
from claude_chat.server.bodies import ChatRequest
from claude_chat.server.errors import ApiError
from claude_chat.server.pool import Conversation, TurnRequest
from claude_chat.server.protocol import WireEvent, answer_body
from claude_chat.server.sse import EventStream
from claude_chat.server.state import AuthTenant, ServerState, server_state
from claude_chat.server.turns import turn_events

router = APIRouter()

_EVENTS: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "`event: <type>` / `data: <json>` frames: `session`, the turn's events, "
        "`result`, then `data: [DONE]`.",
        "content": {"text/event-stream": {}},
    }
}


async def _lease(
    request: Request, body: ChatRequest, tenant: Tenant
) -> tuple[ServerState, Conversation, TurnRequest]:
    received_at = time.monotonic()
    state = server_state(request)
    try:
        credentials = request_credentials(request.headers, tenant)
    except ValueError as exc:
        raise ApiError(400, str(exc)) from None
    turn = TurnRequest(body.session_id, credentials, body.model, received_at=received_at)
    return state, await state.pool.acquire(tenant, turn), turn


@router.post("/v1/chat/stream", response_class=EventStream, responses=_EVENTS)
async def chat_stream(request: Request, body: ChatRequest, tenant: AuthTenant) -> EventStream:
    """One turn, its events streamed as they arrive."""
    state, conversation, turn = await _lease(request, body, tenant)
    return EventStream(
        turn_events(conversation, body.message, turn, state.metrics),
        on_close=lambda: state.pool.release(conversation),
        ping_interval_s=state.settings.ping_interval_s,
        send_timeout_s=state.settings.send_timeout_s,
    )


@router.post("/v1/chat")
async def chat(request: Request, body: ChatRequest, tenant: AuthTenant) -> dict[str, Any]:
    """One turn, answered whole."""
    state, conversation, turn = await _lease(request, body, tenant)
    answer: list[str] = []
    error: WireEvent | None = None
    result: WireEvent = {}
    try:
        async for event in turn_events(conversation, body.message, turn, state.metrics):
            kind = event["type"]
            if kind == "content_block_delta" and event["parent_tool_use_id"] is None:
                answer.append(event["delta"].get("text", ""))
            elif kind == "error":
                error = error or event
            elif kind == "result":
                result = event
    finally:
        state.pool.release(conversation)
    return answer_body(result, "".join(answer), error)
