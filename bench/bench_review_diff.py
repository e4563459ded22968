"""Review of a big diff: the file list shown, vs `git diff --numstat` on the same branches.

    python bench/bench_review_diff.py [--files 400] [--lines 500] [--runs 15]

Setup: a temp git repository whose `main` holds FILES Python files of LINES lines each, and a
run branch on which every line of every file changed (FILES x LINES changed lines: 200,000 by
default, a 400,000-line patch), plus a run record (`RunStore` in a temp state dir) naming
the branch, its base and a spec that names half of the files (so the scope check has work).
Baseline: `git diff --numstat main <branch>` as a child process (spawn to exit), run just
before each review sample (the two interleave, so that both see the same machine load).
Real path: the real app (`make_app`), headless at 80x24, already showing its Plans screen;
timed from `push_screen(ReviewScreen(run))` until the first frame drawn (the app's
`_display`, which headless Textual still calls) in which the screen's file list holds every
file. That covers compose and mount, the thread worker reading the names (`git diff --raw`,
no content diff), the scope check and `FileList.set_files`. The +/- counts (`--numstat`,
read next) fill in later: the script times that frame too. The core modules (GitPython) are imported once before timing,
as they are in a real session by the time a run is reviewed. Each sample is a new
ReviewScreen; the previous one is popped. It also times how long the first file's diff took
to show (the counts, then the whole patch read once, then the file laid out); neither that
nor the counts is part of the target.

Target (DESIGN.md): median(real) <= 2 x median(baseline). Prints both and the ratio; exits 0.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # run from a source checkout without installing

BRANCH = "kimi/bench-review"
TIMEOUT = 30.0


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


def write_files(repo: Path, files: int, lines: int, word: str) -> None:
    for number in range(files):
        path = repo / "src" / f"pkg_{number // 50:02d}" / f"module_{number:03d}.py"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(f"value_{i} = compute({i}, '{word}')  # line {i}\n" for i in range(lines)))


def setup(base: Path, files: int, lines: int) -> tuple[Path, str, str]:
    """The repository, the base sha and the branch tip."""
    repo = base / "project"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    write_files(repo, files, lines, "base")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "base")
    base_sha = git(repo, "rev-parse", "HEAD")
    git(repo, "switch", "-q", "-c", BRANCH)
    write_files(repo, files, lines, "tip")
    git(repo, "commit", "-q", "-am", "the agent's work")
    tip = git(repo, "rev-parse", "HEAD")
    git(repo, "switch", "-q", "main")
    return repo, base_sha, tip


def make_run(state: Path, repo: Path, base_sha: str, files: int):
    from hybrid_tui.core.runs import Run, RunStore, Status

    store = RunStore(state)
    run_id = "bench-review"
    spec = store.spec_path(run_id)
    spec.parent.mkdir(parents=True, exist_ok=True)
    named = "".join(
        f"- MODIFY src/pkg_{n // 50:02d}/module_{n:03d}.py\n" for n in range(0, files, 2)
    )
    spec.write_text(
        "# Spec: 001 -- Bench\n\n## Tasks\n\n### Task 1: Change every value\n\nFiles:\n"
        + named + "\nRequirements:\n- Change them.\n"
    )
    run = Run(
        id=run_id, title="Bench", repo_root=str(repo), spec_path=str(spec), branch=BRANCH,
        base_branch="main", base_sha=base_sha, worktree=str(state / "worktrees" / run_id),
        status=Status.REVIEW, created_at=store.now(),
    )
    return store, store.save(run)


def baseline(repo: Path, base_sha: str, tip: str, runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(["git", "diff", "--numstat", base_sha, tip], cwd=repo, check=True, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return times


async def measure(repo: Path, store, run, base_sha: str, tip: str, files: int, runs: int
                  ) -> tuple[list[float], list[float], list[float], list[float]]:
    """Interleaved samples (one baseline, then one review), so that both see the same load."""
    from hybrid_tui.config import Settings
    from hybrid_tui.ui.app import make_app
    from hybrid_tui.ui.plans.screen import PlansScreen
    from hybrid_tui.ui.review.diff_view import DiffView
    from hybrid_tui.ui.review.file_list import FileList
    from hybrid_tui.ui.review.screen import ReviewScreen

    plans = repo.parent / "plans"
    plans.mkdir(exist_ok=True)
    app = make_app(Settings(), repo=repo, plans_dir=plans, store=store, watch_plans=False)
    waiting: dict[str, object] = {"screen": None, "listed": None, "counted": None, "diff": None}
    display = app._display

    def timed_display(screen, renderable) -> None:
        display(screen, renderable)
        target = waiting["screen"]
        if target is None or screen is not target or renderable is None:
            return
        now = time.perf_counter()
        file_list = target.query_one(FileList)
        if waiting["listed"] is None and len(file_list.rows) >= files:
            waiting["listed"] = now
        if waiting["counted"] is None and len(file_list.rows) >= files and file_list.counted:
            waiting["counted"] = now
        if waiting["diff"] is None and target.query_one(DiffView).model is not None:
            waiting["diff"] = now

    app._display = timed_display
    git_times: list[float] = []
    listed: list[float] = []
    counted: list[float] = []
    first_diff: list[float] = []
    async with app.run_test(size=(80, 24)) as pilot:
        deadline = time.perf_counter() + TIMEOUT
        while not isinstance(app.screen, PlansScreen):
            if time.perf_counter() > deadline:
                raise SystemExit("the app did not start")
            await pilot.pause(0.01)
        await app.workers.wait_for_complete()
        for _ in range(runs + 1):  # the first one warms up (Pygments' lexer lookup, say)
            git_times.extend(baseline(repo, base_sha, tip, 1))
            screen = ReviewScreen(run)
            waiting.update(screen=screen, listed=None, counted=None, diff=None)
            start = time.perf_counter()
            await app.push_screen(screen)
            while waiting["diff"] is None:
                if time.perf_counter() - start > TIMEOUT:
                    raise SystemExit("the review did not show the first diff")
                await asyncio.sleep(0.002)
            listed.append(waiting["listed"] - start)  # type: ignore[operator]
            counted.append(waiting["counted"] - start)  # type: ignore[operator]
            first_diff.append(waiting["diff"] - start)  # type: ignore[operator]
            await app.workers.wait_for_complete()
            waiting["screen"] = None
            await app.pop_screen()
            await pilot.pause()
            gc.collect()  # the last screen's diff is garbage now: not this sample's cost
    return git_times[1:], listed[1:], counted[1:], first_diff[1:]


def report(label: str, values: list[float]) -> None:
    print(f"  {label:<34} median {statistics.median(values) * 1000:7.1f} ms   "
          f"min {min(values) * 1000:7.1f} ms   max {max(values) * 1000:7.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=400)
    parser.add_argument("--lines", type=int, default=500)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="hybrid-tui-bench-review-") as tmp:
        base = Path(tmp)
        home = base / "home"
        home.mkdir()
        os.environ.update(
            HOME=str(home), HYBRID_TUI_STATE_DIR=str(base / "state"), CLAUDE_CONFIG_DIR=str(home / ".claude"),
            HYBRID_TUI_CONFIG=str(home / "config.toml"), GIT_CONFIG_NOSYSTEM="1",
            GIT_CONFIG_GLOBAL=str(home / ".gitconfig"),
        )
        (home / ".gitconfig").write_text("[user]\n\tname = Bench\n\temail = bench@example.invalid\n")
        print(f"Setting up {args.files} files x {args.lines} changed lines …")
        repo, base_sha, tip = setup(base, args.files, args.lines)
        store, run = make_run(base / "state", repo, base_sha, args.files)
        patch_lines = int(git(repo, "diff", "--shortstat", base_sha, tip).split(",")[1].split()[0]) * 2
        print(f"  {args.files * args.lines:,} changed lines, a patch of about {patch_lines:,} +/- lines")
        git_times, listed, counted, first_diff = asyncio.run(
            measure(repo, store, run, base_sha, tip, args.files, args.runs))
    print("Results")
    report("git diff --numstat (baseline)", git_times)
    report("review: file list shown", listed)
    report("review: +/- counts filled in", counted)
    report("review: first file's diff shown", first_diff)
    ratio = statistics.median(listed) / statistics.median(git_times)
    print(f"  ratio file list / git numstat: {ratio:.2f}x (target <= 2x): {'ok' if ratio <= 2 else 'OVER'}")


if __name__ == "__main__":
    main()
