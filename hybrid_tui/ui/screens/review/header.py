"""The review's header: title, status (a failed run's kind and message), branch and base,
"N files, +A -R", the scope flags ("! N not in the spec", "N untouched") and what is selected."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.markup import escape
from textual.widgets import Static

from hybrid_tui.core.inert import inert
from hybrid_tui.core.runs import Status
from hybrid_tui.ui.widgets.event_log import status_words

if TYPE_CHECKING:
    from hybrid_tui.core.workspace import FileDiff


def totals(files: list[FileDiff]) -> str:
    added = sum(f.added or 0 for f in files)
    removed = sum(f.removed or 0 for f in files)
    return f"{len(files)} file{'' if len(files) == 1 else 's'}, +{added} -{removed}"


class HeaderMixin:
    """`ReviewScreen`'s header line (`#review-header`)."""

    def _refresh_header(self) -> None:
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
            lines.append(f"[{colour}]{escape(self._short(run.message))}[/]")
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
            if self.selection:
                facts.append(f"[$text-success]{self._selection_summary()}[/]")
            lines.append(" · ".join(facts))
        self.query_one("#review-header", Static).update(inert("\n".join(lines)))  # title, message: outside text
