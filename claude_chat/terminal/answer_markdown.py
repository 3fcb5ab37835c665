"""Markdown as answers are shown: rich's, with code blocks that copy as the code.

rich pads a code block by a space on the left and fills every line to the width, so a
selection from the screen pastes with a space before each line and trailing blanks. Here the
code starts at the first column and each line ends where the code does; it keeps its
highlighting, in the terminal's own colours: without the theme's background (which would stop
at the end of each line) monokai's near-white text would vanish on a light terminal.
"""

from __future__ import annotations

from typing import ClassVar

from rich.console import Console, ConsoleOptions, RenderResult
from rich.markdown import CodeBlock, Markdown, MarkdownElement
from rich.syntax import Syntax


class CopyableCodeBlock(CodeBlock):
    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        code = str(self.text).strip("\n").rstrip()
        if not code:
            return  # an empty line would pass for the blank line a list or quote begins with
        syntax = Syntax(code, self.lexer_name, theme="ansi_dark", background_color="default")
        text = syntax.highlight(code)
        text.rstrip()
        # "default" leaves lines as long as their text ("left" would pad them to the width);
        # a line wider than the screen folds rather than losing its end.
        text.justify = "default"
        text.overflow = "fold"
        text.no_wrap = False
        yield text


class AnswerMarkdown(Markdown):
    elements: ClassVar[dict[str, type[MarkdownElement]]] = {
        **Markdown.elements,
        "fence": CopyableCodeBlock,
        "code_block": CopyableCodeBlock,
    }
