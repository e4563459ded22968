"""The Textual app: a thin shell that owns the core objects and moves between screens.

`make_app` is the one factory (the CLI and the tests both call it). The app does no git or
subprocess work itself: screens run that in workers. Flow:

    PlansScreen --d--> SpecScreen --ctrl+r--> RunScreen --(agent ended)--> ReviewScreen

Screens live in `ui/screens/`, one per module; the app only knows how to open each one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from textual.app import App
from textual.binding import Binding

from hybrid_tui.config import Settings
from hybrid_tui.core.runs import RunStore, utc_now
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

    def __init__(self, context: AppContext) -> None:
        self.context = context
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
