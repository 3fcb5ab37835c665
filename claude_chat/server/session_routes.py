"""A tenant's stored sessions: ``GET /v1/sessions``, ``GET`` and ``DELETE /v1/sessions/{id}``.

They are read from the tenant's own Claude Code config dir only, so another tenant's session
is, to this one, a session that does not exist.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request, Response

from claude_chat.engine.errors import ChatError
from claude_chat.engine.secrets import secrets_from
from claude_chat.server.auth import Tenant
from claude_chat.server.errors import ApiError
from claude_chat.server.state import AuthTenant, ServerState, server_state
from claude_chat.store import sessions, transcript

router = APIRouter()


def _checked(session_id: str) -> str:
    if not sessions.is_session_id(session_id):
        raise ApiError(400, "session_id: not a session id (a UUID)")
    return session_id.lower()


async def _config_dir(state: ServerState, tenant: Tenant) -> Path:
    """Where the tenant's sessions are read: its config dir, or with other nodes, a copy of
    what the shared store holds."""
    settings = state.settings
    cluster = state.pool.cluster
    if cluster is None:
        return settings.claude_config_dir(tenant.name)
    return await cluster.mirror(tenant.name, settings.tenant_dir(tenant.name) / "stored")


@router.get("/v1/sessions")
async def list_sessions(request: Request, tenant: AuthTenant) -> dict[str, Any]:
    """The tenant's sessions, newest first."""
    state = server_state(request)
    config_dir = await _config_dir(state, tenant)
    found = await asyncio.to_thread(
        sessions.list_sessions, None, config_dir.parent / f"{config_dir.name}-cache.json",
        config_dir,
    )  # fmt: skip
    return {
        "sessions": [
            {
                "session_id": s.session_id,
                "title": s.title,
                "last_active": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(s.last_active)),
                "turns": s.turns,
                "cwd": s.cwd,
            }
            for s in found
        ]
    }


@router.get("/v1/sessions/{session_id}")
async def get_session(request: Request, session_id: str, tenant: AuthTenant) -> Response:
    """The session's transcript, in the ``claude-chat-transcript/1`` JSON form."""
    session_id = _checked(session_id)
    config_dir = await _config_dir(server_state(request), tenant)
    secrets = secrets_from(os.environ)
    for name, value in (
        ("api_key", tenant.credentials.api_key),
        ("oauth_token", tenant.credentials.oauth_token),
    ):
        if value:
            secrets[f"tenant {name}"] = value

    def read() -> str:
        path = sessions.find_session_file(session_id, config_dir)
        summary = sessions.summarize(path) if path else None
        chat = transcript.from_session(
            session_id,
            title=summary.title if summary else None,
            secrets=secrets,
            config_dir=config_dir,
        )
        return transcript.to_json(chat)

    try:
        body = await asyncio.to_thread(read)
    except ChatError:
        raise ApiError(404, f"no session {session_id}") from None
    return Response(body, media_type="application/json")


@router.delete("/v1/sessions/{session_id}")
async def delete_session(request: Request, session_id: str, tenant: AuthTenant) -> dict[str, Any]:
    """Delete the session (its process, if it has one, is closed first)."""
    session_id = _checked(session_id)
    state = server_state(request)
    config_dir = state.settings.claude_config_dir(tenant.name)
    cluster = state.pool.cluster
    if cluster is not None:
        await state.pool.close_session(tenant, session_id)
        if not await cluster.delete(tenant.name, session_id):
            raise ApiError(404, f"no session {session_id}")
        # This node's own copy, if the session ever ran here.
        with contextlib.suppress(ChatError):
            await asyncio.to_thread(sessions.delete, session_id, config_dir)
        return {"session_id": session_id, "deleted": True}
    if await asyncio.to_thread(sessions.find_session_file, session_id, config_dir) is None:
        raise ApiError(404, f"no session {session_id}")
    await state.pool.close_session(tenant, session_id)
    try:
        await asyncio.to_thread(sessions.delete, session_id, config_dir)
    except sessions.SessionNotFoundError:
        raise ApiError(404, f"no session {session_id}") from None
    except ChatError as exc:
        raise ApiError(500, str(exc)) from None
    return {"session_id": session_id, "deleted": True}
