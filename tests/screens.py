"""Turn what was written to a terminal back into the lines a person sees, with pyte."""

from __future__ import annotations

import pyte


def visible_lines(written: str, width: int, height: int) -> list[str]:
    """Scrollback then screen, right-trimmed, trailing empty lines dropped."""
    screen = pyte.HistoryScreen(width, height, history=100_000)
    stream = pyte.Stream(screen)
    # A terminal's output processing turns LF into CR LF; a StringIO does not.
    stream.feed(written.replace("\r\n", "\n").replace("\n", "\r\n"))
    top = ["".join(ch.data for ch in line.values()).rstrip() for line in screen.history.top]
    lines = top + [line.rstrip() for line in screen.display]
    while lines and not lines[-1]:
        lines.pop()
    return lines
