"""Claude Code's own slash commands, passed through, with the real CLI and the stand-in API."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fake_api import FakeAnthropicAPI
from tests.terminal import Terminal, processes_with_env

pytestmark = pytest.mark.integration

GREET = "---\ndescription: Greets someone by name\n---\nSay GREETING-OK to $ARGUMENTS\n"


@pytest.fixture
def commands_project(project: Path) -> Path:
    folder = project / ".claude" / "commands"
    folder.mkdir(parents=True)
    (folder / "greet.md").write_text(GREET)
    return project


def chat(stdin: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "claude_chat"],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
    )


def test_a_project_command_is_expanded_by_claude_code(
    api: FakeAnthropicAPI, commands_project: Path
) -> None:
    done = chat("/greet bob\n/gret x\n", commands_project)
    assert done.stdout.startswith("Echo: Say GREETING-OK to bob | turn 1"), done.stderr
    assert [r.last_user_text for r in api.message_requests()] == ["Say GREETING-OK to bob"]
    # A command neither side knows: one line, the nearest match among both.
    assert "error: unknown command /gret; did you mean /greet? (/help lists commands)" in (
        done.stderr
    )
    assert done.returncode == 1


def test_help_lists_claude_codes_commands_under_their_own_heading(
    api: FakeAnthropicAPI, commands_project: Path
) -> None:
    done = chat("/help\n/help greet\n", commands_project)
    assert done.returncode == 0, done.stderr
    listing, _, one = done.stdout.partition("/greet  (Claude Code's own)")
    ours, _, theirs = listing.partition("Claude Code's commands")
    assert "/model" in ours and "/greet" not in ours
    listed = {line.split()[0] for line in theirs.splitlines()[1:] if line.startswith("/")}
    assert {"/greet", "/context", "/init", "/security-review", "/code-review"} <= listed
    assert "(also /review)" in theirs
    # Ours win where both have a command; Claude Code's internal ones stay out.
    assert "/model" not in listed and "/clear" not in listed
    assert not any(name.startswith("/_") for name in listed)
    (greet,) = [line for line in theirs.splitlines() if line.startswith("/greet ")]
    assert greet.split(None, 1)[1] == "Greets someone by name (project)"
    assert one == "\nGreets someone by name (project)\n"
    assert api.message_requests() == []


@pytest.fixture
def term(api: FakeAnthropicAPI, commands_project: Path, isolated: Path) -> Iterator[Terminal]:
    env = dict(os.environ, TERM="xterm-256color")
    env.pop("NO_COLOR", None)
    terminal = Terminal([sys.executable, "-m", "claude_chat"], env, commands_project)
    terminal.wait_for(lambda s: s.rstrip().endswith("ready"), timeout=60)
    yield terminal
    terminal.close()
    assert processes_with_env(str(isolated)) == []


@pytest.mark.terminal
def test_context_is_rendered_as_markdown_and_tab_completes_claude_codes_commands(
    term: Terminal,
) -> None:
    term.type("/gre")
    term.wait_for("/greet  Greets someone by name (project)")
    term.type("\t")
    term.wait_for("❯ /greet")
    term.enter(" alice")
    term.wait_for("Echo: Say GREETING-OK to alice")
    term.enter("/context")
    screen = term.wait_for("Free space")
    # Markdown, not its source: a heading without its hashes, a table without its pipes.
    assert "Context Usage" in screen and "## Context Usage" not in screen
    assert "|----" not in screen and "| Free space |" not in screen


@pytest.mark.terminal
def test_ctrl_l_clears_the_screen_and_the_conversation_goes_on(term: Terminal) -> None:
    term.enter("first words")
    term.wait_for("Echo: first words")
    term.ctrl("l")
    term.wait_for(lambda _: "Echo: first words" not in term.display())
    assert term.display().startswith("❯")
    term.enter("RECALL")
    term.wait_for("You said before: [first words] (end)")
