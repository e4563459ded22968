"""Shared fixtures: isolated HOME/state/config dirs and real git repositories in tmp_path."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"
AGENT_STREAMS = FIXTURES / "agent-streams"
CORPUS_PLANS = FIXTURES / "plans"

# Fixed dates keep commit shas and drawn screens deterministic.
GIT_DATE = "2026-11-01T12:00:00+00:00"


def git(cwd: Path, *args: str) -> str:
    """Run real git in `cwd` and return its stdout (stripped)."""
    return subprocess.run(
        ["git", *args], cwd=cwd, check=True, capture_output=True, text=True
    ).stdout.strip()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--no-e2e",
        action="store_true",
        help="skip the end-to-end tests that drive the real kimi and claude CLIs (quick local runs only)",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not config.getoption("--no-e2e"):
        return
    kept = [item for item in items if "e2e" not in item.keywords]
    deselected = [item for item in items if "e2e" in item.keywords]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = kept


@pytest.fixture(autouse=True)
def isolated_env(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    """Never touch the real ~/.claude, ~/.kimi or the user's state: everything under tmp."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(home / ".claude"))
    monkeypatch.setenv("KIMI_SHARE_DIR", str(home / ".kimi"))
    monkeypatch.setenv("HYBRID_TUI_STATE_DIR", str(home / "state"))
    monkeypatch.setenv("HYBRID_TUI_CONFIG", str(home / "config.toml"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_STATE_HOME", str(home / ".local" / "state"))
    monkeypatch.setenv("GIT_AUTHOR_DATE", GIT_DATE)
    monkeypatch.setenv("GIT_COMMITTER_DATE", GIT_DATE)
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(home / ".gitconfig"))
    (home / ".gitconfig").write_text(
        "[user]\n\tname = Test User\n\temail = test@example.invalid\n"
        "[init]\n\tdefaultBranch = main\n"
    )
    yield home


@pytest.fixture
def state_dir(isolated_env: Path) -> Path:
    return Path(os.environ["HYBRID_TUI_STATE_DIR"])


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


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(
        tmp_path / "project",
        {
            "README.md": "# demo\n",
            "src/app.py": "def main():\n    return 1\n",
            "tests/test_app.py": "from src.app import main\n\ndef test_main():\n    assert main() == 1\n",
        },
    )
