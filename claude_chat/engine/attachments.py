"""Files and images that go with a message: ``@path`` mentions and pasted image paths.

Claude Code does not expand ``@path`` in stream-json mode (the API would get the literal
text), so a front attaches them itself, as Claude Code's own REPL does: a text file as a text
block ``<file path="...">…</file>``, a directory as its listing, a picture as a base64 image
block. A file that cannot be attached (binary, unreadable) is an ``AttachmentError`` and the
message is not sent: the user meant it to go with the message.
"""

from __future__ import annotations

import asyncio
import base64
import codecs
import io
import os
import re
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from claude_chat.engine.errors import ChatError

TEXT_LIMIT = 256 * 1024
# Claude Code downscales pictures to this many pixels on their long side, and so do we.
IMAGE_MAX_SIDE = 2000
# The API takes at most 5 MB of base64 per image: about 3.75 MB of bytes.
IMAGE_MAX_BYTES = 3_750_000
LISTING_LIMIT = 1000
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".webp")

# ``@`` at the start or after white space, then a quoted path or a run without white space.
_MENTION = re.compile(r"""(?:^|(?<=\s))@(?:"([^"]+)"|'([^']+)'|((?:\\.|[^\s])+))""")
# An absolute (or ~) path to a picture, as typed or as a terminal pastes a dropped file:
# quoted, or with its spaces escaped by backslashes.
_IMAGE_PATH = re.compile(
    r"""(?:^|(?<=\s))(?:"((?:/|~/)[^"]+)"|'((?:/|~/)[^']+)'|((?:/|~/)(?:\\.|[^\s])+))""",
)
_TRAILING_PUNCTUATION = ".,;:!?)]}"

ContentBlock = dict[str, Any]


class AttachmentError(ChatError):
    """A mentioned file cannot go with the message; the message is not sent."""


@dataclass(frozen=True)
class Attachment:
    path: str  # as the user wrote it
    kind: Literal["file", "directory", "image"]
    block: ContentBlock
    size: int  # bytes on disk (for a directory: entries)
    note: str = ""  # what was done to it: cut, downscaled

    def describe(self) -> str:
        what = f"{self.size} entries" if self.kind == "directory" else human_size(self.size)
        # A pasted absolute path is long, and its name says which file it is.
        name = Path(self.path).name if os.path.isabs(os.path.expanduser(self.path)) else self.path
        return f"{name} ({what}{', ' + self.note if self.note else ''})"


def mentions(text: str) -> list[str]:
    """The paths mentioned as ``@path`` in ``text``, in order, each once."""
    found: list[str] = []
    for match in _MENTION.finditer(text):
        quoted = match.group(1) or match.group(2)
        path = quoted if quoted is not None else _unescape(match.group(3))
        if path and path not in found:
            found.append(path)
    return found


def image_paths(text: str) -> list[str]:
    """Absolute paths to pictures in ``text`` (typed or pasted), in order, each once."""
    found: list[str] = []
    for match in _IMAGE_PATH.finditer(text):
        quoted = match.group(1) or match.group(2)
        path = quoted if quoted is not None else _unescape(match.group(3))
        path = path if quoted is not None else path.rstrip(_TRAILING_PUNCTUATION)
        if path.lower().endswith(IMAGE_SUFFIXES) and path not in found:
            found.append(path)
    return found


async def attachments_for(text: str, cwd: Path) -> list[Attachment]:
    """What ``text`` mentions that exists, read and ready to send; ``AttachmentError`` for a
    mentioned file that cannot go. A mention of nothing that exists stays plain text (it may
    be a name, as in "ask @alice")."""
    return await asyncio.to_thread(_attachments_for, text, cwd)


def _attachments_for(text: str, cwd: Path) -> list[Attachment]:
    chosen: list[tuple[str, Path]] = []
    for mention in mentions(text):
        target = _existing(cwd, mention)
        if target is None and mention.rstrip(_TRAILING_PUNCTUATION) != mention:
            mention = mention.rstrip(_TRAILING_PUNCTUATION)
            target = _existing(cwd, mention)
        if target is not None:
            chosen.append((mention, target))
    for written in image_paths(text):
        target = _existing(cwd, written)
        if target is not None and target.is_file():
            chosen.append((written, target))
    attached: list[Attachment] = []
    seen: set[Path] = set()
    for written, target in chosen:
        if target in seen:
            continue
        seen.add(target)
        attached.append(_attach(written, target))
    return attached


def _existing(cwd: Path, written: str) -> Path | None:
    path = Path(os.path.expanduser(written))
    path = path if path.is_absolute() else cwd / path
    try:
        return path.resolve() if path.exists() else None
    except (OSError, ValueError):  # a name no file system takes
        return None


def _attach(written: str, path: Path) -> Attachment:
    if path.is_dir():
        return _directory(written, path)
    try:
        with path.open("rb") as file:
            head = file.read(TEXT_LIMIT + 1)
            size = os.fstat(file.fileno()).st_size
    except OSError as exc:
        raise AttachmentError(f"@{written}: cannot read it ({exc.strerror or exc})") from None
    media_type = _image_type(head)
    if media_type is not None:
        return _image(written, path, media_type, size)
    return _text_file(written, head, size)


def _text_file(written: str, head: bytes, size: int) -> Attachment:
    cut = len(head) > TEXT_LIMIT
    data = head[:TEXT_LIMIT]
    if b"\0" in data[:8192]:
        raise AttachmentError(f"@{written}: a binary file, not attached (message not sent)")
    try:
        # final=False: a cut may fall inside a character, whose start is then dropped.
        content = codecs.getincrementaldecoder("utf-8")().decode(data, final=not cut)
    except UnicodeDecodeError:
        raise AttachmentError(
            f"@{written}: not UTF-8 text, not attached (message not sent)"
        ) from None
    note = ""
    if cut:
        note = f"cut at {human_size(TEXT_LIMIT)}"
        content += (
            f"\n[claude-chat: the file is {human_size(size)}; only its first "
            f"{human_size(TEXT_LIMIT)} are attached]"
        )
    block = {"type": "text", "text": f'<file path="{written}">\n{content}\n</file>'}
    return Attachment(written, "file", block, size, note)


def _directory(written: str, path: Path) -> Attachment:
    try:
        entries = sorted(os.scandir(path), key=lambda entry: entry.name)
    except OSError as exc:
        raise AttachmentError(f"@{written}: cannot list it ({exc.strerror or exc})") from None
    names = [e.name + ("/" if e.is_dir(follow_symlinks=False) else "") for e in entries]
    shown = names[:LISTING_LIMIT]
    if len(names) > len(shown):
        shown.append(f"[claude-chat: {len(names) - len(shown)} more entries not listed]")
    listing = "\n".join(shown)
    block = {"type": "text", "text": f'<directory path="{written}">\n{listing}\n</directory>'}
    return Attachment(written, "directory", block, len(names))


def _image_type(head: bytes) -> str | None:
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return None


def _image(written: str, path: Path, media_type: str, size: int) -> Attachment:
    # Pillow is imported only when a picture is attached.
    from PIL import Image, UnidentifiedImageError

    try:
        data = path.read_bytes()
        with Image.open(io.BytesIO(data)) as image:
            width, height = image.size
            note = f"{width}×{height}"
            if max(width, height) > IMAGE_MAX_SIDE or len(data) > IMAGE_MAX_BYTES:
                data, media_type, (width, height) = _downscale(image, media_type)
                note += f" → {width}×{height}"
    except (OSError, UnidentifiedImageError, ValueError) as exc:
        raise AttachmentError(
            f"@{written}: not a readable image ({exc}); message not sent"
        ) from None
    block = {
        "type": "image",
        "source": {
            "type": "base64",
            "media_type": media_type,
            "data": base64.b64encode(data).decode("ascii"),
        },
    }
    return Attachment(written, "image", block, size, note)


def _downscale(image: Any, media_type: str) -> tuple[bytes, str, tuple[int, int]]:
    """At most ``IMAGE_MAX_SIDE`` on the long side, and small enough for the API."""
    from PIL import Image

    copy = image.copy()
    copy.thumbnail((IMAGE_MAX_SIDE, IMAGE_MAX_SIDE), Image.Resampling.LANCZOS)
    formats = {"image/png": "PNG", "image/jpeg": "JPEG", "image/gif": "PNG", "image/webp": "WEBP"}
    kind = formats[media_type]
    data = _encode(copy, kind)
    if len(data) > IMAGE_MAX_BYTES and kind != "JPEG":
        kind = "JPEG"  # a photo saved as PNG: JPEG makes it a fraction of the size
        data = _encode(copy, kind)
    media = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp"}[kind]
    return data, media, copy.size


def _encode(image: Any, kind: str) -> bytes:
    if kind == "JPEG" and image.mode not in ("RGB", "L"):
        image = image.convert("RGB")
    buffer = io.BytesIO()
    image.save(buffer, kind, **({"quality": 85} if kind in ("JPEG", "WEBP") else {}))
    return buffer.getvalue()


def _unescape(text: str) -> str:
    """``My\\ File.png`` as a shell (and a terminal pasting a dropped file) writes it."""
    if "\\" not in text:
        return text
    try:
        words = shlex.split(text)
    except ValueError:
        return text
    return words[0] if len(words) == 1 else text


def quote_path(path: str) -> str:
    """A path as it can follow ``@``: quoted when it has white space."""
    return f'"{path}"' if any(ch.isspace() for ch in path) else path


def human_size(size: int) -> str:
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KB".replace(".0 KB", " KB")
    return f"{size / 1024 / 1024:.1f} MB"


def shell_context(command: str, output: str, status: int | None) -> ContentBlock:
    """A ``!command`` the user ran, for Claude with the next message, as Claude Code's bash
    mode records it."""
    ended = "stopped by the user" if status is None else f"exit status {status}"
    text = (
        f"<bash-input>{command}</bash-input>\n<bash-stdout>{output}</bash-stdout>\n"
        f"<bash-status>{ended}</bash-status>"
    )
    return {"type": "text", "text": text}
