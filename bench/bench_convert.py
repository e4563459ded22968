"""Plan -> spec conversion speed (DESIGN.md: the largest corpus plan, 1,600 lines, converts in
<= 50 ms and in <= 5x the time markdown-it-py takes to parse the same file).

    python bench/bench_convert.py

Prints the best-of-N times and the ratio; also converts every corpus plan once and reports the
slowest. Baseline and subject are measured in the same run.
"""

from __future__ import annotations

import time
from pathlib import Path

from markdown_it import MarkdownIt

from hybrid_tui.core.spec.convert import convert_plan
from hybrid_tui.core.spec.format import render_spec, validate_spec

CORPUS = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "plans"
LARGEST = CORPUS / "15-irc-infra-modernization.md"
ROUNDS = 20


def best_of(fn, rounds: int = ROUNDS) -> float:
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    text = LARGEST.read_text(encoding="utf-8")
    parser = MarkdownIt("commonmark").enable("table")
    baseline = best_of(lambda: parser.parse(text))
    convert = best_of(lambda: convert_plan(text, source=LARGEST.name))
    spec_text = render_spec(convert_plan(text, source=LARGEST.name))
    validate = best_of(lambda: validate_spec(spec_text))
    print(f"largest plan: {LARGEST.name}, {text.count(chr(10))} lines")
    print(f"markdown-it parse (baseline): {baseline * 1000:7.2f} ms")
    print(f"convert_plan:                 {convert * 1000:7.2f} ms  (target <= 50 ms)")
    print(f"ratio convert / markdown-it:  {convert / baseline:7.2f}x  (target <= 5x)")
    print(f"validate_spec of its spec:    {validate * 1000:7.2f} ms")
    slowest = max(
        ((best_of(lambda p=p: convert_plan(p.read_text(encoding='utf-8'), source=p.name), 3), p.name)
         for p in sorted(CORPUS.glob("*.md"))),
    )
    print(f"slowest corpus plan:          {slowest[0] * 1000:7.2f} ms  ({slowest[1]})")


if __name__ == "__main__":
    main()
