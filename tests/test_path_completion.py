"""What Tab after @ offers: git-tracked paths first, nothing ignored, fuzzy on the name."""

from __future__ import annotations

import subprocess
from pathlib import Path

from prompt_toolkit.completion import CompleteEvent
from prompt_toolkit.document import Document

from claude_chat.terminal.path_completion import MentionCompleter, list_paths, rank


def test_rank_prefers_the_name_then_the_path_then_letters_in_order() -> None:
    paths = ["src/readme_parser.py", "README.md", "docs/read/x.txt", "lib/rd.py", "r/e/a/d"]
    assert rank(paths, "read") == [
        "src/readme_parser.py",  # the name starts with it: in the order given
        "README.md",
        "docs/read/x.txt",  # the path holds it
        "r/e/a/d",  # its letters in order, in the path
    ]
    assert rank(paths, "") == paths


async def test_tracked_files_first_ignored_ones_never(tmp_path: Path) -> None:
    def git(*args: str) -> None:
        subprocess.run(["git", *args], cwd=tmp_path, check=True, capture_output=True)

    (tmp_path / "z_tracked.py").write_text("")
    (tmp_path / "a_untracked.py").write_text("")
    (tmp_path / "build.log").write_text("")
    (tmp_path / ".gitignore").write_text("*.log\n")
    (tmp_path / "my dir").mkdir()
    (tmp_path / "my dir" / "f.txt").write_text("")
    git("init", "-q")
    git("add", "z_tracked.py", ".gitignore", "my dir/f.txt")
    paths = await list_paths(tmp_path)
    assert paths == [".gitignore", "my dir/f.txt", "z_tracked.py", "a_untracked.py", "my dir/"]
    completer = MentionCompleter(lambda: tmp_path)
    document = Document("look at @f.t")
    found = [c async for c in completer.get_completions_async(document, CompleteEvent())]
    assert [(c.text, c.start_position) for c in found] == [('"my dir/f.txt"', -3)]


async def test_outside_git_the_directory_is_walked_without_hidden_entries(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("")
    (tmp_path / ".hidden").mkdir()
    (tmp_path / ".hidden" / "b.txt").write_text("")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "c.txt").write_text("")
    assert await list_paths(tmp_path) == ["a.txt", "sub/c.txt", "sub/"]
