"""The answer to a permission question, on one key: ``y`` once, ``a`` always, ``n`` deny.

``n`` turns the line into a question for a reason (Enter alone sends none), which goes back to
Claude. Other keys do nothing while the choice is open; Ctrl+C and Ctrl+D deny and interrupt.
"""

from __future__ import annotations

from prompt_toolkit import PromptSession
from prompt_toolkit.filters import Condition
from prompt_toolkit.formatted_text import FormattedText
from prompt_toolkit.key_binding import KeyBindings, KeyPressEvent
from prompt_toolkit.keys import Keys

from claude_chat.engine.events import PermissionDecision

CHOICE = FormattedText(
    [("bold", "Allow? "), ("", "y once · a always (this session) · n deny [reason] › ")]
)
REASON = FormattedText([("bold", "Denied. "), ("", "Why? (Enter: no reason) › ")])


def denial(reason: str) -> PermissionDecision:
    reason = reason.strip()
    message = "The user denied this tool call" + (f": {reason}" if reason else ".")
    return PermissionDecision("deny", message)


async def ask_decision() -> PermissionDecision:
    """Raises KeyboardInterrupt or EOFError for Ctrl+C or Ctrl+D."""
    choosing = [True]
    is_choosing = Condition(lambda: choosing[0])
    bindings = KeyBindings()

    def choose(event: KeyPressEvent, decision: PermissionDecision, shown: str) -> None:
        # What was chosen stays on the question's line.
        event.current_buffer.text = shown
        event.app.exit(result=decision)

    @bindings.add("y", filter=is_choosing)
    @bindings.add("Y", filter=is_choosing)
    def _once(event: KeyPressEvent) -> None:
        choose(event, PermissionDecision("once"), "yes")

    @bindings.add("a", filter=is_choosing)
    @bindings.add("A", filter=is_choosing)
    def _always(event: KeyPressEvent) -> None:
        choose(event, PermissionDecision("always"), "always")

    @bindings.add("n", filter=is_choosing)
    @bindings.add("N", filter=is_choosing)
    def _deny(event: KeyPressEvent) -> None:
        choosing[0] = False

    @bindings.add(Keys.Any, filter=is_choosing)
    @bindings.add("enter", filter=is_choosing)
    @bindings.add(Keys.BracketedPaste, filter=is_choosing)
    def _nothing(event: KeyPressEvent) -> None:
        """Only y, a and n answer."""

    @bindings.add("enter", filter=~is_choosing)
    def _reason(event: KeyPressEvent) -> None:
        event.app.exit(result=denial(event.current_buffer.text))

    session: PromptSession[PermissionDecision] = PromptSession(
        lambda: CHOICE if choosing[0] else REASON, key_bindings=bindings
    )
    return await session.prompt_async()
