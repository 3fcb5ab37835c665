"""Drive a program in a pseudo-terminal and read the screen a person would see (pexpect + pyte)."""

from __future__ import annotations

import contextlib
import os
import re
import select
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pexpect
import pyte


class Terminal:
    def __init__(
        self,
        argv: list[str],
        env: dict[str, str],
        cwd: Path,
        rows: int = 40,
        cols: int = 100,
    ) -> None:
        self.screen = pyte.HistoryScreen(cols, rows, history=5000)
        self.stream = pyte.ByteStream(self.screen)
        self.raw = bytearray()
        self.child = pexpect.spawn(
            argv[0], argv[1:], env=env, cwd=str(cwd), dimensions=(rows, cols), timeout=5
        )
        # pexpect waits 50 ms before each send by default; a terminal answers at once.
        self.child.delaybeforesend = None

    def pump(self, seconds: float = 0.05) -> None:
        deadline = time.monotonic() + seconds
        while True:
            try:
                data = self.child.read_nonblocking(
                    65536, timeout=max(deadline - time.monotonic(), 0)
                )
            except pexpect.TIMEOUT:
                return
            except pexpect.EOF:
                return
            self.raw.extend(data)
            self.stream.feed(data)
            # Answer cursor position requests as a real terminal does (prompt-toolkit asks).
            for _ in range(data.count(b"\x1b[6n")):
                cursor = self.screen.cursor
                self.child.send(f"\x1b[{cursor.y + 1};{cursor.x + 1}R")
            if time.monotonic() >= deadline:
                return

    def display(self) -> str:
        return "\n".join(line.rstrip() for line in self.screen.display)

    def history(self) -> str:
        """Everything that scrolled off the top, then the screen: the whole session as seen."""
        top = [
            "".join(ch.data for ch in line.values()).rstrip() for line in self.screen.history.top
        ]
        return "\n".join([*top, self.display()])

    def wait_for(self, what: str | Callable[[str], bool], timeout: float = 30) -> str:
        check = what if callable(what) else (lambda screen: what in screen)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.pump(0.05)
            screen = self.history()
            if check(screen):
                return screen
            if not self.child.isalive():
                self.pump(0.2)
                screen = self.history()
                if check(screen):
                    return screen
                break
        raise AssertionError(f"timed out waiting for {what!r}; screen:\n{self.history()}")

    def resize(self, rows: int, cols: int) -> None:
        """As a terminal window does: the screen changes size and the program gets SIGWINCH.

        The program is stopped meanwhile and its output read to the end first. Bytes it wrote
        for the old width but the terminal had not shown yet would wrap at the new one, in a
        real terminal too: a race no program can win, which left a stray row now and then.
        (A frame it is drawing at that very moment still comes after; 30 runs under load
        never met one.)
        """
        pid = self.child.pid
        os.kill(pid, signal.SIGSTOP)
        try:
            deadline = time.monotonic() + 5
            while _state(pid) != "T":
                if time.monotonic() > deadline:
                    raise AssertionError(f"the program did not stop; screen:\n{self.history()}")
                time.sleep(0.001)
            while select.select([self.child.child_fd], [], [], 0)[0]:
                before = len(self.raw)
                self.pump(0)
                if len(self.raw) == before:  # the end of its output
                    break
            self.screen.resize(rows, cols)
            self.child.setwinsize(rows, cols)
        finally:
            os.kill(pid, signal.SIGCONT)

    def type(self, text: str) -> None:
        self.child.send(text)

    def enter(self, text: str = "") -> None:
        # A terminal sends CR for Enter; LF would be Ctrl+J, which inserts a new line.
        self.child.send(text + "\r")

    def ctrl(self, key: str) -> None:
        self.child.sendcontrol(key)

    def wait_exit(self, timeout: float = 30) -> int:
        deadline = time.monotonic() + timeout
        while self.child.isalive() and time.monotonic() < deadline:
            self.pump(0.1)
        self.pump(0.1)
        if self.child.isalive():
            raise AssertionError(f"did not exit; screen:\n{self.history()}")
        self.child.close()
        return int(self.child.exitstatus if self.child.exitstatus is not None else -1)

    def close(self) -> None:
        """As closing a terminal window does: SIGHUP, and time for the program to close what
        it started (Claude Code) before it is killed. pexpect's own terminate() kills after
        0.3 s, which on a busy machine orphans a Claude Code that was still closing."""
        if self.child.isalive():
            with contextlib.suppress(OSError):
                os.kill(self.child.pid, signal.SIGHUP)
            deadline = time.monotonic() + 20
            while self.child.isalive() and time.monotonic() < deadline:
                self.pump(0.1)
        if self.child.isalive():
            self.child.terminate(force=True)
        self.child.close()


def proc_stat(pid: int) -> list[str]:
    """The fields of /proc/PID/stat after the command name: [0] is field 3, the state."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def _state(pid: int) -> str:
    """A process's state letter ("T": stopped), or "" when it is gone."""
    try:
        return proc_stat(pid)[0]
    except (OSError, IndexError):
        return ""


def processes_with_env(marker: str) -> list[int]:
    """Pids of live processes whose environment mentions ``marker`` (a test's temp HOME)."""
    pids = []
    needle = marker.encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if needle in (entry / "environ").read_bytes():
                stat = (entry / "stat").read_text()
                if re.search(r"\) Z ", stat) is None:  # zombies are already dead
                    pids.append(int(entry.name))
        except OSError:
            continue
    return pids


def piped_chat(cwd: Path, first_line: bytes) -> subprocess.Popen[bytes]:
    """``claude-chat`` with pipes for stdin, stdout and stderr (piped mode), ``first_line``
    already sent: for tests that act on the process while it answers."""
    chat = subprocess.Popen(
        [sys.executable, "-m", "claude_chat"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=cwd,
    )
    assert chat.stdin is not None
    chat.stdin.write(first_line)
    chat.stdin.flush()
    return chat
