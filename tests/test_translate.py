"""Recorded output of the real CLI, replayed through the edge that turns it into events."""

from __future__ import annotations

import json
from pathlib import Path

from claude_agent_sdk._internal.message_parser import parse_message

from claude_chat.engine.events import (
    Compacted,
    Compacting,
    Event,
    SessionStarted,
    TextDelta,
    ThinkingDelta,
    ToolCall,
    ToolResult,
    TurnEnd,
    TurnError,
    Usage,
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


def test_each_result_becomes_the_plain_facts_of_its_turn_end() -> None:
    translator = Translator()
    ends: list[TurnEnd] = []
    for raw in (DATA / "sdk-session.stdout.jsonl").read_text().splitlines():
        data = json.loads(raw)
        message = parse_message(data) if data.get("type") != "control_response" else None
        if message is None:
            continue
        translator.translate(message)
        end = translator.turn_end(message)
        assert (end is not None) == (data.get("type") == "result")
        if end is not None:
            ends.append(end)
    assert len(ends) == 6
    hello, _, interrupted, _, _, failed = ends
    session = "5824a483-66ce-4325-93d5-2275b8561da2"
    assert hello == TurnEnd(
        session,
        "claude-sonnet-5-5",
        False,
        False,
        Usage(10, 4),
        hello.process_cost_usd,
        context_tokens=10,
        context_window=hello.context_window,
    )
    assert hello.context_window is not None and hello.context_window >= 200_000
    assert hello.process_cost_usd is not None and 0 < hello.process_cost_usd < 0.001
    # Stopped by the user: not an error, whatever the CLI's is_error says.
    assert interrupted.interrupted and not interrupted.is_error and interrupted.error is None
    assert failed.is_error and not failed.interrupted
    assert failed.error == TurnError("api", "API Error: 400 fake 400", 400)
    assert all(end.session_id == session and end.finished for end in ends)


def _user_text(text: str) -> object:
    return parse_message(
        {"type": "user", "message": {"role": "user", "content": text}, "session_id": "s"}
    )


def test_what_claude_codes_own_commands_print_is_text_of_their_turn_only() -> None:
    printed = _user_text("<local-command-stdout>Session **color** set</local-command-stdout>")
    assert Translator(local_command=True).translate(printed) == [
        TextDelta("Session **color** set\n")
    ]
    # Outside a command's turn it is about something else ("Set model to ..."): not shown.
    assert Translator().translate(printed) == []


def test_compaction_is_its_progress_then_one_fact_and_the_context_it_leaves() -> None:
    translator = Translator(local_command=True)
    compacting = {"type": "system", "subtype": "status", "status": "compacting", "session_id": "s"}
    assert translator.translate(parse_message(compacting)) == [Compacting()]
    boundary = {
        "type": "system",
        "subtype": "compact_boundary",
        "session_id": "s",
        "compact_metadata": {"trigger": "manual", "pre_tokens": 12654, "post_tokens": 3076},
    }
    assert translator.translate(parse_message(boundary)) == [Compacted("manual", 12654, 3076)]
    # Claude Code's own "Compacted" says less than that line.
    assert (
        translator.translate(_user_text("<local-command-stdout>Compacted </local-command-stdout>"))
        == []
    )
