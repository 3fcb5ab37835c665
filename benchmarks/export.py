"""Exporting a long session: ``claude-chat export`` of a 1,000-turn session, target under 2 s.

Writes one synthetic Claude Code session of N turns (default 1,000) into a temporary HOME, as
``~/.claude/projects/<cwd-key>/<uuid>.jsonl``, shaped like the files the real CLI writes:

- per turn: ``queue-operation`` records, the ``user`` prompt, ``attachment`` records (a big
  context with the first prompt: environment, skills, system prompt snapshot; now and then an
  edited file or the date later), ``api-request-shape`` once, ``api-request-blob`` records
  with the new messages of each request (prompts, answers, tool calls and their full results),
  ``api-request`` records, ``assistant`` records (thinking, text, ``tool_use``; one record per
  content block, the blocks of one response sharing its ``message.id`` and ``usage``, as the
  CLI writes them), ``user`` tool results (with ``toolUseResult``: the output a second time),
  ``last-prompt``, and the metadata the CLI writes again every 32 KB;
- answers in markdown: paragraphs, lists, inline code and fenced code (python, rust, js,
  bash), so that the HTML export highlights code; tool results of 40 B to 60 KB (a few over the
  20 KB cut); every record chained by ``parentUuid``; all of it from ``random.Random(seed)``.

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
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TARGET_S = 2.0
VERSION = "2.1.330"
MODEL = "claude-opus-5-5"
REAPPEND_BYTES = 32768  # the CLI writes its session metadata again after this many bytes
KB = 1024
MB = 1024 * 1024
CWD = "/home/dev/src/billing-service"

VOCABULARY = (
    "the a session cache request response buffer parser token stream value error retry handler "
    "queue worker config file path line column table row index query result status update "
    "timeout client server build test check lint module import function class method return "
    "async await loop event callback state store commit branch merge diff patch release "
    "über naïve café → ✓ … «quoted» 'single' \"double\" back\\slash"
)
WORDS = VOCABULARY.split()
CODE = {
    "python": (
        "def {w}_{v}(items: list[str]) -> int:",
        "    total = 0",
        "    for {w} in items:",
        '        if "{v}" in {w}:',
        "            total += len({w})",
        "    return total",
        "class {W}Handler:",
        '    """Handle {w} for the {v}."""',
        "    def __init__(self, {w}: str) -> None:",
        "        self.{w} = {w}",
    ),
    "rust": (
        "fn {w}_{v}(input: &str) -> Result<usize, Error> {{",
        '    let {w} = input.split("\\n").count();',
        "    Ok({w})",
        "}}",
    ),
    "js": (
        "const {w} = await fetch(`/api/{v}?q=${{{w}}}`);",
        "if (!{w}.ok) throw new Error('{v}');",
        "export function {w}({v}) {{ return {v} * 2; }}",
    ),
    "bash": (
        "$ pytest -q tests/test_{w}.py",
        "E   AssertionError: expected '{w}' got '{v}'",
        "grep -rn '{w}' src/ | wc -l",
    ),
}
PROMPTS = (
    "fix {obj}",
    "explain {obj}",
    "add tests for {obj}",
    "why does {obj} time out?",
    "refactor {obj} and keep the public API",
    "ok, now run the tests",
    "that broke the build, look at the error",
    "can you make it shorter?",
    "show me the diff",
    "commit that",
)
OBJECTS = (
    "the session cache",
    "the retry logic in the HTTP client",
    "`parse_config`",
    "the CSV export",
    "src/render/table.rs",
    "the websocket reconnect",
    "the billing cron job",
    "the date parsing in utils/time.py",
)


class Corpus:
    """A couple of megabytes of prose and code to cut payloads from."""

    def __init__(self, rng: random.Random, size: int = 2 * MB) -> None:
        parts: list[str] = []
        length = 0
        while length < size:
            if rng.random() < 0.4:
                part = "\n".join(code_lines(rng, rng.randint(3, 30))) + "\n"
            else:
                part = " ".join(rng.choices(WORDS, k=rng.randint(20, 120))) + ".\n\n"
            parts.append(part)
            length += len(part)
        self.text = "".join(parts)

    def cut(self, rng: random.Random, size: int) -> str:
        size = max(1, min(size, len(self.text) - 1))
        start = rng.randrange(len(self.text) - size)
        return self.text[start : start + size]


def code_lines(rng: random.Random, count: int, language: str | None = None) -> list[str]:
    lines = CODE[language] if language else tuple(line for ls in CODE.values() for line in ls)
    return [
        rng.choice(lines).format(
            w=rng.choice(WORDS[:60]), v=rng.choice(WORDS[:60]), W=rng.choice(WORDS[:60]).title()
        )
        for _ in range(count)
    ]


def iso(seconds: float) -> str:
    return (
        time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))
        + f".{int(seconds % 1 * 1000):03d}Z"
    )


class SessionWriter:
    """One session file's lines, record by record, as the CLI appends them."""

    def __init__(self, rng: random.Random, session_id: str, start: float) -> None:
        self.rng = rng
        self.corpus = Corpus(rng)
        self.session_id = session_id
        self.clock = start
        self.lines: list[str] = []
        self.since_reappend = 0
        self.parent: str | None = None
        self.last_prompt: tuple[str, str] | None = None
        self.tool_calls = 0
        self.cut_results = 0

    def uuid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def tick(self, low: float, high: float) -> str:
        self.clock += self.rng.uniform(low, high)
        return iso(self.clock)

    def emit(self, record: dict[str, object], reappend: bool = True) -> None:
        line = json.dumps(record, ensure_ascii=False, separators=(",", ":"))
        self.lines.append(line)
        self.since_reappend += len(line) + 1
        if reappend and self.since_reappend >= REAPPEND_BYTES:
            self.since_reappend = 0
            if self.last_prompt is not None:
                text, leaf = self.last_prompt
                self.meta({"type": "last-prompt", "lastPrompt": text, "leafUuid": leaf})
            self.meta({"type": "ai-title", "aiTitle": "Fix the billing cron job"})
            self.meta({"type": "atis-latch", "atis": ""})

    def meta(self, record: dict[str, object]) -> None:
        """A record outside the conversation chain."""
        self.emit({**record, "sessionId": self.session_id}, reappend=False)

    def entry(
        self,
        kind: str,
        body: dict[str, object],
        before: dict[str, object] | None = None,
        after: dict[str, object] | None = None,
        seconds: tuple[float, float] = (0.001, 0.05),
    ) -> str:
        """A conversation record (user, assistant, attachment), chained to the previous one."""
        record_uuid = self.uuid()
        self.emit(
            {
                "parentUuid": self.parent,
                "isSidechain": False,
                **(before or {}),
                "type": kind,
                **body,
                "uuid": record_uuid,
                "timestamp": self.tick(*seconds),
                **(after or {}),
                "userType": "external",
                "entrypoint": "cli",
                "cwd": CWD,
                "sessionId": self.session_id,
                "version": VERSION,
                "gitBranch": "main",
            }
        )
        self.parent = record_uuid
        return record_uuid

    def attachment(self, attachment: dict[str, object], rendered: str | None = None) -> None:
        after: dict[str, object] = {}
        if rendered is not None:
            after = {
                "rendered": [{"content": f"<system-reminder>\n{rendered}\n</system-reminder>"}],
                "renderedRole": "system",
            }
        self.entry("attachment", {"attachment": attachment}, after=after)

    def blob(self, role: str, content: list[dict[str, object]]) -> None:
        self.meta(
            {
                "type": "api-request-blob",
                "hash": f"{self.rng.getrandbits(256):064x}",
                "message": {"role": role, "content": content},
            }
        )

    def api_request(self, base: str | None) -> str:
        request_id = self.uuid()
        self.meta(
            {
                "type": "api-request",
                "id": request_id,
                "timestamp": self.tick(0.01, 0.2),
                "version": VERSION,
                "querySource": "repl_main_thread",
                "params": {"model": MODEL, "max_tokens": 128000},
                **({"base": base} if base else {}),
                "keep": self.rng.randint(0, 40),
                "tail": [f"{self.rng.getrandbits(256):064x}" for _ in range(2)],
            }
        )
        return request_id

    def response(self, blocks: Sequence[dict[str, object]], request_id: str, stop: str) -> None:
        """One API response: a record per content block, sharing the id and usage."""
        rng = self.rng
        message_id = f"msg_{rng.getrandbits(96):024x}"
        usage = {
            "input_tokens": rng.randint(3, 60),
            "cache_creation_input_tokens": rng.randint(0, 5000),
            "cache_read_input_tokens": rng.randint(10000, 150000),
            "output_tokens": rng.randint(1, 4000),
            "service_tier": "standard",
        }
        for block in blocks:
            message = {
                "id": message_id,
                "type": "message",
                "role": "assistant",
                "model": MODEL,
                "content": [block],
                "stop_reason": stop,
                "stop_sequence": None,
                "usage": usage,
            }
            self.entry(
                "assistant",
                {"message": message},
                before={"requestId": f"req_{rng.getrandbits(96):024x}", "requestRef": request_id},
                seconds=(0.5, 30.0),
            )

    def first_context(self) -> None:
        """What the CLI records with the first prompt, some 80 KB."""
        c, rng = self.corpus, self.rng
        self.attachment(
            {"type": "environment", "snapshot": {"workingDirectory": CWD, "platform": "linux"}},
            f"# Environment\n - Primary working directory: {CWD}\n" + c.cut(rng, 900),
        )
        self.attachment({"type": "model", "model": MODEL}, f"You are powered by {MODEL}.")
        skills = [f"- {w}: {c.cut(rng, rng.randint(100, 400))}" for w in WORDS[:40]]
        self.attachment({"type": "skill_listing", "skills": skills}, "\n".join(skills))
        prompt = [c.cut(rng, rng.randint(300, 1500)) for _ in range(8)]
        self.attachment({"type": "prompt_snapshot", "systemPrompt": prompt})
        tools = [
            {"name": name, "description": c.cut(rng, rng.randint(1000, 4000))}
            for name in ("Bash", "Read", "Edit", "Write", "Grep", "Glob", "Agent", "TodoWrite")
        ]
        self.meta(
            {
                "type": "api-request-shape",
                "shapeHash": f"{rng.getrandbits(256):064x}",
                "shape": {"system": [{"type": "text", "text": c.cut(rng, 12000)}], "tools": tools},
            }
        )

    def prompt(self, text: str, first: bool) -> None:
        rng = self.rng
        stamp = self.tick(5, 600)
        self.meta({"type": "queue-operation", "operation": "enqueue", "timestamp": stamp})
        self.meta({"type": "queue-operation", "operation": "dequeue", "timestamp": stamp})
        content: object = text if rng.random() < 0.9 else [{"type": "text", "text": text}]
        leaf = self.entry(
            "user",
            {"message": {"role": "user", "content": content}},
            before={"promptId": self.uuid()},
            after={"permissionMode": "default"},
        )
        self.last_prompt = (text, leaf)
        if first:
            self.first_context()
        elif rng.random() < 0.2:
            self.attachment(
                {"type": "edited_text_file", "filename": f"{CWD}/src/{rng.choice(WORDS)}.py"},
                self.corpus.cut(rng, rng.randint(200, 3000)),
            )
        elif rng.random() < 0.05:
            self.attachment({"type": "date", "date": iso(self.clock)[:10]}, "Today's date.")
        self.blob("user", [{"type": "text", "text": text}])

    def tool_call(self, request_id: str) -> str:
        """A tool call and its result: the output is in the file three times, as in real ones
        (tool_result, toolUseResult, the next request's blob)."""
        c, rng = self.corpus, self.rng
        self.tool_calls += 1
        tool_id = f"toolu_{rng.getrandbits(96):024x}"
        size = int(min(60 * KB, max(40, rng.lognormvariate(8.0, 1.2))))  # median about 3 KB
        self.cut_results += size > 20_000
        output = c.cut(rng, size)
        kind = rng.choice(("Bash", "Read", "Read", "Grep"))
        path = f"{CWD}/src/{rng.choice(WORDS[:60])}.py"
        tool_input: dict[str, object] = (
            {"command": f"pytest -q tests/ -k {rng.choice(WORDS[:60])}"}
            if kind == "Bash"
            else {"file_path": path}
            if kind == "Read"
            else {"pattern": rng.choice(WORDS[:60]), "output_mode": "content"}
        )
        use: dict[str, object] = {
            "type": "tool_use",
            "id": tool_id,
            "name": kind,
            "input": tool_input,
        }
        self.response([use], request_id, "tool_use")
        result: dict[str, object] = {
            "tool_use_id": tool_id,
            "type": "tool_result",
            "content": output,
        }
        self.entry(
            "user",
            {"message": {"role": "user", "content": [result]}},
            after={
                "toolUseResult": {"stdout": output, "stderr": ""},
                "sourceToolAssistantUUID": self.parent,
            },
            seconds=(0.2, 20.0),
        )
        self.blob("assistant", [use])
        self.blob("user", [result])
        return self.api_request(request_id)

    def answer_text(self) -> str:
        """Markdown as answers have it: paragraphs, a list, now and then a code fence."""
        c, rng = self.corpus, self.rng
        parts = [" ".join(rng.choices(WORDS, k=rng.randint(15, 80))) + "."]
        if rng.random() < 0.4:
            parts.append(
                "\n".join(
                    f"- `{rng.choice(WORDS[:60])}` {c.cut(rng, 60)!s}".replace("\n", " ")
                    for _ in range(rng.randint(2, 6))
                )
            )
        if rng.random() < 0.5:
            language = rng.choice(tuple(CODE))
            body = "\n".join(code_lines(rng, rng.randint(4, 40), language))
            parts.append(f"```{language}\n{body}\n```")
        if rng.random() < 0.5:
            parts.append(c.cut(rng, rng.randint(100, 1500)).replace("```", "'''"))
        return "\n\n".join(parts)

    def turn(self, text: str, first: bool) -> None:
        rng = self.rng
        self.prompt(text, first)
        request_id = self.api_request(None)
        for _ in range(rng.choice((0, 0, 1, 1, 2, 3, 4))):
            request_id = self.tool_call(request_id)
        blocks: list[dict[str, object]] = []
        if rng.random() < 0.3:
            thinking = self.corpus.cut(rng, rng.randint(200, 3000))
            blocks.append(
                {
                    "type": "thinking",
                    "thinking": thinking,
                    "signature": f"{rng.getrandbits(512):0128x}",
                }
            )
        blocks.append({"type": "text", "text": self.answer_text()})
        self.response(blocks, request_id, "end_turn")
        self.blob("assistant", blocks)
        assert self.last_prompt is not None
        self.meta({"type": "last-prompt", "lastPrompt": text, "leafUuid": self.last_prompt[1]})


def generate(home: Path, turns: int, seed: int) -> tuple[str, Path, SessionWriter]:
    rng = random.Random(seed)
    session_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
    writer = SessionWriter(rng, session_id, time.time() - turns * 900)
    writer.meta({"type": "ai-title", "aiTitle": "Fix the billing cron job"})
    for index in range(turns):
        text = rng.choice(PROMPTS).format(obj=rng.choice(OBJECTS))
        writer.turn(f"{text} (#{index + 1})", index == 0)
    writer.meta({"type": "cost-state", "totalCostUSD": round(rng.uniform(5, 80), 4)})
    folder = home / ".claude" / "projects" / re.sub(r"[^a-zA-Z0-9]", "-", CWD)
    folder.mkdir(parents=True)
    path = folder / f"{session_id}.jsonl"
    path.write_text("\n".join(writer.lines) + "\n", encoding="utf-8")
    return session_id, path, writer


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
        session_id, path, writer = generate(home, args.turns, args.seed)
        generated = time.perf_counter() - started
        size = path.stat().st_size
        print(
            f"session {session_id}: {args.turns:,} turns, {len(writer.lines):,} records, "
            f"{writer.tool_calls:,} tool calls ({writer.cut_results} over 20 KB), "
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
