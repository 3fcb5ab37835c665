"""The chat loop of chat_loop.py on a claude-chat server: only the client's line differs.

CLAUDE_CHAT_SERVER_KEYS="me:KEY1" claude-chat serve &
CLAUDE_CHAT_URL=http://127.0.0.1:8765 CLAUDE_CHAT_KEY=KEY1 python examples/remote_chat.py
"""

import os

from claude_chat import (
    PermissionDecision,
    PermissionRequest,
    RemoteChatClient,
    RemoteError,
    TextDelta,
)


def on_permission(request: PermissionRequest) -> PermissionDecision:
    answer = input(f"\nAllow {request.name} {request.input}? [y/N] ")
    return PermissionDecision("once" if answer.strip().lower() == "y" else "deny")


url = os.environ.get("CLAUDE_CHAT_URL", "http://127.0.0.1:8765")
with RemoteChatClient(url, os.environ["CLAUDE_CHAT_KEY"], on_permission=on_permission) as chat:
    while (text := input("> ").strip()) not in ("", "exit"):
        try:
            for event in chat.send(text):
                if isinstance(event, TextDelta):
                    print(event.text, end="", flush=True)
        except RemoteError as error:
            print(f"[{error.status or 'no connection'}] {error}")
        print()
