"""A conversation as turns, for people (markdown) and programs (JSON).

A transcript is read from the session store (through ``claude_agent_sdk``), so every turn is
in it, including those from before this process or from Claude Code itself; what the store
does not keep (cost, time to first token) comes from the turns this process ran.

The JSON form is ``"format": "claude-chat-transcript/1"``, described in the README; loading
it back gives the same ``Transcript``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal

from claude_chat import __version__
from claude_chat.engine.errors import ChatError
from claude_chat.engine.events import ToolCall, TurnResult, Usage
from claude_chat.engine.secrets import Redactor
from claude_chat.engine.text import tool_call_summary
from claude_chat.store.records import is_interruption, message_blocks, prompt_text, result_text

FORMAT = "claude-chat-transcript/1"
COMPACTION_NOTE = (
    "The conversation was compacted here: Claude Code replaced what came before by a summary."
)
# Tool results above this many bytes are cut, with a note of how much.
RESULT_LIMIT = 20_000

ItemKind = Literal["text", "thinking", "tool"]


class TranscriptError(ChatError):
    """A transcript could not be read or written; the message says why in one line."""


@dataclass
class Item:
    """One piece of an answer, in order: text, thinking, or a tool call with its result."""

    kind: ItemKind
    text: str = ""
    name: str | None = None
    input: dict[str, Any] | None = None
    result: str | None = None
    is_error: bool = False
    truncated_bytes: int = 0


@dataclass
class Turn:
    user: str
    items: list[Item] = field(default_factory=list)
    started_at: str | None = None
    ended_at: str | None = None
    model: str | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    cost_usd: float | None = None
    time_to_first_token_s: float | None = None
    error: str | None = None
    interrupted: bool = False
    # Claude Code replaced the conversation before this turn by a summary (/compact, or its
    # own compaction when the context was full).
    after_compaction: bool = False

    @property
    def answer(self) -> str:
        return "\n\n".join(item.text for item in self.items if item.kind == "text")


@dataclass
class Transcript:
    session_id: str | None
    turns: list[Turn]
    title: str | None = None
    cwd: str | None = None
    claude_chat_version: str = __version__
    claude_code_version: str | None = None
    exported_at: str = field(default_factory=lambda: _iso(datetime.now(timezone.utc)))

    def last(self, count: int) -> Transcript:
        return replace(self, turns=self.turns[-count:] if count > 0 else [])

    def to_dict(self) -> dict[str, Any]:
        return {"format": FORMAT, **asdict(self)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Transcript:
        if data.get("format") != FORMAT:
            raise TranscriptError(f"not a {FORMAT} transcript (format: {data.get('format')!r})")
        fields = {k: v for k, v in data.items() if k != "format"}
        fields["turns"] = [
            Turn(**{**turn, "items": [Item(**item) for item in turn.get("items", [])]})
            for turn in data.get("turns", [])
        ]
        return cls(**fields)


# -- reading the session store -----------------------------------------------------------------


def from_session(
    session_id: str,
    results: Sequence[TurnResult] = (),
    title: str | None = None,
    claude_code_version: str | None = None,
    secrets: Mapping[str, str] | None = None,
    config_dir: Path | None = None,
) -> Transcript:
    """The stored conversation, with cost and time to first token from ``results`` (this
    process's turns) where they match a stored turn; ``secrets`` are redacted everywhere
    (before long tool results are cut, so no part of one survives the cut). The session is
    looked for under ``config_dir`` when given (see ``sessions.projects_dir``)."""
    session_id = session_id.lower()
    from claude_chat.store.sessions import find_session_file

    path = find_session_file(session_id, config_dir)
    if path is None:
        raise TranscriptError(f"no session {session_id}; `claude-chat sessions` lists them")
    records = _records_by_uuid(path)
    builder = _TurnBuilder(Redactor(secrets))
    for message in _session_messages(path):
        builder.add(message.type, message.uuid, message.message, records.get(message.uuid, {}))
    _add_results(builder.turns, results)
    transcript = Transcript(
        session_id=session_id,
        turns=builder.turns,
        title=title,
        cwd=builder.cwd,
        claude_code_version=claude_code_version or builder.version,
    )
    return redact(transcript, secrets or {})


def _session_messages(path: Path) -> list[Any]:
    """The SDK's reading of a session (its conversation chain, parallel tool results kept)
    from this file: ``get_session_messages`` itself would look for the file where
    ``CLAUDE_CONFIG_DIR`` of this process points, not where a server's tenant keeps it."""
    from claude_agent_sdk._internal.sessions import (
        _entries_to_session_messages,
        _parse_transcript_entries,
    )

    try:
        content = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise TranscriptError(f"could not read session {path.stem}: {exc.strerror}") from exc
    return list(_entries_to_session_messages(_parse_transcript_entries(content), None, 0))


class _TurnBuilder:
    """Turns from a session's messages, given one at a time in the order they were stored,
    each with the facts of its record that the SDK's message leaves out."""

    def __init__(self, scrub: Redactor) -> None:
        self.turns: list[Turn] = []
        self.cwd: str | None = None
        self.version: str | None = None
        self._scrub = scrub
        self._tools: dict[str, Item] = {}  # tool calls by id, waiting for their result
        self._counted: set[str] = set()  # API messages whose usage is in a turn already
        self._compacted = False  # a compaction summary came, and no prompt since

    def add(self, kind: str, uuid: str, message: object, record: Mapping[str, Any]) -> None:
        self.cwd = self.cwd or record.get("cwd")
        self.version = record.get("version") or self.version
        body = message if isinstance(message, dict) else {}
        blocks = message_blocks(body)
        if blocks is None:
            return
        stamp = record.get("timestamp")
        if record.get("isCompactSummary"):
            # Claude Code's summary of what came before, written as the user: not a prompt.
            self._compacted = True
        elif kind == "user":
            self._user(blocks, stamp)
        else:
            self._assistant(body, blocks, uuid, stamp, bool(record.get("isApiErrorMessage")))

    def _user(self, blocks: list[Any], stamp: str | None) -> None:
        prompt = prompt_text(blocks)
        if prompt is not None:
            turn = Turn(user=prompt, started_at=stamp, ended_at=stamp)
            turn.after_compaction, self._compacted = self._compacted, False
            self.turns.append(turn)
        elif is_interruption(blocks):
            if self.turns:
                self.turns[-1].interrupted = True
        else:
            self._tool_results(blocks)

    def _tool_results(self, blocks: list[Any]) -> None:
        for block in blocks:
            if isinstance(block, dict) and block.get("type") == "tool_result":
                item = self._tools.get(str(block.get("tool_use_id")))
                if item is not None:
                    _set_result(item, self._scrub(result_text(block.get("content"))))
                    item.is_error = bool(block.get("is_error"))

    def _assistant(
        self,
        message: Mapping[str, Any],
        blocks: list[Any],
        uuid: str,
        stamp: str | None,
        api_error: bool,
    ) -> None:
        if not self.turns:
            self.turns.append(Turn(user=""))
        turn = self.turns[-1]
        turn.ended_at = stamp or turn.ended_at
        model = message.get("model")
        if isinstance(model, str) and model != "<synthetic>":
            turn.model = model
        self._count_usage(turn, message, uuid)
        if api_error or model == "<synthetic>":
            turn.error = prompt_text(blocks) or "error"
            return
        for block in blocks:
            item = self._item(block)
            if item is not None:
                turn.items.append(item)

    def _count_usage(self, turn: Turn, message: Mapping[str, Any], uuid: str) -> None:
        usage = message.get("usage")
        # Claude Code writes a record per content block, each with the whole message's usage.
        message_id = str(message.get("id") or uuid)
        if isinstance(usage, dict) and message_id not in self._counted:
            self._counted.add(message_id)
            counts = Usage.from_api(usage)
            turn.input_tokens = (turn.input_tokens or 0) + counts.prompt_tokens
            turn.output_tokens = (turn.output_tokens or 0) + counts.output_tokens

    def _item(self, block: object) -> Item | None:
        if not isinstance(block, dict):
            return None
        kind = block.get("type")
        if kind == "text" and str(block.get("text", "")).strip():
            return Item("text", str(block["text"]))
        if kind == "thinking" and str(block.get("thinking", "")).strip():
            return Item("thinking", str(block["thinking"]))
        if kind == "tool_use":
            raw_input = block.get("input")
            item = Item(
                "tool",
                name=str(block.get("name", "?")),
                input=raw_input if isinstance(raw_input, dict) else {},
            )
            self._tools[str(block.get("id"))] = item
            return item
        return None


def _records_by_uuid(path: Path) -> dict[str, dict[str, Any]]:
    """Timestamps, directory and error marks of the user's and Claude's records, which the
    SDK's messages leave out. Other records (requests, attachments, tool results) are
    skipped unparsed."""
    found: dict[str, dict[str, Any]] = {}
    try:
        with path.open("rb") as file:
            for line in file:
                if b'"type":"user"' not in line and b'"type":"assistant"' not in line:
                    continue
                if b'"tool_result"' in line:
                    continue  # results: large, and their timestamps are not shown
                try:
                    record = json.loads(line)
                except ValueError:
                    continue  # a torn or corrupt record
                if isinstance(record, dict) and isinstance(record.get("uuid"), str):
                    found[record["uuid"]] = {
                        key: record.get(key)
                        for key in (
                            "timestamp",
                            "cwd",
                            "isApiErrorMessage",
                            "version",
                            "isCompactSummary",
                        )
                    }
    except OSError as exc:
        raise TranscriptError(f"could not read {path}: {exc.strerror}") from exc
    return found


def _set_result(item: Item, text: str) -> None:
    data = text.encode("utf-8")
    if len(data) > RESULT_LIMIT:
        text = data[:RESULT_LIMIT].decode("utf-8", errors="ignore")
        item.truncated_bytes = len(data) - len(text.encode("utf-8"))
    item.result = text


def _add_results(turns: list[Turn], results: Sequence[TurnResult]) -> None:
    """Cost and time to first token of this process's turns, matched from the end by prompt."""
    index = len(turns) - 1
    for result in reversed(results):
        while index >= 0 and turns[index].user != result.prompt:
            index -= 1
        if index < 0:
            return
        turn = turns[index]
        turn.cost_usd = result.cost_usd
        turn.time_to_first_token_s = result.time_to_first_token_s
        turn.interrupted = result.interrupted
        if result.error is not None:
            turn.error = result.error.message
        turn.ended_at = turn.ended_at or _iso(datetime.fromtimestamp(result.ended_at, timezone.utc))
        index -= 1


# -- secrets -----------------------------------------------------------------------------------


def redact(transcript: Transcript, secrets: Mapping[str, str]) -> Transcript:
    """The transcript with every secret value replaced by ``[redacted NAME]``."""
    scrub = Redactor(secrets)
    if not scrub:
        return transcript

    def clean(value: Any) -> Any:
        if isinstance(value, str):
            return scrub(value)
        if isinstance(value, list):
            return [clean(v) for v in value]
        if isinstance(value, dict):
            return {clean(k): clean(v) for k, v in value.items()}
        return value

    def clean_item(item: Item) -> Item:
        return replace(
            item, text=clean(item.text), input=clean(item.input), result=clean(item.result)
        )

    turns = [
        replace(
            turn,
            user=clean(turn.user),
            error=clean(turn.error),
            items=[clean_item(item) for item in turn.items],
        )
        for turn in transcript.turns
    ]
    return replace(
        transcript, turns=turns, title=clean(transcript.title), cwd=clean(transcript.cwd)
    )


# -- markdown ----------------------------------------------------------------------------------


def to_markdown(transcript: Transcript) -> str:
    out = [f"# {transcript.title or 'Conversation with Claude'}", ""]
    header = [
        ("session", transcript.session_id),
        ("directory", transcript.cwd),
        ("exported", transcript.exported_at),
        ("claude-chat", transcript.claude_chat_version),
        ("Claude Code", transcript.claude_code_version),
    ]
    out += [f"- **{name}**: `{value}`" for name, value in header if value]
    for number, turn in enumerate(transcript.turns, start=1):
        out += ["", "---", ""]
        if turn.after_compaction:
            out += [f"*{COMPACTION_NOTE}*", ""]
        out += [f"## {number}. You", ""]
        out += [_quote(turn.user), "", "### Claude", ""]
        for item in turn.items:
            if item.kind == "text":
                out += [item.text, ""]
            elif item.kind == "thinking":
                out += ["<details><summary>Thinking</summary>", "", item.text, "", "</details>", ""]
            else:
                out += _markdown_tool(item)
        if turn.error:
            out += [f"> **Error:** {turn.error}", ""]
        if turn.interrupted:
            out += ["*(interrupted)*", ""]
        meta = turn_meta(turn)
        if meta:
            out += [f"<sub>{meta}</sub>"]
    return "\n".join(out).rstrip() + "\n"


def turn_meta(turn: Turn) -> str:
    """One line of a turn's facts: model, time, tokens, cost, time to first token."""
    parts = []
    if turn.model:
        parts.append(turn.model)
    if turn.started_at:
        parts.append(turn.started_at.replace("T", " ")[:19])
    if turn.input_tokens is not None or turn.output_tokens is not None:
        parts.append(f"{turn.input_tokens or 0:,} in / {turn.output_tokens or 0:,} out")
    if turn.cost_usd is not None:
        parts.append(f"${turn.cost_usd:.4f}")
    if turn.time_to_first_token_s is not None:
        parts.append(f"first token {turn.time_to_first_token_s:.2f}s")
    return " · ".join(parts)


def tool_title(item: Item) -> str:
    return tool_call_summary(ToolCall("", item.name or "?", dict(item.input or {})), 200)


def truncation_note(item: Item) -> str:
    return f"[{item.truncated_bytes:,} more bytes not shown]" if item.truncated_bytes else ""


def _markdown_tool(item: Item) -> list[str]:
    lines = [f"**Tool** `{tool_title(item)}`" + (" (error)" if item.is_error else ""), ""]
    lines += [_fence(json.dumps(item.input or {}, indent=2, ensure_ascii=False), "json"), ""]
    if item.result is not None:
        lines += ["<details><summary>Result</summary>", "", _fence(item.result, "")]
        if item.truncated_bytes:
            lines.append(truncation_note(item))
        lines += ["", "</details>", ""]
    return lines


def _fence(text: str, language: str) -> str:
    longest = max((len(m) for m in re.findall(r"`{3,}", text)), default=2)
    ticks = "`" * (longest + 1)
    return f"{ticks}{language}\n{text}\n{ticks}"


def _quote(text: str) -> str:
    return "\n".join(f"> {line}" if line else ">" for line in text.splitlines() or [""])


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def load_json(text: str) -> Transcript:
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise TranscriptError(f"not JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise TranscriptError("not a transcript: the JSON is not an object")
    return Transcript.from_dict(data)


def to_json(transcript: Transcript) -> str:
    return json.dumps(transcript.to_dict(), indent=2, ensure_ascii=False) + "\n"
