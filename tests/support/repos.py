"""Real git repositories in tmp dirs, the fixture files, and the fixed date that keeps commit
shas and drawn screens deterministic."""

from __future__ import annotations

import subprocess
from pathlib import Path

FIXTURES = Path(__file__).parent.parent / "fixtures"
AGENT_STREAMS = FIXTURES / "agent-streams"
CORPUS_PLANS = FIXTURES / "plans"

# Fixed dates keep commit shas and drawn screens deterministic.
GIT_DATE = "2026-11-01T12:00:00+00:00"


def git(cwd: Path, *args: str) -> str:
    """Run real git in `cwd` and return its stdout (stripped)."""
    return subprocess.run(
        ["git", *args], cwd=cwd, check=True, capture_output=True, text=True
    ).stdout.strip()


def make_repo(path: Path, files: dict[str, str] | None = None) -> Path:
    """A real git repository at `path` with one commit holding `files`."""
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "-q", "-b", "main")
    for name, content in (files or {"README.md": "# demo\n"}).items():
        target = path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content)
    git(path, "add", "-A")
    git(path, "commit", "-q", "-m", "initial")
    return path
