"""What Claude Code's own REPL offers in a conversation, with the real CLI and the stand-in API:
/clear in the same process, /compact and Claude Code's own compaction, the context window in
the toolbar, the task list."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from claude_chat.engine.config import ChatConfig
from claude_chat.engine.engine import ChatEngine
from claude_chat.engine.events import TextDelta, TurnResult
from claude_chat.store import sessions
from tests.fake_api import COMPACTION_REQUEST, FakeAnthropicAPI, Reply, Text, ToolUse
from tests.terminal import Terminal, processes_with_env

pytestmark = pytest.mark.integration

# Claude Code 2.1.33x offers TodoWrite only with its newer task tools switched off.
TODO_TOOLS = {"CLAUDE_CODE_ENABLE_TASKS": "false", "CLAUDE_CODE_ENABLE_TODO_TOOLS": "true"}


def chat(stdin: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "claude_chat"],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**os.environ, **env},
        timeout=120,
    )


def pids(stdout: str) -> list[str]:
    return re.findall(r"Claude Code\s+\S+ \(pid (\d+)\)", stdout)


def test_clear_starts_a_new_conversation_in_the_same_process(
    api: FakeAnthropicAPI, project: Path, isolated: Path
) -> None:
    done = chat("remember pelican\n/status\n/clear\nRECALL\n/status\n", project)
    assert done.returncode == 0, done.stderr
    before, after = pids(done.stdout)
    assert before == after, done.stdout
    assert "You said before: [] (end)" in done.stdout
    assert api.message_requests()[-1].user_texts == ["RECALL"]
    sessions = list(dict.fromkeys(re.findall(r"^session\s+([0-9a-f-]{36})", done.stdout, re.M)))
    assert len(sessions) == 2, done.stdout
    assert f"new conversation (the last one: claude-chat --session {sessions[0]})" in done.stdout
    # Piped mode's last word is the session it ended in: the new one.
    assert done.stderr.splitlines()[-2] == f"session {sessions[1]}"


async def test_the_engines_new_conversation_returns_at_once_and_what_follows_waits_for_it(
    api: FakeAnthropicAPI, project: Path, isolated: Path
) -> None:
    engine = ChatEngine(ChatConfig(cwd=project))
    engine.start()
    await engine.wait_ready()
    pid = engine.cli_pid
    first = [e async for e in engine.send("remember pelican")]
    old = engine.session_id
    await engine.new_conversation()
    # Claude Code has not said the new session yet; the chat is free meanwhile.
    assert engine.session_id is None and not engine.busy
    assert await engine.set_model("sonnet") == "claude-sonnet-5-5"
    after = [e async for e in engine.send("RECALL")]
    assert "".join(e.text for e in after if isinstance(e, TextDelta)).startswith(
        "You said before: [] (end)"
    )
    (result,) = [e for e in after if isinstance(e, TurnResult)]
    assert result.session_id == engine.session_id and engine.session_id not in (None, old)
    assert result.cost_usd > 0, "the cost counts again from zero, not from the last total"
    assert engine.cli_pid == pid and first
    # Closed while Claude Code is still clearing: nothing is left behind, nothing raises.
    await engine.new_conversation()
    await engine.close()
    assert processes_with_env(str(isolated)) == []


def test_compact_sends_the_compaction_request_and_the_next_turn_carries_the_summary(
    api: FakeAnthropicAPI, project: Path
) -> None:
    done = chat("remember pelican\n/compact keep the birds\nRECALL\n/save out.json\n", project)
    assert done.returncode == 0, done.stderr
    compaction = [r for r in api.message_requests() if COMPACTION_REQUEST in r.last_user_text]
    assert len(compaction) == 1 and "keep the birds" in compaction[0].last_user_text
    # Like tool calls and the footer, on stderr: stdout stays the answers.
    assert re.search(r"compacted in \d+\.\ds: context [\d.]+k → [\d.]+k tokens", done.stderr), (
        done.stderr
    )
    assert "Summary of: remember pelican" in api.message_requests()[-1].user_texts[0]
    assert "<local-command-stdout>" not in done.stdout + done.stderr
    # The transcript marks where the conversation was compacted; the summary is no prompt.
    saved = json.loads((project / "out.json").read_text())
    turns = {t["user"]: t["after_compaction"] for t in saved["turns"]}
    assert turns["RECALL"] is True
    assert not any(user.startswith("This session is being continued") for user in turns)
    # Nor is it one in the recap of a resumed session, or in the count of its turns.
    (summary,) = sessions.list_sessions(str(project))
    assert summary.turns == 2  # "remember pelican" and "RECALL"
    recap = sessions.recap(summary.session_id)
    assert not any("This session is being continued" in line.text for line in recap)


@pytest.fixture
def term(api: FakeAnthropicAPI, project: Path, isolated: Path) -> Iterator[Terminal]:
    env = dict(os.environ, TERM="xterm-256color", **TODO_TOOLS)
    env.pop("NO_COLOR", None)
    terminal = Terminal([sys.executable, "-m", "claude_chat"], env, project, cols=120)
    terminal.wait_for(lambda s: s.rstrip().endswith("ready"), timeout=60)
    yield terminal
    terminal.close()
    assert processes_with_env(str(isolated)) == []


def toolbar(term: Terminal) -> str:
    return term.display().rstrip().splitlines()[-1]


@pytest.mark.terminal
def test_the_toolbar_shows_how_full_the_context_is_and_suggests_compact_from_80(
    term: Terminal, api: FakeAnthropicAPI
) -> None:
    api.enqueue(Reply([Text("small")], usage={"input_tokens": 100_000}))
    term.enter("one")
    term.wait_for("small")
    term.wait_for(lambda _: "context 10%" in toolbar(term))
    assert "/compact" not in toolbar(term)
    api.enqueue(
        Reply(
            [Text("big")],
            usage={
                "input_tokens": 1_000,
                "cache_read_input_tokens": 800_000,
                "cache_creation_input_tokens": 50_000,
            },
        )
    )
    term.enter("two")
    term.wait_for("big")
    term.wait_for(lambda _: "context 85% · /compact" in toolbar(term))
    # Highlighted: the toolbar's part in reverse video is no longer the default one.
    assert b"context 85%" in term.raw


@pytest.mark.terminal
def test_compact_shows_its_progress_then_before_and_after(
    term: Terminal, api: FakeAnthropicAPI
) -> None:
    term.enter("remember pelican")
    term.wait_for("Echo: remember pelican")
    slow_summary = Text("<summary>Summary of: pelican</summary>", delay=0.3)
    slow_summary.chunks = ["<summary>", "Summary of:", " pelican", "</summary>"]
    api.enqueue(Reply([slow_summary]))
    term.enter("/compact")
    term.wait_for("compacting")
    screen = term.wait_for(lambda s: re.search(r"compacted in \d+\.\ds: context", s) is not None)
    assert "<local-command-stdout>" not in screen
    term.wait_for(lambda _: "context 0%" in toolbar(term))


@pytest.mark.terminal
def test_claude_codes_own_compaction_is_one_dim_line_and_marked_in_the_journal(
    term: Terminal, api: FakeAnthropicAPI, isolated: Path, tmp_path: Path
) -> None:
    term.enter("/autocompact 100k")
    term.wait_for("Auto-compact window")
    for word in ("a", "b", "c"):
        term.enter(word)
        term.wait_for(f"Echo: {word}")
    api.enqueue(
        Reply([Text("big")], usage={"input_tokens": 1_000, "cache_read_input_tokens": 190_000})
    )
    term.enter("full")
    term.wait_for("big")
    term.enter("RECALL")
    screen = term.wait_for("You said before:")
    line = next(x for x in screen.splitlines() if "compacted the conversation" in x)
    assert re.fullmatch(r"Claude Code compacted the conversation: [\d.]+k → [\d.]+k tokens", line)
    journal = "".join(p.read_text() for p in (tmp_path / "data" / "journal").glob("*.jsonl"))
    records = [json.loads(x) for x in journal.splitlines()]
    marks = [r for r in records if r["type"] == "compacted"]
    assert len(marks) == 1 and marks[0]["trigger"] == "auto" and marks[0]["pre_tokens"] > 190_000


def todo_call(*statuses: str) -> ToolUse:
    names = ["Read the code", "Write the fix", "Run the tests"]
    todos = [
        {
            "content": name,
            "status": status,
            "activeForm": name.replace("Read", "Reading")
            .replace("Write", "Writing")
            .replace("Run", "Running"),
        }
        for name, status in zip(names, statuses, strict=True)
    ]
    return ToolUse("TodoWrite", {"todos": todos})


@pytest.mark.terminal
def test_a_todowrite_sequence_redraws_one_checklist_and_todos_shows_it(
    term: Terminal, api: FakeAnthropicAPI
) -> None:
    api.enqueue(
        todo_call("in_progress", "pending", "pending"),
        Reply(
            [
                Text("reading", delay=0.3, chunks=["rea", "ding"]),
                todo_call("completed", "in_progress", "pending"),
            ]
        ),
        todo_call("completed", "completed", "in_progress"),
        Text("All done."),
    )
    term.enter("plan it")
    screen = term.wait_for("All done.")
    term.wait_for(lambda _: toolbar(term).endswith("ready"))
    screen = term.history()
    assert screen.count("Tasks (") == 1, screen
    assert "Tasks (2/3 done)" in screen
    assert "TodoWrite" not in screen and '"todos"' not in screen
    term.enter("/todos")
    screen = term.wait_for(lambda s: s.count("Tasks (2/3 done)") == 2)
    assert "✔ Read the code" in screen and "☐" not in screen.split("/todos")[-1]
