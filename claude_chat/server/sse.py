"""A ``text/event-stream`` response of wire events, ending with ``data: [DONE]``.

A comment line goes out whenever nothing else has for a while (proxies close idle streams);
a client that disconnects, or takes longer than the send timeout to take an event, ends the
stream, which closes the event iterator (interrupting the turn) before ``on_close`` runs.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable

from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from claude_chat.server.protocol import SSE_DONE, SSE_PING, WireEvent, sse_frame


class EventStream(Response):
    media_type = "text/event-stream"

    def __init__(
        self,
        events: AsyncIterator[WireEvent],
        on_close: Callable[[], None],
        ping_interval_s: float,
        send_timeout_s: float,
    ) -> None:
        # Not Response.__init__: the body is streamed here, not rendered up front.
        self.status_code = 200
        self.background = None
        self.events = events
        self.on_close = on_close
        self.ping_interval_s = ping_interval_s
        self.send_timeout_s = send_timeout_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        streaming = asyncio.get_running_loop().create_task(self._stream(send))
        watching = asyncio.get_running_loop().create_task(_disconnected(receive))
        try:
            await asyncio.wait([streaming, watching], return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (streaming, watching):
                task.cancel()
            await asyncio.gather(streaming, watching, return_exceptions=True)
            with contextlib.suppress(Exception):
                await self.events.aclose()  # type: ignore[attr-defined]
            self.on_close()

    async def _stream(self, send: Send) -> None:
        headers = [
            (b"content-type", b"text/event-stream; charset=utf-8"),
            (b"cache-control", b"no-cache"),
            (b"x-accel-buffering", b"no"),  # nginx: pass each event on at once
        ]
        await self._send(send, {"type": "http.response.start", "status": 200, "headers": headers})
        iterator = aiter(self.events)
        pending: asyncio.Task[WireEvent] | None = None
        try:
            while True:
                if pending is None:
                    pending = asyncio.ensure_future(anext(iterator))
                done, _ = await asyncio.wait([pending], timeout=self.ping_interval_s)
                if not done:
                    await self._body(send, SSE_PING)
                    continue
                try:
                    event = pending.result()
                except StopAsyncIteration:
                    break
                finally:
                    if done:
                        pending = None
                await self._body(send, sse_frame(event))
            await self._body(send, SSE_DONE)
            await self._send(send, {"type": "http.response.body", "body": b"", "more_body": False})
        finally:
            if pending is not None:
                pending.cancel()
                await asyncio.gather(pending, return_exceptions=True)

    async def _body(self, send: Send, data: bytes) -> None:
        await self._send(send, {"type": "http.response.body", "body": data, "more_body": True})

    async def _send(self, send: Send, message: dict[str, object]) -> None:
        await asyncio.wait_for(send(message), self.send_timeout_s)


async def _disconnected(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass
