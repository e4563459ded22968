"""Re-running the checks: `c` lists them for approval (`CheckApprovalScreen`: they come from the
spec, or the plan of a plan run, so they are untrusted), then runs them in a thread
(`LiveChecks`); their output streams into the checks panel's output pane (`o` shows or hides
it, with the last run's output from `checks.log`). Leaving the screen stops them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import on
from textual.message import Message

from hybrid_tui.ui.widgets.checks_panel import (
    ChecksPanel,
    LiveChecks,
    last_checks_output,
)

if TYPE_CHECKING:
    from hybrid_tui.agents.events import AgentEvent


class ChecksMixin:
    """`ReviewScreen`'s checks: the panel under the header and the `c` / `o` keys."""

    class ChecksOutput(Message, namespace="review_screen"):
        """Output of the re-running checks (posted from their thread)."""

        def __init__(self, events: list[AgentEvent]) -> None:
            super().__init__()
            self.events = events

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
        live = self.live_checks = LiveChecks(
            store, self.run, timeout=settings.review.check_timeout, approved=approved,
            sink=lambda events: self.post_message(self.ChecksOutput(events)),
            sandbox=settings.sandbox, network=settings.review.check_network,
        )
        panel.running = True
        panel.start_output()
        self._refresh_checks()
        self.refresh_bindings()
        self._worker(live.run_blocking, "checks")

    @on(ChecksOutput)
    def _checks_output(self, message: ChecksOutput) -> None:
        self.query_one(ChecksPanel).add_output(message.events)

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
            store = self.hybrid.context.store
            assert store is not None
            path = store.checks_log_path(self.run.id)
            self._worker(lambda: last_checks_output(path), "checks-log")

    def _show_last_output(self, lines: list[str]) -> None:
        from hybrid_tui.agents.events import Text

        panel = self.query_one(ChecksPanel)
        panel.output_loaded = True
        panel.output.clear()
        panel.add_output([Text(line, raw=True) for line in lines] or [Text("(no output recorded)", raw=True)])
