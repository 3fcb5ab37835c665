"""How things look on a terminal: rich renderables built from the plain descriptions."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from rich.text import Text

from claude_chat.terminal.turn_lines import StyledLine

if TYPE_CHECKING:
    from rich.table import Table


def styled_text(line: StyledLine) -> Text:
    text = Text()
    for piece, style in line.pieces:
        text.append(piece, style=style)
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
