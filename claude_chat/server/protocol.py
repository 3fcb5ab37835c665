"""The events a client receives, the same JSON over SSE (``event: <type>``, ``data: <json>``)
and WebSocket (one object per message): ``session`` first, then the library's events as their
``to_dict()`` bodies, ``result`` last. Clients of other helpers depend on these shapes."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from claude_chat.engine.events import Event, SessionStarted, TurnError, TurnResult

WireEvent = dict[str, Any]


def session_event(session_id: str | None, model: str | None) -> WireEvent:
    return {"type": "session", "session_id": session_id, "model": model}


def error_event(kind: str, message: str, status: int | None = None) -> WireEvent:
    """A turn's error (``kind`` as ``TurnError`` has it: auth, api, cli, ...) or, over a
    WebSocket, a refused message (``kind`` is then the HTTP error type, e.g. conflict_error)."""
    return {"type": "error", "kind": kind, "message": message, "status": status}


def result_event(result: TurnResult) -> WireEvent:
    return {
        "type": "result",
        "session_id": result.session_id,
        "model": result.model,
        "usage": asdict(result.usage),
        "cost_usd": result.cost_usd,
        "time_to_first_token_s": result.time_to_first_token_s,
        "duration_s": result.duration_s,
        "is_error": result.is_error,
        "interrupted": result.interrupted,
    }


def wire_event(event: Event) -> WireEvent:
    """Any event but ``SessionStarted`` (it becomes the one ``session`` event)."""
    assert not isinstance(event, SessionStarted)
    if isinstance(event, TurnError):
        return error_event(event.kind, event.message, event.status)
    if isinstance(event, TurnResult):
        return result_event(event)
    return event.to_dict()


def answer_body(result: WireEvent, answer: str, error: WireEvent | None) -> dict[str, Any]:
    """``POST /v1/chat``'s one JSON answer, from the turn's ``result`` event."""
    body = {key: value for key, value in result.items() if key != "type"}
    return {**body, "answer": answer, "error": error}


def encode(event: WireEvent) -> str:
    return json.dumps(event, ensure_ascii=False, separators=(",", ":"))


def sse_frame(event: WireEvent) -> bytes:
    return f"event: {event['type']}\ndata: {encode(event)}\n\n".encode()


SSE_DONE = b"data: [DONE]\n\n"
SSE_PING = b": ping\n\n"
