"""Claude's read-only review: `C` asks for it (`ClaudeReviewer`, in an async worker; its git
work in a thread), shown in `ClaudeReviewPanel`, beside the diff from 100 columns on, below it
when narrower; `C` again stops it, and so does leaving the screen. Choosing a point opens its
file at its line.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import on

from hybrid_tui.ui.widgets.claude_review import ClaudeReviewPanel
from hybrid_tui.ui.widgets.diff_view import DiffView
from hybrid_tui.ui.widgets.file_list import FileList

if TYPE_CHECKING:
    from hybrid_tui.core.claude_review import ClaudeReviewer
    from hybrid_tui.core.runs import ClaudeReview


class ClaudeReviewMixin:
    """`ReviewScreen`'s `C` key and the review panel's points."""

    def action_claude_review(self) -> None:
        if self.reviewer is not None:
            self.reviewer.cancel()  # its worker ends with "cancelled; nothing was stored"
            return
        if self.busy or self.checks_running:
            return
        from hybrid_tui.core.claude_review import ClaudeReviewer

        context = self.hybrid.context
        reviewer = self.reviewer = ClaudeReviewer(context.store, self.run, context.settings.agents.claude)
        panel = self.query_one(ClaudeReviewPanel)
        panel.show_pending()
        panel.add_class("-shown")
        self.refresh_bindings()
        self.run_worker(self._claude_review(reviewer), name="claude", group="claude", exclusive=True,
                        exit_on_error=False)

    async def _claude_review(self, reviewer: ClaudeReviewer) -> tuple[ClaudeReview, str | None]:
        """The review (async worker: Claude's process on the app's loop, the git work that
        builds the prompt in a thread)."""
        import asyncio

        await asyncio.to_thread(reviewer.prepare)
        return await reviewer.start(), reviewer.tip

    def _claude_done(self, result: tuple[ClaudeReview, str | None]) -> None:
        review, tip = result
        self.reviewer = None
        self.query_one(ClaudeReviewPanel).show_review(review, tip=self.tip or tip)
        self.refresh_bindings()

    @on(ClaudeReviewPanel.PointSelected)
    def _point_selected(self, event: ClaudeReviewPanel.PointSelected) -> None:
        """Open the point's file, at its line when it has one."""
        point = event.point
        file_list = self.query_one(FileList)
        index = file_list.index_of(point.file) if point.file else -1
        if index < 0:
            self.notify(f"{point.file or 'This point'} is not among the files the run changed.", severity="warning")
            return
        path = file_list.rows[index].path
        view = self.query_one(DiffView)
        self._pending_line = (path, point.line) if point.line else None
        if index != file_list.cursor:
            self._pending_hunk = 0
            file_list.move_to(index)  # the diff opens, then `_set_model` finds the line
        elif view.path == path and view.model is not None and point.line:
            self._show_line(point.line)
        view.focus()
