"""Streamed markdown splits into the same final blocks however the text is chunked."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from claude_chat.terminal.markdown_stream import MarkdownStream

DOC = """# Title

A paragraph with **bold** and `code`
that goes on.

- one
- two

  still two

```python
def f():

    return 1
```

| a | b |
|---|---|
| 1 | 2 |

> quoted
lazily continued

1. first
2. second

Last words."""

BLOCKS = [
    "# Title",
    "A paragraph with **bold** and `code`\nthat goes on.",
    "- one\n- two\n\n  still two",
    "```python\ndef f():\n\n    return 1\n```",
    "| a | b |\n|---|---|\n| 1 | 2 |",
    "> quoted\nlazily continued",
    "1. first\n2. second",
    "Last words.",
]


def stream_blocks(chunks: list[str]) -> list[str]:
    stream = MarkdownStream()
    blocks: list[str] = []
    for chunk in chunks:
        stream.feed(chunk)
        blocks.extend(stream.take_final_blocks())
    return blocks + stream.finish()


def test_whole_document() -> None:
    assert stream_blocks([DOC]) == BLOCKS


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=12), min_size=1, max_size=400))
def test_any_chunking_gives_the_same_blocks(sizes: list[int]) -> None:
    chunks, at = [], 0
    for size in sizes:
        if at >= len(DOC):
            break
        chunks.append(DOC[at : at + size])
        at += size
    chunks.append(DOC[at:])
    assert stream_blocks(chunks) == BLOCKS


def test_an_open_block_is_never_final() -> None:
    stream = MarkdownStream()
    stream.feed("| a | b |\n|---|---|\n| 1 | 2 |\n")
    assert stream.take_final_blocks() == []
    stream.feed("```\ncode\n\nmore")
    assert stream.take_final_blocks() == ["| a | b |\n|---|---|\n| 1 | 2 |"]
    assert stream.open_block.startswith("```")


def test_a_line_still_being_written_never_ends_a_block() -> None:
    stream = MarkdownStream()
    stream.feed("1. one\n\n1")  # "1" alone is a paragraph, but may become "1. two"
    assert stream.take_final_blocks() == []
    stream.feed(". two\n\nAfter.\n")
    assert stream.take_final_blocks() == ["1. one\n\n1. two"]


def test_the_tail_of_a_long_block_is_cut_where_markdown_allows() -> None:
    def tail(source: str, max_lines: int = 10) -> str:
        stream = MarkdownStream()
        stream.feed(source)
        return stream.open_tail(max_lines)

    code = "```python\n" + "".join(f"x = {i}\n" for i in range(1000))
    assert tail(code) == "```python\n" + "".join(f"x = {i}\n" for i in range(992, 1000))
    table = "| a | b |\n|---|---|\n" + "".join(f"| {i} | {i} |\n" for i in range(500))
    assert tail(table).splitlines()[:3] == ["| a | b |", "|---|---|", "| 492 | 492 |"]
    numbered = "".join(f"1. item {i}\n" for i in range(300))
    assert tail(numbered).splitlines()[0] == "293. item 292"
    bullets = "".join(f"- item {i}\n  more {i}\n" for i in range(300))
    assert tail(bullets).splitlines()[0] == "- item 296"
    short = "A paragraph.\n"
    assert tail(short) == short
