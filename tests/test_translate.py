"""Recorded output of the real CLI, replayed through the edge that turns it into events."""

from __future__ import annotations

import json
from pathlib import Path

from claude_agent_sdk._internal.message_parser import parse_message

from claude_chat.engine.events import (
    Event,
    SessionStarted,
    TextDelta,
    ThinkingDelta,
    ToolCall,
    ToolResult,
    TurnError,
)
from claude_chat.engine.translate import Translator

DATA = Path(__file__).parent / "data"


def replay(name: str) -> list[list[Event]]:
    """Events per turn; a turn ends at each ``result`` line."""
    turns: list[list[Event]] = [[]]
    translator = Translator()
    for raw in (DATA / name).read_text().splitlines():
        data = json.loads(raw)
        if data.get("type") == "control_response":
            continue
        message = parse_message(data)
        if message is None:
            continue
        if data.get("type") == "result":
            turns.append([])
            translator = Translator()
            continue
        turns[-1].extend(translator.translate(message))
    return [t for t in turns if t]


def text(events: list[Event]) -> str:
    return "".join(e.text for e in events if isinstance(e, TextDelta))


def test_sdk_session_recording() -> None:
    turns = replay("sdk-session.stdout.jsonl")
    assert len(turns) == 6
    hello, recall, interrupted, allowed, denied, failed = turns
    assert isinstance(hello[0], SessionStarted) and hello[0].model == "claude-sonnet-5-5"
    # Deltas only: the complete assistant message that follows must not repeat the text.
    assert text(hello) == "Echo: Hello | turn 1 | model claude-sonnet-5-5"
    assert text(recall) == "You said before: [Hello] (end)"
    assert text(interrupted) == "slow0 slow1 slow2 slow3 "
    calls = [e for e in allowed if isinstance(e, ToolCall)]
    assert [(c.name, c.input["command"]) for c in calls] == [
        ("Bash", "touch /home/user/project/allowed-file")
    ]
    results = [e for e in allowed if isinstance(e, ToolResult)]
    assert results[0].content == "(Bash completed with no output)" and not results[0].is_error
    denials = [e for e in denied if isinstance(e, ToolResult)]
    assert denials[0].is_error and denials[0].content == "user said no"
    errors = [e for e in failed if isinstance(e, TurnError)]
    assert len(errors) == 1 and "API Error: 400" in errors[0].message
    assert text(failed) == ""


def test_raw_cli_recording_has_thinking_and_no_duplicates() -> None:
    turns = replay("raw-cli-four-turns.stdout.jsonl")
    everything = [e for turn in turns for e in turn]
    thinking = "".join(e.text for e in everything if isinstance(e, ThinkingDelta))
    assert thinking
    for turn in turns:
        answer = text(turn)
        # A doubled answer would contain its first half twice.
        assert not answer or answer[: len(answer) // 2] * 2 != answer
