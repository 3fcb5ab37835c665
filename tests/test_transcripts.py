"""Transcripts: a stored session as markdown, JSON and HTML; ``/save``, ``/copy`` and
``claude-chat export``.

Unit tests write session files the way Claude Code does (one record per line, a ``parentUuid``
chain, attachments and request records around the conversation) and read them back through
``from_session``. The golden files under ``tests/golden/`` are the three renderings of one
scripted conversation; after a deliberate change to the output, look at the new renderings and
regenerate them with::

    UPDATE_GOLDEN=1 pytest tests/test_transcripts.py -k golden

The integration tests at the end run the real CLI (piped, and in a pseudo-terminal) against the
stand-in API.
"""

from __future__ import annotations

import base64
import dataclasses
import errno
import json
import os
import re
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime
from html.parser import HTMLParser
from pathlib import Path

import pytest

from claude_chat.engine.events import TurnResult, Usage
from claude_chat.engine.secrets import secrets_from
from claude_chat.store.export import default_path, format_of, render_as, write_private
from claude_chat.store.sessions import project_key
from claude_chat.store.transcript import (
    FORMAT,
    RESULT_LIMIT,
    Item,
    Transcript,
    TranscriptError,
    Turn,
    from_session,
    load_json,
    redact,
    to_json,
    to_markdown,
)
from claude_chat.store.transcript_html import to_html
from tests.fake_api import MARKDOWN_ANSWER, FakeAnthropicAPI
from tests.terminal import Terminal, processes_with_env

GOLDEN = Path(__file__).parent / "golden"
UPDATE_GOLDEN = os.environ.get("UPDATE_GOLDEN") == "1"

SESSION_ID = "3f2b8c1e-5d4a-4e6f-9a7b-1c2d3e4f5a6b"
CWD = "/home/ada/src/parser"
VERSION = "2.1.330"
MODEL = "claude-opus-5-5"
EXPORTED_AT = "2026-03-14T12:00:00Z"
API_KEY = "fake-test-api-key-not-a-credential-0001"
OAUTH_TOKEN = "fake-test-oauth-token-not-a-credential-0002"


@pytest.fixture(autouse=True)
def _claude_home(monkeypatch: pytest.MonkeyPatch) -> None:
    # Sessions must be looked for under the temp HOME, whatever the machine has set.
    monkeypatch.delenv("CLAUDE_CONFIG_DIR", raising=False)
    monkeypatch.delenv("UPDATE_GOLDEN", raising=False)


# -- writing sessions as Claude Code does ----------------------------------------------------


def _line(record: Mapping[str, object]) -> str:
    # Claude Code writes compact JSON; the readers look for `"type":"user"` as written.
    return json.dumps(record, separators=(",", ":"), ensure_ascii=False) + "\n"


def usage(input_tokens: int, output_tokens: int, cache_read: int = 0) -> dict[str, object]:
    return {
        "input_tokens": input_tokens,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": cache_read,
        "output_tokens": output_tokens,
        "service_tier": "standard",
    }


class SessionFile:
    """A session file built record by record, as the CLI appends them: conversation records
    (user, assistant, attachment) chained by ``parentUuid``; request records beside them."""

    def __init__(self, session_id: str = SESSION_ID, cwd: str = CWD) -> None:
        self.session_id = session_id
        self.cwd = cwd
        self.lines: list[str] = []
        self.parent: str | None = None
        self.count = 0
        self.messages = 0

    def _uuid(self) -> str:
        self.count += 1
        return f"00000000-0000-4000-8000-{self.count:012d}"

    def entry(self, kind: str, stamp: str, body: Mapping[str, object], **extra: object) -> str:
        record_uuid = self._uuid()
        record = {
            "parentUuid": self.parent,
            "isSidechain": False,
            "type": kind,
            **body,
            "uuid": record_uuid,
            "timestamp": stamp,
            **extra,
            "userType": "external",
            "entrypoint": "sdk-py",
            "cwd": self.cwd,
            "sessionId": self.session_id,
            "version": VERSION,
            "gitBranch": "main",
        }
        self.lines.append(_line(record))
        self.parent = record_uuid
        return record_uuid

    def side(self, record: Mapping[str, object]) -> None:
        """A record outside the conversation chain."""
        self.lines.append(_line({**record, "sessionId": self.session_id}))

    def prompt(self, stamp: str, text: str | list[dict[str, object]]) -> None:
        shown = text if isinstance(text, str) else "…"
        self.side({"type": "queue-operation", "operation": "enqueue", "content": shown})
        self.side({"type": "queue-operation", "operation": "dequeue", "timestamp": stamp})
        self.entry(
            "user",
            stamp,
            {"message": {"role": "user", "content": text}},
            promptId=str(uuid.uuid4()),
        )
        self.entry(
            "attachment",
            stamp,
            {
                "attachment": {"type": "date", "date": stamp[:10]},
                "rendered": [{"content": f"<system-reminder>\nToday is {stamp[:10]}\n"}],
            },
        )
        self.side(
            {
                "type": "api-request-blob",
                "hash": f"{self.count:064x}",
                "message": {"role": "user", "content": [{"type": "text", "text": str(text)}]},
            }
        )

    def answer(
        self,
        stamp: str,
        blocks: Sequence[Mapping[str, object]],
        tokens: dict[str, object],
        *,
        split: bool = False,
        model: str = MODEL,
    ) -> list[str]:
        """One API response. ``split``: one record per content block, all with the response's
        id and usage, as the CLI writes them; otherwise one record with every block."""
        self.messages += 1
        message_id = f"msg_{self.messages:024d}"
        parts = [[block] for block in blocks] if split else [list(blocks)]
        uuids = []
        for content in parts:
            message = {
                "id": message_id,
                "type": "message",
                "role": "assistant",
                "model": model,
                "content": content,
                "stop_reason": "end_turn",
                "stop_sequence": None,
                "usage": tokens,
            }
            uuids.append(
                self.entry(
                    "assistant",
                    stamp,
                    {"message": message},
                    requestId=f"req_{self.messages:024d}",
                )
            )
        return uuids

    def tool_result(
        self, stamp: str, tool_id: str, content: object, is_error: bool = False
    ) -> None:
        result: dict[str, object] = {
            "tool_use_id": tool_id,
            "type": "tool_result",
            "content": content,
        }
        if is_error:
            result["is_error"] = True
        self.entry(
            "user",
            stamp,
            {"message": {"role": "user", "content": [result]}},
            toolUseResult={"stdout": str(content), "stderr": ""},
            sourceToolAssistantUUID=self.parent,
        )

    def api_error(self, stamp: str, text: str) -> None:
        """A failed request, as the CLI records it: a made-up assistant message."""
        message = {
            "id": str(uuid.UUID(int=self.count)),
            "model": "<synthetic>",
            "role": "assistant",
            "type": "message",
            "stop_reason": "stop_sequence",
            "stop_sequence": "",
            "usage": usage(0, 0),
            "content": [{"type": "text", "text": text}],
        }
        self.entry(
            "assistant",
            stamp,
            {"message": message},
            error="server_error",
            isApiErrorMessage=True,
            apiErrorStatus=529,
            apiErrorType="overloaded_error",
        )

    def write(self, home: Path | None = None) -> Path:
        folder = (home or Path.home()) / ".claude" / "projects" / project_key(self.cwd)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{self.session_id}.jsonl"
        path.write_text("".join(self.lines), encoding="utf-8")
        return path


FIB = (
    "`functools.cache` remembers what a function returned for each set of arguments, "
    "so a second call with the same arguments is a lookup:\n"
    "\n"
    "```python\n"
    "from functools import cache\n"
    "\n"
    "\n"
    "@cache\n"
    "def fib(n: int) -> int:\n"
    "    return n if n < 2 else fib(n - 1) + fib(n - 2)\n"
    "```\n"
    "\n"
    "The cache never forgets: use `lru_cache(maxsize=...)` to bound it."
)
OVERLOADED = (
    'API Error: 529 {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}'
)


def scripted_session() -> SessionFile:
    """The golden conversation: thinking and text; two tool calls (one failing); an error."""
    s = SessionFile()
    s.prompt("2026-03-14T09:00:00.000Z", "What does `functools.cache` do?\nKeep it short.")
    s.answer(
        "2026-03-14T09:00:04.500Z",
        [
            {
                "type": "thinking",
                "thinking": "A short answer with one example; mention lru_cache.",
                "signature": "c2lnbmF0dXJl",
            },
            {"type": "text", "text": FIB},
        ],
        usage(12, 180, cache_read=11_500),
    )
    s.side({"type": "last-prompt", "lastPrompt": "What does", "leafUuid": s.parent})

    s.prompt("2026-03-14T09:01:00.000Z", "How many Python files are in src/? Read config.toml.")
    config = f"{CWD}/config.toml"
    read = {"type": "tool_use", "id": "toolu_01", "name": "Read", "input": {"file_path": config}}
    s.answer("2026-03-14T09:01:02.000Z", [read], usage(40, 30, cache_read=11_700))
    s.tool_result(
        "2026-03-14T09:01:02.100Z",
        "toolu_01",
        "<tool_use_error>File does not exist.</tool_use_error>",
        is_error=True,
    )
    count = {
        "type": "tool_use",
        "id": "toolu_02",
        "name": "Bash",
        "input": {
            "command": "find src -name '*.py' | wc -l",
            "description": "Count Python files in src",
        },
    }
    s.answer("2026-03-14T09:01:03.000Z", [count], usage(60, 25, cache_read=11_800))
    s.tool_result("2026-03-14T09:01:03.400Z", "toolu_02", [{"type": "text", "text": "42"}])
    done = "There is no `config.toml`; `src/` holds **42** Python files."
    s.answer("2026-03-14T09:01:05.000Z", [{"type": "text", "text": done}], usage(20, 21))

    s.prompt("2026-03-14T09:02:00.000Z", "Thanks! And the tests?")
    s.api_error("2026-03-14T09:02:01.000Z", OVERLOADED)
    s.side({"type": "last-prompt", "lastPrompt": "Thanks!", "leafUuid": s.parent})
    return s


def scripted_transcript() -> Transcript:
    """The golden conversation read back, with this process's cost for its first turn, and
    the facts that change from run to run fixed."""
    scripted_session().write()
    first = TurnResult(
        session_id=SESSION_ID,
        model=MODEL,
        is_error=False,
        interrupted=False,
        usage=Usage(12, 180, 11_500),
        cost_usd=0.0123,
        time_to_first_token_s=0.84,
        answer=FIB,
        prompt="What does `functools.cache` do?\nKeep it short.",
    )
    chat = from_session(SESSION_ID, [first], "Caching and counting files", VERSION)
    return dataclasses.replace(chat, exported_at=EXPORTED_AT, claude_chat_version="0.0.0")


def check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if UPDATE_GOLDEN:
        path.parent.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return
    assert path.is_file(), f"no {path}: run with UPDATE_GOLDEN=1 to write it"
    assert text == path.read_text(encoding="utf-8"), f"{name} differs (UPDATE_GOLDEN=1 rewrites)"


# -- reading a session -----------------------------------------------------------------------


def test_every_turn_is_read_with_its_items_times_and_tokens() -> None:
    chat = scripted_transcript()
    assert (chat.session_id, chat.cwd, chat.claude_code_version) == (SESSION_ID, CWD, VERSION)
    assert [t.user for t in chat.turns] == [
        "What does `functools.cache` do?\nKeep it short.",
        "How many Python files are in src/? Read config.toml.",
        "Thanks! And the tests?",
    ]
    first, second, third = chat.turns
    assert [(i.kind, i.text) for i in first.items] == [
        ("thinking", "A short answer with one example; mention lru_cache."),
        ("text", FIB),
    ]
    assert (first.started_at, first.ended_at) == (
        "2026-03-14T09:00:00.000Z",
        "2026-03-14T09:00:04.500Z",
    )
    assert (first.model, first.input_tokens, first.output_tokens) == (MODEL, 11_512, 180)
    assert (first.cost_usd, first.time_to_first_token_s) == (0.0123, 0.84)

    read, count, text = second.items
    assert (read.kind, read.name, read.is_error) == ("tool", "Read", True)
    assert read.result == "<tool_use_error>File does not exist.</tool_use_error>"
    assert (count.name, count.result, count.is_error) == ("Bash", "42", False)
    assert count.input == {
        "command": "find src -name '*.py' | wc -l",
        "description": "Count Python files in src",
    }
    assert text.text.startswith("There is no `config.toml`")
    # Three requests: their tokens add up.
    assert (second.input_tokens, second.output_tokens) == (40 + 11_700 + 60 + 11_800 + 20, 76)
    assert second.cost_usd is None  # not run by this process
    assert second.ended_at == "2026-03-14T09:01:05.000Z"

    assert third.items == [] and third.error == OVERLOADED
    assert third.model is None  # "<synthetic>" is not a model


def test_a_session_that_is_not_stored_is_an_error() -> None:
    with pytest.raises(TranscriptError, match=r"no session .*claude-chat sessions"):
        from_session(str(uuid.uuid4()))


def test_last_keeps_the_last_turns() -> None:
    chat = scripted_transcript()
    assert [t.user for t in chat.last(1).turns] == ["Thanks! And the tests?"]
    assert chat.last(2).turns == chat.turns[1:]
    assert chat.last(10).turns == chat.turns
    assert chat.last(0).turns == []
    assert len(chat.turns) == 3  # the original is untouched


def test_a_response_written_as_one_record_per_block_counts_its_tokens_once() -> None:
    s = SessionFile()
    s.prompt("2026-03-14T09:00:00.000Z", "THINK")
    blocks = [
        {"type": "thinking", "thinking": "Let me think about this.", "signature": "x"},
        {"type": "text", "text": "Thought done."},
    ]
    s.answer("2026-03-14T09:00:01.000Z", blocks, usage(12_564, 8), split=True)
    s.write()
    (turn,) = from_session(SESSION_ID).turns
    assert [i.kind for i in turn.items] == ["thinking", "text"]
    assert (turn.input_tokens, turn.output_tokens) == (12_564, 8)


def test_an_interruption_is_not_a_turn() -> None:
    s = SessionFile()
    s.prompt("2026-03-14T09:00:00.000Z", "SLOW 40")
    s.answer("2026-03-14T09:00:01.000Z", [{"type": "text", "text": "slow0 slow1 "}], usage(9, 2))
    interrupted = [{"type": "text", "text": "[Request interrupted by user]"}]
    s.entry(
        "user", "2026-03-14T09:00:02.000Z", {"message": {"role": "user", "content": interrupted}}
    )
    s.prompt("2026-03-14T09:00:05.000Z", "hello")
    s.answer("2026-03-14T09:00:06.000Z", [{"type": "text", "text": "Echo: hello"}], usage(9, 2))
    s.write()
    assert [t.user for t in from_session(SESSION_ID).turns] == ["SLOW 40", "hello"]


def test_an_id_in_capitals_reads_the_same_session() -> None:
    scripted_session().write()
    assert len(from_session(SESSION_ID.upper()).turns) == 3


# -- golden renderings -----------------------------------------------------------------------


def test_golden_markdown() -> None:
    check_golden("transcript.md", to_markdown(scripted_transcript()))


def test_golden_json() -> None:
    check_golden("transcript.json", to_json(scripted_transcript()))


def test_golden_html() -> None:
    check_golden("transcript.html", to_html(scripted_transcript()))


def test_render_as_picks_the_renderer() -> None:
    chat = scripted_transcript()
    assert render_as(chat, "md") == to_markdown(chat)
    assert render_as(chat, "json") == to_json(chat)
    assert render_as(chat, "html") == to_html(chat)


# -- JSON --------------------------------------------------------------------------------------


def test_json_round_trip() -> None:
    chat = scripted_transcript()
    assert load_json(to_json(chat)) == chat
    data = json.loads(to_json(chat))
    assert data["format"] == FORMAT == "claude-chat-transcript/1"
    assert data["turns"][1]["items"][0]["is_error"] is True


def test_json_round_trip_of_odd_content() -> None:
    turn = Turn(
        user="",
        items=[
            Item("text", "emoji 🧪, NUL \x00, quotes \"'`, RTL \u202e"),
            Item("tool", name="X", input={"nested": {"list": [1, 2.5, None, True]}}),
            Item("tool", name="Y", input={}, result="cut", truncated_bytes=7, is_error=True),
        ],
        interrupted=True,
        error="boom",
    )
    chat = Transcript(session_id=None, turns=[turn, Turn(user="second")])
    assert load_json(to_json(chat)) == chat


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("not json", "not JSON"),
        ("[]", "not an object"),
        ('{"format": "something-else/2", "turns": []}', "not a claude-chat-transcript/1"),
        ('{"turns": []}', "not a claude-chat-transcript/1"),
    ],
)
def test_load_json_refuses_what_is_not_a_transcript(text: str, said: str) -> None:
    with pytest.raises(TranscriptError, match=said):
        load_json(text)


# -- HTML --------------------------------------------------------------------------------------

VOID = {"meta", "br", "hr", "img", "input", "link", "source", "wbr", "area", "col", "embed"}


@dataclasses.dataclass
class Element:
    tag: str
    attrs: dict[str, str]
    parent: Element | None = None
    children: list[Element | str] = dataclasses.field(default_factory=list)

    @property
    def classes(self) -> set[str]:
        return set(self.attrs.get("class", "").split())

    def text(self) -> str:
        return "".join(c if isinstance(c, str) else c.text() for c in self.children)

    def find_all(self, tag: str, cls: str | None = None) -> list[Element]:
        found = []
        for child in self.children:
            if isinstance(child, Element):
                if child.tag == tag and (cls is None or cls in child.classes):
                    found.append(child)
                found += child.find_all(tag, cls)
        return found

    def inside(self, tag: str, cls: str | None = None) -> Element | None:
        node = self.parent
        while node is not None:
            if node.tag == tag and (cls is None or cls in node.classes):
                return node
            node = node.parent
        return None


class TreeBuilder(HTMLParser):
    """A page as a tree of elements; end tags that do not close the open element are noted."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Element("#root", {})
        self.open = self.root
        self.problems: list[str] = []
        self.doctype: str | None = None

    def handle_decl(self, decl: str) -> None:
        self.doctype = decl

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(tag, {k: v or "" for k, v in attrs}, self.open)
        self.open.children.append(element)
        if tag not in VOID:
            self.open = element

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.open.children.append(Element(tag, {k: v or "" for k, v in attrs}, self.open))

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID:
            return
        if self.open.tag != tag:
            self.problems.append(f"</{tag}> closes <{self.open.tag}>")
            node: Element | None = self.open
            while node is not None and node.tag != tag:
                node = node.parent
            if node is None:
                return
            self.open = node
        assert self.open.parent is not None
        self.open = self.open.parent

    def handle_data(self, data: str) -> None:
        self.open.children.append(data)


def parse_html(page: str) -> Element:
    builder = TreeBuilder()
    builder.feed(page)
    builder.close()
    assert builder.problems == [], builder.problems
    assert builder.open is builder.root, f"<{builder.open.tag}> is never closed"
    assert builder.doctype is not None and builder.doctype.lower() == "doctype html"
    return builder.root


def test_html_has_a_turn_per_article_and_folds_thinking_and_tools() -> None:
    chat = scripted_transcript()
    page = parse_html(to_html(chat))
    (html,) = page.find_all("html")
    assert html.attrs["lang"] == "en"
    assert [t.text() for t in page.find_all("title")] == ["Caching and counting files"]
    articles = page.find_all("article", "turn")
    assert len(articles) == len(chat.turns) == 3
    assert [a.attrs["id"] for a in articles] == ["turn-1", "turn-2", "turn-3"]
    assert [a.find_all("div", "you")[0].text() for a in articles] == [t.user for t in chat.turns]

    (thinking,) = page.find_all("details", "thinking")
    assert thinking.inside("article") is articles[0]
    assert "mention lru_cache" in thinking.text()
    assert thinking.find_all("summary")[0].text() == "Thinking"
    # The answer's python fence is highlighted, outside the thinking.
    (code,) = articles[0].find_all("pre", "hl")
    assert code.inside("details") is None
    assert "def fib(n: int)" in code.text()

    tools = page.find_all("details", "tool")
    assert [t.inside("article") for t in tools] == [articles[1], articles[1]]
    assert [t.classes for t in tools] == [{"tool", "error"}, {"tool"}]
    assert "File does not exist." in tools[0].text()
    summary = tools[1].find_all("summary")[0]
    assert summary.text().startswith("Tool: ") and "find src -name" in summary.text()
    assert "42" in tools[1].find_all("pre")[-1].text()

    (error,) = articles[2].find_all("p", "error")
    assert error.text() == f"Error: {OVERLOADED}"
    metas = [a.find_all("div", "meta")[0].text() for a in articles]
    assert metas[0] == f"{MODEL} · 2026-03-14 09:00:00 · 11,512 in / 180 out · $0.0123 · " + (
        "first token 0.84s"
    )

    (style,) = page.find_all("style")
    assert "prefers-color-scheme" in style.text()
    assert page.find_all("script") == []
    assert page.find_all("link") == []  # self-contained: nothing fetched


def test_html_code_blocks_are_not_nested() -> None:
    page = parse_html(to_html(scripted_transcript()))
    assert len(page.find_all("pre", "hl")) == 1  # the answer's python; tool inputs stay plain
    for pre in page.find_all("pre"):
        assert pre.inside("pre") is None
        assert pre.inside("code") is None


HOSTILE = "<script>alert(1)</script>"


def test_html_shows_markup_from_the_conversation_as_text() -> None:
    turn = Turn(
        user=f'{HOSTILE} <img src=x onerror="alert(2)">',
        items=[
            Item("thinking", f"thinking about {HOSTILE}"),
            Item(
                "text",
                f"Here: {HOSTILE}\n\n<iframe src=//evil></iframe>\n\n"
                "[click](javascript:alert(3)) <b>bold?</b>",
            ),
            Item("tool", name=HOSTILE, input={"command": HOSTILE}, result=HOSTILE),
        ],
        error=HOSTILE,
    )
    chat = Transcript(session_id=SESSION_ID, turns=[turn], title=HOSTILE, cwd=HOSTILE)
    page = parse_html(to_html(chat))
    for tag in ("script", "img", "iframe", "b"):
        assert page.find_all(tag) == [], tag
    assert all(
        not a.attrs.get("href", "").lower().startswith("javascript") for a in page.find_all("a")
    )
    text = page.text()
    assert text.count(HOSTILE) >= 7
    (article,) = page.find_all("article", "turn")
    assert article.find_all("div", "you")[0].text().startswith(HOSTILE)
    assert HOSTILE in article.find_all("details", "thinking")[0].text()
    assert f"Error: {HOSTILE}" in article.find_all("p", "error")[0].text()


# -- long tool results -----------------------------------------------------------------------


def session_with_result(result: str) -> None:
    s = SessionFile()
    s.prompt("2026-03-14T09:00:00.000Z", "cat the log")
    use = {"type": "tool_use", "id": "toolu_big", "name": "Bash", "input": {"command": "cat x"}}
    s.answer("2026-03-14T09:00:01.000Z", [use], usage(10, 10))
    s.tool_result("2026-03-14T09:00:02.000Z", "toolu_big", result)
    s.answer("2026-03-14T09:00:03.000Z", [{"type": "text", "text": "Long."}], usage(10, 10))
    s.write()


def test_a_long_tool_result_is_cut_with_a_note_of_how_much() -> None:
    result = "".join(f"line {n:05d} {'x' * 48}\n" for n in range(420))  # 25,200 bytes
    assert len(result.encode()) == 25_200
    session_with_result(result)
    chat = from_session(SESSION_ID)
    (tool, _) = chat.turns[0].items
    assert tool.result == result[:RESULT_LIMIT]
    assert tool.truncated_bytes == 5_200

    markdown = to_markdown(chat)
    assert "[5,200 more bytes not shown]" in markdown
    assert result[:RESULT_LIMIT] in markdown and result[: RESULT_LIMIT + 1] not in markdown
    assert "line 00419" not in markdown

    page = parse_html(to_html(chat))
    (note,) = page.find_all("p", "note")
    assert note.text() == "[5,200 more bytes not shown]"
    assert note.inside("details", "tool") is not None
    assert "line 00419" not in page.text()

    assert json.loads(to_json(chat))["turns"][0]["items"][0]["truncated_bytes"] == 5_200


def test_a_result_at_the_limit_is_whole() -> None:
    result = "y" * RESULT_LIMIT
    session_with_result(result)
    (tool, _) = from_session(SESSION_ID).turns[0].items
    assert (tool.result, tool.truncated_bytes) == (result, 0)
    assert "more bytes not shown" not in to_markdown(from_session(SESSION_ID))


def test_the_note_counts_every_byte_cut_from_a_multibyte_result() -> None:
    result = "€" * 10_000  # 3 bytes each: the limit falls inside a character
    session_with_result(result)
    (tool, _) = from_session(SESSION_ID).turns[0].items
    assert tool.result is not None
    shown = len(tool.result.encode())
    assert shown + tool.truncated_bytes == 30_000


# -- secrets -----------------------------------------------------------------------------------


def test_secrets_from_takes_credentials_and_what_is_named_like_one() -> None:
    found = secrets_from(
        {
            "ANTHROPIC_API_KEY": API_KEY,
            "CLAUDE_CODE_OAUTH_TOKEN": OAUTH_TOKEN,
            "GITHUB_TOKEN": "ghp_0123456789abcdef",
            "db_password": "correct horse battery",
            "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG",
            "SHORT_TOKEN": "abc",  # too short to look for
            "PATH": "/usr/local/bin:/usr/bin",
            "HOME": "/home/ada",
        }
    )
    assert set(found) == {
        "ANTHROPIC_API_KEY",
        "CLAUDE_CODE_OAUTH_TOKEN",
        "GITHUB_TOKEN",
        "db_password",
        "AWS_SECRET_ACCESS_KEY",
    }
    assert found["ANTHROPIC_API_KEY"] == API_KEY


def leaky_session() -> None:
    s = SessionFile()
    s.prompt("2026-03-14T09:00:00.000Z", f"my token is {OAUTH_TOKEN}, check the key")
    command = f'curl -H "x-api-key: {API_KEY}" https://api.example.com'
    use = {"type": "tool_use", "id": "toolu_env", "name": "Bash", "input": {"command": command}}
    thinking = {"type": "thinking", "thinking": f"The key {API_KEY} looks fine.", "signature": "s"}
    s.answer("2026-03-14T09:00:01.000Z", [thinking, use], usage(10, 10))
    s.tool_result(
        "2026-03-14T09:00:02.000Z",
        "toolu_env",
        f"ANTHROPIC_API_KEY={API_KEY}\nCLAUDE_CODE_OAUTH_TOKEN={OAUTH_TOKEN}\n",
    )
    text = {"type": "text", "text": f"Your key is `{API_KEY}` and it works."}
    s.answer("2026-03-14T09:00:03.000Z", [text], usage(10, 10))
    s.write()


def test_secrets_never_reach_any_rendering(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", API_KEY)
    monkeypatch.setenv("CLAUDE_CODE_OAUTH_TOKEN", OAUTH_TOKEN)
    leaky_session()
    raw = from_session(SESSION_ID)
    assert API_KEY in to_markdown(raw)  # the session has them: something to redact
    chat = redact(raw, secrets_from(os.environ))
    for fmt in ("md", "json", "html"):
        text = render_as(chat, fmt)
        assert API_KEY not in text and OAUTH_TOKEN not in text, fmt
        assert "[redacted ANTHROPIC_API_KEY]" in text, fmt
        assert "[redacted CLAUDE_CODE_OAUTH_TOKEN]" in text, fmt
    (turn,) = chat.turns
    assert turn.user == "my token is [redacted CLAUDE_CODE_OAUTH_TOKEN], check the key"
    tool = turn.items[1]
    assert tool.input == {
        "command": 'curl -H "x-api-key: [redacted ANTHROPIC_API_KEY]" https://api.example.com'
    }
    assert redact(raw, {}) is raw


def test_a_secret_cut_by_the_limit_leaves_no_part_of_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", API_KEY)
    session_with_result("." * (RESULT_LIMIT - 40) + API_KEY + "\n" + "." * 100)
    chat = from_session(SESSION_ID, secrets=secrets_from(os.environ))
    markdown = to_markdown(chat)
    assert "more bytes not shown" in markdown
    assert API_KEY[:16] not in markdown


# -- files -------------------------------------------------------------------------------------


def names(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


def mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


@pytest.fixture
def out(tmp_path: Path) -> Path:
    """An empty directory to write in."""
    path = tmp_path / "out"
    path.mkdir()
    return path


def test_write_private_writes_an_owner_only_file(out: Path) -> None:
    old_umask = os.umask(0)
    try:
        path = write_private(out / "chat.md", "hello\n")
    finally:
        os.umask(old_umask)
    assert path == out / "chat.md"
    assert path.read_text() == "hello\n"
    assert mode(path) == 0o600
    assert names(out) == ["chat.md"]


def test_write_private_keeps_an_existing_file_unless_forced(out: Path) -> None:
    path = out / "chat.md"
    path.write_text("mine\n")
    path.chmod(0o644)
    with pytest.raises(TranscriptError) as refused:
        write_private(path, "theirs\n")
    assert str(refused.value) == f"{path} exists; add --force to overwrite it"
    assert path.read_text() == "mine\n" and mode(path) == 0o644
    assert names(out) == ["chat.md"]

    write_private(path, "theirs\n", force=True)
    assert path.read_text() == "theirs\n" and mode(path) == 0o600
    assert names(out) == ["chat.md"]


def test_write_private_into_a_missing_directory(out: Path) -> None:
    with pytest.raises(TranscriptError) as failed:
        write_private(out / "nope" / "chat.md", "x")
    assert str(failed.value) == f"no directory {out / 'nope'}"
    assert names(out) == []


@pytest.mark.skipif(
    hasattr(os, "geteuid") and os.geteuid() == 0, reason="root writes in any directory"
)
def test_write_private_into_a_directory_without_permission(out: Path) -> None:
    locked = out / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        with pytest.raises(TranscriptError) as failed:
            write_private(locked / "chat.md", "x")
        assert str(failed.value) == f"no permission to write in {locked}"
        assert names(locked) == []
    finally:
        locked.chmod(0o700)


def test_write_private_under_a_file(out: Path) -> None:
    (out / "file").write_text("")
    with pytest.raises(TranscriptError) as failed:
        write_private(out / "file" / "chat.md", "x")
    message = str(failed.value)
    assert "\n" not in message and message.startswith(f"could not write in {out / 'file'}")
    assert names(out) == ["file"]


def test_write_private_with_the_disk_full_leaves_nothing(
    out: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(TranscriptError) as failed:
        write_private(out / "chat.md", "x" * 100_000)
    assert str(failed.value) == f"no space left on the disk of {out}"
    assert names(out) == []


def test_write_private_does_not_overwrite_a_file_made_meanwhile(
    out: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = out / "chat.md"
    real_fsync = os.fsync

    def someone_else_writes(fd: int) -> None:
        path.write_text("theirs\n")
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", someone_else_writes)
    with pytest.raises(TranscriptError, match="exists; add --force"):
        write_private(path, "mine\n")
    assert path.read_text() == "theirs\n"
    assert names(out) == ["chat.md"]


@pytest.mark.parametrize(
    ("name", "fmt"),
    [
        ("chat.md", "md"),
        ("chat.MD", "md"),
        ("chat.markdown", "md"),
        ("chat", "md"),
        ("notes.v2/chat", "md"),
        ("chat.json", "json"),
        ("chat.JSON", "json"),
        ("chat.html", "html"),
        ("chat.htm", "html"),
        ("chat.HTM", "html"),
    ],
)
def test_format_of_by_extension(name: str, fmt: str) -> None:
    assert format_of(Path(name)) == fmt


@pytest.mark.parametrize("name", ["chat.txt", "chat.pdf", "chat.tar.gz", "chat.md.bak"])
def test_format_of_an_unknown_extension(name: str) -> None:
    suffix = Path(name).suffix
    with pytest.raises(TranscriptError) as failed:
        format_of(Path(name))
    assert str(failed.value) == f"unknown format {suffix}: use .md, .json or .html"


def test_default_path_is_dated_named_and_numbered(tmp_path: Path) -> None:
    chat = Transcript(session_id=None, turns=[Turn(user="Fix the parser: it's SLOW!\nplease")])
    today = datetime.now().strftime("%Y-%m-%d")
    first = default_path(tmp_path, chat)
    assert first == tmp_path / f"{today}-fix-the-parser-it-s-slow-please.md"
    first.write_text("")
    second = default_path(tmp_path, chat)
    assert second.name == f"{today}-fix-the-parser-it-s-slow-please-2.md"
    second.write_text("")
    assert default_path(tmp_path, chat).name == f"{today}-fix-the-parser-it-s-slow-please-3.md"
    assert (
        default_path(tmp_path, chat, "json").name == f"{today}-fix-the-parser-it-s-slow-please.json"
    )

    titled = dataclasses.replace(chat, title="Über: the cache!")
    assert default_path(tmp_path, titled).name == f"{today}-ber-the-cache.md"
    empty = Transcript(session_id=None, turns=[])
    assert default_path(tmp_path, empty).name == f"{today}-conversation.md"
    long = Transcript(session_id=None, turns=[Turn(user="word " * 40)])
    assert len(default_path(tmp_path, long).stem) <= len(today) + 1 + 50


# -- claude-chat export --------------------------------------------------------------------------


def claude_chat(
    *args: str, cwd: Path, env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "claude_chat", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**os.environ, **(env or {})},
        timeout=120,
        stdin=subprocess.DEVNULL,
    )


def one_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    return lines[0]


@pytest.mark.parametrize(
    ("ref", "said"),
    [("nope", "not a session id"), (str(uuid.uuid4()), "no session")],
)
def test_export_of_an_unknown_session_is_one_line_and_status_2(
    project: Path, ref: str, said: str
) -> None:
    done = claude_chat("export", ref, cwd=project)
    assert done.returncode == 2
    line = one_line(done.stderr)
    assert line.startswith("claude-chat: ") and said in line and ref in line
    assert done.stdout == ""


def test_export_to_a_json_file_then_refuse_to_overwrite_it(project: Path) -> None:
    scripted_session().write()
    out = project / "x.json"
    done = claude_chat("export", SESSION_ID, "-o", "x.json", cwd=project)
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""
    assert one_line(done.stderr) == "wrote 3 turns to x.json"
    assert mode(out) == 0o600
    chat = load_json(out.read_text())
    assert [t.user for t in chat.turns] == [t.user for t in scripted_transcript().turns]
    assert chat.title == "What does `functools.cache` do? Keep it short."
    assert chat.session_id == SESSION_ID and chat.cwd == CWD
    before = out.read_bytes()

    again = claude_chat("export", SESSION_ID, "-o", "x.json", "--last", "1", cwd=project)
    assert again.returncode == 2
    assert one_line(again.stderr) == "claude-chat: x.json exists; add --force to overwrite it"
    assert out.read_bytes() == before

    forced = claude_chat(
        "export", SESSION_ID, "-o", "x.json", "--last", "1", "--force", cwd=project
    )
    assert forced.returncode == 0, forced.stderr
    assert [t.user for t in load_json(out.read_text()).turns] == ["Thanks! And the tests?"]
    assert mode(out) == 0o600
    assert names(project) == ["x.json"]


def test_export_html_to_stdout_without_secrets(project: Path) -> None:
    leaky_session()
    done = claude_chat(
        "export",
        SESSION_ID,
        "--format",
        "html",
        cwd=project,
        env={"ANTHROPIC_API_KEY": API_KEY, "CLAUDE_CODE_OAUTH_TOKEN": OAUTH_TOKEN},
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert done.stdout.startswith("<!DOCTYPE html>")
    page = parse_html(done.stdout)
    assert len(page.find_all("article", "turn")) == 1
    assert API_KEY not in done.stdout and OAUTH_TOKEN not in done.stdout
    assert "[redacted ANTHROPIC_API_KEY]" in done.stdout
    assert names(project) == []


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (("--format", "xml"), "--format must be md, json or html, not 'xml'"),
        (("-o", "chat.txt"), "unknown format .txt: use .md, .json or .html"),
        (("-o", "missing/chat.md"), "no directory missing"),
    ],
)
def test_export_mistakes_are_one_line_and_status_2(
    project: Path, args: tuple[str, ...], said: str
) -> None:
    scripted_session().write()
    done = claude_chat("export", SESSION_ID, *args, cwd=project)
    assert done.returncode == 2
    assert one_line(done.stderr) == f"claude-chat: {said}"
    assert names(project) == []


# -- the real CLI against the stand-in API ---------------------------------------------------


def item_kinds(turn: Turn) -> list[str]:
    return [item.kind for item in turn.items]


def check_three_turns(chat: Transcript, model: str) -> None:
    """hello, THINK, TOOL echo hi: what the stand-in API answered, as the store has it."""
    hello, think, tool = chat.turns[:3]
    assert [t.user for t in chat.turns[:3]] == ["hello", "THINK", "TOOL echo hi"]
    assert item_kinds(hello) == ["text"]
    assert hello.answer == f"Echo: hello | turn 1 | model {model}"
    assert item_kinds(think) == ["thinking", "text"]
    assert think.items[0].text == "Let me think about this."
    assert think.answer == "Thought done."
    assert item_kinds(tool) == ["tool", "text"]
    call = tool.items[0]
    assert (call.name, call.input, call.result, call.is_error) == (
        "Bash",
        {"command": "echo hi", "description": "run a command"},
        "hi",
        False,
    )
    assert tool.answer == "Tool said: hi"
    for turn in chat.turns:
        assert turn.model == model
        assert turn.input_tokens and turn.input_tokens > 0
        assert turn.output_tokens and turn.output_tokens > 0
        assert turn.started_at and turn.ended_at and turn.error is None


@pytest.mark.integration
def test_save_in_a_chat_then_export_from_another_process(
    api: FakeAnthropicAPI, tmp_path: Path, project: Path, isolated: Path
) -> None:
    launched_in = tmp_path / "launched-in"
    launched_in.mkdir()
    lines = [
        "hello",
        "THINK",
        "TOOL echo hi",
        "/save out.md",
        "/save out.json",
        "/save --last 1 last.md",
        "/save",
        "/save ~/in-home.html",
        "/save out.txt",
        "again",
        "/save out.md",
    ]
    done = subprocess.run(
        [sys.executable, "-m", "claude_chat", "--cwd", str(project)],
        input="".join(f"{line}\n" for line in lines),
        capture_output=True,
        text=True,
        cwd=launched_in,
        env=dict(os.environ),
        timeout=180,
    )
    assert done.returncode == 1, (done.stdout, done.stderr)  # the two refused saves
    assert "Traceback" not in done.stderr
    model = api.message_requests()[0].model
    data = isolated.parent / "data"
    (default,) = (data / "transcripts").iterdir()
    saved = [line for line in done.stdout.splitlines() if line.startswith("saved ")]
    assert saved == [
        f"saved 3 turns to {launched_in.resolve() / 'out.md'}",
        f"saved 3 turns to {launched_in.resolve() / 'out.json'}",
        f"saved 1 turn to {launched_in.resolve() / 'last.md'}",
        f"saved 3 turns to {default.resolve()}",
        f"saved 3 turns to {(isolated / 'in-home.html').resolve()}",
    ]
    errors = [line for line in done.stderr.splitlines() if line.startswith("error: ")]
    assert errors == [
        "error: unknown format .txt: use .md, .json or .html",
        "error: out.md exists; add --force to overwrite it",
    ]

    # Relative paths are relative to where claude-chat was started, not to --cwd.
    assert names(launched_in) == ["last.md", "out.json", "out.md"]
    assert names(project) == []
    for path in (
        *(launched_in / n for n in names(launched_in)),
        default,
        isolated / "in-home.html",
    ):
        assert mode(path) == 0o600, path
    assert mode(data / "transcripts") == 0o700
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}-hello\.md", default.name)

    saved_json = load_json((launched_in / "out.json").read_text())
    assert len(saved_json.turns) == 3
    check_three_turns(saved_json, model)
    assert saved_json.cwd == str(project.resolve())
    assert saved_json.title == "hello"
    assert saved_json.claude_code_version
    for turn in saved_json.turns:  # run by the process that saved them
        assert turn.cost_usd is not None and turn.cost_usd > 0
        assert turn.time_to_first_token_s is not None

    markdown = (launched_in / "out.md").read_text()
    assert markdown.startswith("# hello\n")
    assert markdown.count("\n## ") == 3 and "again" not in markdown  # not overwritten
    for part in ("> THINK", "<summary>Thinking</summary>", "Let me think about this.", "$0."):
        assert part in markdown
    assert "**Tool** `Bash(echo hi)`" in markdown and "Tool said: hi" in markdown
    assert default.read_text().count("\n## ") == 3
    last = (launched_in / "last.md").read_text()
    assert last.count("\n## ") == 1 and "> TOOL echo hi" in last and "> hello" not in last
    parse_html((isolated / "in-home.html").read_text())

    session_id = saved_json.session_id
    assert session_id is not None
    exported = claude_chat("export", session_id, "--format", "json", cwd=tmp_path)
    assert exported.returncode == 0, exported.stderr
    chat = load_json(exported.stdout)
    assert [t.user for t in chat.turns] == ["hello", "THINK", "TOOL echo hi", "again"]
    check_three_turns(chat, model)
    assert chat.turns[3].answer == f"Echo: again | turn 4 | model {model}"
    # Another process: the store keeps no cost or time to first token.
    assert all(t.cost_usd is None and t.time_to_first_token_s is None for t in chat.turns)
    assert processes_with_env(str(isolated)) == []


PROMPT = "❯"


def ready(screen: str) -> bool:
    return screen.rstrip().endswith("ready")


@pytest.fixture
def term(api: FakeAnthropicAPI, project: Path, isolated: Path) -> Iterator[Terminal]:
    env = dict(os.environ, TERM="xterm-256color")
    env.pop("NO_COLOR", None)
    env.pop("TMUX", None)
    terminal = Terminal([sys.executable, "-m", "claude_chat"], env, project)
    terminal.wait_for(PROMPT, timeout=20)
    terminal.wait_for(ready, timeout=60)
    yield terminal
    terminal.close()
    assert processes_with_env(str(isolated)) == [], "a process of ours outlived the test"


def clipboard(raw: bytes | bytearray) -> list[str]:
    """What each OSC 52 sequence written to the terminal put on the clipboard."""
    return [
        base64.b64decode(payload).decode("utf-8")
        for payload in re.findall(rb"\x1b\]52;c;([A-Za-z0-9+/=]*)\x07", bytes(raw))
    ]


def answers_done(count: int) -> Callable[[str], bool]:
    return lambda screen: screen.count("first token") >= count


@pytest.mark.integration
@pytest.mark.terminal
def test_copy_puts_the_answer_or_its_code_on_the_terminal_clipboard(
    term: Terminal, api: FakeAnthropicAPI
) -> None:
    term.enter("/copy")
    term.wait_for("nothing to copy yet", timeout=10)
    assert clipboard(term.raw) == []

    term.enter("hello")
    term.wait_for(answers_done(1), timeout=30)
    term.enter("/copy")
    term.wait_for("copied the last answer", timeout=10)
    model = api.message_requests()[-1].model
    assert clipboard(term.raw) == [f"Echo: hello | turn 1 | model {model}"]

    term.enter("MARKDOWN")
    term.wait_for(answers_done(2), timeout=30)
    term.enter("/copy code")
    term.wait_for("copied the last code block", timeout=10)
    code = MARKDOWN_ANSWER.split("```python\n")[1].split("```")[0].rstrip("\n")
    assert clipboard(term.raw)[-1] == code
    assert code.startswith("def greet(name):") and "```" not in code

    term.enter("/copy")
    term.wait_for(lambda s: s.count("copied the last answer") >= 2, timeout=10)
    assert clipboard(term.raw)[-1] == MARKDOWN_ANSWER


@pytest.mark.parametrize("name", ["a\x00b.md", "\ud800.md"])
def test_a_name_no_file_system_takes_is_one_line(tmp_path: Path, name: str) -> None:
    with pytest.raises(TranscriptError, match="is not a file name"):
        write_private(tmp_path / name, "text")
