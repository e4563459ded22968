"""Start-up to first frame: `hybrid-tui` vs a bare Textual app with one Static widget.

    python bench/bench_startup.py [--runs 9]

Each sample is a fresh `python` child process (this file with `--child bare|hybrid`). The
parent notes `time.monotonic()` just before spawning it; the child notes the same clock
(CLOCK_MONOTONIC is system-wide) when its first frame is drawn and prints it, then exits.
"First frame" is the same for both apps: the first compositor update of the screen that holds
the app's content (the bare app's default screen with its Static; hybrid-tui's PlansScreen),
under Textual's headless driver at 80x24. Headless Textual skips turning the update into
terminal escape codes, so the child does that too (`render_segments`), for both apps alike.

The bare app imports `textual.app` and `textual.widgets.Static`. hybrid-tui starts the way
`hybrid-tui` does (`hybrid_tui.cli`, `load_settings`, `make_app`) in a temp git repository with
a few plans, with temp HYBRID_TUI_STATE_DIR / CLAUDE_CONFIG_DIR / HYBRID_TUI_CONFIG, and the
plan watcher on. The child also reports whether GitPython (`git`) or the Markdown and TextArea
widgets were imported by the first frame (they must not be).

Target (DESIGN.md): median hybrid-tui / median bare <= 1.3. Prints the figures and the ratio;
exits 0 (not a test). Runs alternate between the two apps so drift hits both.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PLANS = ROOT / "tests" / "fixtures" / "plans"
HEAVY_MODULES = ("git", "textual.widgets._markdown", "textual.widgets._text_area")


# -- the child: one start-up, timed to its first frame ------------------------------------------


def child(kind: str, repo: str | None) -> None:
    if kind == "bare":
        from textual.app import App, ComposeResult
        from textual.widgets import Static

        class Bare(App[None]):
            def compose(self) -> ComposeResult:
                yield Static("hello")

        imported = time.monotonic()
        app: object = Bare()

        def is_content(screen: object) -> bool:
            return True
    else:
        sys.path.insert(0, str(ROOT))
        from hybrid_tui import cli  # noqa: F401 - the module `hybrid-tui` runs
        from hybrid_tui.config import load_settings
        from hybrid_tui.ui.app import make_app

        imported = time.monotonic()
        app = make_app(load_settings(), repo=Path(repo or "."))

        def is_content(screen: object) -> bool:
            return type(screen).__name__ == "PlansScreen"

    from textual._compositor import CompositorUpdate

    display = app._display  # type: ignore[attr-defined]
    result: dict[str, object] = {"imported": imported}

    def timed_display(screen: object, renderable: object) -> None:
        display(screen, renderable)
        if "frame" in result or renderable is None or not is_content(screen):
            return
        if isinstance(renderable, CompositorUpdate):
            renderable.render_segments(app.console)  # type: ignore[attr-defined]
        result["frame"] = time.monotonic()
        result["heavy"] = [name for name in HEAVY_MODULES if name in sys.modules]
        app.exit()  # type: ignore[attr-defined]

    app._display = timed_display  # type: ignore[attr-defined]
    app.run(headless=True, size=(80, 24))  # type: ignore[attr-defined]
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
    for name in sorted(p.name for p in PLANS.glob("*.md"))[:12]:
        shutil.copyfile(PLANS / name, plans / name)
    return repo, env


def sample(kind: str, repo: Path, env: dict[str, str]) -> tuple[float, float, list[str]]:
    """(process start -> first frame, process start -> imports done, heavy modules loaded)."""
    start = time.monotonic()
    out = subprocess.run(
        [sys.executable, __file__, "--child", kind, "--repo", str(repo)],
        cwd=repo, env=env, capture_output=True, text=True, timeout=60,
    )
    if out.returncode != 0 or not out.stdout.strip():
        raise SystemExit(f"{kind} child failed ({out.returncode}):\n{out.stderr[-2000:]}")
    data = json.loads(out.stdout.strip().splitlines()[-1])
    return data["frame"] - start, data["imported"] - start, data["heavy"]


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
        times: dict[str, list[float]] = {"bare": [], "hybrid": []}
        imports: dict[str, list[float]] = {"bare": [], "hybrid": []}
        heavy: set[str] = set()
        for _ in range(args.runs):
            for kind in ("bare", "hybrid"):
                seconds, imported, loaded = sample(kind, repo, env)
                times[kind].append(seconds)
                imports[kind].append(imported)
                if kind == "hybrid":
                    heavy.update(loaded)

    bare, hybrid = (statistics.median(times[k]) for k in ("bare", "hybrid"))
    print(f"runs: {args.runs} each, process start -> first frame (headless, 80x24)")
    for kind, label in (("bare", "bare Textual app (1 Static)"), ("hybrid", "hybrid-tui (PlansScreen)")):
        values = sorted(times[kind])
        print(f"{label:30} median {statistics.median(values) * 1000:7.1f} ms"
              f"  (min {values[0] * 1000:.1f}, max {values[-1] * 1000:.1f});"
              f" of which start + imports {statistics.median(imports[kind]) * 1000:.1f} ms")
    print(f"ratio hybrid-tui / bare:       {hybrid / bare:7.2f}x  (target <= 1.3x)")
    print(f"imported by hybrid-tui's first frame: {', '.join(sorted(heavy)) or 'none of'} "
          f"({', '.join(HEAVY_MODULES)})")


if __name__ == "__main__":
    main()
