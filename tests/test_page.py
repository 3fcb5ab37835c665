"""The chat page at ``/`` and ``claude-chat.js``, in headless Chromium (Debian's, driven by
Playwright), against one real server for the module: uvicorn on 127.0.0.1, the real CLI, the
stand-in API, permission mode ``default`` so that tool calls are asked about."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.fake_api import FakeAnthropicAPI, Text
from tests.serving import Served, serve_for_module

pytestmark = pytest.mark.integration

CHROMIUM = os.environ.get("CLAUDE_CHAT_CHROMIUM", "/usr/bin/chromium")
KEY = "alice-server-key"
# Copies of the screenshots for people to look at, when that directory exists.
SCREENS_COPY = Path(os.environ.get("CLAUDE_CHAT_SCREENS", "/work/brief/screens"))

playwright_api = pytest.importorskip(
    "playwright.sync_api", reason="Playwright is not installed (pip install -e '.[test]')"
)
if not Path(CHROMIUM).is_file():
    pytest.skip(
        f"no Chromium at {CHROMIUM} (apt-get install chromium, or set CLAUDE_CHAT_CHROMIUM)",
        allow_module_level=True,
    )

Page = Any  # playwright.sync_api.Page, imported lazily above


@pytest.fixture(scope="module")
def shared_api() -> Iterator[FakeAnthropicAPI]:
    with FakeAnthropicAPI() as api:
        yield api


@pytest.fixture(scope="module")
def served(
    tmp_path_factory: pytest.TempPathFactory, shared_api: FakeAnthropicAPI
) -> Iterator[Served]:
    yield from serve_for_module(
        tmp_path_factory, shared_api, "--max-processes", "3", "--permission-mode", "default"
    )


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            yield browser
        finally:
            browser.close()


class Watched:
    """A page and what went wrong on it: console errors, uncaught exceptions, socket URLs."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.errors: list[str] = []
        self.exceptions: list[str] = []
        self.socket_urls: list[str] = []
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: self.exceptions.append(str(e)))
        page.on("websocket", lambda ws: self.socket_urls.append(ws.url))


@pytest.fixture(scope="module")
def chat_page(browser: Any, served: Served) -> Iterator[Watched]:
    """The page, logged in, shared by the tests in order (one log-in for the module)."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.set_default_timeout(60_000)
    watched = Watched(page)
    page.goto(served.url + "/")
    page.fill("#key", "not-the-key")
    page.click("#login button")
    page.get_by_text("Wrong server key.").wait_for()
    page.fill("#key", KEY)
    page.click("#login button")
    page.locator("#input").wait_for()
    watched.errors.clear()  # the browser's own line about the wrong key's 401
    yield watched
    context.close()


def send(page: Page, text: str) -> Any:
    """Type a message and press Enter; the new turn's element."""
    turns = page.locator("article.turn")
    before = turns.count()
    page.fill("#input", text)
    page.press("#input", "Enter")
    turn = turns.nth(before)
    turn.wait_for()
    return turn


def finished(turn: Any) -> str:
    """Wait for the turn's footer; its text."""
    footer = turn.locator(".meta")
    footer.wait_for()
    return str(footer.inner_text())


def test_the_page_is_served_with_a_strict_content_security_policy(served: Served) -> None:
    page = httpx.get(served.url + "/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "default-src 'none'" in csp
    assert "unsafe-inline" not in csp
    assert "<script>" not in page.text  # no inline script of our own either
    module = httpx.get(served.url + "/static/claude-chat.js")
    assert module.status_code == 200
    assert module.headers["content-type"].startswith("text/javascript")
    for name in ("../page_routes.py", "../../cli.py", "nothing.js"):
        missing = httpx.get(served.url + "/static/" + name)
        assert missing.status_code == 404
        assert missing.json()["error"]["type"] == "not_found_error"


def test_the_key_is_kept_in_session_storage_and_never_in_a_url(chat_page: Watched) -> None:
    page = chat_page.page
    assert page.evaluate("sessionStorage.getItem('claude-chat-key')") == KEY
    assert KEY not in page.url
    assert chat_page.socket_urls and all(KEY not in url for url in chat_page.socket_urls)


def test_the_answer_streams_in_before_it_ends(chat_page: Watched) -> None:
    page = chat_page.page
    # A word every 0.3 s: the last one comes some 5 s after the second.
    turn = send(page, "SLOW 20")
    turn.locator(".answer", has_text="slow1").wait_for()
    # Seen while the answer is still arriving: its footer is not there yet.
    assert turn.locator(".meta").count() == 0
    assert "slow19" not in turn.inner_text()
    footer = finished(turn)
    assert "first token" in footer
    assert "slow19" in turn.locator(".answer").inner_text()


def test_stop_and_esc_interrupt_the_answer_and_keep_what_arrived(chat_page: Watched) -> None:
    page = chat_page.page
    turn = send(page, "SLOW 40")
    turn.locator(".answer", has_text="slow1").wait_for()
    page.get_by_role("button", name="Stop").click()
    assert "interrupted" in finished(turn)
    assert "slow1" in turn.locator(".answer").inner_text()
    assert "slow39" not in turn.inner_text()

    turn = send(page, "SLOW 40")
    turn.locator(".answer", has_text="slow1").wait_for()
    page.keyboard.press("Escape")
    assert "interrupted" in finished(turn)

    turn = send(page, "after the stops")
    finished(turn)
    assert "Echo: after the stops" in turn.inner_text()


def test_a_permission_card_allows_a_bash_call(chat_page: Watched, served: Served) -> None:
    page = chat_page.page
    target = served.project / "allowed-by-the-card"
    turn = send(page, f"TOOL touch {target}")
    card = turn.locator(".permission")
    card.get_by_role("button", name="Allow once").wait_for()
    assert f"Bash(touch {target})" in card.inner_text()
    card.get_by_role("button", name="Allow once").click()
    turn.get_by_text("Tool said:").wait_for()
    finished(turn)
    assert target.exists()
    assert "Allowed once" in turn.inner_text()
    # The tool call is one line that unfolds to its input and result.
    tool = turn.locator("details.tool")
    assert tool.count() == 1
    assert tool.get_attribute("open") is None
    tool.locator("summary").click()
    assert str(target) in tool.locator(".tool-input").inner_text()


def test_a_denied_call_tells_claude_the_reason(chat_page: Watched, served: Served) -> None:
    page = chat_page.page
    target = served.project / "denied-by-the-card"
    turn = send(page, f"TOOL touch {target}")
    card = turn.locator(".permission")
    card.get_by_role("button", name="Deny").wait_for()
    card.locator(".reason").fill("not today")
    card.get_by_role("button", name="Deny").click()
    finished(turn)
    assert "Denied: not today" in turn.inner_text()
    assert "not today" in turn.locator(".answer").inner_text()  # what Claude was told
    assert not target.exists()


HOSTILE = (
    "Look: <script>window.pwned = 'script'</script>\n\n"
    "<img src=x onerror=\"window.pwned = 'img'\">\n\n"
    "[click me](javascript:window.pwned='link') and [a page](https://example.invalid/)\n\n"
    '<a href="javascript:window.pwned=1">raw link</a> <iframe src="javascript:1"></iframe>\n'
)


def test_a_hostile_answer_runs_nothing(chat_page: Watched, shared_api: FakeAnthropicAPI) -> None:
    page = chat_page.page
    shared_api.enqueue(Text(HOSTILE))
    turn = send(page, "say something nasty")
    finished(turn)
    answer = turn.locator(".answer")
    assert "<script>window.pwned" in answer.inner_text()  # shown as text
    assert answer.locator("script, img, iframe").count() == 0
    assert answer.locator("[onerror]").count() == 0
    assert answer.locator("a[href^='javascript']").count() == 0
    link = answer.locator("a", has_text="a page")
    assert link.get_attribute("rel") == "noopener noreferrer"
    answer.get_by_text("click me").click()
    # Even markup that got into the page could not run inline script: the policy forbids it.
    page.evaluate(
        "() => { const s = document.createElement('script');"
        " s.textContent = \"window.pwned = 'inline'\"; document.body.append(s); }"
    )
    assert page.evaluate("window.pwned") is None
    blocked = [e for e in chat_page.errors if "Content Security Policy" in e]
    assert blocked, chat_page.errors  # the injected inline script, and only that, was refused
    chat_page.errors.clear()


def test_markdown_code_and_thinking_render(chat_page: Watched) -> None:
    page = chat_page.page
    turn = send(page, "MARKDOWN")
    finished(turn)
    answer = turn.locator(".answer")
    assert answer.locator("h1, h2, h3").count() >= 1
    assert answer.locator("pre code .hljs-keyword").count() >= 1  # highlighted
    assert answer.locator("li").count() >= 2
    turn = send(page, "THINK")
    finished(turn)
    thinking = turn.locator("details.thinking")
    assert thinking.count() == 1 and thinking.get_attribute("open") is None  # folded
    assert "Thought done." in turn.locator(".md").inner_text()


WATCH_FINAL_BLOCKS = """
() => {
  window.finalBlocks = [];
  new MutationObserver((records) => {
    const ended = document.querySelector("article.turn:last-child .meta") !== null;
    for (const record of records) {
      if (!record.target.classList || !record.target.classList.contains("md")) continue;
      for (const node of record.addedNodes) {
        if (node.nodeType !== 1) continue;
        const text = node.textContent.replace(/\\s+/g, " ").trim();
        window.finalBlocks.push([text.slice(0, 12), ended]);
      }
    }
  }).observe(document.getElementById("log"), { childList: true, subtree: true });
}
"""


def test_blocks_that_can_no_longer_change_are_rendered_once(
    chat_page: Watched, shared_api: FakeAnthropicAPI
) -> None:
    page = chat_page.page
    paragraphs = [f"Paragraph {i}: " + "words and more words " * 4 for i in range(1, 7)]
    table = "| n | name |\n| --: | :-: |\n| 1 | one |\n| 22 | twenty-two |"
    answer = "\n\n".join([*paragraphs, table]) + "\n\n```python\nprint('done')\n```\n"
    chunks = [answer[i : i + 6] for i in range(0, len(answer), 6)]
    shared_api.enqueue(Text(answer, chunks=chunks, delay=0.01))
    page.evaluate(WATCH_FINAL_BLOCKS)
    turn = send(page, "a long answer")
    finished(turn)
    blocks = page.evaluate("window.finalBlocks")
    names = [name for name, _ in blocks]
    # Each paragraph and the code block entered the rendered answer once, never again.
    expected = [f"Paragraph {i}:" for i in range(1, 7)] + ["n name 1 one", "print('done'"]
    assert sorted(names) == sorted(expected)
    assert any(not ended for _, ended in blocks)  # some of them while the answer streamed
    assert turn.locator(".md > pre code .hljs-built_in").count() == 1  # highlighted once final
    assert turn.locator(".md .open").count() == 0
    # Column alignment without a style attribute, which the page's policy would refuse.
    assert turn.locator("td.align-right", has_text="22").count() == 1
    assert turn.locator("[style]").count() == 0


def test_resume_a_session_from_the_list_and_see_its_history(chat_page: Watched) -> None:
    page = chat_page.page
    page.get_by_role("button", name="New chat").click()
    assert page.locator("article.turn").count() == 0
    turn = send(page, "remember the word kumquat")
    finished(turn)
    page.get_by_role("button", name="New chat").click()
    turn = send(page, "a different conversation")
    finished(turn)

    entry = page.locator(".session", has_text="kumquat")
    entry.wait_for()
    assert entry.locator(".session-when").inner_text()  # its last activity
    entry.click()
    page.locator("article.turn", has_text="remember the word kumquat").wait_for()
    history = page.locator("article.turn")
    assert history.count() == 1
    assert "remember the word kumquat" in history.first.inner_text()
    assert "Echo: remember the word kumquat" in history.first.inner_text()
    turn = send(page, "RECALL")
    finished(turn)
    assert "kumquat" in turn.locator(".answer").inner_text()
    assert "different conversation" not in turn.locator(".answer").inner_text()


def test_the_page_shows_no_errors(chat_page: Watched) -> None:
    assert chat_page.errors == [] and chat_page.exceptions == []


def test_screenshots_light_and_dark_at_desktop_and_phone_width(
    chat_page: Watched, served: Served, tmp_path_factory: pytest.TempPathFactory
) -> None:
    page = chat_page.page
    page.emulate_media(reduced_motion="reduce")  # the sessions panel slides in at once
    finished(send(page, "MARKDOWN"))
    turn = send(page, f"TOOL touch {served.project / 'screenshot'}")
    turn.locator(".permission button.allow").wait_for()
    shots = tmp_path_factory.mktemp("screens")
    taken = []
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)
        for width, height, name in ((1280, 800, "desktop"), (390, 844, "phone")):
            page.set_viewport_size({"width": width, "height": height})
            # Nothing wider than the screen: the page never scrolls sideways.
            assert page.evaluate("document.documentElement.scrollWidth") <= width
            path = shots / f"page-{name}-{scheme}.png"
            page.screenshot(path=str(path))
            taken.append(path)
        page.click("#toggle-sessions")
        page.locator("body.sidebar-open").wait_for()
        path = shots / f"page-phone-sessions-{scheme}.png"
        page.screenshot(path=str(path))
        taken.append(path)
        page.click("#scrim", position={"x": 370, "y": 400})
    page.set_viewport_size({"width": 1280, "height": 800})
    login = page.context.browser.new_page(viewport={"width": 390, "height": 844})
    login.goto(served.url + "/")
    login.locator("#key").wait_for()
    for scheme in ("light", "dark"):
        login.emulate_media(color_scheme=scheme)
        path = shots / f"login-phone-{scheme}.png"
        login.screenshot(path=str(path))
        taken.append(path)
    login.close()
    turn.locator(".permission button.always").click()
    finished(turn)
    assert "Allowed always" in turn.inner_text()
    assert (served.project / "screenshot").exists()
    if SCREENS_COPY.is_dir():
        for path in taken:
            shutil.copy(path, SCREENS_COPY / path.name)
    assert all(path.stat().st_size > 0 for path in taken)


MODULE_CHAT = """
async ([key, target]) => {
  const { connect, ChatError } = await import("/static/claude-chat.js");
  const out = {};
  try {
    await connect(location.origin, "wrong-key");
  } catch (error) {
    out.wrongKey = error instanceof ChatError ? error.status : String(error);
  }
  const asked = [];
  const chat = await connect(location.origin, key, {
    onPermission: (request) => { asked.push(request.tool); return { allow: true }; },
  });
  const collect = async (text) => {
    const types = [], parts = [];
    for await (const event of chat.send(text)) {
      types.push(event.type);
      if (event.type === "content_block_delta" && event.delta.type === "text_delta") {
        parts.push(event.delta.text);
      }
      if (event.type === "content_block_delta" && parts.join("").includes("slow1")) {
        chat.interrupt();
      }
    }
    return { types, text: parts.join("") };
  };
  out.first = await collect("hello from a blank page");
  out.session = chat.sessionId;
  out.tool = await collect(`TOOL touch ${target}`);
  // The connection goes in the middle of a turn: one error, then the next send reconnects.
  try {
    for await (const event of chat.send("SLOW 40")) {
      if (event.type === "content_block_delta") chat._socket.close();
    }
  } catch (error) {
    out.lost = error instanceof ChatError ? error.status : String(error);
  }
  out.recall = await collect("RECALL");
  chat.setModel("haiku");
  out.second = await collect("and again");
  out.interrupted = await collect("SLOW 40");
  out.asked = asked;
  out.sameSession = chat.sessionId === out.session;
  chat.close();
  return out;
}
"""


def test_the_js_module_chats_on_a_blank_page(browser: Any, served: Served) -> None:
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(60_000)
    watched = Watched(page)
    # A page of the server's origin with nothing of the chat page on it. (A page made up by
    # the browser's request interception would not do: Chromium's local network access checks
    # keep it from opening a socket to 127.0.0.1.)
    page.goto(served.url + "/healthz")
    page.evaluate("document.documentElement.replaceChildren()")
    target = served.project / "allowed-by-the-module"
    out = page.evaluate(MODULE_CHAT, [KEY, str(target)])
    context.close()
    assert out["wrongKey"] == 401
    first = out["first"]
    assert first["types"][0] == "session" and first["types"][-1] == "result"
    assert "Echo: hello from a blank page | turn 1" in first["text"]
    assert "Echo: and again" in out["second"]["text"] and "haiku" in out["second"]["text"]
    assert "slow1" in out["interrupted"]["text"] and "slow39" not in out["interrupted"]["text"]
    assert "Tool said:" in out["tool"]["text"] and target.exists()
    assert out["lost"] == 0
    assert "hello from a blank page" in out["recall"]["text"]  # the same session, reconnected
    assert out["asked"] == ["Bash"]
    assert out["sameSession"] is True
    assert watched.exceptions == []
    # The wrong key's 401, and no other failed request (the emptied page has no icon: 404).
    assert [e for e in watched.errors if "401" not in e and "404" not in e] == []
