"""Turning what a plan wrote into repository paths.

Behaviour choices:
- A bare name resolves to the one full path with that name the plan spells out (anywhere,
  fences included); with a `near` folder (a list after a path on the same line, or a heading
  naming a folder) it lives there. A bare name matching several spelled paths is ambiguous and
  left out, unless it is `literal`: an item of a list of files means the path as written (a
  file at the root).
- A partial path (`01_domains/image/scan.ts`) resolves to the one spelled path it is the tail
  of, or joins a folder the plan names whose last part is its first (`queries/x.sql` under
  `internal/db/queries/`); a path the plan lists as written is never completed.
- With a tree (the files of the base commit), a path not in the tree resolves to the one tree
  file it is the tail of; several candidates: left out.
- An absolute path is a repository path when it lies under the repository's root
  (`/Users/me/proj/src/x.ts` in `/Users/me/proj`), or, with a tree, when its last two or more
  parts are a file of the tree (the plan was written in another checkout of the project).
"""

from __future__ import annotations


class Resolver:
    """Turns what the plan wrote into repository paths (see the module docstring)."""

    def __init__(
        self,
        spelled: list[str],
        dirs: list[str],
        tree: set[str] | None,
        literal: set[str],
        root: str | None = None,
    ) -> None:
        self.root = root.rstrip("/") if root else None
        self.tree = tree
        self.literal = literal  # paths the plan lists as written: never completed
        self.spelled = [p for p in dict.fromkeys(spelled) if "/" in p]
        self.by_name: dict[str, set[str]] = {}
        for path in self.spelled:
            self.by_name.setdefault(path.rsplit("/", 1)[-1], set()).add(path)
        self.dirs = [d.strip("/") for d in dict.fromkeys(dirs) if d.strip("/")]  # `/todo/`: the root's todo/
        self._tree_names: dict[str, list[str]] | None = None

    def resolve(
        self, path: str, near: str = "", *, literal: bool = False
    ) -> str | None:
        """The repository path for `path` as written; None when it is ambiguous. A `literal`
        mention (an item of a list of files) means the path as written: a bare name there is a
        file at the root, not the one spelled out elsewhere."""
        if "/" not in path:
            spelled = self.by_name.get(path, ())
            if near and (
                self.tree is None or f"{near}/{path}" in self.tree or not spelled
            ):
                path = self._complete(f"{near}/{path}")  # a partial folder: the spelled path
            elif literal:
                pass
            elif len(spelled) == 1:
                path = next(iter(spelled))
            elif len(spelled) > 1 and self.tree is None:
                return None  # one of several files the plan spells out: which one is unknown
        elif not literal and path not in self.literal:
            path = self._complete(path)
        else:
            path = self._join_folder(path)  # listed as written, but `inc/x.php` under the one `theme/inc/`
        tree = self.tree
        if tree is None or path in tree:
            return path
        if self._tree_names is None:
            names: dict[str, list[str]] = {}
            for item in tree:
                names.setdefault(item.rsplit("/", 1)[-1], []).append(item)
            self._tree_names = names
        matches = [
            item
            for item in self._tree_names.get(path.rsplit("/", 1)[-1], ())
            if item == path or item.endswith("/" + path)
        ]
        if len(matches) == 1:
            return matches[0]
        return None if matches else path

    def inside(self, path: str) -> str | None:
        """The repository path an absolute path names (see the module docstring), else None."""
        if not path.startswith("/"):
            return None
        if self.root and path.startswith(self.root + "/"):
            return path[len(self.root) + 1 :]
        if self.tree is None:
            return None
        parts = path.strip("/").split("/")
        for n in range(1, len(parts) - 1):  # longest tail first, two parts at least
            tail = "/".join(parts[n:])
            if tail in self.tree:
                return tail
        return None

    def _complete(self, path: str) -> str:
        """A partial path: the one spelled path it is the tail of, or a named folder joined."""
        longer = [
            p
            for p in self.by_name.get(path.rsplit("/", 1)[-1], ())
            if p.endswith("/" + path)
        ]
        if len(longer) == 1:
            return longer[0]
        return self._join_folder(path)

    def _join_folder(self, path: str) -> str:
        """`queries/x.sql` joined to the one folder the plan names whose last part is `queries`
        (`internal/db/queries/`)."""
        first = path.split("/", 1)[0]
        joined = {
            d + path[len(first) :]
            for d in self.dirs
            if d.rsplit("/", 1)[-1] == first and d != first
        }
        if len(joined) == 1:
            return next(iter(joined))
        return path
