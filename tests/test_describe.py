"""Tool calls and results as the user sees them: one header line, a few result lines."""

from __future__ import annotations

from claude_chat.engine.events import ToolCall, ToolResult, TurnResult
from claude_chat.engine.stats import SessionStats
from claude_chat.engine.text import tool_call_summary
from claude_chat.terminal.describe import footer_text, tool_result_lines


def call(name: str, **arguments: object) -> ToolCall:
    return ToolCall("t1", name, dict(arguments))


def result(content: str, is_error: bool = False) -> ToolResult:
    return ToolResult("t1", content, is_error)


def test_headers_show_the_essential_argument() -> None:
    assert tool_call_summary(call("Bash", command="ls -la", description="x")) == "Bash(ls -la)"
    assert tool_call_summary(call("Read", file_path="/a.py", offset=10, limit=5)) == (
        "Read(/a.py:10-14)"
    )
    assert tool_call_summary(call("Grep", pattern="TODO", path="src")) == "Grep(TODO in src)"
    assert tool_call_summary(call("WebFetch", url="https://x.y/z")) == "WebFetch(https://x.y/z)"
    assert tool_call_summary(call("mcp__github__create_issue", title="Bug")) == (
        'github · create_issue({"title": "Bug"})'
    )
    assert tool_call_summary(call("Mystery", a=1)) == 'Mystery({"a": 1})'


def test_bash_shows_the_ends_of_its_output_and_its_exit_status() -> None:
    output = "\n".join(f"line {i}" for i in range(1, 251))
    lines = [text for text, _ in tool_result_lines(call("Bash", command="x"), result(output))]
    assert lines == ["line 1", "line 2", "line 3", "… 245 more lines", "line 249", "line 250"]
    failed = tool_result_lines(call("Bash", command="x"), result("Exit code 2\nno such file", True))
    assert failed == [("Exit code 2: no such file", "red")]


def test_read_grep_and_glob_are_counted() -> None:
    read = tool_result_lines(call("Read", file_path="/a"), result("a\nb\nc\n"))
    assert read == [("read 3 lines", "dim")]
    grep = tool_result_lines(call("Grep", pattern="x"), result("Found 4 files\na\nb\nc\nd"))
    assert grep == [("Found 4 files", "dim")]
    glob = tool_result_lines(call("Glob", pattern="*.py"), result("a.py\nb.py"))
    assert glob == [("2 files", "dim")]


def test_edits_are_a_coloured_diff_folded_when_long() -> None:
    edit = call("Edit", file_path="/a.py", old_string="x = 1\ny = 2", new_string="x = 1\ny = 3")
    lines = tool_result_lines(edit, result("ok"))
    assert ("-y = 2", "red") in lines and ("+y = 3", "green") in lines
    write = call("Write", file_path="/b.py", content="\n".join(f"row {i}" for i in range(40)))
    lines = tool_result_lines(write, result("ok"))
    assert len(lines) == 13 and lines[-1] == ("… 29 more lines of diff", "dim")
    assert all(style == "green" for _, style in lines[1:12])


def test_a_ten_megabyte_result_is_summarised_not_dumped() -> None:
    huge = "\n".join("x" * 99 for _ in range(100_000))  # 10 MB
    lines = tool_result_lines(call("Bash", command="cat big"), result(huge))
    assert lines[3] == ("… 99,995 more lines", "dim")
    assert len(lines) == 6


def test_tables_show_brackets_as_written_not_as_markup() -> None:
    import io

    from rich.console import Console

    from claude_chat.terminal.render import table

    out = io.StringIO()
    Console(file=out, width=80).print(table(["#", "title"], [["1", "[draft] plan [code]"]]))
    assert "[draft] plan [code]" in out.getvalue()


def test_command_summaries_are_whole_first_paragraphs() -> None:
    from claude_chat.terminal.commands import registry

    resume = registry.lookup("resume")
    assert resume is not None and resume.summary.endswith("or words of its title.")


def test_the_footer_says_how_much_of_the_first_token_was_start_up() -> None:
    stats = SessionStats()
    waited = TurnResult(
        None, "claude-opus-5-5", False, False, time_to_first_token_s=1.27, startup_wait_s=0.98
    )
    assert "first token 1.27s (0.98s start-up) · " in footer_text(waited, stats)
    # A few milliseconds before the message reaches a running Claude Code are not worth a word.
    running = TurnResult(
        None, "claude-opus-5-5", False, False, time_to_first_token_s=0.24, startup_wait_s=0.003
    )
    footer = footer_text(running, stats)
    assert "first token 0.24s ·" in footer and "start-up" not in footer


def test_status_summarises_first_tokens_over_the_session() -> None:
    stats = SessionStats()
    assert stats.first_token_summary() == "no answers yet"
    for seconds in [0.30, 0.20, 0.25, 1.50, 0.22]:
        stats.record(TurnResult(None, None, False, False, time_to_first_token_s=seconds))
    stats.record(TurnResult(None, None, True, False))  # failed before any token: not counted
    assert stats.first_token_summary() == "median 0.25s, p95 1.50s over 5 turns"
