"""Synthetic Claude Code session files, shaped like the ones the real CLI writes, for the
benchmarks: many sessions of all sizes for listing (``write_many``), one long session for
exporting (``write_long``). Everything comes from ``random.Random(seed)``.

A session is ``~/.claude/projects/<cwd-key>/<uuid>.jsonl`` with the records the CLI writes:

- ``ai-title``, ``queue-operation``, ``user`` (a typed prompt, a string or a text block; now
  and then a slash command with its caveat and output, or an interruption), ``attachment``
  (a big context with the first prompt: environment, skill listing, system prompt snapshot;
  later an edited file or the date), ``api-request-shape`` once, ``api-request-blob`` (the new
  messages of each request: prompts, answers, tool calls and their full results),
  ``api-request``, ``assistant`` (thinking, text, ``tool_use``: one record per content block,
  the blocks of one response sharing its ``message.id`` and ``usage``), ``user`` tool results
  (with ``toolUseResult``: the output a second time), ``last-prompt``, sometimes a
  ``custom-title`` (a rename), and ``cost-state`` at a clean exit;
- the metadata re-append of the real CLI: ``last-prompt``, ``custom-title`` and ``ai-title``
  written again once 32 KB have been appended since the last time;
- every conversation record chained by ``parentUuid``.
"""

from __future__ import annotations

import json
import math
import os
import random
import re
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
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
# Code by language, so that answers can fence it and the HTML export highlight it.
CODE = {
    "python": (
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
    "yaml": ("  {w}: {v}  # comment",),
}
ALL_CODE = tuple(line for lines in CODE.values() for line in lines)


@dataclass
class Written:
    """What one session file holds, to check what is read back against."""

    session_id: str
    path: Path
    cwd: str
    mtime: float
    prompts: list[str]
    ai_title: str | None
    custom_title: str | None
    commands: int  # user records of slash commands (the command and its output), no prompts
    interruptions: int  # "[Request interrupted by user]" records, no prompts either
    records: int = 0
    tool_calls: int = 0
    cut_results: int = 0  # tool results over the 20 KB that transcripts cut
    size: int = 0


def code_lines(rng: random.Random, count: int, language: str | None = None) -> list[str]:
    lines = CODE[language] if language else ALL_CODE
    return [
        rng.choice(lines).format(
            w=rng.choice(WORDS[:60]), v=rng.choice(WORDS[:60]), W=rng.choice(WORDS[:60]).title()
        )
        for _ in range(count)
    ]


class Corpus:
    """A megabyte or two of text (prose, code, JSON-escaped characters) to cut payloads from."""

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


def iso(seconds: float) -> str:
    return (
        time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))
        + f".{int(seconds % 1 * 1000):03d}Z"
    )


def project_dir_name(cwd: str) -> str:
    """Claude Code's directory name for a working directory (written here independently of
    claude_chat, so that a benchmark would notice if claude_chat got it wrong)."""
    return re.sub(r"[^a-zA-Z0-9]", "-", cwd)


def make_prompt(rng: random.Random, first: bool) -> str:
    obj = rng.choice(OBJECTS)
    if first or rng.random() < 0.4:
        tail = rng.choice(TAILS).format(n=rng.randint(10, 999))
        return f"{rng.choice(VERBS)} {obj}{tail}"
    return rng.choice(FOLLOW_UPS).format(obj=obj)


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
        self.tool_calls = 0
        self.cut_results = 0

    # -- records -----------------------------------------------------------------------------

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

    def response(self, blocks: Sequence[dict[str, object]], request_id: str, stop: str) -> None:
        """One API response: a record per content block, sharing the message's id and usage."""
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

    # -- a conversation ----------------------------------------------------------------------

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
        self.tool_calls += 1
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
        self.cut_results += len(output.encode()) > 20_000
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
            after={"toolUseResult": tool_result, "sourceToolAssistantUUID": self.parent},
            seconds=(0.2, 20.0),
        )
        self.blob("assistant", [use])
        self.blob("user", [result])
        return self.api_request(request_id)

    def markdown(self) -> str:
        """An answer as answers are: paragraphs, a list, now and then a code fence."""
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

    def turn(self, text: str, first: bool, result_sizes: Sequence[int], answer: str) -> None:
        """A prompt, its tool calls (a result of each size), maybe thinking, and the answer."""
        rng = self.rng
        self.prompt(text, first)
        request_id = self.api_request(None)
        for size in result_sizes:
            request_id = self.tool_call(size, request_id)
        blocks: list[dict[str, object]] = []
        if rng.random() < 0.3:
            blocks.append(
                {
                    "type": "thinking",
                    "thinking": self.corpus.cut(rng, rng.randint(200, 3000)),
                    "signature": f"{rng.getrandbits(512):0128x}",
                }
            )
        blocks.append({"type": "text", "text": answer})
        self.response(blocks, request_id, "end_turn")
        self.blob("assistant", blocks)
        assert self.last_prompt is not None
        text, leaf = self.last_prompt
        self.meta({"type": "last-prompt", "lastPrompt": text, "leafUuid": leaf})

    def written(self, prompts: list[str], commands: int, interruptions: int) -> Written:
        return Written(
            session_id=self.session_id,
            path=Path(),
            cwd=self.cwd,
            mtime=self.clock,
            prompts=prompts,
            ai_title=self.ai_title,
            custom_title=self.custom_title,
            commands=commands,
            interruptions=interruptions,
            records=len(self.lines),
            tool_calls=self.tool_calls,
            cut_results=self.cut_results,
        )


def _save(projects: Path, writer: SessionWriter, written: Written) -> Written:
    written.path = projects / project_dir_name(writer.cwd) / f"{writer.session_id}.jsonl"
    written.path.parent.mkdir(parents=True, exist_ok=True)
    data = ("\n".join(writer.lines) + "\n").encode()
    written.path.write_bytes(data)
    written.size = len(data)
    os.utime(written.path, (written.mtime, written.mtime))
    return written


def _listing_session(
    rng: random.Random, corpus: Corpus, cwd: str, now: float
) -> tuple[SessionWriter, Written]:
    """A session as they come: 1 to 60 prompts, median size around 230 KB, 3 % of 2 to 5 MB,
    results sized to fill the size drawn; an AI title in most, a rename, a slash command or
    an interruption in a few."""
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
    if rng.random() < 0.85:
        writer.ai_title = f"{rng.choice(VERBS).capitalize()} {rng.choice(OBJECTS)}"
        writer.meta({"type": "ai-title", "aiTitle": writer.ai_title})
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
        turn_budget = int(budget * weights[index] / sum(weights))
        answer = rng.randint(80, 2500)
        tools = min(12, rng.randint(0, 3) + turn_budget // 40000)
        spare = max(0, turn_budget - 2 * answer - tools * 1500) // 3
        shares = [rng.random() + 0.1 for _ in range(tools)]
        sizes = [max(40, min(400 * KB, int(spare * share / sum(shares)))) for share in shares]
        if tools == 0 and spare > answer:
            answer = min(spare, 30 * KB)
        writer.turn(text, index == 0, sizes, corpus.cut(rng, answer))
        if index < turns - 1 and rng.random() < 0.02:
            writer.interruption()
            interruptions += 1
    if rng.random() < 0.7:  # a clean exit
        writer.meta(
            {
                "type": "cost-state",
                "sessionId": session_id,
                "totalCostUSD": round(rng.uniform(0.01, 30), 4),
            }
        )
    return writer, writer.written(prompts, commands, interruptions)


def write_many(home: Path, here: str, count: int, seed: int) -> list[Written]:
    """``count`` sessions of all sizes in 20 project directories, one of them ``here`` (about
    15 % of the sessions), modification times spread over six months."""
    rng = random.Random(seed)
    corpus = Corpus(rng)
    projects = home / ".claude" / "projects"
    others = list(OTHER_PROJECTS)
    weights = [1 / (i + 1) ** 0.8 for i in range(len(others))]
    now = time.time()
    written: list[Written] = []
    for _ in range(count):
        cwd = here if rng.random() < 0.15 else rng.choices(others, weights)[0]
        writer, session = _listing_session(rng, corpus, cwd, now)
        written.append(_save(projects, writer, session))
    return written


def write_long(home: Path, turns: int, seed: int, cwd: str) -> Written:
    """One session of ``turns`` turns, each prompt numbered (so no two are alike), answers in
    markdown with fenced code, 0 to 4 tool calls a turn with results of 40 B to 60 KB (median
    about 3 KB, a few over the 20 KB that transcripts cut)."""
    rng = random.Random(seed)
    session_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
    corpus = Corpus(rng)
    writer = SessionWriter(rng, corpus, session_id, cwd, time.time() - turns * 900)
    writer.ai_title = "Fix the billing cron job"
    writer.meta({"type": "ai-title", "aiTitle": writer.ai_title})
    prompts = []
    for index in range(turns):
        text = f"{make_prompt(rng, index == 0)} (#{index + 1})"
        prompts.append(text)
        sizes = [
            int(min(60 * KB, max(40, rng.lognormvariate(8.0, 1.2))))
            for _ in range(rng.choice((0, 0, 1, 1, 2, 3, 4)))
        ]
        writer.turn(text, index == 0, sizes, writer.markdown())
    writer.meta({"type": "cost-state", "totalCostUSD": round(rng.uniform(5, 80), 4)})
    return _save(home / ".claude" / "projects", writer, writer.written(prompts, 0, 0))
