"""Request bodies, validated by pydantic (errors name the field)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, field_validator

from claude_chat.store.sessions import is_session_id

PermissionModeName = Literal[
    "default", "acceptEdits", "plan", "bypassPermissions", "dontAsk", "auto"
]


def checked_session_id(value: str | None) -> str | None:
    if value is not None and not is_session_id(value):
        raise ValueError("not a session id (a UUID)")
    return value.lower() if value is not None else None


class ChatRequest(BaseModel):
    message: str = Field(min_length=1, description="What the user says.")
    session_id: str | None = Field(
        default=None, description="Go on in this session; null starts a new one."
    )
    model: str | None = Field(default=None, description="Model alias or name for this turn on.")

    _session = field_validator("session_id")(checked_session_id)
