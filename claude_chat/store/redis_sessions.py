"""Claude Code sessions mirrored to Redis: the SDK's ``SessionStore`` protocol on redis-py's
asyncio client, so that a session written on one host resumes on any other.

The CLI still writes its local file; the SDK hands every entry to ``append`` (its ``uuid`` is
the idempotency key) and loads the session back with ``load`` to resume it. One store object
per tenant namespace keeps tenants apart, since the SDK's project key is only a sanitised cwd.

Fencing: a session that has ever been leased (see ``claude_chat.server.cluster``) has a fence
counter in Redis, raised by every new owner. An append carrying another number, or none, is
refused in the same atomic step that would write it, so a node whose lease has run out cannot
add to a session another node has taken over.

While Redis cannot be reached, appends wait in order in the store object (the local file has
them meanwhile) and go out with the next append or ``flush_backlog`` once it is back; the
owner keeps its lease until they have.

Layout, under ``<namespace>``:
  ``e:<project>/<session>[/<subpath>]``  list of JSON entries, in append order
  ``u:<project>/<session>[/<subpath>]``  set of the uuids already appended
  ``sessions:<project>``                 sorted set of main transcripts by mtime (epoch ms)
  ``subkeys:<project>/<session>``        set of subpaths (subagent transcripts)
  ``where``                              hash: session id -> project key
  ``fence:<session>``                    the session's fence counter
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from claude_agent_sdk.types import (
        SessionKey,
        SessionListSubkeysKey,
        SessionStoreEntry,
        SessionStoreListEntry,
    )
    from redis.asyncio import Redis

FENCED = "FENCED"

# KEYS: entries, uuids, sessions zset, subkeys set, where hash, fence
# ARGV: session id, subpath ('' for the main transcript), project key, fence ('' for none),
#       then (uuid or '', entry json) pairs.
_APPEND = """
local fence = redis.call('GET', KEYS[6])
if ARGV[4] ~= '' or fence then
  if fence ~= ARGV[4] then
    return redis.error_reply('FENCED this node no longer owns session ' .. ARGV[1])
  end
end
for i = 5, #ARGV, 2 do
  if ARGV[i] == '' or redis.call('SADD', KEYS[2], ARGV[i]) == 1 then
    redis.call('RPUSH', KEYS[1], ARGV[i + 1])
  end
end
if ARGV[2] ~= '' then
  redis.call('SADD', KEYS[4], ARGV[2])
  return 0
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local prev = tonumber(redis.call('ZSCORE', KEYS[3], ARGV[1]) or '0')
if now <= prev then now = prev + 1 end
redis.call('ZADD', KEYS[3], now, ARGV[1])
redis.call('HSET', KEYS[5], ARGV[1], ARGV[3])
return now
"""


class FencedError(Exception):
    """An append for a session this writer no longer owns."""


class RedisSessionStore:
    """A ``claude_agent_sdk.types.SessionStore`` in Redis (duck-typed, as the SDK allows).

    ``fences`` maps the session ids this writer owns to the fence number of its lease; the
    owner of the lease keeps it current."""

    def __init__(self, redis: Redis, namespace: str) -> None:
        self.redis = redis
        self.namespace = namespace
        self.fences: dict[str, int] = {}
        self._append = redis.register_script(_APPEND)
        self._backlog: list[tuple[SessionKey, list[SessionStoreEntry]]] = []

    def _key(self, kind: str, key: SessionKey | SessionListSubkeysKey) -> str:
        path = f"{key['project_key']}/{key['session_id']}"
        subpath = key.get("subpath")
        if subpath:
            path += f"/{subpath}"
        return f"{self.namespace}:{kind}:{path}"

    def fence_key(self, session_id: str) -> str:
        return f"{self.namespace}:fence:{session_id}"

    def _sessions_key(self, project_key: str) -> str:
        return f"{self.namespace}:sessions:{project_key}"

    # -- the SessionStore protocol ---------------------------------------------------------

    async def append(self, key: SessionKey, entries: list[SessionStoreEntry]) -> None:
        if not entries:
            return
        self._backlog.append((key, entries))
        await self.flush_backlog()

    @property
    def pending(self) -> bool:
        """Appends still waiting for Redis."""
        return bool(self._backlog)

    async def flush_backlog(self) -> bool:
        """Send the appends waiting for Redis, in order; True once none is left. An append
        this writer is fenced off from is dropped with the rest, and raises."""
        from redis.exceptions import ConnectionError, TimeoutError

        while self._backlog:
            key, entries = self._backlog[0]
            try:
                await self._write(key, entries)
            except (ConnectionError, TimeoutError, OSError):
                return False
            except FencedError:
                self._backlog.clear()
                raise
            self._backlog.pop(0)
        return True

    async def _write(self, key: SessionKey, entries: list[SessionStoreEntry]) -> None:
        session_id = key["session_id"]
        fence = self.fences.get(session_id)
        argv: list[str] = [
            session_id,
            key.get("subpath") or "",
            key["project_key"],
            "" if fence is None else str(fence),
        ]
        for entry in entries:
            uuid = entry.get("uuid")
            argv += [uuid if isinstance(uuid, str) else "", json.dumps(entry)]
        keys = [
            self._key("e", key),
            self._key("u", key),
            self._sessions_key(key["project_key"]),
            self._key("subkeys", {"project_key": key["project_key"], "session_id": session_id}),
            f"{self.namespace}:where",
            self.fence_key(session_id),
        ]
        from redis.exceptions import ResponseError

        try:
            await self._append(keys=keys, args=argv)
        except ResponseError as exc:
            if str(exc).startswith(FENCED):
                raise FencedError(str(exc)[len(FENCED) + 1 :]) from None
            raise

    async def load(self, key: SessionKey) -> list[SessionStoreEntry] | None:
        raw = await self.redis.lrange(self._key("e", key), 0, -1)
        if not raw:
            return None
        return [json.loads(line) for line in raw]

    async def list_sessions(self, project_key: str) -> list[SessionStoreListEntry]:
        found: list[Any] = await self.redis.zrange(
            self._sessions_key(project_key), 0, -1, withscores=True
        )
        return [{"session_id": _text(sid), "mtime": int(mtime)} for sid, mtime in found]

    async def delete(self, key: SessionKey) -> None:
        session_id = key["session_id"]
        doomed = [self._key("e", key), self._key("u", key)]
        async with self.redis.pipeline(transaction=True) as pipe:
            if key.get("subpath"):
                subkeys = self._key("subkeys", {**key, "subpath": ""})
                pipe.srem(subkeys, key["subpath"])
            else:
                subkeys = self._key("subkeys", key)
                for subpath in await self.redis.smembers(subkeys):
                    sub: SessionKey = {**key, "subpath": _text(subpath)}
                    doomed += [self._key("e", sub), self._key("u", sub)]
                doomed.append(subkeys)
                pipe.zrem(self._sessions_key(key["project_key"]), session_id)
                pipe.hdel(f"{self.namespace}:where", session_id)
            pipe.delete(*doomed)
            await pipe.execute()

    async def list_subkeys(self, key: SessionListSubkeysKey) -> list[str]:
        found = await self.redis.smembers(self._key("subkeys", key))
        return sorted(_text(s) for s in found)

    # -- ours ------------------------------------------------------------------------------

    async def project_of(self, session_id: str) -> str | None:
        """The project key a session was stored under, None if it was never stored here."""
        found = await self.redis.hget(f"{self.namespace}:where", session_id)
        return None if found is None else _text(found)


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
