"""Sending the run back: `R` opens `ReviseScreen` (the note starts as Claude's points when a
review is shown). A thread worker checks and records the revision (`revise.prepare_revision`; a
refusal goes to the message area with its fix), then the `RunScreen` replaces the review screen
and runs it (the agent resumes its session on the same branch, the checks run again once the
user approved them in `CheckApprovalScreen`, shown after the note).
"""

from __future__ import annotations

from hybrid_tui.ui.widgets.claude_review import ClaudeReviewPanel


class ReviseMixin:
    """`ReviewScreen`'s `R` key."""

    _revision_checks: list[str] | None = None  # the checks approved with the note

    def action_revise(self) -> None:
        if not self.idle:
            return
        from hybrid_tui.ui.screens.revise import ReviseScreen

        note = self.query_one(ClaudeReviewPanel).note() or ""  # Claude's points, when shown

        def sent(text: str | None) -> None:
            if not (text and self.idle):
                return
            from hybrid_tui.core.errors import HybridError
            from hybrid_tui.core.verify import check_commands
            from hybrid_tui.ui.screens.check_approval import ask_check_approval

            try:
                commands = check_commands(self.run)
            except HybridError as err:
                self.show_error(err)
                return

            def approved(checks: list[str] | None) -> None:
                if self.idle:
                    self._revision_checks = checks
                    self.busy = "revise"
                    self.clear_message()
                    self.refresh_bindings()
                    self._worker(lambda: self._prepare_revision(text), "revise")

            ask_check_approval(
                self.app, "Send the note, then run the checks again?", commands, self.hybrid.context.settings, approved
            )

        self.app.push_screen(ReviseScreen(self.run, initial_note=note), sent)

    def _prepare_revision(self, note: str) -> str:
        """Check and record the revision (thread worker: git); the prompt for the agent."""
        from hybrid_tui.core.revise import agent_for_run, prepare_revision

        context = self.hybrid.context
        agent = agent_for_run(self.run, context.settings)
        prompt, _ = prepare_revision(context.store, self.run, note, agent=agent)
        return prompt

    def _revision_ready(self, prompt: str) -> None:
        from hybrid_tui.ui.screens.run import RunScreen

        self.busy = None
        self.app.switch_screen(RunScreen(self.run, revision=True, approved_checks=self._revision_checks))
