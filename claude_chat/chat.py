"""Running one turn or one command: the part the REPL and piped mode share."""

from __future__ import annotations

from typing import Protocol

from claude_chat.engine import ChatEngine
from claude_chat.events import Event, TurnResult
from claude_chat.stats import SessionStats


class TurnView(Protocol):
    def start(self) -> None: ...

    def on_event(self, event: Event) -> None: ...

    def set_status(self, status: str) -> None: ...

    def pause(self) -> None:
        """Stop drawing (the screen is needed for a question) until ``resume``."""

    def resume(self) -> None: ...

    def finish(self, result: TurnResult) -> None: ...

    def close(self) -> None: ...


async def run_turn(
    engine: ChatEngine, text: str, view: TurnView, stats: SessionStats
) -> TurnResult:
    """Send ``text`` and show its events; ``ChatError`` (no CLI, say) propagates, view closed."""
    view.start()
    try:
        async for event in engine.send(text):
            if isinstance(event, TurnResult):
                stats.record(event)
                view.finish(event)
                return event
            view.on_event(event)
    except BaseException:
        view.close()
        raise
    raise AssertionError("a turn always ends with a TurnResult")
