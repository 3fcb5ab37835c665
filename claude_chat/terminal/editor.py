"""Ctrl+G and /edit: the message in ``$VISUAL`` or ``$EDITOR``, back in the prompt when saved."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shlex
import shutil
import tempfile
from pathlib import Path

from claude_chat.engine.errors import CommandError


def editor_command() -> list[str]:
    """The user's editor, as a command line (``code -w`` is two words); vi when none is set."""
    for variable in ("VISUAL", "EDITOR"):
        value = os.environ.get(variable, "").strip()
        if value:
            try:
                words = shlex.split(value)
            except ValueError:
                raise CommandError(f"${variable} cannot be split into words: {value}") from None
            if words:
                return words
    for fallback in ("vi", "nano"):
        if shutil.which(fallback):
            return [fallback]
    raise CommandError("no editor: set $VISUAL or $EDITOR")


async def edit(text: str) -> str | None:
    """``text`` after the user edited it; None when the editor failed (the text stays).

    The caller gives the editor the terminal (prompt-toolkit's ``in_terminal``)."""
    command = editor_command()
    descriptor, name = tempfile.mkstemp(prefix="claude-chat-", suffix=".md")  # 0600
    path = Path(name)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            file.write(text)
        try:
            process = await asyncio.create_subprocess_exec(*command, str(path))
        except OSError as exc:
            raise CommandError(f"cannot start the editor {command[0]}: {exc.strerror}") from None
        if await process.wait() != 0:
            return None
        edited = await asyncio.to_thread(path.read_text, encoding="utf-8", errors="replace")
    finally:
        with contextlib.suppress(OSError):
            os.unlink(name)
    # Editors end the file with a newline the message does not have.
    return edited[:-1] if edited.endswith("\n") else edited
