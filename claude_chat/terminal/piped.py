"""Not a terminal: each input line is one turn of the same conversation, answers as plain text.

``printf 'Hi\\n/model opus\\nAgain\\n' | claude-chat`` works. The exit status is 0 when every
turn and command succeeded, 1 otherwise.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Sequence
from typing import BinaryIO, TextIO

from claude_chat.engine.config import ChatConfig
from claude_chat.engine.engine import ChatEngine
from claude_chat.engine.errors import ChatError, CommandError
from claude_chat.engine.stats import SessionStats
from claude_chat.store import lock
from claude_chat.store.lock import SessionLock
from claude_chat.store.sessions import RecapLine, SessionSummary
from claude_chat.terminal.commands import message_text, parse_command, registry
from claude_chat.terminal.plain_view import PlainTurnView
from claude_chat.terminal.turn import follow_session, log_internal_error, open_journal, run_turn
from claude_chat.terminal.turn_lines import StyledLine


def clean_line(raw: bytes) -> str:
    """A line as text: invalid UTF-8 replaced, NUL bytes dropped, line ending removed."""
    return raw.decode("utf-8", errors="replace").replace("\x00", "").rstrip("\r\n")


class PipedChat:
    """Reads lines, runs them, and is the ``CommandContext`` for their commands."""

    key_help: Sequence[tuple[str, str]] = ()

    def __init__(
        self,
        config: ChatConfig,
        source: BinaryIO | None = None,
        out: TextIO | None = None,
        err: TextIO | None = None,
        engine: ChatEngine | None = None,
        session_lock: SessionLock | None = None,
    ) -> None:
        self.engine = engine or ChatEngine(config)
        self.session_lock = session_lock or lock.session_lock()
        self.stats = SessionStats()
        self.thinking = config.thinking
        self.source = source or sys.stdin.buffer
        self.out = out or sys.stdout
        self.err = err or sys.stderr
        self._exiting = False
        self._failed = False
        self.listed_sessions: list[SessionSummary] = []
        self.last_message: str | None = None
        self.journal = open_journal(config)

    async def run(self) -> int:
        self.engine.start()
        loop = asyncio.get_running_loop()
        try:
            while not self._exiting:
                # A blocking read in the loop's executor: a pipe may be a regular file, which
                # the event loop cannot watch.
                raw = await loop.run_in_executor(None, self.source.readline)
                if not raw:
                    break
                line = clean_line(raw)
                if line.strip():
                    await self._handle(line)
                    follow_session(self.session_lock, self.engine)
        finally:
            self.journal.close()
            await self.engine.close()
            self.session_lock.release()
        if self.engine.session_id:
            # A script needs the id to go on later; stdout stays the answers.
            session_id = self.engine.session_id
            self.err.write(
                f"session {session_id}\nresume with: claude-chat --session {session_id}\n"
            )
            self.err.flush()
        return 1 if self._failed else 0

    async def _handle(self, line: str) -> None:
        try:
            if parse_command(line) is not None:
                await registry.run(self, line)
            else:
                await self.send_message(message_text(line))
        except ChatError as exc:
            self._failed = True
            self.err.write(f"error: {exc}\n")
            self.err.flush()
        except Exception as exc:  # a bug of ours must not end the chat or lose later lines
            self._failed = True
            log_internal_error(exc)
            self.err.write(f"error: internal error: {exc!r} (details in errors.log)\n")
            self.err.flush()

    async def send_message(self, text: str) -> None:
        self.last_message = text
        view = PlainTurnView(self.out, self.err, self.stats)
        result = await run_turn(self.engine, text, view, self.stats, self.journal)
        self._failed |= result.is_error

    # -- CommandContext ------------------------------------------------------------------

    def say(self, text: str) -> None:
        self.out.write(text + "\n")
        self.out.flush()

    def show_table(self, headers: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
        # Tab-separated: easy to read and to cut.
        self.say("\n".join("\t".join(row) for row in [list(headers), *rows]))

    def show_lines(self, lines: Sequence[StyledLine]) -> None:
        self.say("\n".join(line.text for line in lines))

    def show_recap(self, lines: Sequence[RecapLine]) -> None:
        # The recap is for a person looking at a screen; piped output stays the answers.
        pass

    async def confirm(self, question: str) -> bool:
        self.err.write(question + "no (nobody can answer in piped mode)\n")
        return False

    def copy_to_clipboard(self, text: str) -> None:
        raise CommandError("/copy needs a terminal; in piped mode the answers are on stdout")

    def show_pairs(self, pairs: Sequence[tuple[str, str]]) -> None:
        width = max((len(name) for name, _ in pairs), default=0)
        self.say("\n".join(f"{name.ljust(width)}  {value}" for name, value in pairs))

    def request_exit(self) -> None:
        self._exiting = True
