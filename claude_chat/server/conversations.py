"""A stateless API's requests on long-lived sessions: which session a request's history goes
on in, or which new one it starts, and the turn that follows.

A client may name its conversation (``X-Claude-Chat-Session``); then only its newest message
is sent. Otherwise, for each tenant, the digest of each session's history as its client last
saw it finds the session a request continues: its history minus the newest message matches.
A history that matches nothing (a new client, an edited or shortened history, a server
restart) starts a new session seeded with it, so earlier turns are real context.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass, field
from typing import Annotated, cast

from fastapi import Depends, Request

from claude_chat.engine.config import ChatConfig
from claude_chat.engine.engine import ChatEngine, ModelChoice
from claude_chat.server.auth import Tenant, request_credentials
from claude_chat.server.errors import ApiError
from claude_chat.server.history import History, fork_session, prefix_digests, seed_session
from claude_chat.server.pool import Conversation, TurnRequest
from claude_chat.server.protocol import WireEvent
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
class _Named:
    session_id: str
    system: str


@dataclass
class Continuations:
    """Per tenant: the session each history digest continues, and named conversations."""

    by_digest: dict[tuple[str, str], str] = field(default_factory=dict)
    digest_of: dict[tuple[str, str], str] = field(default_factory=dict)
    # Every point a session's client has seen, as (session id, turns up to there): where an
    # edited or shortened history forks from.
    points: dict[tuple[str, str], tuple[str, int]] = field(default_factory=dict)
    named: dict[tuple[str, str], _Named] = field(default_factory=dict)
    models: list[ModelChoice] = field(default_factory=list)
    models_lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    def continued(self, tenant: str, history: History) -> str | None:
        return self.by_digest.get((tenant, history.earlier_digest()))

    def remember(self, tenant: str, session_id: str, seen: str, turns: int) -> None:
        """``seen`` is now the history of ``session_id`` as its client has it, ``turns``
        long (and only that: an older point of it is a fork)."""
        self.forget(tenant, session_id)
        self.by_digest[(tenant, seen)] = session_id
        self.digest_of[(tenant, session_id)] = seen
        self.points[(tenant, seen)] = (session_id, turns)

    def fork_point(self, tenant: str, history: History) -> tuple[str, int, int] | None:
        """The last point of ``history``'s earlier messages that a session's client saw: (that
        session, its turns up to there, how many of the messages it covers)."""
        earlier = history.earlier
        digests = prefix_digests(history.system, earlier)
        for covered in range(len(earlier), 0, -1):
            if earlier[covered - 1].role != "assistant":
                continue
            found = self.points.get((tenant, digests[covered]))
            if found is not None:
                return (*found, covered)
        return None

    def forget(self, tenant: str, session_id: str) -> None:
        old = self.digest_of.pop((tenant, session_id), None)
        if old is not None and self.by_digest.get((tenant, old)) == session_id:
            del self.by_digest[(tenant, old)]


def continuations(request: Request) -> Continuations:
    state = request.app.state
    found = getattr(state, "continuations", None)
    if found is None:
        found = state.continuations = Continuations()
    assert isinstance(found, Continuations)
    return found


class ApiTurn:
    """One leased turn of a stateless request: its wire events, and what its client will see
    remembered once it ends well."""

    def __init__(
        self,
        state: ServerState,
        known: Continuations,
        tenant: Tenant,
        history: History,
        name: str | None,
        conversation: Conversation,
        turn: TurnRequest,
    ) -> None:
        self.state = state
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

    async def events(self) -> AsyncIterator[WireEvent]:
        """``session``, the turn's events, ``result`` (see ``turns.turn_events``)."""
        newest = self.history.newest
        content = list(newest.blocks) if newest.has_images else None
        # An async generator: closing it early (a client gone) interrupts the turn.
        events = cast(
            "AsyncGenerator[WireEvent, None]",
            turn_events(self.conversation, newest.text, self.turn, self.state.metrics, content),
        )
        async with contextlib.aclosing(events) as stream:
            async for event in stream:
                kind = event["type"]
                if kind == "content_block_delta" and event["parent_tool_use_id"] is None:
                    self.answer.append(event["delta"].get("text", ""))
                elif kind == "result":
                    self._settle(event)
                yield event

    def _settle(self, result: WireEvent) -> None:
        tenant = self.tenant.name
        session_id = result.get("session_id") or self.conversation.session_id
        if not session_id:
            return
        if result["is_error"] or result["interrupted"]:
            # The session now holds a turn its client did not see: no history continues it.
            self.known.forget(tenant, session_id)
            return
        self.known.remember(
            tenant, session_id, self.history.digest_with_answer(self.text), self.history.turns
        )
        engine = self.conversation.engine
        if not self.known.models and engine is not None:
            self.known.models = list(engine.models)
        if self.name is not None:
            self.known.named[(tenant, self.name)] = _Named(session_id, self.history.system or "")

    @property
    def text(self) -> str:
        return "".join(self.answer)

    def release(self) -> None:
        self.state.pool.release(self.conversation)


async def open_turn(
    request: Request, tenant: Tenant, history: History, model: str | None, name: str | None
) -> ApiTurn:
    """Find or seed the session of ``history`` and lease its process for the newest message.
    ``name``: the client's name for the conversation, if it gives one."""
    received_at = time.monotonic()
    state = server_state(request)
    known = continuations(request)
    try:
        credentials = request_credentials(request.headers, tenant)
    except ValueError as exc:
        raise ApiError(400, str(exc)) from None
    session_id = _held_session(known, tenant, history, name)
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
                known.forget(tenant.name, session_id)
            elif not (exc.status == 409 and name is None):
                raise
            # 409: another client whose history reads the same holds that session's turn;
            # this one goes on in a copy of the history instead of waiting.
            session_id = None
            continue
        return ApiTurn(state, known, tenant, history, name, conversation, turn)
    raise AssertionError("unreachable")


def _held_session(
    known: Continuations, tenant: Tenant, history: History, name: str | None
) -> str | None:
    if name is None:
        return known.continued(tenant.name, history)
    named = known.named.get((tenant.name, name))
    if named is None or named.system != (history.system or ""):
        return None  # a new name, or a new system message: a new session
    return named.session_id


async def _seed(
    state: ServerState, known: Continuations, tenant: Tenant, history: History, model: str | None
) -> str:
    """A new session holding ``history`` before its newest message: forked from the session
    whose client saw the longest part of it (so that part keeps Claude Code's own record, tool
    calls and all), the rest written after it; or written whole."""
    config_dir = state.settings.claude_config_dir(tenant.name)
    cwd = tenant.cwd or state.settings.cwd
    point = known.fork_point(tenant.name, history)
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
    known = continuations(request)
    async with known.models_lock:
        if not known.models:
            known.models = await _ask_models(server_state(request), tenant, request)
    return known.models


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
    """The HTTP error a client of these APIs gets for a turn that failed: the model API's
    own rate limit and overload as such (clients back off), anything else as a bad gateway."""
    message = str(error["message"]) if error else "the turn failed"
    status = error.get("status") if error else None
    if status == 429:
        return ApiError(429, message, retry_after=5)
    if status in (503, 529):
        return ApiError(503, message, retry_after=5)
    return ApiError(502, f"Claude Code: {message}")
