"""Faults claude-chat must survive, with the real CLI and the stand-in API."""

from __future__ import annotations

import os
import re
import signal
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fake_api import FakeAnthropicAPI
from tests.terminal import Terminal, piped_chat, processes_with_env

pytestmark = [pytest.mark.integration, pytest.mark.terminal]

PROMPT = "❯"


def ready(screen: str) -> bool:
    return screen.rstrip().endswith("ready")


@pytest.fixture
def term(api: FakeAnthropicAPI, project: Path, isolated: Path) -> Iterator[Terminal]:
    env = {**os.environ, "TERM": "xterm-256color"}
    env.pop("NO_COLOR", None)
    terminal = Terminal([sys.executable, "-m", "claude_chat"], env, project)
    terminal.wait_for(ready, timeout=60)
    yield terminal
    terminal.close()
    assert processes_with_env(str(isolated)) == [], "a process of ours outlived the test"


def cli_pid(term: Terminal) -> int:
    """The pid this /status shows, not one an earlier /status left on the screen."""
    shown = len(re.findall(r"pid (\d+)\)\s*$", term.history(), re.M))
    term.enter("/status")
    screen = term.wait_for(lambda s: len(re.findall(r"pid (\d+)\)\s*$", s, re.M)) > shown, 30)
    return int(re.findall(r"pid (\d+)\)", screen)[-1])


def test_a_killed_cli_keeps_the_partial_answer_and_the_session_goes_on(
    term: Terminal, api: FakeAnthropicAPI
) -> None:
    term.enter("remember: kiwi")
    term.wait_for("Echo: remember: kiwi", timeout=30)
    first = cli_pid(term)
    term.enter("SLOW 40")
    term.wait_for("slow3", timeout=30)
    os.kill(first, signal.SIGKILL)
    screen = term.wait_for("/retry sends your message again", timeout=30)
    assert "the answer above is incomplete" in term.wait_for("incomplete", timeout=10)
    assert "slow3" in screen and "Traceback" not in screen
    term.wait_for(ready, timeout=60)
    assert cli_pid(term) != first
    # The next turn has the earlier context, in a new process resuming the same session.
    term.enter("RECALL")
    screen = term.wait_for("(end)", timeout=30)
    assert "remember: kiwi" in screen.split("RECALL")[-1]
    term.enter("/retry")
    term.wait_for(lambda s: s.count("You said before") == 2, timeout=30)
    assert api.message_requests()[-1].last_user_text == "RECALL"


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_sigterm_and_sighup_end_the_chat_cleanly(
    term: Terminal, isolated: Path, signum: int
) -> None:
    term.enter("hello")
    term.wait_for("Echo: hello", timeout=30)
    term.enter("SLOW 40")
    term.wait_for("slow2", timeout=30)
    os.kill(term.child.pid, signum)
    assert term.wait_exit(timeout=30) == 128 + signum
    assert processes_with_env(str(isolated)) == []


def test_sigterm_in_piped_mode_exits_with_its_code(
    api: FakeAnthropicAPI, project: Path, isolated: Path
) -> None:
    chat = piped_chat(project, b"SLOW 40\n")
    assert chat.stdout is not None
    time.sleep(3)
    chat.send_signal(signal.SIGTERM)
    assert chat.wait(timeout=30) == 128 + signal.SIGTERM
    assert processes_with_env(str(isolated)) == []
