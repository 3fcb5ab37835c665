"""Many conversations in one event loop: N ``AsyncChatClient``s streaming at once against the
stand-in API. Prints the time for every client to answer, answers per second, and resident
memory: of this process and of the Claude Code processes, per conversation.

Run: python benchmarks/fanout.py [--clients 50] [--turns 2]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from claude_chat import AsyncChatClient, TextDelta  # noqa: E402
from tests.fake_api import FakeAnthropicAPI  # noqa: E402


def rss_mb(pid: int) -> float:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0.0
    match = re.search(r"VmRSS:\s+(\d+) kB", status)
    return int(match.group(1)) / 1024 if match else 0.0


async def converse(client: AsyncChatClient, index: int, turns: int) -> int:
    correct = 0
    for turn in range(turns):
        text = ""
        async for event in await client.send(f"client {index} turn {turn}"):
            if isinstance(event, TextDelta):
                text += event.text
        correct += text.startswith(f"Echo: client {index} turn {turn}")
    return correct


async def run(count: int, turns: int) -> None:
    clients = [AsyncChatClient() for _ in range(count)]
    started = time.monotonic()
    await asyncio.gather(*(c.start() for c in clients))
    ready = time.monotonic() - started
    began = time.monotonic()
    correct = await asyncio.gather(*(converse(c, i, turns) for i, c in enumerate(clients)))
    elapsed = time.monotonic() - began
    cli_memory = [rss_mb(c.engine.cli_pid) for c in clients if c.engine.cli_pid]
    ours = rss_mb(os.getpid())
    await asyncio.gather(*(c.close() for c in clients))
    answers = count * turns
    print(f"conversations                 {count} ({turns} turns each)")
    print(f"all Claude Code processes up  {ready:.2f} s")
    print(f"all answers                   {elapsed:.2f} s ({answers / elapsed:.1f} answers/s)")
    print(f"correct, in order             {sum(correct)} of {answers}")
    print(f"this process (all clients)    {ours:.0f} MB, {ours / count:.1f} MB per conversation")
    if cli_memory:
        print(
            f"Claude Code per conversation  {sum(cli_memory) / len(cli_memory):.0f} MB "
            f"(total {sum(cli_memory):.0f} MB)"
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--turns", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as home, FakeAnthropicAPI() as api:
        for name in list(os.environ):
            if name.startswith(("ANTHROPIC_", "CLAUDE_CODE_OAUTH")):
                del os.environ[name]
        os.environ.update(
            HOME=home,
            CLAUDE_CHAT_DATA_DIR=str(Path(home) / "data"),
            CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC="1",
            ANTHROPIC_BASE_URL=api.base_url,
            ANTHROPIC_API_KEY="sk-bench-fake",
        )
        asyncio.run(run(args.clients, args.turns))


if __name__ == "__main__":
    main()
