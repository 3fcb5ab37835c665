"""Streamed markdown splits into the same final blocks however the text is chunked."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from claude_chat.markdown_stream import MarkdownStream

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
