"""What running several ``claude-chat serve --redis`` nodes costs. Prints figures; not a test.

The real CLI against the stand-in API, a real redis-server, nodes on 127.0.0.1:

1. A forwarded turn against a local one: a session owned by node A, its turns sent alternately
   to A and to B (which proxies them to A). Time to the first text delta and to the end of the
   turn, p50 and p95, and what forwarding adds.
2. Takeover: A is killed (SIGKILL) while idle; the next turn goes to B, which waits for A's
   lease to run out (--lease-ttl), takes it and resumes the session from Redis. Time from the
   kill to B's first text delta.
3. Resume from the store against resume from a local file: a session of T turns whose process
   was closed for idleness; the next turn's time to first delta on a node with --redis (the
   SDK loads the session from Redis into a temp dir) and on one without (Claude Code reads its
   own file).

Run: python benchmarks/cluster.py [--turns 20] [--takeovers 3] [--lease-ttl 3] [--history 10]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.fake_api import FakeAnthropicAPI  # noqa: E402
from tests.redis_server import RedisServer  # noqa: E402
from tests.serving import ALICE, Served, server_env  # noqa: E402
from tests.terminal import processes_with_env  # noqa: E402


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def ms(value: float) -> str:
    return f"{value * 1000:8.1f} ms"


async def timed_turn(
    node: Served, message: str, session_id: str | None
) -> tuple[float, float, str]:
    """(time to first text delta, time to the result, session id) of one SSE turn."""
    import httpx

    body: dict[str, Any] = {"message": message, "session_id": session_id}
    started = time.perf_counter()
    first = None
    found = session_id or ""
    async with (
        httpx.AsyncClient(base_url=node.url, timeout=120) as http,
        http.stream("POST", "/v1/chat/stream", json=body, headers=ALICE) as response,
    ):
        assert response.status_code == 200, await response.aread()
        async for line in response.aiter_lines():
            if not line.startswith("data: ") or line == "data: [DONE]":
                continue
            event = json.loads(line[6:])
            if event["type"] == "session":
                found = event["session_id"]
            elif event["type"] == "content_block_delta" and first is None:
                first = time.perf_counter() - started
            elif event["type"] == "result":
                assert not event["is_error"], event
    total = time.perf_counter() - started
    return first if first is not None else total, total, found


class Nodes:
    def __init__(self, root: Path, api: FakeAnthropicAPI, redis: RedisServer, ttl: str) -> None:
        self.root, self.api, self.redis, self.ttl = root, api, redis, ttl
        self.project = root / "project"
        self.project.mkdir(parents=True, exist_ok=True)
        self.started: list[Served] = []

    def start(self, name: str, *args: str, redis: bool = True) -> Served:
        root = self.root / f"{name}-{len(self.started)}"
        cluster = ("--redis", self.redis.url, "--node-id", name, "--lease-ttl", self.ttl)
        node = Served(
            root, server_env(root, self.api), "--cwd", str(self.project),
            *(cluster if redis else ()), *args,
        )  # fmt: skip
        self.started.append(node)
        return node

    def kill(self, node: Served) -> None:
        node.process.send_signal(signal.SIGKILL)
        node.process.wait(30)
        for pid in processes_with_env(f"HOME={node.root / 'home'}\0"):
            os.kill(pid, signal.SIGKILL)

    def close(self) -> None:
        for node in self.started:
            if node.process.poll() is None:
                node.stop()
            for pid in processes_with_env(f"HOME={node.root / 'home'}\0"):
                os.kill(pid, signal.SIGKILL)


async def forwarded_against_local(nodes: Nodes, turns: int) -> None:
    a, b = nodes.start("a"), nodes.start("b")
    _, _, session_id = await timed_turn(a, "hello", None)
    await timed_turn(b, "warm the forwarding client", session_id)
    local: list[tuple[float, float]] = []
    forwarded: list[tuple[float, float]] = []
    for i in range(turns):
        for node, into in ((a, local), (b, forwarded)) if i % 2 else ((b, forwarded), (a, local)):
            first, total, _ = await timed_turn(node, f"turn {i}", session_id)
            into.append((first, total))
    print(f"1. forwarded against local turns ({turns} each, alternating, one session on A)")
    for label, index in (("first delta", 0), ("whole turn", 1)):
        here = [t[index] for t in local]
        there = [t[index] for t in forwarded]
        print(
            f"   {label:11}  local p50 {ms(pct(here, 0.5))}  p95 {ms(pct(here, 0.95))}"
            f"   forwarded p50 {ms(pct(there, 0.5))}  p95 {ms(pct(there, 0.95))}"
            f"   added p50 {ms(pct(there, 0.5) - pct(here, 0.5))}"
        )
    added = [f[0] - loc[0] for f, loc in zip(forwarded, local, strict=True)]
    print(
        "   first delta, forwarded minus the local turn beside it: median "
        f"{ms(statistics.median(added))}"
    )


async def takeover(nodes: Nodes, repeats: int, ttl: float) -> None:
    b = nodes.start("b")
    times = []
    for _ in range(repeats):
        a = nodes.start("a")
        _, _, session_id = await timed_turn(a, "before the crash", None)
        nodes.kill(a)
        killed = time.perf_counter()
        sent = time.perf_counter()
        first, _, _ = await timed_turn(b, "RECALL", session_id)
        times.append(sent - killed + first)
    print(f"2. takeover after SIGKILL of the owner (lease ttl {ttl:g} s, {repeats} times)")
    print(
        f"   kill to B's first delta: median {ms(statistics.median(times))}"
        f"  max {ms(max(times))}  (beyond the ttl: median {ms(statistics.median(times) - ttl)})"
    )


async def resume(nodes: Nodes, history: int, repeats: int) -> None:
    idle = ("--idle-timeout", "0.5")
    stored = nodes.start("store", *idle)
    local = nodes.start("local", *idle, redis=False)
    results: dict[str, list[float]] = {}
    for label, node in (("from Redis", stored), ("from a local file", local)):
        _, _, session_id = await timed_turn(node, "turn 0", None)
        for i in range(1, history):
            await timed_turn(node, f"turn {i}", session_id)
        times = []
        for i in range(repeats):
            await asyncio.sleep(1.5)  # the idle process is closed
            first, _, _ = await timed_turn(node, f"resumed {i}", session_id)
            times.append(first)
        results[label] = times
    print(f"3. resume of a {history}-turn session whose process was closed ({repeats} times)")
    for label, times in results.items():
        print(f"   {label:17}  first delta median {ms(statistics.median(times))}")
    difference = statistics.median(results["from Redis"]) - statistics.median(
        results["from a local file"]
    )
    print(f"   the store adds {ms(difference)} at the median")


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--turns", type=int, default=20)
    parser.add_argument("--takeovers", type=int, default=3)
    parser.add_argument("--lease-ttl", type=float, default=3.0)
    parser.add_argument("--history", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, FakeAnthropicAPI() as api:
        root = Path(tmp)
        redis = RedisServer(root / "redis")
        nodes = Nodes(root, api, redis, f"{args.lease_ttl:g}")
        try:
            await forwarded_against_local(nodes, args.turns)
            await takeover(nodes, args.takeovers, args.lease_ttl)
            await resume(nodes, args.history, 3)
        finally:
            nodes.close()
            redis.stop()


if __name__ == "__main__":
    asyncio.run(main())
