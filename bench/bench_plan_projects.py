"""Plan attribution stays cheap as Claude's transcripts grow (issue 11): with 200 transcripts of
5 MB each, updating the index after one line is appended to one of them, against reading that
one transcript whole (the least a non-incremental reader would do for that change).

    python bench/bench_plan_projects.py [--transcripts 200] [--mb 5]

Builds the transcripts in a temp dir from the recorded plan-mode session (its lines repeated
to size), builds the index once (timed, for the record), then for each round appends one line
naming a new plan and times `PlanProjects.update()` against `Path.read_bytes()` of that file.
Prints the best-of-N times and the ratios; all are measured in the same run. What it must show:
an update costs about what reading the one grown file costs (a stat of every transcript is the
rest), and a tiny fraction of reading them all again (the first build, also printed).
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

from hybrid_tui.core.plan.projects import PlanProjects

RECORDED = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "claude-transcripts" / "plan_session.jsonl"
ROUNDS = 15


def make_transcripts(config: Path, count: int, size: int) -> list[Path]:
    lines = RECORDED.read_text(encoding="utf-8").splitlines(keepends=True)
    paths = []
    for number in range(count):
        cwd = f"/work/project-{number:03d}"
        body = "".join(lines).replace("/tmp/pt/project/sub", cwd).replace("make-hello-twinkly-goblet", f"plan-{number:03d}")
        folder = config / "projects" / cwd.replace("/", "-")
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"session-{number:03d}.jsonl"
        with open(path, "w", encoding="utf-8") as handle:
            written = 0
            while written < size:
                handle.write(body)
                written += len(body)
        paths.append(path)
    return paths


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--transcripts", type=int, default=200)
    parser.add_argument("--mb", type=float, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        config, state = Path(tmp) / "claude", Path(tmp) / "state"
        paths = make_transcripts(config, args.transcripts, int(args.mb * 1024 * 1024))
        total = sum(p.stat().st_size for p in paths)
        start = time.perf_counter()
        projects = PlanProjects.open(state, config)
        projects.update()
        built = time.perf_counter() - start
        target = paths[len(paths) // 2]
        update_best = read_best = float("inf")
        for round_ in range(ROUNDS):
            line = {"type": "user", "cwd": "/work/late", "sessionId": "s", "slug": f"late-{round_}", "message": {}}
            with open(target, "a", encoding="utf-8") as handle:
                handle.write(json.dumps(line) + "\n")
            os.sync()
            start = time.perf_counter()
            reopened = PlanProjects.open(state, config)  # as the next command or listing would
            reopened.update()
            update_best = min(update_best, time.perf_counter() - start)
            assert reopened.by_slug.get(f"late-{round_}") == "/work/late"
            start = time.perf_counter()
            target.read_bytes()
            read_best = min(read_best, time.perf_counter() - start)
        print(f"{len(paths)} transcripts, {total / 2**20:.0f} MiB in all; the index built once in {built:.2f} s")
        print(f"read one transcript whole (baseline): {read_best * 1000:8.2f} ms  ({target.stat().st_size / 2**20:.1f} MiB)")
        print(f"update after one appended line:       {update_best * 1000:8.2f} ms  (open the index, stat all, read the line)")
        print(f"ratio update / read one:              {update_best / read_best:8.2f}x")
        print(f"ratio update / read every transcript: {update_best / built:8.4f}x  (what a reader that is not "
              "incremental pays per change)")


if __name__ == "__main__":
    main()
