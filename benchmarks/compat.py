"""Time to first token through the OpenAI and Anthropic endpoints. Prints figures; not a test.

The real CLI against the stand-in API (first token after 200 ms). C conversations of T turns,
each turn sent the stateless way (the whole history every time), through:

- ``POST /v1/chat/completions`` (stream) and ``POST /v1/messages`` (stream) of the server,
- the server's own ``POST /v1/chat/stream`` (session id, newest message only), for reference,
- a one-process-per-request wrapper, the design most wrappers use: spawn ``claude -p``, write
  the flattened history to it, stream its output.

The paths take turns, one turn each in a round, so that they share the machine's load alike.
Time to first token is measured by the client, from sending to the first text delta. Last, a
client arriving with a history the server has never seen (seeded as a session, resumed).

Run: python benchmarks/compat.py [--conversations 3] [--turns 6]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.server_load import KEY, ms, start_server, stop_server  # noqa: E402
from tests.fake_api import FakeAnthropicAPI  # noqa: E402

History = list[dict[str, str]]
# One turn of one path: (seconds to the first text delta, the answer's text).
Turn = Callable[[httpx.AsyncClient, History, dict[str, Any]], Awaitable[tuple[float, str]]]


async def openai_turn(
    http: httpx.AsyncClient, history: History, state: dict[str, Any]
) -> tuple[float, str]:
    body = {"model": "opus", "messages": history, "stream": True}
    headers = {"Authorization": f"Bearer {KEY}"}
    sent = time.perf_counter()
    first = 0.0
    text = []
    async with http.stream("POST", "/v1/chat/completions", json=body, headers=headers) as r:
        async for line in r.aiter_lines():
            if not line.startswith("data: ") or line == "data: [DONE]":
                continue
            choices = json.loads(line[6:]).get("choices") or [{}]
            piece = choices[0].get("delta", {}).get("content")
            if piece:
                first = first or time.perf_counter() - sent
                text.append(piece)
    return first, "".join(text)


async def anthropic_turn(
    http: httpx.AsyncClient, history: History, state: dict[str, Any]
) -> tuple[float, str]:
    body = {"model": "opus", "max_tokens": 1000, "messages": history, "stream": True}
    headers = {"x-api-key": KEY, "anthropic-version": "2023-06-01"}
    sent = time.perf_counter()
    first = 0.0
    text = []
    async with http.stream("POST", "/v1/messages", json=body, headers=headers) as r:
        async for line in r.aiter_lines():
            if line.startswith("data: ") and '"text_delta"' in line:
                first = first or time.perf_counter() - sent
                text.append(json.loads(line[6:])["delta"]["text"])
    return first, "".join(text)


async def own_sse_turn(
    http: httpx.AsyncClient, history: History, state: dict[str, Any]
) -> tuple[float, str]:
    body = {"message": history[-1]["content"], "session_id": state.get("session_id")}
    headers = {"Authorization": f"Bearer {KEY}"}
    sent = time.perf_counter()
    first = 0.0
    text = []
    async with http.stream("POST", "/v1/chat/stream", json=body, headers=headers) as r:
        async for line in r.aiter_lines():
            if not line.startswith("data: {"):
                continue
            event = json.loads(line[6:])
            if event["type"] == "session":
                state["session_id"] = event["session_id"]
            elif event["type"] == "content_block_delta" and event["delta"].get("text"):
                first = first or time.perf_counter() - sent
                text.append(event["delta"]["text"])
    return first, "".join(text)


def flattened(history: History) -> str:
    """The history as one prompt, the way per-request wrappers send it."""
    lines = [f"{m['role'].capitalize()}: {m['content']}" for m in history[:-1]]
    return "\n\n".join([*lines, history[-1]["content"]])


def cli_path() -> str:
    import claude_agent_sdk

    return str(Path(claude_agent_sdk.__file__).parent / "_bundled" / "claude")


async def process_per_request_turn(
    http: httpx.AsyncClient, history: History, state: dict[str, Any]
) -> tuple[float, str]:
    sent = time.perf_counter()
    process = await asyncio.create_subprocess_exec(
        cli_path(), "-p", "--output-format", "stream-json", "--verbose",
        "--include-partial-messages", "--no-session-persistence",
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL, cwd=state["cwd"], limit=1 << 24,
    )  # fmt: skip
    assert process.stdin is not None and process.stdout is not None
    process.stdin.write(flattened(history).encode())
    await process.stdin.drain()
    process.stdin.close()
    first = 0.0
    text = []
    async for line in process.stdout:
        message = json.loads(line)
        event = message.get("event") or {}
        if message.get("type") == "stream_event" and event.get("type") == "content_block_delta":
            piece = event["delta"].get("text")
            if piece:
                first = first or time.perf_counter() - sent
                text.append(piece)
    await process.wait()
    return first, "".join(text)


PATHS: list[tuple[str, Turn]] = [
    ("POST /v1/chat/completions (OpenAI, stream)", openai_turn),
    ("POST /v1/messages (Anthropic, stream)", anthropic_turn),
    ("POST /v1/chat/stream (the server's own SSE)", own_sse_turn),
    ("one process per request (spawn, flattened history)", process_per_request_turn),
]


async def run(port: int, conversations: int, turns: int, cwd: Path) -> dict[str, list[list[float]]]:
    figures: dict[str, list[list[float]]] = {label: [] for label, _ in PATHS}
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=300) as http:
        for conversation in range(conversations):
            histories: dict[str, History] = {label: [] for label, _ in PATHS}
            states: dict[str, dict[str, Any]] = {label: {"cwd": cwd} for label, _ in PATHS}
            times: dict[str, list[float]] = {label: [] for label, _ in PATHS}
            for turn in range(turns):
                for path, (label, send) in enumerate(PATHS):
                    history = histories[label]
                    # Histories of their own: one that reads the same as another's would go on
                    # in that one's session.
                    text = f"path {path} conversation {conversation} turn {turn}"
                    history.append({"role": "user", "content": text})
                    first, answer = await send(http, history, states[label])
                    if not answer:
                        raise SystemExit(f"{label}: no answer on turn {turn}")
                    history.append({"role": "assistant", "content": answer})
                    times[label].append(first)
            for label in figures:
                figures[label].append(times[label])
        metrics = (await http.get("/metrics")).text
        await unseen_histories(http, turns, cwd)
    starts = sum(
        float(line.rsplit(" ", 1)[1])
        for line in metrics.splitlines()
        if line.startswith("claude_chat_process_starts_total{")
    )
    print(f"Claude Code processes the server started: {starts:.0f} "
          f"for {3 * conversations} conversations of {turns} turns")  # fmt: skip
    return figures


async def unseen_histories(http: httpx.AsyncClient, turns: int, cwd: Path) -> None:
    """A client arriving with a history the server has never seen: the server writes it as a
    session and starts Claude Code resuming it; the wrapper flattens it, as on every turn."""
    seeded, spawned = [], []
    for sample in range(3):
        history: History = []
        for turn in range(turns - 1):
            history.append({"role": "user", "content": f"unseen {sample} question {turn}"})
            history.append({"role": "assistant", "content": f"answer {turn} " * 20})
        history.append({"role": "user", "content": f"unseen {sample} last"})
        seeded.append((await openai_turn(http, history, {}))[0])
        spawned.append((await process_per_request_turn(http, history, {"cwd": cwd}))[0])
    print(f"a client arriving with an unseen {turns}-turn history (3 samples):")
    print(f"  seeded session, POST /v1/chat/completions   {ms(seeded)}")
    print(f"  one process per request                    {ms(spawned)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--conversations", type=int, default=3)
    parser.add_argument("--turns", type=int, default=6)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as home, FakeAnthropicAPI(first_token_delay=0.2) as api:
        for name in list(os.environ):
            if name.startswith(("ANTHROPIC_", "CLAUDE_CODE_OAUTH")):
                del os.environ[name]
        project = Path(home) / "project"
        project.mkdir()
        os.environ.update(
            HOME=home,
            CLAUDE_CHAT_DATA_DIR=str(Path(home) / "data"),
            CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC="1",
            ANTHROPIC_BASE_URL=api.base_url,
            ANTHROPIC_API_KEY="sk-bench-fake",
        )
        env = {**os.environ, "CLAUDE_CHAT_SERVER_KEYS": f"bench:{KEY}"}
        processes = str(3 * args.conversations)
        command = [sys.executable, "-m", "claude_chat", "serve", "--port", "0",
                   "--max-processes", processes, "--cwd", str(project)]  # fmt: skip
        server, port = start_server(command, env)
        try:
            figures = asyncio.run(run(port, args.conversations, args.turns, project))
        finally:
            stop_server(server)
    print(
        f"time to first token, {args.conversations} conversations of {args.turns} turns, "
        "the stand-in API answering after 200 ms:"
    )
    for label, rows in figures.items():
        first = [row[0] for row in rows]
        later = [t for row in rows for t in row[1:]]
        print(f"{label}")
        print(f"  turn 1 (start-up)  {ms(first)}")
        print(f"  turns 2+           {ms(later)}")


if __name__ == "__main__":
    main()
