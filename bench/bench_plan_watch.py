"""Plan file written -> shown in the plan list, vs a bare `watchfiles.awatch` loop.

    python bench/bench_plan_watch.py [--writes 30]

Baseline: a bare `awatch(plans_dir, debounce=D, step=S)` loop (the same debounce and step the
app uses: `settings.ui.watch_debounce_ms` and `core.plan.plans.watch_plans`' step), timed from just
before each new plan file is written until the loop yields a batch naming it.
Real path: the real app (`make_app`, watcher on) running headless at 80x24 on a temp git
repository; timed from just before the write until the first frame drawn (the app's
`_display`, which headless Textual still calls) in which the PlansScreen lists the new plan.
That covers `watch_plans`, the re-list in a thread worker, `PlanList.set_plans` and the redraw.

Each write is a new corpus plan written straight into the plans dir (as Claude's Write tool
does), newest first, so it appears at the top of the list. Between writes both loops get the
same short quiet period so that one write's trailing events do not spill into the next.
Temp HYBRID_TUI_STATE_DIR, CLAUDE_CONFIG_DIR and HOME; nothing outside the temp dir is touched.

Target (DESIGN.md): overhead = p95(real) - p95(baseline) <= 150 ms. Prints both
distributions and the overhead; exits 0 (not a test).
"""

from __future__ import annotations

import argparse
import asyncio
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

PLANS = ROOT / "tests" / "fixtures" / "plans"
QUIET = 0.25  # seconds between writes, for both loops
TIMEOUT = 10.0


def corpus() -> list[str]:
    return [p.read_text(encoding="utf-8") for p in sorted(PLANS.glob("*.md"))]


def write_plan(plans_dir: Path, index: int, texts: list[str]) -> Path:
    path = plans_dir / f"bench-{index:03d}.md"
    path.write_text(texts[index % len(texts)], encoding="utf-8")
    return path


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))]


# -- baseline ------------------------------------------------------------------------------------


async def bare_awatch(plans_dir: Path, writes: int, debounce_ms: int, step_ms: int) -> list[float]:
    from watchfiles import awatch

    texts = corpus()
    latencies: list[float] = []
    stop = asyncio.Event()
    noticed: dict[Path, float] = {}
    arrived = asyncio.Event()
    started = asyncio.Event()

    async def loop() -> None:
        watcher = awatch(plans_dir, debounce=debounce_ms, step=step_ms, stop_event=stop)
        started.set()
        async for batch in watcher:
            now = time.monotonic()
            for _, raw in batch:
                noticed.setdefault(Path(raw), now)
            arrived.set()

    task = asyncio.create_task(loop())
    await started.wait()
    await asyncio.sleep(QUIET)  # awatch registers its watches on its first step
    for index in range(writes):
        start = time.monotonic()
        path = write_plan(plans_dir, index, texts)
        deadline = start + TIMEOUT
        while path not in noticed:
            arrived.clear()
            await asyncio.wait_for(arrived.wait(), timeout=max(0.0, deadline - time.monotonic()))
        latencies.append(noticed[path] - start)
        await asyncio.sleep(QUIET)
    stop.set()
    await task
    return latencies


# -- the app -------------------------------------------------------------------------------------


async def app_path(repo: Path, plans_dir: Path, writes: int) -> list[float]:
    from hybrid_tui.config import load_settings
    from hybrid_tui.ui.app import make_app
    from hybrid_tui.ui.plans.screen import PlansScreen

    texts = corpus()
    app = make_app(load_settings(), repo=repo, plans_dir=plans_dir, watch_plans=True)
    shown: dict[Path, float] = {}
    waiting: dict[str, object] = {"path": None, "event": asyncio.Event()}
    display = app._display

    def timed_display(screen, renderable) -> None:  # noqa: ANN001
        display(screen, renderable)
        target = waiting["path"]
        if target is None or renderable is None or not isinstance(screen, PlansScreen):
            return
        if target not in shown and any(plan.path == target for plan in screen.plans):
            shown[target] = time.monotonic()
            waiting["event"].set()  # type: ignore[attr-defined]

    app._display = timed_display
    latencies: list[float] = []
    async with app.run_test(size=(80, 24)) as pilot:
        deadline = time.monotonic() + TIMEOUT
        def watching() -> bool:
            screen = app.screen
            return isinstance(screen, PlansScreen) and screen.listed and screen.watch_ready.is_set()

        while not watching():
            if time.monotonic() > deadline:
                raise SystemExit("the app did not start watching")
            await pilot.pause(0.01)
        await asyncio.sleep(QUIET)
        for index in range(writes):
            event = asyncio.Event()
            start = time.monotonic()
            path = write_plan(plans_dir, index, texts)
            waiting.update(path=path, event=event)
            await asyncio.wait_for(event.wait(), timeout=TIMEOUT)
            latencies.append(shown[path] - start)
            await asyncio.sleep(QUIET)
    return latencies


# -- driver --------------------------------------------------------------------------------------


def setup(base: Path) -> Path:
    os.environ.update(
        HOME=str(base / "home"),
        CLAUDE_CONFIG_DIR=str(base / "claude"),
        HYBRID_TUI_STATE_DIR=str(base / "state"),
        HYBRID_TUI_CONFIG=str(base / "no-config.toml"),
        GIT_CONFIG_NOSYSTEM="1",
        GIT_CONFIG_GLOBAL=str(base / "gitconfig"),
    )
    (base / "home").mkdir()
    (base / "gitconfig").write_text("[user]\n\tname = Bench\n\temail = bench@example.invalid\n")
    repo = base / "project"
    repo.mkdir()
    for args in (["init", "-q", "-b", "main"], ["commit", "-q", "--allow-empty", "-m", "initial"]):
        subprocess.run(["git", *args], cwd=repo, check=True)
    return repo


def report(label: str, values: list[float]) -> None:
    ms = [v * 1000 for v in values]
    print(f"{label:34} p50 {statistics.median(ms):7.1f} ms   p95 {percentile(ms, 0.95):7.1f} ms"
          f"   max {max(ms):7.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--writes", type=int, default=30)
    args = parser.parse_args()

    from hybrid_tui.config import Settings
    from hybrid_tui.core.plan.plans import watch_plans

    debounce_ms = Settings().ui.watch_debounce_ms
    step_ms = watch_plans.__kwdefaults__["step_ms"]
    with tempfile.TemporaryDirectory(prefix="bench-plan-watch-") as tmp:
        base = Path(tmp)
        repo = setup(base)
        bare_dir = base / "bare-plans"
        app_dir = base / "app-plans"
        bare_dir.mkdir()
        app_dir.mkdir()
        baseline = asyncio.run(bare_awatch(bare_dir, args.writes, debounce_ms, step_ms))
        real = asyncio.run(app_path(repo, app_dir, args.writes))

    print(f"writes: {args.writes} each; debounce {debounce_ms} ms, step {step_ms} ms")
    report("bare awatch loop noticed it", baseline)
    report("hybrid-tui list shows it", real)
    overhead = percentile(real, 0.95) - percentile(baseline, 0.95)
    print(f"overhead at p95:                   {overhead * 1000:7.1f} ms  (target <= 150 ms)")
    p50_overhead = statistics.median(real) - statistics.median(baseline)
    print(f"overhead at p50:                   {p50_overhead * 1000:7.1f} ms")
    print(f"ratio at p95 (real / baseline):    {percentile(real, 0.95) / percentile(baseline, 0.95):7.2f}x")


if __name__ == "__main__":
    main()
