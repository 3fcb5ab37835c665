"""A conversation held by a claude-chat server (``claude-chat serve``), with the local client's
interface: moving a program from its own Claude Code process to a server is one line.

    from claude_chat import RemoteChatClient, TextDelta

    with RemoteChatClient("http://127.0.0.1:8765", key) as chat:
        for event in chat.send("Hello!"):
            if isinstance(event, TextDelta):
                print(event.text, end="", flush=True)

One WebSocket (``/v1/chat/ws``) carries every turn of the conversation. A connection lost in
the middle of a turn ends that turn with one ``TurnError``; the next ``send`` connects again
and goes on in the same session. What the server refuses, and a server that cannot be reached,
are ``RemoteError`` exceptions carrying the HTTP status.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import json
import logging
import time
from collections.abc import AsyncGenerator, Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Any, get_args
from urllib.parse import urlsplit, urlunsplit

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus, InvalidURI
from websockets.protocol import State

from claude_chat.client_base import OnChunk, OnComplete, OnError, SyncClient, TurnRunner
from claude_chat.engine.errors import ChatError
from claude_chat.engine.events import (
    ErrorKind,
    Event,
    PermissionDecision,
    PermissionRequest,
    SessionStarted,
    TextDelta,
    TurnError,
    TurnResult,
    event_from_dict,
)

OnPermission = Callable[[PermissionRequest], PermissionDecision | Awaitable[PermissionDecision]]

SOCKET_PATH = "/v1/chat/ws"
# A tool result can be far larger than the library's default of 1 MiB per message.
MAX_MESSAGE_BYTES = 64 * 1024 * 1024
DEFAULT_RETRY_AFTER_S = 1.0
LOST_TURN_WAIT_S = 1.0
_TURN_ERROR_KINDS = frozenset(get_args(ErrorKind))
_log = logging.getLogger("claude_chat.remote")


class RemoteError(ChatError):
    """The server refused (``status`` as HTTP has it), or could not be reached (None)."""

    def __init__(
        self, message: str, status: int | None = None, retry_after: float | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after


class RemoteConnectionError(RemoteError):
    """No connection to the server (refused, unresolvable, timed out)."""


class RemoteAuthError(RemoteError):
    """401: a missing or wrong server key."""


class RemoteNotFoundError(RemoteError):
    """404: no such session for this key (another tenant's looks the same)."""


class RemoteConflictError(RemoteError):
    """409: this session's previous turn is still running."""


class RemoteRateLimitError(RemoteError):
    """429: the key runs as many turns as it may, even after waiting ``Retry-After`` once."""


class RemoteOverloadedError(RemoteError):
    """503: every Claude Code process of the server stayed busy, or it is shutting down."""


_ERRORS: dict[int, type[RemoteError]] = {
    401: RemoteAuthError,
    404: RemoteNotFoundError,
    409: RemoteConflictError,
    429: RemoteRateLimitError,
    503: RemoteOverloadedError,
}


def remote_error(status: int, message: str, retry_after: float | None = None) -> RemoteError:
    cls = _ERRORS.get(status, RemoteError)
    return cls(f"the claude-chat server says {status}: {message}", status, retry_after)


class _Refused(Exception):
    """The server refused the message before the turn began."""

    def __init__(self, error: RemoteError) -> None:
        super().__init__(str(error))
        self.error = error


class AsyncRemoteChatClient(TurnRunner):
    """One conversation on a claude-chat server, for asyncio code.

    ``AsyncRemoteChatClient(base_url, key, session_id=..., model=..., permission_mode=...,
    api_key=... or oauth_token=..., on_chunk=..., on_complete=..., on_error=...,
    on_permission=...)``. ``key`` is the server's key for a tenant; ``api_key`` or
    ``oauth_token``, if given, are the Claude credentials this conversation runs on instead
    of the tenant's. ``on_permission(request)`` returns (or, if async, resolves to) a
    ``PermissionDecision`` when Claude Code asks whether a tool may run; without it the tool is
    denied.
    """

    def __init__(
        self,
        base_url: str,
        key: str,
        *,
        session_id: str | None = None,
        model: str | None = None,
        permission_mode: str | None = None,
        api_key: str | None = None,
        oauth_token: str | None = None,
        on_chunk: OnChunk | None = None,
        on_complete: OnComplete | None = None,
        on_error: OnError | None = None,
        on_permission: OnPermission | None = None,
        open_timeout: float = 30.0,
    ) -> None:
        super().__init__(on_chunk, on_complete, on_error)
        self.url = socket_url(base_url)
        self.on_permission = on_permission
        self.open_timeout = open_timeout
        self._headers = {"Authorization": f"Bearer {key}"}
        if api_key:
            self._headers["X-Anthropic-Api-Key"] = api_key
        if oauth_token:
            self._headers["X-Claude-Code-OAuth-Token"] = oauth_token
        self._session_id = session_id
        self._model = model
        self._requested_model = model
        self._permission_mode = permission_mode
        self._socket: ClientConnection | None = None
        # The last turn ended with its connection lost (the server may still be ending it).
        self._lost_turn = False

    def __repr__(self) -> str:  # never the key
        return f"AsyncRemoteChatClient({self.url!r}, session_id={self._session_id!r})"

    @property
    def session_id(self) -> str | None:
        """Known once the first turn has started (or given)."""
        return self._session_id

    @property
    def model(self) -> str | None:
        """The model of the last turn, or the one asked for until a turn says."""
        return self._model

    async def start(self) -> None:
        """Connect now rather than with the first ``send``."""
        await self._connected()

    async def interrupt(self) -> None:
        """Stop the running turn; what arrived stays, the next turn has the context."""
        socket = self._socket
        if self.turn_running and socket is not None:
            await _send(socket, {"type": "interrupt"})

    async def set_model(self, name: str) -> str:
        """Switch model for the next turns. The server resolves the name when the next turn
        starts, so this returns it as given; ``model`` has the full name after that turn."""
        self._requested_model = name
        socket = self._socket
        if socket is not None:
            await _send(socket, {"type": "set_model", "model": name})
        return name

    async def close(self) -> None:
        """Close the connection; a running turn is interrupted first."""
        if self.turn_running:
            await self.interrupt()
            await self._wait_for_turn(20)
        socket, self._socket = self._socket, None
        if socket is not None:
            await socket.close()

    async def _connected(self) -> ClientConnection:
        socket = self._socket
        if socket is not None and socket.state is State.OPEN:
            return socket
        self._socket = None
        try:
            self._socket = await connect(
                self.url,
                additional_headers=self._headers,
                open_timeout=self.open_timeout,
                max_size=MAX_MESSAGE_BYTES,
                logger=_socket_log,
            )
        except InvalidStatus as exc:
            response = exc.response
            raise remote_error(
                response.status_code,
                _error_message(response.body) or response.reason_phrase,
                _seconds(response.headers.get("Retry-After")),
            ) from None
        except (OSError, asyncio.TimeoutError, InvalidHandshake, InvalidURI) as exc:
            raise RemoteConnectionError(
                f"cannot reach the claude-chat server at {self.url}: {exc or type(exc).__name__}"
            ) from None
        return self._socket

    async def _turn_events(self, text: str, sent_at: float) -> AsyncGenerator[Event, None]:
        waited_for_rate_limit = False
        conflicts = 0
        while True:
            socket = await self._connected()
            try:
                await _send(socket, self._message(text))
                async for event in self._receive_turn(socket, text, sent_at):
                    yield event
                return
            except _Refused as refused:
                error = refused.error
            if isinstance(error, RemoteAuthError):
                self._socket = None
                await socket.close()
            if isinstance(error, RemoteRateLimitError) and not waited_for_rate_limit:
                waited_for_rate_limit = True
                await asyncio.sleep(error.retry_after or DEFAULT_RETRY_AFTER_S)
            elif isinstance(error, RemoteConflictError) and self._lost_turn and conflicts < 10:
                # The server may still be winding down the turn whose connection was lost.
                conflicts += 1
                await asyncio.sleep(LOST_TURN_WAIT_S)
            else:
                raise error

    def _message(self, text: str) -> dict[str, Any]:
        message: dict[str, Any] = {"type": "message", "text": text}
        # Every time, so that a new connection (after a lost one) goes on as the old did.
        if self._session_id is not None:
            message["session_id"] = self._session_id
        if self._requested_model is not None:
            message["model"] = self._requested_model
        if self._permission_mode is not None:
            message["permission_mode"] = self._permission_mode
        return message

    async def _receive_turn(
        self, socket: ClientConnection, text: str, sent_at: float
    ) -> AsyncGenerator[Event, None]:
        started = False
        answer: list[str] = []
        error: TurnError | None = None
        while True:
            try:
                raw = await socket.recv()
            except (ConnectionClosed, OSError) as exc:
                self._socket = None
                self._lost_turn = True
                lost = TurnError(
                    "other",
                    f"the connection to the claude-chat server was lost in the middle of the "
                    f"turn ({_why_closed(exc)}); the next message connects again",
                )
                yield lost
                yield TurnResult(
                    self._session_id,
                    self._model,
                    is_error=True,
                    interrupted=False,
                    duration_s=time.monotonic() - sent_at,
                    error=lost,
                    answer="".join(answer),
                    prompt=text,
                )
                return
            try:
                item = _read(json.loads(raw))
            except (ValueError, KeyError, TypeError, AttributeError) as exc:
                _log.warning("skipped a message of the server this client cannot read: %r", exc)
                continue
            if isinstance(item, RemoteError):
                if not started:
                    raise _Refused(item)
                # A refused answer to a permission request that had timed out, say.
                _log.warning("%s", item)
            elif isinstance(item, _PermissionAsk):
                await self._answer_permission(socket, item)
            elif isinstance(item, SessionStarted):
                started = True
                self._lost_turn = False
                self._session_id = item.session_id or self._session_id
                self._model = item.model or self._model
                yield replace(item, permission_mode=self._permission_mode or "")
            elif isinstance(item, TurnResult):
                self._session_id = item.session_id or self._session_id
                self._model = item.model or self._model
                yield replace(item, error=error, answer="".join(answer), prompt=text)
                return
            elif item is not None:
                if isinstance(item, TurnError):
                    error = error or item
                elif isinstance(item, TextDelta) and item.parent_tool_use_id is None:
                    answer.append(item.text)
                yield item

    async def _answer_permission(self, socket: ClientConnection, ask: _PermissionAsk) -> None:
        decision = PermissionDecision("deny", "this client answers no permission requests")
        if self.on_permission is not None:
            try:
                decision = await _decided(self.on_permission, ask.request)
            except Exception:
                _log.exception("claude-chat on_permission %r failed", self.on_permission)
                decision = PermissionDecision("deny", "the client's permission callback failed")
        answer: dict[str, Any] = {
            "type": "permission",
            "id": ask.id,
            "allow": decision.choice != "deny",
        }
        if decision.choice == "always":
            answer["always"] = True
        if decision.message:
            answer["message"] = decision.message
        await _send(socket, answer)
        if decision.choice == "deny" and decision.interrupt:
            await _send(socket, {"type": "interrupt"})


@dataclass(frozen=True)
class _PermissionAsk:
    id: str
    request: PermissionRequest


def _read(data: dict[str, Any]) -> Event | RemoteError | _PermissionAsk | None:
    """One message of the server as what it means here: an event of the turn, a refusal of
    what was sent, a permission question, or None (a newer server's, unknown here)."""
    kind = data.get("type")
    if kind == "session":
        return SessionStarted(data.get("session_id") or "", data.get("model") or "", "", "")
    if kind == "error" and data.get("kind") not in _TURN_ERROR_KINDS:
        return remote_error(
            int(data.get("status") or 500),
            str(data.get("message", "")),
            _seconds(data.get("retry_after")),
        )
    if kind == "error":
        return TurnError(data["kind"], str(data.get("message", "")), data.get("status"))
    if kind == "result":
        return event_from_dict({**data, "type": "turn_result"})
    if kind == "permission_request":
        request = PermissionRequest(None, str(data["tool"]), dict(data.get("input") or {}))
        return _PermissionAsk(str(data["id"]), request)
    return event_from_dict(data)


class RemoteChatClient(SyncClient[AsyncRemoteChatClient]):
    """``AsyncRemoteChatClient`` for code without asyncio: the same options and callbacks.

    Its asyncio loop runs in one thread of its own (callbacks are called there); ``send``
    returns a plain iterator fed from it.
    """

    def __init__(
        self,
        base_url: str,
        key: str,
        *,
        on_chunk: OnChunk | None = None,
        on_complete: OnComplete | None = None,
        on_error: OnError | None = None,
        on_permission: OnPermission | None = None,
        **options: Any,
    ) -> None:
        super().__init__(
            lambda: AsyncRemoteChatClient(
                base_url,
                key,
                on_chunk=on_chunk,
                on_complete=on_complete,
                on_error=on_error,
                on_permission=on_permission,
                **options,
            )
        )


def socket_url(base_url: str) -> str:
    """``http(s)://host:port[/prefix]`` (or ``ws(s)://``) as the server's WebSocket URL."""
    parts = urlsplit(base_url)
    scheme = {"http": "ws", "https": "wss", "ws": "ws", "wss": "wss"}.get(parts.scheme)
    if scheme is None or not parts.netloc:
        raise ValueError(f"not a server URL (http://host:port): {base_url!r}")
    path = parts.path.rstrip("/")
    if not path.endswith(SOCKET_PATH):
        path += SOCKET_PATH
    return urlunsplit((scheme, parts.netloc, path, "", ""))


async def _decided(on_permission: OnPermission, request: PermissionRequest) -> PermissionDecision:
    if inspect.iscoroutinefunction(on_permission):
        decision = await on_permission(request)
    else:
        # A person may take a while to answer: off the loop, so that the socket keeps
        # answering the server's pings meanwhile.
        decision = await asyncio.to_thread(on_permission, request)
        if inspect.isawaitable(decision):
            decision = await decision
    if not isinstance(decision, PermissionDecision):
        raise TypeError(f"on_permission returned {decision!r}, not a PermissionDecision")
    return decision


async def _send(socket: ClientConnection, message: dict[str, Any]) -> None:
    # A lost connection is reported once, by the side that receives.
    with contextlib.suppress(ConnectionClosed):
        await socket.send(json.dumps(message, ensure_ascii=False))


def _why_closed(exc: BaseException) -> str:
    if isinstance(exc, ConnectionClosed):
        close = exc.rcvd or exc.sent
        if close is None:
            return "no close frame"
        return f"closed with code {close.code}" + (f": {close.reason}" if close.reason else "")
    return str(exc) or type(exc).__name__


def _error_message(body: bytes | bytearray | None) -> str:
    """The message of the server's ``{"error": {"message": …}}`` body, if it is one."""
    try:
        return str(json.loads(body or b"")["error"]["message"])
    except (ValueError, KeyError, TypeError):
        return ""


def _seconds(value: object) -> float | None:
    try:
        return max(0.0, float(value)) if value is not None else None  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


class _NoCredentials(logging.Filter):
    """The WebSocket library logs the handshake's headers at debug level: not these."""

    SECRET_HEADERS = frozenset(
        {"authorization", "x-anthropic-api-key", "x-claude-code-oauth-token"}
    )

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if (
            isinstance(args, tuple)
            and len(args) == 2
            and str(args[0]).lower() in self.SECRET_HEADERS
        ):
            record.args = (args[0], "<redacted>")
        return True


_socket_log = logging.getLogger("claude_chat.remote.websocket")
_socket_log.addFilter(_NoCredentials())
