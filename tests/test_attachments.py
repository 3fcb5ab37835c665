"""@path mentions and pasted image paths: what goes with a message."""

from __future__ import annotations

import base64
import io
from pathlib import Path

import pytest

from claude_chat.engine.attachments import (
    TEXT_LIMIT,
    AttachmentError,
    attachments_for,
    image_paths,
    mentions,
)


def test_mentions_are_found_after_white_space_quoted_or_not() -> None:
    text = 'see @notes.txt and @"my file.md", mail bob@example.com, @src/ @a\\ b.txt'
    assert mentions(text) == ["notes.txt", "my file.md", "src/", "a b.txt"]
    assert mentions("@one @two @one") == ["one", "two"]
    assert mentions("bob@example.com") == []
    assert mentions('@"my file.md" then') == ["my file.md"]
    assert mentions("@a\\ b.txt") == ["a b.txt"]


def test_image_paths_typed_quoted_or_pasted_with_escapes() -> None:
    text = "look /tmp/a.png and '/tmp/my shot.JPG' and /tmp/b\\ c.webp, not /tmp/x.txt"
    assert image_paths(text) == ["/tmp/a.png", "/tmp/my shot.JPG", "/tmp/b c.webp"]


async def test_a_text_file_a_directory_and_punctuation(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("line one\nline two\n")
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "a.py").write_text("")
    (tmp_path / "src" / "sub").mkdir()
    attached = await attachments_for("read @notes.txt, then @src and ask @alice", tmp_path)
    assert [a.kind for a in attached] == ["file", "directory"]
    assert attached[0].block == {
        "type": "text",
        "text": '<file path="notes.txt">\nline one\nline two\n\n</file>',
    }
    assert attached[1].block["text"] == '<directory path="src">\na.py\nsub/\n</directory>'
    assert attached[0].describe() == "notes.txt (18 B)"


async def test_a_large_file_is_cut_with_a_note(tmp_path: Path) -> None:
    (tmp_path / "big.txt").write_text("é" * TEXT_LIMIT)  # 2 bytes each: cut mid-character
    (attached,) = await attachments_for("@big.txt", tmp_path)
    assert attached.note == "cut at 256 KB"
    text = attached.block["text"]
    assert "only its first 256 KB are attached" in text
    assert text.count("é") == TEXT_LIMIT // 2


@pytest.mark.parametrize("content", [b"\x00\x01\x02binary", b"caf\xe9 latin-1"])
async def test_binary_or_not_utf8_is_an_error(tmp_path: Path, content: bytes) -> None:
    (tmp_path / "blob.bin").write_bytes(content)
    with pytest.raises(AttachmentError, match=r"@blob\.bin: .*message not sent"):
        await attachments_for("@blob.bin", tmp_path)


async def test_an_unreadable_file_is_an_error(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("x")
    secret.chmod(0)
    try:
        if secret.open("rb"):  # root reads anything
            pytest.skip("running as root")
    except PermissionError:
        pass
    with pytest.raises(AttachmentError, match="cannot read it"):
        await attachments_for("@secret.txt", tmp_path)


def png(width: int, height: int) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(buffer, "PNG")
    return buffer.getvalue()


async def test_images_go_as_base64_blocks_downscaled_over_2000_px(tmp_path: Path) -> None:
    from PIL import Image

    (tmp_path / "small.png").write_bytes(png(40, 30))
    (tmp_path / "wide.png").write_bytes(png(4000, 1000))
    attached = await attachments_for(f"@small.png {tmp_path}/wide.png", tmp_path)
    small, wide = attached
    assert small.block["source"]["media_type"] == "image/png"
    assert base64.b64decode(small.block["source"]["data"]) == png(40, 30)
    assert wide.note == "4000×1000 → 2000×500"
    data = base64.b64decode(wide.block["source"]["data"])
    assert Image.open(io.BytesIO(data)).size == (2000, 500)


async def test_a_broken_image_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    with pytest.raises(AttachmentError, match="not a readable image"):
        await attachments_for("@broken.png", tmp_path)
