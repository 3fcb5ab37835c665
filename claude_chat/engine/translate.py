"""The edge: the SDK's typed messages become our events, and nothing raw gets past here.

Imported only after ``claude_agent_sdk`` has been loaded in the background (it costs about a
second), so importing this module is never on the path to the first prompt.
"""

from __future__ import annotations

import re
from typing import Any

from claude_agent_sdk import (
    AssistantMessage,
    ResultMessage,
    StreamEvent,
    SystemMessage,
    TextBlock,
    ThinkingBlock,
    ToolResultBlock,
    ToolUseBlock,
    UserMessage,
)

from claude_chat.engine.events import (
    Compacted,
    Compacting,
    ErrorKind,
    Event,
    Retrying,
    SessionStarted,
    TextDelta,
    ThinkingDelta,
    ToolCall,
    ToolResult,
    TurnEnd,
    TurnError,
    Usage,
)

_API_ERROR_STATUS = re.compile(r"(?:API Error: |\()(\d{3})\b")

# AssistantMessage.error values the CLI uses, mapped to what the user has to do about them.
_ERROR_KINDS: dict[str, ErrorKind] = {
    "authentication_failed": "auth",
    "billing_error": "billing",
    "rate_limit": "rate_limit",
    "overloaded": "overloaded",
}

# What Claude Code's local commands (/context, /compact, ...) print comes back in these tags.
_LOCAL_OUTPUT = re.compile(
    r"<local-command-(?:stdout|stderr)>(.*?)</local-command-(?:stdout|stderr)>", re.S
)

# ResultMessage.terminal_reason values that mean the user stopped the turn.
_INTERRUPTED = frozenset({"aborted_streaming", "aborted_tools"})


class Translator:
    """Turns one turn's SDK messages into events, and its result into a ``TurnEnd``. Make a
    new one per turn.

    The CLI sends every streamed content block twice: as deltas, then as a complete
    ``assistant`` message. Text and thinking are taken from the deltas only; a complete message
    whose id was never streamed (the CLI's synthetic error answers) is taken whole.
    """

    def __init__(self, local_command: bool = False) -> None:
        # Whether the turn runs one of Claude Code's own commands: then what it prints is the
        # answer. Otherwise such output belongs to something else (a model switch says "Set
        # model to ..."), not to this turn.
        self._local_command = local_command
        self._streamed_message_ids: set[str] = set()
        self.model: str | None = None
        self._context_tokens: int | None = None
        self._compacted = False

    def translate(self, message: object) -> list[Event]:
        if isinstance(message, StreamEvent):
            return self._stream_event(message)
        if isinstance(message, AssistantMessage):
            return self._assistant(message)
        if isinstance(message, UserMessage):
            return self._user(message)
        if isinstance(message, SystemMessage):
            return self._system(message)
        # A ResultMessage is read by ``turn_end``; every other message type (rate limits,
        # task notices, ...) is not shown.
        return []

    def turn_end(self, message: object) -> TurnEnd | None:
        """What ``message`` says about the end of the turn, if it is Claude Code's result."""
        if not isinstance(message, ResultMessage):
            return None
        interrupted = message.terminal_reason in _INTERRUPTED
        return TurnEnd(
            session_id=message.session_id,
            model=self.model,
            is_error=bool(message.is_error) and not interrupted,
            interrupted=interrupted,
            usage=_usage(message),
            process_cost_usd=message.total_cost_usd,
            error=_result_error(message) if message.is_error and not interrupted else None,
            context_tokens=self._context_tokens,
            context_window=self._context_window(message),
        )

    def _context_window(self, message: ResultMessage) -> int | None:
        usage = message.model_usage or {}
        entry = usage.get(self.model or "") or next(iter(usage.values()), None)
        window = entry.get("contextWindow") if isinstance(entry, dict) else None
        return int(window) if isinstance(window, (int, float)) and window > 0 else None

    def _stream_event(self, message: StreamEvent) -> list[Event]:
        event = message.event
        kind = event.get("type")
        parent = message.parent_tool_use_id
        if kind == "message_start":
            body = event.get("message") or {}
            if isinstance(body.get("id"), str):
                self._streamed_message_ids.add(body["id"])
            if isinstance(body.get("model"), str):
                self.model = body["model"]
            return []
        if kind == "content_block_delta":
            delta = event.get("delta") or {}
            if delta.get("type") == "text_delta" and delta.get("text"):
                return [TextDelta(str(delta["text"]), parent)]
            if delta.get("type") == "thinking_delta" and delta.get("thinking"):
                return [ThinkingDelta(str(delta["thinking"]), parent)]
        return []

    def _assistant(self, message: AssistantMessage) -> list[Event]:
        parent = message.parent_tool_use_id
        if message.error is not None:
            text = " ".join(b.text for b in message.content if isinstance(b, TextBlock))
            # The SDK drops the CLI's api_error_status here; the text carries it.
            status = _API_ERROR_STATUS.search(text)
            return [
                TurnError(
                    _ERROR_KINDS.get(message.error, "api"),
                    text or message.error,
                    int(status.group(1)) if status else None,
                )
            ]
        if parent is None and message.model != "<synthetic>" and message.usage:
            # What this API call sent: the conversation as it stands, the context it fills.
            sent = sum(
                int(message.usage.get(key) or 0)
                for key in (
                    "input_tokens",
                    "cache_read_input_tokens",
                    "cache_creation_input_tokens",
                )
            )
            if sent:
                self._context_tokens = sent
        streamed = message.message_id in self._streamed_message_ids
        events: list[Event] = []
        for block in message.content:
            if isinstance(block, ToolUseBlock):
                events.append(ToolCall(block.id, block.name, dict(block.input), parent))
            elif streamed:
                continue
            elif isinstance(block, TextBlock) and block.text:
                events.append(TextDelta(block.text, parent))
            elif isinstance(block, ThinkingBlock) and block.thinking:
                events.append(ThinkingDelta(block.thinking, parent))
        return events

    def _user(self, message: UserMessage) -> list[Event]:
        if isinstance(message.content, str):
            output = _LOCAL_OUTPUT.fullmatch(message.content.strip())
            # After a compaction, its one line says more than Claude Code's "Compacted".
            if output is None or not output.group(1).strip():
                return []
            if not self._local_command or self._compacted:
                return []
            return [TextDelta(output.group(1).strip() + "\n")]
        return [
            ToolResult(
                block.tool_use_id,
                tool_result_text(block.content),
                bool(block.is_error),
                message.parent_tool_use_id,
            )
            for block in message.content
            if isinstance(block, ToolResultBlock)
        ]

    def _system(self, message: SystemMessage) -> list[Event]:
        data = message.data
        if message.subtype == "init":
            self.model = str(data.get("model") or self.model or "")
            return [
                SessionStarted(
                    session_id=str(data.get("session_id", "")),
                    model=self.model,
                    cwd=str(data.get("cwd", "")),
                    permission_mode=str(data.get("permissionMode", "")),
                )
            ]
        if message.subtype == "api_retry":
            return [Retrying(_retry_text(data))]
        if message.subtype == "status" and data.get("status") == "compacting":
            return [Compacting()]
        if message.subtype == "compact_boundary":
            metadata = data.get("compact_metadata") or {}
            post = metadata.get("post_tokens")
            self._compacted = True
            if isinstance(post, int):
                self._context_tokens = post
            return [
                Compacted(
                    trigger=str(metadata.get("trigger") or "auto"),
                    pre_tokens=int(metadata.get("pre_tokens") or 0),
                    post_tokens=post if isinstance(post, int) else None,
                )
            ]
        return []


def tool_result_text(content: str | list[dict[str, Any]] | None) -> str:
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    parts = []
    for block in content:
        if block.get("type") == "text":
            parts.append(str(block.get("text", "")))
        else:
            parts.append(f"[{block.get('type', 'content')}]")
    return "\n".join(parts)


def _retry_text(data: dict[str, Any]) -> str:
    status = data.get("error_status")
    attempt = data.get("attempt")
    limit = data.get("max_retries")
    delay_ms = data.get("retry_delay_ms")
    what = f"API error {status}" if status else f"API error ({data.get('error', 'no response')})"
    where = f" (attempt {attempt}/{limit})" if attempt and limit else ""
    when = f" in {float(delay_ms) / 1000:.1f}s" if isinstance(delay_ms, (int, float)) else ""
    return f"{what}; retrying{when}{where}"


def _usage(result: ResultMessage) -> Usage:
    raw = result.usage or {}

    def count(key: str) -> int:
        value = raw.get(key)
        return int(value) if isinstance(value, (int, float)) else 0

    return Usage(
        input_tokens=count("input_tokens"),
        output_tokens=count("output_tokens"),
        cache_read_tokens=count("cache_read_input_tokens"),
        cache_creation_tokens=count("cache_creation_input_tokens"),
    )


def _result_error(result: ResultMessage) -> TurnError:
    """The error a failed result carries."""
    text = result.result or "; ".join(result.errors or []) or result.subtype
    return TurnError("api", text, result.api_error_status)
