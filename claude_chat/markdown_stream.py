"""Split streamed markdown into blocks that are final and the one block still being written.

Every top-level block but the last can no longer change as more text arrives (a new block has
begun after it), so it can be printed once, in final form, and never redrawn. Only the last,
open block is redrawn while it streams. Parsing is done per frame, on the open part only.
"""

from __future__ import annotations

import itertools

from markdown_it import MarkdownIt

_parser = MarkdownIt("commonmark").enable("strikethrough").enable("table")


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

    def take_final_blocks(self) -> list[str]:
        """The blocks that became final since the last call, as markdown source."""
        self._absorb()
        starts = _top_level_block_starts(self._open)
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
