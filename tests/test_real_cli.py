"""The real, bundled Claude Code CLI against the stand-in API, without a terminal."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from claude_chat.engine.config import ChatConfig
from claude_chat.engine.engine import ChatEngine
from claude_chat.engine.events import Event, TextDelta, ThinkingDelta, TurnResult
from tests.fake_api import FakeAnthropicAPI
from tests.terminal import processes_with_env

pytestmark = pytest.mark.integration


def chat(
    stdin: str, cwd: Path, *args: str, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "claude_chat", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=cwd,
        env=dict(os.environ),
        timeout=timeout,
    )


def text(events: list[Event]) -> str:
    return "".join(e.text for e in events if isinstance(e, TextDelta))


def test_piped_turns_share_one_conversation_and_the_model_switch_lands(
    api: FakeAnthropicAPI, project: Path, isolated: Path
) -> None:
    done = chat("Hi\n/model opus\nRECALL\n", project)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("Echo: Hi | turn 1")
    assert lines[1] == "model set to claude-opus-5-5 (opus)"
    assert lines[2] == "You said before: [Hi] (end)"
    requests = api.message_requests()
    assert requests[-1].model == "claude-opus-5-5"
    assert requests[-1].user_texts == ["Hi", "RECALL"]
    assert "first token" in done.stderr
    assert processes_with_env(str(isolated)) == []


def test_a_failed_turn_gives_exit_status_1(api: FakeAnthropicAPI, project: Path) -> None:
    done = chat("FAIL 400\nafter\n", project)
    assert done.returncode == 1
    assert "fake 400" in done.stderr and "Traceback" not in done.stderr
    assert done.stdout.startswith("Echo: after")


def test_not_logged_in_is_one_clear_line(project: Path) -> None:
    done = chat("Hi\n", project)
    assert done.returncode == 1
    assert "Not logged in" in done.stderr and "claude /login" in done.stderr
    assert "Traceback" not in done.stderr + done.stdout


def test_a_missing_cli_is_one_clear_line(project: Path) -> None:
    done = chat("Hi\n", project, "--cli-path", str(project / "nope"))
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0 and "no executable file" in done.stderr


def test_a_cli_that_is_not_claude_code_is_one_clear_line(project: Path) -> None:
    fake_cli = project / "not-claude"
    fake_cli.write_text("#!/bin/sh\nexit 3\n")
    fake_cli.chmod(0o755)
    done = chat("Hi\n", project, "--cli-path", str(fake_cli))
    assert done.returncode == 1
    assert "Claude Code did not start" in done.stderr and "Traceback" not in done.stderr


async def test_engine_keeps_one_process_and_context(api: FakeAnthropicAPI, project: Path) -> None:
    engine = ChatEngine(ChatConfig(cwd=project))
    engine.start()
    await engine.wait_ready()
    pid = engine.cli_pid
    first = [e async for e in engine.send("Hello")]
    second = [e async for e in engine.send("THINK")]
    third = [e async for e in engine.send("RECALL")]
    await engine.close()
    assert text(first).startswith("Echo: Hello")
    assert "".join(e.text for e in second if isinstance(e, ThinkingDelta))
    assert text(second) == "Thought done."
    assert text(third) == "You said before: [Hello | THINK] (end)"
    assert engine.cli_pid == pid
    results = [e for e in (*first, *second, *third) if isinstance(e, TurnResult)]
    assert all(r.session_id == results[0].session_id for r in results)
    assert all(r.time_to_first_token_s is not None for r in results)


def test_piped_mode_denies_what_nobody_can_allow(api: FakeAnthropicAPI, project: Path) -> None:
    target = project / "made"
    done = chat(f"TOOL touch {target}\nafter\n", project)
    assert not target.exists()
    assert "✗ Bash denied: nobody can answer a permission prompt here" in done.stderr
    assert "--allowed-tools" in done.stderr
    assert "Echo: after" in done.stdout
    # Rules given at start let it run without asking.
    done = chat(f"TOOL touch {target}\n", project, "--allowed-tools", "Bash(touch:*)")
    assert done.returncode == 0, done.stderr
    assert target.exists()


def test_permission_mode_switches_mid_session(api: FakeAnthropicAPI, project: Path) -> None:
    done = chat("/permissions\n/permissions acceptEdits\n/permissions nope\n", project)
    assert "permission mode: default" in done.stdout
    assert "permission mode: acceptEdits" in done.stdout
    assert "unknown permission mode 'nope'" in done.stderr
