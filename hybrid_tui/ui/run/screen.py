"""`RunScreen`: one run, live. The agent's events stream into an `EventLog` as they arrive.

On mount the screen starts the `RunExecution` in an async worker on the UI's event loop: the
agent's pipes are asyncio streams, and the core runs its git and file work in threads
(`asyncio.to_thread`), so none of it blocks the UI. Events come in batches (`EventBatcher`, at
most one per frame) straight into the log.

The same screen serves both agents: Kimi on a spec, Claude on a spec or on the plan itself;
and a revision (`revision`, prepared by `revise.prepare_revision`: the run sent back to its
agent from the review, which resumes its session on the same branch; `RunExecution(revision=True)`).
After the agent finished, the checks the user approved before the run (`approved_checks`; a
plan run's are the plan's own) run in the worktree (`settings.review.check_timeout` each) and
stream into the same pane; unapproved ones are skipped and the pane says so.

Behaviour choices:
- The header shows the agent ("Kimi", "Claude"), the branch, the budget used — Kimi's
  "step N/M" (M = agents.kimi.max_steps), Claude's "turn N", or "turn N/M" when
  agents.claude.max_turns is set — the time since the screen started the run (from the app's
  injected clock, so snapshots are fixed) and the status; a 1 s timer refreshes it while the
  agent runs and stops when it ends. Once the agent ended, the turns, tokens and cost it
  reported (Claude's `result` line) follow, each only when known. A run that did not end in
  review says why on a third line, wrapped (the run's message, e.g. "... did not answer;
  retry"): the log's own last line is cut to the pane's width.
- Warnings from `prepare_run` open the log as warning notices.
- Keys only show in the footer when they apply: cancel while the agent runs; review once it
  ended (failed runs too: their branch is reviewable); retry after a transient failure (a new
  run from the same spec or plan text replaces this screen; not for a revision: the review's
  revise sends it again). Escape goes back to the plans once the agent ended; while it runs it
  says to cancel first.
- A revision's header says which one it is ("revision 2"); its steps are the revision's own.
- Leaving the screen any other way (the app shutting down) cancels the agent: its work is
  committed and the run marked cancelled, never orphaned.
"""

from __future__ import annotations

import contextlib
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.binding import Binding
from textual.markup import escape
from textual.timer import Timer
from textual.widgets import Footer, Static
from textual.worker import Worker, WorkerState

from hybrid_tui.agents.events import AgentEvent, Notice
from hybrid_tui.core.errors import HybridError
from hybrid_tui.core.inert import inert
from hybrid_tui.core.runs import Run, Status
from hybrid_tui.ui.dialogs.confirm import ConfirmScreen
from hybrid_tui.ui.hybrid_screen import HybridScreen
from hybrid_tui.ui.widgets.event_log import EventLog, status_words

if TYPE_CHECKING:
    from hybrid_tui.core.run.dispatch import Prepared, RunExecution

_STATUS_COLOURS = {
    Status.REVIEW: "$success",
    Status.ACCEPTED: "$success",
    Status.CANCELLED: "$warning",
    Status.FAILED: "$error",
    Status.TIMED_OUT: "$error",
    Status.INTERRUPTED: "$warning",
}


def format_elapsed(seconds: float) -> str:
    """`m:ss`, or `h:mm:ss` from an hour on."""
    total = max(0, int(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02}:{secs:02}" if hours else f"{minutes}:{secs:02}"


def usage_parts(run: Run) -> list[str]:
    """What the agent used, as far as known: `5 requests` (when retries made them more than
    the steps), `220 tokens`, `$0.0012`."""
    parts = []
    if run.requests > run.steps:
        parts.append(f"{run.requests} requests")
    if run.tokens is not None:
        parts.append(f"{run.tokens:,} tokens")
    if run.cost_usd is not None:
        parts.append(f"${run.cost_usd:.4f}")
    return parts


class RunScreen(HybridScreen):
    DEFAULT_CSS = """
    RunScreen { layout: vertical; }
    RunScreen > #run-header {
        height: auto;
        max-height: 6;
        padding: 0 1;
        background: $panel;
        color: $foreground;
    }
    RunScreen > EventLog { height: 1fr; }
    """

    BINDINGS = [
        Binding("x", "cancel_run", "Cancel run", id="run.cancel"),
        Binding("ctrl+x", "cancel_run", "Cancel run", show=False, id="run.cancel-ctrl"),
        Binding("enter", "review", "Review", id="run.review"),
        Binding("v", "review", "Review", show=False, id="run.review-v"),
        Binding("r", "retry", "Retry", id="run.retry"),
        Binding("escape", "back", "Plans", id="run.back"),
    ]

    def __init__(
        self,
        run: Run,
        *,
        warnings: list[str] | None = None,
        revision: bool = False,
        approved_checks: list[str] | None = None,
    ) -> None:
        """`revision`: run the revision `revise.prepare_revision` prepared for `run` instead of
        the run itself. `approved_checks`: the checks the
        user approved (`CheckApprovalScreen`); None skips them."""
        super().__init__()
        self.run = run
        self.approved_checks = approved_checks
        self.warnings = list(warnings or [])
        self.revision = revision
        self.execution: RunExecution | None = None
        self.ended = False
        self.error: str | None = None
        self._started: datetime | None = None
        self._finished: datetime | None = None
        self._timer: Timer | None = None
        self._max_steps: int | None = None
        self._agent_name = run.agent
        self._unit = "turn" if run.agent == "claude" else "step"

    def compose(self) -> ComposeResult:
        yield Static(id="run-header")
        yield EventLog(max_lines=self.hybrid.context.settings.ui.log_max_lines, id="run-log")
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        log = self.query_one(EventLog)
        log.focus()
        if self.warnings:
            log.add_events([Notice(text, "warning") for text in self.warnings])
        self._started = self.hybrid.context.clock()
        try:
            self._start()
        except HybridError as err:
            self._end(error=str(err))
        self._refresh_header()

    def _start(self) -> None:
        from hybrid_tui.agents.registry import agent_timeout, make_agent

        context = self.hybrid.context
        settings = context.settings
        if self.run.agent == "kimi" and self.run.profile_name:
            from hybrid_tui.core.errors import InputError

            with contextlib.suppress(InputError):  # a profile gone from the settings: the plain ones
                settings = settings.with_profile(self.run.profile_name)[0]
        if self.revision:
            from hybrid_tui.core.run.revise import agent_for_run

            agent = agent_for_run(self.run, settings)  # the flavour that made the session
        else:
            agent = make_agent(self.run.agent, settings)
        self._agent_name = agent.display_name
        self._max_steps = agent.step_budget
        assert context.store is not None
        from hybrid_tui.core.run.dispatch import (
            RunExecution,  # GitPython with it: never before the first frame
        )
        from hybrid_tui.ui.widgets.event_log import EventBatcher

        self._batcher = EventBatcher(self._show_events)
        self.execution = RunExecution(
            context.store,
            self.run,
            agent,
            timeout=agent_timeout(self.run.agent, settings),
            on_events=self._batcher.add,
            check_timeout=context.settings.review.check_timeout,
            approved_checks=self.approved_checks,
            revision=self.revision,
            sandbox=context.settings.sandbox,
            check_network=context.settings.review.check_network,
        )
        worker = self.run_worker(self._execute(self.execution), name="run", group="run", exit_on_error=False)
        self.hybrid.active_runs.add(self.execution, worker)
        self._timer = self.set_interval(1.0, self._refresh_header)

    async def _execute(self, execution: RunExecution) -> Run:
        """The attempt to its end. Leaving the screen cancels this worker, which stops the
        agent (its work committed, the run marked cancelled): never an orphan."""
        try:
            return await execution.start()
        finally:
            self._batcher.flush()

    # -- events and state ----------------------------------------------------------------

    def _show_events(self, events: list[AgentEvent]) -> None:
        """Into the log; once the screen is gone (the app closing) the attempt goes on unseen."""
        logs = self.query(EventLog)
        if not self.is_attached or not logs:
            return
        logs.first().add_events(events)
        self._refresh_header()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        worker, state = event.worker, event.state
        if worker.name == "run":
            if state == WorkerState.SUCCESS:
                self._end()
            elif state == WorkerState.ERROR:
                self._end(error=f"The run stopped on an error: {worker.error}")
        elif worker.name == "retry":
            if state == WorkerState.SUCCESS:
                prepared: Prepared = worker.result  # type: ignore[assignment]
                # the same spec or plan, so the same checks: approved already
                self.hybrid.open_run(prepared.run, warnings=prepared.warnings,
                                     approved_checks=self.approved_checks, replace=True)
            elif state == WorkerState.ERROR:
                err = worker.error
                text = str(err) if isinstance(err, HybridError) else f"Retry failed: {err}"
                self.notify(text, title="Cannot retry", severity="error", timeout=10)

    def _end(self, error: str | None = None) -> None:
        self.ended = True
        self.error = error
        self._finished = self.hybrid.context.clock()
        if self._timer is not None:
            self._timer.stop()
        if error:
            self.query_one(EventLog).add_events([Notice(error, "error")])
        self._refresh_header()
        self.refresh_bindings()
        self.hybrid.run_ended(self.run, shown=self.app.screen is self)

    def _status_markup(self) -> str:
        run = self.run
        if self.error:
            return "[$error]error[/]"
        if not self.ended:
            if self.execution is not None and self.execution.cancel_requested:
                return "[$warning]cancelling…[/]"
            return f"[$accent]{escape(run.status.value)}[/]"
        text = status_words(run.status.value, run.failure_kind)
        colour = _STATUS_COLOURS.get(run.status, "$foreground")
        return f"[{colour}]{escape(text)}[/]"

    def _refresh_header(self) -> None:
        run = self.run
        steps = self.execution.parser.steps if self.execution is not None else run.steps
        if self.ended and self._unit == "turn" and run.turns is not None:
            steps = run.turns  # what Claude's result line says, once it said it
        budget = f"/{self._max_steps}" if self._max_steps else ""
        now = self._finished or self.hybrid.context.clock()
        elapsed = format_elapsed((now - self._started).total_seconds()) if self._started else "-"
        usage = "".join(f" · {part}" for part in usage_parts(run)) if self.ended else ""
        revision = f" · revision {len(run.revisions)}" if self.revision else ""
        # Unconfined runs say so (their writes outside the worktree are not watched); the
        # reason is the pane's first notice.
        confined = " · [$warning]no sandbox[/]" if run.sandbox is None and run.sandbox_reason else ""
        header = (
            f"[b]{escape(self._agent_name)}[/b]{revision} · [$text-muted]{escape(run.branch)}[/]\n"
            f"{self._unit} {steps}{budget} · {elapsed} · {self._status_markup()}"
            f"[$text-muted]{escape(usage)}[/]{confined}"
        )
        if said := self._ending_message():
            colour = "$error" if self.error else _STATUS_COLOURS.get(run.status, "$foreground")
            header += f"\n[{colour}]{escape(said)}[/]"
        self.query_one("#run-header", Static).update(inert(header))  # the agent's message may hold escapes

    def _ending_message(self) -> str:
        """Why the run did not end in review, and what to do (the log's last line is cut to the
        pane's width; the header wraps): the error, or the run's message when it failed."""
        if not self.ended:
            return ""
        said = self.error or (self.run.message if self.run.failure_kind else "")
        return said.strip().replace(self.run.repo_root, self.run.root.name)

    # -- keys ----------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "cancel_run":
            return not self.ended
        if action == "review":
            return self.ended and self.run.is_reviewable
        if action == "retry":
            return self.ended and self.run.failure_kind == "transient" and not self.revision
        return True

    def action_cancel_run(self) -> None:
        execution = self.execution
        if self.ended or execution is None:
            return
        if execution.cancel_requested:
            self.notify("Cancelling: the agent is being stopped.")
            return

        def answer(yes: bool | None) -> None:
            if yes and not self.ended:
                execution.cancel()
                self._refresh_header()

        self.app.push_screen(
            ConfirmScreen(
                "Cancel the run?",
                f"{self._agent_name} is stopped; what it wrote so far is committed on "
                f"{self.run.branch}.",
                "Cancel the run",
                "Keep running",
            ),
            answer,
        )

    def action_review(self) -> None:
        if not (self.ended and self.run.is_reviewable):
            return
        self.hybrid.open_review(self.run)

    def action_retry(self) -> None:
        if not self.check_action("retry", ()):
            return
        what = "plan" if self.run.prompt_source == "plan" else "spec"
        self.notify(f"Starting a new run from the same {what}…")
        self.run_worker(self._prepare_again, name="retry", group="retry", thread=True,
                        exclusive=True, exit_on_error=False)

    def _prepare_again(self) -> Prepared:
        """A new run from this run's spec text, or plan text for a plan run (thread worker:
        git work)."""
        from hybrid_tui.agents.registry import make_agent
        from hybrid_tui.core.run.dispatch import prepare_plan_run, prepare_run

        context = self.hybrid.context
        assert context.store is not None
        run = self.run
        prepare = prepare_plan_run if run.prompt_source == "plan" else prepare_run
        return prepare(
            context.store,
            run.root,
            Path(run.spec_path).read_text(encoding="utf-8"),
            make_agent(run.agent, context.settings),
            plan_path=Path(run.plan_path) if run.plan_path else None,
            title=run.title,
        )

    def action_back(self) -> None:
        if not self.ended:
            self.notify("The agent is still running: cancel it first (x).", severity="warning")
            return
        self.hybrid.back_to_plans()
