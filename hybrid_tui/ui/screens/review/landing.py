"""Landing the run: accept all, accept a selection, reject, and rebase first (or undo it).

`a` accepts the selection when there is one (one commit on the base branch; the run stays under
review), else the whole branch with `[merge] strategy`. Before asking, a worker runs the merge
preflight: a blocking finding refuses the accept in the message area with its exact fix; advice
(the base moved ahead) is said in the confirmation and offers `b` (rebase the run's branch, `u`
undoes it). The same preflight runs once the files are listed, to offer `b` early; its blocking
findings wait for `a` (opening a review should not shout).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hybrid_tui.core.hunks import ALL
from hybrid_tui.core.runs import Run
from hybrid_tui.ui.screens.confirm import ConfirmScreen
from hybrid_tui.ui.screens.review.selection import Chosen, describe_selection
from hybrid_tui.ui.widgets.diff_view import DiffView

if TYPE_CHECKING:
    from hybrid_tui.core.merge import Finding


class LandingMixin:
    """`ReviewScreen`'s landing keys: `a` accept, `x` reject, `b` rebase, `u` undo the rebase."""

    def _findings(self, selection: dict[str, Chosen] | None) -> list[Finding]:
        """What stands in the way of accepting (thread worker): the whole branch, or the
        selection (the paths its hunks change, see `merge.preflight`)."""
        from hybrid_tui.core.merge import preflight

        if not selection:
            return preflight(self.run, self.strategy)
        from hybrid_tui.core.hunks import parse_hunks, selected_paths

        index = self.patch
        if index is None:
            assert self.tip is not None
            index = self._read_patch(0, self.tip)[1]
        files = [entry for path in selection for entry in parse_hunks(index.section(path) or "")]
        return preflight(self.run, self.strategy, paths=set(selected_paths(files, selection)))

    def _finding_text(self, finding: Finding) -> str:
        if finding.kind == "base_moved":
            run = self.run
            how = "the rebase strategy rebases first." if self.strategy == "rebase" else "the merge combines both sides."
            return (f"{finding.problem} b rebases {run.branch} onto {run.base_branch} (u undoes it); "
                    f"or accept as it is: {how}")
        return f"{finding.problem}\nFix: {finding.fix}"

    def _take_findings(self, findings: list[Finding]) -> None:
        self.offer_rebase = any(f.kind == "base_moved" for f in findings) and not any(
            f.kind == "conflict" for f in findings)
        self.refresh_bindings()

    def action_accept(self) -> None:
        if not self.idle or self.files is None:
            return
        self.clear_message()
        self.busy = "preflight"
        self.refresh_bindings()
        selection = {path: (chosen if chosen is ALL else set(chosen)) for path, chosen in self.selection.items()}
        self._worker(lambda: ("accept", selection, self._findings(selection)), "preflight")

    def _preflight_done(self, result: tuple[str, dict[str, Chosen] | None, list[Finding]]) -> None:
        purpose, selection, findings = result
        self._take_findings(findings)
        if purpose == "advice":
            advice = [f for f in findings if not f.blocking]
            lead, self._lead = self._lead, None
            if advice and not self.busy:
                self.show_message("\n".join([*([lead] if lead else []), *map(self._finding_text, advice)]),
                                  advice=True)
            return
        self.busy = None
        self.refresh_bindings()
        blocking = [f for f in findings if f.blocking]
        if blocking:
            text = self._finding_text(blocking[0]) + "".join(f"\nAlso: {f.problem}" for f in blocking[1:])
            self.show_message(text)
            return
        notes = "".join(f"\n\nNote: {f.problem}" for f in findings)
        if selection:
            self._confirm_selection(selection, notes)
        else:
            self._confirm_all(notes)

    def _confirm_all(self, notes: str) -> None:
        run, repo = self.run, self.repo_name
        strategy = self.strategy
        if strategy == "squash":
            body = (f"Squash {run.branch} into one commit on {run.base_branch} in {repo}; its tip is kept "
                    f"as refs/hybrid-tui/accepted/{run.id}. The worktree and the branch are removed afterwards.")
        elif strategy == "rebase":
            body = (f"Rebase {run.branch} onto {run.base_branch}, then fast-forward {run.base_branch} in "
                    f"{repo} to it. The worktree and the branch are removed afterwards.")
        else:
            body = (f"Merge {run.branch} into {run.base_branch} in {repo} (git merge --no-ff). "
                    "The worktree and the branch are removed afterwards.")
        self._confirm("accept", "Accept the run?", body + notes, "Accept", None)

    def _confirm_selection(self, selection: dict[str, Chosen], notes: str) -> None:
        run = self.run
        listed = "\n".join(f"- {line}" for line in describe_selection(selection, self._hunk_counts))
        body = (f"Land as one commit on {run.base_branch} in {self.repo_name}:\n{listed}\n"
                f"The rest stays on {run.branch} for a later look.")
        self._confirm("accept", "Accept the selection?", body + notes, "Accept selection", selection)

    def action_reject(self) -> None:
        if not self.idle:
            return
        from hybrid_tui.core.land import (
            REJECTED_REF,  # loaded already by the file-list worker
        )

        run = self.run
        tip = (self.tip or run.head_sha or "")[:7] or "(unknown)"
        ref = REJECTED_REF.format(run_id=run.id)
        self._confirm(
            "reject", "Reject the run?",
            f"Delete branch {run.branch} and its worktree. Its tip {tip} is kept as {ref}.", "Reject", None,
        )

    def _confirm(self, action: str, title: str, body: str, yes: str, selection: dict[str, Chosen] | None) -> None:
        def answer(confirmed: bool | None) -> None:
            if confirmed and self.idle:
                self.busy = action
                self.clear_message()
                self.refresh_bindings()
                self._worker(lambda: self._land(action, selection), "land")

        self.app.push_screen(ConfirmScreen(title, body, yes, "Keep reviewing"), answer)

    def _land(self, action: str, selection: dict[str, Chosen] | None) -> tuple[str, Any]:
        from hybrid_tui.core.land import accept_run, reject_run

        store = self.hybrid.context.store
        assert store is not None
        if action == "reject":
            return "reject", reject_run(store, self.run)
        if selection:
            from hybrid_tui.core.partial import accept_selection

            return "partial", (accept_selection(store, self.run, selection), selection)
        return "accept", accept_run(store, self.run, self.strategy)

    def _landed(self, result: tuple[str, Any]) -> None:
        action, value = result
        self.busy = None
        self.refresh_bindings()
        run = self.run
        if action == "partial":
            sha, selection = value
            listed = "; ".join(describe_selection(selection, self._hunk_counts))
            self.selection.clear()
            self._selection_changed()
            self.notify(f"Landed on {run.base_branch} as {sha[:7]}.", title="Selection accepted")
            self._lead = f"Landed on {run.base_branch} as {sha[:7]}: {listed}. The rest stays on {run.branch}."
            self.show_message(self._lead, advice=True)
            self._refresh_header()
            self._worker(lambda: ("advice", None, self._findings(None)), "preflight")
            return
        if action == "accept":
            how = {"squash": "squashed onto", "rebase": "rebased onto"}.get(run.strategy or "", "merged into")
            self.notify(f"Accepted: {run.branch} {how} {run.base_branch}.", title="Run accepted")
        else:
            self.notify(f"Rejected: {run.branch} deleted; its tip is kept as {run.rejected_ref}.",
                        title="Run rejected")
        self.hybrid.back_to_plans()

    def action_rebase(self) -> None:
        if not self.idle or not self.offer_rebase:
            return
        self._start_rebase("rebase")

    def action_undo_rebase(self) -> None:
        if not self.idle or self.run.rebase is None:
            return
        self._start_rebase("undo")

    def _start_rebase(self, action: str) -> None:
        self.busy = action
        self.clear_message()
        self.refresh_bindings()
        self._worker(lambda: self._do_rebase(action), "rebase")

    def _do_rebase(self, action: str) -> tuple[str, Run]:
        from hybrid_tui.core.merge import rebase_run, undo_rebase

        store = self.hybrid.context.store
        assert store is not None
        return action, (rebase_run if action == "rebase" else undo_rebase)(store, self.run)

    def _rebased(self, result: tuple[str, Run]) -> None:
        action, run = result
        self.busy = None
        self.offer_rebase = False
        self.selection.clear()
        self._selection_changed()
        self.refresh_bindings()
        if action == "rebase":
            self.show_message(
                f"Rebased {run.branch} onto {run.base_branch} ({run.base_sha[:7]}); u undoes it.", advice=True)
        else:
            self.show_message(f"Undid the rebase: {run.branch} is back on {run.base_sha[:7]}.", advice=True)
        self._refresh_header()
        self.query_one(DiffView).show_message("Loading the diff…")
        self._load()
