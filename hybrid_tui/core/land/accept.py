"""Landing a run: its diff and scope, accept (into the base branch) and reject (discard, kept).

Accept strategies (`[merge] strategy`, or per call):
- `merge` (default): `git merge --no-ff` of the branch in the user's checkout;
- `squash`: the whole branch as one commit on the base branch (`partial.squash_commit`); the
  branch's own commits are then not in the base, so its tip is kept under
  `refs/hybrid-tui/accepted/<run-id>`;
- `rebase`: the branch is rebased onto the base tip in the run's worktree (`merge.rebase_run`),
  then the base branch is fast-forwarded to it.
Partial accept is `partial.accept_selection`: the run stays under review.

Safety (DESIGN.md invariants 2 and 3): accept first runs `merge.preflight` and refuses on any
blocking finding (base branch not checked out here or checked out in another worktree, local
changes overlapping the branch's files, a predicted conflict) before git touches the user's
checkout; a merge that conflicts anyway is aborted. Either way the branch is kept. Accept
(whole) and reject remove the run's worktree, so both refuse while it holds changes not
committed on the branch. Reject keeps the branch tip under `refs/hybrid-tui/rejected/<run-id>`
before deleting the branch, and is idempotent. Every tip the branch had is kept as well
(`refs/hybrid-tui/tips/<run-id>/<n>`, core/run/tips.py): a reject keeps them, an accept drops them.

One writer at a time: accept and reject hold the repository's writer lock (`merge.run_writer`)
from the preflight to the record, with the run's record read again once it is held, so two
accepts at once land one after the other (or the second refuses after waiting, naming the
first), and a run another process landed meanwhile is said to be landed already.
"""

from __future__ import annotations

from hybrid_tui.core import git
from hybrid_tui.core.errors import ActionFailed, InputError
from hybrid_tui.core.land.merge import (
    preflight,
    raise_blocking,
    rebase_run,
    require_clean_worktree,
    run_writer,
)
from hybrid_tui.core.review.scope import Scope, load_spec, scope_check
from hybrid_tui.core.run import tips
from hybrid_tui.core.runs import STRATEGIES, Action, Run, RunStore, Status, Strategy

REJECTED_REF = "refs/hybrid-tui/rejected/{run_id}"
ACCEPTED_REF = "refs/hybrid-tui/accepted/{run_id}"


def run_diff(run: Run) -> list[git.FileDiff]:
    return git.diff_files(run.root, run.base_sha, git.run_tip(run))


def run_diff_text(run: Run, path: str | None = None) -> str:
    return git.diff_text(run.root, run.base_sha, git.run_tip(run), path)


def run_scope(run: Run, files: list[git.FileDiff] | None = None) -> Scope | None:
    """The scope check of the run's diff (`files`, default `run_diff(run)`) against its spec;
    None when the spec cannot be read (a plan run has none) or the run's result is gone. It is
    worked out each time, never stored: a rebase or a revision changes it."""
    spec = load_spec(run.spec_path)
    if spec is None:
        return None
    if files is None:
        try:
            files = run_diff(run)
        except ActionFailed:
            return None
    return scope_check(spec, files)


def require_open(run: Run, action: Action) -> None:
    """Refuse (ActionFailed, `Run.refusal`) a run still at work or already accepted/rejected."""
    if refusal := run.refusal(action):
        raise refusal


def accept_run(store: RunStore, run: Run, strategy: str = "merge") -> Run:
    """Land the whole branch on its base branch with `strategy` (merge | squash | rebase),
    then remove the worktree and the branch. Refused, with nothing changed, on any blocking
    `preflight` finding; `merge_sha` is the commit the base branch ends on. Holds the
    repository's writer lock (`merge.run_writer`: `RepoBusy` when another writer keeps it)."""
    known = next((name for name in STRATEGIES if name == strategy), None)
    if known is None:
        raise InputError(f"unknown merge strategy {strategy!r}: use one of {', '.join(STRATEGIES)}")
    with run_writer(store, run, "accept"):
        return _accept(store, run, known)


def _accept(store: RunStore, run: Run, strategy: Strategy) -> Run:
    require_open(run, "accept")
    root = run.root
    raise_blocking(preflight(run, strategy))
    kept = None
    if strategy == "merge":
        merge_sha = git.merge_branch(
            root,
            branch=run.branch,
            base_branch=run.base_branch,
            message=f"Merge {run.branch}: {run.title}\n\nAccepted from hybrid-tui run {run.id}.",
        )
    elif strategy == "squash":
        from hybrid_tui.core.land.partial import squash_commit

        tip = git.branch_tip(run)
        merge_sha = squash_commit(run)
        if tip:
            kept = ACCEPTED_REF.format(run_id=run.id)
            git.keep_ref(root, kept, tip)
    else:
        rebase_run(store, run)  # a no-op when the branch is on top of the base already
        merge_sha = git.require_branch_tip(run)
        git.fast_forward(root, merge_sha)
    if run.rebase is not None:
        git.git(root, "update-ref", "-d", run.rebase.ref)
    git.remove_worktree(root, run.worktree_dir)
    git.delete_branch(root, run.branch)  # its commits are reachable from the base or `kept`
    tips.drop(run)  # what the agent discarded on its way was never part of the result
    return store.transition(
        run, Status.ACCEPTED, merge_sha=merge_sha, strategy=strategy, accepted_ref=kept, rebase=None
    )


def reject_run(store: RunStore, run: Run) -> Run:
    """Keep the tip under refs/hybrid-tui/rejected/<id>, remove worktree and branch. Idempotent.

    Refused (ActionFailed, nothing changed) while the worktree holds changes not committed on
    the branch: the kept tip would not have them. A reject retried after one that died midway
    keeps the tip the first one kept (the branch may be gone by then, and `head_sha` older).
    Holds the repository's writer lock (`merge.run_writer`)."""
    with run_writer(store, run, "reject"):
        return _reject(store, run)


def _reject(store: RunStore, run: Run) -> Run:
    if run.status == Status.REJECTED:
        return run
    require_open(run, "reject")
    root = run.root
    if run.worktree_dir.is_dir():
        require_clean_worktree(run, "reject")
    ref = REJECTED_REF.format(run_id=run.id)
    tip = (
        git.branch_tip(run)
        or git.ref_sha(root, ref)
        or run.head_sha
    )
    if tip:
        git.keep_ref(root, ref, tip)
    tips.keep(run)  # the reflogs go with the branch and the worktree: every tip stays reachable
    git.remove_worktree(root, run.worktree_dir)
    git.delete_branch(root, run.branch)
    return store.transition(run, Status.REJECTED, rejected_ref=ref if tip else None)
