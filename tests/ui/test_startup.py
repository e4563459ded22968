"""Start-up: what the TUI does before its first frame, and the settings it reads on its own.

DESIGN.md's target (first frame within 1.3x a bare Textual app) is measured by
bench/bench_startup.py; these tests hold the design that makes it reachable: no pydantic,
GitPython, Markdown or TextArea before the first frame, the config file read without pydantic
and validated after the first frame (problems shown, never fatal in the TUI), the theme set
before any CSS is parsed, and the garbage collector back on after the first frame.
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import subprocess
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from rich.segment import Segment
from rich.style import Style
from textual.color import Color
from textual.filter import ANSIToTruecolor
from textual.pilot import Pilot

import hybrid_tui
from hybrid_tui.config import Settings, load_settings
from hybrid_tui.config_file import StartupSettings
from hybrid_tui.core.errors import InputError
from hybrid_tui.ui.app import HybridApp, make_app
from hybrid_tui.ui.plans.screen import PlansScreen
from hybrid_tui.ui.theme import builtin_themes_dir, load_theme_file, read_bundled_theme
from tests.support.repos import CORPUS_PLANS

SOURCE_ROOT = Path(hybrid_tui.__file__).resolve().parents[1]

HEAVY = ("pydantic", "git", "textual.widgets._markdown", "textual.widgets._text_area")

# A fresh interpreter starts hybrid-tui as the command does (`cli.tui_app`) and reports, at the
# first frame of the Plans screen, which heavy modules are loaded (the bench's hook, the same
# private `App._display`: Textual has no public "frame drawn" event).
FIRST_FRAME_PROBE = """
import json, sys
from hybrid_tui import cli

app = cli.tui_app(cli._parser().parse_args(["--repo", sys.argv[1]]))
built = [name for name in {heavy!r} if name in sys.modules]
seen = {{}}
display = app._display

def hook(screen, update):
    display(screen, update)
    if update is not None and type(screen).__name__ == "PlansScreen" and not seen:
        seen.update(built=built, first_frame=[name for name in {heavy!r} if name in sys.modules],
                    gc_enabled=__import__("gc").isenabled())
        app.exit()

app._display = hook
app.run(headless=True, size=(80, 24))
print(json.dumps(seen))
"""


def config_file() -> Path:
    return Path(os.environ["HYBRID_TUI_CONFIG"])  # in tmp (tests/conftest.py)


def add_plans(count: int) -> Path:
    plans = Path(os.environ["CLAUDE_CONFIG_DIR"]) / "plans"
    plans.mkdir(parents=True, exist_ok=True)
    for source in sorted(CORPUS_PLANS.glob("*.md"))[:count]:
        (plans / source.name).write_bytes(source.read_bytes())
    return plans


def run(app: HybridApp, body: Callable[[Pilot], Awaitable[None]]) -> None:
    async def main() -> None:
        async with app.run_test(size=(80, 24), notifications=True) as pilot:  # toasts drawn
            await body(pilot)

    asyncio.run(main())


async def wait_until(pilot: Pilot, condition: Callable[[], bool], what: str, timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await pilot.pause(0.02)


async def started(pilot: Pilot) -> HybridApp:
    """Wait for the Plans screen and the app's start-up work after the first frame."""
    app: HybridApp = pilot.app  # type: ignore[assignment]
    await wait_until(pilot, lambda: isinstance(app.screen, PlansScreen) and app.startup_done,
                     "the plans screen and the start-up work")
    return app


def notifications(app: HybridApp) -> list[str]:
    return [str(n.message) for n in app._notifications]


def shown_toasts(app: HybridApp) -> str:
    """The text of the notifications drawn on the current screen."""
    return "\n".join(str(toast.render()) for toast in app.screen.query("Toast"))


# -- before the first frame --------------------------------------------------------------------


def test_first_frame_imports_no_pydantic_git_markdown_or_text_area(repo: Path) -> None:
    add_plans(3)
    # The code under test (this checkout), without writing bytecode caches from here.
    env = {**os.environ, "PYTHONPATH": str(SOURCE_ROOT), "PYTHONDONTWRITEBYTECODE": "1"}
    result = subprocess.run(
        [sys.executable, "-c", FIRST_FRAME_PROBE.format(heavy=HEAVY), str(repo)],
        cwd=repo, env=env, capture_output=True, text=True, timeout=60, check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen["built"] == []  # importing the CLI and building the app
    assert seen["first_frame"] == []  # ... and everything up to the first frame
    assert seen["gc_enabled"] is False  # paused until the first frame (tui_app)


def test_startup_settings_default_to_the_settings_defaults() -> None:
    defaults = Settings()
    assert StartupSettings() == StartupSettings(defaults.ui.theme, defaults.ui.watch_plans, defaults.plans_dir)


def test_startup_settings_read_the_table_and_pass_over_wrong_types() -> None:
    table = {"plans_dir": "/somewhere/plans", "ui": {"theme": "hybrid-light", "watch_plans": False}}
    assert StartupSettings.from_table(table) == StartupSettings("hybrid-light", False, Path("/somewhere/plans"))
    wrong = {"plans_dir": 3, "ui": {"theme": 7, "watch_plans": "no"}}
    assert StartupSettings.from_table(wrong) == StartupSettings()
    assert StartupSettings.from_table({"ui": "not a table"}) == StartupSettings()
    assert StartupSettings.from_table(None) == StartupSettings()


def test_bundled_themes_read_without_validation_equal_the_validated_ones() -> None:
    files = sorted(builtin_themes_dir().glob("*.toml"))
    assert files
    for path in files:
        # read_bundled_theme finds a theme by its file name: the two must agree.
        assert read_bundled_theme(path.stem) == load_theme_file(path)
    assert read_bundled_theme("no-such-theme") is None


# -- the config file in the TUI ----------------------------------------------------------------


def test_a_withdrawn_notification_goes_and_the_others_stay_drawn(repo: Path) -> None:
    app = make_app(Settings(), repo=repo)

    async def body(pilot: Pilot) -> None:
        await started(pilot)
        app.notify("A note that stays", timeout=60)
        app.notify_until_withdrawn("Not run: a refusal", key="refusal", severity="error", timeout=60)
        await wait_until(pilot, lambda: "Not run" in shown_toasts(app) and "stays" in shown_toasts(app), "both toasts")
        app.withdraw("refusal")
        await wait_until(pilot, lambda: "Not run" not in shown_toasts(app), "the refusal gone")
        await wait_until(pilot, lambda: "A note that stays" in shown_toasts(app), "the other note drawn again")
        assert notifications(app) == ["A note that stays"]
        app.withdraw("refusal")  # gone already: nothing changes
        assert notifications(app) == ["A note that stays"]

    run(app, body)


def test_config_file_values_reach_the_first_frame(repo: Path, tmp_path: Path) -> None:
    plans = tmp_path / "elsewhere"
    plans.mkdir()
    config_file().write_text(
        f'plans_dir = "{plans}"\n[ui]\ntheme = "hybrid-light"\nwatch_plans = false\n'
        "[agents.kimi]\nmax_steps = 7\n"
    )
    app = make_app(repo=repo)
    assert app.theme == "hybrid-light" and app.has_class("-light-mode") and not app.has_class("-dark-mode")
    assert app.context.watch_plans is False and app.context.plans_dir == plans

    async def body(pilot: Pilot) -> None:
        await started(pilot)
        # The theme was set before the stylesheet was parsed: its variables are in effect.
        assert app.theme_variables["event-tool"] == read_bundled_theme("hybrid-light").variables["event-tool"]
        assert app.context.settings.agents.kimi.max_steps == 7
        # ANSI colours in outside renderables map through the light terminal theme, not the
        # default dark one the app was built with (Textual's own theme watcher did not run).
        (ansi,) = [f for f in app.get_line_filters() if isinstance(f, ANSIToTruecolor)]
        (red,) = ansi.apply([Segment("x", Style(color="red"))], Color(255, 255, 255))
        assert red.style is not None and red.style.color is not None
        assert red.style.color.triplet == app.ansi_theme_light.ansi_colors[1] != app.ansi_theme_dark.ansi_colors[1]
        assert notifications(app) == []

    run(app, body)


def test_broken_config_file_starts_with_a_notification_naming_it(repo: Path) -> None:
    add_plans(2)
    config_file().write_text("[ui\ntheme = 'hybrid-light'\n")
    app = make_app(repo=repo)

    async def body(pilot: Pilot) -> None:
        await started(pilot)
        await wait_until(pilot, lambda: str(config_file()) in shown_toasts(app), "the toast naming the file")
        assert "not a valid TOML file" in shown_toasts(app)
        assert app.theme == "hybrid-dark"  # the defaults
        assert app.context.settings == Settings()

    run(app, body)


def test_invalid_setting_is_a_notification_after_the_first_frame(repo: Path) -> None:
    config_file().write_text("[ui]\ntheme = 'hybrid-light'\nwatch_debounce_ms = 0\n[agents.kimi]\nmax_steps = 'x'\n")
    app = make_app(repo=repo)

    async def body(pilot: Pilot) -> None:
        await started(pilot)
        await wait_until(pilot, lambda: "invalid setting" in shown_toasts(app), "the toast")
        toast = shown_toasts(app)
        assert str(config_file()) in toast and "agents.kimi.max_steps" in toast and "ui.watch_debounce_ms" in toast
        # Defaults, but the theme the first frame showed stays (settings and screen agree).
        assert app.theme == "hybrid-light"
        assert app.context.settings.ui.theme == "hybrid-light"
        assert app.context.settings.agents.kimi.max_steps == Settings().agents.kimi.max_steps

    run(app, body)


def test_the_cli_still_refuses_an_invalid_config_file() -> None:
    config_file().write_text("[agents.kimi]\nmax_steps = 'x'\n")
    with pytest.raises(InputError, match=r"invalid setting: agents\.kimi\.max_steps"):
        load_settings()


# -- after the first frame ---------------------------------------------------------------------


def test_garbage_collector_is_back_on_after_the_first_frame(repo: Path) -> None:
    was_enabled = gc.isenabled()
    gc.disable()  # as cli.tui_app does
    try:
        app = make_app(repo=repo, watch_plans=False, resume_gc=True)

        async def body(pilot: Pilot) -> None:
            await started(pilot)
            assert gc.isenabled()

        run(app, body)
    finally:
        gc.unfreeze()
        if was_enabled:
            gc.enable()


def test_other_bundled_themes_are_registered_after_the_first_frame(repo: Path) -> None:
    app = make_app(Settings(), repo=repo, watch_plans=False)
    assert "hybrid-light" not in app.available_themes  # only the one shown, before the first frame

    async def body(pilot: Pilot) -> None:
        await started(pilot)
        assert {"hybrid-dark", "hybrid-light"} <= set(app.available_themes)
        assert app.theme == "hybrid-dark"

    run(app, body)


def test_unknown_theme_falls_back_to_the_default_with_a_notification(repo: Path) -> None:
    config_file().write_text("[ui]\ntheme = 'no-such-theme'\n")
    app = make_app(repo=repo, watch_plans=False)
    assert app.theme == "hybrid-dark"

    async def body(pilot: Pilot) -> None:
        await started(pilot)
        await wait_until(pilot, lambda: "no-such-theme" in shown_toasts(app), "the toast")
        assert app.theme == "hybrid-dark"

    run(app, body)
