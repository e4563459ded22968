"""Start-up to first frame: `hybrid-tui` vs a bare Textual app with one Static widget.

    python bench/bench_startup.py [--runs 9]

Each sample is a fresh `python` child process (this file with `--child bare|hybrid`). The
parent notes `time.monotonic()` just before spawning it; the child notes the same clock
(CLOCK_MONOTONIC is system-wide) when its frames are drawn and prints the times, then exits.
Headless Textual skips turning a compositor update into terminal escape codes, so the child
does that too (`render_segments`), for both apps alike.

Two frames are timed, both under Textual's headless driver at 80x24:
- "first frame": the first compositor update of the screen that holds the app's content (the
  bare app's default screen with its Static; hybrid-tui's PlansScreen);
- "list frame": the first such update in which hybrid-tui's plan list is populated, i.e. the
  first frame that shows what the user came for. For the bare app it is its first frame.
The target applies to the list frame: a first frame with an empty list would be a cheat.

The bare app imports `textual.app` and `textual.widgets.Static`. hybrid-tui starts exactly as
the `hybrid-tui` command does (`cli.tui_app`: the settings read by the app, the garbage
collector paused until the first frame) in a temp git repository with 12 corpus plans, with
temp HYBRID_TUI_STATE_DIR / CLAUDE_CONFIG_DIR / HYBRID_TUI_CONFIG, and the plan watcher on.
The child also reports whether pydantic, GitPython (`git`) or the Markdown and TextArea
widgets were imported by each frame (none of them should be by the first frame).

Target (DESIGN.md): median hybrid-tui / median bare <= 1.3. Prints the figures and the ratio;
exits 0 (not a test). Runs alternate between the two apps so drift hits both.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PLANS = ROOT / "tests" / "fixtures" / "plans"
PLAN_COUNT = 12
HEAVY_MODULES = ("pydantic", "git", "textual.widgets._markdown", "textual.widgets._text_area")


# -- the child: one start-up, timed to its first frame and to its first frame with the list --


def child(kind: str, repo: str | None) -> None:
    if kind == "bare":
        from textual.app import App, ComposeResult
        from textual.widgets import Static

        class Bare(App[None]):
            def compose(self) -> ComposeResult:
                yield Static("hello")

        app: object = Bare()

        def is_content(screen: object) -> bool:
            return True

        def is_listed(screen: object) -> bool:
            return True
    else:
        sys.path.insert(0, str(ROOT))
        from hybrid_tui import cli  # the module `hybrid-tui` runs

        app = cli.tui_app(cli._parser().parse_args(["--repo", repo or "."]))

        def is_content(screen: object) -> bool:
            return type(screen).__name__ == "PlansScreen"

        def is_listed(screen: object) -> bool:
            return screen.query_one("#plan-list").option_count > 0  # type: ignore[attr-defined]

    built = time.monotonic()  # the app object exists: interpreter, imports, make_app
    from textual._compositor import CompositorUpdate

    display = app._display  # type: ignore[attr-defined]
    result: dict[str, object] = {"built": built}

    def timed_display(screen: object, renderable: object) -> None:
        display(screen, renderable)
        if renderable is None or not is_content(screen):
            return
        if isinstance(renderable, CompositorUpdate):
            renderable.render_segments(app.console)  # type: ignore[attr-defined]
        now = time.monotonic()
        heavy = [name for name in HEAVY_MODULES if name in sys.modules]
        if "first" not in result:
            result["first"], result["heavy_first"] = now, heavy
        if is_listed(screen):
            usage = resource.getrusage(resource.RUSAGE_SELF)
            result["listed"], result["heavy_listed"] = now, heavy
            result["cpu"] = usage.ru_utime + usage.ru_stime
            app.exit()  # type: ignore[attr-defined]

    app._display = timed_display  # type: ignore[attr-defined]
    app.run(headless=True, size=(80, 24))  # type: ignore[attr-defined]
    if "listed" not in result:
        raise SystemExit(f"{kind}: the app ended before a frame showed its content")
    print(json.dumps(result), flush=True)


# -- the parent ----------------------------------------------------------------------------------


def make_world(base: Path) -> tuple[Path, dict[str, str]]:
    """A git repository with a few plans in $CLAUDE_CONFIG_DIR/plans, and the env for it."""
    repo = base / "project"
    repo.mkdir()
    env = {
        **os.environ,
        "HOME": str(base / "home"),
        "CLAUDE_CONFIG_DIR": str(base / "claude"),
        "HYBRID_TUI_STATE_DIR": str(base / "state"),
        "HYBRID_TUI_CONFIG": str(base / "no-config.toml"),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": str(base / "gitconfig"),
    }
    # Bytecode caches as an installed app has them: with PYTHONDONTWRITEBYTECODE set (any
    # value), every changed module would be compiled again in every sample.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    (base / "gitconfig").write_text("[user]\n\tname = Bench\n\temail = bench@example.invalid\n")
    (base / "home").mkdir()
    for args in (["init", "-q", "-b", "main"], ["commit", "-q", "--allow-empty", "-m", "initial"]):
        subprocess.run(["git", *args], cwd=repo, env=env, check=True)
    plans = base / "claude" / "plans"
    plans.mkdir(parents=True)
    for name in sorted(p.name for p in PLANS.glob("*.md"))[:PLAN_COUNT]:
        shutil.copyfile(PLANS / name, plans / name)
    return repo, env


def sample(kind: str, repo: Path, env: dict[str, str]) -> dict[str, object]:
    """Seconds from process start to the app built, its first frame and its list frame, and the
    heavy modules loaded by each frame."""
    start = time.monotonic()
    out = subprocess.run(
        [sys.executable, __file__, "--child", kind, "--repo", str(repo)],
        cwd=repo, env=env, capture_output=True, text=True, timeout=60, check=False,
    )
    if out.returncode != 0 or not out.stdout.strip():
        raise SystemExit(f"{kind} child failed ({out.returncode}):\n{out.stderr[-2000:]}")
    data = json.loads(out.stdout.strip().splitlines()[-1])
    for key in ("built", "first", "listed"):
        data[key] -= start
    return data


def _ms(values: list[float]) -> str:
    values = sorted(values)
    return (f"median {statistics.median(values) * 1000:6.1f} ms"
            f" (min {values[0] * 1000:.1f}, max {values[-1] * 1000:.1f})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--child", choices=["bare", "hybrid"], help=argparse.SUPPRESS)
    parser.add_argument("--repo", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.repo)
        return

    with tempfile.TemporaryDirectory(prefix="bench-startup-") as tmp:
        repo, env = make_world(Path(tmp))
        sample("bare", repo, env)  # warm the OS file cache and write the bytecode caches
        sample("hybrid", repo, env)
        samples: dict[str, list[dict[str, object]]] = {"bare": [], "hybrid": []}
        for _ in range(args.runs):
            for kind in ("bare", "hybrid"):
                samples[kind].append(sample(kind, repo, env))

    def column(kind: str, key: str) -> list[float]:
        return [float(s[key]) for s in samples[kind]]  # type: ignore[arg-type]

    print(f"runs: {args.runs} each, process start -> frame (headless, 80x24)")
    for kind, label in (("bare", "bare Textual app (1 Static)"), ("hybrid", "hybrid-tui (PlansScreen)")):
        print(f"{label}")
        print(f"  app built (start + imports) {_ms(column(kind, 'built'))}")
        print(f"  first frame                 {_ms(column(kind, 'first'))}")
        print(f"  list frame                  {_ms(column(kind, 'listed'))}")
        print(f"  CPU time to the list frame  {_ms(column(kind, 'cpu'))}")
    medians = {(k, key): statistics.median(column(k, key)) for k in samples for key in ("first", "listed")}
    print(f"ratio hybrid-tui / bare, first frame: {medians['hybrid', 'first'] / medians['bare', 'first']:5.2f}x")
    print(f"ratio hybrid-tui / bare, list frame:  {medians['hybrid', 'listed'] / medians['bare', 'listed']:5.2f}x"
          "  (target <= 1.3x)")
    cpu = {k: statistics.median(column(k, "cpu")) for k in samples}
    print(f"ratio of CPU times to the list frame: {cpu['hybrid'] / cpu['bare']:5.2f}x"
          "  (less noisy on a busy machine; the target is on wall time)")
    for key, what in (("heavy_first", "first frame"), ("heavy_listed", "list frame")):
        loaded = sorted({name for s in samples["hybrid"] for name in s[key]})  # type: ignore[union-attr]
        print(f"imported by hybrid-tui's {what}: {', '.join(loaded) or 'none'} (of {', '.join(HEAVY_MODULES)})")


if __name__ == "__main__":
    main()
