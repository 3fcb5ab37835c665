"""A few rows at the bottom of the terminal, redrawn in place, with finished lines above them.

Unlike ``rich.live.Live``, which erases its region and draws it again, rows are overwritten
where they stand (text, then erase-to-end-of-line), rows that did not change are not written,
and every update is one write inside synchronized-output brackets (DEC mode 2026), so a
terminal never shows a half-drawn frame. Terminals without mode 2026 ignore the brackets.

Finished lines are written where the region starts and the region is drawn again below them:
they scroll into the scrollback once and are never touched again.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.cells import cell_len
from rich.console import COLOR_SYSTEMS, Console
from rich.segment import Segment

BEGIN_SYNC = "\x1b[?2026h"
END_SYNC = "\x1b[?2026l"
HIDE_CURSOR = "\x1b[?25l"
SHOW_CURSOR = "\x1b[?25h"
ERASE_LINE_END = "\x1b[K"
ERASE_BELOW = "\x1b[J"


def _up(rows: int) -> str:
    return f"\x1b[{rows}A" if rows > 0 else ""


class LiveRegion:
    """The cursor stays on the region's last row between updates (its column does not matter:
    every update starts with a carriage return)."""

    def __init__(self, console: Console) -> None:
        self._console = console
        self._color_system = COLOR_SYSTEMS.get(console.color_system or "")
        # What each row on screen shows: its text with escape codes, and its width in cells.
        self._rows: list[tuple[str, int]] = []
        self._width = 0
        self._visible = False
        self.bytes_written = 0

    @property
    def height(self) -> int:
        return len(self._rows)

    def update(
        self, finished: Sequence[list[Segment]], frame: Sequence[list[Segment]], width: int
    ) -> None:
        """Write ``finished`` lines above the region, then show ``frame`` (lines at ``width``)."""
        done = [self._ansi(line) for line in finished]
        rows = [self._ansi(line) for line in frame]
        first = 0 if done or width != self._width else _first_difference(self._rows, rows)
        if not done and first == len(rows) == len(self._rows):
            return
        if rows and first == len(rows) < len(self._rows):
            first -= 1  # only rows went away: stand on the new last row to clear below it
        out: list[str] = [BEGIN_SYNC]
        if not self._visible:
            out.append(HIDE_CURSOR)
            self._visible = True
        if not self._rows:
            out.append("\r")
        elif first == len(self._rows):
            out.append("\n")  # the region grows by rows below its last one
        else:
            out.append("\r" + _up(len(self._rows) - 1 - first))
        for row in done:
            out.append(_row(row, width) + "\n")
        out.append("\n".join(_row(row, width) for row in rows[first:]))
        # Rows of the old region that the new one does not cover are cleared. They are on
        # screen below the cursor, so moving down to them never scrolls.
        written = len(done) + len(rows)
        if written < len(self._rows):
            out.append("\n" if rows else "")
            out.append(ERASE_BELOW + (_up(1) if rows else ""))
        out.append(END_SYNC)
        self._rows = rows
        self._width = width
        self._write("".join(out))

    def close(self) -> None:
        """Remove the region; the cursor is left at the start of the row where it began."""
        if not self._visible:
            return
        self._write(
            BEGIN_SYNC + "\r" + _up(len(self._rows) - 1) + ERASE_BELOW + SHOW_CURSOR + END_SYNC
        )
        self._rows = []
        self._visible = False

    def _ansi(self, line: list[Segment]) -> tuple[str, int]:
        color_system = self._color_system
        text = "".join(
            segment.style.render(segment.text, color_system=color_system)
            if segment.style and color_system
            else segment.text
            for segment in line
            if not segment.control
        )
        return text, sum(cell_len(segment.text) for segment in line if not segment.control)

    def _write(self, text: str) -> None:
        self.bytes_written += len(text.encode("utf-8", "replace"))
        file = self._console.file
        file.write(text)
        file.flush()


def _row(row: tuple[str, int], width: int) -> str:
    # A row that fills the width leaves the cursor in the pending-wrap state, where
    # erase-to-end-of-line would erase its last character.
    text, cells = row
    return text if cells >= width else text + ERASE_LINE_END


def _first_difference(old: list[tuple[str, int]], new: list[tuple[str, int]]) -> int:
    for index, (before, after) in enumerate(zip(old, new, strict=False)):
        if before != after:
            return index
    return min(len(old), len(new))
