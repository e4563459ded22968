"""The review's verification: `ChecksPanel`, one row per check, and their output.

`ChecksPanel` shows `run.checks` as rows: "✓ exit 0   0.4s  pytest -q" (✗ for a failure,
with its exit code, "timed out" or "stopped"), under a title that counts them. Below, an
`EventLog` holds the output of the checks: streamed live while they re-run, or the last run's
output read back from each check's own output file (`last_checks_output`). The output pane is hidden until
asked for (`o`) or until the checks start; while it shows, the title says that `o` hides it.

Behaviour choices:
- At most `MAX_ROWS` rows; with more checks the failures come first and the rest are counted.
- Checks that ran on another commit than the branch tip (before a rebase, say) say so.
- A plan run ("Claude implements": the plan itself was the prompt) has no spec, so no checks:
  the title says so rather than offering to run them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.markup import escape
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import Static

from hybrid_tui.agents.events import Text
from hybrid_tui.core.inert import inert
from hybrid_tui.core.run.revise import describe_check
from hybrid_tui.core.verify import RunChecks, read_output, require_rerunnable
from hybrid_tui.ui.widgets.event_log import EventBatcher, EventLog

if TYPE_CHECKING:
    from hybrid_tui.agents.events import AgentEvent
    from hybrid_tui.config import Settings
    from hybrid_tui.core.runs import CheckResult, Run, RunStore

MAX_ROWS = 3


def check_status(check: CheckResult) -> str:
    """How a check ended, in a few words: "exit 0", "timed out", "stopped", "signal 9"."""
    if check.timed_out:
        return "timed out"
    if check.exit_code is None:
        return "stopped"
    if check.exit_code < 0:
        return f"signal {-check.exit_code}"
    return f"exit {check.exit_code}"


def check_row(check: CheckResult, status_width: int = 0, seconds_width: int = 0) -> str:
    """One check as a row (markup): mark, how it ended, seconds, the command."""
    mark = "[$text-success]✓[/]" if check.ok else "[$text-error]✗[/]"
    status = f"{check_status(check):<{status_width}}"
    if not check.ok:
        status = f"[$text-error]{status}[/]"
    return f"{mark} {status} [$text-muted]{check.seconds:>{seconds_width}.1f}s[/]  {escape(inert(check.command, one_line=True))}"


def checks_title(run: Run, tip: str | None, running: bool) -> str:
    """The panel's first line (markup)."""
    if running:
        return "[b]Checks[/b] · [$text-warning]running…[/] [$text-muted](output below)[/]"
    checks = run.checks
    source = "plan" if run.prompt_source == "plan" else "spec"  # a plan run checks the plan's own commands
    if checks is None and run.checks_skipped:
        return f"[b]Checks[/b] · [$text-warning]skipped: {escape(run.checks_skipped)}[/] [$text-muted]· c runs them[/]"
    if checks is None:
        return "[b]Checks[/b] · [$text-muted]not run yet · c runs them[/]"
    if not checks:
        return f"[b]Checks[/b] · [$text-muted]the {source} names none[/]"
    failed = sum(1 for c in checks if not c.ok)
    if failed:
        text = f"[b]Checks[/b] · [$text-error]{failed} of {len(checks)} failed[/]"
    else:
        text = f"[b]Checks[/b] · [$text-success]{'all ' if len(checks) > 1 else ''}{len(checks)} passed[/]"
    if tip and run.checks_sha and run.checks_sha != tip:
        text += f" [$text-warning](ran on {run.checks_sha[:7]}, not the branch tip)[/]"
    return text


def checks_rows(checks: list[CheckResult] | None) -> list[str]:
    if not checks:
        return []
    if len(checks) <= MAX_ROWS:
        shown, rest = checks, []
    else:
        ordered = [c for c in checks if not c.ok] + [c for c in checks if c.ok]
        shown, rest = ordered[: MAX_ROWS - 1], ordered[MAX_ROWS - 1 :]
    status_width = max(len(check_status(c)) for c in shown)
    seconds_width = max(len(f"{c.seconds:.1f}") for c in shown)
    rows = [check_row(c, status_width, seconds_width) for c in shown]
    if rest:
        failed = sum(1 for c in rest if not c.ok)
        more = f"{len(rest)} more" + (f", {failed} failed" if failed else ", all passed")
        rows.append(f"[$text-muted]  … {more} (o shows the output)[/]")
    return rows


def last_checks_output(run: Run, max_lines: int = 400) -> list[str]:
    """The output of the run's last checks (its last `max_lines` lines), from their records:
    a heading as `checks.log` has it, then each check's `$ command`, what it printed (`verify.read_output`, its own file) and how it
    ended. Blocking file reads: call from a thread worker."""
    if not run.checks:
        return []
    lines = [f"== checks of run {run.id} on {(run.checks_sha or '')[:7]} at {run.checks_at or '?'} =="]
    for check in run.checks:
        lines.append(f"$ {check.command}")
        lines += read_output(check)
        lines.append(f"{'✓' if check.ok else '✗'} {describe_check(check)}")
    return lines[-max_lines:]


class ChecksPanel(Vertical):
    """Rows of check results, and a hidden output pane (`show_output`).

    The panel owns the checks of its run: `rerun(...)` runs the approved ones again in an
    async worker (`verify.RunChecks`), streaming their output into the pane, and posts
    `Finished` with the results or the error; leaving the screen stops them. `tip` (the branch
    tip, to tell checks of an older commit) and `running` are reactives."""

    DEFAULT_CSS = """
    ChecksPanel {
        height: auto;
        padding: 0 1;
        background: $panel;
        & > #checks-rows { height: auto; text-wrap: nowrap; text-overflow: ellipsis; }
        & > EventLog { display: none; height: 8; max-height: 40vh; background: $background; }
        &.-output > EventLog { display: block; }
    }
    """

    tip: reactive[str | None] = reactive(None)
    running: reactive[bool] = reactive(False)

    class Finished(Message):
        """The re-run checks ended: their results, or the error that stopped them."""

        def __init__(self, results: list[CheckResult] | None, error: BaseException | None = None) -> None:
            super().__init__()
            self.results = results
            self.error = error

    def __init__(self, run: Run, *, max_lines: int = 2000, id: str | None = None) -> None:
        super().__init__(id=id)
        self.run = run
        self.max_lines = max_lines
        self.output_loaded = False
        self.checks: RunChecks | None = None  # the checks re-running now

    def compose(self) -> ComposeResult:
        yield Static(id="checks-rows")
        log = EventLog(max_lines=self.max_lines, id="checks-output")
        log.can_focus = False
        yield log

    def on_mount(self) -> None:
        self.show_checks()

    def on_unmount(self) -> None:
        self.stop()

    def watch_tip(self) -> None:
        self.show_checks()

    watch_running = watch_tip

    @property
    def output(self) -> EventLog:
        return self.query_one(EventLog)

    @property
    def output_shown(self) -> bool:
        return self.has_class("-output")

    def show_checks(self) -> None:
        """Draw the rows again from the run's checks."""
        if not self.is_mounted:
            return
        title = checks_title(self.run, self.tip, self.running)
        if self.output_shown and not self.running:
            title += " [$text-muted]· o hides the output[/]"  # the key is not in the footer
        lines = [title, *checks_rows(self.run.checks)]
        self.query_one("#checks-rows", Static).update("\n".join(lines))

    def show_output(self, shown: bool = True) -> None:
        self.set_class(shown, "-output")
        self.show_checks()
        if shown and not self.output_loaded and not self.running:
            self._read_last_output()

    def toggle_output(self) -> None:
        """Show or hide the output pane (`o`); shown first, it holds the last run's output."""
        self.show_output(not self.output_shown)

    def add_output(self, events: list[AgentEvent]) -> None:
        self.output.add_events(events)

    def text(self) -> str:
        """The rows as plain text (tests)."""
        return str(self.query_one("#checks-rows", Static).render())

    # -- running them again ----------------------------------------------------------------

    def rerun(self, store: RunStore, settings: Settings, approved: list[str]) -> None:
        """Run the `approved` checks again; `Finished` follows."""
        batcher = EventBatcher(self.add_output)
        self.checks = RunChecks(
            store, self.run, timeout=settings.review.check_timeout, approved=approved, on_events=batcher.add,
            sandbox=settings.sandbox, network=settings.review.check_network,
        )
        self.output.clear()
        self.output_loaded = True
        self.running = True
        self.show_output(True)
        self._run_checks(self.checks, batcher)

    def stop(self) -> None:
        if self.checks is not None:
            self.checks.cancel()

    @work(group="checks", exclusive=True, exit_on_error=False)
    async def _run_checks(self, checks: RunChecks, batcher: EventBatcher) -> None:
        results: list[CheckResult] | None = None
        error: BaseException | None = None
        try:
            require_rerunnable(self.run)
            results = await checks.start()
        except Exception as err:  # said by the screen, in its message area
            error = err
        finally:
            batcher.flush()
            self.checks = None
            self.running = False
        self.post_message(self.Finished(results, error))

    @work(thread=True, group="checks-output", exclusive=True, exit_on_error=False)
    def _read_last_output(self) -> None:
        lines = last_checks_output(self.run)
        self.app.call_from_thread(self._show_last_output, lines)

    def _show_last_output(self, lines: list[str]) -> None:
        self.output_loaded = True
        self.output.clear()
        self.add_output([Text(line, raw=True) for line in lines] or [Text("(no output recorded)", raw=True)])
