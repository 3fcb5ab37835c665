"""The Claude Code processes of every conversation on the server, at most ``max_processes``.

A conversation holds a process while it is live; an idle one is closed after the idle timeout,
or earlier when the pool is full and another conversation needs room (least recently used
first). Its next message starts a process resuming the session, context intact. A turn that
finds every process busy waits up to the queue timeout, then gets 503.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from claude_chat.engine.config import ChatConfig, PermissionMode
from claude_chat.engine.engine import ChatEngine
from claude_chat.engine.events import PermissionDecision, PermissionRequest
from claude_chat.server.auth import Credentials, Tenant
from claude_chat.server.errors import ApiError
from claude_chat.server.metrics import Metrics
from claude_chat.server.settings import ServerSettings
from claude_chat.store import sessions

if TYPE_CHECKING:
    from claude_agent_sdk._internal.transport import Transport

    from claude_chat.server.cluster import Cluster

AskPermission = Callable[[PermissionRequest], Awaitable[PermissionDecision]]

NOBODY_TO_ASK = (
    "denied: this request cannot answer permission prompts; use the WebSocket endpoint, "
    "or a server --permission-mode that allows the tool"
)


@dataclass(frozen=True)
class TurnRequest:
    session_id: str | None
    credentials: Credentials
    model: str | None = None
    permission_mode: PermissionMode | None = None
    # Added to Claude Code's system prompt when this request starts the session's process.
    system_prompt: str | None = None
    # When the request arrived (time.monotonic()): what the client waits from.
    received_at: float = 0.0


class Conversation:
    """One session of one tenant, and its Claude Code process while it has one."""

    def __init__(self, tenant: Tenant, session_id: str | None, cwd: Path) -> None:
        self.tenant = tenant
        self.session_id = session_id
        self.cwd = cwd
        self.engine: ChatEngine | None = None
        self.credentials = Credentials()
        self.busy = False
        self.last_used = time.monotonic()

    @property
    def idle(self) -> bool:
        """Live, and neither leased nor still winding down a turn its client left."""
        return self.engine is not None and not self.busy and not self.engine.busy


async def _deny(request: PermissionRequest) -> PermissionDecision:
    return PermissionDecision("deny", NOBODY_TO_ASK)


class Pool:
    def __init__(
        self,
        settings: ServerSettings,
        metrics: Metrics,
        transport_factory: Callable[[], Transport] | None = None,
        cluster: Cluster | None = None,
    ) -> None:
        self.settings = settings
        self.metrics = metrics
        self._transport_factory = transport_factory
        # With other nodes: sessions in Redis, one lease per session (see cluster.py).
        self.cluster = cluster
        if cluster is not None:
            cluster.on_lost = lambda conversation: self._close(conversation, "lease")
        # Conversations with a process or a turn, by tenant and session id.
        self._known: dict[tuple[str, str], Conversation] = {}
        # The same, and those whose session id Claude Code has not given yet.
        self._conversations: set[Conversation] = set()
        self._live = 0  # processes running or reserved
        self._active: Counter[str] = Counter()  # turns per tenant, running or waiting
        self._waiters: list[asyncio.Future[None]] = []
        self._reaper: asyncio.Task[None] | None = None
        self._closing: set[asyncio.Task[None]] = set()
        self.draining = False

    # -- what the routes use ---------------------------------------------------------------

    @property
    def live(self) -> int:
        return self._live

    @property
    def busy(self) -> int:
        return sum(1 for c in self._conversations if c.busy)

    async def acquire(
        self, tenant: Tenant, request: TurnRequest, ask: AskPermission | None = None
    ) -> Conversation:
        """The conversation of ``request``, leased for one turn, with its process started (or
        starting). ``release`` it when the turn ends. ApiError 404, 409, 429 or 503."""
        try:
            return await self._acquire(tenant, request, ask)
        except ApiError as exc:
            # Refusals for want of room are what an operator sizes a node by.
            if exc.status in (429, 503):
                self.metrics.rejections.labels(str(exc.status)).inc()
            raise

    async def _acquire(
        self, tenant: Tenant, request: TurnRequest, ask: AskPermission | None
    ) -> Conversation:
        if self.draining:
            raise ApiError(503, "the server is shutting down", retry_after=5)
        conversation = await self._find(tenant, request.session_id)
        # (A turn its client left may still be winding down: the next one waits for it.)
        if conversation.busy:
            raise ApiError(409, "this session's turn is still running; wait for its result")
        limit = tenant.max_concurrent
        if limit is not None and self._active[tenant.name] >= limit:
            raise ApiError(429, f"at most {limit} turns at once for this key", retry_after=1)
        conversation.busy = True
        self._active[tenant.name] += 1
        self._conversations.add(conversation)
        self._track(conversation)
        try:
            if self.cluster is not None:
                await self.cluster.enter(conversation)
            await self._give_process(conversation, request)
            assert conversation.engine is not None
            conversation.engine.ask_permission = ask or _deny
        except BaseException:
            self.release(conversation)
            raise
        self._report()
        return conversation

    def release(self, conversation: Conversation) -> None:
        if not conversation.busy:
            return
        conversation.busy = False
        conversation.last_used = time.monotonic()
        self._active[conversation.tenant.name] -= 1
        engine = conversation.engine
        if self.cluster is not None:
            self.cluster.leave(conversation)
        if engine is not None:
            engine.ask_permission = _deny
        if engine is None:
            if self.cluster is not None:
                self.cluster.release_soon(conversation)
            self._forget(conversation)
        elif engine.state == "failed":
            # It never started (bad credentials, no CLI): the next message tries afresh.
            closing = asyncio.get_running_loop().create_task(self._close(conversation, None))
            self._closing.add(closing)
            closing.add_done_callback(self._closing.discard)
        self._report()
        self._wake()

    async def close_session(self, tenant: Tenant, session_id: str) -> None:
        """Close the process of a session about to be deleted; 409 while it runs a turn."""
        found = self._known.get((tenant.name, session_id))
        if found is None:
            return
        if not found.idle and found.engine is not None:
            raise ApiError(409, "this session's turn is still running; wait for its result")
        await self._close(found, None)

    # -- finding a conversation ------------------------------------------------------------

    async def _find(self, tenant: Tenant, session_id: str | None) -> Conversation:
        default_cwd = tenant.cwd or self.settings.cwd
        if session_id is None:
            return Conversation(tenant, None, default_cwd)
        found = self._known.get((tenant.name, session_id))
        if found is not None:
            return found
        config_dir = self.settings.claude_config_dir(tenant.name)
        path = await asyncio.to_thread(sessions.find_session_file, session_id, config_dir)
        if path is None and self.cluster is not None:
            # Another node's session, in the store: it resumes from there.
            stored = await self.cluster.session_cwd(tenant, session_id, default_cwd)
            if stored is None:
                raise ApiError(404, f"no session {session_id}")
            return self._known.get((tenant.name, session_id)) or Conversation(
                tenant, session_id, stored
            )
        if path is None:
            raise ApiError(404, f"no session {session_id}")
        summary = await asyncio.to_thread(sessions.summarize, path)
        # Claude Code keeps a session with the directory it ran in and resumes it from there.
        recorded = Path(summary.cwd) if summary and summary.cwd else None
        cwd = recorded if recorded is not None and recorded.is_dir() else default_cwd
        # Someone else may have found it while this looked.
        return self._known.get((tenant.name, session_id)) or Conversation(tenant, session_id, cwd)

    def _track(self, conversation: Conversation) -> None:
        """Key the conversation by its session id, once Claude Code has given one."""
        self._wake()  # a turn may have ended (one its client left winds down on its own)
        if conversation not in self._conversations:
            return  # closed: its engine's last state change
        engine = conversation.engine
        session_id = (engine.session_id if engine else None) or conversation.session_id
        if session_id is None:
            return
        if conversation.session_id != session_id and conversation.session_id is not None:
            self._known.pop((conversation.tenant.name, conversation.session_id), None)
        conversation.session_id = session_id
        self._known[(conversation.tenant.name, session_id)] = conversation
        if self.cluster is not None and engine is not None:
            self.cluster.adopt(conversation)

    def _forget(self, conversation: Conversation) -> None:
        self._conversations.discard(conversation)
        if conversation.session_id is not None:
            key = (conversation.tenant.name, conversation.session_id)
            if self._known.get(key) is conversation:
                del self._known[key]

    # -- processes -------------------------------------------------------------------------

    async def _give_process(self, conversation: Conversation, request: TurnRequest) -> None:
        engine = conversation.engine
        if engine is not None and conversation.credentials != request.credentials:
            # Other credentials: they reach Claude Code only through a new process's
            # environment, so the session resumes in one.
            await self._close(conversation, None, keep=True)
            engine = None
        if engine is not None:
            self.metrics.queue_wait.observe(0.0)
            return
        if self.cluster is not None:
            # Ownership first: a session another node drives is not started here too.
            if conversation.session_id is not None:
                await self.cluster.resume(conversation)
            else:
                await self.cluster.check()
        waited_from = time.monotonic()
        await self._reserve(waited_from + self.settings.queue_timeout_s)
        self.metrics.queue_wait.observe(time.monotonic() - waited_from)
        reason = "resume" if conversation.session_id else "new"
        engine = ChatEngine(
            self._config(conversation, request),
            on_change=lambda: self._track(conversation),
            transport_factory=self._transport_factory,
        )
        conversation.engine = engine
        conversation.credentials = request.credentials
        self.metrics.process_starts.labels(reason).inc()
        engine.start()

    def _config(self, conversation: Conversation, request: TurnRequest) -> ChatConfig:
        settings = self.settings
        return ChatConfig(
            model=request.model,
            cwd=conversation.cwd,
            cli_path=settings.cli_path,
            permission_mode=request.permission_mode or settings.permission_mode,
            resume_session_id=conversation.session_id,
            system_prompt_append=request.system_prompt,
            env={"CLAUDE_CONFIG_DIR": str(settings.claude_config_dir(conversation.tenant.name))},
            api_key=request.credentials.api_key,
            oauth_token=request.credentials.oauth_token,
            session_store=self.cluster.store_for(conversation) if self.cluster else None,
        )

    async def _reserve(self, deadline: float) -> None:
        """Take a process slot: a free one, else one an idle process gives up, else wait."""
        while True:
            if self.draining:
                raise ApiError(503, "the server is shutting down", retry_after=5)
            if self._live < self.settings.max_processes:
                self._live += 1
                return
            idle = [c for c in self._conversations if c.idle]
            if idle:
                victim = min(idle, key=lambda c: c.last_used)
                await self._close(victim, "room")
                continue
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise ApiError(
                    503,
                    f"all {self.settings.max_processes} Claude Code processes are busy",
                    retry_after=max(1.0, self.settings.queue_timeout_s / 6),
                )
            await self._changed(remaining)

    async def _close(
        self, conversation: Conversation, reason: str | None, keep: bool = False
    ) -> None:
        """Close the conversation's process (counted as an eviction for ``reason``)."""
        engine, conversation.engine = conversation.engine, None
        if engine is None:
            return
        if not keep and not conversation.busy:
            self._forget(conversation)
        try:
            await engine.close()
            if self.cluster is not None and not keep:
                await self.cluster.release(conversation)
        finally:
            self._live -= 1
            if reason is not None:
                self.metrics.evictions.labels(reason).inc()
            self._report()
            self._wake()

    def _wake(self) -> None:
        for waiter in self._waiters:
            if not waiter.done():
                waiter.set_result(None)

    def _report(self) -> None:
        self.metrics.processes.labels("live").set(self._live)
        self.metrics.processes.labels("busy").set(
            sum(1 for c in self._conversations if c.engine is not None and not c.idle)
        )

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> None:
        self._reaper = asyncio.get_running_loop().create_task(self._reap())

    async def _reap(self) -> None:
        """Close processes idle for longer than the idle timeout."""
        timeout = self.settings.idle_timeout_s
        while True:
            await asyncio.sleep(min(max(timeout / 4, 0.05), 10.0))
            now = time.monotonic()
            for conversation in [c for c in self._conversations if c.idle]:
                if now - conversation.last_used >= timeout:
                    await self._close(conversation, "idle")

    async def drain(self) -> None:
        """Refuse new turns, let running ones finish within the grace period, then interrupt
        the rest and wait for them to end."""
        self.draining = True
        self._wake()
        await self._until_quiet(time.monotonic() + self.settings.shutdown_grace_s)
        running = [c.engine for c in self._conversations if c.engine is not None and c.engine.busy]
        await asyncio.gather(*(engine.interrupt() for engine in running), return_exceptions=True)
        await self._until_quiet(time.monotonic() + 10.0)

    async def _until_quiet(self, deadline: float) -> None:
        while self._running() and (remaining := deadline - time.monotonic()) > 0:
            await self._changed(remaining)

    async def _changed(self, timeout: float) -> None:
        """Wait until a process or a lease changes (or ``timeout`` passes)."""
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(waiter, timeout)
        finally:
            self._waiters.remove(waiter)

    def _running(self) -> bool:
        return any(c.busy or (c.engine is not None and c.engine.busy) for c in self._conversations)

    async def close(self) -> None:
        """Close every process."""
        self.draining = True
        self._wake()
        if self._reaper is not None:
            self._reaper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reaper
        await asyncio.gather(
            *self._closing,
            *(self._close(c, None) for c in list(self._conversations)),
            return_exceptions=True,
        )

    def cli_pids(self) -> list[int]:
        return [
            c.engine.cli_pid
            for c in self._conversations
            if c.engine is not None and c.engine.cli_pid is not None
        ]
