"""Every tip a run's branch ever had, kept as refs `refs/hybrid-tui/tips/<run-id>/<n>`.

A branch's reflog goes with the branch, and a worktree's HEAD reflog with the worktree. After a
reject, a commit the agent made and then dropped (`git commit` then `git reset --hard HEAD~1`, a
commit on a detached HEAD, on a branch it switched to and back) would be reachable from nothing
and gone at the next `git gc`. `keep(run)` reads both reflogs (the files themselves) and the
worktree's HEAD, and keeps under the next number each commit that neither the kept ones nor the
run's base already reach (`git merge-base --independent`): usually one ref per commit hybrid-tui
made, plus one per line of work the agent threw away.

When: whenever hybrid-tui commits the agent's work (`dispatch.commit_run`: after the agent,
after a crash, at a recovery), during the run each time a reflog grew (the repo guard's watch,
core/run/repo_guard.py), before a rebase and before a reject. The refs stay after a reject, beside
`refs/hybrid-tui/rejected/<run-id>`: `git log --all` or `git for-each-ref refs/hybrid-tui/tips/`
finds them. An accept drops them (`drop`): the result is on the base branch, and what the agent
discarded on the way there was never part of it.
"""

from __future__ import annotations

import re
from pathlib import Path

from hybrid_tui.core import git
from hybrid_tui.core.runs import Run

PREFIX = "refs/hybrid-tui/tips/{run_id}/"
_SHA = re.compile(r"^[0-9a-f]{40}(?:[0-9a-f]{24})?$")


def kept(root: Path, run_id: str) -> dict[str, str]:
    """The tips kept for run `run_id`: ref -> sha."""
    out = git.git(root, "for-each-ref", "--format=%(refname) %(objectname)", PREFIX.format(run_id=run_id))
    return dict(line.split(" ", 1) for line in out.splitlines() if " " in line)


def _reflog(path: Path) -> list[str]:
    """The value a ref took at each entry of its reflog file (oldest first)."""
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return []
    return [fields[1] for fields in (line.split(" ", 2) for line in lines) if len(fields) > 1 and _SHA.match(fields[1])]


def reflog_files(run: Run) -> list[Path]:
    """The files whose growth means the run's branch or worktree HEAD moved: the branch's
    reflog, the worktree's HEAD and its reflog."""
    root = run.root
    files = [git.common_dir(root) / "logs" / "refs" / "heads" / run.branch]
    admin = git.worktree_admin_dir(root, run.worktree_dir)
    if admin is not None:
        files += [admin / "HEAD", admin / "logs" / "HEAD"]
    return files


def keep(run: Run) -> list[str]:
    """Keep every commit the run's branch or worktree HEAD pointed at that nothing kept reaches
    yet; returns the refs made."""
    root = run.root
    candidates: list[str] = []
    for path in reflog_files(run):
        if path.name == "HEAD" and path.parent.name != "logs":
            text = path.read_text(encoding="utf-8", errors="replace").strip() if path.is_file() else ""
            candidates += [text] if _SHA.match(text) else []  # a detached HEAD
        else:
            candidates += _reflog(path)
    tip = git.branch_tip(run)
    candidates += [tip] if tip else []
    existing = kept(root, run.id)
    fresh = [sha for sha in dict.fromkeys(candidates) if sha not in existing.values() and sha != run.base_sha]
    if not fresh:
        return []
    commits = git.git(root, "rev-list", "--no-walk", "--ignore-missing", *fresh).split()
    if not commits:
        return []
    heads = git.git(root, "merge-base", "--independent", *existing.values(), run.base_sha, *commits).split()
    new = [sha for sha in commits if sha in heads]
    number = max((int(ref.rsplit("/", 1)[1]) for ref in existing if ref.rsplit("/", 1)[1].isdigit()), default=0)
    made = []
    for sha in new:
        number += 1
        ref = PREFIX.format(run_id=run.id) + str(number)
        git.keep_ref(root, ref, sha)
        made.append(ref)
    return made


def drop(run: Run) -> None:
    """Delete the run's kept tips (after an accept)."""
    root = run.root
    for ref in kept(root, run.id):
        git.git(root, "update-ref", "-d", ref)
