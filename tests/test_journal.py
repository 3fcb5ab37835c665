"""The journal: every turn on disk as it streams, read back even after a crash mid-line."""

from __future__ import annotations

import os
import signal
import stat
import time
from pathlib import Path

import pytest

from claude_chat.engine.config import ChatConfig
from claude_chat.engine.engine import ChatEngine
from claude_chat.engine.stats import SessionStats
from claude_chat.store import journal
from claude_chat.store.journal import Journal
from claude_chat.terminal.plain_view import PlainTurnView
from claude_chat.terminal.turn import run_turn
from tests import fake_transport as fake
from tests.fake_api import FakeAnthropicAPI
from tests.terminal import piped_chat, processes_with_env


async def test_a_turn_is_journaled_in_order_and_secrets_are_kept_out(tmp_path: Path) -> None:
    import io

    cli = fake.FakeCLI()
    model = "claude-opus-5-5"
    cli.enqueue(
        [
            *fake.thinking_message("Hmm.", model),
            *fake.tool_round("Bash", {"command": "env"}, "KEY=sk-very-secret-1", model),
            *fake.text_message(["Done ", "now."], model),
        ]
    )
    engine = ChatEngine(ChatConfig(), transport_factory=lambda: cli)
    book = Journal(tmp_path / "journal", {"ANTHROPIC_API_KEY": "sk-very-secret-1"})
    out = io.StringIO()
    try:
        await run_turn(
            engine, "run env", PlainTurnView(out, out, SessionStats()), SessionStats(), book
        )
    finally:
        book.close()
        await engine.close()
    records = list(journal.read(book.path))
    kinds = [r["type"] for r in records]
    assert kinds[0] == "turn" and records[0]["prompt"] == "run env"
    assert kinds[-1] == "end" and records[-1]["is_error"] is False
    assert "tool" in kinds and "tool_result" in kinds and "thinking" in kinds
    assert "".join(r["text"] for r in records if r["type"] == "text") == "Done now."
    raw = book.path.read_text()
    assert "sk-very-secret-1" not in raw and "[redacted ANTHROPIC_API_KEY]" in raw
    assert stat.S_IMODE(book.path.stat().st_mode) == 0o600


def test_a_torn_last_line_is_skipped(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    path.write_text('{"type": "turn", "prompt": "a"}\n{"type": "text", "text": "par')
    assert [r["type"] for r in journal.read(path)] == ["turn"]


@pytest.mark.integration
def test_what_streamed_before_claude_chat_was_killed_is_in_the_journal(
    api: FakeAnthropicAPI, project: Path, isolated: Path
) -> None:
    chat = piped_chat(project, b"SLOW 40\n")
    assert chat.stdout is not None
    seen = b""
    while b"slow3" not in seen:
        seen += chat.stdout.read1(100)
    os.kill(chat.pid, signal.SIGKILL)
    chat.wait(timeout=10)
    for pid in processes_with_env(str(isolated)):  # the orphaned CLI: not what is tested here
        os.kill(pid, signal.SIGKILL)
    time.sleep(0.2)
    files = list((Path(os.environ["CLAUDE_CHAT_DATA_DIR"]) / "journal").glob("*.jsonl"))
    records = list(journal.read(files[0]))
    assert records[0]["prompt"] == "SLOW 40"
    # Text is held back by the length of a credential, to redact it whole; the rest is there.
    assert "slow1" in "".join(r.get("text", "") for r in records)


def test_a_secret_cut_over_several_deltas_never_reaches_the_journal(tmp_path: Path) -> None:
    from claude_chat.engine.events import TextDelta, TurnResult

    secret = "fake-key-split-over-deltas-0003"
    book = Journal(tmp_path, {"ANTHROPIC_API_KEY": secret})
    book.begin(None, "what is in .env?")
    text = f"The key is {secret}, keep it safe."
    for start in range(0, len(text), 3):
        book.record(TextDelta(text[start : start + 3]))
    book.end(TurnResult("s", "m", False, False))
    book.close()
    raw = book.path.read_text()
    assert secret[:8] not in raw.replace("\\n", "")
    joined = "".join(r["text"] for r in journal.read(book.path) if r["type"] == "text")
    assert joined == "The key is [redacted ANTHROPIC_API_KEY], keep it safe."
