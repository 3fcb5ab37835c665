"""One turn as plain text, written as it arrives: for pipes, ``TERM=dumb`` and ``NO_COLOR``.

The answer goes to ``out``; tool calls, errors and the footer go to ``err``, so a pipe that
keeps stdout gets the answers alone.
"""

from __future__ import annotations

from typing import TextIO

from claude_chat.engine.events import (
    Event,
    PermissionDenied,
    Retrying,
    TextDelta,
    ToolCall,
    ToolResult,
    TurnError,
    TurnResult,
)
from claude_chat.engine.stats import SessionStats
from claude_chat.engine.text import tool_call_summary
from claude_chat.terminal import describe


class PlainTurnView:
    def __init__(self, out: TextIO, err: TextIO, stats: SessionStats, width: int = 100) -> None:
        self.out = out
        self.err = err
        self.stats = stats
        self.width = width
        self._at_line_start = True
        self._denied: set[str] = set()  # tool calls whose refusal was already said
        self._calls: dict[str, ToolCall] = {}  # calls waiting for their result

    def start(self) -> None:
        pass

    def pause(self) -> None:
        pass

    def resume(self) -> None:
        pass

    def set_status(self, status: str) -> None:
        pass

    def on_event(self, event: Event) -> None:
        if isinstance(event, TextDelta):
            if event.parent_tool_use_id is None and event.text:
                self.out.write(event.text)
                self.out.flush()
                self._at_line_start = event.text.endswith("\n")
        elif isinstance(event, ToolCall):
            self._calls[event.tool_use_id] = event
            indent = "  │ " if event.parent_tool_use_id else ""
            self._meta(indent + "⏺ " + tool_call_summary(event, self.width))
        elif isinstance(event, ToolResult) and event.tool_use_id not in self._denied:
            call = self._calls.pop(event.tool_use_id, None)
            indent = "  │ " if event.parent_tool_use_id else ""
            lines = describe.tool_result_lines(call, event, self.width - 8)
            for index, (line, _) in enumerate(lines):
                self._meta(indent + ("  ⎿ " if index == 0 else "    ") + line)
        elif isinstance(event, PermissionDenied):
            if event.tool_use_id:
                self._denied.add(event.tool_use_id)
            self._meta(f"  ✗ {event.name} {event.reason}")
        elif isinstance(event, TurnError):
            self._meta("error: " + describe.error_line(event))
        elif isinstance(event, Retrying):
            self._meta(event.message)

    def finish(self, result: TurnResult) -> None:
        self._end_line()
        if result.interrupted:
            self._meta("interrupted")
        elif result.error is not None and result.answer:
            self._meta("the answer above is incomplete")
        self._meta(describe.footer_text(result, self.stats))

    def close(self) -> None:
        self._end_line()

    def _end_line(self) -> None:
        if not self._at_line_start:
            self.out.write("\n")
            self.out.flush()
            self._at_line_start = True

    def _meta(self, line: str) -> None:
        self._end_line()
        self.err.write(line + "\n")
        self.err.flush()
