"""A ``text/event-stream`` response of wire events, ending with ``data: [DONE]``.

A comment line goes out whenever nothing else has for a while (proxies close idle streams);
a client that disconnects, or takes longer than the send timeout to take an event, ends the
stream, which closes the event iterator (interrupting the turn) before ``on_close`` runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
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
        frame: Callable[[WireEvent], bytes] = sse_frame,
        done: bytes | None = SSE_DONE,
        headers: dict[str, str] | None = None,
    ) -> None:
        """``frame`` writes one event and ``done`` ends the stream: the defaults are this
        server's own; the OpenAI and Anthropic endpoints pass those APIs' framing."""
        # Not Response.__init__: the body is streamed here, not rendered up front.
        self.status_code = 200
        self.background = None
        self.events = events
        self.on_close = on_close
        self.ping_interval_s = ping_interval_s
        self.send_timeout_s = send_timeout_s
        self.frame = frame
        self.done = done
        self.extra_headers = [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
        self._last_send = _now()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        loop = asyncio.get_running_loop()
        streaming = loop.create_task(self._stream(send))
        watching = loop.create_task(_disconnected(receive))
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
            *self.extra_headers,
        ]
        sending = asyncio.Lock()
        await self._send(send, {"type": "http.response.start", "status": 200, "headers": headers})
        pinging = asyncio.get_running_loop().create_task(self._ping(send, sending))
        try:
            async for event in self.events:
                async with sending:
                    await self._body(send, self.frame(event))
            async with sending:
                if self.done is not None:
                    await self._body(send, self.done)
                await self._send(send, {"type": "http.response.body", "body": b""})
        finally:
            pinging.cancel()
            await asyncio.gather(pinging, return_exceptions=True)

    async def _ping(self, send: Send, sending: asyncio.Lock) -> None:
        """A comment line whenever nothing else went out for a ping interval."""
        while True:
            await asyncio.sleep(max(self._last_send + self.ping_interval_s - _now(), 0.01))
            if _now() - self._last_send >= self.ping_interval_s:
                async with sending:
                    await self._body(send, SSE_PING)

    async def _body(self, send: Send, data: bytes) -> None:
        await self._send(send, {"type": "http.response.body", "body": data, "more_body": True})

    async def _send(self, send: Send, message: dict[str, object]) -> None:
        """Send, or end the stream if the client takes longer than the send timeout: the
        task is cancelled (cheaper per event than a wait_for task)."""
        task = asyncio.current_task()
        assert task is not None
        deadline = asyncio.get_running_loop().call_later(self.send_timeout_s, task.cancel)
        try:
            await send(message)
        finally:
            deadline.cancel()
        self._last_send = _now()


def _now() -> float:
    return time.monotonic()


async def _disconnected(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass
