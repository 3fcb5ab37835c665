"""``claude-chat``: options in, a chat out. The only layer that prints errors for users."""

from __future__ import annotations

import asyncio
import os
import sys
import uuid
from pathlib import Path
from typing import Annotated, Optional

import typer

from claude_chat import __version__
from claude_chat.config import PERMISSION_MODES, THINKING_DISPLAYS, ChatConfig

app = typer.Typer(
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
    rich_markup_mode=None,
)


def _fail(message: str, code: int = 2) -> typer.Exit:
    sys.stderr.write(f"claude-chat: {message}\n")
    return typer.Exit(code)


def _show_version(value: bool) -> None:
    if value:
        sys.stdout.write(f"claude-chat {__version__}\n")
        raise typer.Exit()


@app.command()
def chat(
    model: Annotated[
        Optional[str],  # noqa: UP045 - typer reads this annotation at runtime on Python 3.10
        typer.Option("--model", "-m", help="Model alias (sonnet, opus, haiku) or full name."),
    ] = None,
    cwd: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option("--cwd", help="Directory Claude Code works in (default: this one)."),
    ] = None,
    cli_path: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option("--cli-path", help="Claude Code CLI to run (default: the bundled one)."),
    ] = None,
    permission_mode: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(
            "--permission-mode",
            help="default, acceptEdits, plan, bypassPermissions, dontAsk, auto.",
        ),
    ] = None,
    session: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--session", help="Resume the session with this id."),
    ] = None,
    thinking: Annotated[
        str,
        typer.Option("--thinking", help="Show thinking: full (dimmed), collapsed or hidden."),
    ] = "full",
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_show_version, is_eager=True, help="Show the version and exit."
        ),
    ] = False,
) -> None:
    """A terminal chat with Claude Code: one long-lived process, answers rendered as they arrive."""
    if permission_mode is not None and permission_mode not in PERMISSION_MODES:
        raise _fail(
            f"unknown permission mode {permission_mode!r}; "
            f"choose one of {', '.join(PERMISSION_MODES)}"
        )
    if thinking not in THINKING_DISPLAYS:
        raise _fail(f"--thinking must be full, collapsed or hidden, not {thinking!r}")
    if cwd is not None and not cwd.is_dir():
        raise _fail(f"--cwd {cwd}: no such directory")
    if cli_path is not None and not (cli_path.is_file() and os.access(cli_path, os.X_OK)):
        raise _fail(f"--cli-path {cli_path}: no executable file there")
    if session is not None:
        try:
            session = str(uuid.UUID(session))
        except ValueError:
            raise _fail(f"--session {session[:60]!r} is not a session id (a UUID)", 2) from None
    config = ChatConfig(
        model=model,
        cwd=cwd.resolve() if cwd else None,
        cli_path=cli_path,
        permission_mode=permission_mode,  # type: ignore[arg-type]  # checked above
        resume_session_id=session,
        thinking=thinking,  # type: ignore[arg-type]  # checked above
    )
    raise typer.Exit(asyncio.run(_run(config)))


async def _run(config: ChatConfig) -> int:
    if not sys.stdin.isatty():
        from claude_chat.piped import PipedChat

        return await PipedChat(config).run()

    from rich.console import Console

    from claude_chat.repl import Repl

    return await Repl(config, lambda: Console(highlight=False)).run()


def main() -> None:
    app()
