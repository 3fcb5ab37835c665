"""A transcript as one self-contained HTML page: inline CSS, code highlighted by Pygments,
readable on a phone and a desktop, light or dark as the reader's system prefers.

Markdown from the conversation is rendered with raw HTML escaped, so nothing in an answer or
a tool result can add markup or script to the page.
"""

from __future__ import annotations

import functools
import html
import json
from typing import Any

from markdown_it import MarkdownIt
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import get_lexer_by_name
from pygments.util import ClassNotFound

from claude_chat.store.transcript import (
    COMPACTION_NOTE,
    Item,
    Transcript,
    Turn,
    tool_title,
    truncation_note,
    turn_meta,
)

_CSS = """
:root { color-scheme: light dark; --fg: #1f2328; --bg: #ffffff; --muted: #59636e;
  --line: #d1d9e0; --you: #eef4ff; --tool: #f6f8fa; --error: #cf222e; --code: #f6f8fa; }
@media (prefers-color-scheme: dark) {
  :root { --fg: #e6edf3; --bg: #0d1117; --muted: #9198a1; --line: #3d444d;
    --you: #132339; --tool: #151b23; --error: #ff7b72; --code: #151b23; } }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--fg);
  font: 16px/1.55 -apple-system, BlinkMacSystemFont, "Segoe UI", Roboto, sans-serif; }
main { max-width: 52rem; margin: 0 auto; padding: 1rem; }
header h1 { font-size: 1.4rem; margin: 0.5rem 0; overflow-wrap: anywhere; }
header dl { display: grid; grid-template-columns: max-content 1fr; gap: 0.1rem 1rem;
  color: var(--muted); font-size: 0.85rem; margin: 0 0 1rem; }
header dd { margin: 0; overflow-wrap: anywhere; font-family: ui-monospace, monospace; }
article.turn { border-top: 1px solid var(--line); padding: 0.75rem 0; }
.you { background: var(--you); border-radius: 0.5rem; padding: 0.5rem 0.75rem;
  white-space: pre-wrap; overflow-wrap: anywhere; }
.role { font-weight: 600; font-size: 0.8rem; text-transform: uppercase; color: var(--muted);
  margin: 0.6rem 0 0.2rem; }
.answer { overflow-wrap: anywhere; }
details { border: 1px solid var(--line); border-radius: 0.5rem; margin: 0.5rem 0;
  background: var(--tool); }
details > summary { cursor: pointer; padding: 0.4rem 0.75rem; color: var(--muted);
  overflow-wrap: anywhere; }
details > div { padding: 0 0.75rem 0.5rem; }
details.error > summary { color: var(--error); }
pre { background: var(--code); padding: 0.6rem 0.75rem; border-radius: 0.4rem;
  overflow-x: auto; font-size: 0.85rem; line-height: 1.4; }
code { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 0.9em; }
table { border-collapse: collapse; display: block; overflow-x: auto; }
th, td { border: 1px solid var(--line); padding: 0.25rem 0.5rem; }
blockquote { margin: 0; padding-left: 0.75rem; border-left: 3px solid var(--line);
  color: var(--muted); }
.error { color: var(--error); }
.meta { color: var(--muted); font-size: 0.8rem; margin-top: 0.4rem; }
.note { color: var(--muted); font-style: italic; }
"""


def to_html(transcript: Transcript) -> str:
    title = transcript.title or "Conversation with Claude"
    body = [f"<header><h1>{_e(title)}</h1><dl>"]
    for name, value in (
        ("session", transcript.session_id),
        ("directory", transcript.cwd),
        ("exported", transcript.exported_at),
        ("claude-chat", transcript.claude_chat_version),
        ("Claude Code", transcript.claude_code_version),
    ):
        if value:
            body.append(f"<dt>{name}</dt><dd>{_e(value)}</dd>")
    body.append("</dl></header>")
    body += [_turn(number, turn) for number, turn in enumerate(transcript.turns, start=1)]
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(title)}</title><style>{_CSS}{_pygments_css()}</style></head>"
        f"<body><main>{''.join(body)}</main></body></html>\n"
    )


def _turn(number: int, turn: Turn) -> str:
    parts = [f'<article class="turn" id="turn-{number}">']
    if turn.after_compaction:
        parts.append(f'<p class="note">{_e(COMPACTION_NOTE)}</p>')
    parts.append(f'<div class="role">You</div><div class="you">{_e(turn.user)}</div>')
    parts.append('<div class="role">Claude</div><div class="answer">')
    for item in turn.items:
        parts.append(_item(item))
    if turn.error:
        parts.append(f'<p class="error"><strong>Error:</strong> {_e(turn.error)}</p>')
    if turn.interrupted:
        parts.append('<p class="note">(interrupted)</p>')
    parts.append("</div>")
    meta = turn_meta(turn)
    if meta:
        parts.append(f'<div class="meta">{_e(meta)}</div>')
    parts.append("</article>")
    return "".join(parts)


def _item(item: Item) -> str:
    if item.kind == "text":
        return str(_markdown.render(item.text))
    if item.kind == "thinking":
        return (
            '<details class="thinking"><summary>Thinking</summary>'
            f"<div>{_markdown.render(item.text)}</div></details>"
        )
    css = "tool error" if item.is_error else "tool"
    # Tool inputs stay plain: highlighting thousands of small JSON blocks costs seconds.
    inner = [
        f"<pre><code>{_e(json.dumps(item.input or {}, indent=2, ensure_ascii=False))}</code></pre>"
    ]
    if item.result is not None:
        inner.append(f"<pre><code>{_e(item.result)}</code></pre>")
        if item.truncated_bytes:
            inner.append(f'<p class="note">{_e(truncation_note(item))}</p>')
    label = "Tool" + (" (error)" if item.is_error else "")
    return (
        f'<details class="{css}"><summary>{label}: <code>{_e(tool_title(item))}</code>'
        f"</summary><div>{''.join(inner)}</div></details>"
    )


@functools.lru_cache(maxsize=64)
def _lexer(language: str) -> Any:
    try:
        return get_lexer_by_name(language) if language else None
    except ClassNotFound:
        return None


def _code(text: str, language: str, _attrs: object = None) -> str:
    lexer = _lexer(language)
    if lexer is None:
        return f"<pre><code>{_e(text)}</code></pre>"
    # Starting with <pre> tells markdown-it the block is complete as it is.
    spans = str(highlight(text, lexer, _FORMATTER))
    return f'<pre class="hl"><code>{spans}</code></pre>'


def _pygments_css() -> str:
    light = str(HtmlFormatter(style="default").get_style_defs(".hl"))
    dark = str(HtmlFormatter(style="github-dark").get_style_defs(".hl"))
    return (
        f"{light}\n.hl {{ background: var(--code); }}\n"
        f"@media (prefers-color-scheme: dark) {{ {dark}\n.hl {{ background: var(--code); }} }}"
    )


def _e(text: str) -> str:
    return html.escape(text, quote=True)


_FORMATTER = HtmlFormatter(nowrap=True)
# Raw HTML in answers is shown as text, never as markup.
_markdown = MarkdownIt("commonmark", {"html": False, "highlight": _code}).enable(
    ["table", "strikethrough"]
)
