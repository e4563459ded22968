"""Landing part of a run, or all of it as one commit: the commit is built away from the user's
checkout, then the checkout is fast-forwarded to it.

`accept_selection(store, run, selection)` lands the selected files and hunks (see `hunks.py`)
on the base branch as ONE commit; the run stays under review with its worktree and branch, and
`run.partial_accepts` records `{sha, paths}`. `squash_commit(run)` is the whole branch as one
commit (the squash strategy of `land.accept_run`).

How, without touching the user's index or files until the very end:
1. the preconditions of `merge.checkout_findings` (base branch checked out in the run's
   checkout, no local change on the paths that will change) are checked;
2. the commit is built in the object store: a temporary index (`GIT_INDEX_FILE` in a temp
   dir) reads the base tip, `git apply --cached --3way` takes the patch (a plain apply when the
   three-way one fails), `write-tree`, `commit-tree` with the base tip as parent. A squash
   takes its tree from `git merge-tree --write-tree` instead;
3. `git merge --ff-only <sha>` in the user's checkout: git itself refuses rather than overwrite.
If anything fails before step 3 nothing has changed anywhere but the object store.

Accepting again what already landed (hunks accepted in the review, then the whole file with
`accept --only PATH`, or the same hunks twice) must not apply it a second time: in a file of
look-alike lines `git apply` finds a hunk's context a few lines on and would duplicate it. So
before applying, each selected hunk (each whole file, for a file without hunks) is checked
against the base tip (`already_landed`) and skipped when its change is there; the commit holds
the rest, and `partial_accepts` records only the paths it changed. When all of the selection is
there already, the accept is refused ("already accepted in <sha7>", the last partial accept of
those paths) and nothing changes.
The commits are authored by the agent (it wrote the changes) and committed by the user.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from hybrid_tui.agents.registry import agent_identity
from hybrid_tui.core import git
from hybrid_tui.core.errors import ActionFailed, InputError
from hybrid_tui.core.land.accept import require_open
from hybrid_tui.core.land.hunks import (
    ALL,
    FileHunks,
    Selection,
    Whole,
    build_patch,
    parse_hunks,
    resolve_selection,
    selected_paths,
)
from hybrid_tui.core.land.merge import (
    checkout_findings,
    raise_blocking,
    run_writer,
)
from hybrid_tui.core.runs import PartialAccept, Run, RunStore


def run_patch(run: Run) -> str:
    """The run's changes as a patch `git apply` takes back (binary files included)."""
    return git.patch_text(run.root, run.base_sha, git.require_branch_tip(run))


def run_hunks(run: Run) -> list[FileHunks]:
    """The run's changes as files and numbered hunks: what a selection refers to."""
    return parse_hunks(run_patch(run))


def _tree_of(root: Path, commit: str) -> str:
    return git.git(root, "rev-parse", f"{commit}^{{tree}}")


def apply_to_tree(root: Path, base: str, patch: str) -> str:
    """The tree of commit `base` with `patch` applied, built in a temporary index.

    Three-way first (`--3way`: the patch is applied to the run's base blob named on its `index`
    line, then merged into `base`'s file by position), a plain `git apply` only when that fails:
    a plain apply takes the first place its context matches, which in a file of look-alike lines
    may be the wrong one when `base` moved (an earlier partial accept) under the hunk."""
    with tempfile.TemporaryDirectory(prefix="hybrid-tui-accept-") as tmp:
        env = {"GIT_INDEX_FILE": str(Path(tmp) / "index")}
        patch_file = Path(tmp) / "selection.patch"
        patch_file.write_bytes(patch.encode("utf-8", "surrogateescape"))
        problem = ""
        for extra in (["--3way"], []):
            git.git(root, "read-tree", base, env=env)
            status, out, err = git.git_rc(
                root, "apply", "--cached", "--binary", "--whitespace=nowarn", *extra, str(patch_file), env=env
            )
            if status == 0:
                return git.git(root, "write-tree", env=env)
            problem = problem or next(
                (line for line in (err or out).splitlines() if line.startswith("error:")), (err or out).strip()
            )
        raise ActionFailed(
            f"The selected changes do not apply to the base branch as it is now ({problem}). Nothing changed.",
            fix="The base branch moved since the run started: rebase the run (`hybrid-tui rebase RUN_ID`), "
            "then select again.",
        )


def commit_onto_base(run: Run, base: str, tree: str, message: str) -> str:
    """Commit `tree` on top of `base` (the base branch's tip) and fast-forward the user's
    checkout to it, after checking that no local change touches what the commit changes."""
    root = run.root
    _, author = agent_identity(run.agent)
    sha = git.commit_tree(root, tree, base, message, author=author)
    paths = set(git.git(root, "diff", "--name-only", "-z", "--no-renames", base, sha, strip=False).split("\0")) - {""}
    raise_blocking(checkout_findings(run, paths))
    git.fast_forward(root, sha)
    return sha


class _BaseIndex:
    """A temporary index holding a commit's tree, to try patches against (`git apply --cached`)."""

    def __init__(self, root: Path, commit: str, tmp: str) -> None:
        self.root, self.commit = root, commit
        self.env = {"GIT_INDEX_FILE": str(Path(tmp) / "index")}
        self.patch_file = Path(tmp) / "probe.patch"
        self.tree = _tree_of(root, commit)

    def applies(self, patch: str, *extra: str) -> bool:
        """Whether `git apply --cached extra...` takes `patch` on the commit's tree; with
        "--3way" (and no "--check") the index keeps the result, for `changes_nothing`."""
        self.patch_file.write_bytes(patch.encode("utf-8", "surrogateescape"))
        git.git(self.root, "read-tree", self.commit, env=self.env)
        status, _, _ = git.git_rc(
            self.root, "apply", "--cached", "--binary", "--whitespace=nowarn", *extra, str(self.patch_file), env=self.env
        )
        return status == 0

    def changes_nothing(self) -> bool:
        return git.git(self.root, "write-tree", env=self.env) == self.tree


def already_landed(probe: _BaseIndex, patch: str) -> bool:
    """Whether the change of `patch` (one hunk, or one file without hunks) is already in the
    probe's commit.

    Its reverse must apply (what it leaves is there). Then, when it does not apply forwards, it
    is there; when it applies both ways (look-alike lines: the context is found again elsewhere),
    a three-way apply decides: git >= 2.32 merges first, by position from the run's base blob,
    so a change already made leaves the tree as it was."""
    if not probe.applies(patch, "--check", "--reverse"):
        return False
    if not probe.applies(patch, "--check"):
        return True
    return probe.applies(patch, "--3way") and probe.changes_nothing()


def pending_selection(root: Path, base: str, files: list[FileHunks], chosen: dict[str, set[int] | Whole]) -> dict[str, set[int] | Whole]:
    """`chosen` (a resolved selection) without the hunks and files whose change is already on
    commit `base`: the part still to apply. Empty when all of it is there."""
    pending: dict[str, set[int] | Whole] = {}
    with tempfile.TemporaryDirectory(prefix="hybrid-tui-probe-") as tmp:
        probe = _BaseIndex(root, base, tmp)
        for entry in files:
            pick = chosen.get(entry.path)
            if pick is None:
                continue
            if not entry.hunks:
                if not already_landed(probe, build_patch(files, {entry.path: ALL})):
                    pending[entry.path] = ALL
                continue
            indexes = range(len(entry.hunks)) if pick is ALL else sorted(pick)
            left = {i for i in indexes if not already_landed(probe, build_patch(files, {entry.path: {i}}))}
            if left:
                pending[entry.path] = ALL if len(left) == len(entry.hunks) else left
    return pending


def _landed_in(run: Run, paths: list[str]) -> str:
    """Where the selection already landed: the last partial accept touching `paths`."""
    wanted = set(paths)
    for accepted in reversed(run.partial_accepts):
        if wanted & set(accepted.paths):
            return f"already accepted in {accepted.sha[:7]} on {run.base_branch}"
    return f"already on {run.base_branch}"


def accept_selection(store: RunStore, run: Run, selection: Selection) -> str:
    """Land the selected files and hunks of the run on its base branch as one commit.

    `selection`: path -> `hunks.ALL` or a set of hunk indexes (of `run_hunks(run)`). The run's
    status, worktree and branch are unchanged; `partial_accepts` gains `{sha, paths}`. Returns
    the new commit's sha. Hunks and files already on the base branch (an earlier partial accept)
    are skipped; when that is all of the selection, an `ActionFailed` ("already accepted in
    <sha7>"). An unknown path, a bad index or an empty selection is an `InputError`; a refused
    landing an `ActionFailed`; either way nothing changed. Holds the repository's writer lock
    (`merge.run_writer`: `RepoBusy` when another writer keeps it).
    """
    with run_writer(store, run, "partial accept"):
        return _accept_selection(store, run, selection)


def _accept_selection(store: RunStore, run: Run, selection: Selection) -> str:
    require_open(run, "accept")
    root = run.root
    files = run_hunks(run)
    try:
        chosen = resolve_selection(files, selection)
        paths = selected_paths(files, chosen)
    except ValueError as err:
        raise InputError(f"run {run.id}: {err}") from err
    if not chosen:
        raise InputError(f"run {run.id}: nothing selected to accept")
    raise_blocking(checkout_findings(run, set(paths)))
    base = git.base_tip(run)
    pending = pending_selection(root, base, files, chosen)
    if not pending:
        raise ActionFailed(f"The selected changes are {_landed_in(run, paths)}; nothing changed.")
    paths = selected_paths(files, pending)
    tree = apply_to_tree(root, base, build_patch(files, pending))
    if tree == _tree_of(root, base):
        raise ActionFailed(f"The selected changes are already on {run.base_branch}; nothing to accept.")
    listed = "\n".join(f"- {p}" for p in paths)
    message = f"Accept part of {run.branch}: {run.title}\n\nFrom hybrid-tui run {run.id}:\n{listed}"
    sha = commit_onto_base(run, base, tree, message)
    store.update(run, partial_accepts=[*run.partial_accepts, PartialAccept(sha=sha, paths=paths)])
    return sha


def squash_commit(run: Run) -> str:
    """Land the whole branch on the base branch as one commit (a squash merge, computed by
    `git merge-tree`); the base tip itself when the branch brings nothing new."""
    root = run.root
    base, tip = git.base_tip(run), git.require_branch_tip(run)
    tree, conflicts = git.merge_tree(root, base, tip)
    if conflicts:
        raise ActionFailed(
            f"Squashing {run.branch} onto {run.base_branch} conflicts in {', '.join(conflicts[:10])}. Nothing changed.",
            fix=f"Resolve by hand (`git -C {root} merge --squash {run.branch}`), or reject the run.",
        )
    if tree == _tree_of(root, base):
        return base
    message = f"Squash {run.branch}: {run.title}\n\nAccepted from hybrid-tui run {run.id}."
    return commit_onto_base(run, base, tree, message)
