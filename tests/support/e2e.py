"""Helpers of the tests that drive the real agent CLIs (tests/e2e, and the e2e tests among the
Textual ones): the real binary or a failed test, hybrid-tui's config pointing at it, the turns
of the scripted Anthropic server (servers/anthropic.py), the `_scripted_echo` model of the real
kimi-cli."""

from __future__ import annotations

import json
import os
import re
import socket
from pathlib import Path
from typing import Any

import pytest

from tests.support import agent_clis
from tests.support.servers.anthropic import (
    RecordedRequest,
    ScriptedAnthropic,
    text,
    tool_use,
)


def agent_or_fail(name: str) -> Path:
    """The real agent CLI `name` (see tests/support/agent_clis.py), or the test fails saying why not."""
    try:
        return agent_clis.ensure(name)
    except agent_clis.AgentInstallError as error:
        reason = str(error)
    pytest.fail(reason, pytrace=False)  # outside the except: no "during handling of" chain


# -- the real Claude Code ------------------------------------------------------------------


def claude_binary() -> Path:
    """The native binary of the per-platform package (`claude-code-linux-x64/claude`, ...), as
    the `claude_bin` fixture gives it: installed, or the test fails saying why not."""
    return agent_or_fail("claude")


def write_config(home: Path, server: ScriptedAnthropic, **claude: object) -> None:
    """The hybrid-tui config ($HYBRID_TUI_CONFIG from conftest): the real binary, offline env."""
    env = {
        "ANTHROPIC_BASE_URL": server.base_url,
        "ANTHROPIC_API_KEY": "test-key",
        "CLAUDE_CONFIG_DIR": str(home / ".claude"),
        "HOME": str(home),
        "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
        "CLAUDE_CODE_MAX_RETRIES": "1",
        "DISABLE_AUTOUPDATER": "1",
        "DISABLE_TELEMETRY": "1",
        "DISABLE_ERROR_REPORTING": "1",
    }
    lines = ["[agents.claude]", f"command = [{json.dumps(str(claude_binary()))}]", "timeout = 60"]
    lines += [f"{key} = {json.dumps(value)}" for key, value in claude.items()]
    lines += ["", "[agents.claude.env]"]
    lines += [f"{key} = {json.dumps(value)}" for key, value in env.items()]
    Path(os.environ["HYBRID_TUI_CONFIG"]).write_text("\n".join(lines) + "\n")


def write_file(name: str, content: str, *, say: str = "Writing it now."):
    """A turn that writes `name` in the agent's cwd (Write wants an absolute path)."""

    def turn(request: RecordedRequest):
        assert request.cwd, "the request names no working directory"
        return [text(say), tool_use("Write", {"file_path": f"{request.cwd}/{name}", "content": content})]

    return turn


def answer(verdict: str, summary: str, points: list[dict]):
    return [tool_use("StructuredOutput", {"verdict": verdict, "summary": summary, "points": points})]


# -- the real kimi-cli (the plan and author are the Kimi Code CLI's too) --------------------

AUTHOR = "Kimi (hybrid-tui) <kimi@hybrid-tui.invalid>"

PLAN = """\
# Add a greeting

## Context
The app needs a greeting file.

## Changes

### 1. `hello.txt`
Create it with a friendly line.

### 2. `src/app.py`
Return 2 instead of 1.

## Verification
- `test -f hello.txt`
"""


def call(call_id: str, name: str, **arguments: Any) -> str:
    """One `tool_call:` line of the `_scripted_echo` DSL."""
    return "tool_call: " + json.dumps(
        {"id": call_id, "name": name, "arguments": json.dumps(arguments)}
    )


def toml_str(value: str | Path) -> str:
    return json.dumps(str(value))  # a JSON string is a valid TOML basic string


def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def configure(
    home: Path,
    kimi_bin: Path,
    *,
    steps: list[list[str]] | None = None,
    provider: str | None = None,
    max_steps: int = 100,
) -> Path:
    """Write Kimi's config (scripted model, or `provider`), and hybrid-tui's config, which
    points `[agents.kimi]` at the real binary and that config file. Returns Kimi's data dir."""
    kimi_dir = home / "kimi-e2e"
    kimi_dir.mkdir(exist_ok=True)
    if provider is None:
        scripts = kimi_dir / "scripts.json"
        scripts.write_text(json.dumps(["\n".join(step) for step in steps or []], indent=1))
        provider = (
            '[providers.scripted]\ntype = "_scripted_echo"\nbase_url = ""\napi_key = ""\n'
            f"env = {{KIMI_SCRIPTED_ECHO_SCRIPTS = {toml_str(scripts)}}}\n"
        )
    name = re.search(r"\[providers\.(\w+)\]", provider).group(1)
    kimi_config = kimi_dir / "config.toml"
    kimi_config.write_text(
        'default_model = "worker"\ntelemetry = false\n\n'
        f"{provider}\n"
        f'[models.worker]\nprovider = "{name}"\nmodel = "worker"\nmax_context_size = 131072\n'
        'capabilities = ["thinking"]\n\n'
        # One try per request: the OpenAI client's own two retries still run, a few seconds.
        "[loop_control]\nmax_retries_per_step = 1\n"
    )
    Path(os.environ["HYBRID_TUI_CONFIG"]).write_text(
        "[agents.kimi]\n"
        f"command = [{toml_str(kimi_bin)}]\n"
        f"config_file = {toml_str(kimi_config)}\n"
        f"max_steps = {max_steps}\n"
        "timeout = 120\n"
    )
    return Path(os.environ["KIMI_SHARE_DIR"])


def session_context(share: Path, summary: dict) -> list[dict]:
    """The real CLI's record of the run's session: one JSON message per line. It is in the run's
    copy of the data dir when the run was sandboxed (`agent_data`), else in `share`."""
    data = Path(summary["agent_data"]) if summary.get("agent_data") else share
    (context,) = data.glob(f"sessions/*/{summary['session_id']}/context.jsonl")
    return [json.loads(line) for line in context.read_text().splitlines()]
