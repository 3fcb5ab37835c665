"""``GET /healthz`` and ``GET /metrics``: for load balancers and Prometheus, no tenant key."""

from __future__ import annotations

import hmac

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from claude_chat.server.auth import bearer_token
from claude_chat.server.errors import ApiError
from claude_chat.server.metrics import CONTENT_TYPE
from claude_chat.server.state import server_state

router = APIRouter()


@router.get("/healthz")
async def healthz(request: Request) -> JSONResponse:
    """``ok`` while the server takes turns; 503 ``draining`` once it is shutting down."""
    pool = server_state(request).pool
    body = {"status": "draining" if pool.draining else "ok", "processes": pool.live,
            "busy": pool.busy}  # fmt: skip
    return JSONResponse(body, status_code=503 if pool.draining else 200)


@router.get("/metrics")
async def metrics(request: Request) -> Response:
    """Prometheus text; with ``--metrics-key``, only for ``Authorization: Bearer <that key>``."""
    state = server_state(request)
    required = state.settings.metrics_key
    if required is not None:
        given = bearer_token(request.headers.get("authorization")) or ""
        if not hmac.compare_digest(given.encode(), required.encode()):
            raise ApiError(401, "send Authorization: Bearer <metrics key>")
    return Response(state.metrics.render(), media_type=CONTENT_TYPE)
