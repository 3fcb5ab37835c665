"""The history a stateless client sends, as the OpenAI and Anthropic endpoints read it: merging,
digests, and the session files seeded or forked from it (no CLI here: tests/test_compat.py
has Claude Code resume them)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from claude_chat.server.continuations import Continuations
from claude_chat.server.history import (
    OPENING,
    HistoryError,
    Message,
    build,
    digest,
    fork_session,
    seed_session,
    text_block,
)


def history(*turns: tuple[str, str], system: str | None = None) -> Any:
    return build(system, [(role, [text_block(text)]) for role, text in turns])  # type: ignore[misc]


def test_consecutive_messages_of_a_role_merge_and_an_answer_first_gets_a_question() -> None:
    read = history(("assistant", "Hello!"), ("user", "a"), ("user", "b"))
    assert [(m.role, m.text) for m in read.messages] == [
        ("user", OPENING),
        ("assistant", "Hello!"),
        ("user", "a\n\nb"),
    ]
    with pytest.raises(HistoryError):
        history(("user", "a"), ("assistant", "b"))
    with pytest.raises(HistoryError):
        history(("user", "   "))


def test_digests_read_text_as_clients_resend_it() -> None:
    one = history(("user", "hi"), ("assistant", "Hello there. "), ("user", "next"))
    trimmed = history(("user", "hi"), ("assistant", "Hello there."), ("user", "other"))
    assert one.earlier_digest() == trimmed.earlier_digest()
    split = [Message("assistant", (text_block("Hello "), text_block("there.")))]
    assert digest(None, [one.messages[0], *split]) == one.earlier_digest()
    assert (
        history(("user", "hi"), system="be brief").earlier_digest()
        != history(("user", "hi")).earlier_digest()
    )


def test_a_seeded_session_is_a_chain_of_user_and_assistant_records(tmp_path: Path) -> None:
    cwd = tmp_path / "project"
    cwd.mkdir()
    read = history(("user", "q1"), ("assistant", "a1"), ("user", "q2"))
    session_id = seed_session(tmp_path / "claude", cwd, read.earlier, "opus")
    (path,) = (tmp_path / "claude" / "projects").glob(f"*/{session_id}.jsonl")
    assert path.stat().st_mode & 0o777 == 0o600
    records = [json.loads(line) for line in path.read_text().splitlines()]
    assert [(r["type"], r["parentUuid"]) for r in records] == [
        ("user", None),
        ("assistant", records[0]["uuid"]),
    ]
    assert records[0]["message"] == {"role": "user", "content": "q1"}
    assert records[1]["message"]["content"] == [text_block("a1")]
    assert {r["sessionId"] for r in records} == {session_id}


def test_a_fork_keeps_the_source_records_up_to_a_turn_then_the_new_tail(tmp_path: Path) -> None:
    config = tmp_path / "claude"
    cwd = tmp_path / "project"
    cwd.mkdir()
    turns = [("user", "q1"), ("assistant", "a1"), ("user", "q2"), ("assistant", "a2")]
    source_id = seed_session(config, cwd, history(*turns, ("user", "q3")).earlier, None)
    (source,) = (config / "projects").glob(f"*/{source_id}.jsonl")
    lines = source.read_text().splitlines()
    # What Claude Code writes beside the chain: a subagent's record, a progress link.
    side = {"type": "user", "uuid": "side", "parentUuid": None, "isSidechain": True}
    source.write_text("\n".join([*lines, json.dumps(side), "{torn"]) + "\n")
    tail = [Message("user", (text_block("q2 edited"),)), Message("assistant", (text_block("a"),))]
    fork_id = fork_session(source, 1, config, cwd, tail, None)
    assert fork_id is not None and fork_id != source_id
    (path,) = (config / "projects").glob(f"*/{fork_id}.jsonl")
    records = [json.loads(line) for line in path.read_text().splitlines()]
    texts = [
        r["message"]["content"] if r["type"] == "user" else r["message"]["content"][0]["text"]
        for r in records
    ]
    assert texts == ["q1", "a1", "q2 edited", "a"]  # turn 1 as it was, then the new tail
    assert records[0]["forkedFrom"]["sessionId"] == source_id
    assert [r["parentUuid"] for r in records[1:]] == [r["uuid"] for r in records[:-1]]
    assert fork_session(source, 3, config, cwd, [], None) is None  # it has two turns


async def test_continuations_come_back_from_the_journal(tmp_path: Path) -> None:
    first = history(("user", "q1"))
    known = await Continuations.load(tmp_path)
    seen = first.digest_with_answer("a1")
    await known.remember("s1", seen, first.turns, "chat", first)
    later = history(("user", "q1"), ("assistant", "a1"), ("user", "q2"))
    again = await Continuations.load(tmp_path)
    assert again.continued(later) == "s1"
    assert again.named("chat", later) == "s1"
    assert again.named("chat", history(("user", "q2"), system="new")) is None
    await again.forget("s1")
    reread = await Continuations.load(tmp_path)
    assert reread.continued(later) is None
    assert reread.fork_point(later) == ("s1", 1, 2)
