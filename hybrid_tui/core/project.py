"""The project the user works on, found cheaply (no git process, no GitPython import).

The TUI must draw its first frame before any git work, so the project root is found by
walking up to the nearest directory holding `.git` (a directory, or a file for a worktree or a
submodule). Everything that needs git proper goes through `core.git` later, in workers.
"""

from __future__ import annotations

from pathlib import Path

from hybrid_tui.core.errors import InputError


def find_project_root(path: Path) -> Path:
    """The top level of the git checkout holding `path`; `InputError` when there is none."""
    start = path.resolve()
    if not start.exists():
        raise InputError(f"{path}: no such directory")
    for candidate in (start, *start.parents):
        if (candidate / ".git").exists():
            return candidate
    raise InputError(
        f"{path}: not a git repository",
        fix="Run hybrid-tui inside a git repository or pass --repo DIR.",
    )
