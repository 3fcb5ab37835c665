"""What a turn says besides its answer, as styled lines: tool calls and their results, refusals,
errors, and the end of the turn (interrupted, incomplete, the footer).

Both views draw these lines and nothing else of the events; answer and thinking deltas stay
theirs (the live view streams markdown, the plain view writes raw text). A result needs the
call it answers and a refusal silences the result that follows it, so ``TurnLines`` keeps
that memory for one turn.
"""

from __future__ import annotations

from dataclasses import dataclass

from claude_chat.engine.events import (
    Event,
    PermissionDenied,
    Retrying,
    ToolCall,
    ToolResult,
    TurnError,
    TurnResult,
)
from claude_chat.engine.stats import SessionStats
from claude_chat.engine.text import tool_call_summary
from claude_chat.terminal.describe import error_line, footer_text, tool_result_lines


@dataclass(frozen=True, slots=True)
class StyledLine:
    """One line as pieces of text with a rich style name each (``""``: none). Most lines are one
    piece; a call line is two (its mark and its summary), a subagent's line has its margin too."""

    pieces: tuple[tuple[str, str], ...]

    @property
    def text(self) -> str:
        return "".join(text for text, _ in self.pieces)


@dataclass(frozen=True, slots=True)
class Wording:
    """How a view words the lines: the live view marks them with symbols and shows retries in
    its status line; plain text says ``error:`` and writes retries as lines."""

    call_margin: int  # columns a call's summary leaves free of the width
    min_width: int  # a summary never gets narrower than this
    denied: str  # with {name} and {reason}
    error: str  # before the error's line
    interrupted: str
    incomplete: str
    retries_as_lines: bool


LIVE = Wording(
    call_margin=4,
    min_width=20,
    denied="  ✗ {name}: {reason}",
    error="✗ ",
    interrupted="⏹ interrupted",
    incomplete="⚠ the answer above is incomplete",
    retries_as_lines=False,
)
PLAIN = Wording(
    call_margin=0,
    min_width=0,
    denied="  ✗ {name} {reason}",
    error="error: ",
    interrupted="interrupted",
    incomplete="the answer above is incomplete",
    retries_as_lines=True,
)

# A subagent's lines are indented under the Task that runs it, and dimmed.
_SUBAGENT_MARGIN = "  │ "


class TurnLines:
    """The lines of one turn's events, in the order they are drawn."""

    def __init__(self, wording: Wording) -> None:
        self.wording = wording
        self._denied: set[str] = set()  # tool calls whose refusal was already said
        self._calls: dict[str, ToolCall] = {}  # calls waiting for their result

    def of(self, event: Event, width: int) -> list[StyledLine]:
        """The lines ``event`` adds at ``width`` columns; none for answer and thinking deltas."""
        wording = self.wording
        if isinstance(event, ToolCall):
            self._calls[event.tool_use_id] = event
            summary_width = max(width - wording.call_margin, wording.min_width)
            summary = tool_call_summary(event, summary_width)
            line = StyledLine((("⏺ ", "cyan"), (summary, "cyan bold")))
            return [_under(event.parent_tool_use_id, line)]
        if isinstance(event, ToolResult):
            if event.tool_use_id in self._denied:
                return []
            call = self._calls.pop(event.tool_use_id, None)
            lines_width = max(width - 8, wording.min_width)
            described = tool_result_lines(call, event, lines_width)
            return [
                _under(
                    event.parent_tool_use_id, _single(("    " if index else "  ⎿ ") + text, style)
                )
                for index, (text, style) in enumerate(described)
            ]
        if isinstance(event, PermissionDenied):
            if event.tool_use_id:
                self._denied.add(event.tool_use_id)
            text = wording.denied.format(name=event.name, reason=event.reason)
            return [_single(text, "red")]
        if isinstance(event, TurnError):
            return [_single(wording.error + error_line(event), "bold red")]
        if isinstance(event, Retrying) and wording.retries_as_lines:
            return [_single(event.message, "")]
        return []

    def end(self, result: TurnResult, stats: SessionStats) -> list[StyledLine]:
        """The last lines of a turn: whether it was cut short, then the footer."""
        lines = []
        if result.interrupted:
            lines.append(_single(self.wording.interrupted, "yellow"))
        elif result.error is not None and result.answer:
            lines.append(_single(self.wording.incomplete, "yellow"))
        lines.append(_single(footer_text(result, stats), "dim"))
        return lines


def _single(text: str, style: str) -> StyledLine:
    return StyledLine(((text, style),))


def _under(parent_tool_use_id: str | None, line: StyledLine) -> StyledLine:
    if parent_tool_use_id is None:
        return line
    dimmed = tuple(
        (text, f"dim {style}" if style not in ("", "dim") else "dim") for text, style in line.pieces
    )
    return StyledLine(((_SUBAGENT_MARGIN, "dim"), *dimmed))
