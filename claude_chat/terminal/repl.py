"""The interactive chat: a prompt-toolkit prompt, and a live view while Claude answers.

The REPL owns loop control: EOF quits, Ctrl+C during an answer interrupts that turn through
the control protocol (the terminal is in raw mode, so no signal reaches the CLI), and an error
in one input is shown in one line while the loop goes on.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import os
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING

from prompt_toolkit import PromptSession, print_formatted_text
from prompt_toolkit.completion import CompleteEvent, Completer, Completion
from prompt_toolkit.document import Document
from prompt_toolkit.formatted_text import HTML, FormattedText
from prompt_toolkit.history import FileHistory
from prompt_toolkit.input.typeahead import get_typeahead, store_typeahead
from prompt_toolkit.keys import Keys

from claude_chat import __version__
from claude_chat.engine.config import THINKING_DISPLAYS, ChatConfig, data_dir, private_file
from claude_chat.engine.engine import ChatEngine
from claude_chat.engine.errors import ChatError
from claude_chat.engine.events import PermissionDecision, PermissionRequest
from claude_chat.engine.stats import SessionStats
from claude_chat.store import lock
from claude_chat.store.lock import SessionLock
from claude_chat.store.sessions import RecapLine, SessionSummary
from claude_chat.terminal.commands import command_summary, not_ours, registry
from claude_chat.terminal.keys import KEY_HELP, prompt_key_bindings
from claude_chat.terminal.turn import (
    TurnView,
    follow_session,
    log_internal_error,
    open_journal,
    run_turn,
)
from claude_chat.terminal.turn_lines import StyledLine

if TYPE_CHECKING:
    from rich.console import Console


class SlashCompleter(Completer):
    def __init__(self, engine: ChatEngine) -> None:
        self.engine = engine

    def get_completions(
        self, document: Document, complete_event: CompleteEvent
    ) -> Iterable[Completion]:
        text = document.text_before_cursor
        if not text.startswith("/") or "\n" in text:
            return
        theirs = not_ours(self.engine.claude_commands)
        if " " not in text:
            typed = text[1:].lower()
            for command in registry.commands:
                for name in (command.name, *command.aliases):
                    if name.startswith(typed) and name != "?":
                        yield Completion("/" + name, -len(text), display_meta=command.summary)
            for claude in theirs:
                for name in claude.names:
                    if name.lower().startswith(typed):
                        summary = command_summary(claude.description, 60)
                        yield Completion("/" + name, -len(text), display_meta=summary)
            return
        name, _, arg = text[1:].partition(" ")
        choices: Sequence[str] = ()
        if name == "model":
            choices = [m.alias for m in self.engine.models]
        elif name == "thinking":
            choices = THINKING_DISPLAYS
        elif name == "help":
            choices = [c.name for c in registry.commands] + [c.name for c in theirs]
        for choice in choices:
            if choice.startswith(arg) and " " not in arg:
                yield Completion(choice, -len(arg))


# From here on the toolbar's context figure is highlighted and suggests /compact.
_CONTEXT_WARNING_PERCENT = 80
_PERMISSION_PROMPT = FormattedText(
    [("bold", "Allow? "), ("", "y once · a always (this session) · n deny [reason] › ")]
)


def parse_permission_answer(answer: str) -> PermissionDecision | None:
    """``y`` once, ``a`` always, ``n [reason]`` deny (the reason goes to Claude); None when the
    answer is none of these and the question must be asked again."""
    words = answer.strip().split(maxsplit=1)
    if not words:
        return None
    first = words[0].lower()
    if first in ("y", "yes"):
        return PermissionDecision("once")
    if first in ("a", "always"):
        return PermissionDecision("always")
    if first in ("n", "no"):
        reason = words[1] if len(words) > 1 else ""
        message = "The user denied this tool call" + (f": {reason}" if reason else ".")
        return PermissionDecision("deny", message)
    return None


class Repl:
    """The interactive front; also the ``CommandContext`` its commands talk to."""

    def __init__(
        self,
        config: ChatConfig,
        make_console: Callable[[], Console],
        session_lock: SessionLock | None = None,
    ) -> None:
        # rich is imported on first use, not before the first prompt.
        self._make_console = make_console
        self._console: Console | None = None
        self.engine = ChatEngine(config, on_change=self._invalidate)
        self.session_lock = session_lock or lock.session_lock()
        self.stats = SessionStats()
        self.thinking = config.thinking
        self.key_help: Sequence[tuple[str, str]] = KEY_HELP
        self.exit_code = 0
        self.listed_sessions: list[SessionSummary] = []
        self._active_view: TurnView | None = None
        self.last_message: str | None = None
        self.journal = open_journal(config)
        self.engine.ask_permission = self._ask_permission
        self._asking = asyncio.Lock()
        self._exiting = False
        self._hint = ""
        history = private_file(data_dir() / "history")
        self.prompt_session: PromptSession[str] = PromptSession(
            history=FileHistory(str(history)),
            key_bindings=prompt_key_bindings(self._idle_ctrl_c),
            bottom_toolbar=self._toolbar,
            completer=SlashCompleter(self.engine),
            complete_while_typing=True,
            multiline=False,
            enable_open_in_editor=False,
        )

    # -- the loop ------------------------------------------------------------------------

    @property
    def console(self) -> Console:
        if self._console is None:
            self._console = self._make_console()
        return self._console

    async def run(self) -> int:
        print_formatted_text(
            FormattedText(
                [
                    ("bold", "claude-chat "),
                    ("#888888", f"{__version__} · /help for commands · Ctrl+D to quit"),
                ]
            )
        )
        if self.engine.session_id:
            # Claude Code boots while the recap is read: both wait for the SDK's import.
            self.engine.start()
            await self._recap_at_start(self.engine.session_id)
        # The terminal stays in raw mode from the first prompt to the last, answers and
        # commands included: a key typed between an answer and the next prompt is then kept
        # for that prompt as typed, instead of being echoed and turned into a newline (or an
        # end of file) by the terminal's line editing.
        with self.prompt_session.input.raw_mode():
            try:
                while not self._exiting:
                    try:
                        line = await self.prompt_session.prompt_async(
                            self._prompt, pre_run=self._after_paint
                        )
                    except EOFError:
                        break
                    except KeyboardInterrupt:
                        continue
                    self._hint = ""
                    if line.strip():
                        await self._handle(line)
                        follow_session(self.session_lock, self.engine)
            finally:
                self.journal.close()
                await self.engine.close()
                self.session_lock.release()
        if self.engine.session_id:
            self._print_line(
                f"Resume this conversation with: claude-chat --session {self.engine.session_id}",
                "dim",
            )
        return self.exit_code

    async def _handle(self, line: str) -> None:
        from claude_chat.terminal.commands import message_text, parse_command

        try:
            if parse_command(line) is not None:
                await registry.run(self, line)
            else:
                await self._turn(message_text(line))
        except ChatError as exc:
            self._print_line(f"✗ {exc}", "red")
        except Exception as exc:  # a bug of ours must not end the chat
            log_internal_error(exc)
            self._print_line(
                f"✗ internal error: {exc!r} (details in {data_dir()}/errors.log)", "red"
            )

    async def send_message(self, text: str) -> None:
        await self._turn(text)

    async def _turn(self, text: str) -> None:
        # The turn's times count from here: making the first answer view can take a while
        # (its modules may still be loading in the background), and the user waits for it too.
        sent_at = time.monotonic()
        self.last_message = text
        view = self._view()
        interrupting: list[asyncio.Task[None]] = []

        def on_key() -> None:
            for key in self.prompt_session.input.read_keys():
                if key.key == Keys.ControlC and not interrupting:
                    view.set_status("interrupting")
                    interrupting.append(asyncio.ensure_future(self.engine.interrupt()))
                elif key.key not in (Keys.ControlC, Keys.CPRResponse):
                    # What the user types during an answer (the next message, a paste, Ctrl+D)
                    # is replayed into the next prompt, as a shell does with typeahead.
                    store_typeahead(self.prompt_session.input, [key])

        self._active_view = view
        try:
            with self._raw_keys(on_key):
                await run_turn(self.engine, text, view, self.stats, self.journal, sent_at)
        finally:
            self._active_view = None
        for task in interrupting:
            await task

    async def _ask_permission(self, request: PermissionRequest) -> PermissionDecision:
        """Claude Code asks whether a tool call may run: show it and ask, with the answer
        region paused. Keys typed ahead of the question are kept for the next prompt, never
        taken as its answer."""
        # Claude Code may ask about parallel tool calls at once: one question at a time.
        async with self._asking:
            return await self._ask_permission_now(request)

    async def _ask_permission_now(self, request: PermissionRequest) -> PermissionDecision:
        from claude_chat.terminal.describe import permission_lines

        view = self._active_view
        if view is not None:
            view.pause()
        typed_ahead = get_typeahead(self.prompt_session.input)
        try:
            for line, style in permission_lines(request, self.console.width):
                self._print_line(line, style)
            while True:
                try:
                    answer = await PromptSession[str]().prompt_async(_PERMISSION_PROMPT)
                except (KeyboardInterrupt, EOFError):
                    self._print_line("⏹ denied, and the answer is interrupted", "yellow")
                    return PermissionDecision("deny", "The user interrupted.", interrupt=True)
                decision = parse_permission_answer(answer)
                if decision is not None:
                    return decision
                self._print_line("answer y (once), a (always) or n (n REASON tells Claude why)")
        finally:
            store_typeahead(self.prompt_session.input, typed_ahead)
            if view is not None:
                view.resume()

    async def _recap_at_start(self, session_id: str) -> None:
        from claude_chat.store.sessions import recap

        try:
            lines = await asyncio.get_running_loop().run_in_executor(None, recap, session_id)
        except Exception as exc:  # the chat can go on without a recap
            log_internal_error(exc)
            return
        if lines:
            self._print_line(f"resuming session {session_id}; where it ended:", "dim")
            self.show_recap(lines)

    def _view(self) -> TurnView:
        from claude_chat.terminal.live_view import LiveTurnView
        from claude_chat.terminal.plain_view import PlainTurnView

        if (
            self.console.is_terminal
            and not self.console.is_dumb_terminal
            and not self.console.no_color
        ):
            return LiveTurnView(self.console, self.stats, self.thinking)
        out = sys.stdout
        return PlainTurnView(out, out, self.stats, self.console.width)

    @contextlib.contextmanager
    def _raw_keys(self, on_key: object) -> Iterator[None]:
        # Keys come to us as bytes, Ctrl+C included, instead of a SIGINT that the whole
        # process group (the CLI too) would get.
        # Bracketed paste stays on, so a multi-line paste during an answer arrives as one
        # key press and becomes one message, not one message per line.
        source = self.prompt_session.input
        output = self.prompt_session.app.output
        with source.raw_mode(), source.attach(on_key):  # type: ignore[arg-type]
            output.enable_bracketed_paste()
            output.flush()
            try:
                yield
            finally:
                output.disable_bracketed_paste()
                output.flush()

    def _after_paint(self) -> None:
        # Start Claude Code once the first prompt is painted: the SDK import runs in a worker
        # thread and would otherwise compete with drawing the prompt for the interpreter.
        if self.engine.state == "stopped":
            loop = asyncio.get_running_loop()
            loop.call_soon(self.engine.start)
            # The answer view's modules (rich's markdown, markdown-it) load meanwhile, not
            # between Enter and sending the first message.
            loop.run_in_executor(None, importlib.import_module, "claude_chat.terminal.live_view")

    # -- prompt decoration ---------------------------------------------------------------

    def _prompt(self) -> FormattedText:
        return FormattedText([("ansicyan bold", "❯ ")])

    def _toolbar(self) -> HTML | FormattedText:
        engine = self.engine
        if self._hint:
            return FormattedText([("", f" {self._hint} ")])
        state = {
            "starting": "starting Claude Code…",
            "ready": "ready",
            # Running and not busy: Claude Code is clearing for a new conversation.
            "running": "answering…" if engine.busy else "starting a new conversation…",
            "stopped": "Claude Code stopped (restarts with your next message)",
            "failed": "Claude Code failed to start (see /status)",
            "closed": "closed",
        }[engine.state]
        session = engine.session_id[:8] if engine.session_id else "new session"
        head = " " + " · ".join([engine.model or "default model", session, engine.permission_mode])
        percent = engine.context_percent
        if percent is None:
            context = []
        elif percent >= _CONTEXT_WARNING_PERCENT:
            # Nearly full: Claude Code will compact on its own soon, at a moment of its choice.
            context = [
                ("", " · "),
                ("bg:ansiyellow fg:ansiblack bold", f" context {percent}% · /compact "),
            ]
        else:
            context = [("", f" · context {percent}%")]
        return FormattedText([("", head), *context, ("", f" · {state} ")])

    def _idle_ctrl_c(self) -> None:
        self._hint = "Ctrl+C interrupts an answer. To quit: Ctrl+D or /exit"
        self._invalidate()

    def _invalidate(self) -> None:
        app = self.prompt_session.app
        if app.is_running:
            app.invalidate()

    # -- CommandContext ------------------------------------------------------------------

    def _print_line(self, text: str, style: str = "") -> None:
        from rich.text import Text

        self.console.print(Text(text, style=style))

    def say(self, text: str) -> None:
        self._print_line(text)

    def show_table(self, headers: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
        from claude_chat.terminal.render import table

        self.console.print(table(headers, rows))

    def show_lines(self, lines: Sequence[StyledLine]) -> None:
        from claude_chat.terminal.render import styled_text

        for line in lines:
            self.console.print(styled_text(line))

    def show_recap(self, lines: Sequence[RecapLine]) -> None:
        from claude_chat.terminal.describe import recap_line

        for line in lines:
            self._print_line(recap_line(line, self.console.width), "dim")

    async def confirm(self, question: str) -> bool:
        answer_session: PromptSession[str] = PromptSession()
        try:
            answer = await answer_session.prompt_async(question)
        except (EOFError, KeyboardInterrupt):
            return False
        return answer.strip().lower() in ("y", "yes")

    def copy_to_clipboard(self, text: str) -> None:
        import base64

        # OSC 52 asks the terminal itself to set its clipboard, so it works over SSH; inside
        # tmux the request is also passed through to the outer terminal.
        payload = base64.b64encode(text.encode("utf-8")).decode("ascii")
        sequence = f"\x1b]52;c;{payload}\x07"
        if os.environ.get("TMUX"):
            sequence += "\x1bPtmux;" + sequence.replace("\x1b", "\x1b\x1b") + "\x1b\\"
        out = self.console.file
        out.write(sequence)
        out.flush()

    def show_pairs(self, pairs: Sequence[tuple[str, str]]) -> None:
        from rich.table import Table
        from rich.text import Text

        table = Table.grid(padding=(0, 2))
        table.add_column(style="bold", no_wrap=True)
        table.add_column()
        for name, value in pairs:
            table.add_row(Text(name), Text(value))
        self.console.print(table)

    def request_exit(self) -> None:
        self._exiting = True
