"""``!command``: run in the user's shell, in the session's directory, output shown as it comes.

The command gets no terminal (standard input is empty, output is a pipe), as in Claude Code's
bash mode: it is for commands whose output is the point. It runs in its own process group, so
that Ctrl+C (a key press here: the terminal is in raw mode) stops it and all it started.
"""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import os
import signal
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

# What of the output goes to Claude with the next message: its end, as Claude Code keeps it.
OUTPUT_KEPT = 30 * 1024
# After Ctrl+C, how long the command has to end before it is killed.
STOP_GRACE_S = 2.0


@dataclass(frozen=True)
class ShellRun:
    command: str
    output: str  # the last OUTPUT_KEPT bytes, decoded
    status: int | None  # None: stopped by the user
    cut: bool  # whether output is only the end of it


class ShellCommand:
    def __init__(self, command: str, cwd: Path) -> None:
        self.command = command
        self.cwd = cwd
        self._process: asyncio.subprocess.Process | None = None
        self._stopped = False

    async def run(self, show: Callable[[str], None]) -> ShellRun:
        """Run to the end (or until ``stop``), passing output to ``show`` as it arrives."""
        shell = os.environ.get("SHELL") or "/bin/sh"
        process = await asyncio.create_subprocess_exec(
            shell,
            "-c",
            self.command,
            cwd=self.cwd,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,
        )
        self._process = process
        assert process.stdout is not None
        decoder = codecs.getincrementaldecoder("utf-8")("replace")
        tail = bytearray()
        total = 0
        try:
            while chunk := await process.stdout.read(65536):
                total += len(chunk)
                tail += chunk
                del tail[:-OUTPUT_KEPT]
                show(decoder.decode(chunk))
            show(decoder.decode(b"", final=True))
            status = await process.wait()
        finally:
            if process.returncode is None:  # cancelled: leave nothing running
                self._signal(signal.SIGKILL)
                await process.wait()
        output = bytes(tail).decode("utf-8", "replace")
        if len(tail) < total:
            output = output[1:] if output.startswith("\ufffd") else output  # a cut character
        return ShellRun(
            self.command, output, None if self._stopped else status, cut=len(tail) < total
        )

    def stop(self) -> None:
        """Ctrl+C: interrupt the command and what it started; kill it if it does not end."""
        if self._process is None or self._process.returncode is not None or self._stopped:
            return
        self._stopped = True
        self._signal(signal.SIGINT)
        asyncio.get_running_loop().call_later(STOP_GRACE_S, self._signal, signal.SIGKILL)

    def _signal(self, signum: int) -> None:
        process = self._process
        if process is not None and process.returncode is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signum)
