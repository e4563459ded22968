"""The real Claude Code in plan mode, with hybrid-tui's approval hook installed by `hybrid-tui
hook install`, reaching a running hybrid-tui (Pilot, the real socket) when it calls
`ExitPlanMode`; the choice made in hybrid-tui takes effect in Claude: allowed, Claude goes on
to edit the checkout; delegated (denied), it stops and edits nothing.

Which permission path fires headless: plain `-p --permission-mode plan` has no ExitPlanMode
tool at all ("No such tool available"), so no hook fires. With `--input-format stream-json
--output-format stream-json --permission-prompt-tool stdio` Claude Code asks for the tool's
permission twice at once: a `can_use_tool` control request on stdout, and the
`PermissionRequest` hook; the first answer wins. The test never answers the control request,
so the hook's answer is the one that counts (allow: the edit happens; deny: an error tool
result, no edit). Claude talks to a scripted Anthropic server on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
from pathlib import Path

import pytest
from textual.pilot import Pilot

from hybrid_tui.ui.dialogs.approval import ApprovalScreen
from tests.support.cli import run_cli
from tests.support.e2e import claude_binary
from tests.support.pilot_plans import new_app, plans_shown, run, wait_until
from tests.support.repos import make_repo
from tests.support.servers.anthropic import (
    RecordedRequest,
    ScriptedAnthropic,
    text,
    tool_use,
)

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("claude_bin")]

PLAN = "# Plan: greet\n\n1. Create `hello.txt` with a greeting.\n"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in list(os.environ):
        if name.startswith(("ANTHROPIC_", "CLAUDE_CODE_")) or name in ("CLAUDECODE", "IS_SANDBOX"):
            monkeypatch.delenv(name)
    repo = make_repo(tmp_path / "project", {"README.md": "# demo\n"})
    installed = run_cli("hook", "install", cwd=repo)
    assert installed.returncode == 0, installed.stderr
    return repo


def plan_file(request: RecordedRequest) -> str:
    """The plan file Claude's plan-mode system prompt names."""
    found = re.search(r"(/[^\s`'\"]*/plans/[\w.-]+\.md)", request.all_text())
    assert found, "the plan file's path in Claude's prompt"
    return found.group(1)


def script(project: Path, after: list) -> list:
    return [
        lambda req: [text("Planning."), tool_use("Write", {"file_path": plan_file(req), "content": PLAN})],
        [tool_use("ExitPlanMode", {"plan": PLAN})],
        *after,
    ]


async def claude_in_plan_mode(project: Path, server: ScriptedAnthropic) -> tuple[int, list[dict]]:
    """Claude Code with a stream-json prompt, run until its result line; its stdout lines."""
    home = Path(os.environ["HOME"])
    env = {**os.environ, "ANTHROPIC_BASE_URL": server.base_url, "ANTHROPIC_API_KEY": "test-key",
           "CLAUDE_CONFIG_DIR": str(home / ".claude"), "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
           "CLAUDE_CODE_MAX_RETRIES": "1", "DISABLE_AUTOUPDATER": "1", "DISABLE_TELEMETRY": "1"}
    process = await asyncio.create_subprocess_exec(
        str(claude_binary()), "-p", "--input-format", "stream-json", "--output-format", "stream-json",
        "--verbose", "--permission-mode", "plan", "--permission-prompt-tool", "stdio", "--max-turns", "6",
        cwd=project, env=env, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stdin is not None and process.stdout is not None
    prompt = {"type": "user", "session_id": "", "parent_tool_use_id": None,
              "message": {"role": "user", "content": "create hello.txt"}}
    process.stdin.write((json.dumps(prompt) + "\n").encode())
    await process.stdin.drain()
    lines: list[dict] = []
    while raw := await asyncio.wait_for(process.stdout.readline(), timeout=120):
        line = json.loads(raw)
        lines.append(line)  # a `can_use_tool` control request stays unanswered: the hook decides
        if line.get("type") == "result":
            break
    process.stdin.close()
    return await asyncio.wait_for(process.wait(), timeout=60), lines


def tool_results(lines: list[dict]) -> list[dict]:
    return [block for line in lines if line.get("type") == "user"
            for block in line["message"]["content"] if isinstance(block, dict) and block.get("type") == "tool_result"]


@pytest.mark.parametrize("choice", ["c", "d"], ids=["claude-implements", "delegate"])
def test_the_choice_in_hybrid_tui_takes_effect_in_claude(project: Path, choice: str) -> None:
    after = ([lambda req: [tool_use("Write", {"file_path": str(project / "hello.txt"), "content": "hello\n"})],
              [text("Done.")]] if choice == "c" else [[text("Stopping: the plan was delegated.")]])
    app = new_app(project)

    async def body(pilot: Pilot) -> None:
        await plans_shown(pilot)
        await wait_until(pilot, lambda: app.approvals is not None, "the app listening for the hook")
        with ScriptedAnthropic(script(project, after)) as server:
            claude = asyncio.ensure_future(claude_in_plan_mode(project, server))
            await wait_until(pilot, lambda: isinstance(app.screen, ApprovalScreen) or claude.done(),
                             "Claude's approval request in hybrid-tui", timeout=120)
            assert not claude.done(), claude.result()
            await pilot.press(choice)
            code, lines = await claude
            results = tool_results(lines)
            if choice == "c":
                assert (project / "hello.txt").read_text() == "hello\n"  # Claude went on and edited
                assert not any(r.get("is_error") for r in results)
                assert len(server.turn_requests) == 4
            else:
                assert not (project / "hello.txt").exists()  # it stopped
                denied = [r for r in results if r.get("is_error")]
                assert denied and "delegated this plan to Kimi" in json.dumps(denied[0])
                assert [d["tool_name"] for d in lines[-1]["permission_denials"]] == ["ExitPlanMode"]
            assert code == 0 and lines[-1]["type"] == "result"

    run(app, body)
