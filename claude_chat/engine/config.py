"""What a chat is started with, and where claude-chat keeps its own files."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, get_args

PermissionMode = Literal["default", "acceptEdits", "plan", "bypassPermissions", "dontAsk", "auto"]
PERMISSION_MODES: tuple[PermissionMode, ...] = get_args(PermissionMode)

ThinkingDisplay = Literal["full", "collapsed", "hidden"]
THINKING_DISPLAYS: tuple[ThinkingDisplay, ...] = get_args(ThinkingDisplay)

# The SDK's default of 1 MiB per stdout line is smaller than one large tool result.
DEFAULT_MAX_LINE_BYTES = 64 * 1024 * 1024
# Every variable Claude Code takes a credential from. It prefers some over others, so a
# client's own credential must clear the rest, not be added beside them.
CREDENTIAL_VARIABLES = ("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "CLAUDE_CODE_OAUTH_TOKEN")


@dataclass(frozen=True)
class ChatConfig:
    model: str | None = None
    cwd: Path | None = None
    cli_path: Path | None = None
    permission_mode: PermissionMode | None = None
    resume_session_id: str | None = None
    thinking: ThinkingDisplay = "full"
    # Tool rules passed to Claude Code as they are, e.g. "Bash(git status:*)", "Read".
    allowed_tools: tuple[str, ...] = ()
    disallowed_tools: tuple[str, ...] = ()
    max_line_bytes: int = DEFAULT_MAX_LINE_BYTES
    # Extra variables for the CLI's environment only (never argv): credentials for one client.
    env: dict[str, str] = field(default_factory=dict)
    # Added to Claude Code's own system prompt, which stays.
    system_prompt_append: str | None = None
    # Passed through to Claude Code as they are (the SDK's mcp_servers and agents options).
    mcp_servers: dict[str, Any] = field(default_factory=dict)
    agents: dict[str, Any] = field(default_factory=dict)
    # Credentials for this chat alone; they reach Claude Code through its environment only.
    api_key: str | None = field(default=None, repr=False)
    oauth_token: str | None = field(default=None, repr=False)

    def cli_environment(self) -> dict[str, str]:
        """What Claude Code's environment gets on top of ours."""
        extra: dict[str, str] = {}
        if self.api_key or self.oauth_token:
            # The SDK lays these over os.environ, so a variable cannot be removed, only
            # emptied; Claude Code takes an empty one as unset.
            extra = dict.fromkeys(CREDENTIAL_VARIABLES, "")
        extra.update(self.env)
        if self.api_key:
            extra["ANTHROPIC_API_KEY"] = self.api_key
        if self.oauth_token:
            extra["CLAUDE_CODE_OAUTH_TOKEN"] = self.oauth_token
        return extra


@dataclass
class ChatSettings:
    """What a chat runs with now, and what every new Claude Code process is started with: the
    config's values at first, then whatever /model, /permissions and session switches chose,
    and the session and model Claude Code reports."""

    session_id: str | None
    model: str | None
    # As chosen; None leaves it to Claude Code (its default, or the user's settings).
    permission_mode: PermissionMode | None
    cwd: Path | None

    @classmethod
    def from_config(cls, config: ChatConfig) -> ChatSettings:
        return cls(config.resume_session_id, config.model, config.permission_mode, config.cwd)


def data_dir() -> Path:
    """The user data dir: history, transcripts and journals live here.

    ``CLAUDE_CHAT_DATA_DIR`` overrides it, which is how tests keep every path in a temp dir.
    """
    override = os.environ.get("CLAUDE_CHAT_DATA_DIR")
    if override:
        return Path(override)
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support" / "claude-chat"
    xdg = os.environ.get("XDG_DATA_HOME")
    base = Path(xdg) if xdg else Path.home() / ".local" / "share"
    return base / "claude-chat"


def private_file(path: Path) -> Path:
    """Create ``path`` and its directory, owner-only: it holds conversation text."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_CREAT | os.O_APPEND | os.O_WRONLY, 0o600)
    os.close(fd)
    os.chmod(path, 0o600)
    return path
