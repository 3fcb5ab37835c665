"""What the local and the remote client share: callbacks fired as a turn's events arrive, a
turn that runs whether or not its events are read, and the plain (non-asyncio) wrapper that
runs an asyncio client on a loop of its own.

Nothing here starts Claude Code or opens a socket, so the remote client loads no SDK.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Coroutine, Iterator
from types import TracebackType
from typing import Any, Generic, Protocol, TypeVar

from claude_chat.engine.errors import ChatError, EngineClosedError
from claude_chat.engine.events import Event, TurnError, TurnResult

T = TypeVar("T")
OnChunk = Callable[[Event], object]
OnComplete = Callable[[TurnResult], object]
OnError = Callable[[TurnError | ChatError], object]

R = TypeVar("R", bound="TurnRunner")

_log = logging.getLogger("claude_chat")


class TurnRunner:
    """An asyncio client's turns: ``send`` starts one (``_turn_events`` says what it is made
    of), its callbacks fire as events arrive, and iterating gives the same events, ending with
    the ``TurnResult``."""

    def __init__(
        self,
        on_chunk: OnChunk | None = None,
        on_complete: OnComplete | None = None,
        on_error: OnError | None = None,
    ) -> None:
        self.on_chunk = on_chunk
        self.on_complete = on_complete
        self.on_error = on_error
        self._turn: asyncio.Task[None] | None = None

    def _turn_events(self, text: str, sent_at: float) -> AsyncGenerator[Event, None]:
        raise NotImplementedError

    async def close(self) -> None:
        raise NotImplementedError

    async def __aenter__(self: R) -> R:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    @property
    def turn_running(self) -> bool:
        return self._turn is not None and not self._turn.done()

    async def send(self, text: str) -> AsyncIterator[Event]:
        """Start a turn and return its events; the turn goes on even if they are not read."""
        if self.turn_running:
            raise ChatError("a turn is still running: read it to its end or interrupt() it")
        queue: asyncio.Queue[Event | BaseException] = asyncio.Queue()
        # Timed from here: with many conversations on one loop, the task may start later.
        sent_at = time.monotonic()
        events = self._turn_events(text, sent_at)
        self._turn = asyncio.get_running_loop().create_task(self._run_turn(events, queue))
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
        self, turn_events: AsyncGenerator[Event, None], queue: asyncio.Queue[Event | BaseException]
    ) -> None:
        try:
            async with contextlib.aclosing(turn_events) as events:
                async for event in events:
                    self._callback(event)
                    queue.put_nowait(event)
        except ChatError as exc:
            self._fire(self.on_error, exc)
            queue.put_nowait(exc)
        except BaseException as exc:
            queue.put_nowait(exc)
            raise

    async def _wait_for_turn(self, timeout: float) -> None:
        """Let an interrupted turn end (for at most ``timeout`` seconds) before closing."""
        if self._turn is not None and not self._turn.done():
            with contextlib.suppress(BaseException):
                await asyncio.wait_for(asyncio.shield(self._turn), timeout)

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


async def _drain(queue: asyncio.Queue[Event | BaseException]) -> AsyncIterator[Event]:
    while True:
        item = await queue.get()
        if isinstance(item, BaseException):
            raise item
        yield item
        if isinstance(item, TurnResult):
            return


class AsyncClient(Protocol):
    """What ``SyncClient`` wraps: ``AsyncChatClient`` or ``AsyncRemoteChatClient``."""

    @property
    def session_id(self) -> str | None: ...

    @property
    def model(self) -> str | None: ...

    async def start(self) -> None: ...

    async def send(self, text: str) -> AsyncIterator[Event]: ...

    async def ask(self, text: str) -> TurnResult: ...

    async def interrupt(self) -> None: ...

    async def set_model(self, name: str) -> str: ...

    async def close(self) -> None: ...


A = TypeVar("A", bound=AsyncClient)


class SyncClient(Generic[A]):
    """An asyncio client for code without asyncio: its loop runs in one thread of its own
    (callbacks are called there); ``send`` returns a plain iterator fed from it."""

    def __init__(self, make: Callable[[], A]) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="claude-chat-client", daemon=True
        )
        self._thread.start()
        self._closed = False
        try:
            # Made on its loop, so that whatever it creates belongs to that loop.
            self._client: A = self._call(_made(make))
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

    def __enter__(self: T) -> T:
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
                f"{type(self).__name__} methods cannot be called from its callbacks; "
                f"use Async{type(self).__name__} there, or call after send() returns"
            )
        future = asyncio.run_coroutine_threadsafe(_awaited(work), self._loop)
        return future.result()


async def _awaited(work: Awaitable[T]) -> T:
    return await work


async def _made(make: Callable[[], T]) -> T:
    return make()
