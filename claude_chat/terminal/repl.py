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
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from prompt_toolkit import PromptSession, print_formatted_text
from prompt_toolkit.application import in_terminal
from prompt_toolkit.completion import CompleteEvent, Completer, Completion, merge_completers
from prompt_toolkit.document import Document
from prompt_toolkit.formatted_text import HTML, FormattedText
from prompt_toolkit.history import FileHistory
from prompt_toolkit.input.typeahead import get_typeahead, store_typeahead
from prompt_toolkit.key_binding import KeyPressEvent
from prompt_toolkit.keys import Keys

from claude_chat import __version__
from claude_chat.engine.attachments import ContentBlock, attachments_for, human_size, shell_context
from claude_chat.engine.config import THINKING_DISPLAYS, ChatConfig, data_dir, private_file
from claude_chat.engine.engine import ChatEngine
from claude_chat.engine.errors import ChatError
from claude_chat.engine.events import PermissionDecision, PermissionRequest
from claude_chat.engine.stats import SessionStats
from claude_chat.store import lock
from claude_chat.store.lock import SessionLock
from claude_chat.store.sessions import RecapLine, SessionSummary
from claude_chat.terminal.above_prompt import AbovePrompt, prompt_output
from claude_chat.terminal.commands import command_summary, not_ours, registry
from claude_chat.terminal.keys import KEY_HELP, PromptActions, prompt_key_bindings
from claude_chat.terminal.notify import DEFAULT_AFTER_S, Notifier
from claude_chat.terminal.path_completion import MentionCompleter
from claude_chat.terminal.turn import (
    TurnView,
    follow_session,
    log_internal_error,
    open_journal,
    run_turn,
)
from claude_chat.terminal.turn_lines import StyledLine

if TYPE_CHECKING:
    from rich.console import Console, RenderableType

    from claude_chat.terminal.live_view import LiveTurnView


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
# What Shift+Tab steps through, as in Claude Code.
PERMISSION_CYCLE = ("default", "acceptEdits", "plan")
# Commands typed while Claude answers that run at once; the others wait in the queue.
AT_ONCE = ("status", "help", "todos", "model")


class Repl:
    """The interactive front; also the ``CommandContext`` its commands talk to."""

    def __init__(
        self,
        config: ChatConfig,
        make_console: Callable[[], Console],
        session_lock: SessionLock | None = None,
        notify_after_s: float | None = DEFAULT_AFTER_S,
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
        # The answer drawn in place while the prompt is up: what else is printed meanwhile
        # goes above it.
        self._live_view: LiveTurnView | None = None
        self.last_message: str | None = None
        self.journal = open_journal(config)
        self.engine.ask_permission = self._ask_permission
        self._asking = asyncio.Lock()
        self._exiting = False
        self._hint = ""
        # Shell commands run since the last message, for Claude with the next one.
        self._shell_context: list[ContentBlock] = []
        # What the next prompt starts with: a message given back to be fixed, an edit.
        self._next_text = ""
        self.notifier = Notifier(sys.stdout, notify_after_s)
        # While Claude answers (or a command runs) the prompt stays up: messages typed then
        # wait here, and Ctrl+C on an empty prompt calls ``_stop``.
        self._queue: list[str] = []
        self._worker: asyncio.Task[None] | None = None
        self._stop: Callable[[], None] | None = None
        self._prompt_output = prompt_output(sys.stdout)
        self._above = AbovePrompt(sys.stdout, self._prompt_output)
        history = private_file(data_dir() / "history")
        actions = PromptActions(
            idle_interrupt=self._idle_ctrl_c,
            cycle_permission_mode=self._cycle_permission_mode,
            edit=self._edit_in_editor,
            focus=lambda event: self.notifier.take(event.key_sequence[0]),
            busy=lambda: self._worker is not None,
            queued=lambda: self._queue,
        )
        self.prompt_session: PromptSession[str] = PromptSession(
            output=self._prompt_output,
            history=FileHistory(str(history)),
            key_bindings=prompt_key_bindings(actions),
            bottom_toolbar=self._toolbar,
            completer=merge_completers([SlashCompleter(self.engine), MentionCompleter(self._cwd)]),
            complete_while_typing=True,
            multiline=False,
            enable_open_in_editor=False,
        )

    # -- the loop ------------------------------------------------------------------------

    @property
    def console(self) -> Console:
        if self._console is None:
            self._console = self._make_console()
            self._console.file = self._above  # type: ignore[assignment]
        return self._console

    @property
    def _prompt_while_working(self) -> bool:
        """Whether the prompt stays up while Claude answers: where the answer is drawn in
        place (a plain terminal's answer is text as it comes, which cannot go above it)."""
        console = self.console
        return console.is_terminal and not console.is_dumb_terminal and not console.no_color

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
            self.notifier.start()
            try:
                while not self._exiting:
                    default, self._next_text = self._next_text, ""
                    app = self.prompt_session.app
                    app.erase_when_done = False
                    self._above.app = app
                    try:
                        line = await self.prompt_session.prompt_async(
                            self._prompt, pre_run=self._after_paint, default=default
                        )
                    except EOFError:
                        break
                    except KeyboardInterrupt:
                        continue
                    finally:
                        self._above.app = None
                    self._hint = ""
                    if not line.strip():
                        continue
                    if self._worker is not None:
                        self._while_working(line)
                    elif self._prompt_while_working:
                        self._worker = asyncio.get_running_loop().create_task(self._work(line))
                    else:
                        await self._handle(line)
                # Ctrl+D while Claude answers: the chat ends once the answer has.
                self._queue.clear()
                if self._worker is not None:
                    await asyncio.wait([self._worker])
            finally:
                if self._worker is not None:
                    self._worker.cancel()
                    await asyncio.wait([self._worker])
                self.notifier.stop()
                self.journal.close()
                await self.engine.close()
                self.session_lock.release()
        if self.engine.session_id:
            self._print_line(
                f"Resume this conversation with: claude-chat --session {self.engine.session_id}",
                "dim",
            )
        return self.exit_code

    def _while_working(self, line: str) -> None:
        """A line entered while Claude answers: a command that only shows something runs at
        once, anything else waits for its turn."""
        from claude_chat.terminal.commands import parse_command

        command = parse_command(line)
        found = registry.lookup(command[0]) if command is not None else None
        if found is not None and found.name in AT_ONCE:
            task = asyncio.get_running_loop().create_task(self._handle(line))
            task.add_done_callback(lambda _: None)
        else:
            self._queue.append(line)

    async def _work(self, line: str) -> None:
        """Handle ``line``, then what was queued meanwhile, in order, with the prompt up."""
        # Rows kept empty below the prompt for a completion menu would be taken from the
        # answer above it.
        session = self.prompt_session
        menu_rows, session.reserve_space_for_menu = session.reserve_space_for_menu, 0
        try:
            await self._handle(line)
            while self._queue and not self._exiting:
                line = self._queue.pop(0)
                self._echo(line)
                self._invalidate()
                await self._handle(line)
        finally:
            self._worker = None
            session.reserve_space_for_menu = menu_rows
            self._above.settle()

    def _echo(self, line: str) -> None:
        """A queued line, now sent, as the prompt showed it when it was typed."""
        from rich.text import Text

        self._show(Text("❯ ", style="bold cyan") + Text(line))

    async def _handle(self, line: str) -> None:
        from claude_chat.terminal.commands import message_text, parse_command

        try:
            if line.startswith("!"):
                await self._shell(line[1:].strip())
            elif parse_command(line) is not None:
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
        follow_session(self.session_lock, self.engine)

    async def send_message(self, text: str) -> None:
        await self._turn(text)

    async def _turn(self, text: str) -> None:
        # The turn's times count from here: making the first answer view can take a while
        # (its modules may still be loading in the background), and the user waits for it too.
        sent_at = time.monotonic()
        self.last_message = text
        blocks = await self._blocks_for(text)
        if blocks is None:
            return
        view = self._view()
        interrupting: list[asyncio.Task[None]] = []

        def on_key() -> None:
            for key in self.prompt_session.input.read_keys():
                if self.notifier.take(key):
                    continue
                if key.key == Keys.ControlC and not interrupting:
                    view.set_status("interrupting")
                    interrupting.append(asyncio.ensure_future(self.engine.interrupt()))
                elif key.key not in (Keys.ControlC, Keys.CPRResponse):
                    # What the user types during an answer (the next message, a paste, Ctrl+D)
                    # is replayed into the next prompt, as a shell does with typeahead.
                    store_typeahead(self.prompt_session.input, [key])

        def interrupt() -> None:
            if not interrupting:
                view.set_status("interrupting")
                interrupting.append(asyncio.ensure_future(self.engine.interrupt()))

        from claude_chat.terminal.live_view import LiveTurnView

        self._active_view = view
        if self._worker is not None and isinstance(view, LiveTurnView):
            self._live_view = view
        try:
            with self._keys_while_working(on_key, interrupt):
                result = await run_turn(
                    self.engine, text, view, self.stats, self.journal, sent_at, blocks
                )
        finally:
            self._active_view = None
            self._live_view = None
        self.notifier.answer_ended(result.duration_s, "Claude has answered")
        for task in interrupting:
            await task

    async def _blocks_for(self, text: str) -> list[ContentBlock] | None:
        """What goes with ``text``: the files it mentions, then the shell commands run since
        the last message; None when a mentioned file cannot go (said in one line, and the
        message is back in the prompt to be fixed)."""
        from claude_chat.engine.attachments import AttachmentError

        try:
            attached = await attachments_for(text, self._cwd())
        except AttachmentError as exc:
            self._print_line(f"✗ {exc}", "red")
            self._into_prompt(text)
            return None
        described = [a.describe() for a in attached]
        if self._shell_context:
            size = sum(len(b["text"].encode()) for b in self._shell_context)
            count = len(self._shell_context)
            described.append(f"{count} shell command{'s' * (count > 1)} ({human_size(size)})")
        if described:
            self._print_line("  ⎿ with " + " · ".join(described), "dim")
        blocks = [a.block for a in attached] + self._shell_context
        self._shell_context = []
        return blocks

    @contextlib.asynccontextmanager
    async def _whole_screen(self, pause_answer: bool = True) -> AsyncIterator[None]:
        """The prompt (if it is up) leaves the screen and the keyboard to a question or an
        editor meanwhile, and comes back as it was; so does the answer streaming above it."""
        view = self._active_view if pause_answer else None
        if view is not None:
            view.pause()
        try:
            async with in_terminal():
                with self._above.suspend():
                    yield
        finally:
            if view is not None:
                view.resume()

    def _cwd(self) -> Path:
        return Path(self.engine.cwd or self.engine.config.cwd or os.getcwd())

    async def _shell(self, command: str) -> None:
        """``!command``: its output as it comes, Ctrl+C stops it; it goes to Claude with the
        next message."""
        from claude_chat.terminal.shell import ShellCommand

        if not command:
            self._print_line("! runs a shell command: !git status", "dim")
            return
        shell = ShellCommand(command, self._cwd())
        out = self.console.file
        # Whole lines only: the prompt below is drawn again after each write, from the
        # start of a row.
        partial = [""]

        def show(text: str) -> None:
            lines = (partial[0] + text).split("\n")
            partial[0] = lines.pop()
            if lines:
                out.write("\n".join(lines) + "\n")
                out.flush()

        def on_key() -> None:
            for key in self.prompt_session.input.read_keys():
                if self.notifier.take(key):
                    continue
                if key.key == Keys.ControlC:
                    shell.stop()
                elif key.key != Keys.CPRResponse:
                    store_typeahead(self.prompt_session.input, [key])

        try:
            with self._keys_while_working(on_key, shell.stop):
                run = await shell.run(show)
        except OSError as exc:
            self._print_line(f"✗ cannot run {command[:40]}: {exc.strerror or exc}", "red")
            return
        if partial[0]:
            out.write(partial[0] + "\n")
        if run.status is None:
            self._print_line("⏹ stopped", "yellow")
        else:
            self._print_line(f"exit status {run.status}", "dim" if run.status == 0 else "red")
        self._shell_context.append(shell_context(run.command, run.output, run.status))

    def _cycle_permission_mode(self) -> None:
        mode = self.engine.permission_mode
        index = PERMISSION_CYCLE.index(mode) if mode in PERMISSION_CYCLE else -1
        target = PERMISSION_CYCLE[(index + 1) % len(PERMISSION_CYCLE)]

        async def switch() -> None:
            try:
                await self.engine.set_permission_mode(target)  # type: ignore[arg-type]
            except ChatError as exc:
                self._hint = str(exc)
            self._invalidate()

        self.prompt_session.app.create_background_task(switch())

    def _edit_in_editor(self, event: KeyPressEvent) -> None:
        buffer = event.current_buffer

        async def edit() -> None:
            text = await self._edited(buffer.text)
            if text is not None:
                buffer.text = text
                buffer.cursor_position = len(text)

        event.app.create_background_task(edit())

    async def _edited(self, text: str) -> str | None:
        """``text`` through the user's editor, with the terminal handed over meanwhile."""
        from claude_chat.terminal import editor

        try:
            async with self._whole_screen():
                edited = await editor.edit(text)
        except ChatError as exc:
            self._hint = str(exc)
            return None
        finally:
            # An editor that reports focus itself turns the reports off as it leaves.
            self.notifier.start()
        return edited

    async def edit_message(self, text: str) -> None:
        edited = await self._edited(text)
        if edited is not None:
            self._into_prompt(edited)

    def _into_prompt(self, text: str) -> None:
        """``text`` in the prompt to be edited: the one on screen when it is up (and empty),
        else the next one."""
        buffer = self.prompt_session.default_buffer
        if self.prompt_session.app.is_running and not buffer.text:
            buffer.text = text
            buffer.cursor_position = len(text)
        else:
            self._next_text = text

    async def _ask_permission(self, request: PermissionRequest) -> PermissionDecision:
        """Claude Code asks whether a tool call may run: show it and ask, with the answer
        region paused. Keys typed ahead of the question are kept for the next prompt, never
        taken as its answer."""
        # Claude Code may ask about parallel tool calls at once: one question at a time.
        async with self._asking:
            return await self._ask_permission_now(request)

    async def _ask_permission_now(self, request: PermissionRequest) -> PermissionDecision:
        from claude_chat.terminal.describe import permission_lines
        from claude_chat.terminal.permission_prompt import ask_decision

        view = self._active_view
        if view is not None:
            view.pause()
        # Keys already typed, read or not, belong to the next message: a "y" in it must not
        # answer a question that showed up while it was being typed. (With the prompt up they
        # are in it already.)
        source = self.prompt_session.input
        typed_ahead = []
        if self._worker is None:
            typed_ahead = [
                *get_typeahead(source),
                *(k for k in source.read_keys() if not self.notifier.take(k)),
            ]
        try:
            async with self._whole_screen(pause_answer=False):  # paused above
                for line, style in permission_lines(request, self.console.width):
                    self._print_line(line, style)
                try:
                    return await ask_decision()
                except (KeyboardInterrupt, EOFError):
                    self._print_line("⏹ denied, and the answer is interrupted", "yellow")
                    return PermissionDecision("deny", "The user interrupted.", interrupt=True)
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
            reserved = self._above.prompt_height if self._worker is not None else (lambda: 0)
            return LiveTurnView(self.console, self.stats, self.thinking, reserved_rows=reserved)
        out = sys.stdout
        return PlainTurnView(out, out, self.stats, self.console.width)

    @contextlib.contextmanager
    def _keys_while_working(
        self, on_key: Callable[[], None], stop: Callable[[], None]
    ) -> Iterator[None]:
        """Keys while Claude answers or a command runs: the prompt's when it stays up (Ctrl+C
        on it empty calls ``stop``), else read here by ``on_key``."""
        if self._worker is None:
            with self._raw_keys(on_key):
                yield
            return
        self._stop = stop
        try:
            yield
        finally:
            self._stop = None

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
        queued = [("#888888", f"queued: {line.splitlines()[0]}\n") for line in self._queue]
        return FormattedText([*queued, ("ansicyan bold", "❯ ")])

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
        if self._stop is not None:
            self._stop()
            return
        self._hint = "Ctrl+C interrupts an answer. To quit: Ctrl+D or /exit"
        self._invalidate()

    def _invalidate(self) -> None:
        app = self.prompt_session.app
        if app.is_running:
            app.invalidate()

    # -- CommandContext ------------------------------------------------------------------

    def _print_line(self, text: str, style: str = "") -> None:
        from rich.text import Text

        self._show(Text(text, style=style))

    def _show(self, renderable: RenderableType) -> None:
        if self._live_view is not None:
            self._live_view.show(renderable)
        else:
            self.console.print(renderable)

    def say(self, text: str) -> None:
        self._print_line(text)

    def show_table(self, headers: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
        from claude_chat.terminal.render import table

        self._show(table(headers, rows))

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
            async with self._whole_screen():
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
        self._show(table)

    def request_exit(self) -> None:
        self._exiting = True
        app = self.prompt_session.app
        if app.is_running and self._worker is not None:
            app.erase_when_done = True
            app.exit(exception=EOFError())
