"""The history a stateless API client sends with every request, as this server reads it: the
system text, then user and assistant messages, the newest user message last. Its digest
recognises a conversation the server already holds; a history it does not hold becomes a
Claude Code session file, which the CLI then resumes with every earlier turn as real context.
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal

from claude_chat.engine.config import private_file
from claude_chat.store import records
from claude_chat.store.sessions import project_key, projects_dir

Role = Literal["user", "assistant"]
Block = dict[str, Any]  # a Messages API content block: text or image

# What a history that starts with an answer gets as its first question: the Messages API
# (and so Claude Code) needs a user message first.
OPENING = "(The conversation so far.)"
# The Claude Code version the seeded records say wrote them; it resumes them as its own.
SEED_VERSION = "2.1.332"


class HistoryError(ValueError):
    """A history this server cannot hold as a Claude Code conversation."""


@dataclass(frozen=True)
class Message:
    role: Role
    blocks: tuple[Block, ...]

    @property
    def text(self) -> str:
        return "\n\n".join(b["text"] for b in self.blocks if b.get("type") == "text")

    @property
    def has_images(self) -> bool:
        return any(b.get("type") == "image" for b in self.blocks)


@dataclass(frozen=True)
class History:
    system: str | None
    messages: tuple[Message, ...]  # the newest, last, is the user's

    @property
    def earlier(self) -> tuple[Message, ...]:
        return self.messages[:-1]

    @property
    def newest(self) -> Message:
        return self.messages[-1]

    def earlier_digest(self) -> str:
        """The digest of what the client saw before its newest message."""
        return digest(self.system, self.earlier)

    @property
    def turns(self) -> int:
        """How many turns the history has once its newest message is answered."""
        return sum(1 for m in self.messages if m.role == "user")

    def digest_with_answer(self, answer: str) -> str:
        """The digest of this history once ``answer`` has come back to it."""
        return digest(self.system, (*self.messages, Message("assistant", (text_block(answer),))))


def text_block(text: str) -> Block:
    return {"type": "text", "text": text}


def build(system: str | None, messages: Iterable[tuple[Role, list[Block]]]) -> History:
    """A history from the client's messages: consecutive messages of one role become one, empty
    ones are dropped, and a history that opens with an answer gets a question before it."""
    merged: list[Message] = []
    for role, blocks in messages:
        kept = tuple(b for b in blocks if b.get("type") != "text" or b.get("text", "").strip())
        if not kept:
            continue
        if merged and merged[-1].role == role:
            merged[-1] = Message(role, merged[-1].blocks + kept)
        else:
            merged.append(Message(role, kept))
    if not merged or merged[-1].role != "user":
        raise HistoryError("messages: the last message must be the user's, and not empty")
    if merged[0].role == "assistant":
        merged.insert(0, Message("user", (text_block(OPENING),)))
    return History(system.strip() if system and system.strip() else None, tuple(merged))


def prefix_digests(system: str | None, messages: Sequence[Message]) -> list[str]:
    """The digest of every prefix of ``messages``, the empty one first: each is the one before
    it chained with one message, so all of them cost one pass. Equal for histories that read
    the same: the system text, then each message's role, text (outer whitespace aside, which
    clients trim) and pictures, in order."""
    running = _sha256(f"claude-chat history/1\0{system or ''}")
    digests = [running]
    for message in messages:
        images = [_sha256(json.dumps(b.get("source"), sort_keys=True)) for b in message.blocks
                  if b.get("type") == "image"]  # fmt: skip
        # Text blocks joined as they came: an answer streamed as one text and resent as
        # several blocks (split where thinking came between) reads the same.
        text = "".join(b["text"] for b in message.blocks if b.get("type") == "text")
        shape = json.dumps([message.role, text.strip(), images])
        running = _sha256(running + _sha256(shape))
        digests.append(running)
    return digests


def digest(system: str | None, messages: Sequence[Message]) -> str:
    return prefix_digests(system, messages)[-1]


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def seed_session(
    config_dir: Path, cwd: Path, messages: Sequence[Message], model: str | None
) -> str:
    """Write ``messages`` as a new Claude Code session under ``config_dir`` (a tenant's) for
    ``cwd``, and return its id. The records are the CLI's own user and assistant records,
    chained by ``parentUuid``, so ``--resume`` sends each of them to the model as a message."""
    session_id = str(uuid.uuid4())
    real_cwd = os.path.realpath(cwd)
    entries = _seed_records(messages, session_id, None, real_cwd, model)
    _write_session(config_dir, real_cwd, session_id, entries)
    return session_id


def fork_session(
    source: Path,
    turns: int,
    config_dir: Path,
    cwd: Path,
    tail: Sequence[Message],
    model: str | None,
) -> str | None:
    """A new session holding the first ``turns`` turns of the session in ``source``, as
    Claude Code recorded them (tool calls and results too), then ``tail`` seeded after them;
    its id, or None if ``source`` has fewer turns than that."""
    chain = _main_chain(source.read_text(encoding="utf-8", errors="replace"))
    prompts = [i for i, record in enumerate(chain) if _is_prompt(record)]
    if len(prompts) < turns or not chain:
        return None
    if len(prompts) > turns:
        chain = chain[: prompts[turns]]
    session_id = str(uuid.uuid4())
    real_cwd = os.path.realpath(cwd)
    entries: list[dict[str, Any]] = []
    parent: str | None = None
    for original in chain:
        record_id = str(uuid.uuid4())
        record = {
            **original,
            "uuid": record_id,
            "parentUuid": parent,
            "sessionId": session_id,
            "isSidechain": False,
            "forkedFrom": {"sessionId": original.get("sessionId"), "messageUuid": original["uuid"]},
        }
        record.pop("logicalParentUuid", None)
        entries.append(record)
        parent = record_id
    entries += _seed_records(tail, session_id, parent, real_cwd, model)
    _write_session(config_dir, real_cwd, session_id, entries)
    return session_id


def _main_chain(text: str) -> list[dict[str, Any]]:
    """The records of the conversation as Claude Code resumes it: from the last record back
    to the first by ``parentUuid``, without subagents' records and UI-only progress."""
    by_uuid: dict[str, dict[str, Any]] = {}
    last = None
    for line in text.splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue  # a torn last line
        if isinstance(record, dict) and isinstance(record.get("uuid"), str):
            if record.get("isSidechain") or record.get("type") not in _CHAIN_TYPES:
                continue
            by_uuid[record["uuid"]] = record
            last = record
    chain = []
    seen: set[str] = set()
    while last is not None and last["uuid"] not in seen:
        seen.add(last["uuid"])
        chain.append(last)
        last = by_uuid.get(str(last.get("parentUuid")))
    chain.reverse()
    return [r for r in chain if r.get("type") != "progress"]


_CHAIN_TYPES = ("user", "assistant", "attachment", "system", "progress")


def _is_prompt(record: dict[str, Any]) -> bool:
    """A user record the user typed (or a seed wrote): not a tool result, not meta."""
    if record.get("type") != "user" or record.get("isMeta") or "toolUseResult" in record:
        return False
    blocks = records.message_blocks(record.get("message")) or []
    kinds = {b.get("type") for b in blocks if isinstance(b, dict)}
    if not blocks or "tool_result" in kinds:
        return False
    return "image" in kinds or records.prompt_text(blocks) is not None


def _seed_records(
    messages: Sequence[Message], session_id: str, parent: str | None, cwd: str, model: str | None
) -> list[dict[str, Any]]:
    seeded = []
    for message in messages:
        record_id = str(uuid.uuid4())
        seeded.append(
            {
                "parentUuid": parent,
                "isSidechain": False,
                "type": message.role,
                "message": _record_message(message, model),
                "uuid": record_id,
                "timestamp": _now(),
                "userType": "external",
                "entrypoint": "sdk-py",
                "cwd": cwd,
                "sessionId": session_id,
                "version": SEED_VERSION,
            }
        )
        parent = record_id
    return seeded


def _write_session(
    config_dir: Path, cwd: str, session_id: str, entries: list[dict[str, Any]]
) -> None:
    path = projects_dir(config_dir) / project_key(cwd) / f"{session_id}.jsonl"
    private_file(path)
    with path.open("a", encoding="utf-8") as file:
        file.write("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in entries))


def _record_message(message: Message, model: str | None) -> dict[str, Any]:
    if message.role == "user":
        content: str | list[Block] = list(message.blocks) if message.has_images else message.text
        return {"role": "user", "content": content}
    return {
        "id": f"msg_seed_{uuid.uuid4().hex[:24]}",
        "type": "message",
        "role": "assistant",
        "model": model or "unknown",
        "content": [text_block(message.text)],
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": {"input_tokens": 0, "output_tokens": 0},
    }


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
