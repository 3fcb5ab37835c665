"""Stored Claude Code sessions: listing, finding one, repairing a torn record, and the
commands and options that resume, start, fork and rename sessions.

Unit tests write session files the way Claude Code does; the integration tests at the end
run the real CLI (piped) against the stand-in API and look at the files it leaves.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

from claude_chat.store import sessions
from claude_chat.store.sessions import (
    TORN_WARNING,
    AmbiguousSessionError,
    SessionNotFoundError,
    SessionSummary,
    end_torn_record,
    list_sessions,
    project_key,
    resolve,
)
from claude_chat.terminal.commands import relative_time, session_table
from tests.fake_api import FakeAnthropicAPI
from tests.terminal import processes_with_env

NOW = 1_800_000_000.0  # a fixed "now" for mtimes, in seconds since the epoch


@pytest.fixture(autouse=True)
def _claude_home(monkeypatch: pytest.MonkeyPatch) -> None:
    # Sessions must be looked for under the temp HOME, whatever the machine has set.
    monkeypatch.delenv("CLAUDE_CONFIG_DIR", raising=False)


# -- writing sessions as Claude Code does ----------------------------------------------------


def _line(record: Mapping[str, object]) -> str:
    # Claude Code writes compact JSON; the listing looks for `"type":"user"` as written.
    return json.dumps(record, separators=(",", ":"), ensure_ascii=False) + "\n"


def projects(home: Path) -> Path:
    return home / ".claude" / "projects"


def write_session(
    cwd: Path | str,
    prompts: list[str],
    *,
    session_id: str | None = None,
    mtime: float | None = None,
    titles: tuple[str, ...] = (),
    tool_results: int = 0,
    sidechain: bool = False,
    meta: bool = False,
    torn: str | None = None,
    project_dir: str | None = None,
) -> Path:
    """A session file of ``prompts`` (each answered) recorded in ``cwd``.

    ``tool_results``: that many tool round trips after the first prompt; ``titles``: custom
    titles appended at the end (as /rename does); ``torn``: a last record cut off mid-write.
    """
    session_id = session_id or str(uuid.uuid4())
    cwd = str(cwd)
    folder = projects(Path.home()) / (project_dir or project_key(cwd))
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{session_id}.jsonl"
    parent: str | None = None
    lines: list[str] = []

    def record(kind: str, message: dict[str, object], **extra: object) -> None:
        nonlocal parent
        this = str(uuid.uuid4())
        lines.append(
            _line(
                {
                    "parentUuid": parent,
                    "isSidechain": sidechain,
                    **extra,
                    "type": kind,
                    "message": message,
                    "uuid": this,
                    "timestamp": "2026-11-24T09:54:39.000Z",
                    "cwd": cwd,
                    "sessionId": session_id,
                    "version": "2.1.330",
                }
            )
        )
        parent = this

    if meta:
        record(
            "user",
            {"role": "user", "content": "Caveat: The messages below were generated..."},
            isMeta=True,
        )
    for number, prompt in enumerate(prompts):
        record("user", {"role": "user", "content": prompt}, promptId=str(uuid.uuid4()))
        if number == 0:
            for tool in range(tool_results):
                tool_id = f"toolu_{number}_{tool}"
                record(
                    "assistant",
                    {
                        "role": "assistant",
                        "content": [
                            {"type": "tool_use", "id": tool_id, "name": "Bash", "input": {}}
                        ],
                    },
                )
                record(
                    "user",
                    {
                        "role": "user",
                        "content": [
                            {"type": "tool_result", "tool_use_id": tool_id, "content": "ok"}
                        ],
                    },
                )
        record(
            "assistant",
            {"role": "assistant", "content": [{"type": "text", "text": f"Answer to {prompt}"}]},
        )
    for title in titles:
        lines.append(_line({"type": "custom-title", "customTitle": title, "sessionId": session_id}))
    text = "".join(lines)
    if torn is not None:
        text += torn
    path.write_text(text, encoding="utf-8")
    if mtime is not None:
        os.utime(path, (mtime, mtime))
    return path


def torn_record(session_id: str) -> str:
    """The start of a user record, cut off before its end (and before its newline)."""
    return (
        '{"parentUuid":"x","isSidechain":false,"type":"user","message":{"role":"user",'
        f'"content":"this was cut off"}},"uuid":"y","sessionId":"{session_id}","cwd":"/tm'
    )


def ids(found: list[SessionSummary]) -> list[str]:
    return [s.session_id for s in found]


# -- list_sessions ---------------------------------------------------------------------------


def test_sessions_are_listed_newest_first(project: Path) -> None:
    old = write_session(project, ["old one"], mtime=NOW - 300)
    new = write_session(project, ["new one"], mtime=NOW - 10)
    middle = write_session(project, ["middle one"], mtime=NOW - 100)
    found = list_sessions(str(project))
    assert ids(found) == [new.stem, middle.stem, old.stem]
    assert [s.title for s in found] == ["new one", "middle one", "old one"]
    assert found[0].last_active == pytest.approx(NOW - 10)
    assert found[0].cwd == str(project)
    assert found[0].path == new


def test_a_directory_lists_its_own_sessions_and_none_lists_all(
    project: Path, tmp_path: Path
) -> None:
    here = write_session(project, ["here"], mtime=NOW - 20)
    elsewhere = write_session(tmp_path / "elsewhere", ["there"], mtime=NOW - 10)
    assert ids(list_sessions(str(project))) == [here.stem]
    assert ids(list_sessions(str(tmp_path / "elsewhere"))) == [elsewhere.stem]
    assert ids(list_sessions(str(tmp_path / "nowhere"))) == []
    everything = list_sessions(None)
    assert ids(everything) == [elsewhere.stem, here.stem]
    assert everything[0].cwd == str(tmp_path / "elsewhere")


def test_no_projects_directory_means_no_sessions(project: Path) -> None:
    assert not projects(Path.home()).exists()
    assert list_sessions(str(project)) == []
    assert list_sessions(None) == []


def test_a_long_directory_matches_its_hashed_project_dir(tmp_path: Path) -> None:
    # Claude Code cuts keys of paths over 200 characters and adds a hash.
    deep = str(tmp_path / ("d" * 120) / ("e" * 120))
    key = project_key(deep)
    assert len(key) > 200
    path = write_session(deep, ["deep"], project_dir=key[:200] + "-1a2b3c")
    assert ids(list_sessions(deep)) == [path.stem]


def test_the_title_is_the_custom_title_else_the_first_prompt(project: Path) -> None:
    plain = write_session(project, ["first  prompt\nover lines", "second"])
    renamed = write_session(project, ["first"], titles=("Old title", "  Newest   title "))
    found = {s.session_id: s for s in list_sessions(str(project))}
    assert found[plain.stem].title == "first prompt over lines"
    assert found[renamed.stem].title == "Newest title"


def test_the_title_skips_what_the_user_did_not_type(project: Path) -> None:
    path = write_session(project, ["<command-name>/model</command-name>", "the real question"])
    assert list_sessions(str(project))[0].title == "the real question"
    assert list_sessions(str(project))[0].session_id == path.stem


def test_the_title_of_a_prompt_made_of_text_blocks(project: Path) -> None:
    path = write_session(project, [])
    record = {
        "parentUuid": None,
        "isSidechain": False,
        "type": "user",
        "message": {
            "role": "user",
            "content": [
                {"type": "image", "source": {}},
                {"type": "text", "text": "look at"},
                {"type": "text", "text": "this picture"},
            ],
        },
        "cwd": str(project),
        "sessionId": path.stem,
    }
    path.write_text(_line(record))
    (found,) = list_sessions(str(project))
    assert found.title == "look at this picture"
    assert found.turns == 1


def test_a_session_with_a_long_first_prompt_is_listed(project: Path) -> None:
    long_prompt = "pasted " * 3000  # 21,000 characters, as when a file is pasted in
    path = write_session(project, [long_prompt, "and a question"])
    assert ids(list_sessions(str(project))) == [path.stem]


def test_turns_count_prompts_only(project: Path) -> None:
    path = write_session(
        project,
        ["one", "two", "three"],
        tool_results=4,
        meta=True,
        torn=torn_record("whatever"),
    )
    (found,) = list_sessions(str(project))
    assert found.session_id == path.stem
    # Not the four tool results, not the meta record, not the torn last line.
    assert found.turns == 3


def test_sidechain_files_are_not_sessions(project: Path) -> None:
    write_session(project, ["a subagent's task"], sidechain=True)
    kept = write_session(project, ["a conversation"])
    assert ids(list_sessions(str(project))) == [kept.stem]


def test_files_that_are_not_sessions_are_ignored(project: Path) -> None:
    kept = write_session(project, ["kept"])
    folder = kept.parent
    content = kept.read_bytes()
    for name in (
        "notes.jsonl",
        "agent-1234abcd.jsonl",
        f"{uuid.uuid4()}.json",
        f"{uuid.uuid4()}.jsonl.bak",
        f"x{uuid.uuid4()}.jsonl",
    ):
        (folder / name).write_bytes(content)
    (folder / f"{uuid.uuid4()}.jsonl").write_bytes(b"")  # empty: nothing said yet
    (folder / f"{uuid.uuid4()}.jsonl").mkdir()  # a directory named like a session
    only_metadata = folder / f"{uuid.uuid4()}.jsonl"
    only_metadata.write_text(_line({"type": "queue-operation", "operation": "dequeue"}))
    assert ids(list_sessions(str(project))) == [kept.stem]
    assert ids(list_sessions(None)) == [kept.stem]


def test_upper_case_ids_are_listed_in_lower_case(project: Path) -> None:
    session_id = str(uuid.uuid4())
    write_session(project, ["shouting"], session_id=session_id.upper())
    assert ids(list_sessions(str(project))) == [session_id]


def test_the_cache_gives_the_same_result_without_reading_again(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "data" / "sessions-cache.json"
    write_session(project, ["one"], mtime=NOW - 30)
    write_session(project, ["two", "three"], mtime=NOW - 20, titles=("Named",))
    write_session(project, ["side"], sidechain=True, mtime=NOW - 10)
    first = list_sessions(str(project), cache)
    assert cache.is_file()
    assert cache.stat().st_mode & 0o777 == 0o600
    assert json.loads(cache.read_text())["version"] == 1

    def no_reading(path: Path, session_id: str) -> None:
        raise AssertionError(f"{path} was read again")

    monkeypatch.setattr(sessions, "read_summary", no_reading)
    assert list_sessions(str(project), cache) == first
    assert list_sessions(None, cache) == first


def test_the_cache_is_refreshed_when_a_file_changes(project: Path, tmp_path: Path) -> None:
    cache = tmp_path / "data" / "sessions-cache.json"
    grows = write_session(project, ["one"], mtime=NOW - 30)
    retitled = write_session(project, ["two"], mtime=NOW - 20, titles=("Title A",))
    before = {s.session_id: s for s in list_sessions(str(project), cache)}
    assert before[grows.stem].turns == 1
    assert before[retitled.stem].title == "Title A"

    # Another size: a prompt more.
    with grows.open("a") as file:
        file.write(_line({"type": "user", "message": {"role": "user", "content": "again"}}))
    os.utime(grows, (NOW - 30, NOW - 30))
    # The same size, another modification time.
    size = retitled.stat().st_size
    retitled.write_text(retitled.read_text().replace("Title A", "Title B"))
    assert retitled.stat().st_size == size
    os.utime(retitled, (NOW - 5, NOW - 5))

    after = {s.session_id: s for s in list_sessions(str(project), cache)}
    assert after[grows.stem].turns == 2
    assert after[retitled.stem].title == "Title B"
    assert ids(list_sessions(str(project), cache)) == [retitled.stem, grows.stem]
    # A file gone is gone from the list too.
    grows.unlink()
    assert ids(list_sessions(str(project), cache)) == [retitled.stem]


def test_a_broken_cache_file_is_ignored(project: Path, tmp_path: Path) -> None:
    cache = tmp_path / "data" / "sessions-cache.json"
    cache.parent.mkdir(parents=True)
    path = write_session(project, ["one"])
    for broken in ("not json", "[]", '{"version": 1}', '{"version": 99, "entries": {}}'):
        cache.write_text(broken)
        assert ids(list_sessions(str(project), cache)) == [path.stem], broken


# -- resolve ---------------------------------------------------------------------------------


@pytest.fixture
def three(project: Path) -> list[SessionSummary]:
    write_session(
        project, ["apple pie recipe"], session_id="abcd1234-0000-4000-8000-000000000001", mtime=NOW
    )
    write_session(
        project,
        ["banana bread"],
        session_id="abcd5678-0000-4000-8000-000000000002",
        mtime=NOW - 10,
    )
    write_session(
        project,
        ["deadbeef cherry tart"],
        session_id="012345ab-0000-4000-8000-000000000003",
        mtime=NOW - 20,
    )
    found = list_sessions(str(project))
    assert [s.title for s in found] == ["apple pie recipe", "banana bread", "deadbeef cherry tart"]
    return found


def test_resolve_by_number(three: list[SessionSummary]) -> None:
    assert resolve("1", three) is three[0]
    assert resolve(" 3 ", three) is three[2]
    for wrong in ("0", "4", "99"):
        with pytest.raises(SessionNotFoundError, match="there are 3 sessions listed"):
            resolve(wrong, three)


def test_resolve_by_full_id_in_any_case(three: list[SessionSummary]) -> None:
    assert resolve("abcd5678-0000-4000-8000-000000000002", three) is three[1]
    assert resolve("ABCD5678-0000-4000-8000-000000000002", three) is three[1]


def test_resolve_a_full_id_that_is_not_listed_finds_its_file(
    three: list[SessionSummary], tmp_path: Path
) -> None:
    elsewhere = write_session(tmp_path / "elsewhere", ["far away"])
    found = resolve(elsewhere.stem, three)
    assert (found.session_id, found.title, found.path) == (elsewhere.stem, "far away", elsewhere)
    assert found.cwd == str(tmp_path / "elsewhere")


def test_resolve_by_unique_prefix(three: list[SessionSummary]) -> None:
    assert resolve("abcd1", three) is three[0]
    assert resolve("ABCD56", three) is three[1]
    # Up to five digits are a number in the table; six are the start of an id.
    assert resolve("012345", three) is three[2]


def test_an_ambiguous_prefix_says_which_match(three: list[SessionSummary]) -> None:
    with pytest.raises(AmbiguousSessionError) as caught:
        resolve("abcd", three)
    assert caught.value.matches == three[:2]
    assert "2 sessions" in str(caught.value)
    assert "abcd1234" in str(caught.value) and "abcd5678" in str(caught.value)


def test_resolve_by_title_words(three: list[SessionSummary]) -> None:
    assert resolve("banana", three) is three[1]
    assert resolve("Cherry Tart", three) is three[2]
    # Hex-looking words that start no id are looked for in the titles.
    assert resolve("deadbeef", three) is three[2]
    with pytest.raises(AmbiguousSessionError):
        resolve("e", three)  # in all three titles


@pytest.mark.parametrize(
    "ref",
    [
        "nope",
        "ffff",
        "ffffffff-0000-4000-8000-000000000000",
        "../../etc/passwd",
        "/etc/passwd",
        "abcd1234-0000-4000-8000-000000000001/../x",
    ],
)
def test_unknown_sessions_are_not_found_and_say_how_to_list(
    three: list[SessionSummary], ref: str
) -> None:
    with pytest.raises(SessionNotFoundError) as caught:
        resolve(ref, three)
    assert caught.value.ref == ref
    assert repr(ref) in str(caught.value)
    assert "claude-chat sessions" in str(caught.value)
    assert "\n" not in str(caught.value)


def test_an_empty_reference_asks_which(three: list[SessionSummary]) -> None:
    with pytest.raises(SessionNotFoundError, match="say which session"):
        resolve("  ", three)


def test_a_superscript_digit_is_not_found_instead_of_crashing(
    three: list[SessionSummary],
) -> None:
    with pytest.raises(SessionNotFoundError):
        resolve("²", three)


class _FileWatch:
    """Paths opened or listed while it is on (Python's audit events)."""

    active: list[str] | None = None
    installed = False

    @classmethod
    def hook(cls, event: str, args: tuple[object, ...]) -> None:
        if cls.active is not None and event in ("open", "os.scandir", "os.listdir") and args:
            path = args[0]
            if isinstance(path, (str, bytes, os.PathLike)):
                cls.active.append(os.fsdecode(path))


@pytest.fixture
def watch() -> Iterator[list[str]]:
    if not _FileWatch.installed:
        sys.addaudithook(_FileWatch.hook)  # audit hooks cannot be removed: it stays off
        _FileWatch.installed = True
    touched: list[str] = []
    _FileWatch.active = touched
    try:
        yield touched
    finally:
        _FileWatch.active = None


def test_a_path_is_no_way_out_of_the_projects_dir(
    three: list[SessionSummary], isolated: Path, watch: list[str]
) -> None:
    # A decoy where ``projects/<dir>/../../etc/passwd`` leads, cut off like a torn record.
    decoys = [
        isolated / ".claude" / "etc" / "passwd",
        isolated / ".claude" / "etc" / "passwd.jsonl",
    ]
    for decoy in decoys:
        decoy.parent.mkdir(parents=True, exist_ok=True)
        decoy.write_text('{"cut')
    watch.clear()  # the decoys' own writing
    root = str(projects(isolated))
    for ref in ("../../etc/passwd", "../../etc/passwd.jsonl", "/etc/passwd"):
        with pytest.raises(SessionNotFoundError):
            resolve(ref, three)
        assert sessions.find_session_file(ref) is None
    assert sessions.summarize(three[0].path) is not None  # the watch does see what is read
    _FileWatch.active = None
    assert str(three[0].path) in watch
    outside = [p for p in watch if not os.path.realpath(p).startswith(root)]
    assert outside == []
    assert [d.read_text() for d in decoys] == ['{"cut', '{"cut']


# -- end_torn_record -------------------------------------------------------------------------


def test_a_torn_last_record_gets_exactly_one_newline(project: Path) -> None:
    path = write_session(project, ["hello"], torn=torn_record("x"))
    before = path.read_bytes()
    assert end_torn_record(path) is True
    assert path.read_bytes() == before + b"\n"
    assert end_torn_record(path) is False
    assert path.read_bytes() == before + b"\n"


def test_an_intact_or_empty_or_missing_file_is_left_alone(project: Path) -> None:
    intact = write_session(project, ["hello"])
    before = intact.read_bytes()
    assert end_torn_record(intact) is False
    assert intact.read_bytes() == before
    empty = project / "empty.jsonl"
    empty.write_bytes(b"")
    assert end_torn_record(empty) is False
    assert empty.read_bytes() == b""
    assert end_torn_record(project / "missing.jsonl") is False
    assert not (project / "missing.jsonl").exists()


# -- session_table and relative_time ---------------------------------------------------------


def summary(session_id: str, title: str, age: float, cwd: str | None, turns: int) -> SessionSummary:
    return SessionSummary(session_id, title, NOW - age, cwd, turns, Path(f"/x/{session_id}.jsonl"))


def test_the_table_of_one_directory_has_no_directory_column() -> None:
    found = [
        summary("11111111-aaaa-4000-8000-000000000000", "first", 5, "/p", 3),
        summary("22222222-bbbb-4000-8000-000000000000", "second", 7200, "/p", 12),
    ]
    headers, rows = session_table(found, "/p", current=found[1].session_id, now=NOW)
    assert headers == ["#", "id", "title", "last active", "turns"]
    assert rows == [
        ["1", "11111111", "first", "just now", "3"],
        ["2*", "22222222", "second", "2 hours ago", "12"],
    ]


def test_the_table_shows_the_directory_of_sessions_elsewhere(isolated: Path) -> None:
    found = [
        summary("11111111-aaaa-4000-8000-000000000000", "here", 90, "/p", 1),
        summary("22222222-bbbb-4000-8000-000000000000", "at home", 90, str(isolated / "w"), 2),
        summary("33333333-cccc-4000-8000-000000000000", "away", 86400 * 3, "/srv/x", 4),
    ]
    headers, rows = session_table(found, "/p", now=NOW)
    assert headers == ["#", "id", "title", "last active", "turns", "directory"]
    assert rows == [
        ["1", "11111111", "here", "1 minute ago", "1", ""],
        ["2", "22222222", "at home", "1 minute ago", "2", "~/w"],
        ["3", "33333333", "away", "3 days ago", "4", "/srv/x"],
    ]


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [
        (-5, "just now"),
        (0, "just now"),
        (59, "just now"),
        (60, "1 minute ago"),
        (119, "1 minute ago"),
        (120, "2 minutes ago"),
        (3600, "1 hour ago"),
        (3600 * 23, "23 hours ago"),
        (86400, "1 day ago"),
        (86400 * 6, "6 days ago"),
        (86400 * 7, "1 week ago"),
        (86400 * 29, "4 weeks ago"),
        (86400 * 30, "1 month ago"),
        (86400 * 364, "12 months ago"),
        (86400 * 365, "1 year ago"),
        (86400 * 800, "2 years ago"),
    ],
)
def test_relative_time(seconds: float, shown: str) -> None:
    assert relative_time(seconds) == shown


def test_matching_needs_every_word_in_title_or_id() -> None:
    found = [
        summary("11111111-aaaa-4000-8000-000000000000", "Fix the parser", 5, "/p", 1),
        summary("22222222-bbbb-4000-8000-000000000000", "parser speed", 5, "/p", 1),
    ]
    assert sessions.matching(found, "PARSER") == found
    assert sessions.matching(found, "parser fix") == found[:1]
    assert sessions.matching(found, "2222") == found[1:]
    assert sessions.matching(found, "nothing") == []


# -- the command line, without a conversation ------------------------------------------------


def chat(
    stdin: str, cwd: Path, *args: str, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "claude_chat", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**os.environ, "COLUMNS": "160"},
        timeout=timeout,
    )


def one_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    return lines[0]


@pytest.mark.parametrize(
    ("ref", "said"),
    [
        ("nope", "not a session id"),
        ("../../etc/passwd", "not a session id"),
        (str(uuid.uuid4()), "no session"),
    ],
)
def test_an_unknown_session_option_is_one_line_and_status_2(
    project: Path, isolated: Path, ref: str, said: str
) -> None:
    decoy = isolated / ".claude" / "etc" / "passwd"
    decoy.parent.mkdir(parents=True)
    decoy.write_text('{"cut')
    done = chat("hello\n", project, "--session", ref)
    assert done.returncode == 2
    line = one_line(done.stderr)
    assert said in line and repr(ref) in line and "claude-chat sessions" in line
    assert done.stdout == ""
    assert decoy.read_text() == '{"cut'


def test_continue_without_sessions_is_one_line_and_status_2(project: Path) -> None:
    write_session(project.parent / "another", ["not here"])
    done = chat("hello\n", project, "--continue")
    assert done.returncode == 2
    line = one_line(done.stderr)
    assert "no session in" in line and str(project.resolve()) in line
    assert "claude-chat sessions" in line


@pytest.mark.parametrize(
    "args",
    [("--fork",), ("--session", "abcd", "--continue"), ("-c", "--session", "abcd")],
)
def test_option_mistakes_are_one_line_and_status_2(project: Path, args: tuple[str, ...]) -> None:
    done = chat("hello\n", project, *args)
    assert done.returncode == 2
    assert one_line(done.stderr).startswith("claude-chat: ")


@pytest.fixture
def stored(project: Path, tmp_path: Path) -> dict[str, Path]:
    here = project.resolve()
    return {
        "parser": write_session(
            here, ["fix the parser", "and test it"], mtime=NOW - 10, tool_results=2
        ),
        "readme": write_session(here, ["write the readme"], mtime=NOW - 20, titles=("Docs",)),
        "away": write_session(tmp_path / "elsewhere", ["far away work"], mtime=NOW - 5),
    }


def test_sessions_json_lists_this_directory(project: Path, stored: dict[str, Path]) -> None:
    done = chat("", project, "sessions", "--json")
    assert done.returncode == 0, done.stderr
    rows = json.loads(done.stdout)
    assert rows == [
        {
            "id": stored["parser"].stem,
            "title": "fix the parser",
            "last_active": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(NOW - 10)),
            "turns": 2,
            "cwd": str(project.resolve()),
        },
        {
            "id": stored["readme"].stem,
            "title": "Docs",
            "last_active": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(NOW - 20)),
            "turns": 1,
            "cwd": str(project.resolve()),
        },
    ]
    everything = json.loads(chat("", project, "sessions", "--json", "--all").stdout)
    assert [r["id"] for r in everything] == [stored[k].stem for k in ("away", "parser", "readme")]
    limited = json.loads(chat("", project, "sessions", "--json", "--all", "--limit", "1").stdout)
    assert [r["id"] for r in limited] == [stored["away"].stem]


def test_sessions_table_and_filter(project: Path, stored: dict[str, Path]) -> None:
    done = chat("", project, "sessions", "--all")
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    lines = done.stdout.splitlines()
    assert lines[0].split() == ["#", "id", "title", "last", "active", "turns", "directory"]
    assert "far away work" in lines[1] and stored["away"].stem[:8] in lines[1]
    assert "fix the parser" in lines[2] and "Docs" in lines[3]
    assert "claude-chat --session ID" in lines[-1]

    here = chat("", project, "sessions").stdout
    assert "fix the parser" in here and "Docs" in here and "far away" not in here
    assert "directory" not in here

    filtered = chat("", project, "sessions", "PARSER").stdout
    assert "fix the parser" in filtered and "Docs" not in filtered
    by_id = json.loads(chat("", project, "sessions", stored["readme"].stem[:8], "--json").stdout)
    assert [r["title"] for r in by_id] == ["Docs"]

    limited = chat("", project, "sessions", "--all", "--limit", "1").stdout
    assert "far away work" in limited and "fix the parser" not in limited
    assert "… and 2 older" in limited

    none = chat("", project.parent, "sessions", "nothing-like-this")
    assert none.returncode == 0 and none.stdout.startswith("no sessions in ")


# -- the real CLI against the stand-in API ---------------------------------------------------


def session_files(home: Path) -> dict[str, Path]:
    return {path.stem: path for path in projects(home).glob("*/*.jsonl")}


def new_session(home: Path, before: dict[str, Path]) -> str:
    (created,) = set(session_files(home)) - set(before)
    return created


def prompts_in(path: Path) -> list[str]:
    """What the user typed, in order, as the file records it (intact lines only)."""
    prompts = []
    for line in path.read_text().splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        content = record.get("message", {}).get("content") if record.get("type") == "user" else 0
        if isinstance(content, str) and not record.get("isMeta"):
            prompts.append(content)
    return prompts


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def said(stdout: str, *earlier: str) -> bool:
    return f"You said before: [{' | '.join(earlier)}] (end)" in stdout.splitlines()


def ok(done: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert done.returncode == 0, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr
    return done


@pytest.mark.integration
def test_session_and_continue_resume_a_conversation(
    api: FakeAnthropicAPI, project: Path, isolated: Path
) -> None:
    ok(chat("hello\n", project))
    (session_id,) = session_files(isolated)

    resumed = ok(chat("RECALL\n", project, "--session", session_id))
    assert said(resumed.stdout, "hello"), resumed.stdout
    assert "hello" in api.message_requests()[-1].user_texts

    continued = ok(chat("RECALL\n", project, "--continue"))
    assert said(continued.stdout, "hello", "RECALL"), continued.stdout
    assert api.message_requests()[-1].user_texts[:1] == ["hello"]
    assert set(session_files(isolated)) == {session_id}
    assert prompts_in(session_files(isolated)[session_id]) == ["hello", "RECALL", "RECALL"]
    assert processes_with_env(str(isolated)) == []


@pytest.mark.integration
def test_new_starts_a_conversation_without_the_earlier_turns(
    api: FakeAnthropicAPI, project: Path, isolated: Path
) -> None:
    done = ok(chat("hello\n/new\nRECALL\n", project))
    lines = done.stdout.splitlines()
    assert lines[0].startswith("Echo: hello")
    first = lines[1].removeprefix("new conversation (the last one: claude-chat --session ")
    assert first != lines[1] and first.endswith(")")
    assert said(done.stdout), done.stdout
    assert api.message_requests()[-1].user_texts == ["RECALL"]
    files = session_files(isolated)
    assert len(files) == 2 and first[:-1] in files
    assert prompts_in(files[first[:-1]]) == ["hello"]


@pytest.mark.integration
def test_resume_switches_between_sessions(
    api: FakeAnthropicAPI, project: Path, isolated: Path
) -> None:
    ok(chat("alpha one\nalpha two\n", project))
    a = new_session(isolated, {})
    ok(chat("beta one\n", project))
    b = new_session(isolated, {a: Path()})

    done = ok(chat(f"/resume {a}\nRECALL\n/resume {b[:8]}\nRECALL\n", project))
    assert f"resumed session {a} 'alpha one'" in done.stdout
    assert f"resumed session {b} 'beta one'" in done.stdout
    assert said(done.stdout, "alpha one", "alpha two"), done.stdout
    assert said(done.stdout, "beta one"), done.stdout
    last_two = api.message_requests()[-2:]
    assert [r.user_texts for r in last_two] == [
        ["alpha one", "alpha two", "RECALL"],
        ["beta one", "RECALL"],
    ]
    assert set(session_files(isolated)) == {a, b}


@pytest.mark.integration
def test_resume_by_title_and_number_after_sessions(
    api: FakeAnthropicAPI, project: Path, isolated: Path
) -> None:
    ok(chat("gamma\n", project))
    ok(chat("delta\n", project))
    done = ok(chat("/sessions\n/resume 2\nRECALL\n/resume delt\nRECALL\n", project))
    table = done.stdout.splitlines()
    assert table[0].split("\t") == ["#", "id", "title", "last active", "turns"]
    assert table[1].split("\t")[2] == "delta" and table[2].split("\t")[2] == "gamma"
    assert said(done.stdout, "gamma"), done.stdout
    assert said(done.stdout, "delta"), done.stdout


@pytest.mark.integration
def test_resume_of_an_unknown_session_is_an_error_line(
    api: FakeAnthropicAPI, project: Path
) -> None:
    done = chat("hello\n/resume nothing-like-it\n/resume ../../etc/passwd\nRECALL\n", project)
    assert done.returncode == 1
    errors = [line for line in done.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 2 and all("claude-chat sessions" in e for e in errors)
    assert said(done.stdout, "hello"), done.stdout  # still in the first session


@pytest.mark.integration
def test_fork_leaves_the_original_untouched(
    api: FakeAnthropicAPI, project: Path, isolated: Path
) -> None:
    ok(chat("hello\n", project))
    (original,) = session_files(isolated)
    path = session_files(isolated)[original]
    before = digest(path)

    done = ok(chat("/fork\nRECALL\n", project, "--session", original))
    fork = new_session(isolated, {original: path})
    assert f"forked {original} → {fork}" in done.stdout
    assert said(done.stdout, "hello"), done.stdout
    assert digest(path) == before
    assert prompts_in(session_files(isolated)[fork])[-1] == "RECALL"

    # --fork does the same from the command line.
    files = session_files(isolated)
    done = ok(chat("RECALL\n", project, "--session", original, "--fork"))
    second = new_session(isolated, files)
    assert f"forked {original} → {second}" in done.stderr
    assert said(done.stdout, "hello"), done.stdout
    assert digest(path) == before


@pytest.mark.integration
def test_fork_and_rename_need_a_conversation(api: FakeAnthropicAPI, project: Path) -> None:
    done = chat("/fork\n/rename Nothing yet\n", project)
    assert done.returncode == 1
    assert done.stderr.count("this session has no messages yet") == 2


@pytest.mark.integration
def test_rename_is_what_sessions_shows(
    api: FakeAnthropicAPI, project: Path, isolated: Path
) -> None:
    done = ok(chat("hello\n/rename   My   title \n", project))
    (session_id,) = session_files(isolated)
    assert f"session {session_id[:8]} is now titled 'My title'" in done.stdout
    rows = json.loads(ok(chat("", project, "sessions", "--json")).stdout)
    assert [(r["id"], r["title"], r["turns"]) for r in rows] == [(session_id, "My title", 1)]


@pytest.mark.integration
def test_a_torn_last_record_is_ended_before_resuming(
    api: FakeAnthropicAPI, project: Path, isolated: Path
) -> None:
    ok(chat("hello\n", project))
    ((session_id, path),) = session_files(isolated).items()
    with path.open("a") as file:
        file.write(torn_record(session_id))

    done = ok(chat("RECALL\n", project, "--session", session_id))
    assert said(done.stdout, "hello"), done.stdout
    warnings = [line for line in done.stderr.splitlines() if "warning" in line]
    assert warnings == [TORN_WARNING]
    assert done.stderr.startswith(TORN_WARNING + "\n")
    lines = path.read_text().splitlines()
    torn_at = lines.index(torn_record(session_id))
    recall = [line for line in lines[torn_at + 1 :] if '"type":"user"' in line and "RECALL" in line]
    assert recall and json.loads(recall[0])["message"]["content"] == "RECALL"

    again = ok(chat("RECALL\n", project, "--session", session_id))
    assert said(again.stdout, "hello", "RECALL"), again.stdout
    assert TORN_WARNING not in again.stderr


@pytest.mark.integration
def test_a_session_of_another_directory_resumes_there(
    api: FakeAnthropicAPI, tmp_path: Path, isolated: Path
) -> None:
    x, y = tmp_path / "x", tmp_path / "y"
    x.mkdir()
    y.mkdir()
    ok(chat("hello\n", x))
    (session_id,) = session_files(isolated)

    done = ok(chat("RECALL\n/status\n", y, "--session", session_id))
    assert said(done.stdout, "hello"), done.stdout
    assert f"session {session_id[:8]} is in {x.resolve()}: working there" in done.stderr
    assert any(line.split() == ["cwd", str(x.resolve())] for line in done.stdout.splitlines())

    done = ok(chat(f"/resume {session_id}\nRECALL\n", y))
    assert f"that session is in {x.resolve()}: Claude Code works there now" in done.stdout
    assert said(done.stdout, "hello", "RECALL"), done.stdout
    assert set(session_files(isolated)) == {session_id}
    assert list(projects(isolated).glob(f"{project_key(str(y.resolve()))}/*.jsonl")) == []


def test_a_number_past_the_table_can_still_be_the_start_of_an_id(project: Path) -> None:
    path = write_session(
        project, ["digits first"], session_id="01234567-89ab-4cde-8f01-23456789abcd"
    )
    listed = list_sessions(str(project))
    assert resolve("0123", listed).session_id == path.stem
