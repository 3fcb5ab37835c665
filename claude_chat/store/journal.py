"""A record of every turn, written as it streams, so nothing the user typed or received is
lost, even if claude-chat itself dies mid-answer.

One JSON object per line in ``journal/<date>.jsonl`` of the user data dir (0600): a ``turn``
record when a message is sent, then its events in order (``text``, ``thinking``, ``tool``,
``tool_result``, ``denied``, ``error``, ``compacted``), then ``end`` with the turn's figures.
Lines are written as events arrive and the file is fsynced when the turn ends, so a crash loses
at most the line being written (and, when credentials are set, the last few characters of text,
held back until it is certain they do not start a secret); a torn last line is skipped when
reading.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator, Mapping
from dataclasses import asdict
from pathlib import Path
from typing import IO, Any

from claude_chat.engine.config import private_file
from claude_chat.engine.events import (
    Compacted,
    Event,
    PermissionDenied,
    TextDelta,
    ThinkingDelta,
    ToolCall,
    ToolResult,
    TurnError,
    TurnResult,
)
from claude_chat.engine.secrets import Redactor


class Journal:
    def __init__(self, directory: Path, secrets: Mapping[str, str] | None = None) -> None:
        self.directory = directory
        self._redact = Redactor(secrets)
        self._longest = self._redact.longest
        self._held: tuple[tuple[str, str | None], str] | None = None
        self._file: IO[str] | None = None
        self._path: Path | None = None

    @property
    def path(self) -> Path:
        return self.directory / f"{time.strftime('%Y-%m-%d')}.jsonl"

    def begin(self, session_id: str | None, prompt: str) -> None:
        self._write({"type": "turn", "session_id": session_id, "prompt": prompt})

    def record(self, event: Event) -> None:
        if isinstance(event, (TextDelta, ThinkingDelta)):
            self._stream(_entry(event) or {})
            return
        self._release()
        entry = _entry(event)
        if entry is not None:
            self._write(entry)

    def _stream(self, entry: dict[str, Any]) -> None:
        # A secret can arrive cut over several deltas, where no single one contains it: text
        # is held back by the length of the longest secret, and redacted once joined.
        key = (entry["type"], entry["parent"])
        if self._held is not None and self._held[0] != key:
            self._release()
        text = (self._held[1] if self._held else "") + entry["text"]
        text = self._redact(text)
        cut = max(len(text) - (self._longest - 1), 0) if self._longest else len(text)
        ready, rest = text[:cut], text[cut:]
        if ready:
            self._write({**entry, "text": ready})
        self._held = (key, rest) if rest else None

    def _release(self) -> None:
        if self._held is not None:
            (kind, parent), text = self._held
            self._held = None
            self._write({"type": kind, "text": text, "parent": parent})

    def end(self, result: TurnResult) -> None:
        self._release()
        self._write(
            {
                "type": "end",
                "session_id": result.session_id,
                "model": result.model,
                "is_error": result.is_error,
                "interrupted": result.interrupted,
                "usage": asdict(result.usage),
                "cost_usd": result.cost_usd,
                "duration_s": result.duration_s,
                "time_to_first_token_s": result.time_to_first_token_s,
                "startup_wait_s": result.startup_wait_s,
            }
        )
        self.flush()

    def flush(self) -> None:
        """Make what was written durable (the end of each turn, and on exit)."""
        self._release()
        if self._file is not None:
            try:
                self._file.flush()
                os.fsync(self._file.fileno())
            except OSError:
                pass

    def close(self) -> None:
        self.flush()
        if self._file is not None:
            self._file.close()
            self._file = None

    def _write(self, entry: dict[str, Any]) -> None:
        entry["at"] = round(time.time(), 3)
        line = self._redact(json.dumps(entry, ensure_ascii=False))
        try:
            file = self._open()
            file.write(line + "\n")
            # To the operating system at once: if claude-chat dies, the line survives it.
            file.flush()
        except OSError:
            pass  # a full disk must not end the chat; the screen still has the answer

    def _open(self) -> IO[str]:
        path = self.path
        if self._file is None or path != self._path:
            if self._file is not None:
                self.close()
            self._file = private_file(path).open("a", encoding="utf-8")
            self._path = path
        return self._file


def _entry(event: Event) -> dict[str, Any] | None:
    if isinstance(event, TextDelta):
        return {"type": "text", "text": event.text, "parent": event.parent_tool_use_id}
    if isinstance(event, ThinkingDelta):
        return {"type": "thinking", "text": event.text, "parent": event.parent_tool_use_id}
    if isinstance(event, ToolCall):
        return {"type": "tool", "id": event.tool_use_id, "name": event.name, "input": event.input}
    if isinstance(event, ToolResult):
        return {
            "type": "tool_result",
            "id": event.tool_use_id,
            "content": event.content,
            "is_error": event.is_error,
        }
    if isinstance(event, PermissionDenied):
        return {"type": "denied", "id": event.tool_use_id, "name": event.name}
    if isinstance(event, TurnError):
        return {"type": "error", "kind": event.kind, "message": event.message}
    if isinstance(event, Compacted):
        # Where the conversation was replaced by its summary: what comes after stands on it.
        return {
            "type": "compacted",
            "trigger": event.trigger,
            "pre_tokens": event.pre_tokens,
            "post_tokens": event.post_tokens,
        }
    return None


def read(path: Path) -> Iterator[dict[str, Any]]:
    """The records of a journal file; a torn or corrupt line (a crash mid-write) is skipped."""
    with path.open(encoding="utf-8", errors="replace") as file:
        for line in file:
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if isinstance(record, dict):
                yield record
