"""`ReviewHeader`: what the review screen reviews, at its top.

Title and status (a failed run's kind and message), branch and base, "N files, +A -R", the
scope flags ("! N not in the spec", "N untouched") and what is selected. The widget keeps what
it shows in reactives (`files`, `counted`, `scope`, `selected`); the screen sets them as the
review loads, and `run_changed()` redraws after the run itself changed (a rebase, a partial
accept).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.markup import escape
from textual.reactive import reactive
from textual.widgets import Static

from hybrid_tui.core.inert import inert
from hybrid_tui.core.review.session import totals
from hybrid_tui.core.runs import Status
from hybrid_tui.ui.widgets.event_log import status_words

if TYPE_CHECKING:
    from hybrid_tui.core.git import FileDiff
    from hybrid_tui.core.review.scope import Scope
    from hybrid_tui.core.runs import Run


class ReviewHeader(Static):
    files: reactive[list[FileDiff] | None] = reactive(None, always_update=True)
    counted: reactive[bool] = reactive(False)
    scope: reactive[Scope | None] = reactive(None, always_update=True)
    selected: reactive[str] = reactive("")  # the selection's summary, "" for none

    def __init__(self, run: Run, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.run = run

    def on_mount(self) -> None:
        self.run_changed()

    def watch_files(self) -> None:
        self.run_changed()

    watch_counted = watch_scope = watch_selected = watch_files

    def run_changed(self) -> None:
        if self.is_mounted:
            self.update(inert("\n".join(self.lines())))  # title, message: outside text

    def lines(self) -> list[str]:
        run = self.run
        status = status_words(run.status.value, run.failure_kind)
        colour = "$success" if run.status in (Status.REVIEW, Status.ACCEPTED) else "$warning"
        if run.status in (Status.FAILED, Status.TIMED_OUT):
            colour = "$error"
        first = f"[b]{escape(run.title)}[/b] · [{colour}]{escape(status)}[/]"
        if run.partial_accepts:
            count = len(run.partial_accepts)
            first += f" · [$text-success]{count} part{'s' if count > 1 else ''} accepted[/]"
        second = f"[$text-muted]{escape(run.branch)} → {escape(run.base_branch)}@{run.base_sha[:7]}[/]"
        if run.rebase is not None:
            second += " [$text-warning](rebased · u undoes)[/]"
        lines = [first, second]
        if run.failure_kind and run.message:
            short = run.message.replace(run.repo_root, run.root.name)
            lines.append(f"[{colour}]{escape(short)}[/]")
        if self.files is None:
            lines.append("[$text-muted]Loading files…[/]")
        else:
            many = "" if len(self.files) == 1 else "s"
            facts = [totals(self.files) if self.counted else f"{len(self.files)} file{many}, counting…"]
            scope = self.scope
            if scope is not None and scope.out_of_scope:
                facts.append(f"[$text-warning]! {len(scope.out_of_scope)} not in the spec[/]")
            if scope is not None and scope.untouched:
                facts.append(f"[$text-muted]{len(scope.untouched)} untouched[/]")
            if self.selected:
                facts.append(f"[$text-success]{self.selected}[/]")
            lines.append(" · ".join(facts))
        return lines
