"""Tab after ``@``: paths of the session's directory, files tracked by git first.

The list comes from ``git ls-files`` (tracked, then untracked ones that ``.gitignore`` does
not exclude), run as an asyncio subprocess when completion starts and kept for a few seconds,
so typing never waits on a walk of the tree. Outside a git repository the directory is walked
(hidden entries skipped), up to a bound. Matching is fuzzy on the name.
"""

from __future__ import annotations

import asyncio
import os
import re
import time
from collections.abc import AsyncGenerator, Callable, Iterable
from pathlib import Path

from prompt_toolkit.completion import CompleteEvent, Completer, Completion
from prompt_toolkit.document import Document

from claude_chat.engine.attachments import quote_path

MAX_COMPLETIONS = 50
MAX_WALKED = 20_000
_FRESH_S = 5.0
# What is being completed: ``@`` at the start or after white space, maybe with an open quote.
_PARTIAL = re.compile(r"""(?:^|(?<=\s))@(?:"([^"]*)|([^\s"]*))$""")


class MentionCompleter(Completer):
    def __init__(self, cwd: Callable[[], Path]) -> None:
        self._cwd = cwd
        self._paths: list[str] = []
        self._listed: tuple[Path, float] | None = None

    def get_completions(
        self, document: Document, complete_event: CompleteEvent
    ) -> Iterable[Completion]:
        # Without the event loop's help: whatever was listed last.
        yield from self._complete(document)

    async def get_completions_async(
        self, document: Document, complete_event: CompleteEvent
    ) -> AsyncGenerator[Completion, None]:
        if _PARTIAL.search(document.text_before_cursor) is None:
            return
        cwd = self._cwd()
        if self._listed is None or self._listed[0] != cwd or _stale(self._listed[1]):
            self._paths = await list_paths(cwd)
            self._listed = (cwd, time.monotonic())
        for completion in self._complete(document):
            yield completion

    def _complete(self, document: Document) -> Iterable[Completion]:
        match = _PARTIAL.search(document.text_before_cursor)
        if match is None:
            return
        typed = match.group(1) if match.group(1) is not None else match.group(2)
        replaced = len(match.group(0)) - 1  # all but the @
        for path in rank(self._paths, typed)[:MAX_COMPLETIONS]:
            yield Completion(quote_path(path), -replaced, display=path)


def _stale(listed_at: float) -> bool:
    return time.monotonic() - listed_at > _FRESH_S


def rank(paths: list[str], typed: str) -> list[str]:
    """``paths`` that match ``typed``, best first: the name starting with it, the name holding
    it, the path holding it, then its letters in order in the name, then in the path. Within
    a rank the original order stands (tracked files first)."""
    query = typed.lower()
    if not query:
        return paths
    ranked: list[tuple[int, int]] = []
    for index, path in enumerate(paths):
        lowered = path.lower()
        name = lowered.rstrip("/").rsplit("/", 1)[-1]
        if name.startswith(query):
            tier = 0
        elif query in name:
            tier = 1
        elif query in lowered:
            tier = 2
        elif _in_order(query, name):
            tier = 3
        elif _in_order(query, lowered):
            tier = 4
        else:
            continue
        ranked.append((tier, index))
    ranked.sort()
    return [paths[index] for _, index in ranked]


def _in_order(query: str, text: str) -> bool:
    letters = iter(text)
    return all(letter in letters for letter in query)


async def list_paths(cwd: Path) -> list[str]:
    """Files then their directories (with a trailing ``/``), relative to ``cwd``."""
    tracked = await _git(cwd, "ls-files", "-z")
    if tracked is None:
        files = await asyncio.to_thread(_walk, cwd)
    else:
        untracked = await _git(cwd, "ls-files", "-z", "--others", "--exclude-standard") or []
        files = tracked + untracked
    directories: dict[str, None] = {}
    for file in files:
        parts = file.split("/")[:-1]
        for depth in range(1, len(parts) + 1):
            directories.setdefault("/".join(parts[:depth]) + "/")
    return files + list(directories)


async def _git(cwd: Path, *args: str) -> list[str] | None:
    """The NUL-separated lines ``git`` prints, or None when it fails (no git, no repo)."""
    try:
        process = await asyncio.create_subprocess_exec(
            "git",
            *args,
            cwd=cwd,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
        )
    except OSError:
        return None
    output, _ = await process.communicate()
    if process.returncode != 0:
        return None
    # git lists paths relative to cwd, with a ``../`` for none of them: it lists only below.
    return [name for name in output.decode("utf-8", "replace").split("\0") if name]


def _walk(cwd: Path) -> list[str]:
    found: list[str] = []
    for root, dirs, files in os.walk(cwd):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        relative = os.path.relpath(root, cwd)
        prefix = "" if relative == "." else relative.replace(os.sep, "/") + "/"
        found.extend(prefix + name for name in sorted(files) if not name.startswith("."))
        if len(found) >= MAX_WALKED:
            return found[:MAX_WALKED]
    return found
