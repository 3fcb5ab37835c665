"""claude-chat in a pseudo-terminal, with the real CLI and the stand-in API: what a person sees."""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fake_api import FakeAnthropicAPI
from tests.terminal import Terminal, processes_with_env

pytestmark = [pytest.mark.integration, pytest.mark.terminal]

PROMPT = "❯"


def ready(screen: str) -> bool:
    return screen.rstrip().endswith("ready")


@pytest.fixture
def term(api: FakeAnthropicAPI, project: Path, isolated: Path) -> Iterator[Terminal]:
    env = dict(os.environ, TERM="xterm-256color")
    env.pop("NO_COLOR", None)
    terminal = Terminal([sys.executable, "-m", "claude_chat"], env, project)
    terminal.wait_for(PROMPT, timeout=20)
    terminal.wait_for(ready, timeout=60)
    yield terminal
    terminal.close()
    assert processes_with_env(str(isolated)) == [], "a process of ours outlived the test"


def test_answer_streams_live_then_a_footer(term: Terminal, api: FakeAnthropicAPI) -> None:
    term.enter("SLOW 8")
    # The first words are on screen while the last are still to come.
    screen = term.wait_for("slow1", timeout=30)
    assert "slow7" not in screen
    screen = term.wait_for(lambda s: "first token" in s, timeout=30)
    assert "slow7" in screen
    footer = next(line for line in screen.splitlines() if "first token" in line)
    assert re.search(
        r"claude-\S+ · [\d.]+k? in / [\d.]+k? out · \$\d+\.\d{4} \(session \$\d+\.\d{4}\)", footer
    )
    # The complete message the CLI sends after the deltas is not printed again.
    assert screen.count("slow3") == 1


def test_ctrl_c_interrupts_and_the_session_goes_on(term: Terminal, api: FakeAnthropicAPI) -> None:
    term.enter("SLOW 40")
    term.wait_for("slow2", timeout=30)
    term.ctrl("c")
    screen = term.wait_for("interrupted", timeout=30)
    assert "slow39" not in screen
    term.wait_for(lambda s: s.count(PROMPT) >= 2, timeout=30)
    term.enter("RECALL")
    screen = term.wait_for("(end)", timeout=30)
    assert "You said before: [SLOW 40" in screen
    # Nothing of the interrupted turn leaks into this one.
    answer = screen[screen.index("You said before") :]
    assert "slow" not in answer.split("(end)")[1]
    assert len({r.headers.get("x-api-key") for r in api.message_requests()}) == 1
    term.ctrl("d")
    assert term.wait_exit() == 0


def test_model_switch_reaches_the_api(term: Terminal, api: FakeAnthropicAPI) -> None:
    term.enter("/model haiku")
    term.wait_for("model set to", timeout=30)
    term.enter("Hi")
    term.wait_for("Echo: Hi", timeout=30)
    assert "haiku" in api.message_requests()[-1].model
    term.wait_for(lambda s: "haiku" in s.splitlines()[-1], timeout=10)


def test_new_lines_and_pastes_make_one_message(term: Terminal, api: FakeAnthropicAPI) -> None:
    term.type("first")
    term.type("\x1b\r")  # Esc Enter
    term.type("second")
    term.ctrl("j")
    term.type("third")
    term.enter()
    term.wait_for("Echo: first", timeout=30)
    assert api.message_requests()[-1].last_user_text == "first\nsecond\nthird"
    before = len(api.message_requests())
    term.type("\x1b[200~one\ntwo\nthree\x1b[201~")
    term.pump(0.5)
    assert len(api.message_requests()) == before  # a paste is never sent by itself
    term.enter()
    term.wait_for("Echo: one", timeout=30)
    assert api.message_requests()[-1].last_user_text == "one\ntwo\nthree"


def test_ctrl_c_at_an_empty_prompt_hints_and_ctrl_d_quits(term: Terminal, isolated: Path) -> None:
    term.ctrl("c")
    term.wait_for("To quit: Ctrl+D or /exit", timeout=10)
    term.ctrl("d")
    assert term.wait_exit() == 0
    assert processes_with_env(str(isolated)) == []


def test_exit_closes_the_cli_and_tells_the_session(term: Terminal, isolated: Path) -> None:
    term.enter("hello")
    term.wait_for("Echo: hello", timeout=30)
    term.enter("/exit")
    assert term.wait_exit() == 0
    assert re.search(r"claude-chat --session [0-9a-f-]{36}", term.history())
    assert processes_with_env(str(isolated)) == []


def test_one_process_for_every_turn(term: Terminal) -> None:
    term.enter("/status")
    term.wait_for("pid ", timeout=30)
    for word in ("one", "two", "three"):
        term.enter(word)
        term.wait_for(f"Echo: {word}", timeout=30)
    term.enter("/status")
    screen = term.wait_for(lambda s: len(re.findall(r"pid \d+", s)) == 2, timeout=30)
    assert len(set(re.findall(r"pid (\d+)", screen))) == 1
    assert re.search(r"turns\s+3", screen)


def test_errors_are_one_line_and_the_chat_goes_on(term: Terminal) -> None:
    term.enter("/modle")
    term.wait_for("did you mean /model?", timeout=10)
    term.enter("FAIL 400")
    term.wait_for("fake 400", timeout=60)
    term.enter("after")
    screen = term.wait_for("Echo: after", timeout=30)
    assert "Traceback" not in screen


def test_what_is_typed_during_an_answer_goes_to_the_next_prompt(
    term: Terminal, api: FakeAnthropicAPI
) -> None:
    term.enter("SLOW 12")
    term.wait_for("slow1", timeout=30)
    term.type("\x1b[200~para one\npara two\x1b[201~")
    term.type(" and more")
    screen = term.wait_for(lambda s: "first token" in s and "more" in s, timeout=30)
    # The typed text waits in the next prompt; the paste was not sent line by line.
    prompts = [line for line in screen.splitlines() if line.startswith(PROMPT)]
    assert prompts[-1].startswith(f"{PROMPT} para one"), screen
    assert len(api.message_requests()) == 1
    term.enter()
    term.wait_for("Echo: para one", timeout=30)
    assert api.message_requests()[-1].last_user_text == "para one\npara two and more"


def test_ctrl_d_during_an_answer_quits_after_it(term: Terminal) -> None:
    term.enter("SLOW 6")
    term.wait_for("slow1", timeout=30)
    term.ctrl("d")
    assert term.wait_exit() == 0
    assert "slow5" in term.history()


def test_thinking_tools_and_markdown_are_rendered(term: Terminal, project: Path) -> None:
    term.enter("THINK")
    screen = term.wait_for("Thought done.", timeout=30)
    assert screen.index("Let me think about this.") < screen.index("Thought done.")
    term.enter("TOOL echo hi")
    screen = term.wait_for("Tool said:", timeout=60)
    assert re.search(r"Bash.*echo hi", screen)
    term.enter("MARKDOWN")
    screen = term.wait_for(lambda s: s.count("first token") == 3, timeout=30)
    # Markdown syntax is rendered, not shown raw.
    assert "```" not in screen
    assert "## " not in screen


def test_a_resize_while_streaming_leaves_no_duplicated_lines(term: Terminal) -> None:
    term.enter("LONG 6")
    term.wait_for("Paragraph 2:", timeout=30)
    term.resize(40, 70)
    screen = term.wait_for(lambda s: s.count(PROMPT) == 2, timeout=60)
    for i in range(1, 7):
        assert screen.count(f"Paragraph {i}:") == 1, screen
    assert "Ctrl+C to interrupt" not in screen
    # What streamed after the resize was wrapped at the new width.
    assert max(len(line) for line in term.display().splitlines()) <= 70


@pytest.mark.parametrize("variable", [{"NO_COLOR": "1"}, {"TERM": "dumb"}])
def test_plain_terminals_get_plain_text_as_it_comes(
    variable: dict[str, str], api: FakeAnthropicAPI, project: Path, isolated: Path
) -> None:
    env = {**os.environ, "TERM": "xterm-256color", **variable}
    terminal = Terminal([sys.executable, "-m", "claude_chat"], env, project)
    try:
        terminal.wait_for(PROMPT, timeout=20)
        terminal.pump(3)
        terminal.enter("MARKDOWN")
        screen = terminal.wait_for("return message", timeout=60)
        # Markdown is shown as written, not rendered, and no colour codes are sent.
        assert "# A heading" in screen and "```python" in screen
        assert b"\x1b[38;" not in terminal.raw and b"\x1b[2m" not in terminal.raw
        terminal.ctrl("d")
        assert terminal.wait_exit() == 0
    finally:
        terminal.close()
    assert processes_with_env(str(isolated)) == []


def session_files(home: Path) -> list[Path]:
    return sorted((home / ".claude" / "projects").glob("*/*.jsonl"))


def test_sessions_table_resume_with_a_recap_and_delete(
    api: FakeAnthropicAPI, project: Path, isolated: Path
) -> None:
    env = {**os.environ, "TERM": "xterm-256color"}
    first = Terminal([sys.executable, "-m", "claude_chat"], env, project)
    try:
        first.wait_for(ready, timeout=60)
        first.enter("remember the word pelican")
        first.wait_for("Echo: remember", timeout=30)
        first.enter("/rename Birds")
        first.wait_for("titled 'Birds'", timeout=30)
        first.enter("/new")
        first.wait_for("new conversation", timeout=60)
        first.enter("another topic")
        first.wait_for("Echo: another topic", timeout=30)
        first.enter("/sessions")
        screen = first.wait_for("/resume N", timeout=30)
        assert re.search(r"1\*\s+[0-9a-f]{8}\s+another topic\s+just now\s+1", screen), screen
        assert re.search(r"2\s+[0-9a-f]{8}\s+Birds\s+just now\s+1", screen), screen
        first.enter("/resume 2")
        screen = first.wait_for("you › remember the word pelican", timeout=60)
        assert "claude › Echo: remember the word pelican" in screen
        first.enter("RECALL")
        screen = first.wait_for("(end)", timeout=30)
        assert "You said before: [remember the word pelican] (end)" in screen
        # Deleting the other session asks first.
        first.enter("/sessions")
        first.wait_for(lambda s: s.count("/resume N") == 2, timeout=30)
        first.enter("/delete 2")
        first.wait_for("[y/N]", timeout=10)
        first.enter("n")
        first.wait_for("not deleted", timeout=10)
        assert len(session_files(isolated)) == 2
        first.enter("/delete 2")
        first.wait_for(lambda s: s.count("[y/N]") == 2, timeout=10)
        first.enter("y")
        first.wait_for("deleted session", timeout=10)
        assert len(session_files(isolated)) == 1
        first.ctrl("d")
        assert first.wait_exit() == 0
        session_id = session_files(isolated)[0].stem
        assert f"claude-chat --session {session_id}" in first.history()
    finally:
        first.close()
    # Coming back: the last turns are shown before the prompt.
    again = Terminal([sys.executable, "-m", "claude_chat", "--session", session_id], env, project)
    try:
        screen = again.wait_for(PROMPT, timeout=30)
        assert "you › remember the word pelican" in screen
        assert "you › RECALL" in screen
        again.wait_for(ready, timeout=60)
        again.ctrl("d")
        assert again.wait_exit() == 0
    finally:
        again.close()
    assert processes_with_env(str(isolated)) == []


def test_deleting_the_current_session_starts_a_new_one(term: Terminal, isolated: Path) -> None:
    term.enter("something to forget")
    term.wait_for("Echo: something to forget", timeout=30)
    term.enter("/sessions")
    term.wait_for("/resume N", timeout=30)
    term.enter("/delete 1")
    term.wait_for("the current one)? [y/N]", timeout=10)
    term.enter("y")
    term.wait_for("this is a new session", timeout=60)
    assert session_files(isolated) == []
    term.enter("RECALL")
    screen = term.wait_for("(end)", timeout=30)
    assert "You said before: [] (end)" in screen
    # The old process did not write the deleted session back as it closed.
    assert len(session_files(isolated)) == 1


def test_messages_typed_ahead_are_sent_in_order_as_typed(
    term: Terminal, api: FakeAnthropicAPI
) -> None:
    # Typed without waiting: the later ones arrive during an answer, or between an answer and
    # the next prompt; each must still be one message, sent as typed.
    for word in ("one", "two", "three", "four"):
        term.enter(f"word {word}")
        term.pump(0.03)
    term.wait_for(lambda s: "Echo: word four" in s and s.count("first token") == 4, timeout=60)
    sent = [r.last_user_text for r in api.message_requests()]
    assert sent == ["word one", "word two", "word three", "word four"]


def ask_to_touch(term: Terminal, path: Path) -> str:
    term.enter(f"TOOL touch {path}")
    return term.wait_for(lambda s: s.rstrip().endswith("n deny [reason] ›"), timeout=30)


def test_permission_yes_runs_the_tool_no_refuses_it(term: Terminal, project: Path) -> None:
    allowed, refused = project / "allowed", project / "refused"
    screen = ask_to_touch(term, allowed)
    # The question names the call; a long path is cut at the terminal's width.
    question = next(line for line in screen.splitlines() if line.startswith("? "))
    assert question.startswith(f"? Claude wants to run Bash(touch {str(allowed)[:40]}")
    assert not allowed.exists()
    term.enter("y")
    term.wait_for("Tool said:", timeout=30)
    assert allowed.exists()
    term.wait_for(lambda s: s.count("first token") == 1, timeout=30)
    ask_to_touch(term, refused)
    term.enter("n not in this folder")
    screen = term.wait_for(lambda s: s.count("first token") == 2, timeout=30)
    assert not refused.exists()
    assert "denied this tool call: not in this folder" in screen
    term.enter("after")
    term.wait_for("Echo: after", timeout=30)


def test_permission_always_stops_asking(term: Terminal, project: Path) -> None:
    ask_to_touch(term, project / "one")
    term.enter("a")
    term.wait_for(lambda s: s.count("first token") == 1, timeout=30)
    term.enter(f"TOOL touch {project / 'one'}")
    screen = term.wait_for(lambda s: s.count("first token") == 2, timeout=30)
    assert screen.count("n deny [reason]") == 1
    # "Always" adds a rule for this call; it does not switch the session to accept edits.
    assert "acceptEdits" not in screen.splitlines()[-1]


def test_ctrl_c_at_a_permission_prompt_denies_and_interrupts(term: Terminal, project: Path) -> None:
    ask_to_touch(term, project / "never")
    term.ctrl("c")
    screen = term.wait_for(lambda s: s.count(PROMPT) >= 2 and "first token" in s, timeout=30)
    assert "denied, and the answer is interrupted" in screen
    assert not (project / "never").exists()
    assert "⎿ The user doesn't want to proceed" not in screen  # the denial is said once
    term.enter("and now?")
    term.wait_for(lambda s: s.count("first token") == 2, timeout=30)


def test_first_tokens_per_turn_in_the_footer_and_over_the_session_in_status(
    api: FakeAnthropicAPI, project: Path, isolated: Path, tmp_path: Path
) -> None:
    import claude_agent_sdk

    # Claude Code that takes a second more to start: the first message, sent the moment the
    # prompt shows, waits at least that long for it, and the footer says so.
    bundled = Path(claude_agent_sdk.__file__).parent / "_bundled" / "claude"
    slow_cli = tmp_path / "slow-claude"
    slow_cli.write_text(f'#!/bin/sh\nsleep 1\nexec "{bundled}" "$@"\n')
    slow_cli.chmod(0o755)
    env = dict(os.environ, TERM="xterm-256color")
    env.pop("NO_COLOR", None)
    argv = [sys.executable, "-m", "claude_chat", "--cli-path", str(slow_cli)]
    term = Terminal(argv, env, project)
    try:
        term.wait_for(PROMPT, timeout=20)
        term.enter("hello")
        screen = term.wait_for(lambda s: "first token" in s, timeout=60)
        footer = re.search(
            r"first token (\d+\.\d\d)s \((\d+\.\d\d)s start-up\) · ", " ".join(screen.split())
        )
        assert footer, screen
        assert float(footer[1]) >= float(footer[2]) >= 1.0
        term.enter("again")
        term.wait_for(lambda s: s.count("first token") == 2, timeout=30)
        term.enter("/status")
        screen = term.wait_for("over 2 turns", timeout=30)
        assert re.search(r"first token\s+median \d+\.\d\ds, p95 \d+\.\d\ds over 2 turns", screen)
        term.ctrl("d")
        assert term.wait_exit() == 0
    finally:
        term.close()
    assert processes_with_env(str(isolated)) == [], "a process of ours outlived the test"
