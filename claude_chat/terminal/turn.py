"""Running one turn or one command: the part the REPL and piped mode share."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from claude_chat.engine.config import ChatConfig, data_dir
from claude_chat.engine.engine import ChatEngine
from claude_chat.engine.events import Event, TurnResult
from claude_chat.engine.stats import SessionStats
from claude_chat.store.journal import Journal
from claude_chat.store.lock import SessionLock


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
    engine: ChatEngine,
    text: str,
    view: TurnView,
    stats: SessionStats,
    journal: Journal | None = None,
    sent_at: float | None = None,
    blocks: Sequence[dict[str, Any]] = (),
) -> TurnResult:
    """Send ``text`` and show its events; ``ChatError`` (no CLI, say) propagates, view closed.
    Every event is journaled as it arrives, before it is drawn. ``sent_at``: as for
    ``ChatEngine.send``; ``blocks`` go with ``text`` in the same message."""
    if journal is not None:
        journal.begin(engine.session_id, text)
    view.start()
    try:
        # Attachments go with the text in one message; the prompt stays the text alone.
        content = [{"type": "text", "text": text}, *blocks] if blocks else None
        async for event in engine.send(text, sent_at, content):
            if isinstance(event, TurnResult):
                stats.record(event)
                if journal is not None:
                    journal.end(event)
                view.finish(event)
                return event
            if journal is not None:
                journal.record(event)
            view.on_event(event)
    except BaseException:
        if journal is not None:
            journal.flush()
        view.close()
        raise
    raise AssertionError("a turn always ends with a TurnResult")


def follow_session(lock: SessionLock, engine: ChatEngine) -> None:
    """Hold the lock of the session the chat is in now: a first answer, ``/clear`` or a crash
    of Claude Code may have changed it."""
    from claude_chat.store.lock import SessionLockedError

    try:
        lock.hold(engine.session_id)
    except SessionLockedError as exc:
        # Someone resumed this chat's new session before its first answer was done: theirs
        # is the lock, and this chat goes on as before.
        log_internal_error(exc)


def open_journal(config: ChatConfig) -> Journal:
    """The journal in the user data dir, keeping out the values of credentials."""
    import os

    from claude_chat.engine.secrets import secrets_from

    return Journal(data_dir() / "journal", secrets_from({**os.environ, **config.cli_environment()}))


def log_internal_error(exc: BaseException) -> None:
    """A bug of ours, with its traceback, to errors.log in the user data dir."""
    import contextlib
    import os
    import traceback

    from claude_chat.engine.config import private_file

    with contextlib.suppress(OSError):
        path = private_file(data_dir() / "errors.log")
        with path.open("a", encoding="utf-8") as log:
            log.write("".join(traceback.format_exception(exc)) + os.linesep)
