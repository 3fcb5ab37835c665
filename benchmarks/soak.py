"""A long chat in one claude-chat process, piped, against the stand-in API with no delay.

Lines are fed one at a time, each sent once the answer to the one before is on stdout, so
every turn goes through the same claude-chat process and the same Claude Code process, as a
script piping a long conversation would. Prints:

- resident memory (VmRSS) of the claude-chat process at turns 10, 100 and the last
  (target: under 20 MB of growth from turn 100 to the last),
- its open file descriptors at the same turns (target: no growth),
- seconds per turn for the first 100 turns (turn 1, which also waits for Claude Code to
  start, on its own) and the last 100 (target: no slowdown),
- the resident memory of the Claude Code process too, for information (it keeps the
  whole conversation, so it grows with it).

Run: python benchmarks/soak.py [--turns 500]
"""

from __future__ import annotations

import argparse
import os
import queue
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.fake_api import FakeAnthropicAPI  # noqa: E402

RSS_GROWTH_LIMIT_MB = 20.0
SLOWDOWN_LIMIT = 1.5  # the last 100 turns may take at most this much longer each
TURN_TIMEOUT_S = 60.0


def environment(home: Path, api: FakeAnthropicAPI) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANTHROPIC_", "CLAUDE"))}
    env.update(
        HOME=str(home),
        CLAUDE_CHAT_DATA_DIR=str(home / "data"),
        CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC="1",
        CLAUDE_CODE_MAX_RETRIES="0",
        ANTHROPIC_BASE_URL=api.base_url,
        ANTHROPIC_API_KEY="sk-bench-fake",
    )
    return env


def rss_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    match = re.search(r"VmRSS:\s+(\d+) kB", status)
    return int(match.group(1)) / 1024 if match else float("nan")


def open_fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def children(pid: int) -> list[int]:
    """Live child processes of ``pid`` (the Claude Code process of a claude-chat)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # The command name is in parentheses and may hold spaces: fields follow the last ")".
        fields = stat[stat.rindex(")") + 2 :].split()
        if int(fields[1]) == pid and fields[0] != "Z":
            found.append(int(entry.name))
    return found


def tree_rss_mb(pid: int) -> float:
    """Resident memory of a process and everything it started."""
    total = 0.0
    pending = [pid]
    while pending:
        current = pending.pop()
        try:
            total += rss_mb(current)
        except OSError:
            continue
        pending.extend(children(current))
    return total


class Chat:
    """``python -m claude_chat`` reading a pipe; its stdout lines arrive in a queue."""

    def __init__(self, env: dict[str, str], cwd: Path, stderr_path: Path) -> None:
        self._stderr = stderr_path.open("wb")  # a file: a full pipe would stall the chat
        self.process = subprocess.Popen(
            [sys.executable, "-m", "claude_chat"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            cwd=cwd,
            env=env,
        )
        self.lines: queue.Queue[bytes] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line)
        self.lines.put(b"")

    def turn(self, text: str) -> str:
        """Send a line and wait for the answer's line."""
        assert self.process.stdin is not None
        self.process.stdin.write(text.encode() + b"\n")
        self.process.stdin.flush()
        line = self.lines.get(timeout=TURN_TIMEOUT_S)
        if not line:
            raise RuntimeError(f"claude-chat exited ({self.process.wait()}) at {text!r}")
        return line.decode()

    def close(self) -> int:
        assert self.process.stdin is not None
        self.process.stdin.close()
        code = self.process.wait(timeout=60)
        self._stderr.close()
        return code


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--turns", type=int, default=500, metavar="N", help="default: 500")
    args = parser.parse_args(argv)
    turns = max(args.turns, 1)
    checkpoints = sorted({n for n in (10, 100, turns) if n <= turns})

    with tempfile.TemporaryDirectory() as tmp, FakeAnthropicAPI() as api:
        home = Path(tmp)
        project = home / "project"
        project.mkdir()
        stderr_path = home / "stderr.log"
        started = time.monotonic()
        chat = Chat(environment(home, api), project, stderr_path)
        pid = chat.process.pid
        durations: list[float] = []
        figures: dict[int, tuple[float, int, float]] = {}
        try:
            for number in range(1, turns + 1):
                text = f"soak turn {number}"
                before = time.monotonic()
                answer = chat.turn(text)
                durations.append(time.monotonic() - before)
                if not answer.startswith(f"Echo: {text} |"):
                    raise RuntimeError(f"turn {number}: unexpected answer {answer!r}")
                if number in checkpoints:
                    cli = children(pid)
                    cli_rss = sum(tree_rss_mb(child) for child in cli)
                    figures[number] = (rss_mb(pid), open_fds(pid), cli_rss)
                    print(
                        f"turn {number:>4}: claude-chat RSS {figures[number][0]:6.1f} MB, "
                        f"{figures[number][1]} open fds; Claude Code RSS {cli_rss:6.1f} MB "
                        f"(pid {', '.join(map(str, cli)) or '?'})",
                        flush=True,
                    )
        finally:
            code = chat.close()
        total = time.monotonic() - started
        failed = [line for line in stderr_path.read_text().splitlines() if line.startswith("err")]

    print(f"\n{turns} turns in {total:.1f}s; exit status {code}; {len(failed)} error lines")
    print(f"turn 1 (it waits for Claude Code to start): {durations[0]:.3f}s")
    # The first window leaves turn 1 out: the start-up is not a turn's cost.
    first = durations[1:100] or durations[:1]
    last = durations[-100:]
    first_label = f"turns 2-{len(first) + 1}" if turns > 1 else "turn 1"
    last_label = f"turns {turns - len(last) + 1}-{turns}"
    print(
        f"seconds per turn, {first_label}: mean {statistics.mean(first):.3f}, "
        f"median {statistics.median(first):.3f}, max {max(first):.3f}"
    )
    print(
        f"seconds per turn, {last_label}: mean {statistics.mean(last):.3f}, "
        f"median {statistics.median(last):.3f}, max {max(last):.3f}"
    )
    ok = code == 0 and not failed
    if 100 in figures and turns > 100:
        growth = figures[turns][0] - figures[100][0]
        fd_growth = figures[turns][1] - figures[100][1]
        slowdown = statistics.median(last) / statistics.median(first)
        memory_ok = growth < RSS_GROWTH_LIMIT_MB
        fds_ok = fd_growth <= 0
        speed_ok = slowdown <= SLOWDOWN_LIMIT
        print(
            f"claude-chat RSS growth, turn 100 -> {turns}: {growth:+.1f} MB "
            f"(target < {RSS_GROWTH_LIMIT_MB:.0f} MB): {'ok' if memory_ok else 'OVER'}"
        )
        print(f"open fds, turn 100 -> {turns}: {fd_growth:+d}: {'ok' if fds_ok else 'GROWING'}")
        print(
            f"median turn, {last_label} / {first_label}: {slowdown:.2f}x "
            f"(target <= {SLOWDOWN_LIMIT}x): {'ok' if speed_ok else 'SLOWER'}"
        )
        ok = ok and memory_ok and fds_ok and speed_ok
    cli_first, cli_last = figures[checkpoints[0]][2], figures[checkpoints[-1]][2]
    print(
        f"Claude Code RSS, turn {checkpoints[0]} -> {checkpoints[-1]}: "
        f"{cli_first:.1f} -> {cli_last:.1f} MB (for information)"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
