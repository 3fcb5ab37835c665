"""A scripted stand-in for the Anthropic Messages API, for driving the real Claude Code CLI.

Point the CLI at it with ``ANTHROPIC_BASE_URL=api.base_url`` (and any ``ANTHROPIC_API_KEY``) and
it answers ``POST /v1/messages`` as the real API does: server-sent events when the request asks
for ``"stream": true``, a JSON ``Message`` otherwise.  Every request is recorded.

The answer to a conversation request comes from, in order:

1. the replies queued with :meth:`FakeAnthropicAPI.enqueue`, first in, first out;
2. rules keyed on the last text the user typed, so that a test driving a chat in another
   process can script it by what it types::

       SLOW [n]        "slow0 slow1 ... slow{n-1} ", a word every 0.3 s (n defaults to 10)
       TOOL <command>  a Bash tool call; once its result comes back: "Tool said: <result>"
       FAIL <status>   that HTTP error, e.g. FAIL 400 -> invalid_request_error "fake 400"
       RECALL          "You said before: [<earlier user texts joined by ' | '>] (end)"
       THINK           a thinking block, then "Thought done."
       MARKDOWN        a heading, bold, code, a list and a fenced python block, in small chunks
       LONG [n]        n paragraphs "Paragraph i: lorem ...", a word every 0.05 s (n defaults to 3)
       anything else   "Echo: <text> | turn <user texts so far> | model <model>"

   and Claude Code's compaction request (``/compact``, or its own when the context is full) gets
   "<analysis>…</analysis><summary>Summary of: <earlier user texts joined by ' | '></summary>".

A reply reports input tokens of about a quarter of the request's bytes, unless it says its own
``usage`` (``Reply(..., usage={"input_tokens": 150000})``).

The CLI's side requests (the session title it asks for unless
``CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC`` is set) never take from the queue: they get a
small made-up answer, and :meth:`FakeAnthropicAPI.message_requests` leaves them out.

Use it in-process as a context manager (``with FakeAnthropicAPI() as api: ...``) or as a program::

    python tests/fake_api.py [--port 0] [--first-token-delay S] [--record FILE]

which prints one line ``READY http://127.0.0.1:PORT`` and serves until SIGTERM or SIGINT.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import re
import signal
import socket
import sys
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import FrameType, TracebackType
from typing import Any
from urllib.parse import urlsplit

__all__ = [
    "COMPACTION_REQUEST",
    "MARKDOWN_ANSWER",
    "Answer",
    "Block",
    "FakeAnthropicAPI",
    "HTTPError",
    "RecordedRequest",
    "Reply",
    "Text",
    "Thinking",
    "ToolUse",
    "default_reply",
    "error_type_for",
    "strip_cli_context",
    "user_inputs",
]

JSON = dict[str, Any]


# --------------------------------------------------------------------------------------------
# Scripted replies
# --------------------------------------------------------------------------------------------


@dataclass
class Text:
    """A text block, streamed as one ``text_delta`` per chunk (the given ones, or per word)."""

    text: str
    chunks: list[str] | None = None  # when given, they make up the text
    delay: float = 0.0  # seconds between two chunks

    def pieces(self) -> list[str]:
        if self.chunks is not None:
            return [chunk for chunk in self.chunks if chunk]
        return _words(self.text)


@dataclass
class Thinking:
    """A thinking block: a ``thinking_delta`` per word, then one ``signature_delta``."""

    text: str
    signature: str = "fake-signature"
    delay: float = 0.0  # seconds between two words


@dataclass
class ToolUse:
    """A ``tool_use`` block; its input arrives as ``input_json_delta`` pieces."""

    name: str
    input: JSON
    id: str | None = None  # a fresh ``toolu_...`` id when not given


Block = Text | Thinking | ToolUse


@dataclass
class Reply:
    """One assistant message made of blocks; ``stop_reason`` defaults from the blocks."""

    blocks: list[Block]
    stop_reason: str | None = None
    # Input counts to report instead of the estimate: input_tokens, cache_read_input_tokens,
    # cache_creation_input_tokens.
    usage: JSON | None = None

    def resolved_stop_reason(self) -> str:
        if self.stop_reason is not None:
            return self.stop_reason
        return "tool_use" if any(isinstance(b, ToolUse) for b in self.blocks) else "end_turn"


_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    529: "overloaded_error",
}


def error_type_for(status: int) -> str:
    """The error ``type`` the real API gives with an HTTP status."""
    return _ERROR_TYPES.get(status, "api_error" if status >= 500 else "invalid_request_error")


@dataclass
class HTTPError:
    """An error answer: ``status`` and ``{"type":"error","error":{"type":..,"message":..}}``.

    The CLI asks again after an error: after a 429 or 5xx with backoff (10 times, minutes in
    all, unless ``CLAUDE_CODE_MAX_RETRIES`` says otherwise), and after a 400 at once, five
    times, with fewer beta features each time.  A queued error with ``repeat_for_retries``
    answers all of those (requests with the same history) and so reaches the user; without it,
    it answers only one request and the next ask takes the next answer in the queue.
    """

    status: int
    error_type: str
    message: str
    headers: dict[str, str] = field(default_factory=dict)  # e.g. {"x-should-retry": "false"}
    repeat_for_retries: bool = True

    def body(self) -> JSON:
        return {"type": "error", "error": {"type": self.error_type, "message": self.message}}


Answer = Reply | HTTPError


# --------------------------------------------------------------------------------------------
# Recorded requests
# --------------------------------------------------------------------------------------------

# What the CLI adds to a user message besides the input itself: reminders (commit attribution,
# memory files, hook output...) and its record of local commands such as /model.
_CLI_CONTEXT = re.compile(
    r"<(system-reminder|local-command-caveat|local-command-stdout|local-command-stderr"
    r"|command-name|command-message|command-args)>.*?</\1>",
    re.DOTALL,
)
# The note the CLI puts in the history after an interrupted turn.
_INTERRUPTED = re.compile(r"\[Request interrupted by user[^\]]*\]")


def strip_cli_context(text: str) -> str:
    """``text`` without the ``<system-reminder>`` and local-command records the CLI adds."""
    return _CLI_CONTEXT.sub("", text).strip()


def user_inputs(message: JSON) -> list[str]:
    """The inputs in one user message: its text blocks without what the CLI wraps around them.

    Tool results are left out, and so is the CLI's ``[Request interrupted by user]`` note.
    """
    content = message.get("content")
    if isinstance(content, str):
        blocks = [content]
    elif isinstance(content, list):
        blocks = [
            str(b.get("text", ""))
            for b in content
            if isinstance(b, dict) and b.get("type") == "text"
        ]
    else:
        blocks = []
    texts = (strip_cli_context(block) for block in blocks)
    return [text for text in texts if text and not _INTERRUPTED.fullmatch(text)]


def _content_text(content: Any) -> str:
    """A content value as text: a string, or its text blocks joined by newlines."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(
            str(b.get("text", ""))
            for b in content
            if isinstance(b, dict) and b.get("type") == "text"
        )
    return ""


@dataclass
class RecordedRequest:
    """One HTTP request as the server received it."""

    method: str
    path: str  # without the query string (the CLI asks for /v1/messages?beta=true)
    headers: dict[str, str]  # lower-case names
    body: Any  # the parsed JSON, or None
    query: str = ""
    received_at: float = 0.0  # time.monotonic()

    @property
    def model(self) -> str:
        return str(self.body.get("model") or "") if isinstance(self.body, dict) else ""

    @property
    def messages(self) -> list[JSON]:
        """The ``messages`` of the body (the CLI puts ``"role": "system"`` ones there too)."""
        messages = self.body.get("messages") if isinstance(self.body, dict) else None
        return [m for m in messages if isinstance(m, dict)] if isinstance(messages, list) else []

    @property
    def user_texts(self) -> list[str]:
        """Everything the user typed, oldest first: one entry per text block of a user message.

        A block is one input: the CLI puts the input of a failed or interrupted turn and the
        next one into a single message, as two text blocks.  Left out: tool results, the
        ``<system-reminder>`` blocks and local-command records the CLI adds, and its
        ``[Request interrupted by user]`` note.
        """
        return [
            text
            for message in self.messages
            if message.get("role") == "user"
            for text in user_inputs(message)
        ]

    @property
    def last_user_text(self) -> str:
        """The last thing the user typed (see :attr:`user_texts`), or ``""``."""
        texts = self.user_texts
        return texts[-1] if texts else ""

    @property
    def tool_results(self) -> list[JSON]:
        """The ``tool_result`` blocks of the last message, when it is the user's."""
        messages = self.messages
        if not messages or messages[-1].get("role") != "user":
            return []
        content = messages[-1].get("content")
        if not isinstance(content, list):
            return []
        return [b for b in content if isinstance(b, dict) and b.get("type") == "tool_result"]

    @property
    def is_stream(self) -> bool:
        return isinstance(self.body, dict) and bool(self.body.get("stream"))

    @property
    def is_conversation(self) -> bool:
        """Whether this asks for a turn of the conversation, not for something on the side.

        A turn is a ``POST /v1/messages`` carrying the conversation's tools or its thinking and
        context-management settings (with ``--tools ""`` the tool list is empty; those stay).
        The session title request has none of them and asks for JSON through
        ``output_config.format``; one-token requests (quota probes) do not count either.
        """
        body = self.body
        if self.method != "POST" or self.path != "/v1/messages" or not isinstance(body, dict):
            return False
        output_config = body.get("output_config")
        if isinstance(output_config, dict) and output_config.get("format"):
            return False
        max_tokens = body.get("max_tokens")
        if isinstance(max_tokens, int) and max_tokens <= 1:
            return False
        return bool(body.get("tools") or body.get("thinking") or body.get("context_management"))

    def history_key(self) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """Equal for a request and the CLI's retries of it, different for the next turn."""
        tool_results = tuple(
            str(block.get("tool_use_id"))
            for message in self.messages
            if message.get("role") == "user" and isinstance(message.get("content"), list)
            for block in message["content"]
            if isinstance(block, dict) and block.get("type") == "tool_result"
        )
        return tuple(self.user_texts), tool_results

    def as_json(self) -> JSON:
        return {
            "method": self.method,
            "path": self.path,
            "query": self.query,
            "headers": self.headers,
            "body": self.body,
        }


# --------------------------------------------------------------------------------------------
# The default rules
# --------------------------------------------------------------------------------------------

_LOREM = (
    "lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor "
    "incididunt ut labore et dolore magna aliqua."
)

MARKDOWN_ANSWER = (
    "# A heading\n"
    "\n"
    "Some text with **bold words** and `inline code` in it.\n"
    "\n"
    "- first item\n"
    "- second item\n"
    "- third item\n"
    "\n"
    "```python\n"
    "def greet(name):\n"
    '    message = f"hello {name}"\n'
    "    return message\n"
    "```\n"
)


def _words(text: str) -> list[str]:
    """``text`` in words, each with the whitespace around it, so that they join up again."""
    return re.findall(r"\s*\S+\s*", text) or ([text] if text else [])


def _chunked(*chunks: str, delay: float = 0.0) -> Text:
    return Text("".join(chunks), chunks=list(chunks), delay=delay)


def _number(text: str, default: int) -> int | None:
    """``text`` as a number, ``default`` when empty, None when it is something else."""
    if not text:
        return default
    return int(text) if text.isdigit() else None


# What Claude Code's compaction request asks, in its last user text.
COMPACTION_REQUEST = "create a detailed summary of the conversation so far"


def default_reply(request: RecordedRequest) -> Answer:
    """The answer to a conversation request when nothing is queued."""
    if COMPACTION_REQUEST in request.last_user_text:
        earlier = " | ".join(request.user_texts[:-1])
        summary = f"<analysis>fake analysis</analysis>\n<summary>Summary of: {earlier}</summary>"
        return Reply([Text(summary)])
    results = request.tool_results
    if results:
        said = "\n".join(_content_text(result.get("content")) for result in results)
        return Reply([_chunked("Tool said: ", said)])
    text = request.last_user_text
    command, _, rest = text.partition(" ")
    rest = rest.strip()
    if command == "SLOW" and (n := _number(rest, 10)) is not None:
        return Reply([_chunked(*(f"slow{i} " for i in range(n)), delay=0.3)])
    if command == "TOOL" and rest:
        return Reply([ToolUse("Bash", {"command": rest, "description": "run a command"})])
    if command == "FAIL" and rest.isdigit() and 400 <= int(rest) <= 599:
        status = int(rest)
        return HTTPError(status, error_type_for(status), f"fake {status}")
    if text == "RECALL":
        earlier = " | ".join(request.user_texts[:-1])
        return Reply([_chunked("You said before: ", f"[{earlier}] ", "(end)")])
    if text == "THINK":
        return Reply([Thinking("Let me think about this."), Text("Thought done.")])
    if text == "MARKDOWN":
        pieces = [MARKDOWN_ANSWER[i : i + 6] for i in range(0, len(MARKDOWN_ANSWER), 6)]
        return Reply([_chunked(*pieces, delay=0.01)])
    if command == "LONG" and (n := _number(rest, 3)) is not None:
        body = "\n\n".join(f"Paragraph {i}: {_LOREM}" for i in range(1, n + 1))
        return Reply([Text(body, delay=0.05)])
    turn = len(request.user_texts)
    return Reply([_chunked("Echo: ", text, f" | turn {turn}", f" | model {request.model}")])


def side_reply(request: RecordedRequest) -> Reply:
    """The answer to a side request: JSON that fits a requested schema, or a word."""
    body = request.body if isinstance(request.body, dict) else {}
    output_config = body.get("output_config")
    output_format = output_config.get("format") if isinstance(output_config, dict) else None
    schema = output_format.get("schema") if isinstance(output_format, dict) else None
    if isinstance(schema, dict):
        return Reply([Text(json.dumps(_fill(schema, "fake")))])
    return Reply([Text("ok")])


def _fill(schema: JSON, name: str) -> Any:
    """A small value that fits a JSON schema (``{"title": "Fake title"}`` for a title)."""
    kind = schema.get("type")
    if kind == "object":
        properties = schema.get("properties")
        if not isinstance(properties, dict):
            return {}
        return {key: _fill(value, key) for key, value in properties.items()}
    if kind == "string":
        return f"Fake {name}"
    if kind == "boolean":
        return False
    if kind in ("integer", "number"):
        return 0
    if kind == "array":
        return []
    return None


# --------------------------------------------------------------------------------------------
# Wire format
# --------------------------------------------------------------------------------------------


def _estimate_tokens(request: RecordedRequest) -> int:
    """About four bytes of request per input token, as for English and JSON."""
    if request.body is None:
        return 1
    return max(len(json.dumps(request.body)) // 4, 1)


def _usage(request: RecordedRequest, reply: Reply, output_tokens: int) -> JSON:
    return {
        "input_tokens": _estimate_tokens(request),
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 0,
        **(reply.usage or {}),
        "output_tokens": output_tokens,
        "service_tier": "standard",
    }


def _tool_json_pieces(encoded: str) -> list[str]:
    """The input JSON as the API streams it: an empty piece first, then a few parts."""
    size = max(len(encoded) // 3, 8)
    return ["", *(encoded[i : i + size] for i in range(0, len(encoded), size))]


def _events(
    request: RecordedRequest, reply: Reply, message_id: str, tool_id: Callable[[], str]
) -> Iterator[tuple[float, str, JSON]]:
    """The SSE events of a streamed reply, each with the pause to make before it."""
    yield (
        0.0,
        "message_start",
        {
            "type": "message_start",
            "message": {
                "id": message_id,
                "type": "message",
                "role": "assistant",
                "model": request.model,
                "content": [],
                "stop_reason": None,
                "stop_sequence": None,
                "usage": _usage(request, reply, 1),
            },
        },
    )
    output_tokens = 0
    for index, block in enumerate(reply.blocks):
        start: JSON
        deltas: list[JSON]
        delay = 0.0
        if isinstance(block, Text):
            start = {"type": "text", "text": ""}
            deltas = [{"type": "text_delta", "text": piece} for piece in block.pieces()]
            delay = block.delay
        elif isinstance(block, Thinking):
            start = {"type": "thinking", "thinking": "", "signature": ""}
            deltas = [{"type": "thinking_delta", "thinking": w} for w in _words(block.text)]
            deltas.append({"type": "signature_delta", "signature": block.signature})
            delay = block.delay
        else:
            start = {"type": "tool_use", "id": block.id or tool_id(), "name": block.name}
            start["input"] = {}
            pieces = _tool_json_pieces(json.dumps(block.input))
            deltas = [{"type": "input_json_delta", "partial_json": p} for p in pieces]
        yield (
            0.0,
            "content_block_start",
            {"type": "content_block_start", "index": index, "content_block": start},
        )
        for i, delta in enumerate(deltas):
            pause = delay if i and delta["type"] != "signature_delta" else 0.0
            yield (
                pause,
                "content_block_delta",
                {"type": "content_block_delta", "index": index, "delta": delta},
            )
        output_tokens += len(deltas)
        yield 0.0, "content_block_stop", {"type": "content_block_stop", "index": index}
    yield (
        0.0,
        "message_delta",
        {
            "type": "message_delta",
            "delta": {"stop_reason": reply.resolved_stop_reason(), "stop_sequence": None},
            "usage": {"output_tokens": max(output_tokens, 1)},
        },
    )
    yield 0.0, "message_stop", {"type": "message_stop"}


def _message(
    request: RecordedRequest, reply: Reply, message_id: str, tool_id: Callable[[], str]
) -> JSON:
    """A reply as the JSON ``Message`` of a request that does not stream."""
    content: list[JSON] = []
    output_tokens = 0
    for block in reply.blocks:
        if isinstance(block, Text):
            pieces = block.pieces()
            content.append({"type": "text", "text": "".join(pieces)})
        elif isinstance(block, Thinking):
            pieces = _words(block.text)
            content.append(
                {"type": "thinking", "thinking": block.text, "signature": block.signature}
            )
        else:
            pieces = _tool_json_pieces(json.dumps(block.input))
            content.append(
                {
                    "type": "tool_use",
                    "id": block.id or tool_id(),
                    "name": block.name,
                    "input": block.input,
                }
            )
        output_tokens += len(pieces)
    return {
        "id": message_id,
        "type": "message",
        "role": "assistant",
        "model": request.model,
        "content": content,
        "stop_reason": reply.resolved_stop_reason(),
        "stop_sequence": None,
        "usage": _usage(request, reply, max(output_tokens, 1)),
    }


# --------------------------------------------------------------------------------------------
# The server
# --------------------------------------------------------------------------------------------

# What a client that goes away mid-answer (an interrupt) or a closing server looks like.
_DISCONNECTED = (BrokenPipeError, ConnectionResetError, ConnectionAbortedError, TimeoutError)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    api: FakeAnthropicAPI

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Never a traceback on stderr: unexpected errors are kept for tests to look at.
        error = sys.exc_info()[1]
        if error is not None and not isinstance(error, _DISCONNECTED):
            self.api.errors.append(error)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, and chunked event streams, as the real API
    server: _Server
    server_version = "fake-anthropic-api"
    sys_version = ""

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def setup(self) -> None:
        super().setup()
        self.server.api._connections.add(self.connection)

    def finish(self) -> None:
        self.server.api._connections.discard(self.connection)
        with contextlib.suppress(*_DISCONNECTED):
            super().finish()

    def handle_one_request(self) -> None:
        try:
            super().handle_one_request()
        except OSError:  # the client went away, or the server is closing
            self.close_connection = True

    def do_GET(self) -> None:
        self._serve()

    do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_GET

    def _serve(self) -> None:
        raw = read_body(self)
        body: Any = None
        with contextlib.suppress(ValueError):
            body = json.loads(raw) if raw else None
        url = urlsplit(self.path)
        request = RecordedRequest(
            method=self.command,
            path=url.path,
            headers={name.lower(): value for name, value in self.headers.items()},
            body=body,
            query=url.query,
            received_at=time.monotonic(),
        )
        api = self.server.api
        api._record(request)
        if request.method == "POST" and request.path == "/v1/messages":
            answer = api._answer_for(request)
            if isinstance(answer, HTTPError):
                self._send_json(answer.status, answer.body(), answer.headers)
            elif request.is_stream:
                self._send_events(_events(request, answer, api._message_id(), api._tool_id))
            else:
                self._send_json(200, _message(request, answer, api._message_id(), api._tool_id))
        elif request.method == "POST" and request.path == "/v1/messages/count_tokens":
            self._send_json(200, {"input_tokens": _estimate_tokens(request)})
        else:
            self._send_json(200, {})

    def _send_json(self, status: int, payload: JSON, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.send_header("request-id", f"req_fake_{uuid.uuid4().hex[:24]}")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)
        self.wfile.flush()

    def _send_events(self, events: Iterator[tuple[float, str, JSON]]) -> None:
        api = self.server.api
        closing = api._closing
        self.send_response(200)
        self.send_header("content-type", "text/event-stream; charset=utf-8")
        self.send_header("cache-control", "no-cache")
        self.send_header("transfer-encoding", "chunked")
        self.send_header("request-id", f"req_fake_{uuid.uuid4().hex[:24]}")
        self.end_headers()
        first_delta = True
        try:
            self.wfile.flush()
            for pause, name, data in events:
                if name == "content_block_delta" and first_delta:
                    first_delta = False
                    pause += api.first_token_delay
                if pause > 0:
                    closing.wait(pause)
                if closing.is_set():
                    break
                event = f"event: {name}\ndata: {json.dumps(data)}\n\n".encode()
                self.wfile.write(b"%x\r\n%s\r\n" % (len(event), event))
                self.wfile.flush()
            else:
                self.wfile.write(b"0\r\n\r\n")
                self.wfile.flush()
                return
        except _DISCONNECTED:
            pass
        self.close_connection = True


class FakeAnthropicAPI:
    """The stand-in API on 127.0.0.1, served from a daemon thread.

    ``with FakeAnthropicAPI() as api:`` starts it; ``api.base_url`` goes in
    ``ANTHROPIC_BASE_URL``.  ``first_token_delay`` seconds pass before the first delta of every
    streamed answer; with ``record_path`` every request is appended to that file as a JSON line.
    """

    def __init__(
        self, first_token_delay: float = 0.0, record_path: str | None = None, port: int = 0
    ) -> None:
        self.first_token_delay = first_token_delay
        self.record_path = record_path
        self.port = port
        self.base_url = ""
        self.requests: list[RecordedRequest] = []
        self.errors: list[BaseException] = []  # unexpected exceptions in the server, if any
        self._lock = threading.Lock()
        self._queue: deque[Answer] = deque()
        self._repeating: tuple[Any, HTTPError] | None = None
        self._message_ids = itertools.count(1)
        self._tool_numbers = itertools.count(1)
        self._closing = threading.Event()
        self._connections: set[socket.socket] = set()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- scripting and looking back ------------------------------------------------------------

    def enqueue(self, *replies: Answer | Block) -> None:
        """Queue answers for the next conversation requests, first in, first out.

        A bare block stands for a :class:`Reply` of that block alone.  See :class:`HTTPError`
        for how a queued error meets the CLI's retries.
        """
        with self._lock:
            for reply in replies:
                if isinstance(reply, (Text, Thinking, ToolUse)):
                    reply = Reply([reply])
                self._queue.append(reply)

    def pending(self) -> int:
        """How many queued answers are still unused."""
        with self._lock:
            return len(self._queue)

    def message_requests(self) -> list[RecordedRequest]:
        """The requests the CLI made for the conversation, in order, retries included.

        Left out: everything but ``POST /v1/messages`` (``HEAD /api/hello``, token counts...)
        and the CLI's side requests, such as the session title (see
        :attr:`RecordedRequest.is_conversation`).
        """
        with self._lock:
            return [r for r in self.requests if r.is_conversation]

    def side_requests(self) -> list[RecordedRequest]:
        """Every request :meth:`message_requests` leaves out."""
        with self._lock:
            return [r for r in self.requests if not r.is_conversation]

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self) -> FakeAnthropicAPI:
        if self._server is not None:
            return self
        self._closing.clear()
        server = _Server(("127.0.0.1", self.port), _Handler)
        server.api = self
        self._server = server
        self.base_url = f"http://127.0.0.1:{server.server_address[1]}"
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="fake-anthropic-api",
            daemon=True,
        )
        self._thread.start()
        return self

    def close(self) -> None:
        """Stop serving; answers still streaming end at once."""
        server, self._server = self._server, None
        if server is None:
            return
        self._closing.set()
        server.shutdown()
        for connection in list(self._connections):
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> FakeAnthropicAPI:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    # -- for the handler -----------------------------------------------------------------------

    def _record(self, request: RecordedRequest) -> None:
        with self._lock:
            self.requests.append(request)
            if self.record_path is not None:
                with open(self.record_path, "a", encoding="utf-8") as out:
                    out.write(json.dumps(request.as_json()) + "\n")

    def _answer_for(self, request: RecordedRequest) -> Answer:
        if not request.is_conversation:
            return side_reply(request)
        key = request.history_key()
        with self._lock:
            if self._repeating is not None and self._repeating[0] == key:
                return self._repeating[1]
            self._repeating = None
            if self._queue:
                answer = self._queue.popleft()
                if isinstance(answer, HTTPError) and answer.repeat_for_retries:
                    self._repeating = (key, answer)
                return answer
        return default_reply(request)

    def _message_id(self) -> str:
        return f"msg_fake_{next(self._message_ids):04d}_{uuid.uuid4().hex[:12]}"

    def _tool_id(self) -> str:
        return f"toolu_fake_{next(self._tool_numbers):04d}_{uuid.uuid4().hex[:12]}"


# --------------------------------------------------------------------------------------------
# As a program
# --------------------------------------------------------------------------------------------


def read_body(handler: BaseHTTPRequestHandler) -> bytes:
    """A request's body, sent with a length or in chunks (the CLI does both)."""
    if "chunked" in handler.headers.get("transfer-encoding", "").lower():
        data = bytearray()
        while size := int(handler.rfile.readline().split(b";")[0].strip() or b"0", 16):
            data.extend(handler.rfile.read(size))
            handler.rfile.readline()
        while handler.rfile.readline() not in (b"\r\n", b"\n", b""):
            pass
        return bytes(data)
    length = int(handler.headers.get("content-length") or 0)
    return handler.rfile.read(length) if length > 0 else b""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="A scripted stand-in for the Anthropic API.")
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0: a free one)")
    parser.add_argument("--first-token-delay", type=float, default=0.0, metavar="S")
    parser.add_argument("--record", metavar="FILE", help="append every request as a JSON line")
    args = parser.parse_args(argv)

    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    api = FakeAnthropicAPI(args.first_token_delay, args.record, args.port)
    with api:
        sys.stdout.write(f"READY {api.base_url}\n")
        sys.stdout.flush()
        while not stop.wait(0.2):
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
