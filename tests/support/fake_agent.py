"""A fake agent CLI for the installer's own tests (tests/core/test_agent_clis.py, and the
processes it starts): its "install" writes a shell script that says its version, no network."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from tests.support import agent_clis
from tests.support.agent_clis import Agent


def _fake_binary(agent: Agent, where: Path) -> Path:
    return where / "bin" / "fake"


def _fake_install(agent: Agent, where: Path) -> None:
    """Records each install in $FAKE_AGENT_LOG, takes $FAKE_AGENT_SLEEP seconds, then writes a
    `fake` that says its version; $FAKE_AGENT_FAIL makes it fail the way a pip/npm run does."""
    with open(os.environ["FAKE_AGENT_LOG"], "a") as log:
        log.write(f"{os.getpid()}\n")
    time.sleep(float(os.environ.get("FAKE_AGENT_SLEEP", "0")))
    if os.environ.get("FAKE_AGENT_FAIL"):
        agent_clis._run("npm install fake", agent, [sys.executable, "-c", "import sys; print('npm error 404 fake@9 is not in this registry'); sys.exit(1)"])
    binary = _fake_binary(agent, where)
    binary.parent.mkdir(parents=True)
    binary.write_text(f"#!/bin/sh\necho 'fake {agent.version}'\n")
    binary.chmod(0o755)


def fake_agent(version: str = "1.2.3") -> Agent:
    return Agent(
        name="fake", title=f"Fake CLI {version}", source="a shell script", version=version,
        env_var="HYBRID_TUI_FAKE_BIN", subdir="fake", binary=_fake_binary, install=_fake_install,
        reports=lambda agent, output: output == f"fake {agent.version}",
    )  # fmt: skip
