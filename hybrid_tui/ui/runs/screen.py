"""The runs view: every run of this repository, newest first, and the way back to any of them.

Behaviour choices:
- `f2` from any screen (the app's binding; also in the command palette as "Runs") opens it;
  `escape` goes back to the screen it was opened from.
- One row a run: its state (the plan list's words and colours, `core.plan.plan_runs`), title
  (cut at `TITLE_WIDTH`), steps (`6+2`: two more requests than steps, retries), elapsed time,
  checks passed of those run (`3/4`, `–` when none ran, `skipped` when not approved), agent
  and profile, and its id.
  The runs are read in a worker (a run record each); until they are, the view shows the runs
  the plans screen read last (every 5 s), or "Reading runs…".
- `x` discards the highlighted run (asks first): as the review's reject, its branch and
  worktree go and its tip is kept under `refs/hybrid-tui/rejected/`; a run still going or
  already landed is refused, saying why.
- `enter` (or `v`) opens the highlighted run's review: a run waiting in review, failed, stopped or
  landed (a landed one reads as it landed). A run still going has no review yet: the row says
  so instead of opening anything.
- At start-up the app itself runs the recovery `hybrid-tui runs` runs (ui/app.py: runs left
  going by a hybrid-tui that stopped are marked interrupted, their work committed) and says in
  one line what it found and what waits (`core.run.recovery.startup_line`).
- Left out for now (issue 14 goes on): opening a run's live pane or its transcript, resuming
  and adopting orphans from here.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.content import Content
from textual.widgets import DataTable, Footer, Static
from textual.worker import Worker, WorkerState

from hybrid_tui.core.inert import inert
from hybrid_tui.ui.hybrid_screen import HybridScreen

if TYPE_CHECKING:
    from hybrid_tui.core.runs import Run

REFRESH_SECONDS = 5.0
"""How often the view reads the runs again while it is shown (a run in another window moves on)."""
TITLE_WIDTH = 22
COLUMNS = (("State", 8), ("Title", TITLE_WIDTH), ("Steps", 5), ("Time", 7), ("Checks", 7), ("Agent", 16), ("Run", 16))
"""The columns and their widths: fixed, so a thousand rows are added without measuring each cell."""
"""Titles are cut at this many cells (with "…"), so steps, time and checks stay in view at 60
columns; the run id comes last."""


def _seconds(start: str | None, end: str | None, now: datetime) -> float | None:
    if not start:
        return None
    try:
        begun = datetime.fromisoformat(start)
        ended = datetime.fromisoformat(end) if end else now
        return (_aware(ended) - _aware(begun)).total_seconds()
    except (ValueError, OverflowError):
        return None


def _aware(moment: datetime) -> datetime:
    """A record written without a zone is UTC (hybrid-tui writes UTC)."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def run_cells(run: Run, now: datetime, colours: dict[str, str]) -> tuple[Text, ...]:
    """The cells of one run's row (see the module docstring)."""
    from hybrid_tui.core.plan.plan_runs import STATE_WORDS
    from hybrid_tui.ui.plans.plan_list import RUN_COLOURS
    from hybrid_tui.ui.run.screen import format_elapsed

    state = STATE_WORDS[run.status]
    from hybrid_tui.core.quota import profile_name

    agent = run.agent + (f" · {profile_name(run)}" if run.profile_name or run.profile else "")
    steps = str(run.steps) + (f"+{run.requests - run.steps}" if run.requests > run.steps else "")
    seconds = _seconds(run.started_at, run.finished_at, now)
    if run.checks_skipped:
        checks = "skipped"
    elif run.checks is None:
        checks = "–"
    else:
        checks = f"{sum(1 for check in run.checks if check.ok)}/{len(run.checks)}"
    title = Text(inert(run.title, one_line=True))  # a plan's title: its bytes never reach the terminal raw
    title.truncate(TITLE_WIDTH, overflow="ellipsis")
    return (
        Text(state, style=colours.get(RUN_COLOURS[state], "")),
        title,
        Text(steps, justify="right"),
        Text(format_elapsed(seconds) if seconds is not None else "–", justify="right"),
        Text(checks, justify="right"),
        Text(inert(agent, one_line=True)),
        Text(run.id, style="dim"),
    )


class RunsScreen(HybridScreen):
    DEFAULT_CSS = """
    RunsScreen { layout: vertical; }
    RunsScreen > #runs-header { height: 1; padding: 0 1; background: $panel; color: $foreground; }
    RunsScreen > DataTable { height: 1fr; }
    RunsScreen > #runs-empty { height: 1fr; padding: 1 2; color: $text-muted; display: none; }
    RunsScreen.-empty > #runs-empty { display: block; }
    RunsScreen.-empty > DataTable { display: none; }
    """

    BINDINGS = [
        Binding("v", "open", "Review", id="runs.open"),  # enter too (the table's own select)
        Binding("x", "discard", "Discard", id="runs.discard"),
        Binding("escape", "back", "Back", id="runs.back"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.runs: list[Run] = []
        self.read = False  # the runs were read once

    def compose(self) -> ComposeResult:
        yield Static("Reading runs…", id="runs-header")
        table: DataTable[Text] = DataTable(cursor_type="row", zebra_stripes=False, id="runs-table")
        for label, width in COLUMNS:
            table.add_column(label, width=width)
        yield table
        yield Static("", id="runs-empty")
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        known = self.hybrid.known_runs
        if known is not None:
            self._show(known[1], known[0])  # what the plans screen read last: at once
        self._read_runs()
        self.set_interval(REFRESH_SECONDS, self._refresh)

    def _refresh(self) -> None:
        if self.is_current:
            self._read_runs()

    def read_again(self) -> None:
        """Read the runs again now (a run ended)."""
        self._read_runs()

    def on_screen_resume(self) -> None:
        if self.read:
            self._read_runs()  # back from a review: the run may have landed

    @work(thread=True, exclusive=True, exit_on_error=False, group="runs-read")
    def _read_runs(self) -> tuple[list[Run], Path]:
        from hybrid_tui.core.project import find_project_root

        context = self.context
        try:
            root = find_project_root(context.repo)
        except Exception:  # not in a checkout: the runs made from here
            root = Path(context.repo)
        return context.store.list(root), root

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        if worker.group == "runs-discard":
            self._discarded(event)
            return
        if worker.group != "runs-read":
            return
        if event.state == WorkerState.SUCCESS:
            result: Any = worker.result
            self._show(*result)
        elif event.state == WorkerState.ERROR:
            self.notify(f"Could not read the runs: {worker.error}", severity="error", timeout=10, markup=False)

    def _show(self, runs: list[Run], root: Path) -> None:
        self.runs = runs
        self.read = True
        table = self.query_one(DataTable)
        selected = self.selected_run()
        highlighted = table.cursor_row
        table.clear()
        variables = self.app.theme_variables
        colours = {name: variables.get(name, "") for name in ("warning", "accent", "success", "text-muted", "error")}
        now = self.context.clock()
        for run in runs:
            table.add_row(*run_cells(run, now, colours), key=run.id)
        if runs:
            ids = [run.id for run in runs]
            row = ids.index(selected.id) if selected is not None and selected.id in ids else highlighted
            table.move_cursor(row=min(row, len(runs) - 1))  # the same run stays highlighted
        going = sum(1 for run in runs if run.is_active)
        waiting = sum(1 for run in runs if run.status.value == "review")
        summary = f"{len(runs)} run{'s' * (len(runs) != 1)} of {root.name}"
        if going or waiting:
            summary += f" · {going} going · {waiting} in review"
        self.query_one("#runs-header", Static).update(Content(inert(summary, one_line=True)))
        self.query_one("#runs-empty", Static).update(
            Content(inert(f"No runs of {root.name} yet: delegate a plan (d on the plans screen) to make one."))
        )
        self.set_class(not runs, "-empty")
        table.focus()

    def selected_run(self) -> Run | None:
        table = self.query_one(DataTable)
        if not self.runs or not 0 <= table.cursor_row < len(self.runs):
            return None
        return self.runs[table.cursor_row]

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_open()

    def action_open(self) -> None:
        run = self.selected_run()
        if run is None:
            return
        if run.is_active:
            self.notify(f"Run {run.id} is still {run.status.value}: its review opens when the agent ends.",
                        severity="warning", markup=False)
            return
        self.hybrid.open_review(run)

    def action_discard(self) -> None:
        """Reject the highlighted run (asks first): its branch and worktree go, its tip is kept
        under refs/hybrid-tui/rejected/ (core.land.accept.reject_run)."""
        run = self.selected_run()
        if run is None:
            return
        if (refused := run.refusal("reject")) is not None:
            self.notify(f"Not discarded: {refused.message}", severity="warning", markup=False)
            return
        from hybrid_tui.core.land.accept import REJECTED_REF
        from hybrid_tui.ui.dialogs.confirm import ConfirmScreen

        body = (f"Delete branch {run.branch} and its worktree. Its tip is kept as "
                f"{REJECTED_REF.format(run_id=run.id)}.")
        def answered(yes: bool | None) -> None:
            if yes:
                self._discard(run)

        self.app.push_screen(ConfirmScreen("Discard the run?", body, "Discard", "Keep it"), answered)

    @work(thread=True, exclusive=True, exit_on_error=False, group="runs-discard")
    def _discard(self, run: Run) -> str:
        from hybrid_tui.core.land.accept import reject_run

        reject_run(self.context.store, run)
        return run.id

    def _discarded(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        if event.state == WorkerState.SUCCESS:
            self.notify(f"Run {worker.result} discarded: branch and worktree removed, its tip kept.", markup=False)
            self._read_runs()
        elif event.state == WorkerState.ERROR:
            error = worker.error
            message = getattr(error, "message", None) or str(error)
            self.notify(f"Not discarded: {message}", severity="error", timeout=10, markup=False)

    def action_back(self) -> None:
        self.hybrid.go_back()
