"""The command line as the tests drive it: the CLI as a real process, the stand-in agents on PATH
(standin/ beside this file), world snapshots of a checkout and the state dir."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

from tests.support.repos import AGENT_STREAMS, git

STANDIN_DIR = Path(__file__).parent / "standin"


def standin_env(fixture: str, **knobs: str) -> dict[str, str]:
    """Env that puts the stand-in `kimi` first on PATH, replaying `fixture` (e.g. "kimi_success")."""
    env = {
        "PATH": f"{STANDIN_DIR}{os.pathsep}{os.environ['PATH']}",
        "KIMI_STANDIN_FIXTURE": str(AGENT_STREAMS / f"{fixture}.jsonl"),
        # The stand-in reads fixtures and writes logs outside the worktree, which the sandbox
        # would hide or refuse: it runs unconfined (tests/core/test_sandbox.py confines it itself).
        "HYBRID_TUI_SANDBOX": "off",
    }
    env.update(knobs)
    return env


def run_cli(*args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 60, stdin: str | None = None) -> subprocess.CompletedProcess:
    """`python -m hybrid_tui ARGS` as a real process."""
    return subprocess.run(
        [sys.executable, "-m", "hybrid_tui", *args],
        cwd=cwd,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
        input=stdin,
    )


def checkout_fingerprint(root: Path) -> dict[str, str]:
    """What the user sees of their checkout: HEAD, status, and a hash of every file."""
    state = {
        "HEAD": git(root, "rev-parse", "HEAD"),
        "branch": git(root, "rev-parse", "--abbrev-ref", "HEAD"),
        "status": git(root, "status", "--porcelain=v1", "--untracked-files=all"),
    }
    for path in sorted(root.rglob("*")):
        if ".git" in path.relative_to(root).parts or not path.is_file():
            continue
        state[str(path.relative_to(root))] = hashlib.sha256(path.read_bytes()).hexdigest()
    return state


def world(root: Path, state_dir: Path) -> dict[str, object]:
    """Everything bad input must leave unchanged: refs, worktrees, the state dir, the checkout."""
    files = sorted(str(p.relative_to(state_dir)) for p in state_dir.rglob("*")) if state_dir.exists() else []
    return {
        "refs": git(root, "for-each-ref", "--format=%(refname) %(objectname)"),
        "worktrees": git(root, "worktree", "list", "--porcelain"),
        "state": files,
        "checkout": checkout_fingerprint(root),
    }


def has_merge_head(root: Path) -> bool:
    return (root / ".git" / "MERGE_HEAD").exists()
