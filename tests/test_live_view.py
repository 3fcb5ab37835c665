"""The live view of a turn: what ends up in the scrollback, however the answer was chunked."""

from __future__ import annotations

import asyncio
import io

import pyte
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console
from rich.markdown import Markdown

from claude_chat.engine.events import (
    Event,
    PermissionDenied,
    TextDelta,
    ThinkingDelta,
    ToolCall,
    ToolResult,
    TurnError,
    TurnResult,
)
from claude_chat.engine.stats import SessionStats
from claude_chat.terminal.live_view import LiveTurnView
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
    assert lines[lines.index("⏺ Bash(ls -la /tmp)") + 1 :][:3] == ["  ⎿ a", "    b", "    c"]
    assert "  ⎿ File does not exist." in lines
    assert "All done." in lines
    assert (
        lines[-1]
        == "✗ API Error: 529 overloaded (the API is overloaded: wait a moment and send again)"
    )


def test_a_subagents_tools_hang_under_its_task_and_a_refused_call_shows_no_result() -> None:
    events: list[Event] = [
        ToolCall("t1", "Task", {"description": "look around"}),
        ToolCall("t2", "Bash", {"command": "pwd"}, parent_tool_use_id="t1"),
        ToolResult("t2", "/work\n/tmp", False, parent_tool_use_id="t1"),
        ToolCall("t3", "Bash", {"command": "rm -rf /"}, parent_tool_use_id="t1"),
        PermissionDenied("t3", "Bash", {}, "not in this folder"),
        ToolResult("t3", "denied", True, parent_tool_use_id="t1"),
        ToolResult("t1", "done", False),
    ]
    lines = streamed(events)
    start = lines.index("⏺ Task(look around)")
    assert lines[start:] == [
        "⏺ Task(look around)",
        "  │ ⏺ Bash(pwd)",
        "  │   ⎿ /work",
        "  │     /tmp",
        "  │ ⏺ Bash(rm -rf /)",
        "  ✗ Bash: not in this folder",
        "  ⎿ done",
    ]


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
        view = LiveTurnView(console(out), SessionStats(), "full", fps=0)
        view.start()
        view.on_event(TextDelta("```\n" + "\n".join(f"line {i}" for i in range(500))))
        view.frame()
        view.close()
        return view.largest_region

    assert 0 < asyncio.run(run()) < HEIGHT


def test_frames_overwrite_in_place_and_only_what_changed() -> None:
    async def run() -> tuple[str, str]:
        out = io.StringIO()
        view = LiveTurnView(console(out), SessionStats(), "full", fps=0)
        view.start()
        view.on_event(TextDelta("A paragraph that is still being written"))
        view.frame()
        first = out.getvalue()
        view.frame()  # nothing new: only the status row (elapsed time) may change
        second = out.getvalue()[len(first) :]
        view.close()
        return first, second

    first, second = asyncio.run(run())
    # Synchronized output brackets every frame; nothing is erased before it is drawn again.
    assert first.startswith("\x1b[?2026h") and first.endswith("\x1b[?2026l")
    assert "\x1b[2K" not in first + second
    assert "A paragraph" not in second
    assert second.count("\n") == 0


def resized(events: list[Event], at: int, width: int) -> list[str]:
    """The scrollback of a turn whose terminal is narrowed to ``width`` after ``at`` events."""

    async def run() -> tuple[str, str]:
        out = io.StringIO()
        term = console(out)
        view = LiveTurnView(term, SessionStats(), "full", fps=0)
        view.start()
        for event in events[:at]:
            view.on_event(event)
            view.frame()
        before = out.getvalue()
        term.width = width
        for event in events[at:]:
            view.on_event(event)
            view.frame()
        view.close()
        return before, out.getvalue()[len(before) :]

    before, after = asyncio.run(run())
    screen = pyte.HistoryScreen(WIDTH, HEIGHT, history=100_000)
    stream = pyte.Stream(screen)
    stream.feed(before.replace("\n", "\r\n"))
    screen.resize(HEIGHT, width)
    stream.feed(after.replace("\n", "\r\n"))
    top = ["".join(ch.data for ch in line.values()).rstrip() for line in screen.history.top]
    lines = top + [line.rstrip() for line in screen.display]
    while lines and not lines[-1]:
        lines.pop()
    return lines


def test_a_resize_while_streaming_redraws_the_tail_and_duplicates_nothing() -> None:
    paragraphs = "\n\n".join(f"Paragraph {i}: " + "word " * 30 for i in range(12))
    events = chunked(paragraphs, [4] * 600)
    lines = resized(events, at=200, width=60)
    text = "\n".join(lines)
    for i in range(12):
        assert text.count(f"Paragraph {i}:") == 1, text
    # Committed text keeps its width; what came after the resize is wrapped at the new one.
    assert max(len(line) for line in lines[-10:]) <= 60
    assert not any("Ctrl+C to interrupt" in line for line in lines)


WORDS = st.sampled_from(
    [
        "alpha",
        "beta",
        "gamma",
        "delta",
        "**bold**",
        "`code`",
        "*it*",
        "[link](https://example.com)",
        "x",
        "longerword",
        "ünïcode",
        "漢字",
    ]
)


def words(min_size: int = 1, max_size: int = 12) -> st.SearchStrategy[str]:
    return st.lists(WORDS, min_size=min_size, max_size=max_size).map(" ".join)


@st.composite
def blocks(draw: st.DrawFn) -> str:
    kind = draw(
        st.sampled_from(
            ["heading", "paragraph", "bullets", "ordered", "fence", "table", "quote", "rule"]
        )
    )
    if kind == "heading":
        return "#" * draw(st.integers(1, 3)) + " " + draw(words(1, 4))
    if kind == "paragraph":
        return "\n".join(draw(st.lists(words(), min_size=1, max_size=3)))
    if kind in ("bullets", "ordered"):
        items = draw(st.lists(words(1, 6), min_size=1, max_size=5))
        lines = []
        for number, item in enumerate(items, start=1):
            lines.append(("- " if kind == "bullets" else f"{number}. ") + item)
            if draw(st.booleans()):
                lines.append(("  " if kind == "bullets" else "   ") + "- " + draw(words(1, 4)))
        return "\n".join(lines)
    if kind == "fence":
        code = draw(
            st.lists(
                st.sampled_from(
                    ["def f(x):", "    return x + 1", "", "print('hi')  # note", "class A: pass"]
                ),
                min_size=1,
                max_size=8,
            )
        )
        return "```python\n" + "\n".join(code) + "\n```"
    if kind == "table":
        rows = draw(st.lists(st.tuples(words(1, 2), words(1, 2)), min_size=1, max_size=4))
        return "| name | value |\n|------|-------|\n" + "\n".join(f"| {a} | {b} |" for a, b in rows)
    if kind == "quote":
        return "\n".join("> " + line for line in draw(st.lists(words(), min_size=1, max_size=3)))
    return "---"


@st.composite
def documents(draw: st.DrawFn) -> str:
    # Blocks are mostly apart, sometimes back to back (a lazy line, a fence after a line).
    parts = draw(st.lists(blocks(), min_size=1, max_size=8))
    document = parts[0]
    for part in parts[1:]:
        document += draw(st.sampled_from(["\n\n", "\n\n", "\n", "\n\n\n"])) + part
    return document


@settings(max_examples=150, deadline=None)
@given(documents(), st.lists(st.integers(min_value=1, max_value=12), min_size=1, max_size=200))
def test_varied_markdown_in_any_chunking_leaves_what_rich_prints(
    document: str, sizes: list[int]
) -> None:
    assert streamed(chunked(document, sizes)) == whole(document)


def test_the_region_shrinking_to_a_prefix_of_itself_leaves_nothing_behind() -> None:
    from rich.segment import Segment

    from claude_chat.terminal.live_region import LiveRegion

    out = io.StringIO()
    region = LiveRegion(console(out))

    def rows(*texts: str) -> list[list[Segment]]:
        return [[Segment(t)] for t in texts]

    region.update([], rows("a", "b", "c", "d", "e"), WIDTH)
    region.update([], rows("a", "b", "c"), WIDTH)
    region.update([], rows("a", "b", "x"), WIDTH)
    assert visible_lines(out.getvalue(), WIDTH, HEIGHT) == ["a", "b", "x"]
