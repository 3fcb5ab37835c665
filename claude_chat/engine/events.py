"""The events a turn is made of, as the engine hands them to the REPL, piped mode or a library user.

They are parsed once, at the edge (``translate.py``), from the SDK's messages; nothing past that
edge looks at raw protocol dicts.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Literal


class _Event:
    """``to_dict()``: a JSON-ready dict with a ``type``; deltas and tool blocks take the
    Anthropic API's shapes, so code written for the API's stream reads them as they are."""

    def to_dict(self) -> dict[str, Any]:
        kind = re.sub(r"(?<!^)(?=[A-Z])", "_", type(self).__name__).lower()
        return {"type": kind, **asdict(self)}  # type: ignore[call-overload]


@dataclass(frozen=True)
class SessionStarted(_Event):
    """The CLI's ``system/init``: it comes at the start of every turn, so the model can change."""

    session_id: str
    model: str
    cwd: str
    permission_mode: str


@dataclass(frozen=True)
class TextDelta(_Event):
    text: str
    parent_tool_use_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": "content_block_delta",
            "delta": {"type": "text_delta", "text": self.text},
            "parent_tool_use_id": self.parent_tool_use_id,
        }


@dataclass(frozen=True)
class ThinkingDelta(_Event):
    text: str
    parent_tool_use_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": "content_block_delta",
            "delta": {"type": "thinking_delta", "thinking": self.text},
            "parent_tool_use_id": self.parent_tool_use_id,
        }


@dataclass(frozen=True)
class ToolCall(_Event):
    tool_use_id: str
    name: str
    input: dict[str, Any]
    parent_tool_use_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": "tool_use",
            "id": self.tool_use_id,
            "name": self.name,
            "input": self.input,
            "parent_tool_use_id": self.parent_tool_use_id,
        }


@dataclass(frozen=True)
class ToolResult(_Event):
    tool_use_id: str
    content: str
    is_error: bool
    parent_tool_use_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": "tool_result",
            "tool_use_id": self.tool_use_id,
            "content": self.content,
            "is_error": self.is_error,
            "parent_tool_use_id": self.parent_tool_use_id,
        }


@dataclass(frozen=True)
class PermissionDenied(_Event):
    """A tool call was refused without asking anyone (piped mode), or by the user."""

    tool_use_id: str | None
    name: str
    input: dict[str, Any]
    reason: str


@dataclass(frozen=True)
class PermissionRequest(_Event):
    """Claude Code asks whether a tool call may run (``--permission-mode default``)."""

    tool_use_id: str | None
    name: str
    input: dict[str, Any]
    # Claude Code's own sentence for the prompt, when it gives one ("Claude wants to ...").
    title: str | None = None
    reason: str | None = None
    # What "always allow" would add to the session's rules, as Claude Code suggests it.
    suggestions: tuple[Any, ...] = ()


PermissionChoice = Literal["once", "always", "deny"]


@dataclass(frozen=True)
class PermissionDecision:
    choice: PermissionChoice
    # For a denial: what Claude is told, and whether the turn stops.
    message: str = ""
    interrupt: bool = False


@dataclass(frozen=True)
class Compacting(_Event):
    """Claude Code is summarising the conversation (``/compact``, or on its own)."""


@dataclass(frozen=True)
class Compacted(_Event):
    """The conversation was replaced by its summary: ``manual`` (``/compact``) or ``auto``."""

    trigger: str
    pre_tokens: int
    post_tokens: int | None = None
    # Seconds since the message was sent, when the boundary arrived.
    elapsed_s: float = 0.0


ErrorKind = Literal["auth", "api", "billing", "rate_limit", "overloaded", "cli", "other"]


@dataclass(frozen=True)
class TurnError(_Event):
    """Something that ended the turn without an answer: an API error, no login, a dead CLI."""

    kind: ErrorKind
    message: str
    status: int | None = None


@dataclass(frozen=True)
class Retrying(_Event):
    """The CLI is retrying an API request on its own (it reports this as a status)."""

    message: str


@dataclass(frozen=True)
class Usage:
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_creation_tokens: int = 0

    @classmethod
    def from_api(cls, usage: Mapping[str, object]) -> Usage:
        """The counts of an API ``usage`` object (a response's, a result's, a stored record's)."""

        def count(key: str) -> int:
            value = usage.get(key)
            return int(value) if isinstance(value, (int, float)) else 0

        return cls(
            input_tokens=count("input_tokens"),
            output_tokens=count("output_tokens"),
            cache_read_tokens=count("cache_read_input_tokens"),
            cache_creation_tokens=count("cache_creation_input_tokens"),
        )

    @property
    def prompt_tokens(self) -> int:
        """Everything the model read, cached or not: what "tokens in" means to a user."""
        return self.input_tokens + self.cache_read_tokens + self.cache_creation_tokens


@dataclass(frozen=True)
class TurnResult(_Event):
    """The end of a turn: exactly one per turn, whatever happened in it."""

    session_id: str | None
    model: str | None
    is_error: bool
    interrupted: bool
    usage: Usage = field(default_factory=Usage)
    # The CLI reports cost cumulatively for its process; the engine turns it into this turn's.
    cost_usd: float = 0.0
    # Measured by us from sending the message, as the user waits: to its end, and to its first
    # streamed content. Both include ``startup_wait_s``.
    duration_s: float = 0.0
    time_to_first_token_s: float | None = None
    error: TurnError | None = None
    answer: str = ""
    # What the user sent, and when the turn ended (seconds since the epoch).
    prompt: str = ""
    ended_at: float = field(default_factory=time.time)
    # How long the message waited before it reached Claude Code: more than a few ms only
    # while the process starts (a first message sent at once, the one after a crash).
    startup_wait_s: float = 0.0


@dataclass(frozen=True)
class TurnEnd:
    """How a turn ended, in plain terms: what Claude Code's result message says (the
    translator reads it), or the engine's own account when the process was lost. The engine
    makes the turn's ``TurnResult`` of it; it is not an event itself."""

    session_id: str | None
    # The model that answered, when the turn said so.
    model: str | None
    is_error: bool
    interrupted: bool
    usage: Usage = field(default_factory=Usage)
    # Claude Code counts cost for its whole process, not per turn.
    process_cost_usd: float | None = None
    # The error the end itself carries (one already said in the turn comes first).
    error: TurnError | None = None
    # False when Claude Code never finished the turn: then its error is the lost process, and
    # no first-token time is reported for it.
    finished: bool = True
    # How full the context window is after the turn: the input side of its last API call (or
    # the size of the summary after a compaction), and the window Claude Code reports.
    context_tokens: int | None = None
    context_window: int | None = None


Event = (
    SessionStarted
    | TextDelta
    | ThinkingDelta
    | ToolCall
    | ToolResult
    | PermissionDenied
    | TurnError
    | Retrying
    | Compacting
    | Compacted
    | TurnResult
)
