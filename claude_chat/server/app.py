"""The ASGI app: routes, JSON errors, the body size limit, and the pool's lifespan."""

from __future__ import annotations

import asyncio
import contextlib
import importlib
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING

from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from claude_chat import __version__
from claude_chat.server import (
    anthropic_api,
    chat_routes,
    errors,
    models_api,
    openai_api,
    ops_routes,
    page_routes,
    session_routes,
    ws_routes,
)
from claude_chat.server.auth import Keyring
from claude_chat.server.metrics import Metrics
from claude_chat.server.pool import Pool
from claude_chat.server.settings import ServerSettings
from claude_chat.server.state import ServerState

if TYPE_CHECKING:
    from claude_agent_sdk._internal.transport import Transport


def create_app(
    settings: ServerSettings,
    keyring: Keyring,
    transport_factory: Callable[[], Transport] | None = None,
    on_ready: Callable[[], None] | None = None,
) -> FastAPI:
    """``transport_factory`` replaces each Claude Code process (tests, benchmarks);
    ``on_ready`` is called once the app has started."""
    metrics = Metrics()
    cluster = None
    if settings.cluster is not None:
        from claude_chat.server.cluster import Cluster

        cluster = Cluster(settings.cluster, metrics)
    pool = Pool(settings, metrics, transport_factory, cluster)
    state = ServerState(settings, keyring, pool, metrics)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # The SDK takes about a second to import: here, not in the first request's wait.
        await asyncio.to_thread(importlib.import_module, "claude_chat.engine.translate")
        pool.start()
        if cluster is not None:
            cluster.start()
        if on_ready is not None:
            on_ready()
        try:
            yield
        finally:
            await pool.close()
            if cluster is not None:
                await cluster.close()

    app = FastAPI(
        title="claude-chat",
        version=__version__,
        description="Continuous Claude Code conversations over SSE and WebSocket.",
        lifespan=lifespan,
    )
    app.state.server = state
    errors.install(app)
    routers = (chat_routes, ws_routes, session_routes, ops_routes, page_routes)
    for module in (*routers, openai_api, anthropic_api, models_api):
        app.include_router(module.router)
    if cluster is not None:
        from claude_chat.server.cluster import Forwarding

        # Inside the body limit, which hands it the body whole.
        app.add_middleware(Forwarding, cluster=cluster, keyring=keyring)
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    return app


class BodyLimit:
    """413 for a request body over ``max_bytes``, chunked or not, before any route reads it."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "DELETE", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.max_bytes:
            await self._refuse(scope, receive, send, more_body=True)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # gone before the body arrived
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await self._refuse(scope, receive, send, message.get("more_body", False))
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body: list[Message] = [{"type": "http.request", "body": b"".join(chunks)}]

        async def replay() -> Message:
            # The body once, then the client's own messages (a disconnect, for streams).
            return body.pop() if body else await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, more_body: bool) -> None:
        # A client still sending when the answer comes sees a reset, not the 413: take (and
        # drop) a bounded amount of the rest first.
        dropped = 0
        while more_body and dropped < 16 * self.max_bytes:
            message = await receive()
            if message["type"] != "http.request":
                return
            dropped += len(message.get("body", b""))
            more_body = message.get("more_body", False)
        response = errors.error_response(
            413, f"the request body is over {self.max_bytes} bytes", {"Connection": "close"}
        )
        await response(scope, receive, send)
