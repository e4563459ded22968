"""Git, through GitPython: the project, the run's worktree and branch, commits, diffs, landing.

Everything here runs real git. Functions that change the user's checkout (`merge_branch`) check
their preconditions first and leave the checkout exactly as it was when git refuses.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from git import GitCommandError, InvalidGitRepositoryError, NoSuchPathError, Repo

from hybrid_tui.core.errors import ActionFailed, InputError

FALLBACK_NAME = "hybrid-tui"
FALLBACK_EMAIL = "hybrid-tui@hybrid-tui.invalid"
# Commits we make skip the repository's hooks: a pre-commit hook must not block or alter the
# agent's result, and post-commit hooks must not run against the run's worktree.
NO_HOOKS = ["-c", "core.hooksPath=/dev/null"]


def git(cwd: Path | str, *args: str, env: dict[str, str] | None = None, strip: bool = True) -> str:
    """Run `git args...` in `cwd` and return stdout; raises GitCommandError on failure."""
    return Repo.GitCommandWrapperType(str(cwd)).execute(
        ["git", *args], env=env, strip_newline_in_stdout=strip
    )


def open_project(path: Path) -> Repo:
    """The git repository holding `path`, checked for what a run needs: a commit, a branch."""
    try:
        repo = Repo(path, search_parent_directories=True)
    except NoSuchPathError as err:
        raise InputError(f"{path}: no such directory") from err
    except InvalidGitRepositoryError as err:
        raise InputError(
            f"{path}: not a git repository", fix="Run hybrid-tui inside a git repository or pass --repo DIR."
        ) from err
    if repo.bare:
        raise InputError(f"{path}: a bare repository has no checkout to work from")
    return repo


def project_root(repo: Repo) -> Path:
    return Path(repo.working_tree_dir).resolve()


def head_branch(repo: Repo) -> tuple[str, str]:
    """(branch name, full sha) of HEAD; an `InputError` for no commits or a detached HEAD."""
    root = project_root(repo)
    try:
        sha = repo.head.commit.hexsha
    except ValueError as err:
        raise InputError(
            f"{root}: the repository has no commits yet", fix="Make a first commit, then delegate."
        ) from err
    if repo.head.is_detached:
        raise InputError(
            f"{root}: HEAD is detached at {sha[:7]}",
            fix="Check out the branch the work should land on (git switch BRANCH), then delegate.",
        )
    return repo.active_branch.name, sha


def tree_paths(repo: Repo, sha: str) -> set[str]:
    """Every file path in the tree of commit `sha` (repo-relative, forward slashes)."""
    out = git(project_root(repo), "ls-tree", "-r", "-z", "--name-only", sha, strip=False)
    return {p for p in out.split("\0") if p}


_SLUG_BAD = re.compile(r"[^a-z0-9]+")


def slugify(title: str, max_len: int = 40) -> str:
    """A branch-name-safe slug of any title (lower-case ascii, digits, single dashes)."""
    slug = _SLUG_BAD.sub("-", title.lower()).strip("-")[:max_len].strip("-")
    return slug or "run"


def create_worktree(repo: Repo, path: Path, branch: str, sha: str) -> None:
    """A new worktree at `path` on a new `branch` starting at `sha`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    git(project_root(repo), "worktree", "add", "--quiet", "-b", branch, str(path), sha)


def identity_env(repo_dir: Path, author: str) -> dict[str, str]:
    """Author = the agent; committer = the user's git identity, else the fallback."""
    name, _, email = author.partition(" <")
    env = {"GIT_AUTHOR_NAME": name, "GIT_AUTHOR_EMAIL": email.rstrip(">")}
    for key, var, fallback in (
        ("user.name", "GIT_COMMITTER_NAME", FALLBACK_NAME),
        ("user.email", "GIT_COMMITTER_EMAIL", FALLBACK_EMAIL),
    ):
        try:
            git(repo_dir, "config", key)
        except GitCommandError:
            env[var] = fallback
    return env


def commit_all(worktree: Path, *, author: str, message: str) -> str | None:
    """Commit everything in `worktree` (new, changed, deleted files); the new sha or None."""
    git(worktree, "add", "-A")
    if not git(worktree, "status", "--porcelain"):
        return None
    git(
        worktree, *NO_HOOKS, "commit", "--quiet", "--no-verify", "-m", message,
        env=identity_env(worktree, author),
    )
    return git(worktree, "rev-parse", "HEAD")


def current_branch(worktree: Path) -> str | None:
    try:
        return git(worktree, "symbolic-ref", "--quiet", "--short", "HEAD")
    except GitCommandError:
        return None


def reconcile_branch(worktree: Path, branch: str, base_sha: str) -> str | None:
    """Bring the worktree back to `branch` if the agent switched away; say what happened.

    When the agent committed on another branch or on a detached HEAD, those commits are what it
    did: if they descend from the run's base, the run's branch is moved to them. Uncommitted work
    is carried along by the checkout. Returns a notice for the user, or None when nothing odd
    happened.
    """
    on = current_branch(worktree)
    if on == branch:
        return None
    here = git(worktree, "rev-parse", "HEAD")
    where = f"branch {on}" if on else f"a detached HEAD at {here[:7]}"
    try:
        git(worktree, "merge-base", "--is-ancestor", base_sha, here)
        descends = True
    except GitCommandError:
        descends = False
    if descends:
        git(worktree, "branch", "--force", branch, here)
        git(worktree, "checkout", "--quiet", branch)
        return f"The agent switched the worktree to {where}; its commits were moved to {branch}."
    git(worktree, "checkout", "--quiet", branch)
    return f"The agent switched the worktree to {where}, which does not start from the run's base; {branch} was restored."


def checkout_state(root: Path) -> dict[str, str]:
    """A fingerprint of the user's checkout: HEAD and every changed or untracked path's status."""
    state = {"HEAD": git(root, "rev-parse", "HEAD")}
    out = git(root, "status", "--porcelain=v1", "-z", "--no-renames", "--untracked-files=all", strip=False)
    for entry in out.split("\0"):
        if len(entry) > 3:
            state[entry[3:]] = entry[:2]
    return state


def local_changes(root: Path) -> list[str]:
    """Paths with staged, unstaged or untracked changes in the checkout at `root`."""
    return sorted(set(checkout_state(root)) - {"HEAD"})


def compare_checkout(before: dict[str, str], after: dict[str, str]) -> list[str]:
    """The paths (or HEAD) whose state differs between two `checkout_state` fingerprints."""
    return sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))


@dataclass(frozen=True, slots=True)
class FileDiff:
    path: str
    status: str  # added | modified | deleted | renamed | copied | type-changed
    added: int | None  # None for a binary file
    removed: int | None
    old_path: str | None = None

    @property
    def binary(self) -> bool:
        return self.added is None


_STATUS = {"A": "added", "M": "modified", "D": "deleted", "R": "renamed", "C": "copied", "T": "type-changed"}


def diff_files(root: Path, base: str, tip: str) -> list[FileDiff]:
    """Files changed between `base` and `tip`, with status and +/- counts (renames detected)."""
    raw = git(root, "diff", "--no-color", "--raw", "--numstat", "-z", "-M", base, tip, strip=False)
    fields = raw.split("\0")
    statuses: list[tuple[str, str, str | None]] = []
    counts: list[tuple[int | None, int | None]] = []
    i = 0
    while i < len(fields):
        field = fields[i]
        if field.startswith(":"):
            letter = field.split()[-1][0]
            if letter in "RC":
                statuses.append((letter, fields[i + 2], fields[i + 1]))
                i += 3
            else:
                statuses.append((letter, fields[i + 1], None))
                i += 2
        elif field:
            added, removed, path = field.split("\t", 2)
            counts.append((None, None) if added == "-" else (int(added), int(removed)))
            i += 3 if path == "" else 1  # a rename's numstat names both paths in two fields
        else:
            i += 1
    return [
        FileDiff(path, _STATUS.get(letter, "modified"), added, removed, old)
        for (letter, path, old), (added, removed) in zip(statuses, counts)
    ]


def diff_text(root: Path, base: str, tip: str, path: str | None = None) -> str:
    """The unified diff between `base` and `tip` (optionally of one path)."""
    args = ["diff", "--no-color", "-M", base, tip]
    if path is not None:
        args += ["--", path]
    return git(root, *args, strip=False)


def changed_paths(root: Path, base: str, tip: str) -> set[str]:
    """Every path a merge of `tip` would touch, old and new names of renames included."""
    out = git(root, "diff", "--name-only", "-z", "--no-renames", f"{base}...{tip}", strip=False)
    return {p for p in out.split("\0") if p}


def has_merge_head(root: Path) -> bool:
    return (root / git(root, "rev-parse", "--git-path", "MERGE_HEAD")).exists()


def merge_branch(root: Path, *, branch: str, base_branch: str, message: str) -> str:
    """Merge `branch` into `base_branch` in the checkout at `root` (`git merge --no-ff`).

    Preconditions, checked before git is asked: the checkout has `base_branch` checked out, and
    no local change (staged, unstaged or untracked) touches a file the branch changes. On a
    conflict the merge is aborted (only when MERGE_HEAD exists) and the checkout is as before.
    Returns the merge commit's sha; raises `ActionFailed` with the fix otherwise.
    """
    on = current_branch(root)
    if on != base_branch:
        where = f"branch {on}" if on else "a detached HEAD"
        raise ActionFailed(
            f"{root} has {where} checked out, but the run's base branch is {base_branch}.",
            fix=f"Run `git switch {base_branch}` in {root}, then accept again. The run's branch {branch} is kept.",
        )
    overlap = sorted(set(local_changes(root)) & changed_paths(root, base_branch, branch))
    if overlap:
        raise ActionFailed(
            f"Local changes in {root} touch files the run changed: {', '.join(overlap[:10])}"
            + (" …" if len(overlap) > 10 else ""),
            fix="Commit or stash them (git stash -u), then accept again. The run's branch is kept.",
        )
    try:
        git(root, *NO_HOOKS, "merge", "--no-ff", "--no-edit", "-m", message, branch)
    except GitCommandError as err:
        if has_merge_head(root):
            git(root, "merge", "--abort")
        detail = (err.stdout or err.stderr or "").strip().splitlines()
        raise ActionFailed(
            f"git could not merge {branch} into {base_branch}: "
            + (detail[-1] if detail else "merge failed") + ". The merge was aborted; nothing changed.",
            fix=f"Resolve by hand: `git merge {branch}` in {root}, or rebase the branch onto {base_branch}. The branch is kept.",
        ) from err
    return git(root, "rev-parse", "HEAD")


def remove_worktree(root: Path, worktree: Path) -> None:
    """Remove the run's worktree (idempotent; the branch is untouched)."""
    if worktree.exists():
        git(root, "worktree", "remove", "--force", "--force", str(worktree))
    git(root, "worktree", "prune")


def keep_ref(root: Path, ref: str, sha: str) -> None:
    git(root, "update-ref", ref, sha)


def ref_sha(root: Path, ref: str) -> str | None:
    try:
        return git(root, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    except GitCommandError:
        return None


def delete_branch(root: Path, branch: str) -> None:
    """Delete `branch` (idempotent). Callers keep its tip reachable first."""
    if branch_exists_at(root, branch):
        git(root, "branch", "-D", branch)


def branch_exists_at(root: Path, branch: str) -> bool:
    return ref_sha(root, f"refs/heads/{branch}") is not None
