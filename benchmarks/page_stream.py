"""The chat page streaming a long answer: time spent drawing per frame, incremental or not.

In headless Chromium (Debian's, driven by Playwright), on a page that loads the page's own
``markdown-view.js`` and vendored markdown-it and highlight.js (served from the package's
static dir by the browser's request interception: no server, no network), a synthetic answer
of B markdown blocks (paragraphs, lists, fenced python and js, a table; default 400 blocks,
about 100 KB) is fed in 6-character deltas, and a frame is drawn every F deltas (default 40,
about what arrives in one frame of a fast stream). Each frame's draw is timed in the page:

- ``MarkdownView``, as the page does it: final blocks rendered once, the open block redrawn;
- the whole answer re-rendered (and highlighted) into the element each frame, as a naive page
  would.

Times are the script's: parsing, rendering and putting the HTML into the element (the
browser's layout and paint come after, and grow the same way with what is replaced).
Then the worst case for the open block: one fenced block of L lines (default 3,000), which
stays open, and so is redrawn, until it ends.

It prints, for each, the total draw time, the median and p95 frame, and the mean frame over the
last tenth of the answer (where a naive page is slowest), and the ratios, measured in the same
run; and checks that both end with the same text.

Run: python benchmarks/page_stream.py [--blocks B] [--code-lines L] [--per-frame F]
[--chromium PATH]
"""

from __future__ import annotations

import argparse
import random
import statistics
from pathlib import Path

from playwright.sync_api import Browser, Route, sync_playwright

STATIC = Path(__file__).resolve().parent.parent / "claude_chat" / "server" / "static"
ORIGIN = "http://bench.invalid"
PAGE = (
    "<!doctype html><html><head><meta charset='utf-8'>"
    "<script src='/static/vendor/markdown-it.min.js'></script></head>"
    "<body><div id='incremental'></div><div id='whole'></div></body></html>"
)
MEDIA = {".js": "text/javascript", ".css": "text/css", ".html": "text/html"}

WORDS = [
    "the",
    "a",
    "stream",
    "of",
    "tokens",
    "renders",
    "markdown",
    "blocks",
    "once",
    "and",
    "only",
    "the",
    "open",
    "one",
    "again",
]

RUN = """
async ([deltas, perFrame]) => {
  const { MarkdownView, markdownRenderer } = await import("/static/markdown-view.js");
  const timed = (draw) => {
    const times = [];
    for (let i = 0; i < deltas.length; i += perFrame) {
      const t0 = performance.now();
      draw(deltas.slice(i, i + perFrame));
      times.push(performance.now() - t0);
    }
    return times;
  };
  const view = new MarkdownView(document.getElementById("incremental"));
  const incremental = timed((chunk) => {
    for (const delta of chunk) view.feed(delta);
    view.draw();
  });
  const t0 = performance.now();
  view.finish();
  const finish = performance.now() - t0;
  const md = markdownRenderer(true);
  const whole = document.getElementById("whole");
  let source = "";
  const naive = timed((chunk) => {
    source += chunk.join("");
    whole.innerHTML = md.render(source);
  });
  const same = document.getElementById("incremental").textContent.replace(/\\s+/g, " ").trim()
    === whole.textContent.replace(/\\s+/g, " ").trim();
  return { incremental, naive, finish, same };
}
"""


def answer(blocks: int, seed: int) -> str:
    rng = random.Random(seed)

    def sentence() -> str:
        return " ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 20))).capitalize() + "."

    parts = []
    for i in range(blocks):
        kind = i % 5
        if kind == 0:
            parts.append(f"## Section {i}\n\n" + " ".join(sentence() for _ in range(4)))
        elif kind == 1:
            parts.append("\n".join(f"- {sentence()} `code {j}`" for j in range(5)))
        elif kind == 2:
            body = "\n".join(f"    value_{j} = compute({j}, name='x{j}')" for j in range(8))
            parts.append(f"```python\ndef f_{i}():\n{body}\n    return value_0\n```")
        elif kind == 3:
            rows = "\n".join(f"| {j} | {rng.choice(WORDS)} | {j * i} |" for j in range(4))
            parts.append(f"| n | word | product |\n| --- | --- | --- |\n{rows}")
        else:
            parts.append(" ".join(sentence() for _ in range(5)) + " **bold** and *these*.")
    return "\n\n".join(parts) + "\n"


def serve_static(route: Route) -> None:
    path = route.request.url.removeprefix(ORIGIN)
    if path in ("/", "/bench"):
        route.fulfill(body=PAGE, content_type="text/html")
        return
    file = (STATIC / path.removeprefix("/static/")).resolve()
    if not path.startswith("/static/") or not file.is_relative_to(STATIC) or not file.is_file():
        route.fulfill(status=404, body="")
        return
    route.fulfill(body=file.read_bytes(), content_type=MEDIA.get(file.suffix, "text/plain"))


def summary(name: str, times: list[float]) -> str:
    tail = times[-max(1, len(times) // 10) :]
    p95 = statistics.quantiles(times, n=20)[-1] if len(times) >= 20 else max(times)
    return (
        f"{name:<28} total {sum(times):8.1f} ms   median {statistics.median(times):6.2f} ms"
        f"   p95 {p95:6.2f} ms   last tenth mean {statistics.fmean(tail):6.2f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--blocks", type=int, default=400)
    parser.add_argument("--code-lines", type=int, default=3000)
    parser.add_argument("--per-frame", type=int, default=40)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    args = parser.parse_args()

    code = "\n".join(f"    value_{j} = compute({j}, name='x{j}')" for j in range(args.code_lines))
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=args.chromium, args=["--no-sandbox"])
        for name, text in (
            (f"{args.blocks} blocks", answer(args.blocks, args.seed)),
            (f"one {args.code_lines}-line code block", f"Intro.\n\n```python\n{code}\n```\n"),
        ):
            measure(browser, name, text, args.per_frame)
        browser.close()


def measure(browser: Browser, name: str, text: str, per_frame: int) -> None:
    deltas = [text[i : i + 6] for i in range(0, len(text), 6)]
    print(
        f"\n{name}: {len(text) / 1000:.0f} KB, {len(deltas)} deltas, "
        f"{-(-len(deltas) // per_frame)} frames of {per_frame} deltas"
    )
    page = browser.new_page()
    page.route(f"{ORIGIN}/**", serve_static)
    page.goto(f"{ORIGIN}/bench")
    out = page.evaluate(RUN, [deltas, per_frame])
    page.close()
    print(summary("incremental (MarkdownView)", out["incremental"]))
    print(summary("whole answer each frame", out["naive"]))
    print(f"incremental finish (the last block, highlighted): {out['finish']:.2f} ms")
    ratio_total = sum(out["naive"]) / sum(out["incremental"])
    tail = max(1, len(out["naive"]) // 10)
    ratio_tail = statistics.fmean(out["naive"][-tail:]) / statistics.fmean(
        out["incremental"][-tail:]
    )
    print(f"whole / incremental: total x{ratio_total:.1f}, last tenth x{ratio_tail:.1f}")
    print(f"same text at the end: {out['same']}")


if __name__ == "__main__":
    main()
