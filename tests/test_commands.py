"""Slash commands: parsing, help from docstrings, nearest-match errors, and what each does."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from hypothesis import given
from hypothesis import strategies as st

from claude_chat.engine.config import ChatConfig, ThinkingDisplay
from claude_chat.engine.engine import ChatEngine
from claude_chat.engine.errors import CommandError
from claude_chat.engine.stats import SessionStats
from claude_chat.store.lock import session_lock
from claude_chat.terminal.commands import message_text, parse_command, registry
from claude_chat.terminal.turn_lines import StyledLine
from tests.fake_transport import FakeCLI


class Context:
    def __init__(self, engine: ChatEngine) -> None:
        self.engine = engine
        self.stats = SessionStats()
        self.thinking: ThinkingDisplay = "full"
        self.key_help: Sequence[tuple[str, str]] = [("Ctrl+X", "Do a thing.")]
        self.lines: list[str] = []
        self.session_lock = session_lock()
        self.exited = False

    def say(self, text: str) -> None:
        self.lines.append(text)

    def show_lines(self, lines: Sequence[StyledLine]) -> None:
        self.lines.extend(line.text for line in lines)

    def show_pairs(self, pairs: Sequence[tuple[str, str]]) -> None:
        self.lines.extend(f"{a} | {b}" for a, b in pairs)

    def request_exit(self) -> None:
        self.exited = True


@pytest.fixture
async def ctx() -> Context:
    cli = FakeCLI()
    context = Context(ChatEngine(ChatConfig(), transport_factory=lambda: cli))
    yield context  # type: ignore[misc]
    await context.engine.close()


@pytest.mark.parametrize(
    ("line", "parsed"),
    [
        ("/model opus", ("model", "opus")),
        ("  /MODEL   opus  ", ("model", "opus")),
        ("/help", ("help", "")),
        ("/etc/hosts is odd", None),
        ("//model", None),
        ("/ model", None),
        ("hello /model", None),
        ("/", None),
    ],
)
def test_parse(line: str, parsed: tuple[str, str] | None) -> None:
    assert parse_command(line) == parsed


def test_double_slash_sends_one() -> None:
    assert message_text("//model is a word") == "/model is a word"
    assert message_text("plain") == "plain"


@given(st.text(max_size=200))
def test_parse_never_raises(line: str) -> None:
    parsed = parse_command(line)
    assert parsed is None or parsed[0].isidentifier() or "-" in parsed[0]


def test_every_command_has_help_from_its_docstring() -> None:
    for command in registry.commands:
        assert command.summary, command.name


async def test_help_lists_commands_and_keys(ctx: Context) -> None:
    await registry.run(ctx, "/help")
    listing = "\n".join(ctx.lines)
    for name in ("/help", "/exit", "/clear", "/model", "/status", "/thinking"):
        assert name in listing
    assert "Ctrl+X | Do a thing." in listing


async def test_help_of_one_command(ctx: Context) -> None:
    await registry.run(ctx, "/help model")
    assert "switch model without restarting" in ctx.lines[0]


async def test_unknown_command_suggests_the_nearest(ctx: Context) -> None:
    with pytest.raises(CommandError, match=r"unknown command /modle; did you mean /model\?"):
        await registry.run(ctx, "/modle")


async def test_exit_and_quit(ctx: Context) -> None:
    await registry.run(ctx, "/quit")
    assert ctx.exited


async def test_model_lists_aliases_then_switches(ctx: Context) -> None:
    await registry.run(ctx, "/model")
    assert ctx.lines[0] == "model: claude-opus-5-5"
    assert "sonnet | claude-sonnet-5-5  Sonnet" in ctx.lines
    ctx.lines.clear()
    await registry.run(ctx, "/model sonnet")
    assert ctx.lines == ["model set to claude-sonnet-5-5 (sonnet)"]
    assert ctx.engine.model == "claude-sonnet-5-5"


async def test_status(ctx: Context) -> None:
    await ctx.engine.wait_ready()
    await registry.run(ctx, "/status")
    status = "\n".join(ctx.lines)
    assert "Claude Code | 9.9.9 (pid 4242)" in status
    assert "model | claude-opus-5-5" in status
    assert "cost | $0.0000" in status


async def test_thinking(ctx: Context) -> None:
    await registry.run(ctx, "/thinking collapsed")
    assert ctx.thinking == "collapsed"
    with pytest.raises(CommandError, match="full, collapsed or hidden"):
        await registry.run(ctx, "/thinking loud")
