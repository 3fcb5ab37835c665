"""What events say, as plain text: tool calls and results in a line, errors with what to do,
the footer of a turn. Shared by the live and plain views, recaps and transcripts."""

from __future__ import annotations

from claude_chat.engine.events import PermissionRequest, ToolCall, ToolResult, TurnError, TurnResult
from claude_chat.engine.stats import SessionStats
from claude_chat.engine.text import one_line, tool_call_summary
from claude_chat.store.sessions import RecapLine

_ERROR_HINTS = {
    "auth": "log in with `claude /login` (Claude Code's own login) or set ANTHROPIC_API_KEY",
    "billing": "check your plan or credit balance",
    "rate_limit": "rate limited: wait a moment and send again",
    "overloaded": "the API is overloaded: wait a moment and send again",
}

_STATUS_HINTS = {
    400: "the request was rejected",
    401: "rejected: log in with `claude /login` or check ANTHROPIC_API_KEY",
    403: "this key or account may not use that model or feature",
    404: "check the model name (/model)",
    413: "the conversation is too large for the model",
    429: "rate limited: wait a moment and send again",
    500: "the API failed: send again",
    529: "the API is overloaded: wait a moment and send again",
}


# How many lines of a tool's output or diff are shown at each end before folding.
_HEAD_LINES = 3
_TAIL_LINES = 2
_DIFF_LINES = 12
# Output past this many characters is summarised from its start and end only.
_SCAN_CHARS = 200_000


def tool_result_lines(
    call: ToolCall | None, result: ToolResult, width: int = 100
) -> list[tuple[str, str]]:
    """A finished tool call in a few lines with a style each (``dim``, ``red``, ``green``):
    Bash with its exit status and the ends of its output, Read with its line count, Edit and
    Write as a folded unified diff, Grep and Glob with their counts, errors in red."""
    name = call.name if call else ""
    content = result.content
    if result.is_error:
        return _folded(
            content, width, "red", prefix=_exit_status(content) if name == "Bash" else ""
        )
    if name in ("Edit", "MultiEdit", "Write") and call is not None:
        return _diff_lines(call, width) or [("(no change)", "dim")]
    if name == "Read":
        return [(f"read {_count_lines(content):,} lines", "dim")]
    if name in ("Grep", "Glob"):
        found = [line for line in _scan(content).splitlines() if line.strip()]
        head = found[0] if found and found[0].startswith("Found ") else None
        what = head or f"{len(found):,} {'files' if name == 'Glob' else 'matching lines'}"
        return [(one_line(what, width), "dim")]
    return _folded(content, width, "dim")


def _scan(content: str) -> str:
    # A 10 MB result is summarised from its ends: splitting all of it would cost a frame.
    if len(content) <= _SCAN_CHARS:
        return content
    half = _SCAN_CHARS // 2
    return content[:half] + "\n" + content[-half:]


def _count_lines(content: str) -> int:
    return content.count("\n") + (1 if content and not content.endswith("\n") else 0)


def _exit_status(content: str) -> str:
    first = content.lstrip().split("\n", 1)[0]
    return first.strip() + ": " if first.lower().startswith("exit code") else ""


def _folded(content: str, width: int, style: str, prefix: str = "") -> list[tuple[str, str]]:
    """The first and last lines of ``content``, with how many are left out between them.
    ``prefix`` (an exit status) replaces the line it was read from."""
    body = content.lstrip().partition("\n")[2] if prefix else content
    lines = [line for line in _scan(body).splitlines() if line.strip()]
    if not lines:
        return [(prefix.rstrip(": ") or "(no output)", style)]
    # Counting lines is cheap even in 10 MB; splitting them all is not.
    total = len(lines) if len(body) <= _SCAN_CHARS else _count_lines(body)
    shown = [prefix + one_line(lines[0], width - len(prefix))]
    if total <= 1 + _HEAD_LINES + _TAIL_LINES:
        shown += [one_line(line, width) for line in lines[1:]]
    else:
        hidden = total - _HEAD_LINES - _TAIL_LINES
        shown += [one_line(line, width) for line in lines[1:_HEAD_LINES]]
        shown.append(f"… {hidden:,} more line{'s' if hidden != 1 else ''}")
        shown += [one_line(line, width) for line in lines[-_TAIL_LINES:]]
    return [(line, style) for line in shown]


def _diff_lines(call: ToolCall, width: int) -> list[tuple[str, str]]:
    import difflib

    arguments = call.input
    if call.name == "Write":
        before, after = "", str(arguments.get("content", ""))
    elif call.name == "MultiEdit":
        edits = arguments.get("edits") or []
        before = "\n".join(str(e.get("old_string", "")) for e in edits if isinstance(e, dict))
        after = "\n".join(str(e.get("new_string", "")) for e in edits if isinstance(e, dict))
    else:
        before, after = str(arguments.get("old_string", "")), str(arguments.get("new_string", ""))
    diff = [
        line
        for line in difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=1)
        if not line.startswith(("---", "+++"))
    ]
    styled = [
        (one_line(line, width) if line.strip() else line, _DIFF_STYLES.get(line[:1], "dim"))
        for line in diff
    ]
    if len(styled) > _DIFF_LINES:
        hidden = len(styled) - _DIFF_LINES
        styled = [*styled[:_DIFF_LINES], (f"… {hidden:,} more lines of diff", "dim")]
    return styled


_DIFF_STYLES = {"+": "green", "-": "red", "@": "cyan"}


def recap_line(line: RecapLine, width: int = 100) -> str:
    """One line of a conversation's recap: ``you › …``, ``claude › …``, ``  ⏺ Tool(arg)``."""
    if line.role == "tool":
        call = ToolCall("", line.text, dict(line.tool_input or {}))
        return "  ⏺ " + tool_call_summary(call, width - 6)
    prefix = f"{line.role} › "
    return prefix + one_line(line.text, width - len(prefix))


def error_line(error: TurnError) -> str:
    if error.kind == "cli":
        return f"{error.message}. /retry sends your message again."
    # The status says more than the kind: a 403 is a key without access, not a missing login.
    hint = _STATUS_HINTS.get(error.status) if error.status is not None else None
    hint = hint or _ERROR_HINTS.get(error.kind)
    if error.kind == "auth" and error.status is None:
        return f"Not logged in: {hint}."
    message = one_line(error.message, 300)
    return f"{message}" + (f" ({hint})" if hint else "")


def tokens(count: int) -> str:
    if count >= 10_000:
        return f"{count / 1000:.0f}k"
    if count >= 1000:
        return f"{count / 1000:.1f}k"
    return str(count)


# Below this, the wait for start-up is not worth a mention in the footer.
STARTUP_WAIT_SHOWN_S = 0.05


def footer_text(result: TurnResult, stats: SessionStats) -> str:
    parts = [result.model or "model ?"]
    parts.append(
        f"{tokens(result.usage.prompt_tokens)} in / {tokens(result.usage.output_tokens)} out"
    )
    parts.append(f"${result.cost_usd:.4f} (session ${stats.cost_usd:.4f})")
    if result.time_to_first_token_s is not None:
        first = f"first token {result.time_to_first_token_s:.2f}s"
        if result.startup_wait_s >= STARTUP_WAIT_SHOWN_S:
            first += f" ({result.startup_wait_s:.2f}s start-up)"
        parts.append(first)
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
