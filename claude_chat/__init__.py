"""claude-chat: a terminal chat for Claude Code, and the streaming engine under it."""

__version__ = "0.1.0"
