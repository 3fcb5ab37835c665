"""A stateless API's requests on long-lived sessions: which session a request's history goes
on in, or which new one it starts, and the turn that follows.

A client may name its conversation (``X-Claude-Chat-Session``); then only its newest message
is sent. Otherwise the digest of each session's history as its client last saw it
(``continuations``) finds the session a request goes on in: its history minus the newest
message matches. An edited or shortened history forks from the last point a client saw; a
history that matches nothing (a new client) starts a new session seeded with it, so earlier
turns are real context either way.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Annotated, cast

from fastapi import Depends, Request

from claude_chat.engine.config import ChatConfig
from claude_chat.engine.engine import ChatEngine, ModelChoice
from claude_chat.server.auth import Tenant, request_credentials
from claude_chat.server.continuations import Continuations
from claude_chat.server.errors import ApiError
from claude_chat.server.history import History, fork_session, seed_session
from claude_chat.server.pool import Conversation, TurnRequest
from claude_chat.server.protocol import WireEvent, sse_frame
from claude_chat.server.sse import EventStream
from claude_chat.server.state import ServerState, server_state
from claude_chat.server.turns import turn_events
from claude_chat.store import sessions

SESSION_HEADER = "x-claude-chat-session"
SESSION_ID_HEADER = "X-Claude-Chat-Session-Id"
NO_TOOLS = (
    "client-side tools are not supported: Claude Code runs its own tools (configure them "
    "on the server); send the conversation without tools"
)


def client_tenant(request: Request) -> Tenant:
    """The tenant of the server key as OpenAI clients send it (``Authorization: Bearer``) or
    as Anthropic clients do (``x-api-key``); 401 without one."""
    keyring = server_state(request).keyring
    api_key = request.headers.get("x-api-key")
    authorization = request.headers.get("authorization")
    tenant = keyring.tenant_for(api_key) if api_key else None
    if tenant is None:
        tenant = keyring.tenant_for_header(authorization)
    if tenant is None:
        given = api_key or authorization
        raise ApiError(401, "wrong server key" if given else "send the server key as the API key")
    return tenant


ClientTenant = Annotated[Tenant, Depends(client_tenant)]


@dataclass
class _ApiState:
    """The OpenAI and Anthropic endpoints' own state in the app."""

    tenants: dict[str, Continuations] = field(default_factory=dict)
    loading: asyncio.Lock = field(default_factory=asyncio.Lock)
    models: list[ModelChoice] = field(default_factory=list)
    models_lock: asyncio.Lock = field(default_factory=asyncio.Lock)


def _api_state(request: Request) -> _ApiState:
    app = request.app.state
    found = getattr(app, "compat", None)
    if found is None:
        found = app.compat = _ApiState()
    assert isinstance(found, _ApiState)
    return found


async def _continuations(request: Request, tenant: Tenant) -> Continuations:
    """The tenant's continuations, read from its journal the first time."""
    api = _api_state(request)
    async with api.loading:
        found = api.tenants.get(tenant.name)
        if found is None:
            tenant_dir = server_state(request).settings.tenant_dir(tenant.name)
            found = api.tenants[tenant.name] = await Continuations.load(tenant_dir)
    return found


class ApiTurn:
    """One leased turn of a stateless request: its wire events, and what its client will see
    remembered once it ends well."""

    def __init__(
        self,
        state: ServerState,
        api: _ApiState,
        known: Continuations,
        tenant: Tenant,
        history: History,
        name: str | None,
        conversation: Conversation,
        turn: TurnRequest,
    ) -> None:
        self.state = state
        self.api = api
        self.known = known
        self.tenant = tenant
        self.history = history
        self.name = name
        self.conversation = conversation
        self.turn = turn
        self.answer: list[str] = []

    @property
    def session_id(self) -> str | None:
        return self.conversation.session_id

    def headers(self) -> dict[str, str]:
        """The session's id, for the client to find it (``GET /v1/sessions/{id}``)."""
        return {SESSION_ID_HEADER: self.session_id} if self.session_id else {}

    async def events(self) -> AsyncGenerator[WireEvent, None]:
        """``session``, the turn's events, ``result`` (see ``turns.turn_events``). Take them
        in ``contextlib.aclosing``: closing them early interrupts the turn."""
        newest = self.history.newest
        content = list(newest.blocks) if newest.has_images else None
        # An async generator: closing it early (a client gone) interrupts the turn.
        events = cast(
            "AsyncGenerator[WireEvent, None]",
            turn_events(self.conversation, newest.text, self.turn, self.state.metrics, content),
        )
        settled = False
        try:
            async with contextlib.aclosing(events) as stream:
                after_tool = False
                async for event in stream:
                    kind = event["type"]
                    if kind in ("tool_use", "tool_result"):
                        after_tool = True
                    elif kind == "content_block_delta" and event["parent_tool_use_id"] is None:
                        text = event["delta"].get("text")
                        if text and after_tool and self.answer:
                            # What Claude Code says after a tool call is a new paragraph,
                            # not glued to what it said before.
                            text = "\n\n" + text
                            event = {**event, "delta": {**event["delta"], "text": text}}
                        if text:
                            after_tool = False
                            self.answer.append(text)
                    elif kind == "result":
                        settled = True
                        await self._settle(event)
                    yield event
        finally:
            if not settled and self.conversation.session_id:
                # The client left mid-turn: the session holds a turn it did not see.
                await self.known.forget(self.conversation.session_id)

    async def _settle(self, result: WireEvent) -> None:
        session_id = result.get("session_id") or self.conversation.session_id
        if not session_id:
            return
        if result["is_error"] or result["interrupted"]:
            # The session now holds a turn its client did not see: no history continues it.
            await self.known.forget(session_id)
            return
        seen = self.history.digest_with_answer(self.text)
        await self.known.remember(session_id, seen, self.history.turns, self.name, self.history)
        engine = self.conversation.engine
        if not self.api.models and engine is not None:
            self.api.models = list(engine.models)

    @property
    def text(self) -> str:
        return "".join(self.answer)

    def release(self) -> None:
        self.state.pool.release(self.conversation)


async def event_stream(
    turn: ApiTurn,
    events: AsyncGenerator[WireEvent, None],
    frame: Callable[[WireEvent], bytes] = sse_frame,
    done: bytes | None = None,
) -> EventStream:
    """The streamed answer of ``turn``, its events written by ``frame``. The first event is
    taken before the response starts: by then Claude Code has said the session's id, which
    goes in the response's headers (for a client's first turn too)."""
    try:
        first = await anext(events)
    except BaseException:
        await events.aclose()
        turn.release()
        raise

    async def rest() -> AsyncIterator[WireEvent]:
        try:
            yield first
            async for event in events:
                yield event
        finally:
            await events.aclose()

    settings = turn.state.settings
    return EventStream(
        rest(),
        on_close=turn.release,
        ping_interval_s=settings.ping_interval_s,
        send_timeout_s=settings.send_timeout_s,
        frame=frame,
        done=done,
        headers=turn.headers(),
    )


async def open_turn(
    request: Request, tenant: Tenant, history: History, model: str | None, name: str | None
) -> ApiTurn:
    """Find or seed the session of ``history`` and lease its process for the newest message.
    ``name``: the client's name for the conversation, if it gives one."""
    received_at = time.monotonic()
    state = server_state(request)
    api = _api_state(request)
    known = await _continuations(request, tenant)
    try:
        credentials = request_credentials(request.headers, tenant)
    except ValueError as exc:
        raise ApiError(400, str(exc)) from None
    session_id = known.continued(history) if name is None else known.named(name, history)
    for attempt in (1, 2):
        if session_id is None and history.earlier:
            session_id = await _seed(state, known, tenant, history, model)
        turn = TurnRequest(
            session_id,
            credentials,
            model,
            system_prompt=history.system,
            received_at=received_at,
        )
        try:
            conversation = await state.pool.acquire(tenant, turn)
        except ApiError as exc:
            if attempt == 2 or session_id is None:
                raise
            if exc.status == 404:
                # Its session was deleted since: the history goes on in a new one.
                await known.forget(session_id)
            elif not (exc.status == 409 and name is None):
                raise
            # 409: another client whose history reads the same holds that session's turn;
            # this one goes on in a copy of the history instead of waiting.
            session_id = None
            continue
        return ApiTurn(state, api, known, tenant, history, name, conversation, turn)
    raise AssertionError("unreachable")


async def _seed(
    state: ServerState, known: Continuations, tenant: Tenant, history: History, model: str | None
) -> str:
    """A new session holding ``history`` before its newest message: forked from the session
    whose client saw the longest part of it (so that part keeps Claude Code's own record, tool
    calls and all), the rest written after it; or written whole."""
    config_dir = state.settings.claude_config_dir(tenant.name)
    cwd = tenant.cwd or state.settings.cwd
    point = known.fork_point(history)
    if point is not None:
        source_id, turns, covered = point
        source = await asyncio.to_thread(sessions.find_session_file, source_id, config_dir)
        if source is not None:
            tail = history.earlier[covered:]
            forked = await asyncio.to_thread(
                fork_session, source, turns, config_dir, cwd, tail, model
            )
            if forked is not None:
                return forked
    return await asyncio.to_thread(seed_session, config_dir, cwd, history.earlier, model)


async def model_choices(request: Request, tenant: Tenant) -> list[ModelChoice]:
    """Claude Code's models, as the first process of this server reported them (one is
    started, outside the pool, if no turn has run yet)."""
    api = _api_state(request)
    async with api.models_lock:
        if not api.models:
            api.models = await _ask_models(server_state(request), tenant, request)
    return api.models


async def _ask_models(state: ServerState, tenant: Tenant, request: Request) -> list[ModelChoice]:
    settings = state.settings
    try:
        credentials = request_credentials(request.headers, tenant)
    except ValueError as exc:
        raise ApiError(400, str(exc)) from None
    engine = ChatEngine(
        ChatConfig(
            cwd=tenant.cwd or settings.cwd,
            cli_path=settings.cli_path,
            env={"CLAUDE_CONFIG_DIR": str(settings.claude_config_dir(tenant.name))},
            api_key=credentials.api_key,
            oauth_token=credentials.oauth_token,
        )
    )
    try:
        await engine.wait_ready()
        return list(engine.models)
    except Exception as exc:
        raise ApiError(503, f"Claude Code did not start to list its models: {exc}") from None
    finally:
        await engine.close()


def failure(error: WireEvent | None) -> ApiError:
    """The HTTP error a client of these APIs gets for a turn that failed. The model API's
    answers about the request itself keep their status (400: e.g. a conversation too long,
    404: an unknown model, 413, and 429 or overload so that clients back off); anything else
    (credentials the server holds, Claude Code itself) is a bad gateway."""
    message = str(error["message"]) if error else "the turn failed"
    status = error.get("status") if error else None
    if status in (400, 404, 413):
        return ApiError(status, message)
    if status == 429:
        return ApiError(429, message, retry_after=5)
    if status in (503, 529):
        return ApiError(503, message, retry_after=5)
    return ApiError(502, f"Claude Code: {message}")
