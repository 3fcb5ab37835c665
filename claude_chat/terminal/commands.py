"""Slash commands: a registry whose handlers' docstrings are their help text.

The core of the chat: no terminal code here. Handlers talk to the user through a
``CommandContext``, which the REPL and piped mode each implement. Session files can be
large, so handlers read and write them in a worker thread (``asyncio.to_thread``).
"""

from __future__ import annotations

import asyncio
import contextlib
import difflib
import os
import re
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from claude_chat.engine.config import PERMISSION_MODES, THINKING_DISPLAYS, ThinkingDisplay, data_dir
from claude_chat.engine.engine import ChatEngine, ClaudeCommand
from claude_chat.engine.errors import ChatError, CommandError
from claude_chat.engine.secrets import secrets_from
from claude_chat.engine.stats import SessionStats
from claude_chat.store import export, sessions, transcript
from claude_chat.store.lock import SessionLock, SessionLockedError
from claude_chat.store.sessions import RecapLine, SessionSummary
from claude_chat.terminal.turn_lines import StyledLine, checklist

TABLE_ROWS = 30
_COMMAND = re.compile(r"/([A-Za-z][\w-]*)(?:\s+(.*))?", re.DOTALL)


class CommandContext(Protocol):
    engine: ChatEngine
    stats: SessionStats
    thinking: ThinkingDisplay
    # Keys and what they do, for /help; empty where there is no keyboard (piped mode).
    key_help: Sequence[tuple[str, str]]
    # The last table /sessions showed: /resume N and /delete N count in it.
    listed_sessions: list[SessionSummary]
    # The last message the user sent (or tried to), for /retry.
    last_message: str | None
    # The lock of the session the chat is in: two processes must not write one session.
    session_lock: SessionLock

    async def send_message(self, text: str) -> None:
        """Send ``text`` as a message, shown as any other turn."""

    def say(self, text: str) -> None:
        """Show a line (or a few) of plain information."""

    def show_pairs(self, pairs: Sequence[tuple[str, str]]) -> None:
        """Show aligned ``name  value`` rows."""

    def show_table(self, headers: Sequence[str], rows: Sequence[Sequence[str]]) -> None: ...

    def show_lines(self, lines: Sequence[StyledLine]) -> None:
        """Show lines with their styles (plain text where there are none)."""

    def show_recap(self, lines: Sequence[RecapLine]) -> None:
        """Show the end of a conversation the chat is going on with."""

    async def confirm(self, question: str) -> bool:
        """Ask a yes/no question; no (the default) where nobody can answer."""

    def copy_to_clipboard(self, text: str) -> None:
        """Put ``text`` on the clipboard of the user's terminal; CommandError if there is none."""

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
        """The first sentence of the docstring, on one line."""
        paragraph = " ".join(self.help.split("\n\n")[0].split())
        end = paragraph.find(". ")
        return paragraph[: end + 1] if end >= 0 else paragraph

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

    def suggest(self, name: str, others: Sequence[str] = ()) -> str | None:
        """The nearest name among ours and ``others`` (Claude Code's), if one is near."""
        names = [*self._by_name, *others]
        close = difflib.get_close_matches(name.lower(), names, n=1, cutoff=0.5)
        if close:
            return close[0]
        prefixed = [n for n in names if n.startswith(name.lower()[:2])]
        return prefixed[0] if len(prefixed) == 1 else None

    async def run(self, ctx: CommandContext, line: str) -> None:
        """Run the command in ``line``; bad input raises ``CommandError`` with one line to show."""
        parsed = parse_command(line)
        if parsed is None:
            raise CommandError(f"not a command: {line.strip()[:40]}")
        name, args = parsed
        command = self.lookup(name)
        if command is None:
            theirs = await claude_code_commands(ctx.engine)
            if any(name in (n.lower() for n in c.names) for c in theirs):
                # Claude Code expands and runs its own commands, as typed.
                await ctx.send_message(line.strip())
                return
            hint = self.suggest(name, [n for c in theirs for n in c.names])
            raise CommandError(
                f"unknown command /{name}"
                + (f"; did you mean /{hint}?" if hint else "")
                + " (/help lists commands)"
            )
        await command.handler(ctx, args)


async def claude_code_commands(engine: ChatEngine) -> list[ClaudeCommand]:
    """Claude Code's commands that claude-chat does not run itself, once Claude Code has said
    which it has (it is waited for while it starts; none if it cannot start)."""
    if engine.state in ("starting", "stopped"):
        with contextlib.suppress(ChatError):
            await engine.wait_ready()
    return not_ours(engine.claude_commands)


def not_ours(commands: Sequence[ClaudeCommand]) -> list[ClaudeCommand]:
    """Those of Claude Code's commands that claude-chat does not run itself; a command of both
    is ours under all of its names."""
    return [c for c in commands if all(registry.lookup(n) is None for n in c.names)]


def command_summary(description: str, width: int = 80) -> str:
    """The first sentence of a Claude Code command's description, at most ``width`` long."""
    line = " ".join(description.split())
    end = line.find(". ")
    line = line[: end + 1] if end >= 0 else line
    return line if len(line) <= width else line[: width - 1].rstrip() + "…"


def _listed_summary(command: ClaudeCommand) -> str:
    also = ", ".join(f"/{a}" for a in command.aliases)
    return command_summary(command.description) + (f" (also {also})" if also else "")


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
    """Show the commands, Claude Code's own too, or the full help of one."""
    theirs = await claude_code_commands(ctx.engine)
    if args:
        name = args.lstrip("/").lower()
        command = registry.lookup(name)
        if command is not None:
            names = ", ".join(f"/{a}" for a in command.aliases)
            ctx.say(command.usage + (f"  (also {names})" if names else "") + "\n" + command.help)
            return
        claude = next((c for c in theirs if name in (n.lower() for n in c.names)), None)
        if claude is None:
            raise CommandError(f"no command /{name} (/help lists commands)")
        usage = f"/{claude.name}" + (f" {claude.argument_hint}" if claude.argument_hint else "")
        names = ", ".join(f"/{a}" for a in claude.aliases)
        also = f", also {names}" if names else ""
        ctx.say(f"{usage}  (Claude Code's own{also})\n{claude.description}")
        return
    ctx.show_pairs([(c.usage, c.summary) for c in registry.commands])
    if theirs:
        ctx.say("")
        ctx.say("Claude Code's commands (Claude Code runs them as typed):")
        ctx.show_pairs([(f"/{c.name}", _listed_summary(c)) for c in theirs])
    if ctx.key_help:
        ctx.say("")
        ctx.show_pairs(ctx.key_help)
    ctx.say("A line starting with // sends that line with one / as a message.")


@registry.command("exit", "quit", "q")
async def _exit(ctx: CommandContext, args: str) -> None:
    """Leave the chat (the Claude Code process is closed)."""
    ctx.request_exit()


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


@registry.command("permissions", args="[MODE]")
async def _permissions(ctx: CommandContext, args: str) -> None:
    """Show or switch the permission mode, without restarting.

    default: ask before tools that change things · acceptEdits: file edits run without asking ·
    plan: Claude plans and changes nothing · bypassPermissions: nothing is asked (Claude Code
    refuses it when running as root) · dontAsk: deny what is not allowed, never ask.
    """
    if not args:
        ctx.say(f"permission mode: {ctx.engine.permission_mode}")
        ctx.say("switch with /permissions " + "|".join(PERMISSION_MODES))
        return
    wanted = args.split()[0]
    mode = next((m for m in PERMISSION_MODES if m.lower() == wanted.lower()), None)
    if mode is None:
        raise CommandError(
            f"unknown permission mode {wanted!r}; choose one of {', '.join(PERMISSION_MODES)}"
        )
    _refuse_while_busy(ctx, "changing the permission mode")
    await ctx.engine.set_permission_mode(mode)
    ctx.say(f"permission mode: {mode}")


@registry.command("retry")
async def _retry(ctx: CommandContext, args: str) -> None:
    """Send your last message again (after an error, a crash of Claude Code, or Ctrl+C)."""
    if ctx.last_message is None:
        raise CommandError("nothing to retry: no message sent yet")
    _refuse_while_busy(ctx, "retrying")
    await ctx.send_message(ctx.last_message)


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
    wanted = args.split()[0].lower()
    choice = next((d for d in THINKING_DISPLAYS if d == wanted), None)
    if choice is None:
        raise CommandError(f"thinking display must be full, collapsed or hidden, not {wanted!r}")
    ctx.thinking = choice
    ctx.say(f"thinking: {choice}")


@registry.command("sessions", args="[TEXT] [--all]")
async def _sessions(ctx: CommandContext, args: str) -> None:
    """List this directory's sessions, newest first, or those whose title has TEXT.

    --all lists the sessions of every directory. /resume N and /delete N take a number
    from this table.
    """
    words = args.split()
    every_directory = "--all" in words
    text = " ".join(w for w in words if w != "--all")
    found = await list_sessions(ctx, every_directory)
    if text:
        found = sessions.matching(found, text)
    ctx.listed_sessions = found
    if not found:
        where = "" if every_directory else " in this directory (--all for every directory)"
        ctx.say(f"no sessions{' matching ' + repr(text) if text else ''}{where}")
        return
    headers, rows = session_table(found[:TABLE_ROWS], _chat_cwd(ctx), current=ctx.engine.session_id)
    ctx.show_table(headers, rows)
    more = len(found) - TABLE_ROWS
    if more > 0:
        ctx.say(f"… and {more} older (/sessions TEXT finds one by its title)")
    ctx.say("/resume N switches to one")


@registry.command("resume", args="N|ID|TEXT")
async def _resume(ctx: CommandContext, args: str) -> None:
    """Switch to another session: its number in /sessions, its id (or its start), or words
    of its title. This conversation stays stored and can be resumed in turn."""
    if not args:
        raise CommandError("say which session: /resume N, ID or TEXT (/sessions lists them)")
    _refuse_while_busy(ctx, "switching session")
    target = sessions.resolve(args, ctx.listed_sessions or await list_sessions(ctx, False))
    if target.session_id == ctx.engine.session_id:
        ctx.say(f"already in session {target.session_id}")
        return
    await _go_to(ctx, target)


@registry.command("clear", "new")
async def _clear(ctx: CommandContext, args: str) -> None:
    """Start a new conversation, as Claude Code's /clear does; the current one stays stored
    (/sessions, /resume). Ctrl+L clears the screen instead."""
    _refuse_while_busy(ctx, "starting a new conversation")
    previous = ctx.engine.session_id
    await ctx.engine.new_conversation()
    ctx.stats = SessionStats()
    ctx.say(
        "new conversation"
        + (f" (the last one: claude-chat --session {previous})" if previous else "")
    )


@registry.command("compact", args="[INSTRUCTIONS]")
async def _compact(ctx: CommandContext, args: str) -> None:
    """Free context: Claude Code replaces the conversation so far by a summary of it, and the
    chat goes on from there. INSTRUCTIONS say what the summary must keep.

    Shows how long it took and how many tokens the context held before and after.
    """
    _current(ctx, "compacted")
    _refuse_while_busy(ctx, "compacting")
    await ctx.send_message(f"/compact {args}".rstrip())


@registry.command("todos")
async def _todos(ctx: CommandContext, args: str) -> None:
    """Show Claude Code's task list as it last set it in this conversation."""
    if ctx.engine.todos is None:
        raise CommandError("Claude Code has not made a task list in this conversation")
    ctx.show_lines(checklist(ctx.engine.todos))


@registry.command("rename", args="TITLE")
async def _rename(ctx: CommandContext, args: str) -> None:
    """Give this session a title, shown by /sessions and by Claude Code's own /resume."""
    session_id = _current(ctx, "renamed")
    title = " ".join(args.split())
    if not title:
        raise CommandError("say the new title: /rename TITLE")
    await asyncio.to_thread(sessions.rename, session_id, title[:200])
    ctx.listed_sessions = []
    ctx.say(f"session {session_id[:8]} is now titled {title[:200]!r}")


@registry.command("fork")
async def _fork(ctx: CommandContext, args: str) -> None:
    """Branch this conversation into a new session and go on there; the original stays as it
    was."""
    session_id = _current(ctx, "forked")
    _refuse_while_busy(ctx, "forking")
    fork_id = await asyncio.to_thread(sessions.fork, session_id)
    ctx.session_lock.hold(fork_id)
    await _switch(ctx, fork_id)
    ctx.say(f"forked {session_id} → {fork_id}; you are in the fork now")
    ctx.say(f"the original: claude-chat --session {session_id}")


@registry.command("delete", args="N|ID")
async def _delete(ctx: CommandContext, args: str) -> None:
    """Delete a session for good (asks first). Deleting this one starts a new session."""
    if not args:
        raise CommandError("say which session: /delete N or /delete ID (/sessions lists them)")
    target = sessions.resolve(args, ctx.listed_sessions or await list_sessions(ctx, False))
    current = target.session_id == ctx.engine.session_id
    if current:
        _refuse_while_busy(ctx, "deleting this session")
    holder = ctx.session_lock.holder(target.session_id)
    if holder is not None:
        raise CommandError(
            f"session {target.session_id[:8]} is open in claude-chat process {holder}: not deleted"
        )
    question = f"delete session {target.session_id[:8]} {target.title[:60]!r}"
    question += f" ({target.turns} turns{', the current one' if current else ''})? [y/N] "
    if not await ctx.confirm(question):
        ctx.say("not deleted")
        return
    if current:
        # Its process goes first: Claude Code writes to the session file as it closes.
        await _switch(ctx, None)
    await asyncio.to_thread(sessions.delete, target.session_id)
    ctx.listed_sessions = []
    ctx.say(f"deleted session {target.session_id}" + ("; this is a new session" if current else ""))


@registry.command("save", args="[PATH] [--last N] [--force]")
async def _save(ctx: CommandContext, args: str) -> None:
    """Save this conversation: .md (the default), .json or .html, by PATH's extension.

    Without PATH it goes to the transcripts folder of the user data dir. --last N keeps the
    last N turns; an existing file is only replaced with --force.
    """
    path, last, force = _save_arguments(args)
    session_id = _current(ctx, "saved")
    environment = {**os.environ, **ctx.engine.config.cli_environment()}
    chat = await asyncio.to_thread(
        transcript.from_session,
        session_id,
        list(ctx.stats.results),
        _title_of(session_id),
        ctx.engine.cli_version,
        secrets_from(environment),
    )
    if last is not None:
        chat = chat.last(last)
    if path is None:
        folder = data_dir() / "transcripts"
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        path = export.default_path(folder, chat)
    fmt = export.format_of(path)
    text = export.render_as(chat, fmt)
    written = await asyncio.to_thread(export.write_private, path, text, force)
    turns = len(chat.turns)
    ctx.say(f"saved {turns} turn{'s' if turns != 1 else ''} to {written.resolve()}")


@registry.command("copy", args="[code]")
async def _copy(ctx: CommandContext, args: str) -> None:
    """Copy the last answer to the clipboard (OSC 52: works over SSH and in tmux).

    /copy code copies the last code block of the last answer instead.
    """
    answers = [r.answer for r in ctx.stats.results if r.answer.strip()]
    if not answers:
        raise CommandError("nothing to copy yet: no answer in this session")
    text = answers[-1]
    what = "the last answer"
    if args.strip().lower() == "code":
        blocks = code_blocks(text)
        if not blocks:
            raise CommandError("the last answer has no code block (/copy copies all of it)")
        text, what = blocks[-1], "the last code block"
    elif args.strip():
        raise CommandError("/copy takes nothing or 'code'")
    ctx.copy_to_clipboard(text)
    ctx.say(f"copied {what} ({len(text):,} characters)")


def code_blocks(markdown: str) -> list[str]:
    from markdown_it import MarkdownIt

    tokens = MarkdownIt("commonmark").parse(markdown)
    return [t.content.rstrip("\n") for t in tokens if t.type in ("fence", "code_block")]


def _save_arguments(args: str) -> tuple[Path | None, int | None, bool]:
    import shlex

    try:
        words = shlex.split(args)
    except ValueError as exc:
        raise CommandError(f"/save: {exc}") from exc
    path: Path | None = None
    last: int | None = None
    force = False
    while words:
        word = words.pop(0)
        if word == "--force":
            force = True
        elif word == "--last":
            if not words or not words[0].isdigit() or int(words[0]) < 1:
                raise CommandError("--last needs a number of turns, like --last 3")
            last = int(words.pop(0))
        elif word.startswith("--"):
            raise CommandError(f"/save does not know {word} (/help save)")
        elif path is None:
            try:
                path = Path(word).expanduser()
            except RuntimeError as exc:  # ~user of no user
                raise CommandError(f"/save: {exc}: {word}") from exc
        else:
            raise CommandError("/save takes one PATH (quote a path with spaces)")
    return path, last, force


def _title_of(session_id: str) -> str | None:
    path = sessions.find_session_file(session_id)
    summary = sessions.summarize(path) if path else None
    return summary.title if summary else None


async def list_sessions(ctx: CommandContext, every_directory: bool) -> list[SessionSummary]:
    cwd = None if every_directory else _chat_cwd(ctx)
    return await asyncio.to_thread(sessions.list_sessions, cwd, data_dir() / "sessions-cache.json")


def session_table(
    found: Sequence[SessionSummary], cwd: str, current: str | None = None, now: float | None = None
) -> tuple[list[str], list[list[str]]]:
    """The rows of a sessions table: number, short id, title, last activity, turns, directory
    (only for sessions of another directory)."""
    now = time.time() if now is None else now
    other_dirs = any(s.cwd and s.cwd != cwd for s in found)
    headers = ["#", "id", "title", "last active", "turns"] + (["directory"] if other_dirs else [])
    rows = []
    for number, summary in enumerate(found, start=1):
        mark = "*" if summary.session_id == current else ""
        row = [
            f"{number}{mark}",
            summary.session_id[:8],
            summary.title,
            relative_time(now - summary.last_active),
            str(summary.turns),
        ]
        if other_dirs:
            row.append("" if summary.cwd == cwd else _home_short(summary.cwd or "?"))
        rows.append(row)
    return headers, rows


def relative_time(seconds: float) -> str:
    if seconds < 60:
        return "just now"
    for size, unit in (
        (86400 * 365, "year"),
        (86400 * 30, "month"),
        (86400 * 7, "week"),
        (86400, "day"),
        (3600, "hour"),
        (60, "minute"),
    ):
        if seconds >= size:
            count = int(seconds // size)
            return f"{count} {unit}{'s' if count > 1 else ''} ago"
    return "just now"


async def _go_to(ctx: CommandContext, target: SessionSummary) -> None:
    cwd = sessions.session_dir(target, _chat_cwd(ctx))
    session_id = target.session_id
    try:
        ctx.session_lock.hold(session_id)
    except SessionLockedError as exc:
        if not await ctx.confirm(f"{exc}; go on in a copy of it instead? [y/N] "):
            raise CommandError(f"{exc}: not resumed (/fork there, or --fork, copies it)") from None
        session_id = await asyncio.to_thread(sessions.fork, target.session_id)
        ctx.session_lock.hold(session_id)
        ctx.say(f"forked {target.session_id} → {session_id}")
    else:
        if await asyncio.to_thread(sessions.end_torn_record, target.path):
            ctx.say(sessions.TORN_WARNING)
    await _switch(ctx, session_id, cwd)
    ctx.say(f"resumed session {session_id} {target.title[:60]!r}")
    if cwd is not None:
        ctx.say(f"that session is in {target.cwd}: Claude Code works there now")
    ctx.show_recap(await asyncio.to_thread(sessions.recap, session_id))


async def _switch(ctx: CommandContext, session_id: str | None, cwd: Path | None = None) -> None:
    """Go on in another session (None: a new one); the figures so far were this one's."""
    await ctx.engine.switch_session(session_id, cwd)
    ctx.stats = SessionStats()


def _current(ctx: CommandContext, verb: str) -> str:
    if ctx.engine.session_id is None:
        raise CommandError(f"this session has no messages yet, so it cannot be {verb}")
    return ctx.engine.session_id


def _refuse_while_busy(ctx: CommandContext, what: str) -> None:
    if ctx.engine.busy:
        raise CommandError(f"an answer is still streaming: wait for it (or Ctrl+C) before {what}")


def _chat_cwd(ctx: CommandContext) -> str:
    return ctx.engine.cwd or os.getcwd()


def _home_short(path: str) -> str:
    home = str(Path.home())
    return "~" + path[len(home) :] if path == home or path.startswith(home + os.sep) else path


def _cli_state(engine: ChatEngine) -> str:
    version = engine.cli_version or "?"
    if engine.state in ("ready", "running"):
        return f"{version} (pid {engine.cli_pid})" if engine.cli_pid else version
    if engine.state == "failed" and engine.start_error is not None:
        return f"failed to start: {engine.start_error}"
    return engine.state
