"""Key bindings of the prompt. Each handler's docstring is its line in /help."""

from __future__ import annotations

from collections.abc import Callable

from prompt_toolkit.key_binding import KeyBindings, KeyPressEvent

KEY_HELP: list[tuple[str, str]] = []


def prompt_key_bindings(on_idle_interrupt: Callable[[], None]) -> KeyBindings:
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
            on_idle_interrupt()

    KEY_HELP.clear()
    described("Alt+Enter, Esc Enter, Ctrl+J", _newline)
    described("Ctrl+C", _cancel)
    KEY_HELP.extend(
        [
            ("Ctrl+C while answering", "Interrupt the answer; the session goes on."),
            ("Ctrl+L", "Clear the screen; the conversation goes on (/clear starts a new one)."),
            ("Ctrl+R", "Search the history."),
            ("Tab", "Complete a slash command."),
            ("Ctrl+D", "Quit."),
        ]
    )
    return bindings
