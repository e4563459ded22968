"""`ClaudeReviewPanel`: Claude's verdict and its points, to sit beside the diff.

    panel.show_pending()                      # "Asking Claude…" while the reviewer runs
    panel.show_review(review, tip=run_tip)    # verdict badge, summary, one row per point
    panel.show_error(err)                     # e.g. Claude missing: the message and the fix
    panel.note()                              # the review as a revise note, or None
    panel.start_review(store, run, settings)  # ask Claude (an async worker); `Finished` follows
    panel.stop()                              # stop Claude's review under way

Behaviour choices:
- The badge is "✓ Claude approves" or "✗ Claude requests changes"; when the review was of
  another tip than the branch's current one (a revision came since), it says so.
- Points are an option list ("file:line  problem"); selecting one posts `PointSelected`, so
  the screen can open that file's diff.
- The panel owns the review under way: `start_review` runs `ClaudeReviewer` in an async
  worker (Claude's process on the app's loop, the git work that builds its prompt in a
  thread), shows its verdict or what went wrong, and posts `Finished`; leaving the screen
  stops it. `tip` (the branch's tip, a reactive) tells a review of an older one.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from textual import work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.markup import escape
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from hybrid_tui.core.errors import HybridError
from hybrid_tui.core.inert import inert
from hybrid_tui.core.runs import ClaudeReview, ReviewPoint

if TYPE_CHECKING:
    from hybrid_tui.config import ClaudeSettings
    from hybrid_tui.core.review.claude_review import ClaudeReviewer
    from hybrid_tui.core.runs import Run, RunStore


def point_prompt(point: ReviewPoint) -> str:
    where = escape(inert(point.file or "(no file)", one_line=True)) + (f":{point.line}" if point.line else "")
    return f"[b]{where}[/b]  {escape(inert(point.problem, one_line=True))}"


class ClaudeReviewPanel(Vertical):
    DEFAULT_CSS = """
    ClaudeReviewPanel { height: auto; max-height: 50%; padding: 0 1; }
    ClaudeReviewPanel > #claude-verdict { width: 1fr; text-style: bold; }
    ClaudeReviewPanel > #claude-verdict.-approve { color: $text-success; }
    ClaudeReviewPanel > #claude-verdict.-changes { color: $text-error; }
    ClaudeReviewPanel > #claude-summary { width: 1fr; color: $text-muted; }
    ClaudeReviewPanel > #claude-points { height: auto; max-height: 12; border: none; }
    """

    tip: reactive[str | None] = reactive(None)

    class Finished(Message):
        """Claude's review ended: `review` is the verdict, None when it failed or was stopped."""

        def __init__(self, review: ClaudeReview | None) -> None:
            super().__init__()
            self.review = review

    class PointSelected(Message):
        """A point was chosen (enter or click): the screen may show its file."""

        def __init__(self, point: ReviewPoint) -> None:
            super().__init__()
            self.point = point

    def __init__(self, review: ClaudeReview | None = None, *, tip: str | None = None, id: str | None = None) -> None:
        super().__init__(id=id)
        self.review: ClaudeReview | None = None
        self.reviewer: ClaudeReviewer | None = None  # Claude's review while it runs
        self._state: tuple[str, str, list[ReviewPoint], str] = ("No Claude review yet.", "", [], "")
        if review is not None:
            self.show_review(review, tip=tip)

    def compose(self) -> ComposeResult:
        yield Static(id="claude-verdict")
        yield Static(id="claude-summary", markup=False)
        yield OptionList(id="claude-points", compact=True)

    def on_mount(self) -> None:
        self._apply()

    def on_unmount(self) -> None:
        self.stop()  # its worker goes with the screen; this stops claude gently

    def watch_tip(self, tip: str | None) -> None:
        if self.review is not None and self.reviewer is None:
            self.show_review(self.review, tip=tip)  # says when it was of an older tip

    @property
    def reviewing(self) -> bool:
        return self.reviewer is not None

    def start_review(self, store: RunStore, run: Run, settings: ClaudeSettings) -> None:
        from hybrid_tui.core.review.claude_review import (
            ClaudeReviewer,  # brings GitPython: not at import
        )

        self.reviewer = ClaudeReviewer(store, run, settings)
        self.show_pending()
        self.add_class("-shown")
        self._review(self.reviewer)

    def stop(self) -> None:
        """Stop the review under way (it ends with "cancelled; nothing was stored")."""
        if self.reviewer is not None:
            self.reviewer.cancel()

    @work(group="claude", exclusive=True, exit_on_error=False)
    async def _review(self, reviewer: ClaudeReviewer) -> None:
        try:
            await asyncio.to_thread(reviewer.prepare)
            review = await reviewer.start()
        except Exception as err:
            self.show_error(err)
            self.post_message(self.Finished(None))
            return
        finally:
            self.reviewer = None
        self.show_review(review, tip=self.tip or reviewer.tip)
        self.post_message(self.Finished(review))

    def show_review(self, review: ClaudeReview, *, tip: str | None = None) -> None:
        """Show `review`; `tip`: the branch's current tip, to tell a review of an older one."""
        self.review = review
        approve = review.verdict == "approve"
        badge = "✓ Claude approves" if approve else "✗ Claude requests changes"
        if review.points:
            badge += f" · {len(review.points)} point{'s' if len(review.points) != 1 else ''}"
        if tip and review.reviewed_sha and review.reviewed_sha != tip:
            badge += f" [$text-warning](of {review.reviewed_sha[:7]}, before the last changes)[/]"
        self._set(badge, review.summary, review.points, "-approve" if approve else "-changes")

    def show_pending(self, text: str = "Asking Claude to review the branch (read-only)…") -> None:
        self.review = None
        self._set(escape(text), "", [])

    def show_error(self, error: BaseException | str) -> None:
        """What went wrong (e.g. Claude missing, with how to install it)."""
        self.review = None
        if isinstance(error, HybridError):
            text = error.message + (f"\nFix: {error.fix}" if error.fix else "")
        else:
            text = str(error)
        self._set("[$text-error]Claude could not review[/]", text, [])

    def note(self) -> str | None:
        """The review as the note for revise (`points_as_note`), or None without a review."""
        if self.review is None:
            return None
        from hybrid_tui.core.review.claude_review import (
            points_as_note,  # brings GitPython: not at import
        )

        return points_as_note(self.review)

    def _set(self, badge: str, summary: str, points: list[ReviewPoint], css: str = "") -> None:
        self._state = (badge, summary, list(points), css)
        if self.is_mounted:
            self._apply()

    def _apply(self) -> None:
        badge, summary, points, css = self._state
        verdict = self.query_one("#claude-verdict", Static)
        verdict.set_classes(css)
        verdict.update(inert(badge))
        summary_widget = self.query_one("#claude-summary", Static)
        summary_widget.update(inert(summary))  # Claude's words, an error's message: outside text
        summary_widget.display = bool(summary)
        options = self.query_one(OptionList)
        options.clear_options()
        options.add_options([Option(point_prompt(p), id=str(i)) for i, p in enumerate(points)])
        options.display = bool(points)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if self.review is not None and event.option.id is not None:
            self.post_message(self.PointSelected(self.review.points[int(event.option.id)]))
