"""Piped mode, whole chats at once: what lands on stdout and stderr (golden transcripts)."""

from __future__ import annotations

import io
import re

from claude_chat.engine.config import ChatConfig
from claude_chat.engine.engine import ChatEngine
from claude_chat.terminal.piped import PipedChat, clean_line
from tests import fake_transport as fake


def run_chat(cli: fake.FakeCLI, stdin: bytes) -> tuple[int, str, str]:
    import asyncio

    out, err = io.StringIO(), io.StringIO()
    engine = ChatEngine(ChatConfig(), transport_factory=lambda: cli)
    chat = PipedChat(ChatConfig(), io.BytesIO(stdin), out, err, engine=engine)
    code = asyncio.run(chat.run())
    # Timings differ run to run; everything else must match exactly.
    timing = re.compile(r"first token \d+\.\d+s · \d+\.\d+s")
    return code, out.getvalue(), timing.sub("first token Xs · Ys", err.getvalue())


def test_a_whole_chat() -> None:
    cli = fake.FakeCLI()
    cli.enqueue(
        fake.text_message(["Hello", " there."], "claude-opus-5-5"),
        [
            *fake.tool_round("Bash", {"command": "ls -1"}, "a\nb\nc", "claude-sonnet-5-5"),
            *fake.text_message(["Three files."], "claude-sonnet-5-5"),
        ],
    )
    code, out, err = run_chat(cli, b"Hi\n/model sonnet\nList files\n")
    assert code == 0
    assert out == "Hello there.\nmodel set to claude-sonnet-5-5 (sonnet)\nThree files.\n"
    assert err == (
        "claude-opus-5-5 · 15 in / 4 out · $0.0010 (session $0.0010) · first token Xs · Ys\n"
        "⏺ Bash(ls -1)\n"
        "  ⎿ a\n"
        "    b\n"
        "    c\n"
        "claude-sonnet-5-5 · 15 in / 4 out · $0.0010 (session $0.0020) · first token Xs · Ys\n"
        f"session {fake.SESSION}\n"
        f"resume with: claude-chat --session {fake.SESSION}\n"
    )
    assert cli.user_texts == ["Hi", "List files"]


def test_a_failed_turn_makes_exit_status_1_and_the_chat_goes_on() -> None:
    cli = fake.FakeCLI()
    cli.enqueue(fake.api_error("API Error: 400 fake 400"))
    code, out, err = run_chat(cli, b"bad\n/xyzzy\nok\n")
    assert code == 1
    assert out == "Echo: ok\n"
    lines = err.splitlines()
    assert lines[0] == "error: API Error: 400 fake 400 (the request was rejected)"
    assert "error: unknown command /xyzzy (/help lists commands)" in lines
    assert cli.user_texts == ["bad", "ok"]


def test_exit_stops_reading() -> None:
    cli = fake.FakeCLI()
    code, out, _ = run_chat(cli, b"one\n/exit\ntwo\n")
    assert code == 0 and out == "Echo: one\n" and cli.user_texts == ["one"]


def test_odd_bytes_in_input_are_cleaned() -> None:
    assert clean_line(b"a\x00b\xff\xfec\r\n") == "ab\ufffd\ufffdc"
    cli = fake.FakeCLI()
    code, _, _ = run_chat(cli, b"\n   \nx\x00y\n")
    assert code == 0 and cli.user_texts == ["xy"]
