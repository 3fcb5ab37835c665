"""``claude-chat``: options in, a chat out (the REPL, or piped mode when stdin is not a
terminal), and the ``sessions`` and ``export`` commands. Bad options end here with one line
on stderr; errors during a chat are shown by the front that runs it."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from claude_chat import __version__
from claude_chat.engine.config import PERMISSION_MODES, THINKING_DISPLAYS, ChatConfig

if TYPE_CHECKING:
    from claude_chat.store.lock import SessionLock

app = typer.Typer(
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
    rich_markup_mode=None,
)


def _fail(message: str, code: int = 2) -> typer.Exit:
    # What the user typed may hold characters no terminal encoding takes (a lone surrogate).
    printable = message.encode("utf-8", "backslashreplace").decode("utf-8")
    sys.stderr.write(f"claude-chat: {printable}\n")
    return typer.Exit(code)


def _show_version(value: bool) -> None:
    if value:
        sys.stdout.write(f"claude-chat {__version__}\n")
        raise typer.Exit()


@app.callback(invoke_without_command=True)
def chat(
    context: typer.Context,
    model: Annotated[
        Optional[str],  # noqa: UP045 - typer reads this annotation at runtime on Python 3.10
        typer.Option("--model", "-m", help="Model alias (sonnet, opus, haiku) or full name."),
    ] = None,
    # Strings, made paths here: typer's own path conversion stats the file and raises on a
    # name no file system takes.
    cwd_text: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--cwd", help="Directory Claude Code works in (default: this one)."),
    ] = None,
    cli_path_text: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--cli-path", help="Claude Code CLI to run (default: the bundled one)."),
    ] = None,
    permission_mode: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(
            "--permission-mode",
            help="default, acceptEdits, plan, bypassPermissions, dontAsk, auto.",
        ),
    ] = None,
    allowed_tools: Annotated[
        Optional[list[str]],  # noqa: UP045
        typer.Option(
            "--allowed-tools", help='Tools allowed without asking, e.g. "Bash(git:*)" (repeatable).'
        ),
    ] = None,
    disallowed_tools: Annotated[
        Optional[list[str]],  # noqa: UP045
        typer.Option("--disallowed-tools", help="Tools never allowed (repeatable)."),
    ] = None,
    session: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--session", help="Resume the session with this id."),
    ] = None,
    resume_last: Annotated[
        bool,
        typer.Option("--continue", "-c", help="Resume this directory's most recent session."),
    ] = False,
    fork: Annotated[
        bool,
        typer.Option("--fork", help="With --session or --continue: go on in a copy of it."),
    ] = False,
    thinking: Annotated[
        str,
        typer.Option("--thinking", help="Show thinking: full (dimmed), collapsed or hidden."),
    ] = "full",
    no_notify: Annotated[
        bool,
        typer.Option(
            "--no-notify", help="No bell or notification when a long answer ends unwatched."
        ),
    ] = False,
    notify_after: Annotated[
        float,
        typer.Option(
            "--notify-after",
            help="Seconds an answer must take to notify when it ends unwatched (default 15).",
        ),
    ] = 15.0,
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_show_version, is_eager=True, help="Show the version and exit."
        ),
    ] = False,
) -> None:
    """A terminal chat with Claude Code: one long-lived process, answers rendered as they arrive."""
    mode = next((m for m in PERMISSION_MODES if m == permission_mode), None)
    if permission_mode is not None and mode is None:
        raise _fail(
            f"unknown permission mode {permission_mode!r}; "
            f"choose one of {', '.join(PERMISSION_MODES)}"
        )
    display = next((d for d in THINKING_DISPLAYS if d == thinking), None)
    if display is None:
        raise _fail(f"--thinking must be full, collapsed or hidden, not {thinking!r}")
    cwd = Path(cwd_text) if cwd_text is not None else None
    cli_path = Path(cli_path_text) if cli_path_text is not None else None
    if cwd is not None and not _is(cwd, "dir"):
        raise _fail(f"--cwd {cwd!s:.200}: no such directory")
    if cli_path is not None and not _is(cli_path, "executable"):
        raise _fail(f"--cli-path {cli_path!s:.200}: no executable file there")
    if context.invoked_subcommand is not None:
        return
    from claude_chat.engine.errors import ChatError
    from claude_chat.store.lock import session_lock

    lock = session_lock()
    try:
        session, session_cwd = _starting_session(session, resume_last, fork, cwd, lock)
    except ChatError as exc:
        raise _fail(str(exc)) from None
    cwd = session_cwd or cwd
    config = ChatConfig(
        model=model,
        cwd=cwd.resolve() if cwd else None,
        cli_path=cli_path,
        permission_mode=mode,
        resume_session_id=session,
        allowed_tools=_tool_rules(allowed_tools),
        disallowed_tools=_tool_rules(disallowed_tools),
        thinking=display,
    )
    _keep_library_logs_off_the_screen()
    raise typer.Exit(asyncio.run(_run(config, lock, None if no_notify else notify_after)))


def _is(path: Path, kind: str) -> bool:
    """Whether ``path`` is a directory or an executable file; False for names no file system
    takes (a lone surrogate, a NUL byte) rather than an exception."""
    try:
        if kind == "dir":
            return path.is_dir()
        return path.is_file() and os.access(path, os.X_OK)
    except (OSError, ValueError):  # UnicodeEncodeError is a ValueError
        return False


def _tool_rules(values: list[str] | None) -> tuple[str, ...]:
    """Rules as Claude Code's own flag takes them: repeated, or several in one separated by
    commas or spaces outside parentheses ("Bash(git log:*),Read")."""
    rules: list[str] = []
    for value in values or []:
        depth, current = 0, ""
        for char in value:
            depth += {"(": 1, ")": -1}.get(char, 0)
            if char in ", " and depth == 0:
                if current:
                    rules.append(current)
                current = ""
            else:
                current += char
        if current:
            rules.append(current)
    return tuple(rules)


def _starting_session(
    session: str | None, resume_last: bool, fork: bool, cwd: Path | None, lock: SessionLock
) -> tuple[str | None, Path | None]:
    """The session to resume and the directory it must run in (when not ``cwd``), its lock
    held. A session another process holds is forked when the person at the terminal says so."""
    from claude_chat.engine.config import data_dir
    from claude_chat.engine.errors import ChatError
    from claude_chat.store import sessions

    here = str((cwd or Path.cwd()).resolve())
    if session is not None and resume_last:
        raise ChatError("use --session ID or --continue, not both")
    if fork and session is None and not resume_last:
        raise ChatError("--fork needs the session to copy: --session ID or --continue")
    if resume_last:
        found = sessions.list_sessions(here, data_dir() / "sessions-cache.json")
        if not found:
            raise ChatError(f"no session in {here} yet; `claude-chat sessions --all` lists all")
        target = found[0]
    elif session is not None:
        if not sessions.is_session_id(session):
            raise sessions.SessionNotFoundError(session[:60], "not a session id (a UUID):")
        path = sessions.find_session_file(session)
        if path is None:
            raise sessions.SessionNotFoundError(session)
        summary = sessions.summarize(path)
        target = summary or sessions.SessionSummary(session.lower(), "", 0, None, 0, path)
    else:
        return None, None
    if not fork:
        fork = not _held_by_us(lock, target.session_id)
    # A file another process is writing is not ours to mend.
    if lock.holder(target.session_id) is None and sessions.end_torn_record(target.path):
        sys.stderr.write(sessions.TORN_WARNING + "\n")
    session_cwd = sessions.session_dir(target, here)
    if session_cwd is not None:
        sys.stderr.write(f"session {target.session_id[:8]} is in {session_cwd}: working there\n")
    chosen = target.session_id
    if fork:
        chosen = sessions.fork(target.session_id)
        lock.hold(chosen)
        sys.stderr.write(f"forked {target.session_id} → {chosen}: going on in the fork\n")
    return chosen, session_cwd


def _held_by_us(lock: SessionLock, session_id: str) -> bool:
    """Take ``session_id``'s lock: True, or False when another process holds it and the person
    at the terminal wants a copy instead; ChatError when not (always in piped mode)."""
    from claude_chat.engine.errors import ChatError
    from claude_chat.store.lock import SessionLockedError

    try:
        lock.hold(session_id)
        return True
    except SessionLockedError as exc:
        if sys.stdin.isatty():
            sys.stderr.write(f"{exc}\nGo on in a copy of it instead (--fork)? [y/N] ")
            sys.stderr.flush()
            if sys.stdin.readline().strip().lower() in ("y", "yes"):
                return False
        offer = f"go on in a copy of it with: claude-chat --session {session_id} --fork"
        raise ChatError(f"{exc}; {offer}") from None


@app.command("sessions")
def list_sessions_command(
    text: Annotated[
        Optional[str],  # noqa: UP045
        typer.Argument(help="Only sessions whose title or id has these words."),
    ] = None,
    every_directory: Annotated[
        bool, typer.Option("--all", help="Sessions of every directory, not only this one.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON array, for programs.")] = False,
    limit: Annotated[
        Optional[int],  # noqa: UP045
        typer.Option("--limit", help="At most this many (0: all). Default: 30 rows; JSON all."),
    ] = None,
) -> None:
    """List stored sessions, newest first, without starting a chat."""
    import json
    import time

    from claude_chat.engine.config import data_dir
    from claude_chat.store import sessions
    from claude_chat.terminal.commands import session_table

    here = str(Path.cwd().resolve())
    cache = data_dir() / "sessions-cache.json"
    found = sessions.list_sessions(None if every_directory else here, cache)
    if text:
        found = sessions.matching(found, text)
    if as_json:
        rows = [
            {
                "id": s.session_id,
                "title": s.title,
                "last_active": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(s.last_active)),
                "turns": s.turns,
                "cwd": s.cwd,
            }
            for s in (found[:limit] if limit and limit > 0 else found)
        ]
        sys.stdout.write(json.dumps(rows, ensure_ascii=False, indent=1) + "\n")
        return
    if not found:
        where = "" if every_directory else f" in {here} (--all for every directory)"
        sys.stdout.write(f"no sessions{where}\n")
        return
    from rich.console import Console

    from claude_chat.terminal.render import table

    limit = 30 if limit is None else limit
    shown = found[:limit] if limit > 0 else found
    console = Console(highlight=False)
    console.print(table(*session_table(shown, here)))
    if len(found) > len(shown):
        console.print(f"… and {len(found) - len(shown)} older (--limit 0 shows all)", style="dim")
    console.print("resume one with: claude-chat --session ID", style="dim")


@app.command("export")
def export_command(
    session: Annotated[str, typer.Argument(help="The session id (`claude-chat sessions`).")],
    output_text: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--output", "-o", help="File to write (default: standard output)."),
    ] = None,
    fmt: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--format", help="md, json or html (default: by the file's extension)."),
    ] = None,
    last: Annotated[
        Optional[int],  # noqa: UP045
        typer.Option("--last", help="Only the last N turns.", min=1),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing file.")] = False,
) -> None:
    """Write a stored session as markdown, JSON or HTML, without starting a chat."""
    output = Path(output_text) if output_text is not None else None
    from claude_chat.engine.errors import ChatError
    from claude_chat.engine.secrets import secrets_from
    from claude_chat.store import export, sessions, transcript

    try:
        if not sessions.is_session_id(session):
            raise sessions.SessionNotFoundError(session[:60], "not a session id (a UUID):")
        if fmt is not None and fmt not in export.FORMATS:
            raise ChatError(f"--format must be md, json or html, not {fmt!r}")
        chosen = fmt or (export.format_of(output) if output else "md")
        path = sessions.find_session_file(session)
        summary = sessions.summarize(path) if path else None
        chat = transcript.from_session(
            session,
            title=summary.title if summary else None,
            secrets=secrets_from(os.environ),
        )
        if last is not None:
            chat = chat.last(last)
        text = export.render_as(chat, chosen)
        if output is None:
            sys.stdout.write(text)
            return
        written = export.write_private(output, text, force)
    except ChatError as exc:
        raise _fail(str(exc)) from None
    sys.stderr.write(f"wrote {len(chat.turns)} turns to {written}\n")


@app.command("serve")
def serve_command(
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port (0: any free one).", min=0)] = 8765,
    keys_file_text: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(
            "--keys-file",
            help="TOML file of [tenants.NAME] tables (key, api_key or oauth_token, "
            "max_concurrent, cwd).",
        ),
    ] = None,
    max_processes: Annotated[
        Optional[int],  # noqa: UP045
        typer.Option(
            "--max-processes",
            help="Live Claude Code processes at most (default: memory / 250 MB, at most 64).",
            min=1,
        ),
    ] = None,
    idle_timeout: Annotated[
        float, typer.Option("--idle-timeout", help="Seconds before an idle process is closed.")
    ] = 600.0,
    queue_timeout: Annotated[
        float,
        typer.Option("--queue-timeout", help="Seconds a turn waits for a process before 503."),
    ] = 30.0,
    data_dir_text: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--data-dir", help="Where tenants' sessions live (default: the data dir)."),
    ] = None,
    cwd_text: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--cwd", help="Directory Claude Code works in (default: this one)."),
    ] = None,
    permission_mode: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--permission-mode", help="default, acceptEdits, plan, dontAsk, ..."),
    ] = None,
    cli_path_text: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--cli-path", help="Claude Code CLI to run (default: the bundled one)."),
    ] = None,
    metrics_key: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(
            "--metrics-key",
            envvar="CLAUDE_CHAT_METRICS_KEY",
            help="Require this bearer key for /metrics (or CLAUDE_CHAT_METRICS_KEY).",
        ),
    ] = None,
    redis_url: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(
            "--redis",
            envvar="CLAUDE_CHAT_REDIS_URL",
            help="Share sessions with other nodes through this Redis, redis://HOST:PORT/DB "
            "(or CLAUDE_CHAT_REDIS_URL, for a URL with a password).",
        ),
    ] = None,
    node_id: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--node-id", help="This node's name among the others (default: hostname)."),
    ] = None,
    advertise_url: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(
            "--advertise-url",
            help="Where other nodes reach this one (default: http://HOST:PORT it listens on).",
        ),
    ] = None,
    lease_ttl: Annotated[
        float,
        typer.Option("--lease-ttl", help="Seconds a dead node's sessions wait to be taken."),
    ] = 15.0,
    user_names_session: Annotated[
        bool,
        typer.Option(
            "--user-names-session",
            help="OpenAI's user and Anthropic's metadata.user_id name the conversation "
            "(as X-Claude-Chat-Session does).",
        ),
    ] = False,
) -> None:
    """Serve conversations over HTTP (SSE, JSON) and WebSocket for the keys' tenants."""
    if permission_mode is not None and permission_mode not in PERMISSION_MODES:
        raise _fail(
            f"unknown permission mode {permission_mode!r}; "
            f"choose one of {', '.join(PERMISSION_MODES)}"
        )
    for name, value in (
        ("--idle-timeout", idle_timeout),
        ("--queue-timeout", queue_timeout),
        ("--lease-ttl", lease_ttl),
    ):
        if not value > 0:
            raise _fail(f"{name} must be a number of seconds above 0")
    cwd = Path(cwd_text) if cwd_text is not None else Path.cwd()
    if not _is(cwd, "dir"):
        raise _fail(f"--cwd {cwd!s:.200}: no such directory")
    cli_path = Path(cli_path_text) if cli_path_text is not None else None
    if cli_path is not None and not _is(cli_path, "executable"):
        raise _fail(f"--cli-path {cli_path!s:.200}: no executable file there")
    # Imported here: the chat itself never loads the server's dependencies.
    from claude_chat.engine.config import data_dir
    from claude_chat.engine.errors import ChatError
    from claude_chat.server import keys, run
    from claude_chat.server.settings import ServerSettings, default_max_processes

    try:
        keyring, generated = keys.keyring(
            os.environ.get("CLAUDE_CHAT_SERVER_KEYS"),
            Path(keys_file_text) if keys_file_text is not None else None,
        )
    except ChatError as exc:
        raise _fail(str(exc)) from None
    if generated is not None and not keys.is_loopback(host):
        raise _fail(
            f"without keys (CLAUDE_CHAT_SERVER_KEYS or --keys-file) serve listens on loopback "
            f"only, not {host}"
        )
    settings = ServerSettings(
        data_dir=Path(data_dir_text) if data_dir_text is not None else data_dir(),
        cwd=cwd.resolve(),
        max_processes=max_processes or default_max_processes(),
        idle_timeout_s=idle_timeout,
        queue_timeout_s=queue_timeout,
        permission_mode=permission_mode,
        cli_path=cli_path,
        metrics_key=metrics_key or None,
        user_names_session=user_names_session,
    )
    try:
        sock = run.bind(host, port)
    except OSError as exc:
        raise _fail(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    if redis_url:
        from dataclasses import replace

        if not redis_url.startswith(("redis://", "rediss://", "unix://")):
            # Not echoed: the URL may hold a password.
            raise _fail("--redis takes a URL of redis://, rediss:// or unix://")
        if any(text and len(text.split()) != 1 for text in (node_id, advertise_url)):
            raise _fail("--node-id and --advertise-url take one word each, without spaces")
        settings = replace(
            settings,
            cluster=run.cluster_settings(sock, redis_url, node_id, advertise_url, lease_ttl),
        )

    def announce(line: str) -> None:
        sys.stdout.write(f"claude-chat serve: {line}\n")
        if generated is not None:
            sys.stdout.write(
                f"claude-chat serve: no keys given; this one (tenant 'default'), shown once: "
                f"{generated}\n"
            )
        sys.stdout.flush()

    raise typer.Exit(run.serve(settings, keyring, sock, announce))


def _keep_library_logs_off_the_screen() -> None:
    """The SDK logs failures it also raises; the user gets our one line, the details go to
    errors.log in the user data dir."""
    import logging
    import warnings

    from claude_chat.engine.config import data_dir, private_file

    sdk_log = logging.getLogger("claude_agent_sdk")
    sdk_log.propagate = False
    try:
        handler: logging.Handler = logging.FileHandler(private_file(data_dir() / "errors.log"))
    except OSError:
        handler = logging.NullHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    sdk_log.addHandler(handler)
    warnings.filterwarnings("ignore", module="claude_agent_sdk")


async def _run(config: ChatConfig, lock: SessionLock, notify_after_s: float | None) -> int:
    """The chat, ended cleanly by SIGTERM or SIGHUP too: the front's own clean-up runs (the
    Claude Code process is closed in bounded steps), then the exit status is 128 + signal."""
    import signal

    loop = asyncio.get_running_loop()
    chat = asyncio.current_task()
    received: list[int] = []

    def on_signal(signum: int) -> None:
        if not received and chat is not None:
            received.append(signum)
            chat.cancel()

    for signum in (signal.SIGTERM, signal.SIGHUP):
        loop.add_signal_handler(signum, on_signal, signum)
    try:
        return await _front(config, lock, notify_after_s)
    except asyncio.CancelledError:
        if not received:
            raise
    # A worker thread may still be blocked reading standard input; the process must not
    # wait for it, and everything of ours is closed by now.
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(128 + received[0])


async def _front(config: ChatConfig, lock: SessionLock, notify_after_s: float | None) -> int:
    if not sys.stdin.isatty():
        from claude_chat.terminal.piped import PipedChat

        return await PipedChat(config, session_lock=lock).run()

    from rich.console import Console

    from claude_chat.terminal.repl import Repl

    return await Repl(config, lambda: Console(highlight=False), lock, notify_after_s).run()


def main() -> None:
    app()
