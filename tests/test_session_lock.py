"""One claude-chat process per session: the lock, and what a second process is told."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from claude_chat.store.lock import SessionLock, SessionLockedError
from tests.fake_api import FakeAnthropicAPI
from tests.terminal import Terminal, piped_chat

SESSION = "0f4c3a52-6d1e-4b8f-9a57-2c1d3e4f5a6b"
OTHER = "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d"

# A process holding SESSION's lock until its stdin closes or it is killed.
_HOLDER = """
import sys
from pathlib import Path
from claude_chat.store.lock import SessionLock
lock = SessionLock(Path(sys.argv[1]))
lock.hold(sys.argv[2])
print("held", flush=True)
sys.stdin.read()
"""


def hold_elsewhere(folder: Path, session_id: str = SESSION) -> subprocess.Popen[str]:
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, str(folder), session_id],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdout.readline() == "held\n"
    return holder


def test_a_held_session_names_its_holder_until_the_holder_dies(tmp_path: Path) -> None:
    folder = tmp_path / "locks"
    holder = hold_elsewhere(folder)
    lock = SessionLock(folder)
    try:
        with pytest.raises(SessionLockedError) as raised:
            lock.hold(SESSION)
        assert raised.value.pid == holder.pid
        assert f"claude-chat process {holder.pid}" in str(raised.value)
        assert lock.holder(SESSION) == holder.pid
        lock.hold(OTHER)  # another session is free
    finally:
        holder.kill()  # no clean-up of its own: the kernel lets go of the lock
        holder.wait()
    assert lock.holder(SESSION) is None
    lock.hold(SESSION)
    assert lock.session_id == SESSION
    assert lock.holder(OTHER) is None, "moving to another session lets go of the last one"
    lock.release()
    assert list(folder.iterdir()) == []


def test_moving_the_lock_keeps_the_old_one_when_the_new_is_taken(tmp_path: Path) -> None:
    folder = tmp_path / "locks"
    lock = SessionLock(folder)
    lock.hold(OTHER)
    holder = hold_elsewhere(folder)
    try:
        with pytest.raises(SessionLockedError):
            lock.hold(SESSION)
        assert lock.session_id == OTHER
        assert SessionLock(folder).holder(OTHER) == os.getpid()
    finally:
        holder.kill()
        holder.wait()
    assert (folder / f"{OTHER}.lock").stat().st_mode & 0o777 == 0o600


def session_ids(home: Path) -> list[str]:
    return [p.stem for p in (home / ".claude" / "projects").glob("*/*.jsonl")]


def wait_for_session(home: Path) -> str:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        found = session_ids(home)
        if found:
            return found[0]
        time.sleep(0.1)
    raise AssertionError("no session file")


@pytest.mark.integration
def test_a_second_chat_on_a_held_session_is_refused_then_let_in_once_the_first_dies(
    api: FakeAnthropicAPI, project: Path, isolated: Path
) -> None:
    first = piped_chat(project, b"hello\n")
    try:
        session_id = wait_for_session(isolated)
        # The first chat holds its session from its first answer on.
        assert first.stdout is not None
        assert first.stdout.readline().startswith(b"Echo: hello")
        second = subprocess.run(
            [sys.executable, "-m", "claude_chat", "--session", session_id],
            input="RECALL\n",
            capture_output=True,
            text=True,
            cwd=project,
            timeout=60,
        )
        assert second.returncode == 2
        assert f"session {session_id} is open in claude-chat process {first.pid}" in second.stderr
        assert f"claude-chat --session {session_id} --fork" in second.stderr
        assert second.stdout == ""
        forked = subprocess.run(
            [sys.executable, "-m", "claude_chat", "--session", session_id, "--fork"],
            input="RECALL\n",
            capture_output=True,
            text=True,
            cwd=project,
            timeout=120,
        )
        assert forked.returncode == 0, forked.stderr
        assert forked.stdout.startswith("You said before: [hello")
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait()
    # SIGKILL leaves no chance to clean up: the lock goes with the process all the same.
    # (Its Claude Code process may outlive it a moment; wait for it to let go of the file.)
    again = subprocess.run(
        [sys.executable, "-m", "claude_chat", "--session", session_id],
        input="RECALL\n",
        capture_output=True,
        text=True,
        cwd=project,
        timeout=120,
    )
    assert again.returncode == 0, again.stderr
    assert again.stdout.startswith("You said before: [hello")


@pytest.mark.integration
def test_piped_mode_ends_with_the_session_and_how_to_resume_it(
    api: FakeAnthropicAPI, project: Path, isolated: Path
) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "claude_chat"],
        input="hello\n",
        capture_output=True,
        text=True,
        cwd=project,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    (session_id,) = session_ids(isolated)
    assert done.stderr.splitlines()[-2:] == [
        f"session {session_id}",
        f"resume with: claude-chat --session {session_id}",
    ]
    assert session_id not in done.stdout


@pytest.mark.integration
def test_resuming_a_held_session_in_the_terminal_offers_a_fork(
    api: FakeAnthropicAPI, project: Path, isolated: Path
) -> None:
    first = piped_chat(project, b"hello\n")
    try:
        assert first.stdout is not None
        assert first.stdout.readline().startswith(b"Echo: hello")
        session_id = wait_for_session(isolated)
        term = Terminal(
            [sys.executable, "-m", "claude_chat", "--session", session_id],
            dict(os.environ),
            project,
        )
        try:
            term.wait_for("Go on in a copy of it instead (--fork)? [y/N]")
            assert f"is open in claude-chat process {first.pid}" in term.display()
            term.enter("y")
            screen = term.wait_for("where it ended:")
            assert f"forked {session_id} → " in screen
            term.wait_for("❯")
            term.enter("RECALL")
            term.wait_for("You said before: [hello")
            term.enter("/exit")
            assert term.wait_exit() == 0
        finally:
            term.close()
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait()
