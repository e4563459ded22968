"""Git, through GitPython: the project, the run's worktree and branch, commits, diffs, landing.

Everything here runs real git. Functions that change the user's checkout (`merge_branch`,
`fast_forward`) run after their callers checked the preconditions (`merge.preflight`) and leave
the checkout exactly as it was when git refuses.

Every git command goes through `git`/`git_rc` (`git_argv`): with the repository's hooks and
fsmonitor set aside (`SAFE_CONFIG`), and, on a run's worktree that `ensure_worktree` checked,
with its admin dir and work tree named, so that nothing an agent wrote into `.git` runs or
redirects hybrid-tui's git.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from git import GitCommandError, InvalidGitRepositoryError, NoSuchPathError, Repo

from hybrid_tui.core.errors import ActionFailed, InputError
from hybrid_tui.core.spec.paths import TreePaths

if TYPE_CHECKING:
    from hybrid_tui.core.runs import Run

__all__ = ["GitCommandError", "Repo"]  # GitPython is used here only: its error and repo type go out from here

FALLBACK_NAME = "hybrid-tui"
FALLBACK_EMAIL = "hybrid-tui@hybrid-tui.invalid"
# What every git command hybrid-tui runs sets aside, whoever wrote it into a git config (the
# repository's `.git/config` is shared with every worktree, so a run's agent can write it):
# - `core.hooksPath`: no hook of the repository runs, the user's own or one the agent planted;
#   a pre-commit hook must not block or alter the agent's result, post-commit, post-checkout or
#   post-merge hooks must not run against hybrid-tui's commits, checkouts and merges;
# - `core.fsmonitor`: a program git would run at every read of the index (`status`, `diff`,
#   `add`, `commit`, `merge`...).
# Other settings that name programs are not overridden here, because they are the user's own
# way to make git work and hybrid-tui needs them as the user does: filter, merge and diff drivers
# (git-lfs), `core.sshCommand` and `credential.helper` (`pr` pushes), `gpg.program` (the user's
# signed merge commits), `include.path`. What keeps an agent's version of them out is the repo
# guard (core/run/repo_guard.py), which puts the repository's config, hooks and attributes back
# before hybrid-tui runs git after the agent. Never run by hybrid-tui's commands at all: a pager
# (stdout is never a terminal), an editor (every commit, merge and rebase is given its message),
# `diff.external` and textconv drivers (`diff` is run with `--no-ext-diff --no-textconv`).
SAFE_CONFIG = (("core.hooksPath", "/dev/null"), ("core.fsmonitor", "false"))
SAFE_ARGS = [arg for key, value in SAFE_CONFIG for arg in ("-c", f"{key}={value}")]
# Kept for the call sites that name them; every command gets SAFE_ARGS anyway.
NO_HOOKS = ["-c", "core.hooksPath=/dev/null"]
# The agent's commits (and their rebase) are never signed with the user's key: `commit.gpgSign`
# in the user's config would make every run's commit fail without a usable key, or wait on a
# passphrase prompt no one sees.
NO_SIGNING = ["-c", "commit.gpgSign=false"]


def safe_config_env(env: dict[str, str] | None = None) -> dict[str, str]:
    """`env` (default: this process's) with `SAFE_CONFIG` added as `GIT_CONFIG_COUNT` /
    `GIT_CONFIG_KEY_n` / `GIT_CONFIG_VALUE_n`: the same as `SAFE_ARGS` for every git a program
    hybrid-tui starts runs (`git push`, `gh`), after any the environment already sets."""
    env = dict(os.environ if env is None else env)
    try:
        count = max(int(env.get("GIT_CONFIG_COUNT", "0")), 0)
    except ValueError:
        count = 0
    for key, value in SAFE_CONFIG:
        env[f"GIT_CONFIG_KEY_{count}"], env[f"GIT_CONFIG_VALUE_{count}"] = key, value
        count += 1
    env["GIT_CONFIG_COUNT"] = str(count)
    return env


# A run's worktree -> its admin dir (`.git/worktrees/<id>`), set by `ensure_worktree`. git run
# there is told both (`--git-dir`, `--work-tree`) instead of following the worktree's `.git`
# file, which the agent could rewrite to send hybrid-tui's git to a repository of its making.
_PINNED: dict[str, str] = {}


def git_argv(cwd: Path | str, *args: str) -> list[str]:
    """The argv hybrid-tui runs for `git args...` in `cwd`: `SAFE_ARGS` first, and a pinned
    worktree's `--git-dir`/`--work-tree`."""
    where = os.path.abspath(cwd)
    admin = _PINNED.get(where)
    pinned = [f"--git-dir={admin}", f"--work-tree={where}"] if admin else []
    return ["git", *SAFE_ARGS, *pinned, *args]


def git(cwd: Path | str, *args: str, env: dict[str, str] | None = None, strip: bool = True) -> str:
    """Run `git args...` in `cwd` and return stdout; raises GitCommandError on failure."""
    return Repo.GitCommandWrapperType(str(cwd)).execute(
        git_argv(cwd, *args), env=env, strip_newline_in_stdout=strip
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
    if repo.working_tree_dir is None:  # open_project refuses bare repositories
        raise InputError(f"{repo.git_dir}: a bare repository has no checkout to work from")
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


def tree_paths(repo: Repo, sha: str) -> TreePaths:
    """Every file path in the tree of commit `sha` (repo-relative, forward slashes), with the
    target of each symlink among them in `.links` (spec paths are checked through them)."""
    root = project_root(repo)
    out = git(root, "ls-tree", "-r", "-z", "--full-tree", sha, strip=False)
    paths = TreePaths()
    linked: dict[str, str] = {}  # blob -> path
    for entry in out.split("\0"):
        meta, _, path = entry.partition("\t")
        if not path:
            continue
        paths.add(path)
        mode, _, obj = meta.split(" ")
        if mode == "120000":
            linked[obj] = path
    if linked:
        batch = subprocess.run(
            git_argv(root, "cat-file", "--batch"), cwd=root, input="".join(f"{o}\n" for o in linked).encode(),
            capture_output=True, check=True,
        ).stdout
        while batch:
            header, _, batch = batch.partition(b"\n")
            obj, _, size = header.decode().split(" ")
            paths.links[linked[obj]] = os.fsdecode(batch[: int(size)])
            batch = batch[int(size) + 1 :]
    return paths


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
        worktree, *NO_HOOKS, *NO_SIGNING, "commit", "--quiet", "--no-verify", "-m", message,
        env=identity_env(worktree, author),
    )
    return git(worktree, "rev-parse", "HEAD")


def current_branch(worktree: Path) -> str | None:
    """The branch checked out in `worktree` (None: a detached HEAD). Not `--short`, which
    says `heads/main` when a tag is named `main` too."""
    try:
        ref = git(worktree, "symbolic-ref", "--quiet", "HEAD")
    except GitCommandError:
        return None
    return ref.removeprefix("refs/heads/")


def _common_dir(path: Path) -> Path | None:
    status, out, _ = git_rc(path, "rev-parse", "--path-format=absolute", "--git-common-dir")
    return Path(out.strip()).resolve() if status == 0 and out.strip() else None


def common_dir(root: Path) -> Path:
    """The git dir of the repository whose checkout is `root` (its `.git`), which every
    worktree shares: config, hooks, refs, objects."""
    found = _common_dir(root)
    if found is None:
        raise ActionFailed(f"{root} is not a git repository any more")
    return found


def _links_to(marker: Path, prefix: str, base: Path) -> Path | None:
    """The path a git link file (`gitdir: X` in a worktree's `.git`, plain `X` in an admin dir's
    `commondir` or `gitdir`) names, resolved against `base`; None when unreadable."""
    try:
        text = marker.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return None
    if not text.startswith(prefix):
        return None
    return (base / text[len(prefix):].strip()).resolve()


def worktree_admin_dir(root: Path, worktree: Path) -> Path | None:
    """The admin dir of `worktree` in the repository at `root` (`.git/worktrees/<name>`: its
    HEAD, index and links), found from the repository, never from the worktree's own `.git`
    file. A run's worktree is named by its run id, so its admin dir has that name; another
    worktree is found by the `gitdir` file pointing back at it. None: not a worktree of `root`."""
    admins = common_dir(root) / "worktrees"
    named = admins / worktree.name
    if named.is_dir() and not named.is_symlink():
        return named
    marker = (worktree / ".git").absolute()
    for admin in sorted(admins.iterdir()) if admins.is_dir() else []:
        if admin.is_dir() and _links_to(admin / "gitdir", "", admin) == marker.resolve():
            return admin
    return None


def ensure_worktree(root: Path, worktree: Path) -> None:
    """Make sure that hybrid-tui's git in `worktree` works on that worktree of the repository at
    `root`, and pin it there: from now on `git(worktree, ...)` names the admin dir and the
    worktree (`--git-dir`, `--work-tree`) instead of following the worktree's `.git` file.

    An agent (or a check) with a shell may delete or rewrite the worktree's `.git` file, or the
    admin dir's `commondir` and `gitdir` (the repo guard reports and restores them first, see
    core/run/repo_guard.py): git would then act on whatever repository they name, or on the one
    holding the state dir (a dotfiles repository at ~, say). Each link that does not lead back
    where it belongs is written again, as `git worktree add` wrote it (the index and HEAD live
    in the admin dir, so nothing else is lost). A worktree that became a repository of its own
    (`git init` there) or whose admin dir is gone is an `ActionFailed`, and no git command is
    run in it.
    """
    if not worktree.is_dir():
        raise ActionFailed(f"{worktree}: the run's worktree no longer exists")
    admin = worktree_admin_dir(root, worktree)
    marker = worktree / ".git"
    if admin is None or (marker.is_dir() and not marker.is_symlink()):
        raise ActionFailed(
            f"{worktree} is no longer a worktree of {root}: its .git was replaced "
            "(did the agent run `git init` or delete .git?). Nothing was committed; the files are still there.",
            fix=f"Move {worktree / '.git'} away, run `git -C {root} worktree repair {worktree}`, then review the run.",
        )
    common = admin.parent.parent
    links = (
        (marker, "gitdir:", worktree, admin, f"gitdir: {admin}\n"),
        (admin / "commondir", "", admin, common, "../..\n"),
        (admin / "gitdir", "", admin, marker.absolute(), f"{marker.absolute()}\n"),
    )
    for path, prefix, base, target, text in links:
        if _links_to(path, prefix, base) != target.resolve():
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            elif path.is_symlink() or path.exists():
                path.unlink()
            path.write_text(text, encoding="utf-8")
    _PINNED[os.path.abspath(worktree)] = str(admin)


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


def _status_codes(root: Path) -> dict[str, str]:
    """Every changed or untracked path of the checkout at `root` -> its `git status` code."""
    out = git(root, "status", "--porcelain=v1", "-z", "--no-renames", "--untracked-files=all", strip=False)
    return {entry[3:]: entry[:2] for entry in out.split("\0") if len(entry) > 3}


_HASH_LIMIT = 64 << 20  # bigger files are fingerprinted by size and mtime, not read


def content_fingerprint(path: Path) -> str:
    """What a file holds, cheaply: its mode bits and the sha1 of its bytes (a symlink: its
    target; a directory, a submodule: "dir"; gone: "-"). Files over 64 MiB give size and
    mtime_ns instead of being read. A `touch` alone changes nothing here."""
    try:
        info = path.lstat()
        if path.is_symlink():
            return f"link:{os.readlink(path)}"
        if path.is_dir():
            return "dir"
        if info.st_size > _HASH_LIMIT:
            return f"{info.st_mode:o}:{info.st_size}:{info.st_mtime_ns}"
        digest = hashlib.sha1()
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        return f"{info.st_mode:o}:{digest.hexdigest()}"
    except OSError:
        return "-"


def checkout_state(root: Path) -> dict[str, str]:
    """A fingerprint of the user's checkout: HEAD, and every changed or untracked path's status
    code with a fingerprint of its content (`content_fingerprint`).

    The content counts because the status code alone does not change when a file already
    modified before a run is edited again. Only the paths git reports are read; a tracked clean
    file is covered by HEAD and its status (edited, it shows up as modified)."""
    state = {"HEAD": git(root, "rev-parse", "HEAD")}
    for path, code in _status_codes(root).items():
        state[path] = f"{code} {content_fingerprint(root / path)}"
    return state


def local_changes(root: Path) -> list[str]:
    """Paths with staged, unstaged or untracked changes in the checkout at `root` (no file is
    read: the status codes say it)."""
    return sorted(_status_codes(root))


def compare_checkout(before: dict[str, str], after: dict[str, str]) -> list[str]:
    """The paths (or HEAD) whose state differs between two `checkout_state` fingerprints."""
    return sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))


# A run's own branch (`<agent>/<run-id>-<slug>`, the run id `YYMMDD-HHMMSS-xx`) and the refs
# hybrid-tui keeps: they change during runs (parallel ones too) by design.
_RUN_REF = re.compile(r"^(refs/heads/[a-z]+/\d{6}-\d{6}-[a-z0-9]{2}(-|$)|refs/hybrid-tui/)")


def user_refs(root: Path) -> dict[str, str]:
    """The user's refs of the repository at `root` (refname -> sha): branches, tags, the stash,
    notes; not remote-tracking refs (a fetch moves them) nor the runs' own refs. A run's
    worktree shares them all, so an agent's `git branch -D`, `git stash clear` or `git tag`
    reaches them."""
    out = git(root, "for-each-ref", "--format=%(refname)%00%(objectname)", strip=False)
    refs = {}
    for line in out.splitlines():
        name, _, sha = line.partition("\0")
        if name and not name.startswith("refs/remotes/") and not _RUN_REF.match(name):
            refs[name] = sha
    return refs


_CONFIG = "config"  # the key of the repository's config file in `repository_state`


def repository_state(root: Path) -> tuple[dict[str, str], dict[str, str]]:
    """What a run must not change behind the user's back: the checkout (`checkout_state`), the
    user's refs (`user_refs`) and the repository's config file, shared by every worktree (an
    agent's `git config user.email ...` or `core.hooksPath` would apply to the user's commits)."""
    config = Path(git(root, "rev-parse", "--path-format=absolute", "--git-common-dir")) / "config"
    try:
        digest = hashlib.sha256(config.read_bytes()).hexdigest()
    except OSError:
        digest = ""
    return checkout_state(root), {**user_refs(root), _CONFIG: digest}


def compare_repository(
    before: tuple[dict[str, str], dict[str, str]], after: tuple[dict[str, str], dict[str, str]]
) -> list[str]:
    """What differs between two `repository_state`s: paths (or HEAD) of the checkout, then each
    ref that moved, went or came, with its old sha (`refs/heads/x (was 1a2b3c4d5e6f)`, to get a
    deleted branch back) or `(new)`, then "the repository's git config"."""
    changed = compare_checkout(before[0], after[0])
    old_refs, new_refs = before[1], after[1]
    for ref in sorted(old_refs.keys() | new_refs.keys(), key=lambda name: (name == _CONFIG, name)):
        old = old_refs.get(ref)
        if old == new_refs.get(ref):
            continue
        if ref == _CONFIG:
            changed.append("the repository's git config")
        else:
            changed.append(f"{ref} (was {old[:12]})" if old else f"{ref} (new)")
    return changed


def untracked_in_the_way(root: Path, paths: Iterable[str]) -> list[str]:
    """Untracked files of the checkout at `root`, ignored ones included, that writing `paths`
    (the files a landing changes) would overwrite or delete: a file at one of `paths`, a file
    where one of them needs a directory, every file under a directory where one of them goes.

    `git merge` overwrites ignored files and deletes ignored directories in its way without a
    word, and `git status` does not list them; they are the user's all the same (`.env`, logs).
    Only paths that exist on disk are looked at, so this costs a few `lstat`s and, only when
    something is there, one `git ls-files`.
    """
    tracked: set[str] | None = None
    found: set[str] = set()
    directories: list[str] = []
    for path in paths:
        parts = path.split("/")
        for depth in range(1, len(parts) + 1):
            name = "/".join(parts[:depth])
            full = root / name
            if not os.path.lexists(full):
                break
            is_dir = full.is_dir() and not full.is_symlink()
            if is_dir and depth < len(parts):
                continue
            if is_dir:
                directories.append(name)
                break
            if tracked is None:
                tracked = set(git(root, "ls-files", "-z", strip=False).split("\0"))
            if name not in tracked:
                found.add(name)
            break
    for name in directories:
        out = git(root, "--literal-pathspecs", "ls-files", "-z", "--others", "--", name, strip=False)
        found.update(p for p in out.split("\0") if p)
    return sorted(found)


def assumed_unchanged(root: Path, paths: Iterable[str]) -> list[str]:
    """Those of `paths` the index at `root` marks "assume unchanged" (`git update-index
    --assume-unchanged`): `git status` does not show a local change to them, and a `git merge`
    that refuses to overwrite one puts the file back to the index's version on its way out."""
    wanted = set(paths)
    out = git(root, "ls-files", "-v", "-z", strip=False)
    return sorted(entry[2:] for entry in out.split("\0") if entry[:1].islower() and entry[2:] in wanted)


_OPERATIONS = (
    ("MERGE_HEAD", "a merge", "`git commit` to conclude it, or `git merge --abort`"),
    ("CHERRY_PICK_HEAD", "a cherry-pick", "`git cherry-pick --continue`, or `git cherry-pick --abort`"),
    ("REVERT_HEAD", "a revert", "`git revert --continue`, or `git revert --abort`"),
    ("rebase-merge", "a rebase", "`git rebase --continue`, or `git rebase --abort`"),
    ("rebase-apply", "a rebase or `git am`", "`git rebase --continue` / `git am --continue`, or their --abort"),
)


def operation_in_progress(root: Path) -> tuple[str, str] | None:
    """(what, how to finish it) of a merge, cherry-pick, revert, rebase or `git am` the user has
    under way in the checkout at `root`; None when there is none."""
    for name, what, how in _OPERATIONS:
        if (root / git(root, "rev-parse", "--git-path", name)).exists():
            return what, how
    return None


@dataclass(frozen=True, slots=True)
class FileDiff:
    """One changed file. `added`/`removed` are 0 (not counted) from `diff_names`."""

    path: str
    status: str  # added | modified | deleted | renamed | copied | type-changed
    added: int | None  # None for a binary file
    removed: int | None
    old_path: str | None = None

    @property
    def binary(self) -> bool:
        return self.added is None


_STATUS = {"A": "added", "M": "modified", "D": "deleted", "R": "renamed", "C": "copied", "T": "type-changed"}


def _parse_diff(raw: str) -> tuple[list[FileDiff], list[tuple[int | None, int | None]]]:
    """`git diff --raw [--numstat] -z -M` output: the files of the `--raw` part, in git's order
    (a rename or copy names both paths; counts 0, not known from `--raw`), and the counts of
    the `--numstat` part, in the same order ((None, None) for a binary file)."""
    fields = raw.split("\0")
    files: list[FileDiff] = []
    counts: list[tuple[int | None, int | None]] = []
    i = 0
    while i < len(fields):
        field = fields[i]
        if field.startswith(":"):
            letter = field.split()[-1][0]
            status = _STATUS.get(letter, "modified")
            if letter in "RC":
                files.append(FileDiff(fields[i + 2], status, 0, 0, fields[i + 1]))
                i += 3
            else:
                files.append(FileDiff(fields[i + 1], status, 0, 0))
                i += 2
        elif field:
            added, removed, path = field.split("\t", 2)
            counts.append((None, None) if added == "-" else (int(added), int(removed)))
            i += 3 if path == "" else 1  # a rename's numstat names both paths in two fields
        else:
            i += 1
    return files, counts


def diff_names(root: Path, base: str, tip: str) -> list[FileDiff]:
    """Files changed between `base` and `tip`, names and status only (renames detected): the
    counts are 0, not known. `git diff --raw` compares trees without diffing contents, so this
    takes milliseconds whatever the size of the diff (the review lists files with it first)."""
    return _parse_diff(git(root, "diff", "--no-color", "--raw", "-z", "-M", base, tip, strip=False))[0]


def diff_files(root: Path, base: str, tip: str) -> list[FileDiff]:
    """Files changed between `base` and `tip`, with status and +/- counts (renames detected):
    `diff_names`' files with the counts of the same `git diff` run with `--numstat`."""
    raw = git(root, "diff", "--no-color", "--no-textconv", "--raw", "--numstat", "-z", "-M", base, tip, strip=False)
    files, counts = _parse_diff(raw)
    return [
        FileDiff(f.path, f.status, added, removed, f.old_path)
        for f, (added, removed) in zip(files, counts)
    ]


def diff_text(root: Path, base: str, tip: str, path: str | None = None) -> str:
    """The unified diff between `base` and `tip` (optionally of one path): the files' own
    bytes, no external diff program or textconv filter of the user's config or the branch's
    `.gitattributes` run."""
    args = ["diff", "--no-color", "--no-ext-diff", "--no-textconv", "-M", base, tip]
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
    """Merge `branch` into the checkout at `root` (`git merge --no-ff`, hooks skipped).

    The caller has checked the preconditions first (`merge.preflight`: `base_branch` checked
    out at `root`, no overlapping local change). On a conflict the merge is aborted (only when
    MERGE_HEAD exists: a merge git refused up front left none) and the checkout is as before.
    A merge the user already had under way (MERGE_HEAD there before) is never aborted: that
    would throw away their resolution; git refuses to start another one anyway.
    Returns the merge commit's sha; raises `ActionFailed` with the fix otherwise.
    """
    users_merge = has_merge_head(root)
    try:
        git(root, *NO_HOOKS, "merge", "--no-ff", "--no-edit", "-m", message, branch)
    except GitCommandError as err:
        aborted = has_merge_head(root) and not users_merge
        if aborted:
            git(root, "merge", "--abort")
        detail = (err.stdout or err.stderr or "").strip().splitlines()
        raise ActionFailed(
            f"git could not merge {branch} into {base_branch}: "
            + (detail[-1] if detail else "merge failed")
            + (". The merge was aborted; nothing changed." if aborted else ". Nothing changed."),
            fix=f"Resolve by hand: `git merge {branch}` in {root}, or rebase the branch onto {base_branch}. The branch is kept.",
        ) from err
    return git(root, "rev-parse", "HEAD")


def fast_forward(root: Path, sha: str) -> None:
    """Move the branch checked out at `root` forward to `sha` (`git merge --ff-only`).

    Git refuses (and changes nothing) when `sha` does not descend from HEAD or a local change
    would be overwritten; that becomes an `ActionFailed`.
    """
    try:
        git(root, *NO_HOOKS, "merge", "--ff-only", "--quiet", sha)
    except GitCommandError as err:
        detail = (err.stderr or err.stdout or "").strip().splitlines()
        raise ActionFailed(
            f"git could not fast-forward {root} to {sha[:7]}: "
            + (detail[-1] if detail else "refused") + ". Nothing changed.",
            fix="Check `git status` there, then accept again. The run's branch is kept.",
        ) from err


def git_rc(cwd: Path | str, *args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    """Run `git args...` in `cwd`; (exit status, stdout, stderr), never raising on a status."""
    status, out, err = Repo.GitCommandWrapperType(str(cwd)).execute(
        git_argv(cwd, *args), env=env, with_extended_output=True, with_exceptions=False,
        strip_newline_in_stdout=False,
    )
    return status, out, err


def is_ancestor(root: Path, ancestor: str, descendant: str) -> bool:
    return git_rc(root, "merge-base", "--is-ancestor", ancestor, descendant)[0] == 0


def count_commits(root: Path, since: str, until: str) -> int:
    """How many commits `until` has that `since` has not (`git rev-list --count since..until`)."""
    return int(git(root, "rev-list", "--count", f"{since}..{until}"))


def merge_tree(root: Path, base: str, tip: str) -> tuple[str, list[str]]:
    """The tree a merge of `tip` into `base` would give, and the conflicted paths (none: clean).

    `git merge-tree --write-tree` (git >= 2.38) computes it in the object store only: no
    checkout, index or ref is touched.
    """
    status, out, err = git_rc(root, "merge-tree", "--write-tree", "--name-only", "--no-messages", "-z", base, tip)
    if status not in (0, 1):
        raise ActionFailed(f"git merge-tree failed: {err.strip() or out.strip()}")
    tree, _, rest = out.partition("\0")
    conflicts = list(dict.fromkeys(p for p in rest.split("\0") if p)) if status == 1 else []
    return tree.strip(), conflicts


def committer_env(repo_dir: Path) -> dict[str, str]:
    """The committer identity: the user's git config, else the fallback (author untouched)."""
    env = identity_env(repo_dir, "x <x>")
    return {k: v for k, v in env.items() if k.startswith("GIT_COMMITTER")}


def commit_tree(root: Path, tree: str, parent: str, message: str, *, author: str) -> str:
    """A new commit of `tree` with one `parent` (no ref moves); author `author`, committer the user."""
    return git(root, "commit-tree", tree, "-p", parent, "-m", message, env=identity_env(root, author))


def worktree_branches(root: Path) -> dict[str, Path]:
    """Branch name -> path of the worktree that has it checked out (`git worktree list`)."""
    out = git(root, "worktree", "list", "--porcelain", "-z", strip=False)
    found: dict[str, Path] = {}
    path: Path | None = None
    for field in out.split("\0"):
        if field.startswith("worktree "):
            path = Path(field[len("worktree "):])
        elif field.startswith("branch refs/heads/") and path is not None:
            found[field[len("branch refs/heads/"):]] = path
    return found


def patch_text(root: Path, base: str, tip: str) -> str:
    """The diff between `base` and `tip` as `git apply` takes it back: binary patches, full
    blob ids, `a/`/`b/` prefixes, unquoted non-ASCII names, three lines of context and blank
    context lines as " " whatever the user's git config (`diff.context`, `diff.suppressBlankEmpty`)."""
    return git(
        root, "-c", "core.quotePath=false", "-c", "diff.suppressBlankEmpty=false", "diff", "--no-color",
        "--no-ext-diff", "--no-textconv", "--no-relative", "--binary", "--full-index", "-M", "--unified=3",
        "--src-prefix=a/", "--dst-prefix=b/", base, tip, strip=False,
    )


def restore_worktree(worktree: Path, branch: str, tip: str) -> list[str]:
    """Put a run's worktree back to `branch` at `tip`, discarding what was done there since.

    Used after the checks: a build or a test run may leave files, edit tracked ones, even commit
    or switch branches; none of that may become part of the run's result. The worktree is forced
    back to `branch`, the branch reset to `tip` (`git reset --hard`) and untracked files removed
    (`git clean -fd`). Ignored files stay (`-x` is not used): caches and installed dependencies
    the agent made are ignored by the project anyway and are never committed. Returns the paths
    that were discarded (and "HEAD" when a commit or a branch switch was undone).
    """
    out = git(worktree, "status", "--porcelain=v1", "-z", "--untracked-files=all", strip=False)
    discarded = sorted({entry[3:] for entry in out.split("\0") if len(entry) > 3})
    if current_branch(worktree) != branch:
        git(worktree, "checkout", "--quiet", "--force", branch)
        discarded.append("HEAD")
    elif git(worktree, "rev-parse", "HEAD") != tip:
        discarded.append("HEAD")
    git(worktree, "reset", "--quiet", "--hard", tip)
    git(worktree, "clean", "--quiet", "-fd")
    return discarded


def worktree_paths(root: Path) -> list[Path]:
    """Every worktree of the repository at `root`, as `git worktree list` has them."""
    out = git(root, "worktree", "list", "--porcelain", "-z", strip=False)
    return [Path(field[len("worktree "):]) for field in out.split("\0") if field.startswith("worktree ")]


def remove_worktree(root: Path, worktree: Path) -> None:
    """Remove the run's worktree, its directory gone or not (idempotent; the branch is
    untouched). Only this one: `git worktree prune` would also drop the records (index, HEAD)
    of the user's own worktrees whose directories are missing right now (a disk not mounted)."""
    from hybrid_tui.agents.kimi import code_prompt_dir

    _PINNED.pop(os.path.abspath(worktree), None)
    target = worktree.resolve()
    if any(path.resolve() == target for path in worktree_paths(root)):
        git(root, "worktree", "remove", "--force", "--force", str(worktree))
    # The Kimi Code CLI's long prompt lives beside the worktree; it goes with it.
    shutil.rmtree(code_prompt_dir(worktree), ignore_errors=True)


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


# -- a run's commits: the one place that says which commit is the run's -----------------------


def branch_tip(run: Run) -> str | None:
    """The commit the run's branch points at now; None once the branch is gone."""
    return ref_sha(run.root, f"refs/heads/{run.branch}")


def require_branch_tip(run: Run) -> str:
    """`branch_tip`, refused (ActionFailed) when the branch is gone."""
    tip = branch_tip(run)
    if tip is None:
        raise ActionFailed(f"run {run.id}: its branch {run.branch} no longer exists")
    return tip


def base_tip(run: Run) -> str:
    """The base branch's current tip (it may have moved since the run started)."""
    sha = ref_sha(run.root, f"refs/heads/{run.base_branch}")
    if sha is None:
        raise ActionFailed(
            f"run {run.id}: its base branch {run.base_branch} no longer exists",
            fix=f"Recreate it (git branch {run.base_branch} {run.base_sha[:7]}) or reject the run.",
        )
    return sha


def run_tip(run: Run) -> str:
    """The commit holding the run's result: its branch, else the kept ref, else the last tip."""
    refs = (f"refs/heads/{run.branch}", run.rejected_ref, run.accepted_ref, run.head_sha, run.merge_sha)
    for ref in refs:
        if ref and (sha := ref_sha(run.root, ref)):
            return sha
    raise ActionFailed(f"run {run.id}: its branch {run.branch} no longer exists")
