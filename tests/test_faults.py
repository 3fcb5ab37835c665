"""Faults from outside that claude-chat must take in its stride.

With the real CLI and the stand-in API (``integration``): every API error status in one clear
line, a connection dropped mid-answer, the CLI's own retries shown while they wait, a 20 MB
answer, and input no terminal should send (NUL bytes, broken UTF-8, a 1 MB line or paste).
Without a CLI (fast): any text given to the command parser, to every slash command and to the
command-line options either works or says what is wrong in one line; never a traceback.
"""

from __future__ import annotations

import asyncio
import http.client
import io
import json
import os
import re
import shlex
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pexpect
import pytest
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from claude_chat import cli
from claude_chat.engine.config import (
    PERMISSION_MODES,
    THINKING_DISPLAYS,
    ChatConfig,
    ThinkingDisplay,
)
from claude_chat.engine.engine import ChatEngine
from claude_chat.engine.errors import ChatError
from claude_chat.engine.stats import SessionStats
from claude_chat.store.lock import session_lock
from claude_chat.store.sessions import RecapLine, SessionSummary, project_key
from claude_chat.terminal.commands import message_text, parse_command, registry
from claude_chat.terminal.plain_view import PlainTurnView
from claude_chat.terminal.turn import run_turn
from claude_chat.terminal.turn_lines import StyledLine
from tests.fake_api import (
    FakeAnthropicAPI,
    HTTPError,
    RecordedRequest,
    Text,
    error_type_for,
    read_body,
)
from tests.fake_transport import SESSION, FakeCLI
from tests.terminal import Terminal, piped_chat, processes_with_env

integration = pytest.mark.integration


# --------------------------------------------------------------------------------------------
# Helpers: claude-chat piped, and the lines it writes to stderr
# --------------------------------------------------------------------------------------------


def chat(
    stdin: bytes | str, cwd: Path, *args: str, timeout: float = 180
) -> subprocess.CompletedProcess[str]:
    """``python -m claude_chat`` with standard input from a pipe, as a script would run it."""
    data = stdin.encode() if isinstance(stdin, str) else stdin
    done = subprocess.run(
        [sys.executable, "-m", "claude_chat", *args],
        input=data,
        capture_output=True,
        cwd=cwd,
        env=dict(os.environ),
        timeout=timeout,
    )
    return subprocess.CompletedProcess(
        done.args,
        done.returncode,
        done.stdout.decode("utf-8", errors="replace"),
        done.stderr.decode("utf-8", errors="replace"),
    )


def error_lines(stderr: str) -> list[str]:
    """The lines piped mode writes for a failed turn or command (footers are not errors)."""
    return [line for line in stderr.splitlines() if line.startswith("error")]


def no_traceback(done: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in done.stderr + done.stdout, done.stderr
    # rich's pretty traceback has no "Traceback" word, but always a frame box like this.
    assert "╭─" not in done.stderr, done.stderr


# --------------------------------------------------------------------------------------------
# API errors through the real CLI
# --------------------------------------------------------------------------------------------


# What the one error line must say besides the status: what to do about it.
_NEEDED = {
    400: ("400", "the request was rejected"),
    401: ("log in", "claude /login", "ANTHROPIC_API_KEY"),  # authentication: how to fix it
    403: ("403", "may not use"),  # the key works but may not do this: logging in again won't help
    429: ("429", "rate limited", "wait"),
    500: ("500", "again"),
    529: ("529", "overloaded", "wait"),
}


@integration
@pytest.mark.parametrize(
    "status",
    [
        400,
        401,
        403,
        429,
        500,
        529,
    ],
)
def test_an_api_error_is_one_line_saying_what_to_do_and_the_session_goes_on(
    api: FakeAnthropicAPI, project: Path, isolated: Path, status: int
) -> None:
    api.enqueue(HTTPError(status, error_type_for(status), f"fake {status} from the API"))
    done = chat("first\nafter\n", project)
    no_traceback(done)
    assert done.returncode == 1
    assert api.message_requests()[0].last_user_text == "first"
    errors = error_lines(done.stderr)
    assert len(errors) == 1, done.stderr
    line = errors[0]
    if status == 403:
        assert "Not logged in" not in line
    for needed in _NEEDED[status]:
        assert needed in line, line
    # The next message in the same run is answered.
    assert done.stdout.splitlines()[0].startswith("Echo: after"), done.stdout
    assert processes_with_env(str(isolated)) == []


# --------------------------------------------------------------------------------------------
# A connection dropped mid-answer
# --------------------------------------------------------------------------------------------


class _DroppingProxy(BaseHTTPRequestHandler):
    """In front of the stand-in API: a message ``DROP`` gets the start of a streamed answer,
    then the socket is closed under it; everything else is passed through."""

    protocol_version = "HTTP/1.1"
    upstream = ""  # host:port of the stand-in API
    dropped: ClassVar[list[bool]] = []  # whether each dropped request was streamed

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        raw = read_body(self)
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        request = RecordedRequest(self.command, self.path.split("?")[0], {}, body)
        if request.is_conversation and request.last_user_text == "DROP":
            self.dropped.append(request.is_stream)
            self._drop(request)
        else:
            self._forward(raw)

    do_GET = do_HEAD = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_POST

    def _drop(self, request: RecordedRequest) -> None:
        self.send_response(200)
        self.send_header("content-type", "text/event-stream; charset=utf-8")
        self.send_header("transfer-encoding", "chunked")
        self.end_headers()
        message: dict[str, Any] = {
            "id": f"msg_drop_{uuid.uuid4().hex[:8]}",
            "type": "message",
            "role": "assistant",
            "model": request.model,
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": {"input_tokens": 1, "output_tokens": 1},
        }
        events: list[dict[str, Any]] = [
            {"type": "message_start", "message": message},
            {"type": "content_block_start", "index": 0, "content_block": {"type": "text"}},
            {
                "type": "content_block_delta",
                "index": 0,
                "delta": {"type": "text_delta", "text": "the start of an answer "},
            },
        ]
        for sse in events:
            data = f"event: {sse['type']}\ndata: {json.dumps(sse)}\n\n".encode()
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()
        time.sleep(0.2)
        # No last chunk, no message_stop: the connection just goes.
        self.connection.shutdown(socket.SHUT_RDWR)
        self.close_connection = True

    def _forward(self, raw: bytes) -> None:
        upstream = http.client.HTTPConnection(self.upstream, timeout=60)
        skip = ("transfer-encoding", "content-length", "connection", "host")
        headers = {k: v for k, v in self.headers.items() if k.lower() not in skip}
        try:
            upstream.request(self.command, self.path, body=raw or None, headers=headers)
            response = upstream.getresponse()
            data = response.read()
        finally:
            upstream.close()
        self.send_response(response.status)
        for name, value in response.getheaders():
            if name.lower() not in ("transfer-encoding", "content-length", "connection"):
                self.send_header(name, value)
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)
        self.wfile.flush()


@pytest.fixture
def dropping_api(api: FakeAnthropicAPI, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[bool]]:
    """The proxy in front of ``api``; yields whether each dropped request was streamed."""
    # A class per server: the handler's settings are class attributes.
    handler: type[_DroppingProxy] = type(
        "Proxy", (_DroppingProxy,), {"upstream": api.base_url[len("http://") :], "dropped": []}
    )
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    monkeypatch.setenv("ANTHROPIC_BASE_URL", f"http://127.0.0.1:{server.server_address[1]}")
    yield handler.dropped
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


@integration
def test_a_connection_dropped_mid_answer_is_one_line_and_the_next_message_works(
    dropping_api: list[bool], api: FakeAnthropicAPI, project: Path, isolated: Path
) -> None:
    done = chat("DROP\nafter\n", project)
    no_traceback(done)
    assert dropping_api and dropping_api[0] is True, "the streamed answer was never cut"
    assert done.returncode == 1
    errors = error_lines(done.stderr)
    assert len(errors) == 1, done.stderr
    assert "connection" in errors[0].lower() and "again" in errors[0], errors[0]
    lines = done.stdout.splitlines()
    # What came before the cut stays on its own line; the next message is answered.
    assert lines[0].startswith("the start of an answer"), done.stdout
    assert lines[1].startswith("Echo: after"), done.stdout
    assert processes_with_env(str(isolated)) == []


# --------------------------------------------------------------------------------------------
# The CLI retrying on its own: shown while it waits
# --------------------------------------------------------------------------------------------


def start_terminal(project: Path) -> Terminal:
    env = {**os.environ, "TERM": "xterm-256color"}
    env.pop("NO_COLOR", None)
    terminal = Terminal([sys.executable, "-m", "claude_chat"], env, project)
    terminal.wait_for(lambda s: s.rstrip().endswith("ready"), timeout=60)
    return terminal


@pytest.mark.integration
@pytest.mark.terminal
def test_a_retry_is_shown_on_the_status_line_while_it_waits(
    api: FakeAnthropicAPI, project: Path, isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLAUDE_CODE_MAX_RETRIES", "2")
    # One overloaded answer, with time to look at the screen before the retry; then an answer.
    api.enqueue(
        HTTPError(
            529,
            "overloaded_error",
            "fake 529",
            headers={"retry-after": "2"},
            repeat_for_retries=False,
        )
    )
    term = start_terminal(project)
    try:
        term.enter("hello")
        waiting = term.wait_for("retrying", timeout=30)
        status = next(line for line in waiting.splitlines() if "retrying" in line)
        assert "529" in status and "attempt 1/2" in status, status
        assert "Echo: hello" not in waiting
        answered = term.wait_for(lambda s: "first token" in s, timeout=30)
        assert "Echo: hello" in answered
        # The status line went with the live region; no error was shown.
        assert "retrying" not in term.display()
        assert "✗" not in answered
        assert [r.last_user_text for r in api.message_requests()] == ["hello", "hello"]
    finally:
        term.close()
    assert processes_with_env(str(isolated)) == []


# --------------------------------------------------------------------------------------------
# A 20 MB answer on one line
# --------------------------------------------------------------------------------------------


@integration
def test_a_20_mb_answer_on_one_line_arrives_whole(
    api: FakeAnthropicAPI, project: Path, isolated: Path
) -> None:
    size = 20 * 1024 * 1024
    answer = "0123456789abcdef" * (size // 16)
    # One text_delta of 20 MB: the CLI writes it to claude-chat as one 20 MB stream-json line.
    api.enqueue(Text(answer, chunks=[answer]))
    done = chat("big\nafter\n", project)
    no_traceback(done)
    assert done.returncode == 0, done.stderr[-2000:]
    first, second, *rest = done.stdout.split("\n")
    assert len(first) == size and first == answer
    assert second.startswith("Echo: after") and rest == [""]
    assert processes_with_env(str(isolated)) == []


# --------------------------------------------------------------------------------------------
# Input no one should send
# --------------------------------------------------------------------------------------------


@integration
def test_odd_bytes_and_a_1_mb_line_on_stdin(
    api: FakeAnthropicAPI, project: Path, isolated: Path
) -> None:
    megabyte = "w" * (1024 * 1024)
    stdin = (
        b"nul\x00in\x00the middle\n"
        b"\n"
        b"   \n"
        b"\t \r\n"
        b"bad \xff\xfe utf8 \xc3\n"
        b"surrogate \xed\xa0\x80 in CESU\n" + megabyte.encode() + b"\n"
        b"last\r\n"
    )
    done = chat(stdin, project)
    no_traceback(done)
    assert done.returncode == 0, done.stderr
    assert error_lines(done.stderr) == []
    sent = [r.last_user_text for r in api.message_requests()]
    # Empty and blank lines are not messages; NULs are dropped, bad bytes replaced.
    assert sent == [
        "nulinthe middle",
        "bad \ufffd\ufffd utf8 \ufffd",
        "surrogate \ufffd\ufffd\ufffd in CESU",
        megabyte,
        "last",
    ]
    assert len(api.message_requests()[-2].last_user_text) == 1024 * 1024
    assert done.stdout.count("Echo: ") == 5
    assert processes_with_env(str(isolated)) == []


def _read_available(term: Terminal) -> None:
    """Whatever output is there now, into ``term.raw`` (see ``_drain``)."""
    _drain(term, lambda: False, 0)


def _drain(term: Terminal, until: Callable[[], bool], timeout: float) -> None:
    """Read the terminal's output into ``term.raw`` without the screen emulator, which takes
    seconds per megabyte, until ``until()``; answer cursor position requests on the way."""
    deadline = time.monotonic() + timeout
    while not until():
        if timeout and time.monotonic() > deadline:
            raise AssertionError("timed out; output ends with " + repr(bytes(term.raw[-2000:])))
        try:
            data = term.child.read_nonblocking(65536, timeout=0.05 if timeout else 0)
        except pexpect.TIMEOUT:
            if not timeout:
                return
            continue
        term.raw.extend(data)
        for _ in range(data.count(b"\x1b[6n")):
            term.child.send("\x1b[40;1R")


@pytest.mark.integration
@pytest.mark.terminal
def test_a_1_mb_bracketed_paste_is_one_message(
    api: FakeAnthropicAPI, project: Path, isolated: Path
) -> None:
    term = start_terminal(project)
    try:
        lines = [f"{number:06d} " + "x" * 93 for number in range(10_000)]  # 100 bytes a line
        paste = "\n".join(lines)
        assert len(paste) >= 999_999
        data = ("\x1b[200~" + paste + "\x1b[201~").encode()
        started = time.monotonic()
        for start in range(0, len(data), 4096):
            term.child.send(data[start : start + 4096])
            _read_available(term)  # what is echoed meanwhile, so that the pty never fills
        # Nothing is sent until Enter: the paste is text in the prompt, newlines and all.
        time.sleep(0.3)
        assert api.message_requests() == []
        term.enter()
        _drain(term, lambda: len(api.message_requests()) >= 1, 60)
        took = time.monotonic() - started
        _drain(term, lambda: b"first token" in term.raw, 60)
        requests = api.message_requests()
        assert len(requests) == 1
        assert requests[0].last_user_text == paste
        assert took < 20, f"the paste took {took:.1f}s to reach the API"
        # The chat goes on.
        mark = len(term.raw)
        term.enter("after")
        _drain(term, lambda: b"Echo: after" in term.raw[mark:], 60)
        assert b"Traceback" not in term.raw and b"internal error" not in term.raw
    finally:
        term.close()
    assert processes_with_env(str(isolated)) == []


# --------------------------------------------------------------------------------------------
# Commands given any text (no CLI: fast)
# --------------------------------------------------------------------------------------------

_COMMAND_LIKE = st.builds(
    lambda name, gap, args: f"/{name}{gap}{args}",
    st.sampled_from(registry.names()),
    st.sampled_from([" ", "  ", "\t", "\n", ""]),
    st.text(max_size=60),
)


@given(
    st.one_of(
        st.text(st.characters(blacklist_categories=()), max_size=300),  # surrogates too
        _COMMAND_LIKE,
    )
)
def test_parse_command_never_raises_and_a_command_keeps_its_arguments(line: str) -> None:
    parsed = parse_command(line)
    message_text(line)
    if parsed is None:
        return
    name, args = parsed
    assert re.fullmatch(r"[^\W\d_][\w-]*", name) and name == name.lower()
    assert args == args.strip()


@given(st.sampled_from([n for n in registry.names() if n[0].isalpha()]), st.text(max_size=80))
def test_a_command_and_its_arguments_come_back_as_typed(name: str, args: str) -> None:
    assert parse_command(f"/{name} {args}") == (name, args.strip())


class FuzzContext:
    """The smallest ``CommandContext``: what commands show is kept, questions are answered yes,
    and messages are real turns through ``ChatEngine`` with a fake Claude Code process."""

    key_help: Sequence[tuple[str, str]] = ()

    def __init__(self, engine: ChatEngine) -> None:
        self.engine = engine
        self.stats = SessionStats()
        self.thinking: ThinkingDisplay = "full"
        self.listed_sessions: list[SessionSummary] = []
        self.last_message: str | None = None
        self.shown: list[str] = []
        self.clipboard: str | None = None
        self.exiting = False
        self.session_lock = session_lock()

    async def send_message(self, text: str) -> None:
        self.last_message = text
        out = io.StringIO()
        await run_turn(self.engine, text, PlainTurnView(out, out, self.stats), self.stats)

    def say(self, text: str) -> None:
        self.shown.append(text)

    def show_lines(self, lines: Sequence[StyledLine]) -> None:
        self.shown.extend(line.text for line in lines)

    def show_pairs(self, pairs: Sequence[tuple[str, str]]) -> None:
        self.shown.extend(f"{name}  {value}" for name, value in pairs)

    def show_table(self, headers: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
        self.shown.extend("\t".join(row) for row in [list(headers), *rows])

    def show_recap(self, lines: Sequence[RecapLine]) -> None:
        self.shown.extend(line.text for line in lines)

    async def confirm(self, question: str) -> bool:
        return True

    def copy_to_clipboard(self, text: str) -> None:
        self.clipboard = text

    def request_exit(self) -> None:
        self.exiting = True


def write_session_file(cwd: Path, session_id: str = SESSION) -> Path:
    """A stored session of one answered prompt, as Claude Code writes it, under the temp HOME."""
    folder = Path.home() / ".claude" / "projects" / project_key(str(cwd))
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{session_id}.jsonl"
    first, second = str(uuid.uuid4()), str(uuid.uuid4())
    common = {"cwd": str(cwd), "sessionId": session_id, "version": "2.1.330", "isSidechain": False}
    records = [
        {
            "parentUuid": None,
            "type": "user",
            "message": {"role": "user", "content": "hello"},
            "uuid": first,
            "timestamp": "2026-11-24T09:54:39.000Z",
            "promptId": str(uuid.uuid4()),
            **common,
        },
        {
            "parentUuid": first,
            "type": "assistant",
            "message": {"role": "assistant", "content": [{"type": "text", "text": "Echo: hello"}]},
            "uuid": second,
            "timestamp": "2026-11-24T09:54:40.000Z",
            **common,
        },
    ]
    path.write_text("".join(json.dumps(r, separators=(",", ":")) + "\n" for r in records))
    return path


async def run_command(
    cwd: Path, line: str, *, with_turn: bool, stored: bool
) -> tuple[FuzzContext, BaseException | None]:
    """``line`` run in a fresh chat (after one turn, when ``with_turn``), whose session is
    ``stored`` or not; the exception it raised, if any."""
    engine = ChatEngine(ChatConfig(cwd=cwd), transport_factory=FakeCLI)
    ctx = FuzzContext(engine)
    raised: BaseException | None = None
    try:
        if with_turn:
            await ctx.send_message("hello")
            assert engine.session_id == SESSION
        if stored:
            # Where the chat lists sessions: its cwd is the one Claude Code reported.
            write_session_file(Path(engine.cwd or cwd))
        await registry.run(ctx, line)
    except Exception as exc:
        raised = exc
    finally:
        await engine.close()
    return ctx, raised


# Words that mean something to some command, among random text.
_ARGUMENT_WORDS = [
    "--all",
    "--last",
    "--force",
    "--nope",
    "0",
    "1",
    "3",
    "-1",
    "99999",
    "١",
    SESSION,
    SESSION[:8],
    SESSION.upper(),
    str(uuid.UUID(int=0)),
    "hello",
    "opus",
    "sonnet",
    "default",
    *PERMISSION_MODES,
    *THINKING_DISPLAYS,
    "code",
    "x.md",
    "x.json",
    "x.html",
    "x.htm",
    "x.txt",
    "dir/x.md",
    "~/x.md",
    "~",
    '"a b.md"',
    "'",
    '"',
    "\\",
    "\x00",
    "é🙂",
]
_ARGUMENTS = st.one_of(
    st.text(max_size=60),
    st.lists(st.sampled_from(_ARGUMENT_WORDS), max_size=4).map(" ".join),
    st.lists(st.one_of(st.sampled_from(_ARGUMENT_WORDS), st.text(max_size=8)), max_size=4).map(
        " ".join
    ),
)


def _writes_outside(name: str, args: str) -> bool:
    """Whether /save would be asked to write outside the test's directories (this may run as
    root), or to a ``~user`` path (a known bug, tested on its own below)."""
    if registry.lookup(name) is not registry.lookup("save"):
        return False
    try:
        words = shlex.split(args)
    except ValueError:
        return False  # refused before any path is looked at
    for word in words:
        path = Path(word)
        if path.is_absolute() or ".." in path.parts:
            return True
        if word.startswith("~") and not (word == "~" or word.startswith("~/")):
            return True
    return False


@settings(
    max_examples=500,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    # Every command as often as any other, by its name or an alias.
    name=st.sampled_from(registry.commands).flatmap(
        lambda command: st.sampled_from([command.name, *command.aliases])
    ),
    upper=st.booleans(),
    args=_ARGUMENTS,
    with_turn=st.booleans(),
    stored=st.booleans(),
)
def test_any_command_with_any_arguments_works_or_raises_a_chat_error(
    project: Path,
    monkeypatch: pytest.MonkeyPatch,
    name: str,
    upper: bool,
    args: str,
    with_turn: bool,
    stored: bool,
) -> None:
    # Everything a command may touch is under the temp HOME and this directory.
    monkeypatch.delenv("CLAUDE_CONFIG_DIR", raising=False)
    monkeypatch.chdir(project)
    assume(not _writes_outside(name, args))
    # Known bug, tested on its own below: /rename of a session whose file is gone.
    assume(not (registry.lookup(name) is registry.lookup("rename") and with_turn and not stored))
    line = f"/{name.upper() if upper else name} {args}"
    _, raised = asyncio.run(run_command(project, line, with_turn=with_turn, stored=stored))
    command = registry.lookup(name)
    event(f"/{command.name if command else '?'}: {type(raised).__name__ if raised else 'done'}")
    if raised is not None:
        assert isinstance(raised, ChatError), f"{line!r} raised {raised!r}"
        assert str(raised).strip(), f"{line!r} raised {raised!r} with no message"


def test_rename_of_a_session_whose_file_is_gone_is_a_chat_error(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CLAUDE_CONFIG_DIR", raising=False)
    _, raised = asyncio.run(run_command(project, "/rename a title", with_turn=True, stored=False))
    assert raised is None or isinstance(raised, ChatError), repr(raised)


@integration
def test_rename_after_the_session_file_went_is_one_line_in_piped_mode(
    api: FakeAnthropicAPI, project: Path, isolated: Path
) -> None:
    chat = piped_chat(project, b"hi\n")
    assert chat.stdout is not None
    assert chat.stdout.readline().startswith(b"Echo: hi")
    stored = list((isolated / ".claude" / "projects").glob("*/*.jsonl"))
    assert len(stored) == 1
    stored[0].unlink()  # as /delete in another chat does
    out, err = chat.communicate(b"/rename a title\nafter\n", timeout=60)
    done = subprocess.CompletedProcess(chat.args, chat.returncode, out.decode(), err.decode())
    no_traceback(done)
    assert len(error_lines(done.stderr)) == 1
    assert done.stdout.startswith("Echo: after")


def test_save_to_the_home_of_an_unknown_user_is_a_chat_error(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CLAUDE_CONFIG_DIR", raising=False)
    monkeypatch.chdir(project)
    line = "/save ~no-such-user-here/x.md"
    _, raised = asyncio.run(run_command(project, line, with_turn=True, stored=True))
    assert raised is None or isinstance(raised, ChatError), repr(raised)


@integration
def test_a_bad_save_path_in_piped_mode_is_one_line_and_the_input_goes_on(
    api: FakeAnthropicAPI, project: Path
) -> None:
    done = chat("/save ~no-such-user-here/x.md\nafter\n", project)
    no_traceback(done)
    assert len(error_lines(done.stderr)) == 1
    assert done.stdout.startswith("Echo: after")


# --------------------------------------------------------------------------------------------
# Command-line options given any values (no chat is started)
# --------------------------------------------------------------------------------------------

_OPTION_VALUES = {
    "--model": ["opus", "sonnet", "claude-opus-5-5", ""],
    "--permission-mode": list(PERMISSION_MODES),
    "--session": [SESSION, str(uuid.UUID(int=0)), "not-a-uuid"],
    "--thinking": list(THINKING_DISPLAYS),
    "--cwd": [".", "/", "/no/such/dir", "."],
    "--cli-path": ["/bin/sh", "/no/such/cli", "."],
}


@st.composite
def option_lists(draw: st.DrawFn) -> list[str]:
    chosen = draw(st.lists(st.sampled_from(sorted(_OPTION_VALUES)), unique=True, max_size=6))
    argv: list[str] = []
    for option in chosen:
        value = draw(
            st.one_of(
                st.sampled_from(_OPTION_VALUES[option]),
                # No NUL: an argument of a real command line cannot hold one.
                st.text(st.characters(blacklist_characters="\x00"), max_size=30),
                # Bytes that are not UTF-8 come in as surrogate escapes.
                st.sampled_from(["-", "--", "--help", "-m", "--cwd", "\udcff", "x\udce9.md"]),
            )
        )
        argv += [option, value] if draw(st.booleans()) else [f"{option}={value}"]
    argv += draw(st.lists(st.sampled_from(["--continue", "-c", "--fork"]), unique=True))
    return argv


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(argv=option_lists())
def test_any_option_values_exit_0_to_2_without_a_traceback(
    project: Path, monkeypatch: pytest.MonkeyPatch, argv: list[str]
) -> None:
    monkeypatch.delenv("CLAUDE_CONFIG_DIR", raising=False)
    monkeypatch.chdir(project)
    started: list[ChatConfig] = []

    async def no_chat(config: ChatConfig, lock: object) -> int:
        started.append(config)
        return 0

    monkeypatch.setattr(cli, "_run", no_chat)
    # It adds a log handler per call: one process, one call; not hundreds in this one.
    monkeypatch.setattr(cli, "_keep_library_logs_off_the_screen", lambda: None)
    result = CliRunner().invoke(cli.app, argv)
    assert result.exit_code in (0, 1, 2), (argv, result.exit_code, result.output)
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        argv,
        repr(result.exception),
    )
    assert "Traceback" not in result.output
    if started:
        config = started[0]
        assert result.exit_code == 0
        assert config.permission_mode in (None, *PERMISSION_MODES)
        assert config.thinking in THINKING_DISPLAYS
        assert config.cwd is None or config.cwd.is_dir()
    elif result.exit_code == 2 and "--help" not in argv:
        # One line saying what is wrong (ours, or click's usage error).
        assert result.output.strip(), argv


@pytest.mark.parametrize("option", ["--cwd", "--cli-path"])
def test_a_path_no_file_system_takes_is_one_line_and_status_2(option: str) -> None:
    from typer.testing import CliRunner

    from claude_chat.cli import app

    result = CliRunner().invoke(app, [f"{option}=\ud800"])
    assert result.exit_code == 2, result.exception
