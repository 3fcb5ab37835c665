"""Listing stored sessions: ``claude-chat sessions`` against the SDK's ``list_sessions()``.

Writes N synthetic Claude Code sessions (default 2,000) into a temporary HOME, once per run, as
``~/.claude/projects/<cwd-key>/<uuid>.jsonl``, shaped like the files the real CLI writes:

- records ``ai-title``, ``queue-operation``, ``user`` (a typed prompt; now and then a slash
  command with its caveat and output, or an interruption), ``attachment`` (environment, skill
  listing, prompt snapshots...), ``api-request-shape``, ``api-request-blob`` (the new messages of
  each request: prompts, answers, tool calls and their full results), ``api-request``,
  ``assistant`` (thinking, text or ``tool_use``), ``user`` tool results (with ``toolUseResult``),
  ``last-prompt``, sometimes a ``custom-title`` (a rename), and ``cost-state`` at a clean exit;
- the metadata re-append of the real CLI: ``last-prompt``, ``custom-title`` and ``ai-title``
  written again once 32 KB have been appended since the last time;
- 1 to 60 prompts a session, median size around 230 KB, about 3 % of 2 to 5 MB, seeded
  (``random.Random(seed)``), in 20 project directories, one of them the benchmark's own working
  directory (about 15 % of the sessions), modification times spread over six months.

Then it times, each figure the median of R runs (subprocesses, stdout to a pipe):

- ``python -c pass``: the interpreter's start, the floor of any command;
- ``claude-chat sessions --all``: cold (claude-chat's cache file deleted) and warm (cache
  present); ``sessions`` (this directory only) cold and warm; ``sessions --all --json`` warm;
- the same listing inside one process (``claude_chat.sessions.list_sessions``), import and call
  apart;
- the SDK: ``python -c "import claude_agent_sdk as s; s.list_sessions()"``, and the same with
  the import and the ``list_sessions()`` call timed apart inside the process; the same for
  ``list_sessions(directory=...)``;
- on Linux, cold runs of both after the files are dropped from the OS page cache
  (``posix_fadvise(DONTNEED)``, no root needed); otherwise "cold" means claude-chat's cache is
  gone, while the files themselves are still in the page cache since they were just written.

It also checks what ``claude-chat sessions --all --json`` (and the SDK) list against what was
written: the number of sessions, titles (custom title, else AI title, else the first prompt;
for the SDK the last prompt), prompt counts, directories and times, and prints the mismatches.
Bytes read by each listing are taken from ``/proc/self/io`` (Linux).

With the defaults the files take some 700 MB in the temporary directory and the whole run
about two minutes.

Run: python benchmarks/sessions.py [--sessions N] [--runs R] [--seed S]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

VERSION = "2.1.330"
MODEL = "claude-opus-5-5"
REAPPEND_BYTES = 32768  # the CLI writes its session metadata again after this many bytes
DAY = 86400.0
KB = 1024
MB = 1024 * 1024

OTHER_PROJECTS = (
    "/home/dev/src/api-gateway",
    "/home/dev/src/web_frontend",
    "/home/dev/src/infra.terraform",
    "/home/dev/src/data-pipeline",
    "/home/dev/notes",
    "/home/dev/src/mobile-app",
    "/home/dev/src/billing-service",
    "/home/dev/src/ml/experiments",
    "/home/dev/src/docs.site",
    "/home/dev/src/cli-tools",
    "/home/dev/src/auth-server",
    "/home/dev/src/search_indexer",
    "/home/dev/dotfiles",
    "/home/dev/src/game-engine",
    "/home/dev/src/etl.jobs",
    "/tmp/scratch",
    "/home/dev/src/payments-v2",
    "/home/dev/src/monorepo/packages/ui",
    "/home/dev/src/rust-parser",
)

VERBS = (
    "fix",
    "refactor",
    "explain",
    "add tests for",
    "speed up",
    "document",
    "review",
    "rename things in",
    "debug",
    "port to async",
    "simplify",
    "find the bug in",
    "add type hints to",
    "write a migration for",
)
OBJECTS = (
    "the session cache",
    "the retry logic in the HTTP client",
    "`parse_config`",
    "the flaky test in tests/test_api.py",
    "the CSV export",
    "the login form validation",
    "src/render/table.rs",
    "the websocket reconnect",
    "the Dockerfile",
    "the CI workflow",
    "our rate limiter",
    "the billing cron job",
    "the search ranking",
    'the "make lint" target',
    "the date parsing in utils/time.py",
    "the React hook useSession",
    "the SQL query behind the dashboard",
    "die Fehlermeldung beim Import",
    "the Terraform module for the VPC",
    "the README's install section",
)
TAILS = (
    "",
    "",
    "",
    " — it fails on Python 3.10",
    " and keep the public API",
    " please",
    ", the logs are in /tmp/out.log",
    " without touching the tests",
    "; it's been slow since last week",
    " (see issue #{n})",
    " and explain what you changed",
)
FOLLOW_UPS = (
    "ok, now run the tests",
    "that broke the build, look at the error",
    "can you make it shorter?",
    "commit that",
    "why did you change {obj}?",
    "now do the same for {obj}",
    "looks good. what about edge cases?",
    "undo the last change",
    "show me the diff",
    "try again but keep the old behaviour for {obj}",
)
VOCABULARY = (
    "the a session cache request response buffer parser token stream value error retry handler "
    "queue worker config file path line column table row index query result status update "
    "timeout client server build test check lint module import function class method return "
    "async await loop event callback state store commit branch merge diff patch release "
    "über naïve café → ✓ … «quoted» 'single' \"double\" back\\slash tab\there"
)
WORDS = tuple(VOCABULARY.split())
CODE = (
    "def {w}_{v}(items: list[str]) -> int:",
    "    total = 0",
    "    for {w} in items:",
    '        if "{v}" in {w}:',
    "            total += len({w})",
    "    return total",
    "",
    "class {W}Handler:",
    '    """Handle {w} for the {v}."""',
    "    def __init__(self, {w}: str) -> None:",
    "        self.{w} = {w}",
    "fn {w}_{v}(input: &str) -> Result<usize, Error> {{",
    '    let {w} = input.split("\\n").count();',
    "}}",
    "const {w} = await fetch(`/api/{v}?q=${{{w}}}`);",
    "  {w}: {v}  # comment",
    "$ pytest -q tests/test_{w}.py",
    "E   AssertionError: expected '{w}' got '{v}'",
)


@dataclass
class Written:
    """What one session file holds, to check the listings against."""

    session_id: str
    path: Path
    cwd: str
    mtime: float
    prompts: list[str]
    ai_title: str | None
    custom_title: str | None
    commands: int  # user records of slash commands (the command and its output), no prompts
    interruptions: int  # "[Request interrupted by user]" records, no prompts either
    size: int = 0


class Corpus:
    """A megabyte or two of text (prose, code, JSON-escaped characters) to cut payloads from."""

    def __init__(self, rng: random.Random, size: int = 2 * MB) -> None:
        parts: list[str] = []
        length = 0
        while length < size:
            if rng.random() < 0.4:
                lines = [
                    rng.choice(CODE).format(
                        w=rng.choice(WORDS[:60]),
                        v=rng.choice(WORDS[:60]),
                        W=rng.choice(WORDS[:60]).title(),
                    )
                    for _ in range(rng.randint(3, 30))
                ]
                part = "\n".join(lines) + "\n"
            else:
                part = " ".join(rng.choices(WORDS, k=rng.randint(20, 120))) + ".\n\n"
            parts.append(part)
            length += len(part)
        self.text = "".join(parts)

    def cut(self, rng: random.Random, size: int) -> str:
        size = max(1, min(size, len(self.text) - 1))
        start = rng.randrange(len(self.text) - size)
        return self.text[start : start + size]


def iso(seconds: float) -> str:
    return (
        time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))
        + f".{int(seconds % 1 * 1000):03d}Z"
    )


def project_dir_name(cwd: str) -> str:
    """Claude Code's directory name for a working directory (written here independently of
    claude_chat, so that the benchmark would notice if claude_chat got it wrong)."""
    return re.sub(r"[^a-zA-Z0-9]", "-", cwd)


class SessionWriter:
    """Builds one session file's lines, record by record, as the CLI appends them."""

    def __init__(
        self, rng: random.Random, corpus: Corpus, session_id: str, cwd: str, start: float
    ) -> None:
        self.rng = rng
        self.corpus = corpus
        self.session_id = session_id
        self.cwd = cwd
        self.clock = start
        self.branch = rng.choice(("main", "main", "master", "HEAD", "feature/cache", "fix/retry"))
        self.lines: list[str] = []
        self.size = 0
        self.since_reappend = 0
        self.parent: str | None = None
        self.last_prompt: tuple[str, str] | None = None  # text, leaf uuid
        self.custom_title: str | None = None
        self.ai_title: str | None = None

    # -- writing -----------------------------------------------------------------------------

    def uuid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def tick(self, low: float, high: float) -> str:
        self.clock += self.rng.uniform(low, high)
        return iso(self.clock)

    def emit(self, record: dict[str, object], reappend: bool = True) -> None:
        line = json.dumps(record, ensure_ascii=False, separators=(",", ":"))
        self.lines.append(line)
        self.size += len(line) + 1
        self.since_reappend += len(line) + 1
        if reappend and self.since_reappend >= REAPPEND_BYTES:
            self.reappend_metadata()

    def reappend_metadata(self) -> None:
        self.since_reappend = 0
        if self.last_prompt is not None:
            text, leaf = self.last_prompt
            self.meta({"type": "last-prompt", "lastPrompt": text, "leafUuid": leaf})
        if self.custom_title is not None:
            self.meta({"type": "custom-title", "customTitle": self.custom_title})
        if self.ai_title is not None:
            self.meta({"type": "ai-title", "aiTitle": self.ai_title})
        self.meta({"type": "atis-latch", "atis": ""})

    def meta(self, record: dict[str, object]) -> None:
        """A record outside the conversation chain; ``sessionId`` goes last unless the record
        has it already (the CLI puts it second in some kinds)."""
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
                "cwd": self.cwd,
                "sessionId": self.session_id,
                "version": VERSION,
                "gitBranch": self.branch,
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
                "sessionId": self.session_id,
                "hash": f"{self.rng.getrandbits(256):064x}",
                "message": {"role": role, "content": content},
            }
        )

    def api_request(self, base: str | None) -> str:
        request_id = self.uuid()
        self.meta(
            {
                "type": "api-request",
                "sessionId": self.session_id,
                "id": request_id,
                "timestamp": self.tick(0.01, 0.2),
                "version": VERSION,
                "querySource": "repl_main_thread",
                "shapeHash": f"{self.rng.getrandbits(256):064x}",
                "params": {
                    "model": MODEL,
                    "max_tokens": 128000,
                    "thinking": {"type": "adaptive", "display": "updates"},
                    "output_config": {"effort": "medium"},
                },
                **({"base": base} if base else {}),
                "keep": self.rng.randint(0, 40),
                "tail": [f"{self.rng.getrandbits(256):064x}" for _ in range(2)],
                "requestDigest": f"{self.rng.getrandbits(256):064x}",
            }
        )
        return request_id

    def assistant(self, block: dict[str, object], request_id: str, stop: str | None) -> None:
        message = {
            "id": f"msg_{self.rng.getrandbits(96):024x}",
            "type": "message",
            "role": "assistant",
            "model": MODEL,
            "content": [block],
            "stop_reason": stop,
            "stop_sequence": None,
            "usage": {
                "input_tokens": self.rng.randint(3, 60),
                "cache_creation_input_tokens": self.rng.randint(0, 5000),
                "cache_read_input_tokens": self.rng.randint(10000, 150000),
                "output_tokens": self.rng.randint(1, 4000),
                "service_tier": "standard",
            },
        }
        self.entry(
            "assistant",
            {"message": message},
            before={"requestId": f"req_{self.rng.getrandbits(96):024x}", "requestRef": request_id},
            seconds=(0.5, 30.0),
        )

    # -- a session ---------------------------------------------------------------------------

    def first_turn_context(self) -> None:
        """What the CLI records once, with the first prompt: attachments and the request's
        shape (system prompt, tool schemas), some 80 KB in all."""
        c, rng = self.corpus, self.rng
        env = (
            f"# Environment\n - Primary working directory: {self.cwd}\n - Platform: linux\n"
            + c.cut(rng, 900)
        )
        self.attachment(
            {
                "type": "environment",
                "snapshot": {"workingDirectory": self.cwd, "platform": "linux"},
            },
            env,
        )
        self.attachment({"type": "model", "model": MODEL}, f"You are powered by {MODEL}.")
        self.attachment(
            {"type": "deferred_tools_delta", "added": ["WebFetch", "WebSearch", "NotebookEdit"]},
            c.cut(rng, 900),
        )
        skills = [f"- {w}: {c.cut(rng, rng.randint(100, 400))}" for w in WORDS[:40]]
        self.attachment({"type": "skill_listing", "skills": skills}, "\n".join(skills))
        self.attachment({"type": "date", "date": iso(self.clock)[:10]}, "Today's date.")
        prompt = [c.cut(rng, rng.randint(300, 1500)) for _ in range(8)]
        self.attachment({"type": "prompt_snapshot", "systemPrompt": prompt})
        tools = [
            {
                "name": name,
                "description": c.cut(rng, rng.randint(1000, 4000)),
                "input_schema": {"type": "object", "properties": {"x": {"type": "string"}}},
            }
            for name in ("Bash", "Read", "Edit", "Write", "Grep", "Glob", "Agent", "TodoWrite")
        ]
        system = [{"type": "text", "text": c.cut(rng, 12000)}]
        self.meta(
            {
                "type": "api-request-shape",
                "sessionId": self.session_id,
                "shapeHash": f"{rng.getrandbits(256):064x}",
                "timestamp": iso(self.clock),
                "version": VERSION,
                "shape": {"system": system, "tools": tools},
            }
        )
        self.blob("system", [{"type": "text", "text": c.cut(rng, rng.randint(6000, 10000))}])

    def prompt(self, text: str, first: bool) -> None:
        rng = self.rng
        self.meta(
            {
                "type": "queue-operation",
                "operation": "enqueue",
                "timestamp": self.tick(5, 600),
                "content": text,
            }
        )
        self.meta({"type": "queue-operation", "operation": "dequeue", "timestamp": iso(self.clock)})
        content: object = text if rng.random() < 0.9 else [{"type": "text", "text": text}]
        leaf = self.entry(
            "user",
            {"message": {"role": "user", "content": content}},
            before={"promptId": self.uuid()},
            after={"permissionMode": rng.choice(("default", "acceptEdits", "plan"))},
        )
        self.last_prompt = (text, leaf)
        if first:
            self.first_turn_context()
        elif rng.random() < 0.2:
            self.attachment(
                {"type": "edited_text_file", "filename": f"{self.cwd}/src/{rng.choice(WORDS)}.py"},
                self.corpus.cut(rng, rng.randint(200, 3000)),
            )
        self.blob("user", [{"type": "text", "text": text}])

    def slash_command(self) -> None:
        """A local command (/model) before the first prompt: three user records, no prompt."""
        caveat = (
            "<local-command-caveat>Caveat: The messages below were generated by the user while "
            "running local commands. DO NOT respond to these messages or otherwise consider them "
            "in your response unless the user explicitly asks you to.</local-command-caveat>"
        )
        self.entry("user", {"message": {"role": "user", "content": caveat}, "isMeta": True})
        command = (
            "<command-name>/model</command-name>\n            <command-message>model"
            "</command-message>\n            <command-args>opus</command-args>"
        )
        self.entry("user", {"message": {"role": "user", "content": command}})
        output = "<local-command-stdout>Set model to \x1b[1mopus\x1b[22m</local-command-stdout>"
        self.entry("user", {"message": {"role": "user", "content": output}})

    def interruption(self) -> None:
        text = "[Request interrupted by user]"
        self.entry(
            "user", {"message": {"role": "user", "content": [{"type": "text", "text": text}]}}
        )

    def tool_call(self, result_size: int, request_id: str) -> str:
        """One tool call and its result; the result's text appears three times in the file, as
        in real ones: in the tool_result, in ``toolUseResult`` and in the next request's blob."""
        c, rng = self.corpus, self.rng
        tool_id = f"toolu_{rng.getrandbits(96):024x}"
        kind = rng.choice(("Bash", "Read", "Read", "Grep", "Edit"))
        path = f"{self.cwd}/src/{rng.choice(WORDS[:60])}_{rng.choice(WORDS[:60])}.py"
        output = c.cut(rng, result_size)
        tool_input: dict[str, object]
        tool_result: dict[str, object]
        if kind == "Bash":
            tool_input = {"command": f"pytest -q tests/ -k {rng.choice(WORDS[:60])}"}
            tool_result = {"stdout": output, "stderr": "", "interrupted": False, "isImage": False}
        elif kind == "Read":
            tool_input = {"file_path": path}
            lines = output.count("\n") + 1
            tool_result = {
                "type": "text",
                "file": {"filePath": path, "content": output, "numLines": lines, "startLine": 1},
            }
        elif kind == "Grep":
            tool_input = {"pattern": rng.choice(WORDS[:60]), "output_mode": "content"}
            tool_result = {"mode": "content", "content": output, "numLines": output.count("\n")}
        else:
            old, new = c.cut(rng, 300), c.cut(rng, 400)
            tool_input = {"file_path": path, "old_string": old, "new_string": new}
            tool_result = {
                "filePath": path,
                "oldString": old,
                "newString": new,
                "originalFile": output,
            }
            output = f"The file {path} has been updated."
        use: dict[str, object] = {
            "type": "tool_use",
            "id": tool_id,
            "name": kind,
            "input": tool_input,
        }
        self.assistant(use, request_id, "tool_use")
        result: dict[str, object] = {
            "tool_use_id": tool_id,
            "type": "tool_result",
            "content": output,
        }
        self.entry(
            "user",
            {"message": {"role": "user", "content": [result]}},
            after={"toolUseResult": tool_result, "sourceToolAssistantUUID": self.parent},
            seconds=(0.2, 20.0),
        )
        self.blob("assistant", [use])
        self.blob("user", [result])
        return self.api_request(request_id)

    def turn(self, text: str, first: bool, budget: int) -> None:
        rng = self.rng
        self.prompt(text, first)
        answer = rng.randint(80, 2500)
        tools = min(12, rng.randint(0, 3) + budget // 40000)
        spare = max(0, budget - 2 * answer - tools * 1500) // 3
        weights = [rng.random() + 0.1 for _ in range(tools)]
        request_id = self.api_request(None)
        for weight in weights:
            size = max(40, min(400 * KB, int(spare * weight / sum(weights))))
            request_id = self.tool_call(size, request_id)
        if tools == 0 and spare > answer:
            answer = min(spare, 30 * KB)
        if rng.random() < 0.3:
            thinking: dict[str, object] = {
                "type": "thinking",
                "thinking": self.corpus.cut(rng, rng.randint(200, 3000)),
                "signature": f"{rng.getrandbits(512):0128x}",
            }
            self.assistant(thinking, request_id, None)
        answer_block: dict[str, object] = {"type": "text", "text": self.corpus.cut(rng, answer)}
        self.assistant(answer_block, request_id, "end_turn")
        self.blob("assistant", [answer_block])


def make_prompt(rng: random.Random, first: bool) -> str:
    obj = rng.choice(OBJECTS)
    if first or rng.random() < 0.4:
        tail = rng.choice(TAILS).format(n=rng.randint(10, 999))
        return f"{rng.choice(VERBS)} {obj}{tail}"
    return rng.choice(FOLLOW_UPS).format(obj=obj)


def make_session(
    rng: random.Random, corpus: Corpus, path_for: Callable[[str, str], Path], cwd: str, now: float
) -> tuple[Written, list[str]]:
    large = rng.random() < 0.03
    if large:
        target = int(rng.uniform(2, 5) * MB)
        turns = rng.randint(20, 60)
    else:
        target = int(min(1.5 * MB, max(50 * KB, rng.lognormvariate(math.log(170 * KB), 0.6))))
        turns = max(1, min(60, round(rng.lognormvariate(math.log(6), 0.9))))
    start = now - rng.uniform(0.05, 180) * DAY - turns * 1800
    session_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
    writer = SessionWriter(rng, corpus, session_id, cwd, start)
    prompts = [make_prompt(rng, i == 0) for i in range(turns)]
    ai_title = None
    if rng.random() < 0.85:
        ai_title = f"{rng.choice(VERBS).capitalize()} {rng.choice(OBJECTS)}"
        writer.ai_title = ai_title
        writer.meta({"type": "ai-title", "aiTitle": ai_title})
    commands = interruptions = 0
    if rng.random() < 0.08:
        writer.slash_command()
        commands += 2
    rename_at = rng.randrange(turns) if rng.random() < 0.06 else None
    budget = max(0, target - 80 * KB)
    weights = [rng.random() + 0.2 for _ in range(turns)]
    for index, text in enumerate(prompts):
        if index == rename_at:
            writer.custom_title = f"wip: {rng.choice(OBJECTS)} ({rng.randint(1, 99)})"
            writer.meta({"type": "custom-title", "customTitle": writer.custom_title})
        writer.turn(text, index == 0, int(budget * weights[index] / sum(weights)))
        if index < turns - 1 and rng.random() < 0.02:
            writer.interruption()
            interruptions += 1
        text_leaf = writer.last_prompt
        assert text_leaf is not None
        writer.meta({"type": "last-prompt", "lastPrompt": text_leaf[0], "leafUuid": text_leaf[1]})
    if rng.random() < 0.7:  # a clean exit
        writer.meta(
            {
                "type": "cost-state",
                "sessionId": session_id,
                "totalCostUSD": round(rng.uniform(0.01, 30), 4),
            }
        )
    written = Written(
        session_id=session_id,
        path=path_for(cwd, session_id),
        cwd=cwd,
        mtime=writer.clock,
        prompts=prompts,
        ai_title=ai_title,
        custom_title=writer.custom_title,
        commands=commands,
        interruptions=interruptions,
    )
    return written, writer.lines


def generate(home: Path, here: str, count: int, seed: int) -> list[Written]:
    rng = random.Random(seed)
    corpus = Corpus(rng)
    projects = home / ".claude" / "projects"
    others = list(OTHER_PROJECTS)
    weights = [1 / (i + 1) ** 0.8 for i in range(len(others))]
    now = time.time()

    def path_for(cwd: str, session_id: str) -> Path:
        return projects / project_dir_name(cwd) / f"{session_id}.jsonl"

    written: list[Written] = []
    for _ in range(count):
        cwd = here if rng.random() < 0.15 else rng.choices(others, weights)[0]
        session, lines = make_session(rng, corpus, path_for, cwd, now)
        session.path.parent.mkdir(parents=True, exist_ok=True)
        data = ("\n".join(lines) + "\n").encode()
        session.path.write_bytes(data)
        session.size = len(data)
        os.utime(session.path, (session.mtime, session.mtime))
        written.append(session)
    return written


# -- measuring ---------------------------------------------------------------------------------


@dataclass
class Figure:
    label: str
    seconds: list[float] = field(default_factory=list)
    versus: str | None = None  # the label of the SDK figure it compares with

    @property
    def median(self) -> float:
        return statistics.median(self.seconds) if self.seconds else math.nan


class Bench:
    def __init__(self, home: Path, here: Path, runs: int) -> None:
        self.home = home
        self.here = here
        self.runs = runs
        self.cache = home / "data" / "sessions-cache.json"
        self.env = {
            k: v for k, v in os.environ.items() if not k.startswith(("ANTHROPIC_", "CLAUDE"))
        }
        self.env.update(HOME=str(home), CLAUDE_CHAT_DATA_DIR=str(home / "data"))
        self.figures: dict[str, Figure] = {}
        self.failures: list[str] = []
        self.disk_reads: dict[str, list[float]] = {}

    def run(self, argv: Sequence[str], cwd: Path | None = None) -> tuple[float, str, float]:
        """Wall time, stdout, and MB read from disk (not the page cache) by the child."""
        before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_inblock
        started = time.perf_counter()
        done = subprocess.run(
            list(argv),
            cwd=cwd or self.here,
            env=self.env,
            capture_output=True,
            text=True,
            check=False,
        )
        elapsed = time.perf_counter() - started
        blocks = resource.getrusage(resource.RUSAGE_CHILDREN).ru_inblock - before
        if done.returncode != 0:
            self.failures.append(f"{' '.join(argv[-4:])}: exit {done.returncode}: {done.stderr}")
        return elapsed, done.stdout, blocks * 512 / MB

    def figure(self, label: str, versus: str | None = None) -> Figure:
        return self.figures.setdefault(label, Figure(label, versus=versus))

    def time(
        self,
        label: str,
        argv: Sequence[str],
        before: Callable[[], None] | None = None,
        cwd: Path | None = None,
        versus: str | None = None,
        split: tuple[str, str] | None = None,
    ) -> None:
        """R runs of a command. With ``split``, the command prints two in-process times (import,
        call) that are recorded under those labels too."""
        figure = self.figure(label, versus)
        for _ in range(self.runs):
            if before is not None:
                before()
            elapsed, out, read_mb = self.run(argv, cwd)
            figure.seconds.append(elapsed)
            self.disk_reads.setdefault(label, []).append(read_mb)
            if split is not None:
                try:
                    imported, called = (float(x) for x in out.split()[:2])
                except ValueError:
                    self.failures.append(f"{label}: unexpected output {out[:200]!r}")
                    continue
                self.figure(split[0]).seconds.append(imported)
                self.figure(split[1], versus).seconds.append(called)

    def drop_cache_file(self) -> None:
        self.cache.unlink(missing_ok=True)


def evict(paths: Sequence[Path]) -> None:
    """Drop the files' pages from the OS page cache (they were synced first)."""
    for path in paths:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(fd)


def bytes_read(bench: Bench, code: str, cwd: Path | None = None) -> float:
    """MB the process read (``rchar``: from files, page cache included, imports too)."""
    wrapped = (
        "import atexit, sys\n"
        "atexit.register(lambda: sys.stderr.write(open('/proc/self/io').read()))\n" + code
    )
    done = subprocess.run(
        [sys.executable, "-c", wrapped],
        cwd=cwd or bench.here,
        env=bench.env,
        capture_output=True,
        text=True,
        check=False,
    )
    match = re.search(r"^rchar: (\d+)$", done.stderr, re.M)
    return int(match.group(1)) / MB if match else math.nan


CC_MAIN = (
    "import runpy, sys\n"
    "sys.argv = ['claude-chat', 'sessions', {args}]\n"
    "runpy.run_module('claude_chat', run_name='__main__')\n"
)
CC_SPLIT = (
    "import time\n"
    "t0 = time.perf_counter()\n"
    "from claude_chat import sessions\n"
    "from claude_chat.engine.config import data_dir\n"
    "t1 = time.perf_counter()\n"
    "found = sessions.list_sessions(None, data_dir() / 'sessions-cache.json')\n"
    "t2 = time.perf_counter()\n"
    "print(t1 - t0, t2 - t1, len(found))\n"
)
SDK_PLAIN = "import claude_agent_sdk as s; s.list_sessions()"
SDK_SPLIT = (
    "import time\n"
    "t0 = time.perf_counter()\n"
    "import claude_agent_sdk as s\n"
    "t1 = time.perf_counter()\n"
    "found = s.list_sessions({args})\n"
    "t2 = time.perf_counter()\n"
    "print(t1 - t0, t2 - t1, len(found))\n"
)
SDK_DUMP = (
    "import json, claude_agent_sdk as s\n"
    "print(json.dumps([[i.session_id, i.summary, i.cwd] for i in s.list_sessions()]))\n"
)


# -- checking ----------------------------------------------------------------------------------


def check(listed_json: str, sdk_json: str, written: Sequence[Written]) -> list[str]:
    """What the listings show against what was written; a line per kind of mismatch."""
    notes: list[str] = []
    by_id = {w.session_id: w for w in written}
    try:
        rows = json.loads(listed_json)
    except ValueError:
        return [f"claude-chat --json printed no JSON: {listed_json[:200]!r}"]
    ids = [r["id"] for r in rows]
    missing = set(by_id) - set(ids)
    notes.append(
        f"claude-chat --all --json: {len(rows)} sessions listed of {len(written)} written"
        + (f"; missing {len(missing)}" if missing else "")
        + (f"; {len(ids) - len(set(ids))} listed twice" if len(ids) != len(set(ids)) else "")
    )
    times = [r["last_active"] for r in rows]
    if times != sorted(times, reverse=True):
        notes.append("  not sorted newest first")
    title_misses: dict[str, list[str]] = {}
    turn_misses: dict[str, int] = {}
    bad_cwd = bad_time = 0
    for row in rows:
        w = by_id.get(row["id"])
        if w is None:
            continue
        expected = w.custom_title or w.ai_title or w.prompts[0]
        if row["title"] != " ".join(expected.split()):
            if w.custom_title:
                kind = "custom title"
            elif w.ai_title and row["title"] == w.prompts[0]:
                kind = "AI title missed, first prompt shown"
            else:
                kind = "other"
            sample = f"{w.session_id[:8]} ({w.size // KB} KB): {row['title']!r} != {expected!r}"
            title_misses.setdefault(kind, []).append(sample)
        extra = row["turns"] - len(w.prompts)
        if extra:
            if w.interruptions and extra == w.interruptions:
                why = 'more by exactly its "[Request interrupted by user]" records'
            elif w.commands and extra == w.commands:
                why = "more by exactly its slash-command records"
            elif w.commands and extra == w.commands + w.interruptions:
                why = "more by exactly its slash-command and interruption records"
            else:
                why = "some other difference"
            turn_misses[why] = turn_misses.get(why, 0) + 1
        if row["cwd"] != w.cwd:
            bad_cwd += 1
        if row["last_active"] != time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(w.mtime)):
            bad_time += 1
    for kind, samples in title_misses.items():
        notes.append(f"  title wrong in {len(samples)} sessions ({kind}), e.g. {samples[0]}")
    if not title_misses:
        notes.append("  titles: all as expected (custom title, else AI title, else first prompt)")
    for why, count in turn_misses.items():
        notes.append(f"  turns differ from the prompts typed in {count} sessions: {why}")
    if not turn_misses:
        notes.append("  turns: all equal to the prompts typed")
    if bad_cwd or bad_time:
        notes.append(f"  directory wrong in {bad_cwd}, last active wrong in {bad_time}")
    try:
        sdk_rows = json.loads(sdk_json)
    except ValueError:
        return [*notes, f"SDK listing printed no JSON: {sdk_json[:200]!r}"]
    sdk_wrong = [
        (sid, summary)
        for sid, summary, _ in sdk_rows
        if sid in by_id
        and summary
        != " ".join(
            (by_id[sid].custom_title or by_id[sid].ai_title or by_id[sid].prompts[-1]).split()
        )
    ]
    notes.append(
        f"SDK list_sessions(): {len(sdk_rows)} sessions; summary (custom title, else AI title, "
        f"else last prompt) wrong in {len(sdk_wrong)}"
    )
    return notes


# -- report ------------------------------------------------------------------------------------


def table(figures: Sequence[Figure], sdk: dict[str, Figure]) -> list[str]:
    lines = [f"{'figure':<66} {'median s':>9} {'min':>7} {'max':>7} {'vs SDK':>7}"]
    for f in figures:
        if not f.seconds:
            continue
        ref = sdk.get(f.versus or "")
        ratio = f"{f.median / ref.median:6.2f}x" if ref and ref.median else ""
        lines.append(
            f"{f.label:<66} {f.median:9.3f} {min(f.seconds):7.3f} {max(f.seconds):7.3f} {ratio:>7}"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--sessions", type=int, default=2000, help="session files to write")
    parser.add_argument("--runs", type=int, default=5, help="runs per figure (median shown)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    py = sys.executable
    began = time.perf_counter()
    can_evict = hasattr(os, "posix_fadvise") and sys.platform.startswith("linux")

    with tempfile.TemporaryDirectory(prefix="claude-chat-bench-") as tmp:
        home = Path(tmp).resolve()
        here = home / "work" / "claude-chat-bench"
        here.mkdir(parents=True)
        started = time.perf_counter()
        written = generate(home, str(here), args.sessions, args.seed)
        generated = time.perf_counter() - started
        paths = [w.path for w in written]
        sizes = sorted(w.size for w in written)
        on_disk = sum(os.stat(p).st_blocks * 512 for p in paths)
        directories = {w.cwd for w in written}
        in_here = sum(w.cwd == str(here) for w in written)
        turns = sorted(len(w.prompts) for w in written)

        bench = Bench(home, here, args.runs)
        all_cold = "claude-chat sessions --all, cold (cache file deleted)"
        all_warm = "claude-chat sessions --all, warm (cache present)"
        here_cold = "claude-chat sessions (this directory), cold"
        here_warm = "claude-chat sessions (this directory), warm"
        json_warm = "claude-chat sessions --all --json, warm"
        cc_import = "  in process: import claude_chat.store.sessions"
        cc_cold_call = "  in process: list_sessions() call, all, cold"
        cc_warm_call = "  in process: list_sessions() call, all, warm"
        sdk_all = 'SDK: python -c "import claude_agent_sdk as s; s.list_sessions()"'
        sdk_import = "  SDK in process: import claude_agent_sdk"
        sdk_call = "  SDK in process: list_sessions() call, all"
        sdk_here = "SDK: list_sessions(directory=this directory), whole process"
        sdk_here_call = "  SDK in process: list_sessions(directory=...) call"
        floor = "python -c pass (interpreter start: the floor)"
        all_evicted = "claude-chat sessions --all, cold, files evicted from page cache"
        sdk_evicted = "SDK: list_sessions(), files evicted from page cache"
        cli = [py, "-m", "claude_chat", "sessions"]
        sdk_split = SDK_SPLIT.format(args="")
        warm_up = bench.run  # one untimed run leaves the cache (and the files) warm

        bench.time(floor, [py, "-c", "pass"])
        bench.time(all_cold, [*cli, "--all"], before=bench.drop_cache_file, versus=sdk_all)
        warm_up([*cli, "--all"])
        bench.time(all_warm, [*cli, "--all"], versus=sdk_all)
        bench.time(json_warm, [*cli, "--all", "--json"], versus=sdk_all)
        bench.time(here_cold, cli, before=bench.drop_cache_file, versus=sdk_here)
        warm_up(cli)
        bench.time(here_warm, cli, versus=sdk_here)
        bench.time(
            "claude_chat in process (cold): whole process",
            [py, "-c", CC_SPLIT],
            before=bench.drop_cache_file,
            versus=sdk_all,
            split=(cc_import, cc_cold_call),
        )
        bench.time(
            "claude_chat in process (warm): whole process",
            [py, "-c", CC_SPLIT],
            versus=sdk_all,
            split=(cc_import, cc_warm_call),
        )
        bench.time(sdk_all, [py, "-c", SDK_PLAIN], versus=sdk_all)
        bench.time(
            "SDK, timed inside: whole process",
            [py, "-c", sdk_split],
            versus=sdk_all,
            split=(sdk_import, sdk_call),
        )
        bench.figures[sdk_call].versus = sdk_call
        bench.figures[cc_cold_call].versus = sdk_call
        bench.figures[cc_warm_call].versus = sdk_call
        bench.time(
            sdk_here,
            [py, "-c", SDK_SPLIT.format(args=f"directory={str(here)!r}")],
            versus=sdk_here,
            split=(sdk_import, sdk_here_call),
        )
        bench.figures[sdk_here_call].versus = sdk_here_call
        if can_evict:
            os.sync()

            def cold_and_evicted() -> None:
                bench.drop_cache_file()
                evict(paths)

            bench.time(all_evicted, [*cli, "--all"], before=cold_and_evicted, versus=sdk_evicted)
            bench.time(sdk_evicted, [py, "-c", SDK_PLAIN], before=lambda: evict(paths))
            bench.figures[all_evicted].versus = sdk_evicted
            bench.figures[sdk_evicted].versus = sdk_evicted

        # What is shown, checked against what was written; then bytes read per listing.
        bench.drop_cache_file()
        _, listed_cold, _ = bench.run([*cli, "--all", "--json"])
        _, listed_warm, _ = bench.run([*cli, "--all", "--json"])
        _, sdk_dump, _ = bench.run([py, "-c", SDK_DUMP])
        _, sample, _ = bench.run(cli)
        notes = check(listed_cold, sdk_dump, written)
        if listed_warm != listed_cold:
            notes.append("  warm --json output differs from the cold one")
        reads: list[tuple[str, float]] = []
        if Path("/proc/self/io").exists():
            bench.drop_cache_file()
            listing = CC_MAIN.format(args="'--all'")
            reads.append(("claude-chat --all, cold", bytes_read(bench, listing)))
            reads.append(("claude-chat --all, warm", bytes_read(bench, listing)))
            reads.append(("SDK list_sessions()", bytes_read(bench, SDK_PLAIN)))
            reads.append(("python -c pass", bytes_read(bench, "pass")))

    total = time.perf_counter() - began
    order = [
        floor,
        all_cold,
        all_warm,
        json_warm,
        here_cold,
        here_warm,
        "claude_chat in process (cold): whole process",
        cc_import,
        cc_cold_call,
        "claude_chat in process (warm): whole process",
        cc_warm_call,
        sdk_all,
        "SDK, timed inside: whole process",
        sdk_import,
        sdk_call,
        sdk_here,
        sdk_here_call,
        all_evicted,
        sdk_evicted,
    ]
    figures = [bench.figures[label] for label in order if label in bench.figures]

    def pct(values: Sequence[int], q: float) -> int:
        return values[min(len(values) - 1, int(q * len(values)))]

    print(
        f"sessions: {len(written)} in {len(directories)} project directories "
        f"({in_here} in this directory); {sum(sizes) / MB:.1f} MB ({on_disk / MB:.1f} MB on disk)"
    )
    print(
        f"file size: median {statistics.median(sizes) / KB:.0f} KB, p90 {pct(sizes, 0.9) / KB:.0f}"
        f" KB, max {sizes[-1] / MB:.1f} MB; {sum(s >= 2 * MB for s in sizes)} files of 2 MB or"
        f" more; prompts per session: median {statistics.median(turns):.0f}, max {turns[-1]}"
    )
    print(f"generated in {generated:.1f} s (seed {args.seed})")
    print(f"runs per figure: {args.runs}; 'vs SDK': median / the matching SDK figure's median")
    if can_evict:
        print(
            "cold = claude-chat's cache file deleted; the session files are still in the OS page "
            "cache (just written) except in the 'evicted' rows (posix_fadvise DONTNEED)"
        )
    else:
        print("cold = claude-chat's cache file deleted; the files are still in the OS page cache")
    print()
    print("\n".join(table(figures, bench.figures)))
    target = bench.figures[all_cold].median
    print()
    print(
        f"target 'sessions --all' under 1 s: cold {target:.3f} s, warm "
        f"{bench.figures[all_warm].median:.3f} s -> {'met' if target < 1 else 'NOT met'} (cold)"
    )
    for label in (all_evicted, sdk_evicted):
        if label in bench.disk_reads:
            mb = statistics.median(bench.disk_reads[label])
            print(f"read from disk per run ({label}): median {mb:.1f} MB")
    if reads:
        print(
            "bytes read per process (rchar, imports included): "
            + "; ".join(f"{name} {mb:.1f} MB" for name, mb in reads)
        )
    print()
    print("\n".join(notes))
    print()
    print("`claude-chat sessions` in this directory, first lines:")
    print("\n".join("  " + line for line in sample.splitlines()[:6]))
    if bench.failures:
        print()
        print(f"{len(bench.failures)} failed runs, e.g.:")
        print("\n".join(bench.failures[:3]))
    print(f"\nbenchmark ran {total:.0f} s")


if __name__ == "__main__":
    main()
