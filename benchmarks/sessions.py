"""Listing stored sessions: ``claude-chat sessions`` against the SDK's ``list_sessions()``.

Writes N synthetic Claude Code sessions (default 2,000) into a temporary HOME, once per run, as
``~/.claude/projects/<cwd-key>/<uuid>.jsonl`` (``synthetic_sessions.write_many``: shaped like
the files the real CLI writes, metadata re-appended every 32 KB as it does; 1 to 60 prompts a
session, median size around 230 KB, about 3 % of 2 to 5 MB, seeded, in 20 project
directories, one of them the benchmark's own working directory (about 15 % of the sessions),
modification times spread over six months; now and then a rename, a slash command or an
interruption).

Then it times, each figure the median of R runs (subprocesses, stdout to a pipe):

- ``python -c pass``: the interpreter's start, the floor of any command;
- ``claude-chat sessions --all``: cold (claude-chat's cache file deleted) and warm (cache
  present); ``sessions`` (this directory only) cold and warm; ``sessions --all --json`` warm;
- the same listing inside one process (``claude_chat.store.sessions.list_sessions``), import
  and call apart;
- the SDK: ``python -c "import claude_agent_sdk as s; s.list_sessions()"``, and the same with
  the import and the ``list_sessions()`` call timed apart inside the process; the same for
  ``list_sessions(directory=...)``;
- on Linux, cold runs of both after the files are dropped from the OS page cache
  (``posix_fadvise(DONTNEED)``, no root needed); otherwise "cold" means claude-chat's cache is
  gone, while the files themselves are still in the page cache since they were just written.

It also checks what ``claude-chat sessions --all --json`` (and the SDK) list against what was
written: the number of sessions, titles (custom title, else AI title, else the first prompt;
for the SDK the last prompt), prompt counts, directories and times, and prints the mismatches.
Bytes read by each listing are taken from ``/proc/self/io`` (Linux).

With the defaults the files take some 700 MB in the temporary directory and the whole run
about two minutes.

Run: python benchmarks/sessions.py [--sessions N] [--runs R] [--seed S]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.synthetic_sessions import KB, MB, Written, write_many  # noqa: E402

# -- measuring ---------------------------------------------------------------------------------


@dataclass
class Figure:
    label: str
    seconds: list[float] = field(default_factory=list)
    versus: str | None = None  # the label of the SDK figure it compares with

    @property
    def median(self) -> float:
        return statistics.median(self.seconds) if self.seconds else math.nan


class Bench:
    def __init__(self, home: Path, here: Path, runs: int) -> None:
        self.home = home
        self.here = here
        self.runs = runs
        self.cache = home / "data" / "sessions-cache.json"
        self.env = {
            k: v for k, v in os.environ.items() if not k.startswith(("ANTHROPIC_", "CLAUDE"))
        }
        self.env.update(HOME=str(home), CLAUDE_CHAT_DATA_DIR=str(home / "data"))
        self.figures: dict[str, Figure] = {}
        self.failures: list[str] = []
        self.disk_reads: dict[str, list[float]] = {}

    def run(self, argv: Sequence[str], cwd: Path | None = None) -> tuple[float, str, float]:
        """Wall time, stdout, and MB read from disk (not the page cache) by the child."""
        before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_inblock
        started = time.perf_counter()
        done = subprocess.run(
            list(argv),
            cwd=cwd or self.here,
            env=self.env,
            capture_output=True,
            text=True,
            check=False,
        )
        elapsed = time.perf_counter() - started
        blocks = resource.getrusage(resource.RUSAGE_CHILDREN).ru_inblock - before
        if done.returncode != 0:
            self.failures.append(f"{' '.join(argv[-4:])}: exit {done.returncode}: {done.stderr}")
        return elapsed, done.stdout, blocks * 512 / MB

    def figure(self, label: str, versus: str | None = None) -> Figure:
        return self.figures.setdefault(label, Figure(label, versus=versus))

    def time(
        self,
        label: str,
        argv: Sequence[str],
        before: Callable[[], None] | None = None,
        cwd: Path | None = None,
        versus: str | None = None,
        split: tuple[str, str] | None = None,
    ) -> None:
        """R runs of a command. With ``split``, the command prints two in-process times (import,
        call) that are recorded under those labels too."""
        figure = self.figure(label, versus)
        for _ in range(self.runs):
            if before is not None:
                before()
            elapsed, out, read_mb = self.run(argv, cwd)
            figure.seconds.append(elapsed)
            self.disk_reads.setdefault(label, []).append(read_mb)
            if split is not None:
                try:
                    imported, called = (float(x) for x in out.split()[:2])
                except ValueError:
                    self.failures.append(f"{label}: unexpected output {out[:200]!r}")
                    continue
                self.figure(split[0]).seconds.append(imported)
                self.figure(split[1], versus).seconds.append(called)

    def drop_cache_file(self) -> None:
        self.cache.unlink(missing_ok=True)


def evict(paths: Sequence[Path]) -> None:
    """Drop the files' pages from the OS page cache (they were synced first)."""
    for path in paths:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(fd)


def bytes_read(bench: Bench, code: str, cwd: Path | None = None) -> float:
    """MB the process read (``rchar``: from files, page cache included, imports too)."""
    wrapped = (
        "import atexit, sys\n"
        "atexit.register(lambda: sys.stderr.write(open('/proc/self/io').read()))\n" + code
    )
    done = subprocess.run(
        [sys.executable, "-c", wrapped],
        cwd=cwd or bench.here,
        env=bench.env,
        capture_output=True,
        text=True,
        check=False,
    )
    match = re.search(r"^rchar: (\d+)$", done.stderr, re.M)
    return int(match.group(1)) / MB if match else math.nan


CC_MAIN = (
    "import runpy, sys\n"
    "sys.argv = ['claude-chat', 'sessions', {args}]\n"
    "runpy.run_module('claude_chat', run_name='__main__')\n"
)
CC_SPLIT = (
    "import time\n"
    "t0 = time.perf_counter()\n"
    "from claude_chat.store import sessions\n"
    "from claude_chat.engine.config import data_dir\n"
    "t1 = time.perf_counter()\n"
    "found = sessions.list_sessions(None, data_dir() / 'sessions-cache.json')\n"
    "t2 = time.perf_counter()\n"
    "print(t1 - t0, t2 - t1, len(found))\n"
)
SDK_PLAIN = "import claude_agent_sdk as s; s.list_sessions()"
SDK_SPLIT = (
    "import time\n"
    "t0 = time.perf_counter()\n"
    "import claude_agent_sdk as s\n"
    "t1 = time.perf_counter()\n"
    "found = s.list_sessions({args})\n"
    "t2 = time.perf_counter()\n"
    "print(t1 - t0, t2 - t1, len(found))\n"
)
SDK_DUMP = (
    "import json, claude_agent_sdk as s\n"
    "print(json.dumps([[i.session_id, i.summary, i.cwd] for i in s.list_sessions()]))\n"
)


# -- checking ----------------------------------------------------------------------------------


def check(listed_json: str, sdk_json: str, written: Sequence[Written]) -> list[str]:
    """What the listings show against what was written; a line per kind of mismatch."""
    notes: list[str] = []
    by_id = {w.session_id: w for w in written}
    try:
        rows = json.loads(listed_json)
    except ValueError:
        return [f"claude-chat --json printed no JSON: {listed_json[:200]!r}"]
    ids = [r["id"] for r in rows]
    missing = set(by_id) - set(ids)
    notes.append(
        f"claude-chat --all --json: {len(rows)} sessions listed of {len(written)} written"
        + (f"; missing {len(missing)}" if missing else "")
        + (f"; {len(ids) - len(set(ids))} listed twice" if len(ids) != len(set(ids)) else "")
    )
    times = [r["last_active"] for r in rows]
    if times != sorted(times, reverse=True):
        notes.append("  not sorted newest first")
    title_misses: dict[str, list[str]] = {}
    turn_misses: dict[str, int] = {}
    bad_cwd = bad_time = 0
    for row in rows:
        w = by_id.get(row["id"])
        if w is None:
            continue
        expected = w.custom_title or w.ai_title or w.prompts[0]
        if row["title"] != " ".join(expected.split()):
            if w.custom_title:
                kind = "custom title"
            elif w.ai_title and row["title"] == w.prompts[0]:
                kind = "AI title missed, first prompt shown"
            else:
                kind = "other"
            sample = f"{w.session_id[:8]} ({w.size // KB} KB): {row['title']!r} != {expected!r}"
            title_misses.setdefault(kind, []).append(sample)
        extra = row["turns"] - len(w.prompts)
        if extra:
            if w.interruptions and extra == w.interruptions:
                why = 'more by exactly its "[Request interrupted by user]" records'
            elif w.commands and extra == w.commands:
                why = "more by exactly its slash-command records"
            elif w.commands and extra == w.commands + w.interruptions:
                why = "more by exactly its slash-command and interruption records"
            else:
                why = "some other difference"
            turn_misses[why] = turn_misses.get(why, 0) + 1
        if row["cwd"] != w.cwd:
            bad_cwd += 1
        if row["last_active"] != time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(w.mtime)):
            bad_time += 1
    for kind, samples in title_misses.items():
        notes.append(f"  title wrong in {len(samples)} sessions ({kind}), e.g. {samples[0]}")
    if not title_misses:
        notes.append("  titles: all as expected (custom title, else AI title, else first prompt)")
    for why, count in turn_misses.items():
        notes.append(f"  turns differ from the prompts typed in {count} sessions: {why}")
    if not turn_misses:
        notes.append("  turns: all equal to the prompts typed")
    if bad_cwd or bad_time:
        notes.append(f"  directory wrong in {bad_cwd}, last active wrong in {bad_time}")
    try:
        sdk_rows = json.loads(sdk_json)
    except ValueError:
        return [*notes, f"SDK listing printed no JSON: {sdk_json[:200]!r}"]
    sdk_wrong = [
        (sid, summary)
        for sid, summary, _ in sdk_rows
        if sid in by_id
        and summary
        != " ".join(
            (by_id[sid].custom_title or by_id[sid].ai_title or by_id[sid].prompts[-1]).split()
        )
    ]
    notes.append(
        f"SDK list_sessions(): {len(sdk_rows)} sessions; summary (custom title, else AI title, "
        f"else last prompt) wrong in {len(sdk_wrong)}"
    )
    return notes


# -- report ------------------------------------------------------------------------------------


def table(figures: Sequence[Figure], sdk: dict[str, Figure]) -> list[str]:
    lines = [f"{'figure':<66} {'median s':>9} {'min':>7} {'max':>7} {'vs SDK':>7}"]
    for f in figures:
        if not f.seconds:
            continue
        ref = sdk.get(f.versus or "")
        ratio = f"{f.median / ref.median:6.2f}x" if ref and ref.median else ""
        lines.append(
            f"{f.label:<66} {f.median:9.3f} {min(f.seconds):7.3f} {max(f.seconds):7.3f} {ratio:>7}"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--sessions", type=int, default=2000, help="session files to write")
    parser.add_argument("--runs", type=int, default=5, help="runs per figure (median shown)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    py = sys.executable
    began = time.perf_counter()
    can_evict = hasattr(os, "posix_fadvise") and sys.platform.startswith("linux")

    with tempfile.TemporaryDirectory(prefix="claude-chat-bench-") as tmp:
        home = Path(tmp).resolve()
        here = home / "work" / "claude-chat-bench"
        here.mkdir(parents=True)
        started = time.perf_counter()
        written = write_many(home, str(here), args.sessions, args.seed)
        generated = time.perf_counter() - started
        paths = [w.path for w in written]
        sizes = sorted(w.size for w in written)
        on_disk = sum(os.stat(p).st_blocks * 512 for p in paths)
        directories = {w.cwd for w in written}
        in_here = sum(w.cwd == str(here) for w in written)
        turns = sorted(len(w.prompts) for w in written)

        bench = Bench(home, here, args.runs)
        all_cold = "claude-chat sessions --all, cold (cache file deleted)"
        all_warm = "claude-chat sessions --all, warm (cache present)"
        here_cold = "claude-chat sessions (this directory), cold"
        here_warm = "claude-chat sessions (this directory), warm"
        json_warm = "claude-chat sessions --all --json, warm"
        cc_import = "  in process: import claude_chat.store.sessions"
        cc_cold_call = "  in process: list_sessions() call, all, cold"
        cc_warm_call = "  in process: list_sessions() call, all, warm"
        sdk_all = 'SDK: python -c "import claude_agent_sdk as s; s.list_sessions()"'
        sdk_import = "  SDK in process: import claude_agent_sdk"
        sdk_call = "  SDK in process: list_sessions() call, all"
        sdk_here = "SDK: list_sessions(directory=this directory), whole process"
        sdk_here_call = "  SDK in process: list_sessions(directory=...) call"
        floor = "python -c pass (interpreter start: the floor)"
        all_evicted = "claude-chat sessions --all, cold, files evicted from page cache"
        sdk_evicted = "SDK: list_sessions(), files evicted from page cache"
        cli = [py, "-m", "claude_chat", "sessions"]
        sdk_split = SDK_SPLIT.format(args="")
        warm_up = bench.run  # one untimed run leaves the cache (and the files) warm

        bench.time(floor, [py, "-c", "pass"])
        bench.time(all_cold, [*cli, "--all"], before=bench.drop_cache_file, versus=sdk_all)
        warm_up([*cli, "--all"])
        bench.time(all_warm, [*cli, "--all"], versus=sdk_all)
        bench.time(json_warm, [*cli, "--all", "--json"], versus=sdk_all)
        bench.time(here_cold, cli, before=bench.drop_cache_file, versus=sdk_here)
        warm_up(cli)
        bench.time(here_warm, cli, versus=sdk_here)
        bench.time(
            "claude_chat in process (cold): whole process",
            [py, "-c", CC_SPLIT],
            before=bench.drop_cache_file,
            versus=sdk_all,
            split=(cc_import, cc_cold_call),
        )
        bench.time(
            "claude_chat in process (warm): whole process",
            [py, "-c", CC_SPLIT],
            versus=sdk_all,
            split=(cc_import, cc_warm_call),
        )
        bench.time(sdk_all, [py, "-c", SDK_PLAIN], versus=sdk_all)
        bench.time(
            "SDK, timed inside: whole process",
            [py, "-c", sdk_split],
            versus=sdk_all,
            split=(sdk_import, sdk_call),
        )
        bench.figures[sdk_call].versus = sdk_call
        bench.figures[cc_cold_call].versus = sdk_call
        bench.figures[cc_warm_call].versus = sdk_call
        bench.time(
            sdk_here,
            [py, "-c", SDK_SPLIT.format(args=f"directory={str(here)!r}")],
            versus=sdk_here,
            split=(sdk_import, sdk_here_call),
        )
        bench.figures[sdk_here_call].versus = sdk_here_call
        if can_evict:
            os.sync()

            def cold_and_evicted() -> None:
                bench.drop_cache_file()
                evict(paths)

            bench.time(all_evicted, [*cli, "--all"], before=cold_and_evicted, versus=sdk_evicted)
            bench.time(sdk_evicted, [py, "-c", SDK_PLAIN], before=lambda: evict(paths))
            bench.figures[all_evicted].versus = sdk_evicted
            bench.figures[sdk_evicted].versus = sdk_evicted

        # What is shown, checked against what was written; then bytes read per listing.
        bench.drop_cache_file()
        _, listed_cold, _ = bench.run([*cli, "--all", "--json"])
        _, listed_warm, _ = bench.run([*cli, "--all", "--json"])
        _, sdk_dump, _ = bench.run([py, "-c", SDK_DUMP])
        _, sample, _ = bench.run(cli)
        notes = check(listed_cold, sdk_dump, written)
        if listed_warm != listed_cold:
            notes.append("  warm --json output differs from the cold one")
        reads: list[tuple[str, float]] = []
        if Path("/proc/self/io").exists():
            bench.drop_cache_file()
            listing = CC_MAIN.format(args="'--all'")
            reads.append(("claude-chat --all, cold", bytes_read(bench, listing)))
            reads.append(("claude-chat --all, warm", bytes_read(bench, listing)))
            reads.append(("SDK list_sessions()", bytes_read(bench, SDK_PLAIN)))
            reads.append(("python -c pass", bytes_read(bench, "pass")))

    total = time.perf_counter() - began
    order = [
        floor,
        all_cold,
        all_warm,
        json_warm,
        here_cold,
        here_warm,
        "claude_chat in process (cold): whole process",
        cc_import,
        cc_cold_call,
        "claude_chat in process (warm): whole process",
        cc_warm_call,
        sdk_all,
        "SDK, timed inside: whole process",
        sdk_import,
        sdk_call,
        sdk_here,
        sdk_here_call,
        all_evicted,
        sdk_evicted,
    ]
    figures = [bench.figures[label] for label in order if label in bench.figures]

    def pct(values: Sequence[int], q: float) -> int:
        return values[min(len(values) - 1, int(q * len(values)))]

    print(
        f"sessions: {len(written)} in {len(directories)} project directories "
        f"({in_here} in this directory); {sum(sizes) / MB:.1f} MB ({on_disk / MB:.1f} MB on disk)"
    )
    print(
        f"file size: median {statistics.median(sizes) / KB:.0f} KB, p90 {pct(sizes, 0.9) / KB:.0f}"
        f" KB, max {sizes[-1] / MB:.1f} MB; {sum(s >= 2 * MB for s in sizes)} files of 2 MB or"
        f" more; prompts per session: median {statistics.median(turns):.0f}, max {turns[-1]}"
    )
    print(f"generated in {generated:.1f} s (seed {args.seed})")
    print(f"runs per figure: {args.runs}; 'vs SDK': median / the matching SDK figure's median")
    if can_evict:
        print(
            "cold = claude-chat's cache file deleted; the session files are still in the OS page "
            "cache (just written) except in the 'evicted' rows (posix_fadvise DONTNEED)"
        )
    else:
        print("cold = claude-chat's cache file deleted; the files are still in the OS page cache")
    print()
    print("\n".join(table(figures, bench.figures)))
    target = bench.figures[all_cold].median
    print()
    print(
        f"target 'sessions --all' under 1 s: cold {target:.3f} s, warm "
        f"{bench.figures[all_warm].median:.3f} s -> {'met' if target < 1 else 'NOT met'} (cold)"
    )
    for label in (all_evicted, sdk_evicted):
        if label in bench.disk_reads:
            mb = statistics.median(bench.disk_reads[label])
            print(f"read from disk per run ({label}): median {mb:.1f} MB")
    if reads:
        print(
            "bytes read per process (rchar, imports included): "
            + "; ".join(f"{name} {mb:.1f} MB" for name, mb in reads)
        )
    print()
    print("\n".join(notes))
    print()
    print("`claude-chat sessions` in this directory, first lines:")
    print("\n".join("  " + line for line in sample.splitlines()[:6]))
    if bench.failures:
        print()
        print(f"{len(bench.failures)} failed runs, e.g.:")
        print("\n".join(bench.failures[:3]))
    print(f"\nbenchmark ran {total:.0f} s")


if __name__ == "__main__":
    main()
