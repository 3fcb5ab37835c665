"""A notification when a long answer ends while the terminal is in the background.

The terminal says when it gains and loses focus once asked to (DEC mode 1004: ``ESC [ I`` and
``ESC [ O`` arrive as input). A terminal that does not report focus is taken as focused, so
it never gets a notification it cannot filter. The notification is OSC 9 where the terminal is
known to show it (a desktop notification), else the bell, which every terminal turns into
something (a badge, a dock bounce, a flash).
"""

from __future__ import annotations

import os
from typing import TextIO

from prompt_toolkit.input.ansi_escape_sequences import ANSI_SEQUENCES
from prompt_toolkit.key_binding import KeyPress
from prompt_toolkit.keys import Keys

FOCUS_REPORTING_ON = "\x1b[?1004h"
FOCUS_REPORTING_OFF = "\x1b[?1004l"
FOCUS_IN = "\x1b[I"
FOCUS_OUT = "\x1b[O"
DEFAULT_AFTER_S = 15.0

# prompt-toolkit does not know these sequences: unknown, they would be typed as "[I" into the
# prompt. Known as keys to ignore, they reach our key handlers with their bytes as data.
ANSI_SEQUENCES.setdefault(FOCUS_IN, Keys.Ignore)
ANSI_SEQUENCES.setdefault(FOCUS_OUT, Keys.Ignore)

_OSC9_TERMINALS = ("iTerm.app", "WezTerm", "ghostty")


class Notifier:
    def __init__(self, out: TextIO, after_s: float | None) -> None:
        """``after_s``: how long an answer must have taken to notify; None: never."""
        self._out = out
        self.after_s = after_s
        self.focused = True

    def start(self) -> None:
        if self.after_s is not None:
            self._write(FOCUS_REPORTING_ON)

    def stop(self) -> None:
        if self.after_s is not None:
            self._write(FOCUS_REPORTING_OFF)

    def take(self, key: KeyPress) -> bool:
        """Whether ``key`` was a focus report (then it is not a key the user typed)."""
        if key.key != Keys.Ignore or key.data not in (FOCUS_IN, FOCUS_OUT):
            return False
        self.focused = key.data == FOCUS_IN
        return True

    def answer_ended(self, duration_s: float, message: str) -> None:
        if self.after_s is None or self.focused or duration_s < self.after_s:
            return
        self._write(notification(message))

    def _write(self, sequence: str) -> None:
        self._out.write(sequence)
        self._out.flush()


def notification(message: str) -> str:
    """OSC 9 where the terminal shows it, else the bell. Inside tmux, the bell: tmux passes
    it on as an alert of the window, and would drop OSC 9."""
    in_tmux = bool(os.environ.get("TMUX"))
    osc9 = os.environ.get("TERM_PROGRAM") in _OSC9_TERMINALS or bool(os.environ.get("WT_SESSION"))
    if osc9 and not in_tmux:
        printable = "".join(ch for ch in message if ch.isprintable())[:200]
        return f"\x1b]9;{printable}\x07"
    return "\a"
