"""The runs view stays quick with many runs (issue 14): with 1,000 run records in the state dir,
opening the runs view (f2, until its rows are drawn) against reading those 1,000 `run.json`
files (`RunStore.list`, the least the view must do).

    python bench/bench_runs_view.py [--runs 1000]

Writes the records into a temp state dir (statuses, checks and titles of every kind), then
times, best of N in the same run: the store listing them (the baseline), and the real app,
headless, started and settled (its start-up recovery and the plans screen's run read done),
from `f2` to every row being in the runs view's table (it shows the runs the plans screen
read last at once, then reads them again in a worker). The target is within 2x of the
baseline.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import tempfile
import time
from pathlib import Path

ROUNDS = 5


def make_runs(state: Path, repo: Path, count: int) -> None:
    from hybrid_tui.core.runs import CheckResult, Run, RunStore, Status

    store = RunStore(state)
    statuses = [Status.REVIEW, Status.ACCEPTED, Status.REJECTED, Status.FAILED, Status.INTERRUPTED]
    checks = [CheckResult(command="pytest -q", exit_code=0, ok=True, seconds=1.0)]
    for n in range(count):
        run_id = f"26{(n // 100) % 100:02d}{n % 100:02d}-{n // 10000:02d}0000-{chr(97 + n % 26)}{chr(97 + n // 26 % 26)}"
        store.save(Run(id=run_id, title=f"Plan number {n} with a fairly long title", repo_root=str(repo),
                       spec_path=str(state / "runs" / run_id / "spec.md"), branch=f"kimi/{run_id}", base_branch="main",
                       base_sha="0" * 40, worktree=str(state / "worktrees" / run_id), status=statuses[n % len(statuses)],
                       created_at="2026-11-02T10:00:00+00:00", started_at="2026-11-02T10:00:00+00:00",
                       finished_at="2026-11-02T10:01:30+00:00", steps=6, requests=7, checks=checks))


def best_of(fn, rounds: int = ROUNDS) -> float:
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


async def open_view(repo: Path, count: int) -> float:
    from textual.widgets import DataTable

    from hybrid_tui.config import Settings
    from hybrid_tui.ui.app import make_app
    from hybrid_tui.ui.runs.screen import RunsScreen

    shown: list[float] = []
    show = RunsScreen._show

    def stamped(screen: RunsScreen, runs: list, root: Path) -> None:
        show(screen, runs, root)
        if screen.query_one(DataTable).row_count == count and not shown:
            shown.append(time.perf_counter())  # every row is in the table: drawn on the next refresh

    RunsScreen._show = stamped  # type: ignore[method-assign]
    app = make_app(Settings(), repo=repo, watch_plans=False)
    try:
        async with app.run_test(size=(100, 30)) as pilot:
            while not app.recovery_done:  # the start-up recovery reads every record too: not timed
                await pilot.pause(0.01)
            await app.workers.wait_for_complete()
            start = time.perf_counter()
            await pilot.press("f2")
            while not shown:
                await pilot.pause(0.001)
            await app.workers.wait_for_complete()  # the view's own re-read, before the next round
            return shown[0] - start
    finally:
        RunsScreen._show = show  # type: ignore[method-assign]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=1000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        repo = root / "project"
        repo.mkdir()
        subprocess.run(["git", "init", "-q", str(repo)], check=True)
        state = root / "state"
        os.environ["HYBRID_TUI_STATE_DIR"] = str(state)
        os.environ["CLAUDE_CONFIG_DIR"] = str(root / "claude")
        make_runs(state, repo, args.runs)

        from hybrid_tui.core.runs import RunStore

        baseline = best_of(lambda: RunStore(state).list(repo))
        view = min(asyncio.run(open_view(repo, args.runs)) for _ in range(ROUNDS))
        print(f"runs in the state dir:          {args.runs}")
        print(f"reading their run.json (base):  {baseline * 1000:8.1f} ms")
        print(f"runs view open, rows drawn:     {view * 1000:8.1f} ms")
        print(f"ratio view / reading:           {view / baseline:8.2f}x  (target <= 2x)")


if __name__ == "__main__":
    main()
