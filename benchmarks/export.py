"""Exporting a long session: ``claude-chat export`` of a 1,000-turn session, target under 2 s.

Writes one synthetic Claude Code session of N turns (default 1,000) into a temporary HOME, as
``~/.claude/projects/<cwd-key>/<uuid>.jsonl`` (``synthetic_sessions.write_long``: the records
the real CLI writes, one ``assistant`` record per content block sharing its response's id and
usage; answers in markdown with fenced code (python, rust, js, bash...), so that the HTML
export highlights code; tool results of 40 B to 60 KB, a few over the 20 KB cut; seeded).

Then it times, each figure the median of R runs:

- subprocesses (what a user waits for): ``python -c pass`` and ``claude-chat --version`` (the
  floors), ``claude-chat export ID -o out.md``, ``export ID --format json`` and ``export ID
  --format html`` (stdout to a pipe);
- inside one process: importing ``claude_agent_sdk`` and ``claude_chat.store.transcript_html``
  (each once, in a fresh interpreter), then ``from_session`` and, apart, its two reads of the
  file (the SDK's ``get_session_messages`` and the timestamps pass), ``redact``, and each
  renderer (``to_markdown``, ``to_json``, ``to_html``).

It prints the file's size, the turns read back (checked against the turns written), the
figures, and the verdict against the 2 s target for each export. When an export misses it
(or with ``--profile``), the in-process export of the slowest format is run under cProfile
and the top functions are printed.

Run: python benchmarks/export.py [--turns N] [--runs R] [--seed S] [--profile]

With the defaults the file is about 50 MB and the whole run takes about a minute.
"""

from __future__ import annotations

import argparse
import cProfile
import functools
import io
import json
import os
import pstats
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TARGET_S = 2.0
CWD = "/home/dev/src/billing-service"

sys.path.insert(0, str(ROOT))

from benchmarks.synthetic_sessions import KB, MB, write_long  # noqa: E402

# -- measuring ---------------------------------------------------------------------------------


class Timing(float):
    """A median of runs, knowing the fastest and the slowest."""

    low: float
    high: float


def median_of(runs: int, action: Callable[[], Any]) -> tuple[Timing, Any]:
    times = []
    value = None
    for _ in range(runs):
        started = time.perf_counter()
        value = action()
        times.append(time.perf_counter() - started)
    timing = Timing(statistics.median(times))
    timing.low, timing.high = min(times), max(times)
    return timing, value


IMPORT_TIMES = (
    "import time\n"
    "t0 = time.perf_counter()\n"
    "import claude_agent_sdk\n"
    "t1 = time.perf_counter()\n"
    "import claude_chat.store.transcript, claude_chat.store.sessions\n"
    "t2 = time.perf_counter()\n"
    "import claude_chat.store.transcript_html\n"
    "t3 = time.perf_counter()\n"
    "print(t1 - t0, t2 - t1, t3 - t2)\n"
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--turns", type=int, default=1000, help="turns in the session")
    parser.add_argument("--runs", type=int, default=5, help="runs per figure (median shown)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--profile", action="store_true", help="profile even if on target")
    args = parser.parse_args()
    py = sys.executable

    with tempfile.TemporaryDirectory(prefix="claude-chat-export-bench-") as tmp:
        home = Path(tmp).resolve()
        os.environ["HOME"] = str(home)
        os.environ["CLAUDE_CHAT_DATA_DIR"] = str(home / "data")
        os.environ.pop("CLAUDE_CONFIG_DIR", None)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("ANTHROPIC_", "CLAUDE"))}
        env.update(HOME=str(home), CLAUDE_CHAT_DATA_DIR=str(home / "data"), PYTHONPATH=str(ROOT))
        out_dir = home / "out"
        out_dir.mkdir()

        started = time.perf_counter()
        written = write_long(home, args.turns, args.seed, CWD)
        generated = time.perf_counter() - started
        session_id, path = written.session_id, written.path
        size = written.size
        print(
            f"session {session_id}: {args.turns:,} turns, {written.records:,} records, "
            f"{written.tool_calls:,} tool calls ({written.cut_results} over 20 KB), "
            f"{size / MB:.1f} MB ({size / args.turns / KB:.0f} KB a turn); "
            f"written in {generated:.1f} s"
        )
        print(f"median of {args.runs} runs each (fastest-slowest)\n")

        rows: list[tuple[str, float, str]] = []
        failures: list[str] = []

        def run(argv: Sequence[str]) -> subprocess.CompletedProcess[bytes]:
            done = subprocess.run(
                list(argv), cwd=out_dir, env=env, capture_output=True, check=False
            )
            if done.returncode != 0:
                failures.append(f"{' '.join(argv[2:])}: exit {done.returncode}: {done.stderr!r}")
            return done

        cli = [py, "-m", "claude_chat"]
        floor, _ = median_of(args.runs, lambda: run([py, "-c", "pass"]))
        rows.append(("python -c pass (interpreter start)", floor, ""))
        version, _ = median_of(args.runs, lambda: run([*cli, "--version"]))
        rows.append(("claude-chat --version (start, no export)", version, ""))

        exports: dict[str, float] = {}
        outputs: dict[str, bytes] = {}
        md_file = out_dir / "out.md"

        def export_md() -> subprocess.CompletedProcess[bytes]:
            md_file.unlink(missing_ok=True)
            return run([*cli, "export", session_id, "-o", str(md_file)])

        for label, action in (
            ("md", export_md),
            ("json", lambda: run([*cli, "export", session_id, "--format", "json"])),
            ("html", lambda: run([*cli, "export", session_id, "--format", "html"])),
        ):
            seconds, done = median_of(args.runs, action)
            exports[label] = seconds
            outputs[label] = md_file.read_bytes() if label == "md" else done.stdout
            shown = "export ID -o out.md" if label == "md" else f"export ID --format {label}"
            verdict = "OK" if seconds < TARGET_S else "MISSED"
            rows.append((f"claude-chat {shown}", seconds, f"{verdict} (target {TARGET_S:.0f} s)"))

        # Imports, once each in a fresh interpreter.
        done = subprocess.run(
            [py, "-c", IMPORT_TIMES], env=env, capture_output=True, text=True, check=False
        )
        try:
            sdk_import, chat_import, html_import = (float(x) for x in done.stdout.split())
        except ValueError:
            failures.append(f"import timing: {done.stdout!r} {done.stderr!r}")
            sdk_import = chat_import = html_import = float("nan")

        # In process.
        from claude_agent_sdk import get_session_messages

        from claude_chat.engine.secrets import secrets_from
        from claude_chat.store import transcript
        from claude_chat.store.transcript_html import to_html

        read_sdk, messages = median_of(args.runs, lambda: get_session_messages(session_id))
        read_stamps, _ = median_of(args.runs, lambda: transcript._records_by_uuid(path))
        read_all, chat = median_of(args.runs, lambda: transcript.from_session(session_id))
        secrets = secrets_from({"ANTHROPIC_API_KEY": "fake-export-key-not-a-credential"})
        redacting, chat = median_of(args.runs, lambda: transcript.redact(chat, secrets))
        renderers: dict[str, Callable[[transcript.Transcript], str]] = {
            "md": transcript.to_markdown,
            "json": transcript.to_json,
            "html": to_html,
        }
        rendered: dict[str, float] = {}
        sizes: dict[str, int] = {}
        for label, render in renderers.items():
            rendered[label], text = median_of(args.runs, functools.partial(render, chat))
            sizes[label] = len(text.encode())

        rows += [
            ("in process: import claude_agent_sdk", sdk_import, ""),
            ("in process: import claude_chat.store.transcript (+ sessions)", chat_import, ""),
            ("in process: import claude_chat.store.transcript_html", html_import, ""),
            ("in process: from_session()", read_all, f"{len(chat.turns):,} turns"),
            ("  of which get_session_messages() (SDK)", read_sdk, f"{len(messages):,} messages"),
            ("  of which _records_by_uuid() (timestamps)", read_stamps, ""),
            ("in process: redact()", redacting, ""),
        ]
        rows += [
            (f"in process: {name}()", rendered[label], f"{sizes[label] / MB:.1f} MB out")
            for label, name in (("md", "to_markdown"), ("json", "to_json"), ("html", "to_html"))
        ]

        width = max(len(label) for label, _, _ in rows)
        for label, figure, note in rows:
            spread = ""
            if isinstance(figure, Timing) and args.runs > 1:
                spread = f"{figure.low:.3f}-{figure.high:.3f}"
            print(f"{label.ljust(width)}  {figure:7.3f} s  {spread:>13}  {note}")

        print()
        turns_back = len(chat.turns)
        if turns_back != args.turns:
            failures.append(f"read back {turns_back} turns, wrote {args.turns}")
        if json.loads(outputs["json"]).get("turns") is None:
            failures.append("export --format json gave no turns")
        for label in ("md", "json", "html"):
            print(f"export {label}: {len(outputs[label]) / MB:.1f} MB")
        slowest = max(exports, key=lambda k: exports[k])
        missed = [k for k, v in exports.items() if v >= TARGET_S]
        verdict = "all under" if not missed else f"{', '.join(missed)} over"
        print(
            f"verdict: {verdict} the {TARGET_S:.0f} s target (slowest: {slowest}, "
            f"{exports[slowest]:.2f} s)"
        )
        for failure in failures:
            print(f"FAILED: {failure}")

        if missed or args.profile:
            print(
                f"\ncProfile of an in-process export as {slowest} (from_session, redact, render):"
            )
            profiler = cProfile.Profile()
            profiler.enable()
            chat = transcript.redact(transcript.from_session(session_id), secrets)
            renderers[slowest](chat)
            profiler.disable()
            report = io.StringIO()
            stats = pstats.Stats(profiler, stream=report).strip_dirs()
            stats.sort_stats("cumulative").print_stats(25)
            stats.sort_stats("tottime").print_stats(15)
            print(report.getvalue())
        if failures:
            sys.exit(1)


if __name__ == "__main__":
    main()
