"""Landing a run: its diff, accept (merge into the base branch) and reject (discard, kept).

Safety (DESIGN.md invariants 2 and 3): accept writes to the user's checkout only through
`workspace.merge_branch`, which checks its preconditions first and aborts a conflicting merge;
reject keeps the branch tip under `refs/hybrid-tui/rejected/<run-id>` before deleting the
branch, and is idempotent.
"""

from __future__ import annotations

from pathlib import Path

from hybrid_tui.core import workspace
from hybrid_tui.core.errors import ActionFailed
from hybrid_tui.core.runs import Run, RunStore, Status

REJECTED_REF = "refs/hybrid-tui/rejected/{run_id}"


def run_tip(run: Run) -> str:
    """The commit holding the run's result: its branch, else the kept ref, else the last tip."""
    root = Path(run.repo_root)
    for ref in (f"refs/heads/{run.branch}", run.rejected_ref, run.merge_sha, run.head_sha):
        if ref and (sha := workspace.ref_sha(root, ref)):
            return sha
    raise ActionFailed(f"run {run.id}: its branch {run.branch} no longer exists")


def run_diff(run: Run) -> list[workspace.FileDiff]:
    return workspace.diff_files(Path(run.repo_root), run.base_sha, run_tip(run))


def run_diff_text(run: Run, path: str | None = None) -> str:
    return workspace.diff_text(Path(run.repo_root), run.base_sha, run_tip(run), path)


def _require_reviewable(run: Run, action: str) -> None:
    if run.is_active:
        raise ActionFailed(
            f"run {run.id} is still {run.status.value}: it cannot be {action} yet.",
            fix="Wait for it to finish, or cancel it first.",
        )
    if run.status in (Status.ACCEPTED, Status.REJECTED):
        raise ActionFailed(f"run {run.id} was already {run.status.value}.")


def accept_run(store: RunStore, run: Run) -> Run:
    """Merge the run's branch into its base branch, then remove the worktree and the branch."""
    _require_reviewable(run, "accepted")
    root = Path(run.repo_root)
    merge_sha = workspace.merge_branch(
        root,
        branch=run.branch,
        base_branch=run.base_branch,
        message=f"Merge {run.branch}: {run.title}\n\nAccepted from hybrid-tui run {run.id}.",
    )
    workspace.remove_worktree(root, Path(run.worktree))
    workspace.delete_branch(root, run.branch)  # its commits are reachable from the merge
    return store.update(run, status=Status.ACCEPTED, merge_sha=merge_sha)


def reject_run(store: RunStore, run: Run) -> Run:
    """Keep the tip under refs/hybrid-tui/rejected/<id>, remove worktree and branch. Idempotent."""
    if run.status == Status.REJECTED:
        return run
    _require_reviewable(run, "rejected")
    root = Path(run.repo_root)
    ref = REJECTED_REF.format(run_id=run.id)
    tip = workspace.ref_sha(root, f"refs/heads/{run.branch}") or run.head_sha
    if tip:
        workspace.keep_ref(root, ref, tip)
    workspace.remove_worktree(root, Path(run.worktree))
    workspace.delete_branch(root, run.branch)
    return store.update(run, status=Status.REJECTED, rejected_ref=ref if tip else None)
