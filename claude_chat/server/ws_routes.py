"""``GET /v1/chat/ws``: a WebSocket holding one conversation at a time, for many turns.

The client sends ``message``, ``interrupt``, ``set_model`` and ``permission`` objects; the
server sends the same events as the SSE stream (as JSON objects with a ``type``), and
``permission_request`` when Claude Code asks whether a tool may run. A browser, which cannot
send an ``Authorization`` header, sends ``{"type": "auth", "key": "…"}`` first.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from claude_chat.engine.config import PERMISSION_MODES, PermissionMode
from claude_chat.engine.events import PermissionDecision, PermissionRequest
from claude_chat.server.auth import Credentials, Tenant, request_credentials
from claude_chat.server.bodies import checked_session_id
from claude_chat.server.cluster import FORWARDED_HEADER, SocketTurn
from claude_chat.server.errors import ERROR_TYPES, ApiError, log
from claude_chat.server.pool import Conversation, TurnRequest
from claude_chat.server.protocol import WireEvent, encode, error_event
from claude_chat.server.state import ServerState, server_state
from claude_chat.server.turns import turn_events

router = APIRouter()

AUTH_TIMEOUT_S = 10.0
# Close codes: the policy was violated (no or a wrong key).
POLICY_VIOLATION = 1008


class _Refused(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@router.websocket("/v1/chat/ws")
async def chat_socket(socket: WebSocket) -> None:
    state = server_state(socket)
    await socket.accept()
    try:
        tenant, credentials = await _authenticate(socket, state)
    except _Refused as refused:
        with contextlib.suppress(Exception):
            await socket.send_text(encode(_refusal(refused.status, refused.message)))
            await socket.close(POLICY_VIOLATION)
        return
    except WebSocketDisconnect:
        return
    await SocketChat(socket, state, tenant, credentials).run()


async def _authenticate(socket: WebSocket, state: ServerState) -> tuple[Tenant, Credentials]:
    header = socket.headers.get("authorization")
    fields: dict[str, Any] = {}
    if header:
        tenant = state.keyring.tenant_for_header(header)
        if tenant is None:
            raise _Refused(401, "wrong server key")
    else:
        try:
            raw = await asyncio.wait_for(socket.receive_text(), AUTH_TIMEOUT_S)
        except asyncio.TimeoutError:
            raise _Refused(401, "send Authorization: Bearer <key>, or an auth message") from None
        fields = _parse(raw)
        if fields.get("type") != "auth" or not isinstance(fields.get("key"), str):
            raise _Refused(401, 'the first message must be {"type": "auth", "key": "…"}')
        tenant = state.keyring.tenant_for(fields["key"])
        if tenant is None:
            raise _Refused(401, "wrong server key")
    headers = dict(socket.headers)
    # A browser passes its Claude credential in the auth message, as it cannot set headers.
    for field, header_name in (("oauth_token", "x-claude-code-oauth-token"),
                               ("api_key", "x-anthropic-api-key")):  # fmt: skip
        value = fields.get(field)
        if isinstance(value, str) and value:
            headers[header_name] = value
    try:
        return tenant, request_credentials(headers, tenant)
    except ValueError as exc:
        raise _Refused(400, str(exc)) from None


def _parse(raw: str) -> dict[str, Any]:
    try:
        message = json.loads(raw)
    except ValueError:
        raise _Refused(400, "malformed JSON: each message is one JSON object") from None
    if not isinstance(message, dict):
        raise _Refused(400, "each message is one JSON object with a type")
    return message


def _refusal(status: int, message: str, retry_after: float | None = None) -> WireEvent:
    event = error_event(ERROR_TYPES.get(status, "api_error"), message, status)
    if retry_after is not None:
        # What an HTTP client reads from Retry-After (429, 503): when to try again.
        event["retry_after"] = max(1, round(retry_after))
    return event


class SocketChat:
    """One socket: its conversation, the turn running on it, its open permission requests."""

    def __init__(
        self, socket: WebSocket, state: ServerState, tenant: Tenant, credentials: Credentials
    ) -> None:
        self.socket = socket
        self.state = state
        self.tenant = tenant
        self.credentials = credentials
        self.session_id: str | None = None
        self.model: str | None = None
        self.permission_mode: PermissionMode | None = None
        self.turn: asyncio.Task[None] | None = None
        self.conversation: Conversation | None = None
        self.questions: dict[str, asyncio.Future[PermissionDecision]] = {}
        self._sending = asyncio.Lock()
        # With other nodes: a turn for a session another node owns is relayed to it, unless
        # this socket is itself such a relay.
        cluster = state.pool.cluster
        relayed = FORWARDED_HEADER in socket.headers
        self.relay = SocketTurn(cluster) if cluster is not None and not relayed else None

    async def run(self) -> None:
        try:
            while True:
                raw = await self.socket.receive_text()
                try:
                    await self._handle(_parse(raw))
                except _Refused as refused:
                    await self.send(_refusal(refused.status, refused.message))
        except (WebSocketDisconnect, RuntimeError):
            pass  # gone (RuntimeError: a frame after the close)
        finally:
            for question in self.questions.values():
                if not question.done():
                    question.set_result(PermissionDecision("deny", "the client went away"))
            if self.turn is not None:
                self.turn.cancel()
                await asyncio.gather(self.turn, return_exceptions=True)

    async def send(self, event: WireEvent) -> None:
        async with self._sending:
            await self.socket.send_text(encode(event))

    async def _handle(self, message: dict[str, Any]) -> None:
        kind = message.get("type")
        if kind == "message":
            self._start_turn(message)
        elif (
            kind in ("interrupt", "permission") and self.relay and await self.relay.pass_on(message)
        ):
            pass
        elif kind == "interrupt":
            conversation = self.conversation
            if conversation is not None and conversation.engine is not None:
                await conversation.engine.interrupt()
        elif kind == "set_model":
            model = message.get("model")
            if not isinstance(model, str) or not model:
                raise _Refused(400, "set_model needs a model name")
            self.model = model
        elif kind == "permission":
            self._answer(message)
        elif kind == "auth":
            pass  # already authenticated (by header): nothing to do
        else:
            raise _Refused(
                400, f"unknown message type {str(kind)[:40]!r}: message, interrupt, set_model or "
                "permission",
            )  # fmt: skip

    def _start_turn(self, message: dict[str, Any]) -> None:
        if self.turn is not None and not self.turn.done():
            raise _Refused(409, "a turn is still running on this socket; wait for its result")
        text = message.get("text")
        if not isinstance(text, str) or not text:
            raise _Refused(400, "text: a message needs its text")
        if "session_id" in message:
            session_id = message["session_id"]
            if session_id is not None and not isinstance(session_id, str):
                raise _Refused(400, "session_id: not a session id (a UUID)")
            try:
                self.session_id = checked_session_id(session_id)
            except ValueError as exc:
                raise _Refused(400, f"session_id: {exc}") from None
        model = message.get("model")
        if model is not None:
            if not isinstance(model, str) or not model:
                raise _Refused(400, "model: a model name")
            self.model = model
        mode = message.get("permission_mode")
        if mode is not None:
            if mode not in PERMISSION_MODES:
                raise _Refused(400, f"permission_mode: one of {', '.join(PERMISSION_MODES)}")
            if mode == "bypassPermissions" and self.state.settings.permission_mode != mode:
                raise _Refused(403, "permission_mode: bypassPermissions only if the server has it")
            self.permission_mode = mode
        request = TurnRequest(
            self.session_id,
            self.credentials,
            self.model,
            self.permission_mode,
            received_at=time.monotonic(),
        )
        self.turn = asyncio.get_running_loop().create_task(self._turn(text, request))

    async def _turn(self, text: str, request: TurnRequest) -> None:
        pool = self.state.pool
        if self.relay is not None:
            owner = await self.relay.owner(self.tenant.name, request.session_id)
            message = {
                "type": "message",
                "text": text,
                "session_id": request.session_id,
                "model": request.model,
                "permission_mode": request.permission_mode,
            }
            if owner is not None and await self.relay.run(
                owner, self.tenant, self.credentials, message, self.send
            ):
                return
        try:
            conversation = await pool.acquire(self.tenant, request, self._ask)
        except ApiError as exc:
            await self.send(_refusal(exc.status, exc.message, exc.retry_after))
            return
        except Exception as exc:
            log.error("a WebSocket turn could not start", exc_info=exc)
            await self.send(_refusal(500, "internal error; the socket goes on"))
            return
        self.conversation = conversation
        try:
            async for event in turn_events(conversation, text, request, self.state.metrics):
                if event["type"] in ("session", "result") and event["session_id"]:
                    self.session_id = event["session_id"]
                await self.send(event)
        except (WebSocketDisconnect, RuntimeError, asyncio.TimeoutError):
            pass  # the client is gone: the turn was interrupted on the way out
        finally:
            self.conversation = None
            pool.release(conversation)

    async def _ask(self, request: PermissionRequest) -> PermissionDecision:
        question_id = uuid.uuid4().hex
        answer: asyncio.Future[PermissionDecision] = asyncio.get_running_loop().create_future()
        self.questions[question_id] = answer
        timeout = self.state.settings.permission_timeout_s
        try:
            await self.send(
                {
                    "type": "permission_request",
                    "id": question_id,
                    "tool": request.name,
                    "input": request.input,
                }
            )
            return await asyncio.wait_for(answer, timeout)
        except asyncio.TimeoutError:
            return PermissionDecision(
                "deny", f"no answer to the permission request in {timeout:g} s"
            )
        finally:
            self.questions.pop(question_id, None)

    def _answer(self, message: dict[str, Any]) -> None:
        question = self.questions.get(str(message.get("id")))
        if question is None or question.done():
            raise _Refused(404, "no open permission request with this id")
        allow = message.get("allow")
        if not isinstance(allow, bool):
            raise _Refused(400, "allow: true or false")
        reason = message.get("message")
        if allow:
            always = message.get("always") is True
            question.set_result(PermissionDecision("always" if always else "once"))
        else:
            question.set_result(
                PermissionDecision("deny", reason if isinstance(reason, str) and reason else "")
            )
