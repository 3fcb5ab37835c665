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

import asyncio
import atexit
import contextlib
import logging
import os
import signal
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterator
from dataclasses import fields, replace
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

from claude_chat.engine.config import ChatConfig
from claude_chat.engine.engine import ChatEngine
from claude_chat.engine.errors import ChatError, EngineClosedError
from claude_chat.engine.events import Event, TurnError, TurnResult

T = TypeVar("T")
OnChunk = Callable[[Event], object]
OnComplete = Callable[[TurnResult], object]
OnError = Callable[[TurnError | ChatError], object]

_log = logging.getLogger("claude_chat")
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


class AsyncChatClient:
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
        self.config = _config(config, options)
        self.on_chunk = on_chunk
        self.on_complete = on_complete
        self.on_error = on_error
        self.engine = ChatEngine(self.config)
        self._turn: asyncio.Task[None] | None = None
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

    async def send(self, text: str) -> AsyncIterator[Event]:
        """Start a turn and return its events; the turn goes on even if they are not read."""
        if self._turn is not None and not self._turn.done():
            raise ChatError("a turn is still running: read it to its end or interrupt() it")
        queue: asyncio.Queue[Event | BaseException] = asyncio.Queue()
        # Timed from here: with many conversations on one loop, the task may start later.
        sent_at = time.monotonic()
        self._turn = asyncio.get_running_loop().create_task(self._run_turn(text, sent_at, queue))
        return _drain(queue)

    async def ask(self, text: str) -> TurnResult:
        """Send ``text`` and wait for the whole answer (``result.answer``)."""
        result: TurnResult | None = None
        async for event in await self.send(text):
            if isinstance(event, TurnResult):
                result = event
        assert result is not None
        return result

    async def _run_turn(
        self, text: str, sent_at: float, queue: asyncio.Queue[Event | BaseException]
    ) -> None:
        try:
            async with contextlib.aclosing(self.engine.send(text, sent_at)) as events:
                async for event in events:
                    self._callback(event)
                    queue.put_nowait(event)
        except ChatError as exc:
            self._fire(self.on_error, exc)
            queue.put_nowait(exc)
        except BaseException as exc:
            queue.put_nowait(exc)
            raise

    def _callback(self, event: Event) -> None:
        if isinstance(event, TurnResult):
            self._fire(self.on_complete, event)
        else:
            self._fire(self.on_chunk, event)
            if isinstance(event, TurnError):
                self._fire(self.on_error, event)

    @staticmethod
    def _fire(callback: Callable[[Any], object] | None, value: object) -> None:
        if callback is None:
            return
        try:
            callback(value)
        except Exception:  # a bug in a callback must not end the conversation
            _log.exception("claude-chat callback %r failed", callback)

    async def interrupt(self) -> None:
        """Stop the running turn; what arrived stays, the next turn has the context."""
        await self.engine.interrupt()

    async def set_model(self, name: str) -> str:
        """Switch model for the next turns; returns the model's full name."""
        return await self.engine.set_model(name)

    async def close(self) -> None:
        """Close Claude Code (in bounded steps); a running turn is interrupted first."""
        if self._turn is not None and not self._turn.done():
            with contextlib.suppress(Exception):
                await self.engine.interrupt()
            with contextlib.suppress(BaseException):
                await asyncio.wait_for(asyncio.shield(self._turn), 20)
        await self.engine.close()
        _live_engines.discard(self.engine)

    async def __aenter__(self) -> AsyncChatClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()


async def _drain(queue: asyncio.Queue[Event | BaseException]) -> AsyncIterator[Event]:
    while True:
        item = await queue.get()
        if isinstance(item, BaseException):
            raise item
        yield item
        if isinstance(item, TurnResult):
            return


class ChatClient:
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
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="claude-chat-client", daemon=True
        )
        self._thread.start()
        self._closed = False
        try:
            self._client: AsyncChatClient = self._call(
                _make(config, on_chunk, on_complete, on_error, options)
            )
        except BaseException:
            self._stop_loop()
            raise

    @property
    def session_id(self) -> str | None:
        return self._client.session_id

    @property
    def model(self) -> str | None:
        return self._client.model

    def start(self) -> None:
        self._call(self._client.start())

    def send(self, text: str) -> Iterator[Event]:
        events = self._call(self._client.send(text))
        return self._iterate(events)

    def ask(self, text: str) -> TurnResult:
        return self._call(self._client.ask(text))

    def interrupt(self) -> None:
        self._call(self._client.interrupt())

    def set_model(self, name: str) -> str:
        return self._call(self._client.set_model(name))

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            self._call(self._client.close())
        finally:
            self._stop_loop()

    def _stop_loop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        if not self._thread.is_alive():
            self._loop.close()

    def __enter__(self) -> ChatClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def _iterate(self, events: AsyncIterator[Event]) -> Iterator[Event]:
        while True:
            try:
                yield self._call(events.__anext__())
            except StopAsyncIteration:
                return

    def _call(self, work: Coroutine[Any, Any, T] | Awaitable[T]) -> T:
        if self._closed and not self._loop.is_running():
            raise EngineClosedError("the chat client is closed")
        if threading.current_thread() is self._thread:
            # Waiting here for the loop this thread runs would wait forever.
            if asyncio.iscoroutine(work):
                work.close()
            raise ChatError(
                "ChatClient methods cannot be called from its callbacks; "
                "use AsyncChatClient there, or call after send() returns"
            )
        future = asyncio.run_coroutine_threadsafe(_awaited(work), self._loop)
        return future.result()


async def _awaited(work: Awaitable[T]) -> T:
    return await work


async def _make(
    config: ChatConfig | None,
    on_chunk: OnChunk | None,
    on_complete: OnComplete | None,
    on_error: OnError | None,
    options: dict[str, Any],
) -> AsyncChatClient:
    return AsyncChatClient(
        config, on_chunk=on_chunk, on_complete=on_complete, on_error=on_error, **options
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
