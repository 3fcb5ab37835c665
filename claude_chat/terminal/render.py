"""How things look on a terminal: rich renderables built from the plain descriptions."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from rich.text import Text

from claude_chat.engine.events import ToolCall, ToolResult, TurnResult
from claude_chat.engine.stats import SessionStats
from claude_chat.engine.text import tool_call_summary
from claude_chat.terminal.describe import footer_text, tool_result_lines

if TYPE_CHECKING:
    from rich.table import Table


def footer(result: TurnResult, stats: SessionStats) -> Text:
    return Text(footer_text(result, stats), style="dim")


def tool_call_line(call: ToolCall, width: int) -> Text:
    line = Text("⏺ ", style="cyan")
    line.append(tool_call_summary(call, max(width - 4, 20)), style="bold")
    return line


def tool_result_text(call: ToolCall | None, result: ToolResult, width: int) -> Text:
    """The result under its call: ``⎿`` then the lines ``describe.tool_result_lines`` gives."""
    text = Text()
    for index, (line, style) in enumerate(tool_result_lines(call, result, max(width - 8, 20))):
        if index:
            text.append("\n")
        text.append(("  ⎿ " if index == 0 else "    ") + line, style=style)
    return text


def collapsed_thinking(word_count: int, done: bool) -> Text:
    verb = "Thought" if done else "Thinking…"
    return Text(f"✻ {verb} ({word_count} words)", style="dim italic")


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> Table:
    """Rows of plain text under bold headers; cells are text, never markup, so a title like
    "[draft] plan" shows as written."""
    from rich.table import Table

    grid = Table(*headers, box=None, header_style="bold", pad_edge=False)
    for row in rows:
        grid.add_row(*(Text(cell) for cell in row))
    return grid
