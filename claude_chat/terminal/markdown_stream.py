"""Split streamed markdown into blocks that are final and the one block still being written.

Every top-level block but the last can no longer change as more text arrives (a new block has
begun after it), so it can be printed once, in final form, and never redrawn. Only the last,
open block is redrawn while it streams. Parsing is done per frame, on the open part only.
"""

from __future__ import annotations

import itertools
import re

from markdown_it import MarkdownIt
from markdown_it.token import Token

_parser = MarkdownIt("commonmark").enable("strikethrough").enable("table")
_ITEM_NUMBER = re.compile(r"( *)\d+")


class MarkdownStream:
    def __init__(self) -> None:
        self._open = ""
        self._pending: list[str] = []

    def feed(self, text: str) -> None:
        """Cheap: the text is only queued; splitting waits for the next frame."""
        self._pending.append(text)

    @property
    def open_block(self) -> str:
        self._absorb()
        return self._open

    def open_tail(self, max_lines: int) -> str:
        """The end of the open block, about ``max_lines`` source lines, cut where markdown allows
        so that it renders like the end of the whole block: a code fence keeps its opening
        line, a table its header, a list is cut at an item (keeping its number). Drawing a
        long block then costs what its visible end costs. Other blocks come whole."""
        self._absorb()
        lines = self._open.splitlines(keepends=True)
        if len(lines) <= max_lines:
            return self._open
        tokens = _parser.parse(self._open)
        block = next((t for t in tokens if t.level == 0 and t.map is not None), None)
        if block is None or block.map is None:
            return self._open
        start = block.map[0]
        keep = max(max_lines - 2, 1)
        if block.type == "fence":
            return lines[start] + "".join(lines[-keep:])
        if block.type == "code_block":
            return "".join(lines[-keep:])
        if block.type == "table_open":
            return "".join(lines[start : start + 2] + lines[-keep:])
        if block.type in ("bullet_list_open", "ordered_list_open"):
            return _list_tail(block, tokens, lines, len(lines) - keep)
        return self._open

    def take_final_blocks(self) -> list[str]:
        """The blocks that became final since the last call, as markdown source."""
        self._absorb()
        # A line still being written can change what it is ("1" may become "1. item", which
        # would continue a list above it), so only complete lines may start a new block.
        complete = self._open[: self._open.rfind("\n") + 1]
        starts = _top_level_block_starts(complete)
        if len(starts) < 2:
            return []
        lines = self._open.splitlines(keepends=True)
        blocks = [
            "".join(lines[start:end]).rstrip("\n") for start, end in itertools.pairwise(starts)
        ]
        self._open = "".join(lines[starts[-1] :])
        return [b for b in blocks if b.strip()]

    def finish(self) -> list[str]:
        """The stream has ended: every remaining block is final."""
        self.feed("\n")  # the last line is complete now
        blocks = self.take_final_blocks()
        rest = self._open.strip("\n")
        self._open = ""
        return [*blocks, rest] if rest.strip() else blocks

    def _absorb(self) -> None:
        if self._pending:
            self._open += "".join(self._pending)
            self._pending.clear()


def _top_level_block_starts(source: str) -> list[int]:
    starts = []
    for token in _parser.parse(source):
        if token.level == 0 and token.nesting >= 0 and token.map is not None:
            starts.append(token.map[0])
    return starts


def _list_tail(list_open: Token, tokens: list[Token], lines: list[str], wanted: int) -> str:
    """The list from its first item that starts at or after line ``wanted`` (else its last)."""
    items = [t.map[0] for t in tokens if t.type == "list_item_open" and t.level == 1 and t.map]
    if not items:
        return "".join(lines)
    index = next((i for i, line in enumerate(items) if line >= wanted), len(items) - 1)
    first = lines[items[index]]
    if list_open.type == "ordered_list_open":
        # A list takes its first item's number as its start; keep the numbering it had.
        number = int(str(list_open.attrs.get("start", 1))) + index
        first = _ITEM_NUMBER.sub(lambda m: m.group(1) + str(number), first, count=1)
    return first + "".join(lines[items[index] + 1 :])
