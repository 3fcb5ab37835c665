"""One exception root for everything claude-chat raises on purpose; context rides as attributes."""

from __future__ import annotations


class ChatError(Exception):
    """Something the user should be told in one line; the chat goes on where it can."""


class CLINotFoundError(ChatError):
    def __init__(self, message: str, path: str = "") -> None:
        super().__init__(message)
        self.path = path


class CLIStartError(ChatError):
    def __init__(self, message: str, stderr: list[str] | None = None) -> None:
        super().__init__(message)
        self.stderr = stderr or []


class TurnInProgressError(ChatError):
    pass


class EngineClosedError(ChatError):
    pass


class CommandError(ChatError):
    """A slash command was given bad arguments, or cannot run now."""
