"""What a turn says besides its answer, as the lines both views draw."""

from __future__ import annotations

import io

from rich.console import Console

from claude_chat.engine.events import (
    PermissionDenied,
    Retrying,
    TextDelta,
    ThinkingDelta,
    ToolCall,
    ToolResult,
    TurnError,
    TurnResult,
    Usage,
)
from claude_chat.engine.stats import SessionStats
from claude_chat.terminal.plain_view import PlainTurnView
from claude_chat.terminal.render import styled_text
from claude_chat.terminal.turn_lines import LIVE, PLAIN, StyledLine, TurnLines

WIDTH = 100


def pieces(lines: list[StyledLine]) -> list[tuple[tuple[str, str], ...]]:
    return [line.pieces for line in lines]


def texts(lines: list[StyledLine]) -> list[str]:
    return [line.text for line in lines]


def ended(
    interrupted: bool = False, error: TurnError | None = None, answer: str = ""
) -> TurnResult:
    return TurnResult(
        "s",
        "claude-x",
        is_error=error is not None,
        interrupted=interrupted,
        usage=Usage(1200, 34),
        cost_usd=0.0123,
        duration_s=2.5,
        error=error,
        answer=answer,
    )


def test_a_call_is_a_marked_summary_and_its_result_hangs_under_it() -> None:
    lines = TurnLines(LIVE)
    call = lines.of(ToolCall("t1", "Bash", {"command": "ls -1"}), WIDTH)
    assert pieces(call) == [(("⏺ ", "cyan"), ("Bash(ls -1)", "cyan bold"))]
    result = lines.of(ToolResult("t1", "a\nb\nc", is_error=False), WIDTH)
    assert pieces(result) == [(("  ⎿ a", "dim"),), (("    b", "dim"),), (("    c", "dim"),)]


def test_a_result_is_described_with_the_call_it_answers() -> None:
    lines = TurnLines(PLAIN)
    lines.of(ToolCall("t1", "Read", {"file_path": "/a.py"}), WIDTH)
    assert texts(lines.of(ToolResult("t1", "x\ny\n", is_error=False), WIDTH)) == [
        "  ⎿ read 2 lines"
    ]
    # Paired once: a second result with that id no longer knows it answers a Read.
    assert texts(lines.of(ToolResult("t1", "x\ny\n", is_error=False), WIDTH)) == ["  ⎿ x", "    y"]


def test_an_error_result_is_red() -> None:
    lines = TurnLines(LIVE)
    lines.of(ToolCall("t1", "Read", {"file_path": "/nope"}), WIDTH)
    result = lines.of(ToolResult("t1", "File does not exist.", is_error=True), WIDTH)
    assert pieces(result) == [(("  ⎿ File does not exist.", "red"),)]


def test_a_subagents_lines_are_indented_under_its_task_and_dimmed() -> None:
    for wording in (LIVE, PLAIN):
        lines = TurnLines(wording)
        call = lines.of(ToolCall("t2", "Bash", {"command": "pwd"}, parent_tool_use_id="t1"), WIDTH)
        assert pieces(call) == [
            (("  │ ", "dim"), ("⏺ ", "dim cyan"), ("Bash(pwd)", "dim cyan bold"))
        ]
        result = lines.of(ToolResult("t2", "/w\n/x", False, parent_tool_use_id="t1"), WIDTH)
        assert pieces(result) == [
            (("  │ ", "dim"), ("  ⎿ /w", "dim")),
            (("  │ ", "dim"), ("    /x", "dim")),
        ]


def test_a_refusal_silences_the_result_of_its_call() -> None:
    lines = TurnLines(LIVE)
    lines.of(ToolCall("t1", "Bash", {"command": "rm -rf /"}), WIDTH)
    refusal = lines.of(PermissionDenied("t1", "Bash", {}, "not allowed"), WIDTH)
    assert pieces(refusal) == [(("  ✗ Bash: not allowed", "red"),)]
    assert lines.of(ToolResult("t1", "denied", is_error=True), WIDTH) == []
    # A refusal without a call id silences nothing.
    lines.of(ToolCall("t2", "Bash", {"command": "x"}), WIDTH)
    lines.of(PermissionDenied(None, "Bash", {}, "no"), WIDTH)
    assert texts(lines.of(ToolResult("t2", "ok", is_error=False), WIDTH)) == ["  ⎿ ok"]


def test_the_views_word_refusals_errors_and_retries_their_own_way() -> None:
    refusal = PermissionDenied("t1", "Write", {}, "read-only")
    error = TurnError("api", "API Error: 529 overloaded", status=529)
    retry = Retrying("retrying in 2s (attempt 2 of 10)")
    live, plain = TurnLines(LIVE), TurnLines(PLAIN)
    assert texts(live.of(refusal, WIDTH)) == ["  ✗ Write: read-only"]
    assert texts(plain.of(refusal, WIDTH)) == ["  ✗ Write read-only"]
    hint = "API Error: 529 overloaded (the API is overloaded: wait a moment and send again)"
    assert pieces(live.of(error, WIDTH)) == [(("✗ " + hint, "bold red"),)]
    assert texts(plain.of(error, WIDTH)) == ["error: " + hint]
    # The live view shows a retry in its status line, not as a line.
    assert live.of(retry, WIDTH) == []
    assert texts(plain.of(retry, WIDTH)) == ["retrying in 2s (attempt 2 of 10)"]


def test_answer_and_thinking_deltas_are_the_views_own() -> None:
    for wording in (LIVE, PLAIN):
        lines = TurnLines(wording)
        assert lines.of(TextDelta("hello"), WIDTH) == []
        assert lines.of(ThinkingDelta("hmm"), WIDTH) == []


def test_a_long_call_is_cut_to_the_width_the_view_leaves_it() -> None:
    call = ToolCall("t1", "Bash", {"command": "x" * 200})
    live = TurnLines(LIVE).of(call, 60)[0].pieces[1][0]
    plain = TurnLines(PLAIN).of(call, 60)[0].pieces[1][0]
    # The live view leaves room for its mark; the plain view does not.
    assert len(plain) - len(live) == 4
    assert live.endswith("…)") and plain.endswith("…)")
    # The live view never cuts a summary below 20 columns.
    narrow = [TurnLines(LIVE).of(call, width)[0].pieces[1][0] for width in (10, 24)]
    assert narrow[0] == narrow[1]


def test_the_end_of_a_turn_says_how_it_ended_then_the_footer() -> None:
    stats = SessionStats()
    footer = "claude-x · 1.2k in / 34 out · $0.0123 (session $0.0000) · 2.5s"
    error = TurnError("api", "boom", status=500)
    for wording, interrupted, incomplete in (
        (LIVE, "⏹ interrupted", "⚠ the answer above is incomplete"),
        (PLAIN, "interrupted", "the answer above is incomplete"),
    ):
        lines = TurnLines(wording)
        assert pieces(lines.end(ended(), stats)) == [((footer, "dim"),)]
        assert pieces(lines.end(ended(interrupted=True, error=error, answer="par"), stats)) == [
            ((interrupted, "yellow"),),
            ((footer, "dim"),),
        ]
        assert pieces(lines.end(ended(error=error, answer="par"), stats)) == [
            ((incomplete, "yellow"),),
            ((footer, "dim"),),
        ]
        # An error before any answer was said as an error line; nothing is incomplete.
        assert texts(lines.end(ended(error=error), stats)) == [footer]


def test_styled_text_keeps_each_pieces_style() -> None:
    line = StyledLine((("  │ ", "dim"), ("⏺ ", "dim cyan"), ("Bash(pwd)", "dim cyan bold")))
    text = styled_text(line)
    assert text.plain == "  │ ⏺ Bash(pwd)"
    assert [(span.start, span.end, span.style) for span in text.spans] == [
        (0, 4, "dim"),
        (4, 6, "dim cyan"),
        (6, 15, "dim cyan bold"),
    ]
    out = io.StringIO()
    Console(file=out, force_terminal=True, color_system="standard", width=40).print(text)
    assert out.getvalue() == ("\x1b[2m  │ \x1b[0m\x1b[2;36m⏺ \x1b[0m\x1b[1;2;36mBash(pwd)\x1b[0m\n")


def test_the_plain_view_writes_the_lines_to_err_and_the_answer_to_out() -> None:
    out, err = io.StringIO(), io.StringIO()
    view = PlainTurnView(out, err, SessionStats(), width=WIDTH)
    for event in (
        TextDelta("Let me look"),
        ToolCall("t1", "Task", {"description": "look around"}),
        ToolCall("t2", "Bash", {"command": "rm -rf /"}, parent_tool_use_id="t1"),
        PermissionDenied("t2", "Bash", {}, "not in this folder"),
        ToolResult("t2", "denied", True, parent_tool_use_id="t1"),
        ToolResult("t1", "done", False),
        Retrying("retrying in 2s"),
        TextDelta("Nothing to see."),
    ):
        view.on_event(event)
    view.finish(ended(interrupted=True))
    assert out.getvalue() == "Let me look\nNothing to see.\n"
    assert err.getvalue().splitlines() == [
        "⏺ Task(look around)",
        "  │ ⏺ Bash(rm -rf /)",
        "  ✗ Bash not in this folder",
        "  ⎿ done",
        "retrying in 2s",
        "interrupted",
        "claude-x · 1.2k in / 34 out · $0.0123 (session $0.0000) · 2.5s",
    ]
