"""One claude-chat process per session: an advisory lock per session in the user data dir.

Two processes resuming one session would interleave their writes to its JSONL file. A lock is
an ``flock`` on ``locks/<session id>.lock``, so the kernel releases it on every exit path, a
crash or SIGKILL included: a file left behind by a dead holder is not locked and is simply
taken. The file holds the holder's pid, for telling the user who has the session.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path

from claude_chat.engine.errors import ChatError


class SessionLockedError(ChatError):
    """Another live process holds the session."""

    def __init__(self, session_id: str, pid: int | None) -> None:
        holder = f"claude-chat process {pid}" if pid else "another claude-chat process"
        super().__init__(f"session {session_id} is open in {holder}")
        self.session_id = session_id
        self.pid = pid


class SessionLock:
    """The lock of the one session a chat is in; ``hold`` moves it to another session."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.session_id: str | None = None
        self._fd: int | None = None

    def hold(self, session_id: str | None) -> None:
        """Hold ``session_id``'s lock instead of the one held now (None: hold none).

        ``SessionLockedError`` when another process holds it; the lock held so far stays.
        """
        if session_id == self.session_id:
            return
        fd = self._acquire(session_id) if session_id is not None else None
        self.release()
        self.session_id, self._fd = session_id, fd

    def holder(self, session_id: str) -> int | None:
        """The pid of another live process holding ``session_id``, else None."""
        if session_id == self.session_id:
            return None
        try:
            fd = self._acquire(session_id)
        except SessionLockedError as exc:
            return exc.pid or -1
        self._let_go(self._path(session_id), fd)
        return None

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None and self.session_id is not None:
            self._let_go(self._path(self.session_id), fd)
        self.session_id = None

    def _path(self, session_id: str) -> Path:
        # Session ids are UUIDs; anything else must not make a path outside the folder.
        return self.folder / (Path(session_id.lower()).name + ".lock")

    def _acquire(self, session_id: str) -> int:
        path = self._path(session_id)
        self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        while True:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                pid = _read_pid(fd)
                os.close(fd)
                raise SessionLockedError(session_id, pid) from None
            except BaseException:
                os.close(fd)
                raise
            # The holder may have removed the file between our open and our lock: that lock
            # is on a file nobody else sees, so take the one now at the path instead.
            try:
                same = os.stat(path).st_ino == os.fstat(fd).st_ino
            except FileNotFoundError:
                same = False
            if same:
                os.ftruncate(fd, 0)
                os.write(fd, f"{os.getpid()}\n".encode())
                return fd
            os.close(fd)

    @staticmethod
    def _let_go(path: Path, fd: int) -> None:
        # Removed while still locked, so that nobody takes a lock on a file about to vanish.
        with contextlib.suppress(OSError):
            path.unlink()
        os.close(fd)


def _read_pid(fd: int) -> int | None:
    try:
        text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


def session_lock() -> SessionLock:
    """A chat's lock, holding nothing yet, in the user data dir."""
    from claude_chat.engine.config import data_dir

    return SessionLock(data_dir() / "locks")
