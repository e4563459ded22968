"""Spec paths against the repository they name: never into `.git`, never out through a symlink.

`spec.path_problem` checks how a path is spelt (relative, no `..` out of the root). Two more
ways a spelt-right path reaches where no worker may write:

- `.git` as any of its parts, in any case (`.git/config`, `sub/.GIT/hooks/pre-commit`): the
  repository's own machinery (its config, its hooks) or a nested repository's. An error: a run's
  agent has no business there, and what it changes there the repo guard undoes anyway.
- A symlink tracked in the base commit, as the path itself or as one of its directories
  (`MODIFY sl.txt` where `sl.txt -> ../../home/me/.bashrc`): the agent's edit goes where the
  link points. Links are resolved in the base tree (chains of links too, at most 40). A link
  leading outside the repository (an absolute target, or `..` past the root) or into `.git` is
  an error. A link leading to a file inside the repository is a warning naming that file: the
  edit lands there, and the branch's diff (and so the scope check) shows that file, not the
  link; naming the target in the spec says what will happen. `DELETE` removes the link itself,
  so only the directories on its way are resolved; `CREATE` through a linked directory writes
  where the directory points and is resolved like `MODIFY`.

`TreePaths` is the base commit's file list as `git.tree_paths` gives it: a set of paths
with the symlinks' targets in `.links`; a plain set (no links known) checks only `.git`.
"""

from __future__ import annotations

import posixpath
from collections.abc import Collection

MAX_HOPS = 40  # as the kernel's limit on symlinks followed in one lookup


class TreePaths(set[str]):
    """The file paths of a commit's tree; `links` maps each tracked symlink to its target."""

    def __init__(self, paths: Collection[str] = (), links: dict[str, str] | None = None) -> None:
        super().__init__(paths)
        self.links: dict[str, str] = dict(links or {})


def in_git_dir(path: str) -> bool:
    """Whether any part of `path` is `.git`, whatever its case."""
    return any(part.lower() == ".git" for part in path.split("/"))


def git_dir_problem(path: str) -> str | None:
    """Why `path` may not be named (it is in a `.git` directory), or None."""
    if in_git_dir(path):
        return f"{path!r} is inside a .git directory: the repository's config and hooks are not the worker's to change"
    return None


def resolve(path: str, links: dict[str, str], *, keep_last: bool = False) -> tuple[str | None, str]:
    """`path` (normalised, repo-relative) with every tracked symlink on its way replaced by its
    target: (the path it leads to, "") or (None, the link that leads out of the repository or
    into a loop). `keep_last`: the last part is not followed (a `DELETE` removes the link)."""
    parts = path.split("/")
    hops = 0
    index = 0
    while index < len(parts) - (1 if keep_last else 0):
        prefix = "/".join(parts[: index + 1])
        target = links.get(prefix)
        if target is None:
            index += 1
            continue
        hops += 1
        joined = posixpath.normpath(posixpath.join(posixpath.dirname(prefix), target))
        if hops > MAX_HOPS or target.startswith("/") or joined == ".." or joined.startswith("../"):
            return None, prefix
        parts = ([] if joined == "." else joined.split("/")) + parts[index + 1 :]
        index = 0
    return "/".join(parts), ""


def _through(path: str, link: str, target: str) -> str:
    if path == link:
        return f"{path} is a tracked symlink to {target}"
    return f"{path} is under the tracked symlink {link} -> {target}"


def link_problem(action: str, path: str, tree: Collection[str] | None) -> tuple[str, str] | None:
    """(severity, message) when `path` (normalised) goes through a symlink of `tree`, else None."""
    links = getattr(tree, "links", None)
    if not links:
        return None
    resolved, link = resolve(path, links, keep_last=action == "DELETE")
    if resolved is None:
        where = _through(path, link, links[link])
        return "error", f"{where}, outside the repository (or a loop of links): the worker would write there"
    if resolved == path:
        return None
    first = next(p for p in links if path == p or path.startswith(p + "/"))
    where = _through(path, first, links[first])
    if in_git_dir(resolved) or not resolved:
        return "error", f"{where}, which leads to {resolved or 'the repository root'}: the worker would write there"
    return "warning", f"{where}: the edit lands in {resolved}; name that file instead"
