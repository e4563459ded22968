"""The choice on Claude's approval screen (issue 11): the real hook command, fed the real hook
JSON (Claude Code's recorded `ExitPlanMode` hook input, as a PermissionRequest), against a
running app over a real Unix socket: allow with `updatedInput` equal to `tool_input`; deny,
then the spec opens; no decision when the user leaves it to Claude, with no app, with a stale
socket and on timeout. How long each no-decision took is printed (`-s` shows it), not asserted.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from textual.pilot import Pilot

from hybrid_tui.core.plan.approval import DELEGATED_MESSAGE, socket_path
from hybrid_tui.core.plan.projects import PlanProjects
from hybrid_tui.ui.dialogs.approval import ApprovalScreen
from hybrid_tui.ui.plans.screen import PlansScreen
from hybrid_tui.ui.spec.screen import SpecScreen
from tests.support.pilot_plans import (
    add_plan,
    claude_plans_dir,
    new_app,
    plans_shown,
    run,
    wait_until,
)
from tests.support.repos import AGENT_STREAMS

RECORDED_HOOK = AGENT_STREAMS / "claude_plan_sdk.hook_pretooluse.jsonl"


def hook_event(repo: Path, plan: Path, *, cwd: Path | None = None) -> dict:
    """Claude Code's recorded ExitPlanMode hook input, for `plan` written in `repo`."""
    lines = [json.loads(line) for line in RECORDED_HOOK.read_text().splitlines() if line.strip()]
    event = next(e for e in lines if e["tool_name"] == "ExitPlanMode")
    event["hook_event_name"] = "PermissionRequest"
    event["cwd"] = str(cwd or repo)
    event["tool_input"] = {"plan": plan.read_text(), "planFilePath": str(plan)}
    return event


async def run_hook(payload: bytes | str) -> tuple[float, int, str]:
    """`hybrid-tui hook permission-request` as a real process: (seconds, exit code, stdout)."""
    started = time.monotonic()
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "hybrid_tui", "hook", "permission-request",
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    data = payload.encode() if isinstance(payload, str) else payload
    out, err = await process.communicate(data)
    assert err == b"", err
    return time.monotonic() - started, process.returncode or 0, out.decode()


def hook_now(payload: str) -> tuple[float, int, str]:
    return asyncio.run(run_hook(payload))


@pytest.fixture
def plan(repo: Path) -> Path:
    return add_plan(claude_plans_dir(), "01-fix-delete-types.md", age=60)


async def approval_shown(pilot: Pilot) -> ApprovalScreen:
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, ApprovalScreen), "the approval prompt")
    return pilot.app.screen  # type: ignore[return-value]


async def listening(pilot: Pilot) -> None:
    await plans_shown(pilot)
    await wait_until(pilot, lambda: pilot.app.approvals is not None, "the app listening for the hook")


def test_claude_implements_allows_with_the_tool_input_echoed(repo: Path, plan: Path) -> None:
    app = new_app(repo)
    event = hook_event(repo, plan)

    async def body(pilot: Pilot) -> None:
        await listening(pilot)
        hook = asyncio.ensure_future(run_hook(json.dumps(event)))
        await approval_shown(pilot)
        await pilot.press("c")
        seconds, code, out = await hook
        assert code == 0
        decision = json.loads(out)["hookSpecificOutput"]
        assert decision["hookEventName"] == "PermissionRequest"
        assert decision["decision"]["behavior"] == "allow"
        assert decision["decision"]["updatedInput"] == event["tool_input"]
        assert decision["decision"]["updatedPermissions"] == [
            {"type": "setMode", "mode": "acceptEdits", "destination": "session"}]
        assert isinstance(app.screen, PlansScreen)

    run(app, body)
    # The hook told hybrid-tui where the plan was written.
    assert PlanProjects.open(Path(os.environ["HYBRID_TUI_STATE_DIR"])).written_in(plan) == repo


def test_delegate_denies_telling_claude_to_wait_and_opens_the_spec(repo: Path, plan: Path) -> None:
    app = new_app(repo)

    async def body(pilot: Pilot) -> None:
        await listening(pilot)
        hook = asyncio.ensure_future(run_hook(json.dumps(hook_event(repo, plan, cwd=repo / "src"))))
        await approval_shown(pilot)
        await pilot.press("d")
        _, code, out = await hook
        verdict = json.loads(out)["hookSpecificOutput"]["decision"]
        assert code == 0 and verdict == {"behavior": "deny", "message": DELEGATED_MESSAGE}
        assert "stop here and wait" in verdict["message"] and "hybrid-tui runs --json" in verdict["message"]
        await wait_until(pilot, lambda: isinstance(app.screen, SpecScreen), "the spec screen")
        assert app.screen.plan.path == plan  # type: ignore[attr-defined]

    run(app, body)


def test_decide_in_claude_gives_no_decision(repo: Path, plan: Path) -> None:
    app = new_app(repo)

    async def body(pilot: Pilot) -> None:
        await listening(pilot)
        hook = asyncio.ensure_future(run_hook(json.dumps(hook_event(repo, plan))))
        await approval_shown(pilot)
        await pilot.press("escape")
        _, code, out = await hook
        assert (code, out) == (0, "")

    run(app, body)


def test_on_timeout_no_decision_and_the_prompt_is_withdrawn(repo: Path, plan: Path) -> None:
    Path(os.environ["HYBRID_TUI_CONFIG"]).write_text("[hook]\nanswer_timeout = 1\n")
    app = new_app(repo)

    async def body(pilot: Pilot) -> None:
        await listening(pilot)
        hook = asyncio.ensure_future(run_hook(json.dumps(hook_event(repo, plan))))
        await approval_shown(pilot)
        seconds, code, out = await hook  # nobody answers
        assert (code, out) == (0, "")
        print(f"no decision on timeout (answer_timeout = 1 s) after {seconds:.2f} s")
        await wait_until(pilot, lambda: isinstance(app.screen, PlansScreen), "the prompt withdrawn")

    run(app, body)


def test_no_app_and_a_stale_socket_give_no_decision_at_once(repo: Path, plan: Path) -> None:
    event = json.dumps(hook_event(repo, plan))
    seconds, code, out = hook_now(event)
    assert (code, out) == (0, "")
    print(f"no decision without a hybrid-tui after {seconds:.2f} s")

    path = socket_path(repo)
    path.parent.mkdir(mode=0o700, exist_ok=True)
    stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stale.bind(str(path))  # bound, never listening, then left behind: what a crashed app leaves
    stale.close()
    seconds, code, out = hook_now(event)
    assert (code, out) == (0, "") and path.exists()
    print(f"no decision with a stale socket after {seconds:.2f} s")


@pytest.mark.parametrize("payload", [
    "", "not json", "[]", '{"tool_name": "Write", "cwd": "/"}',
    '{"tool_name": "ExitPlanMode", "hook_event_name": "PermissionRequest", "cwd": 7, "tool_input": {}}',
    '{"tool_name": "ExitPlanMode", "cwd": "/nowhere", "tool_input": "x"}',
], ids=["empty", "not-json", "a-list", "another-tool", "bad-cwd", "bad-input"])
def test_unexpected_input_is_logged_and_gives_no_decision(payload: str) -> None:
    _, code, out = hook_now(payload)
    assert (code, out) == (0, "")
    log = (Path(os.environ["HYBRID_TUI_STATE_DIR"]) / "hook.log").read_text()
    assert "not an ExitPlanMode permission request" in log


def test_a_second_app_in_the_same_repository_leaves_the_hook_to_the_first(repo: Path, plan: Path) -> None:
    first, second = new_app(repo), new_app(repo)

    async def body(pilot: Pilot) -> None:
        await listening(pilot)
        async with second.run_test() as other:
            await wait_until(other, lambda: second.startup_done, "the second app's start-up")
            await wait_until(other, lambda: any("Another hybrid-tui answers" in str(n.message)
                                                for n in second._notifications), "the second app's notice")
            assert second.approvals is None

    run(first, body)


@pytest.mark.parametrize("size", [(80, 24), (60, 20)], ids=["80x24", "60x20"])
def test_snapshot_approval_prompt(snap_compare, repo: Path, plan: Path, size: tuple[int, int]) -> None:
    event = json.dumps(hook_event(repo, plan))
    done: list[subprocess.CompletedProcess] = []
    hook = threading.Thread(target=lambda: done.append(subprocess.run(
        [sys.executable, "-m", "hybrid_tui", "hook", "permission-request"],
        input=event, capture_output=True, text=True, timeout=60)))

    async def ready(pilot: Pilot) -> None:
        await listening(pilot)
        hook.start()  # a process of its own, outside the app's loop
        await approval_shown(pilot)
        await pilot.pause()

    assert snap_compare(new_app(repo), terminal_size=size, run_before=ready)
    hook.join(60)
    # The app closed with the prompt unanswered: the hook left the choice to Claude.
    assert [(d.returncode, d.stdout) for d in done] == [(0, "")]


def test_hook_status_sees_the_running_app(repo: Path) -> None:
    app = new_app(repo)

    async def body(pilot: Pilot) -> None:
        await listening(pilot)
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "hybrid_tui", "hook", "status", cwd=repo, stdout=asyncio.subprocess.PIPE)
        out, _ = await process.communicate()
        assert f"hybrid-tui for {repo}: running, answers Claude" in out.decode()

    run(app, body)
