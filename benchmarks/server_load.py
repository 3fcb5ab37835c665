"""What ``claude-chat serve`` costs. Prints figures; not a test.

1. The real CLI against the stand-in API (first token after 200 ms): C conversations of T turns
   at once through the server's SSE endpoint (``--max-processes P``), then the same turns sent
   straight through ``AsyncChatClient`` in this process. Time to first token, measured by the
   client from sending to the first text delta, p50/p95/p99, and what the server adds; memory
   per conversation.
2. The server's own cost at scale, with a fast fake Claude Code (tests/fake_transport.py, in the
   server's process, a line every 50 ms): N SSE streams open at once, then N WebSockets. Held
   without an error, first-delta latency over the fake's own schedule (p50, p99), server CPU
   per delta, server memory per open stream.

Run: python benchmarks/server_load.py [--conversations 16] [--turns 3] [--max-processes 16]
                                      [--streams 1000] [--skip-real] [--skip-scale]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.fanout import rss_mb  # noqa: E402
from claude_chat import AsyncChatClient, TextDelta  # noqa: E402
from tests.fake_api import FakeAnthropicAPI  # noqa: E402

KEY = "bench-server-key"
FAKE_LINE_DELAY_S = 0.05
FAKE_CHUNKS = 60  # each fake answer streams for about 3 s: every stream is open at once
# The fake CLI writes message_start, content_block_start, then the first delta, a line each.
FAKE_FIRST_DELTA_S = 3 * FAKE_LINE_DELAY_S


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def percentiles(values: list[float]) -> tuple[float, float, float]:
    if len(values) < 2:
        value = values[0] if values else float("nan")
        return value, value, value
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return statistics.median(values), cuts[94], cuts[98]


def ms(values: list[float]) -> str:
    p50, p95, p99 = percentiles(values)
    return f"p50 {p50 * 1000:7.1f} ms   p95 {p95 * 1000:7.1f} ms   p99 {p99 * 1000:7.1f} ms"


# -- a small SSE client: raw HTTP/1.1, so the client's own cost stays out of the figures -----


async def sse_turn(port: int, body: dict[str, Any]) -> tuple[float | None, int, dict[str, Any]]:
    """(seconds to the first text delta, deltas, the result event) of one streamed turn."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=1 << 20)
    payload = json.dumps(body).encode()
    writer.write(
        b"POST /v1/chat/stream HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n"
        b"Authorization: Bearer " + KEY.encode() + b"\r\nContent-Type: application/json\r\n"
        b"Content-Length: " + str(len(payload)).encode() + b"\r\n\r\n" + payload
    )
    sent = time.perf_counter()
    first: float | None = None
    deltas = 0
    result: dict[str, Any] = {}
    try:
        status = await reader.readline()
        if b" 200 " not in status:
            raise RuntimeError(f"status {status!r}: {(await reader.read(500))!r}")
        # Chunk-size lines never start with "data: ": each event is one chunk of its own.
        while line := await reader.readline():
            if not line.startswith(b"data: "):
                continue
            if line.startswith(b"data: [DONE]"):
                break
            if b'"content_block_delta"' in line:
                deltas += 1
                if first is None:
                    first = time.perf_counter() - sent
            elif b'"type":"result"' in line:
                result = json.loads(line[6:])
    finally:
        writer.close()
    return first, deltas, result


async def ws_turn(port: int, text: str) -> tuple[float | None, int, dict[str, Any]]:
    from websockets.asyncio.client import connect

    async with connect(
        f"ws://127.0.0.1:{port}/v1/chat/ws",
        additional_headers={"Authorization": f"Bearer {KEY}"},
        open_timeout=120,
        ping_interval=None,
    ) as socket:
        await socket.send(json.dumps({"type": "message", "text": text}))
        sent = time.perf_counter()
        first: float | None = None
        deltas = 0
        async for raw in socket:
            event = json.loads(raw)
            if event["type"] == "content_block_delta":
                deltas += 1
                if first is None:
                    first = time.perf_counter() - sent
            elif event["type"] in ("result", "error"):
                return first, deltas, event
    return first, deltas, {}


# -- servers -----------------------------------------------------------------------------------


def start_server(args: list[str], env: dict[str, str]) -> tuple[subprocess.Popen[bytes], int]:
    process = subprocess.Popen(args, stdout=subprocess.PIPE, env=env)
    assert process.stdout is not None
    line = process.stdout.readline().decode()
    match = re.search(r"listening on http://127\.0\.0\.1:(\d+)", line)
    if match is None:
        process.kill()
        raise SystemExit(f"the server did not start: {line!r}")
    return process, int(match.group(1))


def stop_server(process: subprocess.Popen[bytes]) -> int:
    process.terminate()
    return process.wait(120)


def serve_fake(port: int, streams: int) -> None:
    """The server with the fake CLI, in this process (``--serve-fake``)."""
    from claude_chat.server.auth import Keyring, Tenant
    from claude_chat.server.run import bind, serve
    from claude_chat.server.settings import ServerSettings
    from tests.fake_transport import FakeCLI, text_message

    def fake() -> FakeCLI:
        cli = FakeCLI(delay=FAKE_LINE_DELAY_S)
        cli.enqueue(text_message([f"w{i} " for i in range(FAKE_CHUNKS)], cli.model))
        return cli

    data = Path(tempfile.mkdtemp(prefix="server-load-"))
    settings = ServerSettings(
        data_dir=data,
        cwd=data,
        max_processes=4 * streams,
        queue_timeout_s=120,
    )

    def announce(line: str) -> None:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()

    serve(settings, Keyring([Tenant("bench", KEY)]), bind("127.0.0.1", port), announce, fake)


# -- part 1: the real CLI ----------------------------------------------------------------------


async def real_through_server(port: int, conversations: int, turns: int) -> list[list[float]]:
    async def converse(index: int) -> list[float]:
        session_id = None
        times = []
        for turn in range(turns):
            first, _, result = await sse_turn(
                port, {"message": f"conv {index} turn {turn}", "session_id": session_id}
            )
            session_id = result.get("session_id")
            times.append(first if first is not None else float("nan"))
        return times

    return await asyncio.gather(*(converse(i) for i in range(conversations)))


async def interleaved(port: int, turns: int, cwd: Path) -> tuple[list[float], list[float]]:
    """One conversation through the server and one straight, a turn of each in turn, so that
    the machine's load weighs on both alike. First tokens of turns 2+."""
    through: list[float] = []
    straight: list[float] = []
    session_id = None
    async with AsyncChatClient(cwd=cwd) as client:
        for turn in range(turns + 1):
            first, _, result = await sse_turn(
                port, {"message": f"alone turn {turn}", "session_id": session_id}
            )
            session_id = result.get("session_id")
            sent = time.perf_counter()
            direct = None
            async for event in await client.send(f"alone turn {turn}"):
                if isinstance(event, TextDelta) and direct is None:
                    direct = time.perf_counter() - sent
            if turn > 0 and first is not None and direct is not None:
                through.append(first)
                straight.append(direct)
    return through, straight


async def real_direct(conversations: int, turns: int, cwd: Path) -> list[list[float]]:
    clients = [AsyncChatClient(cwd=cwd) for _ in range(conversations)]

    async def converse(index: int, client: AsyncChatClient) -> list[float]:
        times = []
        for turn in range(turns):
            sent = time.perf_counter()
            first = None
            async for event in await client.send(f"conv {index} turn {turn}"):
                if isinstance(event, TextDelta) and first is None:
                    first = time.perf_counter() - sent
            times.append(first if first is not None else float("nan"))
        return times

    try:
        return await asyncio.gather(*(converse(i, c) for i, c in enumerate(clients)))
    finally:
        await asyncio.gather(*(c.close() for c in clients))


def part_real(conversations: int, turns: int, max_processes: int) -> None:
    print(f"== the real CLI: {conversations} conversations of {turns} turns at once ==")
    if conversations < 50:
        print(
            f"   ({conversations}, not the issue's 50: 50 take several minutes on 2 cores; "
            "--conversations 50 runs them)"
        )
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
        command = [sys.executable, "-m", "claude_chat", "serve", "--port", "0",
                   "--max-processes", str(max_processes), "--cwd", str(project)]  # fmt: skip
        server, port = start_server(command, env)
        try:
            alone = asyncio.run(interleaved(port, 20, project))
            began = time.monotonic()
            served = asyncio.run(real_through_server(port, conversations, turns))
            elapsed = time.monotonic() - began
            cli = [rss_mb(pid) for pid in children(server.pid)]
            server_mb = rss_mb(server.pid)
        finally:
            stop_server(server)
        began = time.monotonic()
        direct = asyncio.run(real_direct(conversations, turns, project))
        direct_elapsed = time.monotonic() - began

    def column(rows: list[list[float]], later: bool) -> list[float]:
        return [t for row in rows for t in (row[1:] if later else row[:1]) if t == t]

    rows: list[tuple[str, list[float], list[float]]] = [
        ("one conversation at a time, turns 2+ (20, interleaved)", *alone)
    ]
    for label, later in (("all at once, turn 1 (start-up included)", False),
                         ("all at once, turns 2+", True)):  # fmt: skip
        rows.append((label, column(served, later), column(direct, later)))
    for label, through, straight in rows:
        print(f"{label}")
        print(f"  through the server (SSE)    {ms(through)}")
        print(f"  AsyncChatClient directly    {ms(straight)}")
        added = [a - b for a, b in zip(percentiles(through), percentiles(straight), strict=True)]
        print(
            f"  the server adds             p50 {added[0] * 1000:+7.1f} ms   "
            f"p95 {added[1] * 1000:+7.1f} ms   p99 {added[2] * 1000:+7.1f} ms"
        )
    answers = conversations * turns
    print(f"all turns: {elapsed:.1f} s through the server ({answers / elapsed:.1f} turns/s), "
          f"{direct_elapsed:.1f} s directly")  # fmt: skip
    if cli:
        print(
            f"memory: Claude Code {sum(cli) / len(cli):.0f} MB per live conversation "
            f"({len(cli)} live, {sum(cli):.0f} MB), the server itself {server_mb:.0f} MB"
        )


# -- part 2: the server's own cost -------------------------------------------------------------


async def held_at_once(
    port: int, streams: int, turn: Callable[[int, str], Any], label: str, pid: int
) -> None:
    baseline_mb = rss_mb(pid)
    cpu_before = cpu_seconds(pid)
    peak_mb = baseline_mb
    all_open = asyncio.Event()

    async def watch() -> None:
        nonlocal peak_mb
        while not all_open.is_set():
            peak_mb = max(peak_mb, rss_mb(pid))
            await asyncio.sleep(0.1)

    watcher = asyncio.create_task(watch())
    began = time.perf_counter()
    outcomes = await asyncio.gather(
        *(turn(port, f"{label} {i}") for i in range(streams)), return_exceptions=True
    )
    elapsed = time.perf_counter() - began
    all_open.set()
    await watcher
    cpu = cpu_seconds(pid) - cpu_before
    errors = [o for o in outcomes if isinstance(o, BaseException)]
    good = [o for o in outcomes if not isinstance(o, BaseException)]
    complete = [o for o in good if o[2].get("type") == "result" and not o[2].get("is_error")]
    firsts = [o[0] - FAKE_FIRST_DELTA_S for o in good if o[0] is not None]
    deltas = sum(o[1] for o in good)
    print(f"{label}: {streams} at once, {elapsed:.1f} s in all")
    print(f"  held to their end           {len(complete)} of {streams}, errors {len(errors)}"
          + (f" (first: {errors[0]!r:.120})" if errors else ""))  # fmt: skip
    print(f"  first delta over the fake   {ms(firsts)}")
    if deltas:
        print(f"  server CPU per delta        {cpu / deltas * 1e6:.0f} µs ({deltas} deltas, "
              f"{cpu:.1f} s CPU)")  # fmt: skip
    per_stream = (peak_mb - baseline_mb) * 1024 / max(len(good), 1)
    print(f"  server memory per stream    {per_stream:.0f} KB (peak {peak_mb:.0f} MB, "
          f"before {baseline_mb:.0f} MB; a conversation and its engine included)")  # fmt: skip


def part_scale(streams: int) -> None:
    print(f"== the server's own cost: {streams} streams, a fake Claude Code ==")
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    command = [sys.executable, __file__, "--serve-fake", "--streams", str(streams)]
    server, port = start_server(command, dict(os.environ))
    try:
        asyncio.run(held_at_once(port, streams, _sse_text, "SSE streams", server.pid))
        asyncio.run(held_at_once(port, streams, ws_turn, "WebSockets", server.pid))
    finally:
        print(f"server exit status {stop_server(server)}")


async def _sse_text(port: int, text: str) -> tuple[float | None, int, dict[str, Any]]:
    return await sse_turn(port, {"message": text})


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--conversations", type=int, default=16)
    parser.add_argument("--turns", type=int, default=3)
    parser.add_argument("--max-processes", type=int, default=16)
    parser.add_argument("--streams", type=int, default=1000)
    parser.add_argument("--skip-real", action="store_true")
    parser.add_argument("--skip-scale", action="store_true")
    parser.add_argument("--serve-fake", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if not args.serve_fake:
        load = os.getloadavg()[0]
        print(f"({os.cpu_count()} cores, load average {load:.1f} at the start: latency figures "
              "grow with it; CPU and memory per stream much less)")  # fmt: skip
    if args.serve_fake:
        resource.setrlimit(
            resource.RLIMIT_NOFILE, (resource.getrlimit(resource.RLIMIT_NOFILE)[1],) * 2
        )
        serve_fake(0, args.streams)
        return
    if not args.skip_real:
        part_real(args.conversations, args.turns, args.max_processes)
    if not args.skip_scale:
        part_scale(args.streams)


if __name__ == "__main__":
    main()
