"""Streaming markdown rendering: our live view against a naive ``rich.live.Live``. Prints figures.

A seeded synthetic answer (headings, paragraphs with inline markup, nested lists, 40-line code
fences, tables, block quotes, rules) of 1k to 20k lines is cut into random 1-8 character tokens
and streamed to a terminal console on a StringIO (100x40, truecolor). For each size:

- ours: ``LiveTurnView`` fed one ``TextDelta`` per token, a frame drawn every N tokens (the
  caller draws frames: fps=0), then closed. Total CPU (``time.process_time``), CPU and bytes
  written per token, and the largest live region in rows.
- ours, prompt up: the same with the prompt below the answer, as while Claude answers in the
  chat: a prompt-toolkit prompt (input on a pipe, output on the same StringIO) running, and
  every frame written above it by ``AbovePrompt`` (the prompt taken off and drawn again).
  Nobody types meanwhile; a key press costs one full render of the prompt (about 1 ms).
- baseline: ``Live(Markdown(text), auto_refresh=False)`` with ``update(Markdown(text_so_far),
  refresh=True)`` per token. Each frame costs O(answer so far), so the whole stream is not
  run: a few consecutive token frames are timed at several points of the answer and the total
  is the trapezoid integral of the per-frame cost over the answer (marked "extrapolated").
  A short prefix is also run in full, next to its own extrapolation, to check the method.

Bytes of ours vary a little from run to run: the status line shows the elapsed time, so how
often it is redrawn depends on speed. With the default sizes the run takes 7-8 minutes on
one core, mostly our renderer streaming the 20k-line answer for real.

Run: python benchmarks/render.py [--sizes 1000,2000] [--frame-every N] [--seed S]
"""

from __future__ import annotations

import argparse
import asyncio
import io
import random
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.live import Live
from rich.markdown import Markdown
from rich.text import Text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from claude_chat.engine.events import TextDelta  # noqa: E402
from claude_chat.engine.stats import SessionStats  # noqa: E402
from claude_chat.terminal.above_prompt import AbovePrompt, PromptOutput  # noqa: E402
from claude_chat.terminal.live_view import LiveTurnView  # noqa: E402

WIDTH, HEIGHT = 100, 40
# Where the baseline's per-frame cost is sampled, as fractions of the answer.
SAMPLE_POINTS = (0.0, 0.1, 0.5, 0.9, 1.0)
FRAMES_PER_POINT = 4

VOCABULARY = (
    "the a stream token render frame block terminal buffer parser cursor region line width "
    "markdown answer python console output latency cache event loop batch table column row "
    "value update scroll prompt session model input result error retry handler async queue"
)
WORDS = VOCABULARY.split()
CODE = (
    "def {w}_{v}(items: list[str]) -> int:",
    "    total = 0",
    "    for {w} in items:",
    "        if {w}.startswith('{v}'):",
    "            total += len({w})",
    "        else:",
    "            continue",
    "    return total",
    "",
    "class {W}{V}:",
    '    """A {w} that keeps the {v}."""',
    "    def __init__(self, {w}: int = 0) -> None:",
    "        self.{w} = {w}  # the {v}",
    "{w} = {W}{V}({n})",
    "print(f'{{{w}=}}', {w}_{v}(['{w}', '{v}']))",
)


# -- corpus ------------------------------------------------------------------------------


def words(rng: random.Random, low: int, high: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(low, high)))


def inline(rng: random.Random) -> str:
    """A sentence with some **bold**, `inline code` and [links](https://x.y)."""
    parts = []
    for _ in range(rng.randint(4, 14)):
        word = rng.choice(WORDS)
        roll = rng.random()
        if roll < 0.08:
            word = f"**{word} {rng.choice(WORDS)}**"
        elif roll < 0.16:
            word = f"`{word}()`"
        elif roll < 0.21:
            word = f"[{word}](https://x.y/{rng.choice(WORDS)})"
        parts.append(word)
    return " ".join(parts).capitalize() + "."


def paragraph(rng: random.Random) -> list[str]:
    return [
        " ".join(inline(rng) for _ in range(rng.randint(1, 3))) for _ in range(rng.randint(1, 4))
    ]


def a_list(rng: random.Random, ordered: bool) -> list[str]:
    lines = []
    for number in range(1, rng.randint(3, 8) + 1):
        marker = f"{number}. " if ordered else "- "
        lines.append(marker + inline(rng))
        if rng.random() < 0.3:
            indent = " " * len(marker)
            nested_ordered = rng.random() < 0.4
            for sub in range(1, rng.randint(2, 4) + 1):
                lines.append(indent + (f"{sub}. " if nested_ordered else "- ") + inline(rng))
    return lines


def code_fence(rng: random.Random) -> list[str]:
    body = []
    for _ in range(40):
        w, v = rng.choice(WORDS), rng.choice(WORDS)
        line = rng.choice(CODE)
        body.append(line.format(w=w, v=v, W=w.title(), V=v.title(), n=rng.randint(0, 999)))
    return ["```python", *body, "```"]


def table(rng: random.Random) -> list[str]:
    columns = rng.randint(2, 5)
    lines = ["| " + " | ".join(rng.choice(WORDS).title() for _ in range(columns)) + " |"]
    lines.append("|" + "---|" * columns)
    for _ in range(rng.randint(5, 15)):
        cells = [
            rng.choice((words(rng, 1, 3), f"`{rng.choice(WORDS)}`", str(rng.randint(0, 9999))))
            for _ in range(columns)
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def block(rng: random.Random) -> list[str]:
    kind = rng.choices(
        ("heading", "paragraph", "bullets", "numbered", "code", "table", "quote", "rule"),
        weights=(10, 35, 12, 8, 6, 6, 6, 3),
    )[0]
    if kind == "heading":
        return ["#" * rng.randint(1, 3) + " " + words(rng, 2, 6).capitalize()]
    if kind == "paragraph":
        return paragraph(rng)
    if kind in ("bullets", "numbered"):
        return a_list(rng, ordered=kind == "numbered")
    if kind == "code":
        return code_fence(rng)
    if kind == "table":
        return table(rng)
    if kind == "quote":
        return ["> " + line for line in paragraph(rng)]
    return ["---"]


def corpus(lines: int, seed: int) -> str:
    """About ``lines`` source lines of markdown (whole blocks, separated by blank lines)."""
    rng = random.Random(seed)
    out: list[str] = []
    while len(out) < lines:
        out.extend(block(rng))
        out.append("")
    return "\n".join(out)


def tokenize(text: str, seed: int) -> list[str]:
    rng = random.Random(seed)
    tokens, start = [], 0
    while start < len(text):
        size = rng.randint(1, 8)
        tokens.append(text[start : start + size])
        start += size
    return tokens


def terminal() -> Console:
    return Console(
        file=io.StringIO(),
        force_terminal=True,
        width=WIDTH,
        height=HEIGHT,
        color_system="truecolor",
    )


# -- measurements ------------------------------------------------------------------------


@dataclass
class Figures:
    cpu_s: float
    tokens: int
    bytes: float
    rows: int
    extrapolated: bool = False

    @property
    def us_per_token(self) -> float:
        return self.cpu_s / self.tokens * 1e6

    @property
    def bytes_per_token(self) -> float:
        return self.bytes / self.tokens


def ours(tokens: list[str], frame_every: int) -> Figures:
    async def run() -> Figures:
        console = terminal()
        view = LiveTurnView(console, SessionStats(), "full", fps=0)
        started = time.process_time()
        view.start()
        for index, token in enumerate(tokens, 1):
            view.on_event(TextDelta(token))
            if index % frame_every == 0:
                view.frame()
        view.close()
        cpu = time.process_time() - started
        return Figures(cpu, len(tokens), view.region.bytes_written, view.largest_region)

    return asyncio.run(run())


def ours_with_prompt(tokens: list[str], frame_every: int) -> Figures:
    from prompt_toolkit import PromptSession
    from prompt_toolkit.application import create_app_session
    from prompt_toolkit.data_structures import Size
    from prompt_toolkit.input import create_pipe_input

    async def run() -> Figures:
        console = terminal()
        stream = console.file
        assert isinstance(stream, io.StringIO)
        output = PromptOutput(
            stream, lambda: Size(rows=HEIGHT, columns=WIDTH), term="xterm-256color"
        )
        above = AbovePrompt(stream, output)
        console.file = above  # type: ignore[assignment]
        with create_pipe_input() as keys, create_app_session(input=keys, output=output):
            session: PromptSession[str] = PromptSession(
                bottom_toolbar=" claude-opus-5-5 · 1f0c9a2e · default · answering… "
            )
            started_up = asyncio.Event()
            loop = asyncio.get_running_loop()
            prompt = asyncio.ensure_future(
                session.prompt_async("❯ ", pre_run=lambda: loop.call_soon(started_up.set))
            )
            await started_up.wait()
            above.app = session.app
            view = LiveTurnView(
                console, SessionStats(), "full", fps=0, reserved_rows=above.prompt_height
            )
            written = stream.tell()
            started = time.process_time()
            view.start()
            for index, token in enumerate(tokens, 1):
                view.on_event(TextDelta(token))
                if index % frame_every == 0:
                    view.frame()
            view.close()
            cpu = time.process_time() - started
            written = stream.tell() - written
            above.app = None
            keys.send_text("\r")
            await prompt
        return Figures(cpu, len(tokens), written, view.largest_region)

    return asyncio.run(run())


def prefixes(tokens: list[str], first: int, end: int) -> list[str]:
    """The text so far after each of ``tokens[first:end]`` (one string per token)."""
    text = "".join(tokens[:first])
    out = []
    for token in tokens[first:end]:
        text += token
        out.append(text)
    return out


def region_height(live: Live) -> int:
    return live._live_render.last_render_height  # rich keeps no public figure for it


def baseline_full(tokens: list[str]) -> Figures:
    """The naive way, every token: what the sampled figures stand in for on long answers."""
    console = terminal()
    text, rows = "", 0
    started = time.process_time()
    with Live(Markdown(""), console=console, auto_refresh=False) as live:
        for token in tokens:
            text += token
            live.update(Markdown(text), refresh=True)
            rows = max(rows, region_height(live))
    cpu = time.process_time() - started
    return Figures(cpu, len(tokens), console.file.tell(), rows)


def baseline_frames(tokens: list[str], end: int) -> tuple[float, float, int]:
    """CPU seconds and bytes per frame, and region height, of the frames of the tokens just
    before ``end`` (the region first drawn, untimed, at the token before them)."""
    first = max(end - FRAMES_PER_POINT, 1)
    start, *texts = prefixes(tokens, first - 1, end)
    console = terminal()
    live = Live(Markdown(start), console=console, auto_refresh=False)
    live.start(refresh=True)
    written = console.file.tell()
    started = time.process_time()
    for text in texts:
        live.update(Markdown(text), refresh=True)
    cpu = time.process_time() - started
    written = console.file.tell() - written
    rows = region_height(live)
    live.update(Text(""))  # else stop() draws the whole answer once more
    live.stop()
    frames = end - first
    return cpu / frames, written / frames, rows


def baseline_sampled(tokens: list[str]) -> Figures:
    """Per-frame cost at ``SAMPLE_POINTS`` of the answer, integrated over all tokens."""
    samples = [
        baseline_frames(tokens, max(round(point * len(tokens)), FRAMES_PER_POINT + 1))
        for point in SAMPLE_POINTS
    ]
    cpu = trapezoid([s[0] for s in samples]) * len(tokens)
    written = trapezoid([s[1] for s in samples]) * len(tokens)
    return Figures(cpu, len(tokens), written, max(s[2] for s in samples), extrapolated=True)


def trapezoid(values: list[float]) -> float:
    """The mean of a per-frame figure over the answer, from its values at ``SAMPLE_POINTS``."""
    points = SAMPLE_POINTS
    area = sum(
        (points[i + 1] - points[i]) * (values[i] + values[i + 1]) / 2
        for i in range(len(points) - 1)
    )
    return area / (points[-1] - points[0])


# -- report ------------------------------------------------------------------------------


def row(label: str, figures: Figures) -> str:
    mark = "*" if figures.extrapolated else " "
    return (
        f"{label:<28}{figures.tokens:>8}{figures.cpu_s:>11.2f}{mark}{figures.us_per_token:>11.1f}"
        f"{mark}{figures.bytes_per_token:>10.1f}{mark}{figures.rows:>6}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes",
        default="1000,2000,5000,10000,20000",
        help="answer sizes in source lines, comma-separated",
    )
    parser.add_argument(
        "--frame-every",
        type=int,
        default=8,
        help="tokens per frame for ours (8: 20 frames/s at 160 tokens/s)",
    )
    parser.add_argument(
        "--full-tokens",
        type=int,
        default=250,
        help="tokens of the 1st size the baseline runs in full, as a check",
    )
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    wall = time.monotonic()

    print(
        f"Streaming markdown to a {WIDTH}x{HEIGHT} truecolor console on a StringIO; "
        "tokens of 1-8 characters."
    )
    print(
        f"ours:     LiveTurnView, a frame every {args.frame_every} tokens "
        f"(at 160 tokens/s: {160 / args.frame_every:.0f} frames/s)"
    )
    print("baseline: rich Live(Markdown(text_so_far)), refreshed after every token")
    print(
        f"  * extrapolated: {FRAMES_PER_POINT} frames timed at each of "
        f"{', '.join(f'{p:.0%}' for p in SAMPLE_POINTS)} of the answer,\n"
        "    per-frame cost trapezoid-integrated over all tokens"
    )
    print("CPU: time.process_time; bytes: written to the console; rows: largest live region\n")
    header = f"{'':<28}{'tokens':>8}{'CPU s':>12}{'µs/token':>12}{'B/token':>11}{'rows':>6}"

    texts = {size: corpus(size, args.seed) for size in sizes}
    results = []
    for size in sizes:
        tokens = tokenize(texts[size], args.seed)
        print(f"{size} lines, {len(texts[size])} characters")
        print(header)
        mine = ours(tokens, args.frame_every)
        print(row(f"  ours, frame/{args.frame_every} tok", mine))
        below = ours_with_prompt(tokens, args.frame_every)
        print(row(f"  ours, frame/{args.frame_every}, prompt up", below))
        if size == sizes[0]:
            worst = ours(tokens, 1)
            print(row("  ours, frame/token (worst)", worst))
        naive = baseline_sampled(tokens)
        print(row("  baseline", naive))
        if size == sizes[0] and args.full_tokens:
            head = tokens[: args.full_tokens]
            print(row(f"  baseline, {len(head)} tok, full", baseline_full(head)))
            print(row(f"  baseline, {len(head)} tok, sampl.", baseline_sampled(head)))
        ratio = naive.us_per_token / mine.us_per_token
        print(f"  baseline / ours, CPU per token: {ratio:.0f}x\n", flush=True)
        results.append((size, mine, below, naive, ratio))

    print("summary (µs of CPU per token)")
    print(f"{'lines':>8}{'ours':>10}{'prompt up':>11}{'+':>7}{'baseline*':>12}{'ratio':>10}")
    for size, mine, below, naive, ratio in results:
        more = below.us_per_token / mine.us_per_token - 1
        print(
            f"{size:>8}{mine.us_per_token:>10.1f}{below.us_per_token:>11.1f}{more:>7.1%}"
            f"{naive.us_per_token:>12.0f}{ratio:>9.0f}x"
        )
    print(f"\nbenchmark wall time: {time.monotonic() - wall:.0f} s")


if __name__ == "__main__":
    main()
