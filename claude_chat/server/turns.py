"""One turn of a leased conversation as wire events, the same for SSE, JSON and WebSocket."""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator
from typing import Any

from claude_chat.engine.errors import ChatError
from claude_chat.engine.events import SessionStarted, TurnError, TurnResult
from claude_chat.server.errors import log
from claude_chat.server.metrics import Metrics
from claude_chat.server.pool import Conversation, TurnRequest
from claude_chat.server.protocol import (
    WireEvent,
    error_event,
    result_event,
    session_event,
    wire_event,
)


async def turn_events(
    conversation: Conversation,
    text: str,
    request: TurnRequest,
    metrics: Metrics,
    content: list[dict[str, Any]] | None = None,
) -> AsyncIterator[WireEvent]:
    """``session``, the turn's events, ``result``. Closing this early (a client gone)
    interrupts the turn; the conversation stays leased until the caller releases it.
    ``content``: content blocks sent instead of ``text`` (a message with images)."""
    engine = conversation.engine
    assert engine is not None
    tenant = conversation.tenant.name
    announced = False
    try:
        await _apply_choices(conversation, request)
        async with contextlib.aclosing(engine.send(text, request.received_at, content)) as events:
            async for event in events:
                if isinstance(event, SessionStarted):
                    if not announced:
                        announced = True
                        yield session_event(event.session_id, event.model)
                    continue
                if isinstance(event, TurnResult):
                    if not announced:
                        yield session_event(event.session_id, event.model)
                    metrics.observe_turn(tenant, event)
                    yield result_event(event)
                    return
                if isinstance(event, TurnError) and event.kind == "cli":
                    metrics.process_starts.labels("crash").inc()
                yield wire_event(event)
    except Exception as exc:  # Claude Code did not start, or refused a model or mode
        if not isinstance(exc, ChatError):
            log.error("turn failed", exc_info=exc)
        failed = TurnResult(
            session_id=engine.session_id,
            model=engine.model,
            is_error=True,
            interrupted=False,
            duration_s=time.monotonic() - request.received_at,
        )
        if not announced:
            yield session_event(engine.session_id, engine.model)
        metrics.observe_turn(tenant, failed)
        yield error_event("cli", str(exc) if isinstance(exc, ChatError) else "internal error")
        yield result_event(failed)


async def _apply_choices(conversation: Conversation, request: TurnRequest) -> None:
    """The model and permission mode the request asks for, if the process has others."""
    engine = conversation.engine
    assert engine is not None
    if request.model is not None:
        await engine.wait_ready()
        if engine.model != engine.resolve_model(request.model):
            await engine.set_model(request.model)
    if request.permission_mode is not None and engine.permission_mode != request.permission_mode:
        await engine.wait_ready()
        if engine.permission_mode != request.permission_mode:
            await engine.set_permission_mode(request.permission_mode)
