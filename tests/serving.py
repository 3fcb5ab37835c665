"""``claude-chat serve`` under test: a real uvicorn process on a free 127.0.0.1 port driving
the real Claude Code CLI against the stand-in API, and clients for its SSE and WebSocket."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import CREDENTIALS
from tests.fake_api import FakeAnthropicAPI

SERVER_ENV_KEY = "sk-server-ambient-key-not-a-credential"

KEYS = """
[tenants.alice]
key = "alice-server-key"

[tenants.bob]
key = "bob-server-key"

[tenants.carol]
key = "carol-server-key"
oauth_token = "carol-tenant-oauth-not-a-credential"
max_concurrent = 1
"""
ALICE = {"Authorization": "Bearer alice-server-key"}
BOB = {"Authorization": "Bearer bob-server-key"}
CAROL = {"Authorization": "Bearer carol-server-key"}


def server_env(root: Path, api: FakeAnthropicAPI) -> dict[str, str]:
    """An environment of its own (module-wide servers start before a test isolates one)."""
    env = {
        k: v for k, v in os.environ.items() if k not in (*CREDENTIALS, "CLAUDE_CHAT_SERVER_KEYS")
    }
    home = root / "home"
    home.mkdir(parents=True, exist_ok=True)
    env.update(
        HOME=str(home),
        CLAUDE_CHAT_DATA_DIR=str(root / "data"),
        XDG_DATA_HOME=str(root / "xdg"),
        CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC="1",
        CLAUDE_CODE_MAX_RETRIES="0",
        ANTHROPIC_BASE_URL=api.base_url,
        ANTHROPIC_API_KEY=SERVER_ENV_KEY,
    )
    return env


class Served:
    """``python -m claude_chat serve --port 0 ARGS``, ready once it says where it listens."""

    def __init__(self, root: Path, env: dict[str, str], *args: str) -> None:
        self.root = root
        self.data_dir = root / "server-data"
        self.project = root / "project"
        self.project.mkdir(parents=True, exist_ok=True)
        keys = root / "keys.toml"
        keys.write_text(KEYS, encoding="utf-8")
        self.stderr_path = root / "serve.stderr"
        with self.stderr_path.open("wb") as stderr:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "claude_chat",
                    "serve",
                    "--port",
                    "0",
                    "--data-dir",
                    str(self.data_dir),
                    "--cwd",
                    str(self.project),
                    "--keys-file",
                    str(keys),
                    *args,
                ],
                stdout=subprocess.PIPE,
                stderr=stderr,
                env=env,
                cwd=self.project,
            )
        assert self.process.stdout is not None
        line = self.process.stdout.readline().decode()
        if "listening on http://" not in line:
            self.process.kill()
            raise AssertionError(f"serve did not start: {line!r} {self.stderr()}")
        self.url = line.split("listening on ")[1].split()[0]
        self.ws_url = self.url.replace("http://", "ws://") + "/v1/chat/ws"

    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace")

    def config_dir(self, tenant: str) -> Path:
        return self.data_dir / "tenants" / tenant / "claude"

    def cli_marker(self) -> str:
        """What the environment of every Claude Code process of this server holds."""
        return f"CLAUDE_CONFIG_DIR={self.data_dir}"

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            raise

    def client(self, timeout: float = 120.0) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.url, timeout=timeout)


async def sse_events(response: httpx.Response) -> AsyncIterator[dict[str, Any]]:
    """The ``data`` objects of an event stream, checked against their ``event`` lines, up to
    ``[DONE]``."""
    name = None
    async for line in response.aiter_lines():
        if line.startswith("event: "):
            name = line[len("event: ") :]
        elif line.startswith("data: "):
            data = line[len("data: ") :]
            if data == "[DONE]":
                return
            event = json.loads(data)
            assert event["type"] == name, (name, event)
            yield event
            name = None


async def stream_turn(
    client: httpx.AsyncClient, headers: dict[str, str], **body: Any
) -> list[dict[str, Any]]:
    async with client.stream("POST", "/v1/chat/stream", json=body, headers=headers) as response:
        assert response.status_code == 200, await response.aread()
        return [event async for event in sse_events(response)]


def text_of(events: list[dict[str, Any]]) -> str:
    return "".join(
        e["delta"].get("text", "")
        for e in events
        if e["type"] == "content_block_delta" and e["parent_tool_use_id"] is None
    )


def serve_for_module(
    tmp_path_factory: pytest.TempPathFactory, api: FakeAnthropicAPI, *args: str
) -> Iterator[Served]:
    """A module's server (for a fixture), stopped cleanly at its end."""
    root = tmp_path_factory.mktemp("serve")
    server = Served(root, server_env(root, api), *args)
    try:
        yield server
    finally:
        assert server.stop() == 0, server.stderr()
