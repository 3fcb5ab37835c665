"""What events say, as plain text: tool calls and results in a line, errors with what to do,
the footer of a turn. Shared by the live and plain views, recaps and transcripts."""

from __future__ import annotations

import json
from typing import Any

from claude_chat.events import PermissionRequest, ToolCall, ToolResult, TurnError, TurnResult
from claude_chat.sessions import RecapLine
from claude_chat.stats import SessionStats

# The argument that says what a tool call does, by tool.
_ESSENTIAL_ARGUMENT = {
    "Bash": "command",
    "Read": "file_path",
    "Write": "file_path",
    "Edit": "file_path",
    "MultiEdit": "file_path",
    "NotebookEdit": "notebook_path",
    "Grep": "pattern",
    "Glob": "pattern",
    "WebFetch": "url",
    "WebSearch": "query",
    "Task": "description",
    "Agent": "description",
    "Skill": "skill",
}

_ERROR_HINTS = {
    "auth": "log in with `claude /login` (Claude Code's own login) or set ANTHROPIC_API_KEY",
    "billing": "check your plan or credit balance",
    "rate_limit": "rate limited: wait a moment and send again",
    "overloaded": "the API is overloaded: wait a moment and send again",
}

_STATUS_HINTS = {
    400: "the request was rejected",
    401: "log in with `claude /login` or check ANTHROPIC_API_KEY",
    403: "this key or account may not use that model or feature",
    404: "check the model name (/model)",
    413: "the conversation is too large for the model",
    429: "rate limited: wait a moment and send again",
    500: "the API failed: send again",
    529: "the API is overloaded: wait a moment and send again",
}


def one_line(text: str, limit: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def compact_json(value: object, limit: int) -> str:
    return one_line(json.dumps(value, ensure_ascii=False, default=str), limit)


def tool_call_summary(call: ToolCall, width: int = 100) -> str:
    key = _ESSENTIAL_ARGUMENT.get(call.name)
    argument: Any = call.input.get(key) if key else None
    shown = one_line(str(argument), width) if argument else compact_json(call.input, width)
    return f"{call.name}({shown})"


def recap_line(line: RecapLine, width: int = 100) -> str:
    """One line of a conversation's recap: ``you › …``, ``claude › …``, ``  ⏺ Tool(arg)``."""
    if line.role == "tool":
        call = ToolCall("", line.text, dict(line.tool_input or {}))
        return "  ⏺ " + tool_call_summary(call, width - 6)
    prefix = f"{line.role} › "
    return prefix + one_line(line.text, width - len(prefix))


def tool_result_summary(result: ToolResult, width: int = 100) -> str:
    lines = [line for line in result.content.splitlines() if line.strip()]
    if not lines:
        return "(no output)"
    first = one_line(lines[0], width)
    more = len(lines) - 1
    return first + (f"  … +{more} line{'s' if more != 1 else ''}" if more else "")


def error_line(error: TurnError) -> str:
    if error.kind == "cli":
        return f"{error.message}. Send your message again to continue the session."
    hint = _ERROR_HINTS.get(error.kind)
    if hint is None and error.status is not None:
        hint = _STATUS_HINTS.get(error.status)
    if error.kind == "auth":
        return f"Not logged in: {hint}."
    message = one_line(error.message, 300)
    return f"{message}" + (f" ({hint})" if hint else "")


def tokens(count: int) -> str:
    if count >= 10_000:
        return f"{count / 1000:.0f}k"
    if count >= 1000:
        return f"{count / 1000:.1f}k"
    return str(count)


def footer_text(result: TurnResult, stats: SessionStats) -> str:
    parts = [result.model or "model ?"]
    parts.append(
        f"{tokens(result.usage.prompt_tokens)} in / {tokens(result.usage.output_tokens)} out"
    )
    parts.append(f"${result.cost_usd:.4f} (session ${stats.cost_usd:.4f})")
    if result.time_to_first_token_s is not None:
        parts.append(f"first token {result.time_to_first_token_s:.2f}s")
    parts.append(f"{result.duration_s:.1f}s")
    return " · ".join(parts)


def permission_lines(request: PermissionRequest, width: int = 100) -> list[tuple[str, str]]:
    """The question's lines and their styles: what Claude Code wants to do, and why it asks.
    The call itself was just shown as a tool line."""
    call = ToolCall(request.tool_use_id or "", request.name, request.input)
    question = request.title or f"Claude wants to run {tool_call_summary(call, width - 24)}"
    lines = [("? " + one_line(question, width - 2), "bold yellow")]
    if request.reason:
        lines.append(("  " + one_line(request.reason, width - 2), "dim"))
    return lines
