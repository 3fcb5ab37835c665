"""claude-chat: a terminal chat for Claude Code, and the streaming engine under it.

The engine as a library: ``ChatClient`` (plain code) and ``AsyncChatClient`` (asyncio), whose
``send`` yields the events below. Importing this package is cheap; the client and the SDK
are loaded on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = [
    "AsyncChatClient",
    "ChatClient",
    "ChatConfig",
    "ChatError",
    "PermissionDenied",
    "TextDelta",
    "ThinkingDelta",
    "ToolCall",
    "ToolResult",
    "TurnError",
    "TurnResult",
    "__version__",
]

if TYPE_CHECKING:
    from claude_chat.client import AsyncChatClient, ChatClient
    from claude_chat.engine.config import ChatConfig
    from claude_chat.engine.errors import ChatError
    from claude_chat.engine.events import (
        PermissionDenied,
        TextDelta,
        ThinkingDelta,
        ToolCall,
        ToolResult,
        TurnError,
        TurnResult,
    )

_HOMES = {
    "AsyncChatClient": "claude_chat.client",
    "ChatClient": "claude_chat.client",
    "ChatConfig": "claude_chat.engine.config",
    "ChatError": "claude_chat.engine.errors",
}


def __getattr__(name: str) -> Any:
    # Lazy, so that `claude-chat` (which imports this package) starts fast.
    import importlib

    if name in __all__ and name != "__version__":
        module = importlib.import_module(_HOMES.get(name, "claude_chat.engine.events"))
        return getattr(module, name)
    raise AttributeError(f"module 'claude_chat' has no attribute {name!r}")


def __dir__() -> list[str]:
    # The lazy exports are not in the module's namespace until first used.
    return sorted({*globals(), *__all__})
