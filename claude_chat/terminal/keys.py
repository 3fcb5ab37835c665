"""Key bindings of the prompt. Each handler's docstring is its line in /help."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from prompt_toolkit.application import get_app
from prompt_toolkit.filters import Condition
from prompt_toolkit.key_binding import KeyBindings, KeyPressEvent
from prompt_toolkit.keys import Keys

KEY_HELP: list[tuple[str, str]] = []


@dataclass(frozen=True)
class PromptActions:
    """What the prompt's keys ask of the chat."""

    idle_interrupt: Callable[[], None]
    cycle_permission_mode: Callable[[], None]
    edit: Callable[[KeyPressEvent], None]
    # A focus report from the terminal (DEC mode 1004): its bytes.
    focus: Callable[[KeyPressEvent], object]
    # Whether Claude is answering (or a command runs): Enter then queues the message.
    busy: Callable[[], bool] = lambda: False
    # The messages queued, oldest first; the last one can be taken back.
    queued: Callable[[], list[str]] = list


def prompt_key_bindings(actions: PromptActions) -> KeyBindings:
    bindings = KeyBindings()

    def described(keys: str, handler: Callable[[KeyPressEvent], None]) -> None:
        KEY_HELP.append((keys, (handler.__doc__ or "").strip()))

    @bindings.add("escape", "enter")
    @bindings.add("c-j")
    def _newline(event: KeyPressEvent) -> None:
        """Insert a new line (Enter sends)."""
        event.current_buffer.insert_text("\n")

    @bindings.add("c-c")
    def _cancel(event: KeyPressEvent) -> None:
        """Clear the line (kept in history); on an empty line, a hint."""
        buffer = event.current_buffer
        if buffer.text.strip():
            buffer.append_to_history()
            buffer.reset()
        else:
            actions.idle_interrupt()

    @bindings.add("enter", filter=Condition(actions.busy))
    def _queue(event: KeyPressEvent) -> None:
        """While Claude answers: queue the message; it is sent when the answer ends."""
        # The line goes above the prompt as "queued: ...", not into the scrollback as sent.
        event.app.erase_when_done = True
        event.current_buffer.validate_and_handle()

    @bindings.add("c-d", filter=Condition(actions.busy))
    def _quit_after(event: KeyPressEvent) -> None:
        """While Claude answers: quit once the answer has ended."""
        buffer = event.current_buffer
        if buffer.text:
            buffer.delete()
        else:
            event.app.erase_when_done = True  # the answer goes on where the prompt was
            event.app.exit(exception=EOFError())

    @bindings.add("c-l", filter=Condition(actions.busy))
    def _no_clear(event: KeyPressEvent) -> None:
        """While Claude answers the screen stays: the answer is drawn in place above."""

    @Condition
    def can_take_back() -> bool:
        return bool(actions.queued()) and not get_app().current_buffer.text

    @bindings.add("up", filter=can_take_back)
    def _up(event: KeyPressEvent) -> None:
        """On an empty prompt while messages wait: take the last queued one back to edit."""
        text = actions.queued().pop()
        event.current_buffer.text = text
        event.current_buffer.cursor_position = len(text)

    @bindings.add("s-tab")
    def _cycle(event: KeyPressEvent) -> None:
        """Permission mode: default → acceptEdits → plan → default (shown in the toolbar)."""
        actions.cycle_permission_mode()

    @bindings.add("c-g")
    def _edit(event: KeyPressEvent) -> None:
        """Edit the message in $VISUAL or $EDITOR; saving puts it back here."""
        actions.edit(event)

    @bindings.add(Keys.Ignore)
    def _focus(event: KeyPressEvent) -> None:
        actions.focus(event)

    KEY_HELP.clear()
    described("Alt+Enter, Esc Enter, Ctrl+J", _newline)
    described("Ctrl+C", _cancel)
    described("Enter while answering", _queue)
    described("Up on an empty prompt", _up)
    described("Shift+Tab", _cycle)
    described("Ctrl+G", _edit)
    KEY_HELP.extend(
        [
            ("Ctrl+C while answering", "Interrupt the answer; the session goes on."),
            ("Ctrl+L", "Clear the screen; the conversation goes on (/clear starts a new one)."),
            ("Ctrl+R", "Search the history."),
            ("Tab", "Complete a slash command, or a path after @."),
            ("@path", "Attach a file, a directory's listing or a picture to the message."),
            (
                "!command",
                "Run a shell command; Claude gets it and its output with your next message.",
            ),
            ("Ctrl+D", "Quit."),
        ]
    )
    return bindings
