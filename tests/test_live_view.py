"""The live view of a turn: what ends up in the scrollback, however the answer was chunked."""

from __future__ import annotations

import asyncio
import io

from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console
from rich.markdown import Markdown

from claude_chat.events import (
    Event,
    TextDelta,
    ThinkingDelta,
    ToolCall,
    ToolResult,
    TurnError,
    TurnResult,
)
from claude_chat.live_view import LiveTurnView
from claude_chat.stats import SessionStats
from tests.screens import visible_lines

WIDTH, HEIGHT = 90, 40

ANSWER = """# Streaming test

Here is a paragraph with **bold**, `inline code` and a [link](https://example.com).

- item one
- item two
  - nested

```python
def hello(name):
    return f"Hello {name}"
```

| col | value |
|-----|-------|
| a   | 1     |

> a quote

---
## After a rule

1. first
2. second

Done."""


def console(out: io.StringIO) -> Console:
    return Console(
        file=out, force_terminal=True, width=WIDTH, height=HEIGHT, color_system="truecolor"
    )


def whole(markdown: str) -> list[str]:
    out = io.StringIO()
    console(out).print(Markdown(markdown))
    return visible_lines(out.getvalue(), WIDTH, HEIGHT)


def streamed(events: list[Event], thinking: str = "full", frames: bool = True) -> list[str]:
    async def run() -> str:
        out = io.StringIO()
        view = LiveTurnView(console(out), SessionStats(), thinking)  # type: ignore[arg-type]
        view.start()
        for event in events:
            view.on_event(event)
            if frames:
                view.frame()
        view.close()
        return out.getvalue()

    return visible_lines(asyncio.run(run()), WIDTH, HEIGHT)


def chunked(text: str, sizes: list[int]) -> list[Event]:
    events: list[Event] = []
    at = 0
    for size in sizes:
        events.append(TextDelta(text[at : at + size]))
        at += size
    events.append(TextDelta(text[at:]))
    return events


def test_streamed_answer_matches_the_whole_answer_rendered_at_once() -> None:
    assert streamed(chunked(ANSWER, [5] * 400)) == whole(ANSWER)


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=40), min_size=1, max_size=80))
def test_any_chunking_leaves_the_same_scrollback(sizes: list[int]) -> None:
    assert streamed(chunked(ANSWER, sizes), frames=False) == whole(ANSWER)


def test_the_live_region_is_gone_at_the_end_and_nothing_is_doubled() -> None:
    lines = streamed(chunked(ANSWER, [3] * 800))
    assert not any("Ctrl+C to interrupt" in line for line in lines)
    assert sum("Done." in line for line in lines) == 1


def test_tools_thinking_and_errors_are_lines_of_their_own() -> None:
    events: list[Event] = [
        ThinkingDelta("Pondering.\n\nStill pondering."),
        ToolCall("t1", "Bash", {"command": "ls -la /tmp", "description": "list"}),
        ToolResult("t1", "a\nb\nc", False),
        ToolCall("t2", "Read", {"file_path": "/etc/missing"}),
        ToolResult("t2", "File does not exist.", True),
        TextDelta("All done."),
        TurnError("api", "API Error: 529 overloaded", 529),
    ]
    lines = streamed(events)
    assert lines[0] == "Pondering." and "Still pondering." in lines
    assert "⏺ Bash(ls -la /tmp)" in lines
    assert "  ⎿ a  … +2 lines" in lines
    assert "  ⎿ File does not exist." in lines
    assert "All done." in lines
    assert (
        lines[-1]
        == "✗ API Error: 529 overloaded (the API is overloaded: wait a moment and send again)"
    )


def test_collapsed_and_hidden_thinking() -> None:
    events: list[Event] = [ThinkingDelta("one two three"), TextDelta("Answer.")]
    assert streamed(events, "collapsed") == ["✻ Thought (3 words)", "Answer."]
    assert streamed(events, "hidden") == ["Answer."]


def test_interrupted_turn_is_marked_and_keeps_its_text() -> None:
    async def run() -> str:
        out = io.StringIO()
        stats = SessionStats()
        view = LiveTurnView(console(out), stats, "full")
        view.start()
        view.on_event(TextDelta("partial answ"))
        view.frame()
        result = TurnResult(
            "s", "claude-x", is_error=False, interrupted=True, answer="partial answ"
        )
        stats.record(result)
        view.finish(result)
        return out.getvalue()

    lines = visible_lines(asyncio.run(run()), WIDTH, HEIGHT)
    assert lines[0] == "partial answ"
    assert lines[1] == "⏹ interrupted"
    assert lines[2].startswith("claude-x · 0 in / 0 out · $0.0000 (session $0.0000)")


def test_a_long_open_block_keeps_the_live_region_below_the_screen_height() -> None:
    async def run() -> int:
        out = io.StringIO()
        view = LiveTurnView(console(out), SessionStats(), "full")
        view.start()
        view.on_event(TextDelta("```\n" + "\n".join(f"line {i}" for i in range(500))))
        view.frame()
        height = view._live._live_render._shape[1] if view._live._live_render._shape else 0
        view.close()
        return height

    assert 0 < asyncio.run(run()) < HEIGHT
