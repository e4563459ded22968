"""Live pane throughput: Kimi stream-json through a real pipe into a mounted EventLog.

    python bench/bench_live_pane.py [--lines 20000] [--memory-lines 200000] [--runs 3]

Baseline: `json.loads` of the same lines, in-process (the raw parse rate).
Real path: `cat FILE` as a child process -> `AgentProcess` (chunked reader, transcript on
disk) -> `KimiParser.feed` -> `EventBatcher` -> `EventLog.add_events`, inside a running
headless Textual app (which redraws as batches land), timed from spawning `cat` until every
event is in the widget; then it checks that the last line is drawn.
Each real-path run is a fresh child process, so its peak RSS (ru_maxrss) is its own; the
20k-line and 200k-line runs show that memory does not grow with the length of the stream.

Targets (DESIGN.md): >= 20,000 events/s and >= 1/5 of the raw parse rate. Prints the
numbers; exits 0 unless the real path loses events. Not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # run from a source checkout without installing

# -- a realistic stream ---------------------------------------------------------------------

WORDS = (
    "the file test module function return value import config path error check "
    "update change branch worktree spec task run parse line event widget render "
    "should need first then because so now next also fix add remove"
).split()
FILES = ["src/app.py", "src/models/user.py", "tests/test_app.py", "README.md",
         "hybrid_tui/core/spec/format.py", "docs/usage.md", "pyproject.toml", "src/cli/main.py"]
COMMANDS = ["pytest -q tests/test_app.py", "ls -la", "git status --short", "python -m compileall src",
            "grep -rn TODO src", "cat pyproject.toml", "ruff check src"]


def _sentence(rng: random.Random, lo: int = 6, hi: int = 18) -> str:
    words = rng.choices(WORDS, k=rng.randint(lo, hi))
    return " ".join(words).capitalize() + "."


def _paragraph(rng: random.Random, sentences: int) -> str:
    return " ".join(_sentence(rng) for _ in range(sentences))


def _code(rng: random.Random, lines: int) -> str:
    out = []
    for n in range(lines):
        indent = "    " * rng.randint(0, 2)
        out.append(f"{indent}{rng.choice(WORDS)}_{n} = {rng.choice(WORDS)}({rng.randint(0, 99)})")
    return "\n".join(out) + "\n"


def _call(rng: random.Random, call_id: str) -> tuple[dict, str]:
    """A tool call in Kimi's shape, and the matching result line's content."""
    kind = rng.random()
    if kind < 0.35:
        name, args = "Shell", {"command": rng.choice(COMMANDS)}
        output = "\n".join(_sentence(rng, 3, 9) for _ in range(rng.randint(1, 12)))
        if rng.random() < 0.1:
            content = [{"type": "text", "text": "<system>ERROR: Command failed with exit code: 1.</system>"},
                       {"type": "text", "text": output}]
        else:
            content = [{"type": "text", "text": "<system>Command executed successfully.</system>"},
                       {"type": "text", "text": output}]
    elif kind < 0.6:
        path = rng.choice(FILES)
        name, args = "ReadFile", {"path": path}
        content = [{"type": "text", "text": f"<system>{rng.randint(5, 40)} lines read from file.</system>"},
                   {"type": "text", "text": _code(rng, rng.randint(5, 30))}]
    elif kind < 0.8:
        path = rng.choice(FILES)
        body = _code(rng, rng.randint(3, 25))
        name, args = "WriteFile", {"path": path, "content": body}
        content = f"<system>File successfully overwritten. Current size: {len(body)} bytes.</system>"
    elif kind < 0.92:
        path = rng.choice(FILES)
        name, args = "StrReplaceFile", {"path": path, "edit": {"old": _code(rng, 2), "new": _code(rng, 3)}}
        content = "<system>File successfully edited. Applied 1 edit(s) with 1 total replacement(s).</system>"
    else:
        name, args = "Grep", {"pattern": rng.choice(WORDS), "path": "src"}
        content = [{"type": "text", "text": "<system>Search completed.</system>"},
                   {"type": "text", "text": "\n".join(rng.choices(FILES, k=rng.randint(1, 6)))}]
    call = {"type": "function", "id": call_id,
            "function": {"name": name, "arguments": json.dumps(args)}}
    return call, content


def make_stream(path: Path, n_lines: int, seed: int = 7) -> None:
    """`n_lines` of legacy Kimi stream-json: assistant steps (think, text, tool calls), tool
    results, the odd notification and non-JSON error line, as in tests/fixtures/agent-streams."""
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8") as file:
        written = 0
        while written < n_lines:
            batch = _steps(rng, 1000)[: n_lines - written]
            file.write("\n".join(batch) + "\n")
            written += len(batch)


def _steps(rng: random.Random, n_lines: int) -> list[str]:
    """At least `n_lines` lines of whole steps."""
    out: list[str] = []
    dump = json.dumps
    while len(out) < n_lines:
        r = rng.random()
        if r < 0.01:
            out.append(dump({"id": f"n{rng.getrandbits(32):08x}", "category": "system", "type": "retry",
                             "title": "Retrying", "body": "429 Too Many Requests", "severity": "warning"}))
            continue
        if r < 0.015:
            out.append("Connection error.")  # plain text, as kimi prints its errors
            continue
        parts: list[dict] = []
        if rng.random() < 0.7:
            parts.append({"type": "think", "think": "\n".join(_paragraph(rng, 2) for _ in range(rng.randint(1, 4))),
                          "encrypted": None})
        if rng.random() < 0.6:
            parts.append({"type": "text", "text": _paragraph(rng, rng.randint(1, 3))})
        calls, results = [], []
        for _ in range(rng.choice((0, 1, 1, 1, 2))):
            call_id = f"call_{rng.getrandbits(48):012x}"
            call, content = _call(rng, call_id)
            calls.append(call)
            results.append({"role": "tool", "content": content, "tool_call_id": call_id})
        line: dict = {"role": "assistant", "content": parts if parts or calls else _paragraph(rng, 1)}
        if calls:
            line["tool_calls"] = calls
        out.append(dump(line, separators=(",", ":")))
        out.extend(dump(result, separators=(",", ":")) for result in results)
    return out


# -- baseline ----------------------------------------------------------------------------------


def json_rate(lines: list[str], repeats: int = 5) -> float:
    """Best-of-`repeats` json.loads rate, lines/s (non-JSON lines count as parsed)."""
    loads = json.loads
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        for line in lines:
            try:
                loads(line)
            except ValueError:
                pass
        best = min(best, time.perf_counter() - start)
    return len(lines) / best


def count_events(lines: list[str]) -> int:
    from hybrid_tui.agents.kimi import KimiAgent
    from hybrid_tui.config import KimiSettings

    parser = KimiAgent(KimiSettings()).parser()
    return sum(len(parser.feed(line)) for line in lines)


# -- the real path (runs in a child process) --------------------------------------------------


def _maxrss_kib() -> int:
    """Peak resident memory of this process, KiB. VmHWM (Linux) belongs to this process image;
    ru_maxrss would carry the parent's peak over the fork."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


async def real_path(stream: Path, work: Path) -> dict:
    from textual.app import App, ComposeResult

    from hybrid_tui.agents.base import Invocation
    from hybrid_tui.agents.kimi import KimiAgent
    from hybrid_tui.agents.process import AgentProcess
    from hybrid_tui.config import KimiSettings
    from hybrid_tui.ui.theme import THEME_VARIABLE_DEFAULTS
    from hybrid_tui.ui.widgets.event_log import EventBatcher, EventLog

    class PaneApp(App[None]):
        def get_theme_variable_defaults(self) -> dict[str, str]:
            return dict(THEME_VARIABLE_DEFAULTS)

        def compose(self) -> ComposeResult:
            yield EventLog()

    app = PaneApp()
    async with app.run_test(size=(100, 40)) as pilot:
        log = app.query_one(EventLog)
        received = 0
        batches = 0

        def sink(events: list) -> None:
            nonlocal received, batches
            received += len(events)
            batches += 1
            log.add_events(events)

        batcher = EventBatcher(sink)
        parser = KimiAgent(KimiSettings()).parser()
        feed, add = parser.feed, batcher.add

        def on_line(line: str, truncated: bool) -> None:
            if events := feed(line):
                add(events)

        process = AgentProcess(
            Invocation(argv=["cat", str(stream)], cwd=work),
            timeout=600,
            transcript=work / "transcript.jsonl",
            stderr_log=work / "stderr.log",
        )
        await pilot.pause()
        rss_before = _maxrss_kib()
        start = time.perf_counter()
        outcome = await process.run(on_line)
        batcher.flush()  # every event is in the widget now
        seconds = time.perf_counter() - start
        await pilot.pause()  # (untimed: pause() itself sleeps) the final state is drawn
        drawn = log.render_line(log.scrollable_content_region.height - 1).text.rstrip()
        return {
            "events": received,
            "batches": batches,
            "seconds": seconds,
            "returncode": outcome.returncode,
            "line_count": log.line_count,
            "last_row_drawn": drawn == log.text_lines()[-1][: len(drawn)] and bool(drawn),
            "rss_before_kib": rss_before,
            "rss_peak_kib": _maxrss_kib(),
            "transcript_bytes": (work / "transcript.jsonl").stat().st_size,
        }


def child(stream: Path) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-live-pane-") as work:
        result = asyncio.run(real_path(stream, Path(work)))
    print(json.dumps(result))


def run_child(stream: Path) -> dict:
    done = subprocess.run(
        [sys.executable, __file__, "--child", str(stream)],
        capture_output=True, text=True, check=True, timeout=900,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


# -- main ----------------------------------------------------------------------------------------


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--lines", type=int, default=20_000)
    ap.add_argument("--memory-lines", type=int, default=200_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.child)
        return 0

    with tempfile.TemporaryDirectory(prefix="bench-live-pane-") as tmp:
        small, large = Path(tmp) / "small.jsonl", Path(tmp) / "large.jsonl"
        make_stream(small, args.lines)
        make_stream(large, args.memory_lines, seed=8)
        lines = small.read_text(encoding="utf-8").splitlines()
        expected = count_events(lines)
        raw = json_rate(lines)
        size = small.stat().st_size
        print(f"stream: {len(lines):,} lines, {size / 1e6:.1f} MB, {expected:,} events "
              f"(avg {size / len(lines):.0f} B/line)")
        print(f"baseline json.loads: {raw:,.0f} lines/s")

        runs = [run_child(small) for _ in range(args.runs)]
        lost = [r for r in runs if r["events"] != expected or r["returncode"] != 0
                or not r["last_row_drawn"]]
        best = min(runs, key=lambda r: r["seconds"])
        events_rate = best["events"] / best["seconds"]
        lines_rate = len(lines) / best["seconds"]
        print(f"real path (best of {len(runs)}): {best['seconds'] * 1000:.0f} ms, "
              f"{events_rate:,.0f} events/s, {lines_rate:,.0f} lines/s, {best['batches']} batches; "
              f"median {statistics.median(r['seconds'] for r in runs) * 1000:.0f} ms")
        print(f"ratio events/s : json lines/s = {events_rate / raw:.2f}; "
              f"lines/s : json lines/s = {lines_rate / raw:.2f} (target >= 0.20)")
        print(f"target >= 20,000 events/s: {'met' if events_rate >= 20_000 else 'MISSED'}; "
              f"ratio >= 0.2: {'met' if lines_rate / raw >= 0.2 else 'MISSED'}")

        big = run_child(large)
        for label, r in (("20k", runs[0]), ("200k", big)):
            delta = (r["rss_peak_kib"] - r["rss_before_kib"]) / 1024
            print(f"memory {label:>4} lines: {r['events']:>9,} events, pane {r['line_count']:,} rows, "
                  f"peak RSS {r['rss_peak_kib'] / 1024:.1f} MiB (+{delta:.1f} MiB while streaming), "
                  f"transcript {r['transcript_bytes'] / 1e6:.1f} MB, "
                  f"{r['events'] / r['seconds']:,.0f} events/s")
        if lost:
            print(f"ERROR: {len(lost)} run(s) lost events or failed: {lost}")
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
