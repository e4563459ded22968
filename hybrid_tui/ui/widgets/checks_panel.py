"""The review's verification: `ChecksPanel` (one row per check, and their output) and
`LiveChecks`, which re-runs a run's checks off the UI thread.

`ChecksPanel` shows `run.checks` as rows: "✓ exit 0   0.4s  pytest -q" (✗ for a failure,
with its exit code, "timed out" or "stopped"), under a title that counts them. Below, an
`EventLog` holds the output of the checks: streamed live while they re-run, or the last run's
output read back from `checks.log` (`last_checks_output`). The output pane is hidden until
asked for (`o`) or until the checks start; while it shows, the title says that `o` hides it.

Behaviour choices:
- At most `MAX_ROWS` rows; with more checks the failures come first and the rest are counted.
- Checks that ran on another commit than the branch tip (before a rebase, say) say so.
- A plan run ("Claude implements": the plan itself was the prompt) has no spec, so no checks:
  the title says so rather than offering to run them.
- `LiveChecks` works like `ui.live_run.LiveRun`: `run_blocking` runs `verify.RunChecks` on a
  private event loop in a thread worker (the checks do git work before and after the
  commands); output events are batched there (`EventBatcher`) and handed to `sink`, which must
  be thread-safe (the screen posts a message). `cancel()` works from any thread.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.markup import escape
from textual.widgets import Static

from hybrid_tui.core.inert import inert
from hybrid_tui.ui.widgets.event_log import EventLog

if TYPE_CHECKING:
    from hybrid_tui.agents.events import AgentEvent
    from hybrid_tui.core.runs import CheckResult, Run, RunStore

MAX_ROWS = 3
LOG_HEADER = "== checks of run "


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


def last_checks_output(log_path: Path, max_lines: int = 400) -> list[str]:
    """The output of the last checks run, from `checks.log` (its last `max_lines` lines)."""
    try:
        text = log_path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    start = text.rfind(LOG_HEADER)
    lines = text[max(start, 0):].splitlines()
    return lines[-max_lines:]


class ChecksPanel(Vertical):
    """Rows of check results, and a hidden output pane (`show_output`)."""

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

    def __init__(self, *, max_lines: int = 2000, id: str | None = None) -> None:
        super().__init__(id=id)
        self.max_lines = max_lines
        self.running = False
        self.output_loaded = False
        self._shown: tuple[Run, str | None] | None = None  # what `show_checks` last showed

    def compose(self) -> ComposeResult:
        yield Static(id="checks-rows")
        log = EventLog(max_lines=self.max_lines, id="checks-output")
        log.can_focus = False
        yield log

    @property
    def output(self) -> EventLog:
        return self.query_one(EventLog)

    @property
    def output_shown(self) -> bool:
        return self.has_class("-output")

    def show_checks(self, run: Run, tip: str | None) -> None:
        self._shown = (run, tip)
        title = checks_title(run, tip, self.running)
        if self.output_shown and not self.running:
            title += " [$text-muted]· o hides the output[/]"  # the key is not in the footer
        lines = [title, *checks_rows(run.checks)]
        self.query_one("#checks-rows", Static).update("\n".join(lines))

    def show_output(self, shown: bool = True) -> None:
        self.set_class(shown, "-output")
        if self._shown is not None:
            self.show_checks(*self._shown)

    def start_output(self) -> None:
        """Clear the pane for a new run of the checks and show it."""
        self.output.clear()
        self.output_loaded = True
        self.show_output(True)

    def add_output(self, events: list[AgentEvent]) -> None:
        self.output.add_events(events)

    def text(self) -> str:
        """The rows as plain text (tests)."""
        return str(self.query_one("#checks-rows", Static).render())


class LiveChecks:
    """One re-run of a run's checks on its own thread and event loop."""

    def __init__(
        self, store: RunStore, run: Run, *, timeout: float, sink: Callable[[list[AgentEvent]], None],
        approved: list[str], sandbox: str = "auto", network: bool = False,
    ) -> None:
        """`approved`: the commands the user approved (they run only if they are still the run's)."""
        self.sandbox, self.network = sandbox, network
        self.approved = list(approved)
        self.store = store
        self.run = run
        self.timeout = timeout
        self._sink = sink
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._checks = None
        self._cancel_requested = False

    def run_blocking(self) -> list[CheckResult]:
        """Run the checks to the end (call in a thread worker); their results, recorded."""
        return asyncio.run(self._main())

    async def _main(self) -> list[CheckResult]:
        from hybrid_tui.core.verify import RunChecks, require_rerunnable
        from hybrid_tui.ui.widgets.event_log import EventBatcher

        require_rerunnable(self.run)
        batcher = EventBatcher(self._sink)
        checks = RunChecks(
            self.store, self.run, timeout=self.timeout, on_events=batcher.add, approved=self.approved,
            sandbox=self.sandbox, network=self.network,
        )
        with self._lock:
            self._loop = asyncio.get_running_loop()
            self._checks = checks
            cancel_now = self._cancel_requested
        if cancel_now:
            checks.cancel()
        try:
            return await checks.start()
        finally:
            batcher.flush()
            with self._lock:
                self._loop = None

    def cancel(self) -> None:
        """Stop the running check and skip the rest (thread-safe)."""
        with self._lock:
            self._cancel_requested = True
            if self._loop is not None and self._checks is not None:
                self._loop.call_soon_threadsafe(self._checks.cancel)
