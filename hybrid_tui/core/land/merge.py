"""Merging without surprises: what stands in the way of landing a run (`preflight`), in plain
words with the exact fix, and rebasing a run's branch onto its moved base (`rebase_run`),
which `undo_rebase` takes back.

Behaviour choices:
- `preflight` only reads: git state, `git worktree list`, `git merge-tree --write-tree` (which
  computes a merge in the object store). Front ends show its findings before asking to confirm;
  `land` refuses on the blocking ones before git touches the user's checkout.
- The base branch is landed on in the run's own checkout (`run.repo_root`, where it started).
  When the base branch is checked out in another worktree instead, nothing is merged there: the
  finding names that worktree and says how to free the branch.
- "Base moved" is advice, not a block: a merge commit or a squash combines both sides, and the
  rebase strategy rebases first. A predicted conflict blocks (for the strategy asked for).
- `rebase_run` rebases inside the run's worktree (never the user's checkout), keeping the old
  tip under `refs/hybrid-tui/pre-rebase/<run-id>`; the run's `base_sha` becomes the new base
  tip so its diff stays the run's own changes. A conflict aborts the rebase: branch, worktree
  and record are as before. Hooks are skipped; authors are kept, the committer is the user.
- Every operation on a run that writes the repository (accept, reject, rebase and its undo,
  recovery, the push of a pull request) runs inside `run_writer`: the repository's writer lock
  (`repo_lock`), the run's record read again once it is held (another process may have landed
  the run meanwhile), and a rebase of the run cut short finished or taken back first
  (`finish_interrupted_rebase`): `rebase_run` records `run.rebasing` before git starts, and a
  writer that finds it set while holding the lock knows its rebaser died.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from hybrid_tui.core import git, repo_lock
from hybrid_tui.core.errors import ActionFailed
from hybrid_tui.core.run import tips
from hybrid_tui.core.runs import STRATEGIES, RebaseRecord, RebaseStart, Run, RunStore

PRE_REBASE_REF = "refs/hybrid-tui/pre-rebase/{run_id}"
# What a `Finding` is about (see `Finding`).
FindingKind = Literal[
    "base_elsewhere", "not_on_base", "operation_in_progress", "local_overlap", "assumed_unchanged",
    "untracked_overlap", "worktree_dirty", "base_moved", "conflict", "no_branch",
]


@dataclass(frozen=True, slots=True)
class Finding:
    """One thing to know before landing. `kind`: base_elsewhere | not_on_base |
    operation_in_progress | local_overlap | assumed_unchanged | untracked_overlap |
    worktree_dirty | base_moved | conflict | no_branch. `blocking`: landing is refused while
    it holds."""

    kind: FindingKind
    problem: str
    fix: str
    blocking: bool = True

    def __str__(self) -> str:
        return f"{self.problem}\nFix: {self.fix}"


def checkout_findings(run: Run, paths: set[str] | None = None) -> list[Finding]:
    """Can the user's checkout take the landing: the base branch checked out there, no merge,
    cherry-pick, revert or rebase of the user's under way there, no local change on `paths`
    (default: every path the run's branch changes), none of them hidden from `git status` by an
    "assume unchanged" mark, and no untracked file, ignored ones included, that landing `paths`
    would overwrite or delete?"""
    root = run.root
    base, branch = run.base_branch, run.branch
    findings: list[Finding] = []
    on = git.current_branch(root)
    if on != base:
        holder = git.worktree_branches(root).get(base)
        if holder is not None and holder.resolve() != root.resolve():
            findings.append(Finding(
                "base_elsewhere",
                f"{base} is checked out in another worktree, {holder}, not in {root} where the "
                f"run started; accept lands on {base} in {root} only.",
                f"Free {base} there (`git -C {holder} switch --detach`, or switch it to another "
                f"branch), run `git -C {root} switch {base}`, then accept again. The run's branch "
                f"{branch} is kept.",
            ))
        else:
            where = f"branch {on}" if on else "a detached HEAD"
            findings.append(Finding(
                "not_on_base",
                f"{root} has {where} checked out, but the run's base branch is {base}.",
                f"Run `git switch {base}` in {root}, then accept again. The run's branch {branch} is kept.",
            ))
    if (operation := git.operation_in_progress(root)) is not None:
        what, how = operation
        findings.append(Finding(
            "operation_in_progress",
            f"{root} has {what} in progress; landing now would mix the run's changes into it "
            "(and undoing that could throw away your work there).",
            f"Finish it ({how}), then accept again. The run's branch {branch} is kept.",
        ))
    if paths is None:
        tip = git.branch_tip(run)
        paths = git.changed_paths(root, f"refs/heads/{base}", tip) if tip else set()
    overlap = sorted(set(git.local_changes(root)) & paths)
    if overlap:
        findings.append(Finding(
            "local_overlap",
            f"Local changes in {root} touch files the run changed: {_listed(overlap)}",
            "Commit or stash them (git stash -u), then accept again. The run's branch is kept.",
        ))
    hidden = [path for path in git.assumed_unchanged(root, paths) if path not in overlap]
    if hidden:
        findings.append(Finding(
            "assumed_unchanged",
            f"Files the run changed are marked \"assume unchanged\" in {root}, so `git status` "
            f"does not show your changes to them, and a merge could throw those away: {_listed(hidden)}",
            f"Run `git update-index --no-assume-unchanged {' '.join(hidden[:10])}`, commit or stash "
            "what `git status` then shows, and accept again. The run's branch is kept.",
        ))
    in_the_way = [path for path in git.untracked_in_the_way(root, paths) if path not in overlap]
    if in_the_way:
        findings.append(Finding(
            "untracked_overlap",
            f"Untracked files in {root} (ignored by git, so `git status` does not show them) are "
            f"where the run's files go, and landing would overwrite or delete them: {_listed(in_the_way)}",
            "Move them out of the way (`git stash -u` leaves ignored files where they are), then "
            "accept again. The run's branch is kept.",
        ))
    return findings


def _listed(paths: list[str]) -> str:
    return ", ".join(paths[:10]) + (" …" if len(paths) > 10 else "")


def worktree_findings(run: Run) -> list[Finding]:
    """Would removing the run's worktree after an accept lose something: changes not committed
    on the run's branch (a reviewer's fix, say), or the worktree switched to another branch?
    A worktree already gone is fine."""
    worktree = run.worktree_dir
    if not worktree.is_dir():
        return []
    try:
        require_clean_worktree(run, "accept")
    except ActionFailed as err:
        return [Finding("worktree_dirty", err.message, err.fix or "")]
    return []


def preflight(run: Run, strategy: str = "merge", paths: set[str] | None = None) -> list[Finding]:
    """Everything that would stop or surprise an accept of `run` with `strategy`, blocking
    findings first; an empty list means the accept can go ahead. Reads only.

    `paths`: the accept lands only these paths (a selection of files and hunks, as one commit
    built on the base tip): the checkout is checked for them only, and a predicted conflict is
    said as advice for the selected paths it touches (the selected hunks may still apply; the
    accept says so if they do not), not as a block. "Base moved" is advice either way."""
    if strategy not in STRATEGIES:
        raise ValueError(f"unknown merge strategy {strategy!r}")
    root = run.root
    tip = git.branch_tip(run)
    if tip is None:
        return [Finding(
            "no_branch", f"The run's branch {run.branch} no longer exists.",
            f"Nothing to land; see `git reflog` in {root} if it was deleted by mistake.",
        )]
    findings = checkout_findings(run, paths)
    if paths is None:  # a whole accept removes the worktree; a partial one leaves it be
        findings += worktree_findings(run)
    base = git.base_tip(run)
    if not git.is_ancestor(root, base, tip):
        ahead = git.count_commits(root, tip, base)
        moved = Finding(
            "base_moved",
            f"{run.base_branch} moved ahead by {ahead} commit(s) since the run started "
            f"(from {run.base_sha[:7]} to {base[:7]}).",
            f"`hybrid-tui rebase {run.id}` replays the run's commits on top of {run.base_branch} "
            f"(undo: `hybrid-tui rebase {run.id} --undo`); or accept as it is: "
            + ("the rebase strategy rebases first." if strategy == "rebase" else
               "the merge combines both sides."),
            blocking=False,
        )
        _, conflicts = git.merge_tree(root, base, tip)
        if paths is not None:
            conflicts = [path for path in conflicts if path in paths]
        if conflicts:
            listed = ", ".join(conflicts[:10]) + (" …" if len(conflicts) > 10 else "")
            if paths is None:
                findings.append(Finding(
                    "conflict",
                    f"The run's changes conflict with what {run.base_branch} got since the run "
                    f"started, in {listed}; git cannot {'rebase' if strategy == 'rebase' else 'merge'} "
                    "them on its own.",
                    f"Resolve by hand: `git -C {root} merge {run.branch}`, fix the files, commit; "
                    f"then reject the run. Or reject it and run the spec again from the current "
                    f"{run.base_branch}. The run's branch is kept.",
                ))
            else:
                findings.append(Finding(
                    "conflict",
                    f"The run's changes to {listed} conflict with what {run.base_branch} got since "
                    "the run started; the selected hunks may not apply.",
                    f"Select hunks that {run.base_branch} left alone, or resolve by hand: "
                    f"`git -C {root} merge {run.branch}`. The run's branch is kept.",
                    blocking=False,
                ))
        findings.append(moved)
    return sorted(findings, key=lambda f: not f.blocking)


def raise_blocking(findings: list[Finding]) -> None:
    """Raise the first blocking finding as `ActionFailed` (message and fix); others are named."""
    blocking = [f for f in findings if f.blocking]
    if not blocking:
        return
    first, more = blocking[0], blocking[1:]
    message = first.problem + "".join(f"\nAlso: {f.problem}" for f in more)
    raise ActionFailed(message, fix=first.fix)


@contextlib.contextmanager
def run_writer(store: RunStore, run: Run, operation: str, *, wait: float | None = None) -> Iterator[Run]:
    """Hold the writer lock of the run's repository for `operation` (`repo_lock.writer`: up to
    `wait` seconds, then `RepoBusy`), with `run` read again from its record and a rebase of it
    that was cut short finished or taken back (`finish_interrupted_rebase`)."""
    with repo_lock.writer(run.root, operation, run.id, wait=wait):
        repo_lock.refresh(store, run)
        finish_interrupted_rebase(store, run)
        yield run


# -- rebase ------------------------------------------------------------------------------------


def require_clean_worktree(run: Run, action: str) -> Path:
    """The run's worktree, refused (ActionFailed) when it is gone, off the run's branch or holds
    uncommitted changes, which `action` ("rebase", "run the checks") would lose."""
    worktree = run.worktree_dir
    if not worktree.is_dir():
        raise ActionFailed(
            f"run {run.id}: its worktree {worktree} no longer exists ({run.status.value}), "
            f"so there is nowhere to {action}."
        )
    git.ensure_worktree(run.root, worktree)
    dirty = git.local_changes(worktree)
    if git.current_branch(worktree) != run.branch or dirty:
        raise ActionFailed(
            f"run {run.id}: its worktree {worktree} has changes that are not on {run.branch}"
            + (f": {', '.join(dirty[:10])}" if dirty else "")
            + f". To {action} would discard them.",
            fix=f"Commit them on the branch (`git -C {worktree} commit -am …`) or drop them "
            f"(`git -C {worktree} reset --hard && git -C {worktree} clean -fd`), then {action} again.",
        )
    return worktree


def _require_rebasable(run: Run) -> Path:
    if refusal := run.refusal("rebase"):
        raise refusal
    return require_clean_worktree(run, "rebase")


def _rebase_in_progress(worktree: Path) -> bool:
    return any(
        (worktree / git.git(worktree, "rev-parse", "--git-path", name)).exists()
        for name in ("rebase-merge", "rebase-apply")
    )


def rebase_run(store: RunStore, run: Run) -> Run:
    """Rebase the run's branch onto the current tip of its base branch, in the run's worktree.

    A branch already on top of the base is left alone (the run is returned unchanged). The old
    tip is kept under `refs/hybrid-tui/pre-rebase/<run-id>` and in `run.rebase`, for
    `undo_rebase`. On a conflict the rebase is aborted and `ActionFailed` names the files.
    Holds the repository's writer lock (`run_writer`).
    """
    with run_writer(store, run, "rebase"):
        return _rebase(store, run)


def _rebase(store: RunStore, run: Run) -> Run:
    worktree = _require_rebasable(run)
    root = run.root
    old_tip = git.branch_tip(run)
    if old_tip is None:
        raise ActionFailed(f"run {run.id}: its branch {run.branch} no longer exists")
    new_base = git.base_tip(run)
    if git.is_ancestor(root, new_base, old_tip):
        return run
    ref = PRE_REBASE_REF.format(run_id=run.id)
    previous = git.ref_sha(root, ref)
    store.update(run, rebasing=RebaseStart(old_tip=old_tip, new_base=new_base, previous_ref=previous))
    git.keep_ref(root, ref, old_tip)
    tips.keep(run)  # an undo drops the pre-rebase ref: the old tip stays kept (core/run/tips.py)
    status, out, err = git.git_rc(
        worktree, *git.NO_HOOKS, *git.NO_SIGNING, "rebase", "--quiet", "--no-autostash", new_base,
        env=git.committer_env(worktree),
    )
    if status != 0:
        conflicts: list[str] = []
        if _rebase_in_progress(worktree):
            listed = git.git(worktree, "diff", "--name-only", "--diff-filter=U")
            conflicts = [p for p in listed.splitlines() if p]
            git.git(worktree, "rebase", "--abort")
        git.restore_worktree(worktree, run.branch, old_tip)
        if previous:
            git.keep_ref(root, ref, previous)
        else:
            git.git(root, "update-ref", "-d", ref)
        store.update(run, rebasing=None)
        if conflicts:
            what = f"a conflict in {', '.join(conflicts[:10])}"
        else:
            lines = (err or out).strip().splitlines()
            what = f"an error ({lines[-1]})" if lines else "an error"
        raise ActionFailed(
            f"Rebasing {run.branch} onto {run.base_branch} ({new_base[:7]}) stopped on {what}. "
            "The rebase was aborted; the branch is as it was.",
            fix=f"Accept with a merge and resolve by hand (`git -C {root} merge {run.branch}`), "
            f"or reject the run and run the spec again from the current {run.base_branch}.",
        )
    new_tip = git.git(worktree, "rev-parse", "HEAD")
    record = RebaseRecord(ref=ref, old_tip=old_tip, old_base_sha=run.base_sha, new_tip=new_tip)
    store.update(run, base_sha=new_base, head_sha=new_tip, rebase=record, rebasing=None)
    return run


def finish_interrupted_rebase(store: RunStore, run: Run) -> None:
    """See a rebase of the run that hybrid-tui began (`run.rebasing`) and did not see through
    to a clean end. Only under the writer lock: the rebaser held it, so it is gone (killed, even
    with `kill -9`, while git rebased, after git stopped on a conflict, or before the record
    was written).

    A rebase git still has under way in the worktree (stopped on a conflict) is aborted, which
    puts the branch and the worktree back as they were. A branch git did move onto the new base
    (the rebase went through) gets the record `rebase_run` would have written, so `rebase
    --undo` takes it back. Otherwise the branch is where it was: the pre-rebase ref gets its old
    value back (an earlier rebase's tip, still undoable). A branch gone or moved elsewhere is
    left as it is, the ref still holding the old tip. Either way `run.rebasing` is cleared."""
    start = run.rebasing
    if start is None:
        return
    root, worktree = run.root, run.worktree_dir
    ref = PRE_REBASE_REF.format(run_id=run.id)
    if worktree.is_dir():
        git.ensure_worktree(root, worktree)
        if _rebase_in_progress(worktree):
            git.git_rc(worktree, "rebase", "--abort")
    tip = git.branch_tip(run)
    if tip is not None and tip != start.old_tip and git.is_ancestor(root, start.new_base, tip):
        record = RebaseRecord(ref=ref, old_tip=start.old_tip, old_base_sha=run.base_sha, new_tip=tip)
        store.update(run, base_sha=start.new_base, head_sha=tip, rebase=record, rebasing=None)
        return
    if tip == start.old_tip:
        if worktree.is_dir() and (_rebase_in_progress(worktree) or git.current_branch(worktree) != run.branch):
            git.restore_worktree(worktree, run.branch, tip)  # the abort did not get it back
        if start.previous_ref:
            git.keep_ref(root, ref, start.previous_ref)
        else:
            git.git_rc(root, "update-ref", "-d", ref)
    store.update(run, rebasing=None)


def undo_rebase(store: RunStore, run: Run) -> Run:
    """Put the run's branch back where it was before the last `rebase_run` (holding the
    repository's writer lock). An undo cut short after git reset the branch is finished."""
    with run_writer(store, run, "rebase --undo"):
        return _undo_rebase(store, run)


def _undo_rebase(store: RunStore, run: Run) -> Run:
    record = run.rebase
    if record is None:
        raise ActionFailed(f"run {run.id} has no rebase to undo.")
    worktree = _require_rebasable(run)
    root = run.root
    tip = git.branch_tip(run)
    if tip != record.new_tip and tip != record.old_tip:
        raise ActionFailed(
            f"run {run.id}: {run.branch} moved since the rebase, so undoing it would lose commits.",
            fix=f"The old tip is kept as {record.ref}: `git -C {worktree} reset --hard {record.ref}` restores it by hand.",
        )
    git.git(worktree, "reset", "--quiet", "--hard", record.old_tip)
    git.git_rc(root, "update-ref", "-d", record.ref)
    store.update(run, base_sha=record.old_base_sha, head_sha=record.old_tip, rebase=None)
    return run
