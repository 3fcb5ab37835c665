"""One turn on a terminal, as it streams.

Blocks that can no longer change are printed once into the scrollback; only the block being
written and a status line live in a small region that is redrawn, at most ``FPS`` times a
second, from our own event loop (``Live(auto_refresh=False)``: no refresh thread).
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Iterable

from rich.console import Console, ConsoleOptions, RenderResult
from rich.live import Live
from rich.markdown import Markdown
from rich.segment import Segment, SegmentLines
from rich.text import Text

from claude_chat import render
from claude_chat.config import ThinkingDisplay
from claude_chat.events import (
    Event,
    Retrying,
    TextDelta,
    ThinkingDelta,
    ToolCall,
    ToolResult,
    TurnError,
    TurnResult,
)
from claude_chat.markdown_stream import MarkdownStream
from claude_chat.stats import SessionStats

FPS = 20
_SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"
# Lines kept free below the live region, so it never scrolls and duplicates itself.
_HEADROOM = 3
_RULE = re.compile(r" {0,3}([-*_])( *\1){2,} *")


class _Frame:
    """The live region: the tail of the open block, then the status line. Pure of its inputs."""

    def __init__(self, source: str, thinking: bool, status: Text) -> None:
        self.source = source
        self.thinking = thinking
        self.status = status

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        max_lines = max(options.size.height - _HEADROOM, 3)
        lines: list[list[Segment]] = []
        if self.source.strip():
            body = Text(self.source, style="dim italic") if self.thinking else Markdown(self.source)
            lines = console.render_lines(body, options, pad=False)
            # Long open blocks show their end, where the text is arriving.
            lines = lines[-max_lines:]
        for line in lines:
            yield from line
            yield Segment.line()
        yield self.status


class LiveTurnView:
    def __init__(
        self,
        console: Console,
        stats: SessionStats,
        thinking: ThinkingDisplay,
    ) -> None:
        self.console = console
        self.stats = stats
        self.thinking_display = thinking
        self._live = Live(
            console=console,
            auto_refresh=False,
            transient=True,
            redirect_stdout=False,
            redirect_stderr=False,
        )
        self._text = MarkdownStream()
        self._thinking: list[str] = []
        self._thinking_words = 0
        self._printed_blocks = 0
        self._after_rule = False
        self._status = "waiting for Claude"
        self._started = time.monotonic()
        self._dirty = True
        self._ticker: asyncio.Task[None] | None = None

    # -- lifecycle -----------------------------------------------------------------------

    def start(self) -> None:
        self._started = time.monotonic()
        self._live.start()
        self._ticker = asyncio.get_running_loop().create_task(self._tick())

    def close(self) -> None:
        """Stop redrawing; whatever is still open is printed as final."""
        if self._ticker is not None:
            self._ticker.cancel()
            self._ticker = None
        self._flush_thinking(final=True)
        self._flush_text(final=True)
        self._live.update(Text(""), refresh=True)
        self._live.stop()

    async def _tick(self) -> None:
        # Bursts of deltas mark the view dirty; one frame draws them all.
        while True:
            await asyncio.sleep(1 / FPS)
            self.frame()

    def set_status(self, status: str) -> None:
        self._status = status
        self._dirty = True

    # -- events --------------------------------------------------------------------------

    def on_event(self, event: Event) -> None:
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
        elif isinstance(event, ToolCall):
            self._flush_all()
            line = render.tool_call_line(event, self.console.width)
            self._print(Text("  ") + line if event.parent_tool_use_id else line)
            self._status = f"running {event.name}"
        elif isinstance(event, ToolResult):
            line = render.tool_result_line(event, self.console.width)
            self._print(Text("  ") + line if event.parent_tool_use_id else line)
            self._status = "waiting for Claude"
        elif isinstance(event, TurnError):
            self._flush_all()
            self._print(Text("✗ " + render.error_line(event), style="bold red"))
        elif isinstance(event, Retrying):
            self._status = event.message
        self._dirty = True

    def finish(self, result: TurnResult) -> None:
        self.close()
        if result.interrupted:
            self.console.print(Text("⏹ interrupted", style="yellow"))
        self.console.print(render.footer(result, self.stats))

    # -- drawing -------------------------------------------------------------------------

    def frame(self) -> None:
        self._flush_thinking(final=False)
        self._flush_text(final=False)
        elapsed = time.monotonic() - self._started
        spinner = _SPINNER[int(elapsed * 10) % len(_SPINNER)]
        status = Text(f"{spinner} {self._status} · {elapsed:.1f}s · Ctrl+C to interrupt", "dim")
        if self.thinking_display == "collapsed" and self._thinking:
            status = render.collapsed_thinking(self._thinking_words, done=False) + "\n" + status
        open_thinking = "".join(self._thinking) if self.thinking_display == "full" else ""
        source = open_thinking or self._text.open_block
        self._live.update(_Frame(source, bool(open_thinking), status), refresh=True)
        self._dirty = False

    def _print_blocks(self, blocks: Iterable[str]) -> None:
        for block in blocks:
            # rich separates top-level blocks by one blank line (none after a rule); some
            # blocks rendered alone start with that line, so it is dropped and added here.
            lines = self.console.render_lines(Markdown(block), self.console.options)
            if lines and _is_blank(lines[0]):
                del lines[0]
            if self._printed_blocks and not self._after_rule:
                self._print(Text(""))
            self._print(SegmentLines(lines, new_lines=True))
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

    def _print(self, renderable: SegmentLines | Text) -> None:
        # While the live region is up, printing goes above it and the region is redrawn.
        self._live.console.print(renderable)


def _is_blank(line: list[Segment]) -> bool:
    """No text and no background: padding lines of a code block are not blank."""
    return all(
        not segment.text.strip() and (segment.style is None or segment.style.bgcolor is None)
        for segment in line
    )
