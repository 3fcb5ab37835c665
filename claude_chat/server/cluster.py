"""Several servers sharing sessions through one Redis (``serve --redis URL``).

- Sessions: every conversation's Claude Code process mirrors its session to the tenant's
  ``RedisSessionStore`` and resumes from it, so any node can go on with any session.
- Ownership: a node drives a session only while it holds the session's lease, a Redis key
  set only if absent, with an expiry renewed at a third of it, deleted only by its holder.
  Each new holder raises the session's fence number, and the store refuses appends carrying
  an older one: a node cut off past its lease's expiry cannot write after another took over.
- Forwarding: a chat request for a session another node owns is proxied to that node (its
  event stream relayed as it comes), so a load balancer needs no affinity. An owner that
  does not answer is waited for until its lease runs out; then this node takes the session.
- Tenants' ``max_concurrent`` counts turns on every node: a sorted set of running turns per
  tenant, each scored by when it expires unless its node renews it.

While Redis cannot be reached a node goes on with the sessions it owns, and refuses to take
any other (503), until Redis is back.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from prometheus_client import Counter, Gauge
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from claude_chat.server.errors import ApiError, error_response, log
from claude_chat.server.settings import ClusterSettings
from claude_chat.store.redis_sessions import FencedError, RedisSessionStore

if TYPE_CHECKING:
    import httpx
    from redis.asyncio import Redis
    from websockets.asyncio.client import ClientConnection

    from claude_chat.server.auth import Credentials, Keyring, Tenant
    from claude_chat.server.metrics import Metrics

FORWARDED_HEADER = "x-claude-chat-forwarded-by"
CHAT_PATHS = ("/v1/chat/stream", "/v1/chat")
# Not passed on by a proxy (RFC 9110 7.6.1), and what the proxy's own client sets itself.
HOP_BY_HOP = frozenset(
    (b"connection", b"keep-alive", b"proxy-connection", b"te", b"trailer",
     b"transfer-encoding", b"upgrade", b"host", b"content-length")
)  # fmt: skip

# KEYS: lease, fence. ARGV: holder ("node url nonce"), ttl ms, node id, nonce.
# A lease held by this node id under another nonce is a previous run of this node: taken.
_CLAIM = """
local current = redis.call('GET', KEYS[1])
if current then
  local node, nonce = string.match(current, '^%d+ (%S+) %S+ (%S+)$')
  if node ~= ARGV[3] or nonce == ARGV[4] then return {0, current} end
end
local fence = redis.call('INCR', KEYS[2])
local value = fence .. ' ' .. ARGV[1]
redis.call('SET', KEYS[1], value, 'PX', ARGV[2])
return {fence, value}
"""
# KEYS: lease, fence. ARGV: value, ttl ms, fence. Gone (expired while Redis was away) but no
# one took it since: ours again.
_RENEW = """
local current = redis.call('GET', KEYS[1])
if current == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
if not current and redis.call('GET', KEYS[2]) == ARGV[3] then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""
# KEYS: the tenant's running turns. ARGV: turn token, expiry (ms), now (ms), limit.
_ENTER = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[3])
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[4]) then return 0 end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
redis.call('PEXPIREAT', KEYS[1], ARGV[2])
return 1
"""


class Conversation(Protocol):
    """What the cluster needs of the pool's conversations."""

    tenant: Tenant
    session_id: str | None


@dataclass
class Lease:
    session_id: str
    value: str
    fence: int


@dataclass(frozen=True)
class Owner:
    node_id: str
    url: str


def _unreachable(what: str) -> ApiError:
    return ApiError(
        503,
        f"the cluster's Redis cannot be reached, so this node cannot {what} now; "
        "sessions it already holds go on; try again shortly",
        retry_after=2,
    )


class Cluster:
    """This node's leases, its sessions' stores and its tenants' turns in Redis."""

    def __init__(self, settings: ClusterSettings, metrics: Metrics) -> None:
        from redis.asyncio import Redis
        from redis.asyncio.retry import Retry
        from redis.backoff import NoBackoff

        self.settings = settings
        # One quick retry: a turn's result waits for its entries' append, which must not sit
        # out redis-py's default backoff while Redis is away (the entries wait in the store).
        self.redis: Redis = Redis.from_url(
            settings.redis_url,
            socket_connect_timeout=1.0,
            socket_timeout=2.0,
            retry=Retry(NoBackoff(), 1),
        )
        # Tells this run's leases from those of a previous run under the same node id.
        self.nonce = secrets.token_hex(8)
        self._holder = f"{settings.node_id} {settings.advertise_url} {self.nonce}"
        self._ttl_ms = int(settings.lease_ttl_s * 1000)
        self._claim = self.redis.register_script(_CLAIM)
        self._renew = self.redis.register_script(_RENEW)
        self._release = self.redis.register_script(_RELEASE)
        self._enter = self.redis.register_script(_ENTER)
        self._stores: dict[Conversation, RedisSessionStore] = {}
        self._leases: dict[Conversation, Lease] = {}
        self._turns: dict[Conversation, str] = {}
        self._claiming: dict[Conversation, asyncio.Task[None]] = {}
        # Closed, but their last entries have not reached Redis yet: their leases are kept.
        self._parked: set[Conversation] = set()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._renewer: asyncio.Task[None] | None = None
        # Imported here: httpx loads rich (for its own command line) when it is installed.
        import httpx

        self.http: httpx.AsyncClient = httpx.AsyncClient(timeout=httpx.Timeout(None, connect=1.0))
        # Called with a conversation whose lease another node has taken: close its process.
        # (Any: the pool's own Conversation, which this module does not import.)
        self.on_lost: Callable[[Any], Coroutine[Any, Any, None]] | None = None
        node = settings.node_id
        registry = metrics.registry
        self.renewals = Counter(
            "claude_chat_lease_renewals", "Lease renewals of this node: ok, lost (another "
            "node holds the session now), error (Redis unreachable).", ["node", "outcome"],
            registry=registry,
        )  # fmt: skip
        for outcome in ("ok", "lost", "error"):
            self.renewals.labels(node, outcome)
        self.leases = Gauge(
            "claude_chat_leases", "Sessions this node owns.", ["node"], registry=registry
        )
        self.forwarded = Counter(
            "claude_chat_forwarded_requests", "Chat requests proxied to the session's owner.",
            ["node"], registry=registry,
        )  # fmt: skip
        self.takeovers = Counter(
            "claude_chat_lease_claims", "Leases taken: new session, resumed from the store.",
            ["node", "kind"], registry=registry,
        )  # fmt: skip

    def _namespace(self, tenant: str) -> str:
        return f"{self.settings.prefix}:{tenant}"

    def _lease_key(self, tenant: str, session_id: str) -> str:
        return f"{self._namespace(tenant)}:lease:{session_id}"

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> None:
        self._renewer = asyncio.get_running_loop().create_task(self._renew_forever())

    async def close(self) -> None:
        if self._renewer is not None:
            self._renewer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._renewer
        for task in [*self._claiming.values(), *self._tasks]:
            task.cancel()
        await asyncio.gather(*self._claiming.values(), *self._tasks, return_exceptions=True)
        for conversation in list(self._leases):
            await self.release(conversation)
        await self.http.aclose()
        with contextlib.suppress(Exception):
            await self.redis.aclose()

    # -- what the pool calls ---------------------------------------------------------------

    def store_for(self, conversation: Conversation) -> RedisSessionStore:
        store = self._stores.get(conversation)
        if store is None:
            store = RedisSessionStore(self.redis, self._namespace(conversation.tenant.name))
            self._stores[conversation] = store
        return store

    async def check(self) -> None:
        """503 unless Redis answers: a new session is a new lease."""
        try:
            await self.redis.ping()
        except Exception:
            raise _unreachable("start a session") from None

    async def claim(self, conversation: Conversation) -> None:
        """Take the lease of the conversation's session: 409 if another node holds it, 503
        without Redis."""
        if conversation in self._leases:
            return
        pending = self._claiming.get(conversation)
        if pending is not None:
            await asyncio.shield(pending)
            if conversation in self._leases:
                return
        await self._take(conversation)

    async def _take(self, conversation: Conversation) -> None:
        session_id = conversation.session_id
        assert session_id is not None
        tenant = conversation.tenant.name
        for parked in [p for p in self._parked if p.tenant.name == tenant]:
            if self._leases[parked].session_id == session_id and not await self._unpark(parked):
                raise _unreachable(f"save the last turns of session {session_id}")
        # A process of this node's that is still closing lets go of the session in a moment.
        for _ in range(100):
            if not any(
                other.tenant.name == tenant and lease.session_id == session_id
                for other, lease in self._leases.items()
            ):
                break
            await asyncio.sleep(0.05)
        store = self.store_for(conversation)
        try:
            fence, value = await self._claim(
                keys=[self._lease_key(tenant, session_id), store.fence_key(session_id)],
                args=[self._holder, self._ttl_ms, self.settings.node_id, self.nonce],
            )
        except Exception:
            raise _unreachable(f"take session {session_id}") from None
        value = value.decode() if isinstance(value, bytes) else str(value)
        if not fence:
            owner = value.split(" ")[1] if " " in value else "?"
            raise ApiError(
                409, f"this session is being answered on node {owner}; try again", retry_after=1
            )
        self._leases[conversation] = Lease(session_id, value, int(fence))
        store.fences[session_id] = int(fence)
        self.leases.labels(self.settings.node_id).set(len(self._leases))

    def adopt(self, conversation: Conversation) -> None:
        """A new session's id is known: take its lease (nobody else knows the id yet)."""
        if conversation in self._leases or conversation in self._claiming:
            return

        async def claim() -> None:
            try:
                await self._take(conversation)
                self.takeovers.labels(self.settings.node_id, "new").inc()
            except ApiError as exc:
                log.warning("no lease for a new session: %s", exc.message)
            finally:
                self._claiming.pop(conversation, None)

        self._claiming[conversation] = asyncio.get_running_loop().create_task(claim())

    async def resume(self, conversation: Conversation) -> None:
        await self.claim(conversation)
        self.takeovers.labels(self.settings.node_id, "resume").inc()

    async def release(self, conversation: Conversation) -> None:
        """The conversation's process is closed (its last entries flushed): let go."""
        pending = self._claiming.pop(conversation, None)
        if pending is not None:
            with contextlib.suppress(BaseException):
                await pending
        store = self._stores.get(conversation)
        if store is not None and store.pending and conversation in self._leases:
            with contextlib.suppress(FencedError):
                if not await store.flush_backlog():
                    self._parked.add(conversation)
                    return
        self._parked.discard(conversation)
        lease = self._leases.pop(conversation, None)
        self._stores.pop(conversation, None)
        self.leases.labels(self.settings.node_id).set(len(self._leases))
        if lease is None:
            return
        key = self._lease_key(conversation.tenant.name, lease.session_id)
        try:
            await self._release(keys=[key], args=[lease.value])
        except Exception:
            log.warning("lease of %s not released (Redis unreachable); it expires", key)

    async def _unpark(self, conversation: Conversation) -> bool:
        """Flush a closed conversation's last entries and let go of its lease; False while
        Redis is still away."""
        try:
            if not await self.store_for(conversation).flush_backlog():
                return False
        except FencedError:
            pass
        await self.release(conversation)
        return True

    def release_soon(self, conversation: Conversation) -> None:
        if conversation in self._leases or conversation in self._claiming:
            task = asyncio.get_running_loop().create_task(self.release(conversation))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def enter(self, conversation: Conversation) -> None:
        """Count a turn of the tenant's on every node: 429 over its ``max_concurrent``."""
        limit = conversation.tenant.max_concurrent
        if limit is None:
            return
        token = f"{self.settings.node_id}:{secrets.token_hex(8)}"
        now = int(time.time() * 1000)
        try:
            entered = await self._enter(
                keys=[self._turns_key(conversation.tenant.name)],
                args=[token, now + self._ttl_ms, now, limit],
            )
        except Exception:
            raise _unreachable("count this key's turns") from None
        if not entered:
            raise ApiError(
                429, f"at most {limit} turns at once for this key (on all nodes)", retry_after=1
            )
        self._turns[conversation] = token

    def leave(self, conversation: Conversation) -> None:
        token = self._turns.pop(conversation, None)
        if token is None:
            return

        async def leave() -> None:
            with contextlib.suppress(Exception):
                await self.redis.zrem(self._turns_key(conversation.tenant.name), token)

        task = asyncio.get_running_loop().create_task(leave())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _turns_key(self, tenant: str) -> str:
        return f"{self._namespace(tenant)}:turns"

    async def session_cwd(self, tenant: Tenant, session_id: str, default: Path) -> Path | None:
        """Where a session stored by any node ran (so that its project key matches), None if
        the store has no such session of this tenant's."""
        from claude_agent_sdk import project_key_for_directory

        store = RedisSessionStore(self.redis, self._namespace(tenant.name))
        try:
            project = await store.project_of(session_id)
            if project is None:
                return None
            if project_key_for_directory(default) == project:
                return default
            entries = await store.load({"project_key": project, "session_id": session_id})
        except Exception:
            raise _unreachable(f"find session {session_id}") from None
        recorded = {str(e.get("cwd")) for e in entries or [] if isinstance(e.get("cwd"), str)}

        def matching() -> Path | None:
            for cwd in recorded:
                if project_key_for_directory(cwd) == project and Path(cwd).is_dir():
                    return Path(cwd)
            return None

        return await asyncio.to_thread(matching) or default

    # -- the session endpoints, read through the store ------------------------------------

    async def mirror(self, tenant: str, mirror_dir: Path) -> Path:
        """A Claude Code config dir holding the tenant's sessions as the store has them
        (rewritten where the store has newer), for the session endpoints to read."""
        store = RedisSessionStore(self.redis, self._namespace(tenant))
        prefix = f"{self._namespace(tenant)}:sessions:"
        try:
            projects = [
                _text(key)[len(prefix) :] async for key in self.redis.scan_iter(f"{prefix}*")
            ]
            wanted: dict[Path, tuple[str, str, int]] = {}
            for project in projects:
                for listed in await store.list_sessions(project):
                    path = mirror_dir / "projects" / project / f"{listed['session_id']}.jsonl"
                    wanted[path] = (project, listed["session_id"], listed["mtime"])
            stale = await asyncio.to_thread(_stale, mirror_dir, wanted)
            loaded = {
                path: await store.load({"project_key": project, "session_id": session_id})
                for path, (project, session_id, _) in wanted.items()
                if path in stale
            }
        except Exception:
            raise _unreachable("read the stored sessions") from None
        await asyncio.to_thread(_write_mirror, mirror_dir, wanted, loaded)
        return mirror_dir

    async def delete(self, tenant: str, session_id: str) -> bool:
        """Delete a session from the store; 409 while another node drives it."""
        store = RedisSessionStore(self.redis, self._namespace(tenant))
        try:
            if await self.owner(tenant, session_id) is not None:
                raise ApiError(409, "this session is live on another node; try again later")
            project = await store.project_of(session_id)
            if project is None:
                return False
            await store.delete({"project_key": project, "session_id": session_id})
        except ApiError:
            raise
        except Exception:
            raise _unreachable(f"delete session {session_id}") from None
        return True

    # -- renewals --------------------------------------------------------------------------

    async def _renew_forever(self) -> None:
        interval = self.settings.lease_ttl_s / 3
        while True:
            await asyncio.sleep(interval)
            await self.renew_all()

    async def renew_all(self) -> None:
        node = self.settings.node_id
        for conversation, lease in list(self._leases.items()):
            store = self.store_for(conversation)
            key = self._lease_key(conversation.tenant.name, lease.session_id)
            try:
                kept = await self._renew(
                    keys=[key, store.fence_key(lease.session_id)],
                    args=[lease.value, self._ttl_ms, lease.fence],
                )
            except Exception:
                # Nobody can take it while Redis is away: go on, and renew once it is back.
                self.renewals.labels(node, "error").inc()
                continue
            if kept:
                self.renewals.labels(node, "ok").inc()
                continue
            self.renewals.labels(node, "lost").inc()
            self._parked.discard(conversation)
            log.warning("lease of %s lost to another node; closing its process", key)
            self._leases.pop(conversation, None)
            store.fences.pop(lease.session_id, None)
            if self.on_lost is not None:
                task = asyncio.get_running_loop().create_task(self.on_lost(conversation))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
        self.leases.labels(node).set(len(self._leases))
        for conversation in list(self._stores):
            if conversation in self._parked:
                await self._unpark(conversation)
            else:
                with contextlib.suppress(FencedError):
                    await self._stores[conversation].flush_backlog()
        if self._turns:
            expiry = int(time.time() * 1000) + self._ttl_ms
            with contextlib.suppress(Exception):
                async with self.redis.pipeline(transaction=False) as pipe:
                    for conversation, token in self._turns.items():
                        pipe.zadd(self._turns_key(conversation.tenant.name), {token: expiry})
                    await pipe.execute()

    # -- forwarding ------------------------------------------------------------------------

    async def owner(self, tenant: str, session_id: str) -> Owner | None:
        """Another node holding the session's lease, None if none does (or this one)."""
        value = await self.redis.get(self._lease_key(tenant, session_id))
        if value is None:
            return None
        parts = (value.decode() if isinstance(value, bytes) else str(value)).split(" ")
        if len(parts) != 4 or parts[1] == self.settings.node_id:
            return None
        return Owner(parts[1], parts[2])


class SocketTurn:
    """One WebSocket turn for a session another node owns, relayed over a socket to it: its
    events come back as they are; the client's interrupt and permission answers go there."""

    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        self.upstream: ClientConnection | None = None

    async def owner(self, tenant: str, session_id: str | None) -> Owner | None:
        if session_id is None:
            return None
        try:
            return await self.cluster.owner(tenant, session_id)
        except Exception:
            return None  # Redis away: this node answers what it owns, 503 for the rest

    async def run(
        self,
        owner: Owner,
        tenant: Tenant,
        credentials: Credentials,
        message: dict[str, Any],
        send: Callable[[dict[str, Any]], Coroutine[Any, Any, None]],
    ) -> bool:
        """Relay the turn; False if the owner did not answer before its lease ran out (or
        another node took it): the caller answers it here."""
        from websockets.exceptions import ConnectionClosed

        from claude_chat.server.auth import API_KEY_HEADER, OAUTH_HEADER
        from claude_chat.server.protocol import error_event

        headers = {"Authorization": f"Bearer {tenant.key}",
                   FORWARDED_HEADER: self.cluster.settings.node_id}  # fmt: skip
        if credentials.api_key:
            headers[API_KEY_HEADER] = credentials.api_key
        if credentials.oauth_token:
            headers[OAUTH_HEADER] = credentials.oauth_token
        session_id = str(message["session_id"])
        deadline = time.monotonic() + self.cluster.settings.lease_ttl_s + 2.0
        current: Owner | None = owner
        while current is not None:
            relayed: list[bool] = []
            try:
                last = await self._relay(current, headers, message, send, relayed)
            except (OSError, ConnectionClosed) as exc:
                if relayed or isinstance(exc, ConnectionClosed):
                    last = error_event(
                        "api_error", f"node {current.node_id} went away during the turn", 502
                    )
                else:  # not answering: wait for it or for its lease to run out
                    if time.monotonic() > deadline:
                        break
                    await asyncio.sleep(0.2)
                    current = await self.owner(tenant.name, session_id)
                    continue
            # Sent once the relay is closed: the client may send its next turn at once.
            if last is not None:
                await send(last)
            return True
        return False

    async def _relay(
        self,
        owner: Owner,
        headers: dict[str, str],
        message: dict[str, Any],
        send: Callable[[dict[str, Any]], Coroutine[Any, Any, None]],
        relayed: list[bool],
    ) -> dict[str, Any] | None:
        """The owner's events up to the last (the result, or a refusal), which is returned."""
        from websockets.asyncio.client import connect

        url = owner.url.replace("http", "ws", 1).rstrip("/") + "/v1/chat/ws"
        async with connect(url, additional_headers=headers, open_timeout=2) as upstream:
            self.upstream = upstream
            try:
                self.cluster.forwarded.labels(self.cluster.settings.node_id).inc()
                await upstream.send(json.dumps(message))
                async for raw in upstream:
                    event = json.loads(raw)
                    if event.get("type") == "result" or (
                        event.get("type") == "error" and event.get("status") is not None
                    ):
                        return dict(event)
                    relayed.append(True)
                    await send(event)
            finally:
                self.upstream = None
        return None

    async def pass_on(self, message: dict[str, Any]) -> bool:
        """An interrupt or a permission answer for the relayed turn, if there is one."""
        if self.upstream is None:
            return False
        with contextlib.suppress(Exception):
            await self.upstream.send(json.dumps(message))
        return True


class Forwarding:
    """ASGI middleware: a chat request for a session another node owns goes to that node."""

    def __init__(self, app: ASGIApp, cluster: Cluster, keyring: Keyring) -> None:
        self.app = app
        self.cluster = cluster
        self.keyring = keyring

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        import httpx

        if (
            scope["type"] != "http"
            or scope["method"] != "POST"
            or scope["path"] not in CHAT_PATHS
            or any(name == FORWARDED_HEADER.encode() for name, _ in scope["headers"])
        ):
            await self.app(scope, receive, send)
            return
        first = await receive()  # the body limit before this has read the body whole
        body = first.get("body", b"") if first["type"] == "http.request" else b""
        replayed = [first]

        async def replay() -> Message:
            return replayed.pop() if replayed else await receive()

        target = await self._target(scope, body)
        if target is None:
            await self.app(scope, replay, send)
            return
        tenant, session_id, found = target
        owner: Owner | None = found
        deadline = time.monotonic() + self.cluster.settings.lease_ttl_s + 2.0
        while owner is not None:
            try:
                await self._proxy(owner, scope, body, receive, send)
                return
            except httpx.TransportError:
                pass  # not answering: wait for it to come back or its lease to run out
            if time.monotonic() > deadline:
                response = error_response(
                    503, f"node {owner.node_id}, which owns this session, does not answer",
                    {"Retry-After": "2"},
                )  # fmt: skip
                await response(scope, receive, send)
                return
            await asyncio.sleep(0.2)
            try:
                owner = await self.cluster.owner(tenant, session_id)
            except Exception:
                owner = None  # Redis away: the pool answers 503 unless the session is ours
        await self.app(scope, replay, send)

    async def _target(self, scope: Scope, body: bytes) -> tuple[str, str, Owner] | None:
        """The tenant, session and owner of a request another node should answer."""
        try:
            session_id = json.loads(body).get("session_id")
        except (ValueError, AttributeError):
            return None
        from claude_chat.store.sessions import is_session_id

        if not isinstance(session_id, str) or not is_session_id(session_id):
            return None
        headers = dict(scope["headers"])
        authorization = headers.get(b"authorization", b"").decode("latin-1")
        tenant = self.keyring.tenant_for_header(authorization)
        if tenant is None:
            return None
        session_id = session_id.lower()
        try:
            owner = await self.cluster.owner(tenant.name, session_id)
        except Exception:
            return None  # Redis away: this node answers what it owns, 503 for the rest
        return None if owner is None else (tenant.name, session_id, owner)

    async def _proxy(
        self, owner: Owner, scope: Scope, body: bytes, receive: Receive, send: Send
    ) -> None:
        """Relay the request to the owner and its answer back, chunk by chunk; a client that
        leaves closes the owner's stream, which interrupts the turn there."""
        headers = [
            (name, value) for name, value in scope["headers"] if name.lower() not in HOP_BY_HOP
        ]
        headers.append((FORWARDED_HEADER.encode(), self.cluster.settings.node_id.encode()))
        request = self.cluster.http.build_request(
            "POST", owner.url.rstrip("/") + scope["path"], headers=headers, content=body
        )
        response = await self.cluster.http.send(request, stream=True)
        self.cluster.forwarded.labels(self.cluster.settings.node_id).inc()

        async def relay() -> None:
            await send(
                {
                    "type": "http.response.start",
                    "status": response.status_code,
                    "headers": [
                        (name, value)
                        for name, value in response.headers.raw
                        if name.lower() not in HOP_BY_HOP
                    ],
                }
            )
            async for chunk in response.aiter_raw():
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b""})

        async def client_gone() -> None:
            while (await receive())["type"] != "http.disconnect":
                pass

        relaying = asyncio.ensure_future(relay())
        watching = asyncio.ensure_future(client_gone())
        try:
            await asyncio.wait((relaying, watching), return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (relaying, watching):
                task.cancel()
            await asyncio.gather(relaying, watching, return_exceptions=True)
            await response.aclose()
        if relaying.done() and not relaying.cancelled() and relaying.exception() is not None:
            log.warning("forwarding to %s failed: %s", owner.node_id, relaying.exception())


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _stale(mirror_dir: Path, wanted: dict[Path, tuple[str, str, int]]) -> set[Path]:
    stale = set()
    for path, (_, _, mtime) in wanted.items():
        try:
            if path.stat().st_mtime_ns // 1_000_000 >= mtime:
                continue
        except OSError:
            pass
        stale.add(path)
    return stale


def _write_mirror(
    mirror_dir: Path,
    wanted: dict[Path, tuple[str, str, int]],
    loaded: dict[Path, list[Any] | None],
) -> None:
    """Write what changed, drop what the store no longer has; owner-only files."""
    import os

    from claude_chat.engine.config import private_file

    for path, entries in loaded.items():
        private_file(path).write_text(
            # Compact, as Claude Code writes it: the session readers scan for its bytes.
            "".join(json.dumps(e, separators=(",", ":")) + "\n" for e in entries or []),
            encoding="utf-8",
        )
        mtime_s = wanted[path][2] / 1000
        os.utime(path, (mtime_s, mtime_s))
    for path in (mirror_dir / "projects").glob("*/*.jsonl"):
        if path not in wanted:
            path.unlink(missing_ok=True)
