"""Slash commands: a registry whose handlers' docstrings are their help text.

The core of the chat: no terminal code here. Handlers talk to the user through a
``CommandContext``, which the REPL and piped mode each implement.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from claude_chat.config import THINKING_DISPLAYS, ThinkingDisplay
from claude_chat.engine import ChatEngine
from claude_chat.errors import CommandError
from claude_chat.stats import SessionStats

_COMMAND = re.compile(r"/([A-Za-z][\w-]*)(?:\s+(.*))?", re.DOTALL)


class CommandContext(Protocol):
    engine: ChatEngine
    stats: SessionStats
    thinking: ThinkingDisplay
    # Keys and what they do, for /help; empty where there is no keyboard (piped mode).
    key_help: Sequence[tuple[str, str]]

    def say(self, text: str) -> None:
        """Show a line (or a few) of plain information."""

    def show_pairs(self, pairs: Sequence[tuple[str, str]]) -> None:
        """Show aligned ``name  value`` rows."""

    def clear_screen(self) -> None: ...

    def request_exit(self) -> None: ...


Handler = Callable[[CommandContext, str], Awaitable[None]]


@dataclass(frozen=True)
class Command:
    name: str
    aliases: tuple[str, ...]
    args: str
    handler: Handler

    @property
    def help(self) -> str:
        return (self.handler.__doc__ or "").strip()

    @property
    def summary(self) -> str:
        return self.help.splitlines()[0] if self.help else ""

    @property
    def usage(self) -> str:
        return f"/{self.name}" + (f" {self.args}" if self.args else "")


class CommandRegistry:
    def __init__(self) -> None:
        self._commands: dict[str, Command] = {}
        self._by_name: dict[str, Command] = {}

    def command(self, name: str, *aliases: str, args: str = "") -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            command = Command(name, aliases, args, handler)
            self._commands[name] = command
            for key in (name, *aliases):
                self._by_name[key] = command
            return handler

        return register

    @property
    def commands(self) -> list[Command]:
        return list(self._commands.values())

    def names(self) -> list[str]:
        return sorted(self._by_name)

    def lookup(self, name: str) -> Command | None:
        return self._by_name.get(name.lower())

    def suggest(self, name: str) -> str | None:
        close = difflib.get_close_matches(name.lower(), self._by_name, n=1, cutoff=0.5)
        if close:
            return close[0]
        prefixed = [n for n in self._by_name if n.startswith(name.lower()[:2])]
        return prefixed[0] if len(prefixed) == 1 else None

    async def run(self, ctx: CommandContext, line: str) -> None:
        """Run the command in ``line``; bad input raises ``CommandError`` with one line to show."""
        parsed = parse_command(line)
        if parsed is None:
            raise CommandError(f"not a command: {line.strip()[:40]}")
        name, args = parsed
        command = self.lookup(name)
        if command is None:
            hint = self.suggest(name)
            raise CommandError(
                f"unknown command /{name}"
                + (f"; did you mean /{hint}?" if hint else "")
                + " (/help lists commands)"
            )
        await command.handler(ctx, args)


def parse_command(line: str) -> tuple[str, str] | None:
    """``/model opus`` -> ("model", "opus"); None for anything that is a message instead.

    A line that starts with a path (``/etc/hosts is odd``) or with ``//`` is a message.
    """
    match = _COMMAND.fullmatch(line.strip())
    if match is None:
        return None
    return match.group(1).lower(), (match.group(2) or "").strip()


def message_text(line: str) -> str:
    """What a non-command line sends: ``//x`` escapes a leading slash."""
    return line[1:] if line.lstrip().startswith("//") else line


registry = CommandRegistry()


@registry.command("help", "?", args="[COMMAND]")
async def _help(ctx: CommandContext, args: str) -> None:
    """Show the commands, or the full help of one."""
    if args:
        command = registry.lookup(args.lstrip("/"))
        if command is None:
            raise CommandError(f"no command /{args.lstrip('/')} (/help lists commands)")
        names = ", ".join(f"/{a}" for a in command.aliases)
        ctx.say(command.usage + (f"  (also {names})" if names else "") + "\n" + command.help)
        return
    ctx.show_pairs([(c.usage, c.summary) for c in registry.commands])
    if ctx.key_help:
        ctx.say("")
        ctx.show_pairs(ctx.key_help)
    ctx.say("A line starting with // sends that line with one / as a message.")


@registry.command("exit", "quit", "q")
async def _exit(ctx: CommandContext, args: str) -> None:
    """Leave the chat (the Claude Code process is closed)."""
    ctx.request_exit()


@registry.command("clear")
async def _clear(ctx: CommandContext, args: str) -> None:
    """Clear the screen (the conversation goes on)."""
    ctx.clear_screen()


@registry.command("model", args="[NAME]")
async def _model(ctx: CommandContext, args: str) -> None:
    """Show the model and its aliases, or switch model without restarting.

    The switch goes to the running Claude Code process; the next message uses it.
    NAME is an alias (sonnet, opus, haiku, default, ...) or a full model name.
    """
    engine = ctx.engine
    if not args:
        await engine.wait_ready()
        ctx.say(f"model: {engine.model or 'default'}")
        ctx.show_pairs(
            [(m.alias, f"{m.resolved}  {m.description}".rstrip()) for m in engine.models]
        )
        ctx.say("switch with /model NAME")
        return
    if engine.busy:
        raise CommandError("wait for the answer to finish (or Ctrl+C) before switching model")
    name = args.split()[0]
    try:
        resolved = await engine.set_model(name)
    except CommandError:
        raise
    except Exception as exc:
        raise CommandError(f"could not switch to {name}: {exc}") from exc
    shown = resolved if resolved == name else f"{resolved} ({name})"
    ctx.say(f"model set to {shown}")


@registry.command("status")
async def _status(ctx: CommandContext, args: str) -> None:
    """Show the session, model, directory, Claude Code version, tokens and cost so far."""
    engine, stats = ctx.engine, ctx.stats
    ctx.show_pairs(
        [
            ("session", engine.session_id or "(new: starts with the first message)"),
            ("model", engine.model or "default"),
            ("permission mode", engine.permission_mode),
            ("cwd", engine.cwd or "."),
            ("Claude Code", _cli_state(engine)),
            (
                "turns",
                f"{stats.turns}"
                + (f" ({stats.failed_turns} failed)" if stats.failed_turns else ""),
            ),
            ("tokens", f"{stats.input_tokens:,} in · {stats.output_tokens:,} out"),
            ("cost", f"${stats.cost_usd:.4f}"),
            ("first token", stats.first_token_summary()),
        ]
    )


@registry.command("thinking", args="[MODE]")
async def _thinking(ctx: CommandContext, args: str) -> None:
    """Show or set how thinking is displayed: full (dimmed), collapsed (one line) or hidden."""
    if not args:
        ctx.say(f"thinking: {ctx.thinking} (choose full, collapsed or hidden)")
        return
    choice = args.split()[0].lower()
    if choice not in THINKING_DISPLAYS:
        raise CommandError(f"thinking display must be full, collapsed or hidden, not {choice!r}")
    ctx.thinking = choice  # type: ignore[assignment]  # checked against THINKING_DISPLAYS above
    ctx.say(f"thinking: {choice}")


def _cli_state(engine: ChatEngine) -> str:
    version = engine.cli_version or "?"
    if engine.state in ("ready", "running"):
        return f"{version} (pid {engine.cli_pid})" if engine.cli_pid else version
    if engine.state == "failed" and engine.start_error is not None:
        return f"failed to start: {engine.start_error}"
    return engine.state
