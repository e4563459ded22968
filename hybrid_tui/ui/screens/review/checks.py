"""Re-running the checks: `c` lists them for approval (`CheckApprovalScreen`: they come from the
spec, or the plan of a plan run, so they are untrusted), then runs them (`verify.RunChecks`) in
an async worker; their output streams into the checks panel's output pane (`o` shows or hides
it, with the last run's output, each check's from its own file). Leaving the screen stops them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from hybrid_tui.ui.widgets.checks_panel import ChecksPanel, last_checks_output

if TYPE_CHECKING:
    from hybrid_tui.core.runs import CheckResult
    from hybrid_tui.core.verify import RunChecks
    from hybrid_tui.ui.widgets.event_log import EventBatcher


class ChecksMixin:
    """`ReviewScreen`'s checks: the panel under the header and the `c` / `o` keys."""

    def _refresh_checks(self) -> None:
        self.query_one(ChecksPanel).show_checks(self.run, self.tip)

    def action_rerun_checks(self) -> None:
        if not self.idle:
            return
        from hybrid_tui.core.errors import HybridError
        from hybrid_tui.core.verify import check_commands
        from hybrid_tui.ui.screens.check_approval import ask_check_approval

        try:
            commands = check_commands(self.run)
        except HybridError as err:
            self.show_error(err)
            return
        if not commands:
            what = "plan" if self.run.prompt_source == "plan" else "spec"
            self.notify(f"The {what} names no checks.", markup=False)
            return

        def approved(checks: list[str] | None) -> None:
            if checks and self.idle:
                self._start_checks(checks)

        ask_check_approval(
            self.app, "Run the checks again?", commands, self.hybrid.context.settings, approved,
            allow_skip=False, approve_label="Run them",
        )  # fmt: skip

    def _start_checks(self, approved: list[str]) -> None:
        store = self.hybrid.context.store
        assert store is not None
        panel = self.query_one(ChecksPanel)
        self.clear_message()
        settings = self.hybrid.context.settings
        from hybrid_tui.core.verify import RunChecks
        from hybrid_tui.ui.widgets.event_log import EventBatcher

        batcher = EventBatcher(panel.add_output)
        checks = self.live_checks = RunChecks(
            store, self.run, timeout=settings.review.check_timeout, approved=approved, on_events=batcher.add,
            sandbox=settings.sandbox, network=settings.review.check_network,
        )
        panel.running = True
        panel.start_output()
        self._refresh_checks()
        self.refresh_bindings()
        self.run_worker(self._run_checks(checks, batcher), name="checks", group="checks", exclusive=True,
                        exit_on_error=False)  # fmt: skip

    async def _run_checks(self, checks: RunChecks, batcher: EventBatcher) -> list[CheckResult]:
        from hybrid_tui.core.verify import require_rerunnable

        require_rerunnable(self.run)
        try:
            return await checks.start()
        finally:
            batcher.flush()

    def _checks_done(self, results: list) -> None:
        self._checks_ended()
        failed = sum(1 for check in results if not check.ok)
        if not results:
            self.notify("The spec names no checks.")
        elif failed:
            self.notify(f"{failed} of {len(results)} checks failed.", severity="warning")
        else:
            self.notify(f"All {len(results)} checks passed." if len(results) > 1 else "The check passed.")

    def _checks_ended(self) -> None:
        self.live_checks = None
        self.query_one(ChecksPanel).running = False
        self._refresh_checks()
        self.refresh_bindings()

    def action_toggle_output(self) -> None:
        panel = self.query_one(ChecksPanel)
        if panel.output_shown:
            panel.show_output(False)
            return
        panel.show_output(True)
        if not panel.output_loaded and not self.checks_running:
            run = self.run
            self._worker(lambda: last_checks_output(run), "checks-log")

    def _show_last_output(self, lines: list[str]) -> None:
        from hybrid_tui.agents.events import Text

        panel = self.query_one(ChecksPanel)
        panel.output_loaded = True
        panel.output.clear()
        panel.add_output([Text(line, raw=True) for line in lines] or [Text("(no output recorded)", raw=True)])
