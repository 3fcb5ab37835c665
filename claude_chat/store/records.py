"""Reading one record of a Claude Code session file: the single place that knows what a prompt
is, how a message's content is shaped, and what a tool result or a usage counts.

Session listing (sessions.py), the recap and transcripts all read records through these, so
they agree on which of the user's records are prompts and on what each one says.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

# Messages Claude Code writes as the user that the user did not type.
INTERRUPTED = "[Request interrupted by user"
# How Claude Code's summary of a compacted conversation begins, written as the user.
COMPACT_SUMMARY = "This session is being continued from a previous conversation"
NOT_A_PROMPT = re.compile(
    r"^(?:<local-command-stdout>|<command-name>|<command-message>|<session-start-hook>|<tick>|"
    r"<system-reminder>|" + re.escape(INTERRUPTED) + "|" + re.escape(COMPACT_SUMMARY) + "|Caveat: )"
)
# The same records of the user's side, and the others that are not prompts, told apart in a
# record's raw line without parsing it: what listing counts turns with.
NOT_PROMPT_MARKS = (
    b'"tool_result"',  # first: tool results are the long lines, and it comes early in them
    b'"isMeta":true',
    b'"isCompactSummary":true',
    b'"isSidechain":true',
    b'"content":"<command-name>',
    b'"content":"<local-command-stdout>',
    b'"[Request interrupted by user',
)


def content_blocks(content: object) -> list[Any] | None:
    """A message's content as a list of blocks (a plain string is one text block); None when
    it is neither."""
    if isinstance(content, str):
        return [{"type": "text", "text": content}]
    return content if isinstance(content, list) else None


def message_blocks(message: object) -> list[Any] | None:
    """The content blocks of a record's ``message`` (a dict); None when it has none."""
    return content_blocks(message.get("content")) if isinstance(message, dict) else None


def texts(blocks: Iterable[Any]) -> str:
    """The text blocks' text, a line apart."""
    return "\n".join(
        str(block.get("text", ""))
        for block in blocks
        if isinstance(block, dict) and block.get("type") == "text"
    )


def prompt_text(blocks: Iterable[Any]) -> str | None:
    """What the user typed, or None for blocks that are not a prompt (tool results, what
    Claude Code writes in the user's name)."""
    blocks = list(blocks)
    if not any(isinstance(b, dict) and b.get("type") == "text" for b in blocks):
        return None
    text = texts(blocks)
    return None if NOT_A_PROMPT.match(text) else text


def is_interruption(blocks: Iterable[Any]) -> bool:
    """The record Claude Code writes as the user when a turn is interrupted."""
    return texts(blocks).startswith(INTERRUPTED)


def result_text(content: object) -> str:
    """A stored tool result's content as text."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(
            str(part.get("text", "")) if isinstance(part, dict) else str(part) for part in content
        )
    return "" if content is None else json.dumps(content)
