"""Claude Code's stored conversations: listing them and finding one the user names.

Sessions stay where Claude Code keeps them (``~/.claude/projects/<cwd-key>/<id>.jsonl``), so
a session of claude-chat resumes with ``claude --resume`` and the other way round. Changes
(rename, fork, delete) and reading a session's messages go through ``claude_agent_sdk``.

Listing is done here rather than by ``claude_agent_sdk.list_sessions``: importing the SDK
alone takes 0.8 s, and it does not count turns. Files are read whole (turns are counted from
them) with byte searches that copy only the user's prompts, and what was read is kept in a
cache keyed by size and modification time: with 2,000 sessions a warm listing takes about
0.05 s in the process.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from claude_chat.engine.config import private_file
from claude_chat.engine.errors import ChatError
from claude_chat.store import records

_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"')
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I)
_HEAD_BYTES = 65536
_TITLE_BYTES = 65536
_LIST_HINT = "`claude-chat sessions` or /sessions lists them"
# Said when end_torn_record mended a session about to be resumed.
TORN_WARNING = (
    "warning: the session's last record was cut off mid-write; going on from the one before"
)


class SessionNotFoundError(ChatError):
    def __init__(self, ref: str, why: str = "no session") -> None:
        self.ref = ref
        super().__init__(f"{why} {ref!r}; {_LIST_HINT}")


class AmbiguousSessionError(ChatError):
    def __init__(self, ref: str, matches: Sequence[SessionSummary]) -> None:
        self.ref = ref
        self.matches = list(matches)
        ids = ", ".join(m.session_id[:8] for m in self.matches[:4])
        super().__init__(f"{ref!r} matches {len(self.matches)} sessions ({ids}…); be more precise")


@dataclass(frozen=True)
class SessionSummary:
    session_id: str
    title: str
    last_active: float  # seconds since the epoch
    cwd: str | None
    turns: int
    path: Path


def is_session_id(text: str) -> bool:
    return UUID.fullmatch(text) is not None


def projects_dir(config_dir: Path | None = None) -> Path:
    """Where Claude Code keeps sessions: under ``config_dir`` when given (a server's tenant
    has its own), else where Claude Code itself looks (it honours ``CLAUDE_CONFIG_DIR``)."""
    if config_dir is None:
        config = os.environ.get("CLAUDE_CONFIG_DIR")
        config_dir = Path(config) if config else Path.home() / ".claude"
    return config_dir / "projects"


def project_key(cwd: str) -> str:
    """The directory name Claude Code gives a working directory (paths up to 200 characters;
    longer ones get a hash suffix, matched by prefix)."""
    return re.sub(r"[^a-zA-Z0-9]", "-", unicodedata.normalize("NFC", cwd))


def list_sessions(
    cwd: str | None = None, cache_path: Path | None = None, config_dir: Path | None = None
) -> list[SessionSummary]:
    """Sessions of ``cwd`` (every directory when None), newest first."""
    root = projects_dir(config_dir)
    key = project_key(cwd) if cwd is not None else None
    cache = _Cache(cache_path)
    found: list[SessionSummary] = []
    try:
        project_dirs = [d for d in os.scandir(root) if d.is_dir()]
    except OSError:
        return []
    for project in project_dirs:
        if key is not None and not (
            project.name == key or (len(key) > 200 and project.name.startswith(key[:200]))
        ):
            continue
        try:
            entries = list(os.scandir(project.path))
        except OSError:
            continue
        for entry in entries:
            name = entry.name
            if not name.endswith(".jsonl") or not is_session_id(name[:-6]):
                continue
            summary = cache.get(Path(entry.path), name[:-6])
            if summary is not None:
                found.append(summary)
    # Only a listing of every directory knows which files are gone.
    cache.save(prune=cwd is None)
    found.sort(key=lambda s: s.last_active, reverse=True)
    return found


def find_session_file(session_id: str, config_dir: Path | None = None) -> Path | None:
    """The file of a session, in whichever project directory it is."""
    if not is_session_id(session_id):
        return None
    try:
        for project in os.scandir(projects_dir(config_dir)):
            path = Path(project.path) / f"{session_id.lower()}.jsonl"
            if path.is_file():
                return path
    except OSError:
        return None
    return None


def end_torn_record(path: Path) -> bool:
    """End a last record that was cut off mid-write (claude-chat or Claude Code killed), so
    that what Claude Code appends next starts on a line of its own instead of being glued to
    the broken one and lost with it. True if there was one."""
    try:
        with path.open("rb+") as file:
            if file.seek(0, os.SEEK_END) == 0:
                return False
            file.seek(-1, os.SEEK_END)
            if file.read(1) == b"\n":
                return False
            file.write(b"\n")
            return True
    except OSError:
        return False


def session_dir(target: SessionSummary, here: str) -> Path | None:
    """Where Claude Code must run to resume ``target``, when that is not ``here``: it finds
    a session by the directory it was recorded in."""
    if not target.cwd or target.cwd == here:
        return None
    if not os.path.isdir(target.cwd):
        raise ChatError(
            f"session {target.session_id[:8]} was in {target.cwd}, which no longer exists"
        )
    return Path(target.cwd)


def summarize(path: Path) -> SessionSummary | None:
    """One session from its file; None for files that are not a conversation."""
    return _Cache(None).get(path, path.stem)


def resolve(ref: str, listed: Sequence[SessionSummary]) -> SessionSummary:
    """A session by its number in ``listed`` (1-based), its id, a unique id prefix, or words
    of its title."""
    ref = ref.strip()
    if not ref:
        raise SessionNotFoundError(ref, "say which session:")
    if re.fullmatch(r"[0-9]{1,5}", ref):
        index = int(ref)
        if 1 <= index <= len(listed):
            return listed[index - 1]
        if len(ref) < 4:  # too short to be the start of an id
            raise SessionNotFoundError(ref, f"there are {len(listed)} sessions listed, not")
    if is_session_id(ref):
        exact = [s for s in listed if s.session_id == ref.lower()]
        if exact:
            return exact[0]
        path = find_session_file(ref)
        summary = summarize(path) if path else None
        if summary is None:
            raise SessionNotFoundError(ref)
        return summary
    if re.fullmatch(r"[0-9a-f-]{4,36}", ref, re.I):
        by_prefix = [s for s in listed if s.session_id.startswith(ref.lower())]
        if len(by_prefix) == 1:
            return by_prefix[0]
        if by_prefix:
            raise AmbiguousSessionError(ref, by_prefix)
    words = ref.casefold()
    by_title = [s for s in listed if words in s.title.casefold()]
    if len(by_title) == 1:
        return by_title[0]
    if by_title:
        raise AmbiguousSessionError(ref, by_title)
    raise SessionNotFoundError(ref)


def matching(sessions: Iterable[SessionSummary], text: str) -> list[SessionSummary]:
    words = text.casefold().split()
    return [s for s in sessions if all(w in f"{s.title} {s.session_id}".casefold() for w in words)]


def read_summary(path: Path, session_id: str) -> SessionSummary | None:
    """What the table shows: the latest title (set by /rename or by Claude Code), else the
    first prompt; the number of prompts; the directory it was recorded in."""
    try:
        with path.open("rb") as file:
            stat = os.fstat(file.fileno())
            data = file.read()
    except OSError:
        return None
    if not data:
        return None
    head = data[:_HEAD_BYTES]
    first_line = head.split(b"\n", 1)[0]
    if b'"isSidechain":true' in first_line:
        return None
    # Claude Code writes its title records again every 32 KB, so the last 64 KB hold the
    # latest.
    tail = data[-_TITLE_BYTES:]
    turns, first_prompt = _prompts(data)
    title = (
        _last_string(tail, "customTitle")
        or _last_string(tail, "aiTitle")
        or first_prompt
        or _last_string(tail, "lastPrompt")
        or _last_string(tail, "summary")
    )
    if not title:
        return None
    return SessionSummary(
        session_id=session_id.lower(),
        title=" ".join(title.split())[:200],
        last_active=stat.st_mtime,
        cwd=_first_string(head, "cwd"),
        turns=turns,
        path=path,
    )


def _user_lines(data: bytes) -> Iterator[bytes]:
    """The records of the user's side that are prompts: not tool results, not meta, not a
    subagent's, not cut off. Lines are tested where they lie, and only prompts are copied:
    the rest of a session (requests, answers, tool output) can be megabytes."""
    at = data.find(b'"type":"user"')
    while at >= 0:
        start = data.rfind(b"\n", 0, at) + 1
        end = data.find(b"\n", at)
        end = len(data) if end < 0 else end
        if data.endswith(b"}", start, end) and all(
            data.find(mark, start, end) < 0 for mark in records.NOT_PROMPT_MARKS
        ):
            yield data[start:end]
        at = data.find(b'"type":"user"', end)


def _prompts(data: bytes) -> tuple[int, str | None]:
    """How many prompts the session has, and the first one: one pass over the user's lines."""
    count, first = 0, None
    for line in _user_lines(data):
        count += 1
        if first is None:
            first = _prompt_of(line)
    return count, first


def _prompt_of(line: bytes) -> str | None:
    try:
        record = json.loads(line)
    except ValueError:
        return None  # a corrupt record
    message = record.get("message") if isinstance(record, dict) else None
    prompt = records.prompt_text(records.message_blocks(message) or [])
    return prompt if prompt and prompt.strip() else None


def _first_string(data: bytes, field: str) -> str | None:
    key = b'"' + field.encode() + b'":"'
    at = data.find(key)
    match = _JSON_STRING.match(data, at + len(key) - 1) if at >= 0 else None
    try:
        value = json.loads(match.group(0)) if match else None
    except ValueError:
        return None
    return value if isinstance(value, str) else None


def _last_string(data: bytes, field: str) -> str | None:
    """The last non-empty value of ``"field":"..."`` in ``data``, searched from the end."""
    key = b'"' + field.encode() + b'":"'
    end = len(data)
    while (at := data.rfind(key, 0, end)) >= 0:
        match = _JSON_STRING.match(data, at + len(key) - 1)
        if match is not None:
            try:
                value = json.loads(match.group(0))
            except ValueError:
                value = ""
            if isinstance(value, str) and value.strip():
                return value
        end = at
    return None


def _to_json(summary: SessionSummary) -> dict[str, object]:
    return {
        "session_id": summary.session_id,
        "title": summary.title,
        "last_active": summary.last_active,
        "cwd": summary.cwd,
        "turns": summary.turns,
    }


class _Cache:
    """Summaries by file, valid while the file's size and modification time are unchanged."""

    _VERSION = 1

    def __init__(self, path: Path | None) -> None:
        self._path = path
        self._entries: dict[str, dict[str, object]] = {}
        self._changed = False
        self._seen: set[str] = set()
        if path is not None:
            try:
                saved = json.loads(path.read_text(encoding="utf-8"))
                if saved.get("version") == self._VERSION:
                    self._entries = saved["entries"]
            except (OSError, ValueError, KeyError, AttributeError):
                self._entries = {}

    def get(self, path: Path, session_id: str) -> SessionSummary | None:
        try:
            stat = path.stat()
        except OSError:
            return None
        stamp = [stat.st_size, stat.st_mtime_ns]
        self._seen.add(str(path))
        entry = self._entries.get(str(path))
        if entry is not None and entry.get("stamp") == stamp:
            summary = entry.get("summary")
            if summary is None:
                return None
            assert isinstance(summary, dict)
            return SessionSummary(**{**summary, "path": path})
        found = read_summary(path, session_id)
        stored = None if found is None else _to_json(found)
        self._entries[str(path)] = {"stamp": stamp, "summary": stored}
        self._changed = True
        return found

    def save(self, prune: bool = False) -> None:
        if prune and self._seen != self._entries.keys():
            self._entries = {k: v for k, v in self._entries.items() if k in self._seen}
            self._changed = True
        if self._path is None or not self._changed:
            return
        data = json.dumps({"version": self._VERSION, "entries": self._entries})
        try:
            target = private_file(self._path)
            temporary = target.with_suffix(".tmp")
            temporary.write_text(data, encoding="utf-8")
            os.chmod(temporary, 0o600)
            os.replace(temporary, target)
        except OSError:
            pass  # the cache only saves time


# -- changes, through claude_agent_sdk (imported on first use: it takes 0.8 s) -----------------


@dataclass(frozen=True)
class RecapLine:
    """One line of a conversation's recap: who, and what (a tool call as ``Name(argument)``)."""

    role: str  # "you", "claude" or "tool"
    text: str
    tool_input: dict[str, object] | None = None


def rename(session_id: str, title: str) -> None:
    from claude_agent_sdk import rename_session

    try:
        rename_session(session_id, title)
    except FileNotFoundError as exc:
        raise SessionNotFoundError(session_id) from exc


def fork(session_id: str) -> str:
    """A copy of the conversation as a new session; the original is not touched."""
    from claude_agent_sdk import fork_session

    try:
        return str(fork_session(session_id).session_id)
    except (FileNotFoundError, ValueError) as exc:
        raise ChatError(f"could not fork {session_id[:8]}: {exc}") from exc


def delete(session_id: str, config_dir: Path | None = None) -> None:
    """Remove a session's file and its subagents' transcripts (a sibling directory), as
    ``claude_agent_sdk.delete_session`` does, under ``config_dir`` when given."""
    path = find_session_file(session_id, config_dir)
    if path is None:
        raise SessionNotFoundError(session_id)
    try:
        path.unlink()
    except FileNotFoundError as exc:
        raise SessionNotFoundError(session_id) from exc
    except OSError as exc:
        raise ChatError(f"could not delete session {session_id[:8]}: {exc.strerror}") from exc
    shutil.rmtree(path.parent / session_id.lower(), ignore_errors=True)


def recap(session_id: str, turns: int = 3) -> list[RecapLine]:
    """The last ``turns`` prompts of a session and what came back, a line each."""
    from claude_agent_sdk import get_session_messages

    lines: list[RecapLine] = []
    prompts: list[int] = []
    for message in get_session_messages(session_id):
        blocks = records.message_blocks(message.message) or []
        if message.type == "user":
            prompt = records.prompt_text(blocks)
            if prompt is not None and prompt.strip():
                prompts.append(len(lines))
                lines.append(RecapLine("you", prompt))
            continue
        for block in blocks:
            if not isinstance(block, dict):
                continue
            kind = block.get("type")
            if kind == "text" and str(block.get("text", "")).strip():
                lines.append(RecapLine("claude", str(block["text"])))
            elif kind == "tool_use":
                tool_input = block.get("input")
                lines.append(
                    RecapLine(
                        "tool",
                        str(block.get("name", "?")),
                        tool_input if isinstance(tool_input, dict) else {},
                    )
                )
    start = prompts[-turns] if len(prompts) >= turns else 0
    return lines[start:]
