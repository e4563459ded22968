"""The Textual app: a thin shell that owns the core objects and moves between screens.

`make_app` is the one factory (the CLI and the tests both call it). The app does no git or
subprocess work itself: screens run that in workers. Flow:

    PlansScreen --d--> SpecScreen --ctrl+r--> RunScreen --(agent ended)--> ReviewScreen

Screens live in `ui/screens/`, one per module; the app only knows how to open each one.

Runs started in the TUI are kept in `app.live_runs`: quitting while one is going asks first
(cancel the agent, its work committed and the run marked cancelled, or stay), then waits for
each run to finish its commit and record before exiting, so a clean exit leaves no orphan agent.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from textual.app import App
from textual.binding import Binding

from hybrid_tui.config import Settings
from hybrid_tui.core.runs import RunStore, utc_now
from hybrid_tui.ui.live_run import LiveRuns
from hybrid_tui.ui.theme import THEME_VARIABLE_DEFAULTS, builtin_themes_dir, load_themes


@dataclass
class AppContext:
    """What the screens need from the outside world, injected (tests pass their own)."""

    settings: Settings
    repo: Path  # as given (--repo or the cwd); the project root is found from it lazily
    plans_dir: Path | None = None  # --plans-dir
    store: RunStore | None = None
    clock: Callable[[], datetime] = utc_now
    watch_plans: bool = True
    user_themes_dir: Path | None = None
    problems: list[str] = field(default_factory=list)


class HybridApp(App[None]):
    CSS_PATH = "app.tcss"
    TITLE = "hybrid-tui"
    BINDINGS = [
        Binding("q", "quit", "Quit", id="quit"),
        Binding("ctrl+c", "quit", "Quit", show=False, priority=True, id="quit-ctrl-c"),
    ]

    QUIT_WAIT_SECONDS = 30.0
    """How long quitting waits for cancelled runs to commit and write their record."""

    def __init__(self, context: AppContext) -> None:
        self.context = context
        self.live_runs = LiveRuns()
        self._asking_to_quit = False
        super().__init__()
        themes, problems = load_themes(
            [builtin_themes_dir(), *([context.user_themes_dir] if context.user_themes_dir else [])]
        )
        for theme in themes:
            self.register_theme(theme)
        self._theme_problems = problems
        wanted = context.settings.ui.theme
        self.theme = wanted if wanted in self.available_themes else "hybrid-dark"

    def get_theme_variable_defaults(self) -> dict[str, str]:
        return dict(THEME_VARIABLE_DEFAULTS)

    def on_mount(self) -> None:
        from hybrid_tui.ui.screens.plans import PlansScreen

        for problem in [*self._theme_problems, *self.context.problems]:
            self.notify(problem, severity="warning", timeout=10)
        self.push_screen(PlansScreen())

    def back_to_plans(self) -> None:
        """Pop every screen above the plans screen (the first one pushed on the default)."""
        while len(self.screen_stack) > 2:
            self.pop_screen()

    async def action_quit(self) -> None:
        """Quit; while a run is going, ask first: cancel it (work committed) or stay."""
        active = self.live_runs.active()
        if not active:
            self.exit()
            return
        if self._asking_to_quit:
            return
        from hybrid_tui.ui.screens.confirm import ConfirmScreen

        agents = sorted({live.execution.agent.display_name for live in active})
        what = "A run is going" if len(active) == 1 else f"{len(active)} runs are going"
        self._asking_to_quit = True

        def answer(yes: bool | None) -> None:
            self._asking_to_quit = False
            if yes:
                self.run_worker(self._cancel_runs_and_exit(), name="quit", group="quit", exclusive=True)

        self.push_screen(
            ConfirmScreen(
                what,
                f"Quit and cancel {'it' if len(active) == 1 else 'them'}? {' and '.join(agents)} "
                "is stopped and its work committed; the run is marked cancelled.",
                "Cancel run and quit",
                "Stay",
            ),
            answer,
        )

    async def _cancel_runs_and_exit(self) -> None:
        stopping = self.live_runs.cancel_all()
        if stopping:
            self.notify("Stopping the agent and committing its work…")
        for live in stopping:
            # A run that failed or is slow to stop must not block quitting; its thread still
            # finishes the commit before the process ends.
            with contextlib.suppress(Exception):
                await live.wait(timeout=self.QUIT_WAIT_SECONDS)
        self.exit()


def make_app(
    settings: Settings,
    *,
    repo: Path | None = None,
    plans_dir: Path | None = None,
    store: RunStore | None = None,
    clock: Callable[[], datetime] | None = None,
    watch_plans: bool | None = None,
) -> HybridApp:
    """Build the app from settings and core objects (the CLI and the tests call this)."""
    context = AppContext(
        settings=settings,
        repo=(repo or Path.cwd()).resolve(),
        plans_dir=plans_dir,
        store=store or RunStore(settings.resolved_state_dir()),
        clock=clock or utc_now,
        watch_plans=settings.ui.watch_plans if watch_plans is None else watch_plans,
    )
    return HybridApp(context)
