"""The engine against a fake CLI process: events, costs, interrupts, dead processes."""

from __future__ import annotations

import asyncio
import contextlib
import time
from pathlib import Path

import pytest

from claude_chat.engine.config import ChatConfig, ChatSettings
from claude_chat.engine.engine import ChatEngine
from claude_chat.engine.errors import TurnInProgressError
from claude_chat.engine.events import (
    Event,
    SessionStarted,
    TextDelta,
    ThinkingDelta,
    ToolCall,
    ToolResult,
    TurnError,
    TurnResult,
)
from claude_chat.engine.stats import SessionStats
from claude_chat.terminal.turn import run_turn
from tests import fake_transport as fake


def make_engine(cli: fake.FakeCLI) -> ChatEngine:
    return ChatEngine(ChatConfig(), transport_factory=lambda: cli)


async def collect(engine: ChatEngine, text: str) -> list[Event]:
    return [event async for event in engine.send(text)]


def texts(events: list[Event]) -> str:
    return "".join(e.text for e in events if isinstance(e, TextDelta))


async def test_text_streams_once_and_the_turn_ends_with_one_result() -> None:
    cli = fake.FakeCLI()
    cli.enqueue(fake.text_message(["Hel", "lo ", "there"], "claude-opus-5-5"))
    engine = make_engine(cli)
    events = await collect(engine, "Hi")
    await engine.close()

    assert isinstance(events[0], SessionStarted)
    # The complete assistant message repeats the deltas; the text must appear once.
    assert texts(events) == "Hello there"
    results = [e for e in events if isinstance(e, TurnResult)]
    assert len(results) == 1 and events[-1] is results[0]
    result = results[0]
    assert result.answer == "Hello there"
    assert not result.is_error and not result.interrupted
    assert result.usage.prompt_tokens == 15 and result.usage.output_tokens == 4
    assert result.time_to_first_token_s is not None
    assert engine.session_id == fake.SESSION
    assert cli.user_texts == ["Hi"]


async def test_follow_ups_go_to_the_same_process_and_cost_is_per_turn() -> None:
    cli = fake.FakeCLI()
    engine = make_engine(cli)
    first = await collect(engine, "one")
    second = await collect(engine, "two")
    await engine.close()
    assert cli.user_texts == ["one", "two"]
    costs = [e.cost_usd for e in (*first, *second) if isinstance(e, TurnResult)]
    # The CLI reports a running total; each turn shows only its own share.
    assert costs == pytest.approx([0.001, 0.001])
    initializes = [m for m in cli.written if m.get("request", {}).get("subtype") == "initialize"]
    assert len(initializes) == 1


async def test_thinking_tools_and_results_become_events() -> None:
    cli = fake.FakeCLI()
    model = "claude-opus-5-5"
    cli.enqueue(
        [
            *fake.thinking_message("Let me see.", model),
            *fake.tool_round("Bash", {"command": "ls"}, "a\nb", model),
            *fake.text_message(["Done."], model),
        ]
    )
    engine = make_engine(cli)
    events = await collect(engine, "work")
    await engine.close()
    assert [e.text for e in events if isinstance(e, ThinkingDelta)] == ["Let me see."]
    calls = [e for e in events if isinstance(e, ToolCall)]
    assert [(c.name, c.input) for c in calls] == [("Bash", {"command": "ls"})]
    outputs = [e for e in events if isinstance(e, ToolResult)]
    assert outputs[0].tool_use_id == calls[0].tool_use_id and outputs[0].content == "a\nb"
    assert texts(events) == "Done."


async def test_not_logged_in_is_an_auth_error() -> None:
    cli = fake.FakeCLI()
    cli.enqueue(fake.api_error("Not logged in · Please run /login", "authentication_failed", None))
    engine = make_engine(cli)
    events = await collect(engine, "hi")
    await engine.close()
    errors = [e for e in events if isinstance(e, TurnError)]
    assert [e.kind for e in errors] == ["auth"]
    assert texts(events) == ""  # the synthetic message is an error, not an answer
    result = events[-1]
    assert isinstance(result, TurnResult) and result.is_error and result.error == errors[0]


async def test_interrupt_ends_the_turn_and_nothing_leaks_into_the_next() -> None:
    cli = fake.FakeCLI(delay=0.05)
    cli.enqueue(fake.text_message([f"slow{i} " for i in range(40)], "claude-opus-5-5"))
    engine = make_engine(cli)
    seen: list[Event] = []
    async for event in engine.send("SLOW"):
        seen.append(event)
        if isinstance(event, TextDelta) and event.text == "slow2 ":
            await engine.interrupt()
    result = seen[-1]
    assert isinstance(result, TurnResult) and result.interrupted and not result.is_error
    assert "slow39" not in texts(seen)
    after = await collect(engine, "next")
    await engine.close()
    assert texts(after) == "Echo: next"


async def test_abandoned_turn_is_drained_before_the_next() -> None:
    cli = fake.FakeCLI(delay=0.02)
    cli.enqueue(fake.text_message([f"w{i} " for i in range(50)], "claude-opus-5-5"))
    engine = make_engine(cli)
    async with contextlib.aclosing(engine.send("long")) as events:
        async for event in events:
            if isinstance(event, TextDelta):
                break  # the caller walks away mid-answer
    after = await collect(engine, "next")
    await engine.close()
    assert texts(after) == "Echo: next"


async def test_a_second_send_while_a_turn_runs_is_refused() -> None:
    cli = fake.FakeCLI(delay=0.05)
    cli.enqueue(fake.text_message(["a", "b", "c"], "claude-opus-5-5"))
    engine = make_engine(cli)
    first = engine.send("one")
    await first.__anext__()
    with pytest.raises(TurnInProgressError):
        await engine.send("two").__anext__()
    async for _ in first:
        pass
    await engine.close()


async def test_a_dead_process_ends_the_turn_and_a_new_one_resumes_the_session() -> None:
    clis: list[fake.FakeCLI] = []

    def factory() -> fake.FakeCLI:
        cli = fake.FakeCLI(delay=0.05)
        clis.append(cli)
        return cli

    engine = ChatEngine(ChatConfig(), transport_factory=factory)
    engine.start()
    await engine.wait_ready()
    clis[0].enqueue(fake.text_message(["partial ", "answer ", "never ", "ends"], "m"))
    events: list[Event] = []
    async for event in engine.send("hi"):
        events.append(event)
        if isinstance(event, TextDelta):
            clis[0].die()
    result = events[-1]
    assert isinstance(result, TurnResult) and result.is_error
    assert result.error is not None and result.error.kind == "cli"
    assert result.answer.startswith("partial")
    assert "resuming the session" in result.error.message
    # The error is the lost process's; a turn Claude Code never finished has no first-token
    # time, cost or usage.
    assert [e for e in events if isinstance(e, TurnError)] == [result.error]
    assert result.time_to_first_token_s is None and result.cost_usd == 0.0
    assert result.usage.prompt_tokens == 0 and result.model == engine.model
    # The new process is already starting, before the next message.
    assert engine.state == "starting"
    await engine.wait_ready()
    assert len(clis) == 2
    after = await collect(engine, "again")
    assert len(clis) == 2 and texts(after) == "Echo: again"
    await engine.close()


async def test_a_process_that_keeps_dying_is_not_restarted_until_the_next_message() -> None:
    clis: list[fake.FakeCLI] = []

    def factory() -> fake.FakeCLI:
        cli = fake.FakeCLI(delay=0.02)
        clis.append(cli)
        return cli

    engine = ChatEngine(ChatConfig(), transport_factory=factory)
    results = []
    for _ in range(3):
        await engine.wait_ready()
        clis[-1].enqueue(fake.text_message(["a ", "b ", "c"], "m"))
        async for event in engine.send("hi"):
            if isinstance(event, TextDelta):
                clis[-1].die()
            if isinstance(event, TurnResult):
                results.append(event)
    assert results[-1].error is not None
    assert "3 times within a minute" in results[-1].error.message
    assert engine.state == "stopped" and len(clis) == 3
    after = await collect(engine, "again")
    assert texts(after) == "Echo: again" and len(clis) == 4
    await engine.close()


async def test_set_model_resolves_aliases_and_reaches_the_cli() -> None:
    cli = fake.FakeCLI()
    engine = make_engine(cli)
    assert await engine.set_model("sonnet") == "claude-sonnet-5-5"
    events = await collect(engine, "hi")
    await engine.close()
    sent = [m for m in cli.written if m.get("request", {}).get("subtype") == "set_model"]
    assert sent[0]["request"]["model"] == "sonnet"
    assert [e.model for e in events if isinstance(e, SessionStarted)] == ["claude-sonnet-5-5"]


async def test_what_the_chat_runs_with_is_kept_in_one_place_and_the_config_as_given(
    tmp_path: Path,
) -> None:
    config = ChatConfig(permission_mode="plan")
    engine = ChatEngine(config, transport_factory=fake.FakeCLI)
    await engine.set_model("sonnet")
    await engine.set_permission_mode("acceptEdits")
    assert engine.permission_mode == "acceptEdits"
    await collect(engine, "hi")
    # What the process reports is shown (the fake's init says "default" and its own cwd).
    assert (engine.permission_mode, engine.cwd) == ("default", "/home/user/project")
    await engine.switch_session("other-session", tmp_path)
    await engine.close()
    # The next process is started from these: the model and mode chosen, the new session.
    assert engine.settings == ChatSettings(
        "other-session", "claude-sonnet-5-5", "acceptEdits", tmp_path
    )
    assert (engine.session_id, engine.model, engine.cwd) == (
        "other-session",
        "claude-sonnet-5-5",
        str(tmp_path),
    )
    assert engine.config == config


async def test_start_happens_in_the_background() -> None:
    cli = fake.FakeCLI()
    engine = make_engine(cli)
    engine.start()
    assert engine.state == "starting"
    await asyncio.wait_for(engine.wait_ready(), 30)
    assert engine.state == "ready" and engine.cli_version == "9.9.9" and engine.cli_pid == 4242
    assert engine.model == "claude-opus-5-5"
    await engine.close()
    assert engine.state == "closed" and cli.closed


async def test_a_turn_is_timed_from_when_it_was_sent_start_up_included() -> None:
    # Lower bounds only: each comes from a sleep of the fake, whatever the machine's speed.
    cli = fake.FakeCLI(delay=0.05, start_delay=0.3)
    engine = make_engine(cli)
    sent_at = time.monotonic() - 0.1  # Enter was pressed a moment before the engine was called
    first = [e async for e in engine.send("one", sent_at) if isinstance(e, TurnResult)]
    second = [e for e in await collect(engine, "two") if isinstance(e, TurnResult)]
    await engine.close()

    # The first message waited for the process to start, and the user waited for all of it.
    assert first[0].startup_wait_s >= 0.4
    assert first[0].time_to_first_token_s is not None
    assert first[0].time_to_first_token_s >= first[0].startup_wait_s + 0.05
    assert first[0].duration_s >= first[0].time_to_first_token_s
    # The next one went to the same process, started once.
    initializes = [m for m in cli.written if m.get("request", {}).get("subtype") == "initialize"]
    assert len(initializes) == 1
    assert second[0].time_to_first_token_s is not None
    assert second[0].time_to_first_token_s >= 0.05
    assert "startup_wait_s" in second[0].to_dict()


async def test_a_send_time_in_the_future_counts_as_now() -> None:
    engine = make_engine(fake.FakeCLI())
    events = [e async for e in engine.send("one", time.monotonic() + 100)]
    await engine.close()
    result = events[-1]
    assert isinstance(result, TurnResult)
    assert 0 <= result.startup_wait_s < 100 and 0 <= result.duration_s < 100


async def test_run_turn_times_the_turn_from_when_it_was_sent() -> None:
    engine = make_engine(fake.FakeCLI())
    engine.start()
    await engine.wait_ready()
    view = RecordingView()
    result = await run_turn(engine, "one", view, SessionStats(), sent_at=time.monotonic() - 0.2)
    await engine.close()
    assert result.startup_wait_s >= 0.2
    assert view.results == [result]


async def test_a_process_gone_before_the_message_reaches_it_ends_the_turn_cleanly() -> None:
    clis: list[fake.FakeCLI] = []

    def factory() -> fake.FakeCLI:
        clis.append(fake.FakeCLI())
        return clis[-1]

    engine = ChatEngine(ChatConfig(), transport_factory=factory)
    engine.start()
    await engine.wait_ready()
    clis[0].break_input()  # died between turns; its end of output is not read yet
    events = await collect(engine, "hello")
    result = events[-1]
    assert isinstance(result, TurnResult) and result.is_error and result.prompt == "hello"
    assert result.error is not None and result.error.kind == "cli"
    assert "before the message reached it" in result.error.message
    await engine.wait_ready()
    assert texts(await collect(engine, "hello")) == "Echo: hello"
    assert len(clis) == 2
    await engine.close()


class RecordingView:
    """A TurnView that keeps what it was given."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self.results: list[TurnResult] = []

    def start(self) -> None:
        pass

    def on_event(self, event: Event) -> None:
        self.events.append(event)

    def set_status(self, status: str) -> None:
        pass

    def pause(self) -> None:
        pass

    def resume(self) -> None:
        pass

    def finish(self, result: TurnResult) -> None:
        self.results.append(result)

    def close(self) -> None:
        pass
