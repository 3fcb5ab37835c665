"""Memory of a chat after one turn, claude-chat beside Claude Code's own REPL, and ``/clear``.

Both run in a pseudo-terminal (``tests/terminal.py``) against the stand-in API, in the same
world: one temporary HOME whose ``~/.claude.json`` lets Claude Code's REPL start without its
onboarding, trust and API-key questions (``hasCompletedOnboarding``, the project's
``hasTrustDialogAccepted``, the key's last 20 characters in ``customApiKeyResponses``), the
same project directory, the same fake key. Each gets one message, "hello"; once its answer is
on screen and a settling pause has passed (``--settle``, default 5 s: longer than any
background start-up after an answer), the resident memory of the whole process tree is summed
(VmRSS of the process and of every descendant; PSS, which counts shared pages once, beside
it). The two chats run one after the other, so that neither slows the other's start.

Then ``/clear`` (a new conversation) in claude-chat, ``--clears`` times with a turn before
each: from writing its Enter key to the prompt back below the "new conversation" line (it
takes input from then on), and to the toolbar saying ``ready`` (Claude Code has finished
clearing; a message sent earlier waits for that), the pty read as soon as output arrives.
And whether the Claude Code process is still the same one afterwards.

Targets: claude-chat's total at most 1.1x Claude Code's REPL; ``/clear`` at most 50 ms.

Linux only (``/proc``). Run: python benchmarks/memory.py [--settle S] [--clears N]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.fake_api import FakeAnthropicAPI  # noqa: E402
from tests.terminal import Terminal, proc_stat  # noqa: E402

KEY = "sk-bench-fake-key-for-the-memory-benchmark-0123456789"


def claude_code_cli() -> Path:
    import claude_agent_sdk

    return Path(claude_agent_sdk.__file__).parent / "_bundled" / "claude"


def prepare_world(root: Path, api: FakeAnthropicAPI) -> tuple[dict[str, str], Path]:
    home, project = root / "home", root / "project"
    home.mkdir()
    project.mkdir()
    (home / ".claude.json").write_text(
        json.dumps(
            {
                "hasCompletedOnboarding": True,
                "projects": {str(project.resolve()): {"hasTrustDialogAccepted": True}},
                "customApiKeyResponses": {"approved": [KEY[-20:]], "rejected": []},
            }
        )
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANTHROPIC_", "CLAUDE"))}
    env.update(
        HOME=str(home),
        TERM="xterm-256color",
        CLAUDE_CHAT_DATA_DIR=str(root / "data"),
        CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC="1",
        ANTHROPIC_BASE_URL=api.base_url,
        ANTHROPIC_API_KEY=KEY,
    )
    return env, project


def descendants(pid: int) -> list[int]:
    """``pid`` and every live process below it."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int(proc_stat(int(entry.name))[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children.get(current, []))
    return found


def memory_mb(pids: list[int]) -> tuple[float, float]:
    """Summed VmRSS and Pss of ``pids``, in MB."""
    rss = pss = 0
    for pid in pids:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
            rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
        except OSError:
            continue
        if match := re.search(r"VmRSS:\s+(\d+) kB", status):
            rss += int(match.group(1))
        if match := re.search(r"^Pss:\s+(\d+) kB", rollup, re.MULTILINE):
            pss += int(match.group(1))
    return rss / 1024, pss / 1024


def wait_until(term: Terminal, check: Callable[[], bool], timeout: float = 60) -> float:
    """Read the pty as output arrives until ``check()``; the time it became true."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        term.pump(0.002)
        if check():
            return time.monotonic()
    raise AssertionError(f"timed out; screen:\n{term.display()}")


def after_one_turn(
    argv: list[str], env: dict[str, str], project: Path, settle: float
) -> tuple[Terminal, float, float, int]:
    term = Terminal(argv, env, project, rows=40, cols=120)
    wait_until(term, lambda: "❯" in term.display())
    # Claude Code's REPL and claude-chat alike take typed keys before they are fully up.
    time.sleep(2)
    term.enter("hello")
    wait_until(term, lambda: "Echo: hello" in term.history())
    deadline = time.monotonic() + settle
    while time.monotonic() < deadline:
        term.pump(0.1)
    pids = descendants(term.child.pid)
    rss, pss = memory_mb(pids)
    return term, rss, pss, len(pids)


def toolbar_ready(term: Terminal) -> bool:
    # The toolbar is the last line; its state comes last.
    return term.display().rstrip().endswith("ready")


def prompt_after(term: Terminal, marker: str) -> bool:
    """Whether the screen shows ``marker``'s line with a new, empty prompt below it."""
    lines = term.display().splitlines()
    marks = [i for i, line in enumerate(lines) if marker in line]
    return bool(marks) and any(line.strip() == "❯" for line in lines[marks[-1] + 1 :])


def time_clears(term: Terminal, count: int) -> tuple[list[float], list[float], bool]:
    """For ``count`` clears (a turn between two): seconds from Enter on /clear to the prompt
    back, and to the toolbar saying ``ready`` (Claude Code done clearing); whether every
    clear kept the first Claude Code process."""
    before = [p for p in descendants(term.child.pid) if p != term.child.pid]
    to_prompt, to_ready = [], []
    for round_number in range(count):
        marker = f"turn {round_number} before a clear"
        term.enter(marker)
        wait_until(term, lambda m=marker: f"Echo: {m}" in term.history())
        wait_until(term, lambda: toolbar_ready(term))
        sent = time.monotonic()
        term.enter("/clear")
        to_prompt.append(wait_until(term, lambda: prompt_after(term, "new conversation")) - sent)
        to_ready.append(wait_until(term, lambda: toolbar_ready(term)) - sent)
    after = [p for p in descendants(term.child.pid) if p != term.child.pid]
    return to_prompt, to_ready, before == after


def close(term: Terminal) -> None:
    term.ctrl("d")
    with contextlib.suppress(AssertionError):  # it is ended below all the same
        term.wait_exit(timeout=20)
    term.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--settle", type=float, default=5.0)
    parser.add_argument("--clears", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, FakeAnthropicAPI() as api:
        env, project = prepare_world(Path(tmp), api)
        reference, ref_rss, ref_pss, ref_count = after_one_turn(
            [str(claude_code_cli())], env, project, args.settle
        )
        close(reference)
        chat, rss, pss, count = after_one_turn(
            [sys.executable, "-m", "claude_chat"], env, project, args.settle
        )
        try:
            to_prompt, to_ready, same_process = time_clears(chat, args.clears)
        finally:
            close(chat)
    ratio = rss / ref_rss
    row = "{:<37}{:>7.0f} MB  {:>7.0f} MB  {:>5d}"
    print(f"after one turn, settled {args.settle:.0f} s        VmRSS total   PSS total  processes")
    print(row.format("Claude Code's own REPL", ref_rss, ref_pss, ref_count))
    print(row.format("claude-chat + its Claude Code", rss, pss, count))
    verdict = "met" if ratio <= 1.1 else "not met"
    print(f"ratio (VmRSS)                        {ratio:7.2f}x  (target <= 1.1x: {verdict})")
    print(f"ratio (PSS)                          {pss / ref_pss:7.2f}x")
    median = statistics.median(to_prompt) * 1000
    verdict = "met" if median <= 50 else "not met"
    print(
        f"/clear until the prompt is back      median {median:.0f} ms, max "
        f"{max(to_prompt) * 1000:.0f} ms over {len(to_prompt)} (target <= 50 ms: {verdict})"
    )
    print(
        f"/clear until Claude Code is done     median {statistics.median(to_ready) * 1000:.0f} ms"
        f", max {max(to_ready) * 1000:.0f} ms (the toolbar says ready; a message sent before"
        " waits for it)"
    )
    print(f"same Claude Code process after every /clear: {'yes' if same_process else 'no'}")


if __name__ == "__main__":
    main()
