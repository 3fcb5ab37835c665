"""One turn as plain text, written as it arrives: for pipes, ``TERM=dumb`` and ``NO_COLOR``.

The answer goes to ``out``; tool calls, errors and the footer go to ``err``, so a pipe that
keeps stdout gets the answers alone.
"""

from __future__ import annotations

from typing import TextIO

from claude_chat.engine.events import Event, TextDelta, TurnResult
from claude_chat.engine.stats import SessionStats
from claude_chat.terminal.turn_lines import PLAIN, TurnLines


class PlainTurnView:
    def __init__(self, out: TextIO, err: TextIO, stats: SessionStats, width: int = 100) -> None:
        self.out = out
        self.err = err
        self.stats = stats
        self.width = width
        self._at_line_start = True
        self._lines = TurnLines(PLAIN)

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
        else:
            for line in self._lines.of(event, self.width):
                self._meta(line.text)

    def finish(self, result: TurnResult) -> None:
        self._end_line()
        for line in self._lines.end(result, self.stats):
            self._meta(line.text)

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
