"""The server under uvicorn, and how it stops: SIGTERM or SIGINT refuses new turns, lets
running ones finish within the grace period, interrupts the rest, closes every Claude Code
process and exits 0. A second signal stops waiting."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import socket
import warnings
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

import uvicorn

from claude_chat.engine.config import private_file
from claude_chat.server.app import create_app
from claude_chat.server.auth import Keyring
from claude_chat.server.settings import ClusterSettings, ServerSettings
from claude_chat.server.state import ServerState

if TYPE_CHECKING:
    from claude_agent_sdk._internal.transport import Transport


class _DrainingServer(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, state: ServerState) -> None:
        super().__init__(config)
        self.state = state
        self._drain: asyncio.Task[None] | None = None

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        # uvicorn's own raises the signal again once it has shut down, which would end the
        # process by that signal instead of with status 0.
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, self._on_signal)
        try:
            yield
        finally:
            for signum in (signal.SIGTERM, signal.SIGINT):
                loop.remove_signal_handler(signum)

    def _on_signal(self) -> None:
        if self._drain is None:
            self._drain = asyncio.get_running_loop().create_task(self._drain_then_exit())
        else:
            self.should_exit = True  # a second signal: stop waiting for turns

    async def _drain_then_exit(self) -> None:
        try:
            await self.state.pool.drain()
        finally:
            self.should_exit = True


def bind(host: str, port: int) -> socket.socket:
    """The listening socket, bound before uvicorn starts so that port 0 can be reported."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except BaseException:
        sock.close()
        raise
    sock.listen(2048)
    sock.setblocking(False)
    return sock


def cluster_settings(
    sock: socket.socket,
    redis_url: str,
    node_id: str | None,
    advertise_url: str | None,
    lease_ttl_s: float,
) -> ClusterSettings:
    """``serve --redis``: by default the node is its host's name, reached where it listens."""
    host, port = sock.getsockname()[:2]
    if advertise_url is None:
        shown = f"[{host}]" if ":" in host else host
        if host in ("0.0.0.0", "::"):
            shown = socket.gethostname()
        advertise_url = f"http://{shown}:{port}"
    return ClusterSettings(
        redis_url=redis_url,
        node_id=node_id or socket.gethostname(),
        advertise_url=advertise_url,
        lease_ttl_s=lease_ttl_s,
    )


def serve(
    settings: ServerSettings,
    keyring: Keyring,
    sock: socket.socket,
    announce: Callable[[str], None],
    transport_factory: Callable[[], Transport] | None = None,
) -> int:
    _log_to_file(settings)
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    app = create_app(
        settings,
        keyring,
        transport_factory,
        on_ready=lambda: announce(f"listening on http://{shown}:{port} (API docs at /docs)"),
    )
    state = app.state.server
    assert isinstance(state, ServerState)
    config = uvicorn.Config(
        app,
        log_level="warning",
        access_log=False,
        timeout_graceful_shutdown=5,
        ws_ping_interval=20,
        ws_ping_timeout=20,
    )
    server = _DrainingServer(config, state)

    async def run() -> None:
        try:
            await server.serve(sockets=[sock])
        finally:
            # A forced exit skips the app's own shutdown: no process of ours stays.
            await state.pool.close()

    asyncio.run(run())
    return 0 if server.started else 1


def _log_to_file(settings: ServerSettings) -> None:
    """Failures go to server.log in the data dir, never a traceback on the console."""
    try:
        handler: logging.Handler = logging.FileHandler(
            private_file(settings.data_dir / "server.log")
        )
    except OSError:
        handler = logging.NullHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    for name in ("claude_chat", "claude_agent_sdk"):
        logger = logging.getLogger(name)
        logger.propagate = False
        logger.addHandler(handler)
    warnings.filterwarnings("ignore", module="claude_agent_sdk")
