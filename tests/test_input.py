"""The input side in a pseudo-terminal: one-key permission answers, @path files and images,
!commands, Shift+Tab, Ctrl+G, notifications and code that copies as written (real CLI and the
stand-in API)."""

from __future__ import annotations

import base64
import io
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fake_api import MARKDOWN_ANSWER, FakeAnthropicAPI
from tests.terminal import Terminal, processes_with_env
from tests.test_terminal import PROMPT, ask_to_touch, ready

pytestmark = [pytest.mark.integration, pytest.mark.terminal]


def start(project: Path, *args: str, **env: str) -> Terminal:
    environment = dict(os.environ, TERM="xterm-256color", **env)
    environment.pop("NO_COLOR", None)
    terminal = Terminal([sys.executable, "-m", "claude_chat", *args], environment, project)
    terminal.wait_for(PROMPT, timeout=20)
    terminal.wait_for(ready, timeout=60)
    return terminal


@pytest.fixture
def term(api: FakeAnthropicAPI, project: Path, isolated: Path) -> Iterator[Terminal]:
    terminal = start(project)
    yield terminal
    terminal.close()
    assert processes_with_env(str(isolated)) == [], "a process of ours outlived the test"


def prompt_line(term: Terminal) -> str:
    rows = reversed(term.display().splitlines())
    return next((line for line in rows if line.startswith(PROMPT)), "")


def last_user_content(api: FakeAnthropicAPI) -> list[dict[str, object]]:
    message = [m for m in api.message_requests()[-1].messages if m.get("role") == "user"][-1]
    content = message["content"]
    assert isinstance(content, list)
    return content


def test_permission_answers_act_on_one_key(term: Terminal, project: Path) -> None:
    allowed, refused = project / "allowed", project / "refused"
    ask_to_touch(term, allowed)
    term.type("y")  # no Enter
    term.wait_for("Tool said:", timeout=30)
    assert allowed.exists()
    term.wait_for(lambda s: s.count("first token") == 1, timeout=30)
    ask_to_touch(term, refused)
    term.type("q")  # not an answer: nothing happens
    term.type("n")
    term.wait_for("Why? (Enter: no reason) ›", timeout=10)
    term.enter("not here")
    screen = term.wait_for(lambda s: s.count("first token") == 2, timeout=30)
    assert not refused.exists()
    assert "denied this tool call: not here" in screen


def git(project: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=project, check=True, capture_output=True)


def png(width: int, height: int) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (10, 120, 200)).save(buffer, "PNG")
    return buffer.getvalue()


def test_at_completes_paths_and_attaches_files_and_images(
    api: FakeAnthropicAPI, project: Path, isolated: Path
) -> None:
    (project / "notes.txt").write_text("the notes say 42\n")
    (project / "my docs").mkdir()
    (project / "my docs" / "plan.md").write_text("# plan\n")
    (project / "secrets.txt").write_text("secret\n")
    (project / ".gitignore").write_text("secrets.txt\n")
    (project / "shot.png").write_bytes(png(3000, 1500))
    git(project, "init", "-q")
    git(project, "add", "notes.txt", ".gitignore")
    term = start(project)
    try:
        # Tab once the menu (shown while typing) has the choices, as a person sees them first.
        term.type("read @not")
        term.wait_for(lambda s: "notes.txt" in s.split("@not", 1)[-1], timeout=10)
        term.type("\t")
        term.wait_for(lambda s: prompt_line(term).endswith("read @notes.txt"), timeout=10)
        term.type(" and @pla")
        term.wait_for("my docs/plan.md", timeout=10)
        term.type("\t")
        term.wait_for(lambda s: prompt_line(term).endswith('@"my docs/plan.md"'), timeout=10)
        term.type(" @secre")
        term.pump(0.5)
        term.type("\t")
        term.pump(0.5)
        assert prompt_line(term).endswith("@secre")  # .gitignore excludes it
        assert "secrets.txt" not in term.display()
        term.ctrl("c")
        term.enter(f"read @notes.txt and look at {project}/shot.png")
        screen = term.wait_for("first token", timeout=30)
        assert "⎿ with notes.txt (17 B) · shot.png (16.3 KB, 3000×1500 → 2000×1000)" in screen
        content = last_user_content(api)
        texts = [block.get("text") for block in content if block.get("type") == "text"]
        assert '<file path="notes.txt">\nthe notes say 42\n\n</file>' in texts
        (image,) = [block for block in content if block.get("type") == "image"]
        source = image["source"]
        assert isinstance(source, dict) and source["media_type"] == "image/png"
        from PIL import Image

        decoded = Image.open(io.BytesIO(base64.b64decode(str(source["data"]))))
        assert decoded.size == (2000, 1000)
        # A binary file is one line, nothing is sent, and the message is back in the prompt.
        (project / "blob.bin").write_bytes(b"\0\1\2")
        before = len(api.message_requests())
        term.enter("see @blob.bin")
        term.wait_for("@blob.bin: a binary file, not attached (message not sent)", timeout=10)
        term.wait_for(lambda s: prompt_line(term) == f"{PROMPT} see @blob.bin", timeout=10)
        assert len(api.message_requests()) == before
        term.ctrl("c")
        term.ctrl("d")
        assert term.wait_exit() == 0
    finally:
        term.close()
    assert processes_with_env(str(isolated)) == []


def test_a_shell_command_shows_its_output_and_goes_to_claude(
    term: Terminal, api: FakeAnthropicAPI
) -> None:
    term.enter("!echo from-the-shell; exit 3")
    screen = term.wait_for("exit status 3", timeout=30)
    assert "from-the-shell" in screen
    term.enter("!sleep 30")
    term.pump(0.5)
    term.ctrl("c")
    term.wait_for("⏹ stopped", timeout=10)
    assert not api.message_requests()
    term.enter("what did it say?")
    screen = term.wait_for("first token", timeout=30)
    assert "2 shell commands" in screen
    texts = [str(b.get("text")) for b in last_user_content(api) if b.get("type") == "text"]
    texts = texts[texts.index("what did it say?") :]  # after the CLI's system reminders
    assert "<bash-input>echo from-the-shell; exit 3</bash-input>" in texts[1]
    assert "from-the-shell" in texts[1] and "exit status 3" in texts[1]
    assert "stopped by the user" in texts[2]
    # Sent once: the next message has no shell context.
    term.enter("again")
    term.wait_for("Echo: again", timeout=30)
    assert [b.get("type") for b in last_user_content(api)][-1:] == ["text"]
    assert "bash-input" not in str(last_user_content(api)[-1])


def test_shift_tab_cycles_the_permission_mode(term: Terminal) -> None:
    def toolbar(screen: str) -> str:
        return screen.rstrip().splitlines()[-1]

    for mode in ("acceptEdits", "plan", "default"):
        term.type("\x1b[Z")
        term.wait_for(lambda s, mode=mode: f" · {mode} · " in toolbar(s), timeout=30)
    term.enter("/status")
    term.wait_for("default", timeout=10)


def test_ctrl_g_edits_the_message_in_the_editor(
    api: FakeAnthropicAPI, project: Path, isolated: Path, tmp_path: Path
) -> None:
    editor = tmp_path / "editor.sh"
    # Appends to what the prompt held, as a person would.
    editor.write_text('#!/bin/sh\nprintf "%s" " and more from the editor" >> "$1"\n')
    editor.chmod(0o755)
    term = start(project, VISUAL=str(editor))
    try:
        term.type("typed first")
        term.ctrl("g")
        term.wait_for(
            lambda s: prompt_line(term) == f"{PROMPT} typed first and more from the editor",
            timeout=10,
        )
        term.enter()
        term.wait_for("Echo: typed first and more", timeout=30)
        assert api.message_requests()[-1].last_user_text == "typed first and more from the editor"
        term.enter("/edit")
        term.wait_for(lambda s: prompt_line(term).endswith("and more from the editor"), timeout=10)
        term.ctrl("c")
        term.ctrl("d")
        assert term.wait_exit() == 0
    finally:
        term.close()
    assert processes_with_env(str(isolated)) == []


def test_a_long_answer_ending_unwatched_rings(
    api: FakeAnthropicAPI, project: Path, isolated: Path
) -> None:
    term = start(project, "--notify-after", "0")
    try:
        assert b"\x1b[?1004h" in term.raw
        term.enter("watched")
        term.wait_for(lambda s: s.count("first token") == 1, timeout=30)
        assert b"\a" not in term.raw
        term.type("\x1b[O")  # the terminal lost focus
        term.enter("unwatched")
        term.wait_for(lambda s: s.count("first token") == 2, timeout=30)
        term.pump(0.2)
        assert term.raw.count(b"\a") == 1
        term.type("\x1b[I")  # back: nothing typed, no more bells
        term.enter("watched again")
        term.wait_for(lambda s: s.count("first token") == 3, timeout=30)
        assert term.raw.count(b"\a") == 1
        assert "[I" not in term.history() and "[O" not in term.history()
        term.ctrl("d")
        assert term.wait_exit() == 0
    finally:
        term.close()
    assert processes_with_env(str(isolated)) == []


def test_a_code_block_copied_from_the_screen_is_the_code(term: Terminal) -> None:
    term.enter("MARKDOWN")
    term.wait_for(lambda s: "first token" in s, timeout=30)
    code = MARKDOWN_ANSWER.split("```python\n")[1].split("```")[0].rstrip("\n").splitlines()
    rows = term.history().splitlines()
    start_row = rows.index(code[0])  # from the first column
    assert rows[start_row : start_row + len(code)] == code
    # Nor padded to the width: the screen trims its empty cells, but not spaces that were
    # written, so the check is on what was written.
    written = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", term.raw.decode()).replace("\r", "")
    for line in code:
        rows_with_it = [row for row in written.split("\n") if line.strip() in row]
        assert rows_with_it and all(row.endswith(line) for row in rows_with_it)


def streaming(screen: str) -> bool:
    return "Ctrl+C to interrupt" in screen


def test_typing_while_claude_answers_shows_and_queues_in_order(
    term: Terminal, api: FakeAnthropicAPI
) -> None:
    term.enter("SLOW 30")
    term.wait_for("slow1", timeout=30)
    term.type("first queued")
    # Visible while the answer still streams.
    screen = term.wait_for(lambda s: prompt_line(term) == f"{PROMPT} first queued", timeout=10)
    assert streaming(screen) and "slow29" not in screen
    term.enter()
    term.enter("second\x1b\rof two lines")
    screen = term.wait_for("queued: second", timeout=10)
    assert screen.index("queued: first queued") < screen.index("queued: second")
    assert "of two lines" not in screen  # a queued message shows its first line
    assert streaming(term.display()) and len(api.message_requests()) == 1
    screen = term.wait_for(lambda s: s.count("first token") == 3, timeout=60)
    sent = [r.last_user_text for r in api.message_requests()]
    assert sent == ["SLOW 30", "first queued", "second\nof two lines"]
    # Each went into the scrollback as the prompt showed it, once, after the answer before.
    assert screen.index("slow29") < screen.index(f"{PROMPT} first queued")
    assert screen.index("Echo: first queued") < screen.index(f"{PROMPT} second")
    assert "queued:" not in term.display()


def test_up_takes_the_last_queued_back_and_ctrl_c_clears_first(
    term: Terminal, api: FakeAnthropicAPI
) -> None:
    term.enter("SLOW 30")
    term.wait_for("slow1", timeout=30)
    term.enter("keep me")
    term.enter("take me back")
    term.wait_for("queued: take me back", timeout=10)
    term.type("\x1b[A")  # Up on the empty prompt
    term.wait_for(lambda s: prompt_line(term) == f"{PROMPT} take me back", timeout=10)
    assert "queued: take me back" not in term.display()
    assert "queued: keep me" in term.display()
    # Ctrl+C with text in the prompt clears it; the answer goes on.
    term.ctrl("c")
    term.wait_for(lambda s: prompt_line(term) == PROMPT, timeout=10)
    assert streaming(term.display())
    # On the empty prompt it interrupts; what was queued is sent after.
    term.ctrl("c")
    screen = term.wait_for("Echo: keep me", timeout=60)
    assert "interrupted" in screen and "slow29" not in screen
    sent = [r.last_user_text for r in api.message_requests()]
    assert sent[-1] == "keep me" and "take me back" not in sent


def test_some_commands_run_at_once_while_claude_answers_others_wait(
    term: Terminal, api: FakeAnthropicAPI
) -> None:
    term.enter("SLOW 30")
    term.wait_for("slow1", timeout=30)
    term.enter("/thinking collapsed")
    term.wait_for("queued: /thinking collapsed", timeout=10)
    term.enter("/status")
    screen = term.wait_for("pid ", timeout=30)
    assert streaming(term.display()) and "slow29" not in screen
    screen = term.wait_for("thinking: collapsed", timeout=60)
    assert screen.index("slow29") < screen.index("thinking: collapsed")
