"""One turn on a terminal, as it streams.

Blocks that can no longer change are printed once into the scrollback; only the block being
written and a status line live in a small region that is redrawn, at most ``FPS`` times a
second, from our own event loop (no refresh thread).
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Iterable

from rich.console import Console, ConsoleOptions
from rich.markdown import Markdown
from rich.segment import Segment
from rich.text import Text

from claude_chat.engine.config import ThinkingDisplay
from claude_chat.engine.events import (
    Compacting,
    Event,
    Retrying,
    TextDelta,
    ThinkingDelta,
    ToolCall,
    ToolResult,
    TurnError,
    TurnResult,
)
from claude_chat.engine.stats import SessionStats
from claude_chat.terminal import render
from claude_chat.terminal.live_region import LiveRegion
from claude_chat.terminal.markdown_stream import MarkdownStream
from claude_chat.terminal.turn_lines import LIVE, StyledLine, TurnLines, task_list

FPS = 20
# With nothing arriving, frames only move the spinner and elapsed time.
_IDLE_FRAME_S = 0.1
_SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"
# Rows kept free below the live region, so it never scrolls and duplicates itself.
_HEADROOM = 3
_RULE = re.compile(r" {0,3}([-*_])( *\1){2,} *")

Lines = list[list[Segment]]


class LiveTurnView:
    """Rendering is a function of the view's state, done once per frame; ``fps=0`` leaves the
    frames to the caller (benchmarks and tests)."""

    def __init__(
        self,
        console: Console,
        stats: SessionStats,
        thinking: ThinkingDisplay,
        fps: int = FPS,
    ) -> None:
        self.console = console
        self.stats = stats
        self.thinking_display = thinking
        self.region = LiveRegion(console)
        self._fps = fps
        self._text = MarkdownStream()
        self._thinking: list[str] = []
        self._thinking_words = 0
        self._printed_blocks = 0
        self._after_rule = False
        self._finished: Lines = []
        # Claude Code's task list, kept at the bottom and redrawn in place as it changes;
        # printed for good when the turn ends.
        self._checklist: list[StyledLine] = []
        self._body: tuple[tuple[str, bool, int, int], Lines] | None = None
        self._status = "waiting for Claude"
        self._started = time.monotonic()
        self._ticker: asyncio.Task[None] | None = None
        self._closed = False
        self._paused = False
        self._last_frame = 0.0
        self._content_shown = False
        self._pending: asyncio.TimerHandle | None = None
        self._lines = TurnLines(LIVE)
        self.largest_region = 0

    # -- lifecycle -----------------------------------------------------------------------

    def start(self) -> None:
        self._started = time.monotonic()
        if self._fps:
            self._ticker = asyncio.get_running_loop().create_task(self._tick())

    def close(self) -> None:
        """Stop redrawing; whatever is still open is printed as final."""
        if self._closed:
            return
        self._closed = True
        if self._ticker is not None:
            self._ticker.cancel()
            self._ticker = None
        if self._pending is not None:
            self._pending.cancel()
            self._pending = None
        self._flush_all()
        for line in self._checklist:
            self._print(render.styled_text(line))
        self._checklist = []
        self.region.update(self._finished, [], self.console.width)
        self._finished = []
        self.region.close()

    async def _tick(self) -> None:
        # Keeps the spinner and elapsed time moving while nothing arrives, and sees a
        # resize: every frame is rendered at the terminal's width of the moment.
        while True:
            await asyncio.sleep(_IDLE_FRAME_S)
            if time.monotonic() - self._last_frame >= _IDLE_FRAME_S:
                self.frame()

    def set_status(self, status: str) -> None:
        self._status = status

    def pause(self) -> None:
        self._paused = True
        self._flush_all()
        self.region.update(self._finished, [], self.console.width)
        self._finished = []
        self.region.close()

    def resume(self) -> None:
        self._paused = False

    # -- events --------------------------------------------------------------------------

    def on_event(self, event: Event) -> None:
        self._take(event)
        if not self._fps:
            return
        # The first words of an answer are drawn the moment they arrive; after that, a
        # burst of deltas waits for the next frame, at most 1/FPS away, and costs one.
        if not self._content_shown and isinstance(event, (TextDelta, ThinkingDelta, ToolCall)):
            self._content_shown = True
            self.frame()
        elif self._pending is None:
            due = self._last_frame + 1 / self._fps
            loop = asyncio.get_running_loop()
            self._pending = loop.call_at(loop.time() + max(due - time.monotonic(), 0), self._due)

    def _due(self) -> None:
        self._pending = None
        self.frame()

    def _take(self, event: Event) -> None:
        if isinstance(event, TextDelta):
            if event.parent_tool_use_id is not None:
                return  # subagent prose stays inside its tool call
            self._flush_thinking(final=True)
            self._text.feed(event.text)
            self._status = "answering"
        elif isinstance(event, ThinkingDelta):
            if event.parent_tool_use_id is None and self.thinking_display != "hidden":
                self._thinking.append(event.text)
                self._thinking_words += len(event.text.split())
                self._status = "thinking"
        elif isinstance(event, Compacting):
            self._status = "compacting the conversation"
        elif task_list(event) is not None:
            self._flush_all()
            self._checklist = self._lines.of(event, self.console.width)
            self._status = "updating the task list"
        else:
            if isinstance(event, (ToolCall, TurnError)):
                self._flush_all()
            lines = self._lines.of(event, self.console.width)
            for line in lines:
                self._print(render.styled_text(line))
            if isinstance(event, ToolCall):
                self._status = f"running {event.name}"
            elif isinstance(event, ToolResult) and lines:  # a refused call's result says nothing
                self._status = "waiting for Claude"
            elif isinstance(event, Retrying):
                self._status = event.message

    def finish(self, result: TurnResult) -> None:
        self.close()
        for line in self._lines.end(result, self.stats):
            self.console.print(render.styled_text(line))

    # -- drawing -------------------------------------------------------------------------

    def frame(self) -> None:
        if self._paused or self._closed:
            return
        self._last_frame = time.monotonic()
        self._flush_thinking(final=False)
        self._flush_text(final=False)
        width, height = self.console.size
        options = self.console.options.update_width(width)
        elapsed = time.monotonic() - self._started
        spinner = _SPINNER[int(elapsed * 10) % len(_SPINNER)]
        status = Text(f"{spinner} {self._status} · {elapsed:.1f}s · Ctrl+C to interrupt", "dim")
        if self.thinking_display == "collapsed" and self._thinking:
            status = render.collapsed_thinking(self._thinking_words, done=False) + "\n" + status
        status_lines = self.console.render_lines(status, options, pad=False)
        checklist: Lines = []
        for line in self._checklist:
            checklist.extend(
                self.console.render_lines(render.styled_text(line), options, pad=False)
            )
        rows = max(height - _HEADROOM - len(status_lines) - len(checklist), 3)
        frame = self._open_body(options, rows) + checklist + status_lines
        self.region.update(self._finished, frame, width)
        self._finished = []
        self.largest_region = max(self.largest_region, len(frame))

    def _open_body(self, options: ConsoleOptions, rows: int) -> Lines:
        """The end of the open block, at most ``rows`` lines; redrawn only when it changed."""
        open_thinking = "".join(self._thinking) if self.thinking_display == "full" else ""
        source = open_thinking or self._text.open_tail(rows)
        key = (source, bool(open_thinking), options.max_width, rows)
        if self._body is not None and self._body[0] == key:
            return self._body[1]
        lines: Lines = []
        if source.strip():
            body = Text(source, style="dim italic") if open_thinking else Markdown(source)
            lines = self.console.render_lines(body, options, pad=False)[-rows:]
        self._body = (key, lines)
        return lines

    def _print_blocks(self, blocks: Iterable[str]) -> None:
        for block in blocks:
            # rich puts a blank line before a block when the element it closed last wants one:
            # a container (list, quote, table) always gets it from its own last child, even
            # first or after a rule, and brings it when rendered alone; any other block gets
            # it from the previous block, which wants one unless it is a rule.
            lines = self.console.render_lines(Markdown(block), self.console.options)
            container = bool(lines) and _is_blank(lines[0])
            if not container and self._printed_blocks and not self._after_rule:
                self._finished.append([])
            self._finished.extend(lines)
            self._printed_blocks += 1
            self._after_rule = _RULE.fullmatch(block) is not None

    def _flush_text(self, final: bool) -> None:
        self._print_blocks(self._text.finish() if final else self._text.take_final_blocks())

    def _flush_thinking(self, final: bool) -> None:
        if not self._thinking:
            return
        if self.thinking_display == "collapsed":
            if final:
                self._print(render.collapsed_thinking(self._thinking_words, done=True))
                self._thinking.clear()
            return
        text = "".join(self._thinking)
        cut = len(text) if final else text.rfind("\n\n")
        if cut <= 0:
            return
        done, rest = text[:cut].strip("\n"), text[cut:].lstrip("\n")
        if done:
            self._print(Text(done, style="dim italic"))
        self._thinking = [rest] if rest else []

    def _flush_all(self) -> None:
        self._flush_thinking(final=True)
        self._flush_text(final=True)

    def _print(self, text: Text) -> None:
        """A finished line: it goes above the live region with the next frame."""
        self._finished.extend(self.console.render_lines(text, self.console.options, pad=False))


def _is_blank(line: list[Segment]) -> bool:
    """No text and no background: padding lines of a code block are not blank."""
    return all(
        not segment.text.strip() and (segment.style is None or segment.style.bgcolor is None)
        for segment in line
    )
