"""``GET /v1/models``: Claude Code's models, aliases and full names, in one list that OpenAI's
and Anthropic's clients both read (each takes the fields it knows)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from claude_chat.server.auth import Tenant
from claude_chat.server.conversations import ClientTenant, model_choices
from claude_chat.server.errors import ApiError

router = APIRouter()

# Claude Code does not say when a model was made; clients want a time all the same.
_EPOCH = "1970-01-01T00:00:00Z"


@router.get("/v1/models")
async def models(request: Request, tenant: ClientTenant) -> dict[str, Any]:
    """The aliases Claude Code offers (``sonnet``, ``opus``, ...) and the models they stand for."""
    data = await _entries(request, tenant)
    first, last = (data[0]["id"], data[-1]["id"]) if data else (None, None)
    return {"object": "list", "data": data, "has_more": False, "first_id": first, "last_id": last}


@router.get("/v1/models/{model_id}")
async def model(request: Request, model_id: str, tenant: ClientTenant) -> dict[str, Any]:
    """One of them."""
    for entry in await _entries(request, tenant):
        if entry["id"] == model_id:
            return entry
    raise ApiError(404, f"no model {model_id[:100]!r}; GET /v1/models lists them")


async def _entries(request: Request, tenant: Tenant) -> list[dict[str, Any]]:
    labels: dict[str, str] = {}
    for choice in await model_choices(request, tenant):
        label = choice.description.split(" · ")[0] if choice.description else choice.alias
        labels.setdefault(choice.alias, label)
        labels.setdefault(choice.resolved, label)
    return [
        {
            "id": name,
            "object": "model",
            "created": 0,
            "owned_by": "anthropic",
            "type": "model",
            "display_name": label,
            "created_at": _EPOCH,
        }
        for name, label in labels.items()
    ]
