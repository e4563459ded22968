"""Shared fixtures: isolated HOME/state/config dirs, real git repositories in tmp_path, and the
real agent CLIs of the end-to-end tests (installed on first use by tests/support/agent_clis.py).
It applies to every folder (core, ui, cli, e2e); what test modules import is in tests/support."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# The shared helpers' asserts report like the tests' own (pytest rewrites only test modules and
# conftest files unless told): before anything from tests.support is imported.
pytest.register_assert_rewrite("tests.support")

from tests.support import agent_clis
from tests.support.e2e import agent_or_fail
from tests.support.repos import GIT_DATE, make_repo


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


# Test modules that use bubblewrap (the sandbox, tmpfs-backed full or read-only state dirs).
BWRAP_TESTS = {"test_sandbox.py", "test_state_dir.py", "test_repo_guard.py"}


# -- the real agent CLIs -----------------------------------------------------------------------

# The fixture that hands a test each agent, by the name tests/support/agent_clis.py knows it by.
AGENT_FIXTURES = {"kimi_code_bin": "kimi-code", "kimi_legacy_bin": "kimi-legacy", "kimi_bin": "kimi-legacy", "claude_bin": "claude"}


def pytest_configure(config: pytest.Config) -> None:
    """Install lines go to the terminal as they happen, output capture or not."""

    def report(text: str, *, end: str) -> None:
        terminal = config.pluginmanager.get_plugin("terminalreporter")
        capture = config.pluginmanager.get_plugin("capturemanager")
        if terminal is None or capture is None:
            agent_clis.stderr_report(text, end=end)
            return
        with capture.global_and_fixture_disabled():
            if not end:
                terminal.ensure_newline()
            terminal.write(text + end, flush=True)

    agent_clis.set_reporter(report)


def pytest_unconfigure(config: pytest.Config) -> None:
    agent_clis.set_reporter(None)


def agents_needed(items: list[pytest.Item]) -> list[str]:
    """The agent CLIs the selected e2e tests use: those their fixtures name; an e2e test under
    tests/e2e that names none (it reaches the binary through a helper) may use any of them."""
    needed: set[str] = set()
    for item in items:
        if "e2e" not in item.keywords:
            continue
        named = {AGENT_FIXTURES[name] for name in getattr(item, "fixturenames", ()) if name in AGENT_FIXTURES}
        if not named and "e2e" in Path(str(item.path)).parent.parts:
            named = set(agent_clis.AGENTS)
        needed |= named
    return [name for name in agent_clis.AGENTS if name in needed]


def pytest_collection_finish(session: pytest.Session) -> None:
    """Before the first test: install bubblewrap for the sandbox tests and the agent CLIs the
    selected e2e tests need. A failure is said and fails those tests (the fixtures, or the
    sandbox tests under HYBRID_TUI_REQUIRE_SANDBOX=1) with its reason; the rest still run."""
    if session.config.option.collectonly:
        return
    if any("e2e" in item.keywords or item.path.name in BWRAP_TESTS for item in session.items):
        try:
            agent_clis.ensure_bubblewrap()
        except agent_clis.AgentInstallError as error:
            agent_clis.report(f"hybrid-tui tests: {error}")
    if session.config.getoption("--no-e2e"):
        return
    for name in agents_needed(session.items):
        try:
            agent_clis.ensure(name)
        except agent_clis.AgentInstallError as error:
            agent_clis.report(f"hybrid-tui tests: {error}")


@pytest.fixture(scope="session")
def kimi_code_bin() -> Path:
    """The real Kimi Code CLI 2.1.0 (or $HYBRID_TUI_KIMI_CODE_BIN)."""
    return agent_or_fail("kimi-code")


@pytest.fixture(scope="session")
def kimi_legacy_bin() -> Path:
    """The real legacy kimi-cli 1.50.0 (or $HYBRID_TUI_KIMI_BIN)."""
    return agent_or_fail("kimi-legacy")


@pytest.fixture(scope="session")
def claude_bin() -> Path:
    """The real Claude Code 2.1.332 (or $HYBRID_TUI_CLAUDE_BIN)."""
    return agent_or_fail("claude")


@pytest.fixture(autouse=True)
def isolated_env(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    """Never touch the real ~/.claude, ~/.kimi or the user's state: everything under tmp."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(home / ".claude"))
    monkeypatch.setenv("KIMI_SHARE_DIR", str(home / ".kimi"))
    monkeypatch.setenv("HYBRID_TUI_STATE_DIR", str(home / "state"))
    # The stand-in kimi writes its test logs outside the worktree: unit tests run without the
    # sandbox; tests/e2e and tests/core/test_sandbox.py turn it on.
    monkeypatch.setenv("HYBRID_TUI_SANDBOX", "off")
    monkeypatch.setenv("HYBRID_TUI_CONFIG", str(home / "config.toml"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_STATE_HOME", str(home / ".local" / "state"))
    runtime = home / "run"  # Claude's approval hook finds the TUI's socket here (short: < 108 bytes)
    runtime.mkdir(mode=0o700)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))
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
