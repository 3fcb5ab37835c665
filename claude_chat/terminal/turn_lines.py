"""What a turn says besides its answer, as styled lines: tool calls and their results, refusals,
errors, and the end of the turn (interrupted, incomplete, the footer).

Both views draw these lines and nothing else of the events; answer and thinking deltas stay
theirs (the live view streams markdown, the plain view writes raw text). A result needs the
call it answers and a refusal silences the result that follows it, so ``TurnLines`` keeps
that memory for one turn.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from claude_chat.engine.events import (
    Compacted,
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
from claude_chat.engine.todos import TODO_TOOL, Todo, todos_from
from claude_chat.terminal.describe import error_line, footer_text, tokens, tool_result_lines


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
        self._task_lists: set[str] = set()  # TodoWrite calls shown as their checklist

    def of(self, event: Event, width: int) -> list[StyledLine]:
        """The lines ``event`` adds at ``width`` columns; none for answer and thinking deltas."""
        wording = self.wording
        todos = task_list(event)
        if todos is not None:
            self._task_lists.add(todos[0])
            return todos[1]
        if (
            isinstance(event, ToolResult)
            and event.tool_use_id in self._task_lists
            and not event.is_error
        ):
            return []  # the checklist said it all: "Todos have been modified successfully"
        if isinstance(event, Compacted):
            return [compaction_line(event)]
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


def task_list(event: Event) -> tuple[str, list[StyledLine]] | None:
    """A TodoWrite call of the main conversation as its checklist (with the call's id)."""
    if not isinstance(event, ToolCall) or event.name != TODO_TOOL or event.parent_tool_use_id:
        return None
    todos = todos_from(event.input)
    return (event.tool_use_id, checklist(todos)) if todos is not None else None


_MARKS = {
    "completed": ("✔", "dim green", "dim strike"),
    "in_progress": ("▶", "bold yellow", "bold yellow"),
    "pending": ("☐", "", ""),
}


def checklist(todos: Sequence[Todo]) -> list[StyledLine]:
    """Claude Code's task list: a heading with how many are done, then one line per item,
    done, in progress (highlighted, worded as it is being done) or pending."""
    done = sum(todo.status == "completed" for todo in todos)
    lines = [_single(f"⏺ Tasks ({done}/{len(todos)} done)", "bold")]
    if not todos:
        lines.append(_single("  (the list is empty)", "dim"))
    for todo in todos:
        mark, mark_style, style = _MARKS[todo.status]
        words = todo.active_form if todo.status == "in_progress" and todo.active_form else None
        lines.append(StyledLine(((f"  {mark} ", mark_style), (words or todo.content, style))))
    return lines


def compaction_line(event: Compacted) -> StyledLine:
    """One line for a compaction: what the context went from and to."""
    change = tokens(event.pre_tokens)
    if event.post_tokens is not None:
        change += f" → {tokens(event.post_tokens)}"
    if event.trigger == "manual":
        return _single(f"compacted in {event.elapsed_s:.1f}s: context {change} tokens", "")
    return _single(f"Claude Code compacted the conversation: {change} tokens", "dim")


def _single(text: str, style: str) -> StyledLine:
    return StyledLine(((text, style),))


def _under(parent_tool_use_id: str | None, line: StyledLine) -> StyledLine:
    if parent_tool_use_id is None:
        return line
    dimmed = tuple(
        (text, f"dim {style}" if style not in ("", "dim") else "dim") for text, style in line.pieces
    )
    return StyledLine(((_SUBAGENT_MARGIN, "dim"), *dimmed))
