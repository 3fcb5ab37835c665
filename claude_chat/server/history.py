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


def digest(system: str | None, messages: Sequence[Message]) -> str:
    """Equal for histories that read the same: the system text, then each message's role,
    text (outer whitespace aside, which clients trim) and pictures, in order."""
    shape = [
        system or "",
        [
            [
                m.role,
                m.text.strip(),
                [_image_digest(b) for b in m.blocks if b.get("type") == "image"],
            ]
            for m in messages
        ],
    ]
    return hashlib.sha256(json.dumps(shape, sort_keys=True).encode()).hexdigest()


def _image_digest(block: Block) -> str:
    return hashlib.sha256(json.dumps(block.get("source"), sort_keys=True).encode()).hexdigest()


def seed_session(
    config_dir: Path, cwd: Path, messages: Sequence[Message], model: str | None
) -> str:
    """Write ``messages`` as a new Claude Code session under ``config_dir`` (a tenant's) for
    ``cwd``, and return its id. The records are the CLI's own user and assistant records,
    chained by ``parentUuid``, so ``--resume`` sends each of them to the model as a message."""
    session_id = str(uuid.uuid4())
    real_cwd = os.path.realpath(cwd)
    path = projects_dir(config_dir) / project_key(real_cwd) / f"{session_id}.jsonl"
    parent: str | None = None
    lines = []
    for message in messages:
        record_id = str(uuid.uuid4())
        lines.append(
            json.dumps(
                {
                    "parentUuid": parent,
                    "isSidechain": False,
                    "type": message.role,
                    "message": _record_message(message, model),
                    "uuid": record_id,
                    "timestamp": _now(),
                    "userType": "external",
                    "entrypoint": "sdk-py",
                    "cwd": real_cwd,
                    "sessionId": session_id,
                    "version": SEED_VERSION,
                },
                ensure_ascii=False,
            )
        )
        parent = record_id
    private_file(path)
    with path.open("a", encoding="utf-8") as file:
        file.write("".join(line + "\n" for line in lines))
    return session_id


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
