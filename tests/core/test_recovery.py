"""DESIGN.md invariant 4: a killed hybrid-tui (kill -9) leaves every run recoverable."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from tests.support.cli import run_cli, standin_env
from tests.support.processes import gone, wait_until
from tests.support.repos import git

PLAN = "# Say hello\n\n## Changes\n\n### 1. `hello.txt`\nCreate it.\n"


def test_kill_9_of_hybrid_tui_leaves_the_run_recoverable(repo: Path, tmp_path: Path, state_dir: Path):
    plan = tmp_path / "plan.md"
    plan.write_text(PLAN)
    fifo = tmp_path / "release"
    os.mkfifo(fifo)
    env = {**os.environ, **standin_env("kimi_success", KIMI_STANDIN_BLOCK_AFTER="2", KIMI_STANDIN_FIFO=str(fifo))}
    proc = subprocess.Popen(
        [sys.executable, "-m", "hybrid_tui", "run", str(plan), "--json"],
        cwd=repo, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        # The second event (the tool result of WriteFile) means hello.txt is written and the
        # agent now blocks on the FIFO.
        assert json.loads(proc.stdout.readline())["type"] == "checks"  # the list comes first
        first = json.loads(proc.stdout.readline())
        second = json.loads(proc.stdout.readline())
        assert (first["kind"], second["kind"]) == ("text", "tool_call")
        (record_path,) = (state_dir / "runs").glob("*/run.json")
        assert wait_until(lambda: json.loads(record_path.read_text()).get("pgid"))
        record = json.loads(record_path.read_text())
        assert record["status"] == "running"
        agent_pid = record["pgid"]
        assert wait_until(lambda: (Path(record["worktree"]) / "hello.txt").exists())
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        assert not gone(agent_pid)  # the agent outlived its parent: its own process group
    finally:
        proc.kill()
        proc.wait()

    result = run_cli("runs", "--json", cwd=repo)
    assert result.returncode == 0, result.stderr
    (run,) = json.loads(result.stdout)
    assert run["status"] == "interrupted"
    assert wait_until(lambda: gone(agent_pid)), "the orphaned agent was not stopped"
    # Worktree, branch and transcript are intact; what the agent wrote is committed.
    assert Path(run["worktree"]).is_dir()
    assert git(repo, "show", f"{run['branch']}:hello.txt") == "hello from fake model"
    transcript = (state_dir / "runs" / run["id"] / "transcript.jsonl").read_text()
    assert '"WriteFile"' in transcript
    # And it is reviewable like any failed run: reject keeps its tip.
    tip = git(repo, "rev-parse", run["branch"])
    assert run_cli("reject", run["id"], cwd=repo).returncode == 0
    assert git(repo, "rev-parse", f"refs/hybrid-tui/rejected/{run['id']}") == tip


def test_an_agent_that_switches_branch_and_commits_is_brought_back(repo: Path, tmp_path: Path):
    plan = tmp_path / "plan.md"
    plan.write_text(PLAN)
    stream = tmp_path / "rogue.jsonl"
    command = "git switch -q -c rogue && echo rogue > rogue.txt && git add rogue.txt && git commit -qm rogue && echo left > left.txt"
    stream.write_text(
        json.dumps({"role": "assistant", "content": "", "tool_calls": [
            {"type": "function", "id": "c1", "function": {"name": "Shell", "arguments": json.dumps({"command": command})}}]}) + "\n"
        + json.dumps({"role": "tool", "content": "<system>Command executed successfully.</system>", "tool_call_id": "c1"}) + "\n"
    )
    (tmp_path / "rogue.rc").write_text("0\n")
    (tmp_path / "rogue.stderr").write_text("")
    result = run_cli("run", str(plan), "--json", cwd=repo, env=standin_env("kimi_success", KIMI_STANDIN_FIXTURE=str(stream)))
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    summary = lines[-1]
    branch = summary["branch"]
    assert git(repo, "show", f"{branch}:rogue.txt") == "rogue"  # the agent's own commit, moved over
    assert git(repo, "show", f"{branch}:left.txt") == "left"  # and what it left uncommitted
    assert git(Path(summary["worktree"]), "symbolic-ref", "--short", "HEAD") == branch
    assert any(e.get("kind") == "notice" and "switched the worktree" in e["text"] for e in lines)
