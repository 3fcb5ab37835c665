"""How things look on a terminal: rich renderables built from the plain descriptions."""

from __future__ import annotations

from rich.text import Text

from claude_chat.describe import footer_text, tool_call_summary, tool_result_summary
from claude_chat.events import ToolCall, ToolResult, TurnResult
from claude_chat.stats import SessionStats


def footer(result: TurnResult, stats: SessionStats) -> Text:
    return Text(footer_text(result, stats), style="dim")


def tool_call_line(call: ToolCall, width: int) -> Text:
    line = Text("⏺ ", style="cyan")
    line.append(tool_call_summary(call, max(width - 4, 20)), style="bold")
    return line


def tool_result_line(result: ToolResult, width: int) -> Text:
    style = "red" if result.is_error else "dim"
    return Text("  ⎿ " + tool_result_summary(result, max(width - 8, 20)), style=style)


def collapsed_thinking(word_count: int, done: bool) -> Text:
    verb = "Thought" if done else "Thinking…"
    return Text(f"✻ {verb} ({word_count} words)", style="dim italic")
