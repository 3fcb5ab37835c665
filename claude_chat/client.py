"""The chat engine as a library: a long-lived Claude Code conversation whose tokens arrive as
events, with callbacks, for asyncio programs (``AsyncChatClient``) and plain ones
(``ChatClient``).

    from claude_chat import ChatClient, TextDelta

    with ChatClient(model="sonnet") as chat:
        for event in chat.send("Hello!"):
            if isinstance(event, TextDelta):
                print(event.text, end="", flush=True)

Both wrap the same ``ChatEngine`` the terminal chat runs on: one Claude Code process per
client, every ``send`` a turn of the same session. A turn runs as soon as it is sent and its
callbacks fire as events arrive, whether or not the caller iterates; iterating gives the same
events, ending with the ``TurnResult``.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import signal
from collections.abc import AsyncGenerator
from dataclasses import fields, replace
from pathlib import Path
from typing import Any

from claude_chat.client_base import OnChunk, OnComplete, OnError, SyncClient, TurnRunner
from claude_chat.engine.config import ChatConfig
from claude_chat.engine.engine import ChatEngine
from claude_chat.engine.events import Event

_CONFIG_FIELDS = {f.name for f in fields(ChatConfig)}


def _config(config: ChatConfig | None, options: dict[str, Any]) -> ChatConfig:
    unknown = set(options) - _CONFIG_FIELDS - {"session_id"}
    if unknown:
        raise TypeError(f"unknown option(s): {', '.join(sorted(unknown))}")
    if "session_id" in options:
        options["resume_session_id"] = options.pop("session_id")
    if "cwd" in options and options["cwd"] is not None:
        options["cwd"] = Path(options["cwd"])
    return replace(config or ChatConfig(), **options)


class AsyncChatClient(TurnRunner):
    """One Claude Code conversation for asyncio code.

    ``AsyncChatClient(model=..., cwd=..., session_id=..., system_prompt_append=...,
    permission_mode=..., allowed_tools=..., mcp_servers=..., agents=..., api_key=... or
    oauth_token=..., on_chunk=..., on_complete=..., on_error=...)``, or a ``ChatConfig``.
    Credentials given here reach Claude Code through its environment only.
    """

    def __init__(
        self,
        config: ChatConfig | None = None,
        *,
        on_chunk: OnChunk | None = None,
        on_complete: OnComplete | None = None,
        on_error: OnError | None = None,
        **options: Any,
    ) -> None:
        super().__init__(on_chunk, on_complete, on_error)
        self.config = _config(config, options)
        self.engine = ChatEngine(self.config)
        _live_engines.add(self.engine)

    @property
    def session_id(self) -> str | None:
        """Known once the first turn has started."""
        return self.engine.session_id

    @property
    def model(self) -> str | None:
        return self.engine.model

    async def start(self) -> None:
        """Start Claude Code now rather than with the first ``send``."""
        self.engine.start()
        await self.engine.wait_ready()

    def _turn_events(self, text: str, sent_at: float) -> AsyncGenerator[Event, None]:
        return self.engine.send(text, sent_at)

    async def interrupt(self) -> None:
        """Stop the running turn; what arrived stays, the next turn has the context."""
        await self.engine.interrupt()

    async def set_model(self, name: str) -> str:
        """Switch model for the next turns; returns the model's full name."""
        return await self.engine.set_model(name)

    async def close(self) -> None:
        """Close Claude Code (in bounded steps); a running turn is interrupted first."""
        if self.turn_running:
            with contextlib.suppress(Exception):
                await self.engine.interrupt()
            await self._wait_for_turn(20)
        await self.engine.close()
        _live_engines.discard(self.engine)


class ChatClient(SyncClient[AsyncChatClient]):
    """``AsyncChatClient`` for code without asyncio: the same options and callbacks.

    Its asyncio loop runs in one thread of its own (callbacks are called there); ``send``
    returns a plain iterator fed from it.
    """

    def __init__(
        self,
        config: ChatConfig | None = None,
        *,
        on_chunk: OnChunk | None = None,
        on_complete: OnComplete | None = None,
        on_error: OnError | None = None,
        **options: Any,
    ) -> None:
        super().__init__(
            lambda: AsyncChatClient(
                config, on_chunk=on_chunk, on_complete=on_complete, on_error=on_error, **options
            )
        )


# Engines of clients not closed yet. Held strongly: a client its program forgot (and the
# garbage collector took) still has a Claude Code process to end at exit.
_live_engines: set[ChatEngine] = set()


@atexit.register
def _close_forgotten_clients() -> None:
    for engine in list(_live_engines):
        pid = engine.cli_pid
        if pid is not None:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGTERM)
