"""Transcripts to files: the format a path asks for, the default name, and writing a file whole,
owner-only, never over another file by accident."""

from __future__ import annotations

import contextlib
import errno
import os
import re
import tempfile
from datetime import datetime
from pathlib import Path

from claude_chat.store.transcript import Transcript, TranscriptError, to_json, to_markdown

FORMATS = ("md", "json", "html")


def format_of(path: Path) -> str:
    suffix = path.suffix.lower().lstrip(".")
    if suffix in ("md", "markdown", ""):
        return "md"
    if suffix in ("json", "html"):
        return suffix
    if suffix == "htm":
        return "html"
    raise TranscriptError(f"unknown format .{suffix}: use .md, .json or .html")


def render_as(transcript: Transcript, fmt: str) -> str:
    if fmt == "json":
        return to_json(transcript)
    if fmt == "html":
        # Pygments and markdown-it load for an HTML page only, not with the chat.
        from claude_chat.store.transcript_html import to_html

        return to_html(transcript)
    return to_markdown(transcript)


def slug(text: str, limit: int = 50) -> str:
    words = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return words[:limit].rstrip("-") or "conversation"


def default_path(directory: Path, transcript: Transcript, fmt: str = "md") -> Path:
    """``<date>-<title-slug>.<fmt>`` in ``directory``, numbered if that name is taken."""
    first = transcript.turns[0].user if transcript.turns else ""
    stem = f"{datetime.now().strftime('%Y-%m-%d')}-{slug(transcript.title or first)}"
    path = directory / f"{stem}.{fmt}"
    number = 2
    while path.exists():
        path = directory / f"{stem}-{number}.{fmt}"
        number += 1
    return path


def write_private(path: Path, text: str, force: bool = False) -> Path:
    """Write ``text`` to ``path`` all at once (a temporary file, then a rename), readable by
    the owner only; an existing file is kept unless ``force``."""
    directory = path.parent
    try:
        os.fsencode(path)
    except UnicodeError:
        raise TranscriptError(f"{str(path)!a} is not a file name this system takes") from None
    if "\x00" in str(path):
        raise TranscriptError(f"{str(path)!a} is not a file name (it holds a NUL byte)")
    if not force and path.exists():
        raise TranscriptError(f"{path} exists; add --force to overwrite it")
    try:
        descriptor, temporary = tempfile.mkstemp(dir=directory, prefix=f".{path.name}.")
    except OSError as exc:
        raise TranscriptError(_why(exc, directory)) from exc
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, 0o600)
        if force:
            os.replace(temporary, path)
        else:
            # A link fails if the name was taken meanwhile: nothing is overwritten.
            os.link(temporary, path)
            os.unlink(temporary)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        if isinstance(exc, FileExistsError):
            raise TranscriptError(f"{path} exists; add --force to overwrite it") from exc
        raise TranscriptError(_why(exc, directory)) from exc
    return path


def _why(exc: OSError, directory: Path) -> str:
    if isinstance(exc, FileNotFoundError):
        return f"no directory {directory}"
    if isinstance(exc, PermissionError):
        return f"no permission to write in {directory}"
    if exc.errno == errno.ENOSPC:
        return f"no space left on the disk of {directory}"
    return f"could not write in {directory}: {exc.strerror or exc}"
