"""tests/support/agent_clis.py: the installer of the real agent CLIs.

Its logic runs on a fake agent whose "install" writes a shell script (no network): installed
once, not again while ready, afresh when half done, once for two processes at once, and a
failure that says what and why. Against the real registries: a version that does not exist
fails naming the agent and npm's reason, and the real installs of this session are reused.
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support import agent_clis
from tests.support.agent_clis import AgentInstallError
from tests.support.fake_agent import fake_agent

ROOT = Path(__file__).parents[2]


@pytest.fixture
def fake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict:
    """The fake agent registered, a fresh cache dir, a fresh memo, and the install lines."""
    lines: list[str] = []
    monkeypatch.setitem(agent_clis.AGENTS, "fake", fake_agent())
    monkeypatch.setattr(agent_clis, "_known", {})
    monkeypatch.setattr(agent_clis, "_reporter", lambda text, *, end: lines.append(text + end))
    monkeypatch.setenv("HYBRID_TUI_AGENTS_DIR", str(tmp_path / "agents"))
    monkeypatch.setenv("FAKE_AGENT_LOG", str(tmp_path / "installs.log"))
    monkeypatch.delenv("HYBRID_TUI_FAKE_BIN", raising=False)
    return {"lines": lines, "log": tmp_path / "installs.log", "dir": tmp_path / "agents"}


def installs(fake: dict) -> int:
    return len(fake["log"].read_text().splitlines()) if fake["log"].exists() else 0


def test_the_first_ensure_installs_and_the_next_installs_nothing(fake: dict, monkeypatch: pytest.MonkeyPatch):
    path = agent_clis.ensure("fake")

    assert path == fake["dir"] / "fake" / "bin" / "fake" == agent_clis.bin_path("fake")
    assert subprocess.run([path], capture_output=True, text=True).stdout == "fake 1.2.3\n"
    assert installs(fake) == 1
    (line,) = "".join(fake["lines"]).splitlines()
    assert line.startswith(f"hybrid-tui tests: installing Fake CLI 1.2.3 (a shell script) into {fake['dir'] / 'fake'} ... done in ")
    assert line.endswith(" s")
    # A new process (no memo) finds it ready: nothing installed, nothing said.
    monkeypatch.setattr(agent_clis, "_known", {})
    assert agent_clis.ensure("fake") == path
    assert installs(fake) == 1 and len(fake["lines"]) == 2


@pytest.mark.parametrize("damage", ["binary gone", "another version"])
def test_an_install_that_is_not_ready_is_done_again(fake: dict, monkeypatch: pytest.MonkeyPatch, damage: str):
    path = agent_clis.ensure("fake")
    leftover = path.parent.parent / "half-done"
    leftover.write_text("from the first install\n")
    if damage == "binary gone":
        path.unlink()
    else:
        path.write_text("#!/bin/sh\necho 'fake 1.0.0'\n")
    monkeypatch.setattr(agent_clis, "_known", {})

    assert agent_clis.ensure("fake") == path
    assert installs(fake) == 2
    assert not leftover.exists()  # afresh, not on top of what was there
    assert subprocess.run([path], capture_output=True, text=True).stdout == "fake 1.2.3\n"


def test_two_processes_at_once_install_once(fake: dict):
    code = (
        "from tests.support import agent_clis; from tests.support.fake_agent import fake_agent; "
        "agent_clis.AGENTS['fake'] = fake_agent(); print(agent_clis.ensure('fake'))"
    )
    env = {**os.environ, "FAKE_AGENT_SLEEP": "1.5"}
    procs = [
        subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    results = [proc.communicate(timeout=60) for proc in procs]

    assert [proc.returncode for proc in procs] == [0, 0], results
    assert {out for out, _ in results} == {f"{fake['dir'] / 'fake' / 'bin' / 'fake'}\n"}
    assert installs(fake) == 1
    # One of them said it installed; the other waited for the lock and found it ready.
    assert sorted(err.count("installing Fake CLI 1.2.3") for _, err in results) == [0, 1]


def test_a_failed_install_says_what_and_why_and_is_not_retried_for_every_test(fake: dict, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("FAKE_AGENT_FAIL", "1")

    with pytest.raises(AgentInstallError) as raised:
        agent_clis.ensure("fake")

    message = str(raised.value)
    assert message.startswith("could not install Fake CLI 1.2.3: npm install fake exited with 1")
    assert "npm error 404 fake@9 is not in this registry" in message  # the tool's own words
    assert "HYBRID_TUI_FAKE_BIN" in message
    assert " failed after " in "".join(fake["lines"])
    with pytest.raises(AgentInstallError) as again:
        agent_clis.ensure("fake")
    assert str(again.value) == message and installs(fake) == 1


def test_an_override_is_used_as_it_is_and_a_missing_one_is_a_clear_error(fake: dict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    mine = tmp_path / "my-fake"
    mine.write_text("#!/bin/sh\necho 'fake 0.1'\n")
    mine.chmod(0o755)
    monkeypatch.setenv("HYBRID_TUI_FAKE_BIN", str(mine))
    assert agent_clis.ensure("fake") == mine == agent_clis.bin_path("fake")
    assert installs(fake) == 0 and not fake["dir"].exists()

    for name, var in [("claude", "HYBRID_TUI_CLAUDE_BIN"), ("kimi-code", "HYBRID_TUI_KIMI_CODE_BIN"), ("kimi-legacy", "HYBRID_TUI_KIMI_BIN")]:
        monkeypatch.setenv(var, str(tmp_path / "nowhere" / "bin"))
        with pytest.raises(AgentInstallError) as raised:
            agent_clis.ensure(name)
        assert str(raised.value).startswith(f"{agent_clis.AGENTS[name].title}: {var}={tmp_path}/nowhere/bin is not an executable file")
    assert agent_clis.claude_bin() == agent_clis.kimi_code_bin() == agent_clis.kimi_legacy_bin() == tmp_path / "nowhere" / "bin"
    assert not fake["dir"].exists()


def test_an_unknown_agent_is_named():
    with pytest.raises(ValueError, match="no agent CLI named 'kimmi'; known: kimi-code, kimi-legacy, claude"):
        agent_clis.ensure("kimmi")


def test_the_default_cache_dir_is_under_the_real_home(monkeypatch: pytest.MonkeyPatch, isolated_env: Path):
    monkeypatch.delenv("HYBRID_TUI_AGENTS_DIR", raising=False)
    monkeypatch.delenv("HYBRID_TUI_CLAUDE_BIN", raising=False)
    # HOME is a tmp dir by now (the autouse fixture): the path still is the one of import time.
    assert Path.home() == isolated_env
    assert agent_clis.agents_dir() == agent_clis._DEFAULT_AGENTS_DIR
    assert not agent_clis.agents_dir().is_relative_to(isolated_env)
    assert agent_clis.claude_bin().is_relative_to(agent_clis._DEFAULT_AGENTS_DIR / "claude")


def test_a_python_for_kimi_cli_is_one_that_runs_and_is_3_13(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    old = tmp_path / "python-old"
    old.write_text(f"#!/bin/sh\nexec {sys.executable} -c 'import sys; sys.exit(1)'\n")
    old.chmod(0o755)
    monkeypatch.setenv("KIMI_PYTHON", str(old))
    assert agent_clis.find_python() == (None, f"KIMI_PYTHON={old} (not a working Python >= 3.13)")
    monkeypatch.setattr(agent_clis, "_known", {})
    monkeypatch.setattr(agent_clis, "_reporter", lambda text, *, end: None)
    monkeypatch.setenv("HYBRID_TUI_AGENTS_DIR", str(tmp_path / "agents"))
    monkeypatch.delenv("HYBRID_TUI_KIMI_BIN", raising=False)
    with pytest.raises(AgentInstallError, match=r"could not install kimi-cli 1\.50\.0: it needs a Python >= 3\.13 and none was found"):
        agent_clis.ensure("kimi-legacy")


# -- against the real registries and this session's real installs --------------------------------


@pytest.mark.e2e
def test_a_version_the_registry_does_not_have_fails_naming_the_agent_and_npm_s_reason(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    lines: list[str] = []
    bogus = dataclasses.replace(agent_clis.AGENTS["claude"], title="Claude Code 0.0.0-bogus", version="0.0.0-bogus")
    monkeypatch.setitem(agent_clis.AGENTS, "claude", bogus)
    monkeypatch.setattr(agent_clis, "_known", {})
    monkeypatch.setattr(agent_clis, "_reporter", lambda text, *, end: lines.append(text + end))
    monkeypatch.setenv("HYBRID_TUI_AGENTS_DIR", str(tmp_path / "agents"))
    monkeypatch.delenv("HYBRID_TUI_CLAUDE_BIN", raising=False)

    with pytest.raises(AgentInstallError) as raised:
        agent_clis.ensure("claude")

    message = str(raised.value)
    assert message.startswith("could not install Claude Code 0.0.0-bogus: npm install @anthropic-ai/claude-code@0.0.0-bogus exited with 1"), message
    assert "0.0.0-bogus" in message.split("\n", 1)[1]  # npm's own reason (no matching version)
    assert "HYBRID_TUI_CLAUDE_BIN" in message
    (line,) = "".join(lines).splitlines()
    assert line.startswith("hybrid-tui tests: installing Claude Code 0.0.0-bogus (npm @anthropic-ai/claude-code") and " ... failed after " in line


@pytest.mark.e2e
def test_the_real_installs_are_reused(kimi_code_bin: Path, kimi_legacy_bin: Path, claude_bin: Path, monkeypatch: pytest.MonkeyPatch):
    """Installed (or found) once for the session; asked again, as a new process would, nothing is
    installed and each answers its pinned version."""
    lines: list[str] = []
    monkeypatch.setattr(agent_clis, "_known", {})
    monkeypatch.setattr(agent_clis, "_reporter", lambda text, *, end: lines.append(text + end))
    started = time.monotonic()
    assert agent_clis.ensure("kimi-code") == kimi_code_bin
    assert agent_clis.ensure("kimi-legacy") == kimi_legacy_bin
    assert agent_clis.ensure("claude") == claude_bin
    assert lines == [] and time.monotonic() - started < 30

    def version(binary: Path) -> str:
        return subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=60).stdout.strip()

    assert version(kimi_code_bin) == agent_clis.KIMI_CODE_VERSION == "2.1.0"
    assert version(kimi_legacy_bin) == f"kimi, version {agent_clis.KIMI_LEGACY_VERSION}" == "kimi, version 1.50.0"
    assert version(claude_bin).split()[0] == agent_clis.CLAUDE_VERSION == "2.1.332"
