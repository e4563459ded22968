"""The Textual app: a thin shell that owns the core objects and moves between screens.

`make_app` is the one factory (the CLI and the tests both call it). The app does no git or
subprocess work itself: screens run that in workers. Flow:

    PlansScreen --d--> SpecScreen --ctrl+r--> RunScreen --(agent ended)--> ReviewScreen

Each screen has its folder (`ui/plans/`, `ui/spec/`, `ui/run/`, `ui/review/`) with the widgets
only it uses; the app owns moving between them (`open_spec`, `open_run`, `open_review`,
`go_back`, `back_to_plans`) and imports each screen when it first opens it, so that start-up
only pays for the plans screen.

Runs started in the TUI are kept in `app.active_runs` (ui/active_runs.py): quitting while one is going asks first
(cancel the agent, its work committed and the run marked cancelled, or stay), then waits for
each run to finish its commit and record before exiting, so a clean exit leaves no orphan agent.

Start-up is arranged for a quick first frame (DESIGN.md: <= 1.3x a bare Textual app): see
`HybridApp`, `make_app` and `cli.tui_app`; bench/bench_startup.py measures it.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from uuid import uuid4

from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.filter import ANSIToTruecolor, LineFilter
from textual.notifications import Notification, Notify, SeverityLevel
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from hybrid_tui.config_file import StartupSettings, config_path, read_config_table
from hybrid_tui.core.errors import InputError
from hybrid_tui.core.inert import inert
from hybrid_tui.ui.active_runs import ActiveRuns
from hybrid_tui.ui.theme import (
    DEFAULT_THEME,
    THEME_VARIABLE_DEFAULTS,
    builtin_themes_dir,
    load_themes,
    read_bundled_theme,
)

if TYPE_CHECKING:
    from textual.theme import Theme

    from hybrid_tui.config import Settings
    from hybrid_tui.core.plan.plans import Plan
    from hybrid_tui.core.runs import Run, RunStore
    from hybrid_tui.ui.approvals import Approvals
    from hybrid_tui.ui.spec.screen import Draft


def _utc_now() -> datetime:
    """The default clock (`core.runs.utc_now`'s twin: importing `core.runs` imports pydantic)."""
    return datetime.now(UTC)


class AppContext:
    """What the screens need from the outside world, injected (tests pass their own).

    `settings` and `store` may be given, or built on first use: `settings` by `load_settings`
    (a callable returning the validated `Settings` and a problem, or None), `store` as
    `RunStore(settings.resolved_state_dir())`. Either may first be used from a worker thread,
    so building them is locked. `startup` holds what the first frame needs (theme, watcher,
    plans dir) and is always known up front."""

    def __init__(
        self,
        settings: Settings | None,
        repo: Path,  # as given (--repo or the cwd); the project root is found from it lazily
        plans_dir: Path | None = None,  # --plans-dir, else plans_dir from the config file
        store: RunStore | None = None,
        clock: Callable[[], datetime] = _utc_now,
        watch_plans: bool = True,
        user_themes_dir: Path | None = None,
        problems: list[str] | None = None,
        *,
        startup: StartupSettings | None = None,
        load_settings: Callable[[], tuple[Settings, str | None]] | None = None,
    ) -> None:
        if settings is None and load_settings is None:
            raise TypeError("AppContext needs settings or load_settings")
        self.repo = repo
        self.plans_dir = plans_dir
        self.plans_dir_source = "--plans-dir"  # or plans.CONFIG_SOURCE (see make_app)
        self.clock = clock
        self.watch_plans = watch_plans
        self.user_themes_dir = user_themes_dir
        self.problems: list[str] = list(problems or [])
        """Problems to show the user (config or theme files), notified by the app."""
        self.startup = startup or StartupSettings()
        self._settings = settings
        self._load_settings = load_settings
        self._store = store
        self._lock = threading.RLock()

    @property
    def settings(self) -> Settings:
        """The validated settings (built on first use when not given)."""
        if self._settings is None:
            with self._lock:
                if self._settings is None:
                    assert self._load_settings is not None
                    settings, problem = self._load_settings()
                    if problem:
                        self.problems.append(problem)
                    self._settings = settings
        return self._settings

    @property
    def store(self) -> RunStore:
        """Where runs live (built on first use when not given)."""
        if self._store is None:
            with self._lock:
                if self._store is None:
                    from hybrid_tui.core.runs import RunStore

                    self._store = RunStore(self.settings.resolved_state_dir())
        return self._store


def settings_loader(table: dict[str, Any] | None, path: Path,
                    startup: StartupSettings) -> Callable[[], tuple[Settings, str | None]]:
    """Validate the config table read from `path` into `Settings`, for `AppContext`.

    An invalid file is not fatal in the TUI: the problem names the file and the reason, and
    the default settings are used, keeping the values the first frame already used (theme,
    watcher, plans dir: `startup`, read from the same table) so that what is on the screen and
    `settings` agree. The CLI's sub-commands refuse such a file instead (`load_settings`)."""

    def load() -> tuple[Settings, str | None]:
        from hybrid_tui.config import Settings, settings_from_table

        try:
            return settings_from_table(table, path), None
        except InputError as err:
            ui = {"theme": startup.theme, "watch_plans": startup.watch_plans}
            fallback = Settings.model_validate({"plans_dir": startup.plans_dir, "ui": ui})
            return fallback, f"{err}\nThe default settings are used."

    return load


class HybridApp(App[None]):
    """The app. Start-up is arranged for a quick first frame (DESIGN.md: <= 1.3x a bare
    Textual app): before it, only what the Plans screen shows is done. The theme in use is
    read from its bundled file without validation and set before any CSS is parsed (setting
    `App.theme` the usual way would parse every stylesheet a second time). Right after the
    first frame a thread worker ("startup") validates the settings and all theme files,
    registering the themes and notifying any problem; and when the CLI turned the garbage
    collector off for start-up (`resume_gc`), it is turned back on then, after `gc.freeze()`
    (the start-up objects live as long as the app: no full collection walks them again)."""

    CSS_PATH = "app.tcss"
    TITLE = "hybrid-tui"
    BINDINGS = [
        Binding("q", "quit", "Quit", id="quit"),
        Binding("ctrl+c", "quit", "Quit", show=False, priority=True, id="quit-ctrl-c"),
        Binding("f2", "open_runs", "Runs", show=False, id="runs"),  # not in every footer: the palette and README say it
    ]

    QUIT_WAIT_SECONDS = 30.0
    """How long quitting waits for cancelled runs to commit and write their record."""

    def __init__(self, context: AppContext, *, resume_gc: bool = False) -> None:
        self.context = context
        self.active_runs = ActiveRuns()
        self._asking_to_quit = False
        self._resume_gc = resume_gc
        self.startup_done = False
        self.recovery_done = False  # the start-up recovery of orphaned runs finished
        # This repository's runs as the plans screen last read them (root, newest first): the
        # runs view shows them at once, then reads them again.
        self.known_runs: tuple[Path, list[Run]] | None = None
        """Set once the start-up work after the first frame is done (tests wait on it)."""
        self.approvals: Approvals | None = None
        """The socket Claude's approval hook reaches this app on, once it listens."""
        super().__init__()
        self._shown_notifications: list[Notification] = []  # for `withdraw`
        self._withdrawable: dict[str, str] = {}  # notification identity -> its key
        self._ansi_filter: tuple[object, ANSIToTruecolor] | None = None  # for `get_line_filters`
        self._startup_theme(context.startup.theme)

    def notify(self, message: str, *, title: str = "", severity: SeverityLevel = "information",
               timeout: float | None = None, markup: bool = True) -> None:
        """Every notification (the screens' and widgets' `notify` come here) is drawn inert
        (`core.inert`): an error message may quote a path, a plan title or the agent's words."""
        super().notify(inert(message), title=inert(title, one_line=True), severity=severity, timeout=timeout,
                       markup=markup)

    def notify_until_withdrawn(self, message: str, *, key: str, severity: SeverityLevel = "information",
                               timeout: float = 10) -> None:
        """A notification (drawn inert) that `withdraw(key)` can take back before its time."""
        notification = Notification(inert(message), "", severity, timeout, markup=False)
        self._withdrawable[notification.identity] = key
        self.post_message(Notify(notification))

    def on_notify(self, event: Notify) -> None:
        """Keep the notifications showing, so that some can be withdrawn (`withdraw`)."""
        self._shown_notifications = [n for n in self._shown_notifications if not n.has_expired]
        self._shown_notifications.append(event.notification)

    def withdraw(self, *keys: str) -> None:
        """Take back the notifications `notify_until_withdrawn` gave these keys, if still
        showing; the others are shown again with the time they had left (as new toasts: a
        toast once cleared is not drawn again)."""
        shown = [n for n in self._shown_notifications if not n.has_expired]
        kept = [n for n in shown if self._withdrawable.get(n.identity) not in keys]
        if len(kept) == len(shown):
            return  # none of them showing
        self._shown_notifications = []
        self.clear_notifications()
        for notification in kept:
            again = replace(notification, identity=str(uuid4()))
            if (key := self._withdrawable.pop(notification.identity, None)) is not None:
                self._withdrawable[again.identity] = key
            self.post_message(Notify(again))

    def get_line_filters(self) -> Sequence[LineFilter]:
        """Textual's line filters, with the ANSI-to-truecolor one made for the theme in use. The
        start-up theme is applied before any CSS is parsed (`_apply_theme_before_css`), without
        Textual's theme watcher, which is what would renew that filter."""
        theme = self.ansi_theme
        if self._ansi_filter is None or self._ansi_filter[0] is not theme:
            self._ansi_filter = (theme, ANSIToTruecolor(theme))
        ansi = self._ansi_filter[1]
        return [ansi if isinstance(f, ANSIToTruecolor) else f for f in super().get_line_filters()]

    def _startup_theme(self, wanted: str) -> None:
        """Register and apply the theme the first frame shows. With theme files in the user's
        folder, every theme is validated now (one of them may be the one shown)."""
        user_dir = self.context.user_themes_dir
        if user_dir is not None and any(user_dir.glob("*.toml")):
            themes, problems = load_themes([builtin_themes_dir(), user_dir])
            self.context.problems.extend(problems)
            self._themes_loaded = True
        else:
            theme = read_bundled_theme(wanted) or read_bundled_theme(DEFAULT_THEME)
            themes = [theme] if theme is not None else []
            self._themes_loaded = False
        for theme in themes:
            self.register_theme(theme)
        name = wanted if wanted in self.available_themes else DEFAULT_THEME
        if name in self.available_themes:
            self._apply_theme_before_css(name)

    def _apply_theme_before_css(self, name: str) -> None:
        """What `App._watch_theme` does (Textual 8.2.8, pinned), minus its CSS re-parse: no CSS
        is parsed yet, so setting the stylesheet's variables is enough."""
        self.set_reactive(App.theme, name)
        theme: Theme = self.current_theme
        classes = {cls: False for cls in self.classes if cls.startswith("-theme-")}
        classes.update({f"-theme-{name}": True, "-dark-mode": theme.dark, "-light-mode": not theme.dark})
        self.update_classes(classes, update=False)  # the ANSI filter follows: `get_line_filters`
        self.stylesheet.set_variables(self.get_css_variables())

    def get_theme_variable_defaults(self) -> dict[str, str]:
        return dict(THEME_VARIABLE_DEFAULTS)

    def on_mount(self) -> None:
        from hybrid_tui.ui.plans.screen import PlansScreen

        self._notify_problems()
        screen = PlansScreen()
        self.push_screen(screen)
        screen.call_after_refresh(self._after_first_frame)

    async def on_unmount(self) -> None:
        """However the app closes (an `exit()` that did not ask, say), the attempts still going
        are cancelled and their records written before it is gone (invariant 4)."""
        if self.approvals is not None:
            await self.approvals.close()
        await self.active_runs.cancel_all(self.QUIT_WAIT_SECONDS)

    def _notify_problems(self) -> None:
        problems = self.context.problems  # a worker thread may append meanwhile
        while problems:
            self.notify(problems.pop(0), severity="warning", timeout=10, markup=False)

    def _after_first_frame(self) -> None:
        if self._resume_gc:
            self._resume_gc = False
            gc.freeze()
            gc.enable()
        self._load_after_first_frame()
        self._serve_approvals()
        self._recover_runs()

    @work(thread=True, exit_on_error=False, group="recovery")
    def _recover_runs(self) -> str | None:
        """What `hybrid-tui runs` does first, at start-up: runs orphaned by a hybrid-tui that
        stopped are marked interrupted, their work committed; then one line says what waits."""
        from hybrid_tui.core.errors import HybridError
        from hybrid_tui.core.project import find_project_root
        from hybrid_tui.core.run.recovery import recover_runs, startup_line

        store = self.context.store
        try:
            recovered = recover_runs(store)
            root = find_project_root(self.context.repo)
        except HybridError:  # a state dir that cannot be written, no repository: nothing to say
            return None
        return startup_line(recovered, store.list(root))

    @work(exit_on_error=False, group="approvals")
    async def _serve_approvals(self) -> None:
        """Answer Claude's approval hook for this repository (`ui/approvals.py`)."""
        from hybrid_tui.ui.approvals import Approvals

        approvals = Approvals(self, self.context.repo)
        problem = await approvals.start()
        if problem is None:
            self.approvals = approvals
        else:
            self.notify(problem, severity="warning", timeout=8, markup=False)

    def delegate_approved_plan(self, request: dict[str, Any]) -> None:
        """Claude's plan, delegated from its approval prompt: the spec screen opens on it, over
        whatever is shown (the plan file Claude named, else a copy kept in the state dir)."""
        from hybrid_tui.core.plan.plans import Plan, plan_title
        from hybrid_tui.core.private_files import private_dir, write_private
        from hybrid_tui.ui.plans.screen import PlansScreen

        tool_input = request["tool_input"]
        text = tool_input.get("plan") if isinstance(tool_input.get("plan"), str) else ""
        named = tool_input.get("planFilePath")
        path = Path(named) if isinstance(named, str) and named else None
        if path is None or not path.is_file():
            folder = private_dir(self.context.store.root / "approved-plans")
            path = folder / (path.name if path is not None else "plan.md")
            write_private(path, text)
        st = path.stat()
        plan = Plan(path, plan_title(text, path.stem), st.st_mtime, st.st_size, root=path.parent)
        plans = next((screen for screen in self.screen_stack if isinstance(screen, PlansScreen)), None)
        self.open_spec(plan, plans.drafts if plans is not None else {})

    @work(thread=True, exit_on_error=False, group="startup")
    def _load_after_first_frame(self) -> list[Theme]:
        """Validate the settings (when the app reads them) and the theme files."""
        self.context.settings  # noqa: B018 - built on first use
        if self._themes_loaded:
            return []
        user_dir = self.context.user_themes_dir
        themes, problems = load_themes([builtin_themes_dir(), *([user_dir] if user_dir else [])])
        self.context.problems.extend(problems)
        return themes

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group == "recovery" and event.worker.is_finished:
            if event.state == WorkerState.SUCCESS and event.worker.result:
                self.notify(event.worker.result, title="Runs", timeout=8, markup=False)
            self.recovery_done = True
            return
        if event.worker.group != "startup" or not event.worker.is_finished:
            return
        if event.state == WorkerState.SUCCESS:
            self.set_keymap(self.context.settings.keys)
            themes: list[Theme] = event.worker.result or []
            for theme in themes:
                if theme.name != self.theme:  # the one in use was read from the same file
                    self.register_theme(theme)
            wanted = self.context.startup.theme
            if wanted not in self.available_themes:
                self.context.problems.append(f"[ui] theme = {wanted!r}: there is no such theme; "
                                             f"{self.theme} is used.")
        elif event.state == WorkerState.ERROR:
            self.context.problems.append(f"Could not read the settings: {event.worker.error}")
        self._notify_problems()
        self.startup_done = True

    # -- moving between screens: plans -> spec -> run -> review ---------------------------------

    def open_spec(self, plan: Plan, drafts: dict[Path, Draft]) -> None:
        from hybrid_tui.ui.spec.screen import SpecScreen

        self.push_screen(SpecScreen(plan, drafts=drafts))

    def open_run(self, run: Run, *, warnings: Sequence[str] = (), approved_checks: list[str] | None = None,
                 revision: bool = False, replace: bool = False) -> None:
        """The run screen, which starts the attempt; `replace`: in place of the screen shown."""
        from hybrid_tui.ui.run.screen import RunScreen

        screen = RunScreen(run, warnings=list(warnings), approved_checks=approved_checks, revision=revision)
        (self.switch_screen if replace else self.push_screen)(screen)

    def run_ended(self, run: Run, *, shown: bool) -> None:
        """A run's agent ended: say so on whatever screen is up when it is not the run's own
        (the run screen shows it), and ring the bell when `[ui] bell` asks for it."""
        from hybrid_tui.core.plan.plan_runs import STATE_WORDS

        if not shown:
            state = STATE_WORDS[run.status]
            severity: SeverityLevel = "error" if state == "failed" else "information"
            self.notify(f"Run {run.id} ({run.title}) ended: {state}. f2 lists the runs.",
                        title="Run ended", severity=severity, timeout=10, markup=False)
        if self.context.settings.ui.bell:
            self.bell()
        from hybrid_tui.ui.runs.screen import RunsScreen

        if isinstance(self.screen, RunsScreen):
            self.screen.read_again()

    def action_open_runs(self) -> None:
        """The runs view (ui/runs/screen.py); from it, `f2` does nothing more."""
        from hybrid_tui.ui.runs.screen import RunsScreen

        if not isinstance(self.screen, RunsScreen):
            self.push_screen(RunsScreen())

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield SystemCommand("Runs", "Every run of this repository: state, steps, checks; open a review (f2)",
                            self.action_open_runs)

    def open_review(self, run: Run) -> None:
        from hybrid_tui.ui.review.screen import ReviewScreen

        self.push_screen(ReviewScreen(run))

    def go_back(self) -> None:
        """Back to the screen before this one."""
        self.pop_screen()

    def back_to_plans(self) -> None:
        """Pop every screen above the plans screen (the first one pushed on the default)."""
        while len(self.screen_stack) > 2:
            self.pop_screen()

    async def action_quit(self) -> None:
        """Quit; while a run is going, ask first: cancel it (work committed) or stay."""
        active = self.active_runs.active()
        if not active:
            self.exit()
            return
        if self._asking_to_quit:
            return
        from hybrid_tui.ui.dialogs.confirm import ConfirmScreen

        agents = sorted({execution.agent.display_name for execution in active})
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
        if self.active_runs.active():
            self.notify("Stopping the agent and committing its work…")
        await self.active_runs.cancel_all(self.QUIT_WAIT_SECONDS)
        self.exit()


def make_app(
    settings: Settings | None = None,
    *,
    repo: Path | None = None,
    plans_dir: Path | None = None,
    store: RunStore | None = None,
    clock: Callable[[], datetime] | None = None,
    watch_plans: bool | None = None,
    resume_gc: bool = False,
) -> HybridApp:
    """Build the app from settings and core objects (the CLI and the tests call this).

    `settings` None: the app reads the config file (`config_path()`) itself, the way the
    `hybrid-tui` command starts it: the values the first frame needs come straight from the
    TOML (`StartupSettings`, no pydantic) and the full `Settings` are validated after the first
    frame. A file that cannot be read or is invalid is a notification naming it and the
    reason; the default settings are used. `resume_gc`: the caller turned the garbage collector
    off for start-up; the app turns it back on after the first frame."""
    problems: list[str] = []
    load = None
    if settings is None:
        path = config_path()
        try:
            table = read_config_table(path)
        except InputError as err:
            problems.append(f"{err}\nThe default settings are used.")
            table = None
        startup = StartupSettings.from_table(table)
        load = settings_loader(table, path, startup)
    else:
        startup = StartupSettings(settings.ui.theme, settings.ui.watch_plans, settings.plans_dir, settings.state_dir)
    context = AppContext(
        settings,
        (repo or Path.cwd()).resolve(),
        plans_dir if plans_dir is not None else startup.plans_dir,
        store,
        clock or _utc_now,
        startup.watch_plans if watch_plans is None else watch_plans,
        problems=problems,
        startup=startup,
        load_settings=load,
    )
    if plans_dir is None and startup.plans_dir is not None:
        from hybrid_tui.core.plan.plans import CONFIG_SOURCE

        context.plans_dir_source = CONFIG_SOURCE
    return HybridApp(context, resume_gc=resume_gc)
