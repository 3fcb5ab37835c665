"""Output above a running prompt: the answer streams while the prompt below it stays editable.

Everything the chat prints goes through ``AbovePrompt`` (the console's file). While the prompt
is on screen, each write takes it off (the cursor goes back to where output stands), writes,
and draws the prompt again below, all in one synchronized update, so a terminal never shows
the prompt missing. The live region writes one such update per frame.

Drawing the prompt again costs prompt-toolkit a full render, about 1 ms: more than a quarter of
a frame of the answer. So the bytes of its last full render are kept (``PromptOutput``) and
written again as long as prompt-toolkit has not drawn since (it draws when the user types or
the toolbar changes): the same bytes from the same start draw the same prompt and leave its
renderer's idea of the cursor true. (Measured: one prompt-toolkit application holding a
37-row live region in its layout costs about 30 ms a frame, against 5 ms for ours.)
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, TextIO

from prompt_toolkit.data_structures import Size
from prompt_toolkit.output.vt100 import Vt100_Output

from claude_chat.terminal.live_region import BEGIN_SYNC, END_SYNC, ERASE_BELOW

if TYPE_CHECKING:
    from prompt_toolkit.application import Application

_ESCAPES = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|[@-Z\\-_])")


class PromptOutput(Vt100_Output):
    """prompt-toolkit's output to the terminal, keeping what a full render wrote."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._recording: list[str] | None = None
        self._last_full_render: str | None = None
        self._rendered_for: Size | None = None

    def record(self) -> None:
        self._recording = []

    def stop_recording(self) -> None:
        if self._recording is not None:
            self._last_full_render = "".join(self._recording)
            self._rendered_for = self.get_size()
        self._recording = None

    @property
    def last_full_render(self) -> str | None:
        """None once prompt-toolkit has drawn since, or the terminal has another size (the
        bytes of a wider prompt would wrap)."""
        if self._last_full_render is None or self.get_size() != self._rendered_for:
            return None
        return self._last_full_render

    def flush(self) -> None:
        if self._buffer:
            if self._recording is not None:
                self._recording.extend(self._buffer)
            else:
                self._last_full_render = None  # prompt-toolkit drew by itself: stale now
        super().flush()


def prompt_output(stdout: TextIO) -> PromptOutput:
    """The prompt's output to the terminal on ``stdout``."""
    import os

    output = PromptOutput.from_pty(stdout, term=os.environ.get("TERM"))
    assert isinstance(output, PromptOutput)
    return output


class AbovePrompt:
    """A text stream (the console's file) that writes above ``app`` while it runs."""

    def __init__(self, stream: TextIO, output: PromptOutput) -> None:
        self._stream = stream
        self._output = output
        self.app: Application[Any] | None = None
        # Off while something else has the screen (a question, an editor).
        self.suspended = False
        # Whether the last write ended after text on its row (the live region's last row)
        # rather than at the start of an empty one. Then the cursor is kept at the start of
        # the row below, where the prompt is (or will be) drawn, and the next write goes
        # back up first: so a prompt that comes and goes between two writes (Enter queues a
        # message, a question takes the screen) always finds the cursor where it belongs.
        self._mid_row = False
        self._height: int | None = None

    @contextlib.contextmanager
    def suspend(self) -> Iterator[None]:
        """Something else has the screen meanwhile (a question, an editor)."""
        self.suspended = True
        try:
            yield
        finally:
            self.suspended = False

    @property
    def prompt_shown(self) -> bool:
        app = self.app
        return app is not None and app.is_running and not self.suspended

    def prompt_height(self) -> int:
        """Rows the prompt needs: its lines, the queued ones, the toolbar."""
        app = self.app
        if app is None:
            return 2
        if self._height is not None and self._output.last_full_render is not None:
            return self._height  # the prompt has not changed since
        size = self._output.get_size()
        preferred = app.layout.container.preferred_height(size.columns, size.rows).preferred
        self._height = max(preferred, 2)
        return self._height

    def write(self, text: str) -> int:
        if not self.prompt_shown:
            before = "\r" + _up(1) if self._mid_row else ""
            self._note(text)
            self._stream.write(before + text + ("\r\n" if self._mid_row else ""))
            return len(text)
        assert self.app is not None
        renderer = self.app.renderer
        cursor = renderer._cursor_pos
        out = [BEGIN_SYNC, "\r", _up(cursor.y), ERASE_BELOW, _up(1) if self._mid_row else ""]
        # One synchronized update: the brackets of the text itself would end it early.
        out.append(text.replace(BEGIN_SYNC, "").replace(END_SYNC, ""))
        self._note(text)
        if self._mid_row:
            out.append("\r\n")
        replay = self._output.last_full_render
        if replay is not None:
            out.append(replay + END_SYNC)
            self._stream.write("".join(out))
            self._stream.flush()
            return len(text)
        self._stream.write("".join(out))
        self._stream.flush()
        renderer.reset(leave_alternate_screen=False)
        # What reset forgets: how many rows there are below (learnt by asking the terminal,
        # after which prompt-toolkit takes them all). The prompt needs only its own; and
        # until this is known, prompt-toolkit leaves the toolbar out.
        renderer._min_available_height = self.prompt_height()
        self._output.record()
        try:
            self.app._redraw()
        finally:
            self._output.stop_recording()
        self._stream.write(END_SYNC)
        self._stream.flush()
        return len(text)

    def settle(self) -> None:
        """Nothing streams above any more: the prompt as prompt-toolkit draws it by itself,
        down to the bottom of the screen (it asks the terminal where its cursor is)."""
        if not self.prompt_shown or self._mid_row:
            return
        assert self.app is not None
        self._stream.write(BEGIN_SYNC)
        renderer = self.app.renderer
        renderer.erase(leave_alternate_screen=False)
        renderer.request_absolute_cursor_position()
        self.app._redraw()
        self._stream.write(END_SYNC)
        self._stream.flush()

    def _note(self, text: str) -> None:
        tail = text[max(text.rfind("\n"), text.rfind("\r")) + 1 :]
        if "\n" in text or "\r" in text:
            self._mid_row = bool(_ESCAPES.sub("", tail))
        elif _ESCAPES.sub("", text):
            self._mid_row = True

    def flush(self) -> None:
        self._stream.flush()

    def __getattr__(self, name: str) -> Any:
        # isatty, fileno, encoding, ...: the terminal's.
        return getattr(self._stream, name)


def _up(rows: int) -> str:
    return f"\x1b[{rows}A" if rows > 0 else ""
