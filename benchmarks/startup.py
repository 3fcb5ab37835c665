"""Start-up of claude-chat in a pseudo-terminal, against the stand-in API. Prints its figures.

- time from exec to an editable prompt (target: under 0.3 s),
- time until the Claude Code process started in the background is ready,
- time to the first token of turn 1, sent at once vs. sent after a 2 s pause (start-up hidden),
- our own resident memory once the prompt is up, and ``python -X importtime`` totals.

Run: python benchmarks/startup.py [--runs N]
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.fake_api import FakeAnthropicAPI  # noqa: E402
from tests.terminal import Terminal  # noqa: E402

PROMPT = "❯"


def environment(home: Path, api: FakeAnthropicAPI) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANTHROPIC_", "CLAUDE"))}
    env.update(
        HOME=str(home),
        TERM="xterm-256color",
        CLAUDE_CHAT_DATA_DIR=str(home / "data"),
        CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC="1",
        ANTHROPIC_BASE_URL=api.base_url,
        ANTHROPIC_API_KEY="sk-bench-fake",
    )
    return env


def one_run(api: FakeAnthropicAPI, pause: float | None) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        started = time.monotonic()
        term = Terminal([sys.executable, "-m", "claude_chat"], environment(home, api), home)
        try:
            term.wait_for(PROMPT, timeout=10)
            figures = {"prompt": time.monotonic() - started}
            if pause is None:
                term.wait_for(lambda s: s.rstrip().endswith("ready"), timeout=60)
                figures["ready"] = time.monotonic() - started
                pid = term.child.pid
                rss = Path(f"/proc/{pid}/status").read_text()
                match = re.search(r"VmRSS:\s+(\d+) kB", rss)
                figures["rss_mb"] = int(match.group(1)) / 1024 if match else float("nan")
            else:
                time.sleep(pause)
                sent = time.monotonic()
                term.enter("hello")
                term.wait_for("Echo: hello", timeout=60)
                figures["first_token"] = time.monotonic() - sent
            term.ctrl("d")
            term.wait_exit(timeout=30)
            return figures
        finally:
            term.close()


def import_total(env: dict[str, str] | None = None) -> float:
    """Seconds of top-level imports of claude-chat's start, as ``python -X importtime`` says."""
    out = subprocess.run(
        [
            sys.executable,
            "-X",
            "importtime",
            "-c",
            "import claude_chat.cli, claude_chat.terminal.repl",
        ],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    ).stderr
    total = 0
    for line in out.splitlines():
        parts = line.split("|")
        top_level = len(parts) == 3 and parts[2].startswith(" ") and parts[2][1:2] != " "
        if top_level and parts[1].strip().isdigit():
            total += int(parts[1])
    return total / 1e6


def median(values: list[float]) -> str:
    return f"{statistics.median(values):.3f}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with FakeAnthropicAPI() as api:
        cold = [one_run(api, None) for _ in range(args.runs)]
        at_once = [one_run(api, 0.0) for _ in range(args.runs)]
        paused = [one_run(api, 2.0) for _ in range(args.runs)]
    prompt = [r["prompt"] for r in cold + at_once + paused]
    print(f"runs per figure: {args.runs}")
    print(f"exec -> editable prompt      median {median(prompt)} s  max {max(prompt):.3f} s")
    print(f"exec -> Claude Code ready     median {median([r['ready'] for r in cold])} s")
    print(f"resident memory at ready      median {median([r['rss_mb'] for r in cold])} MB")
    sent_at_once = [r["first_token"] for r in at_once]
    sent_paused = [r["first_token"] for r in paused]
    print(f"turn 1 sent at once: answer   median {median(sent_at_once)} s after Enter")
    print(f"turn 1 after 2 s pause        median {median(sent_paused)} s after Enter")
    ratio = statistics.median(sent_at_once) / statistics.median(sent_paused)
    print(f"  ratio at once / paused      {ratio:.1f}x")
    print(f"import time (claude_chat.cli + repl, -X importtime): {import_total():.3f} s")


if __name__ == "__main__":
    main()
