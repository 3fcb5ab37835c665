"""What every route reaches through the app: settings, keys, the pool, the metrics; and the
dependency that turns a request's key into its tenant."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from starlette.requests import HTTPConnection

from claude_chat.server.auth import Keyring, Tenant
from claude_chat.server.errors import ApiError
from claude_chat.server.metrics import Metrics
from claude_chat.server.pool import Pool
from claude_chat.server.settings import ServerSettings


@dataclass
class ServerState:
    settings: ServerSettings
    keyring: Keyring
    pool: Pool
    metrics: Metrics


def server_state(connection: HTTPConnection) -> ServerState:
    state = connection.app.state.server
    assert isinstance(state, ServerState)
    return state


def authenticated(request: Request) -> Tenant:
    """The tenant of the request's ``Authorization: Bearer <key>``; 401 without one."""
    header = request.headers.get("authorization")
    tenant = server_state(request).keyring.tenant_for_header(header)
    if tenant is None:
        message = "wrong server key" if header else "send Authorization: Bearer <server key>"
        raise ApiError(401, message)
    return tenant


AuthTenant = Annotated[Tenant, Depends(authenticated)]
