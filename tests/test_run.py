"""`hybrid-tui run` end to end: real git, the real CLI process, the stand-in kimi on PATH."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import git
from tests.helpers import checkout_fingerprint, run_cli, standin_env

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
- `python -m pytest tests`
"""


@pytest.fixture
def plan(tmp_path: Path) -> Path:
    path = tmp_path / "plans" / "add-greeting.md"
    path.parent.mkdir()
    path.write_text(PLAN)
    return path


def run_json(repo: Path, plan: Path, fixture: str, *extra: str, **knobs: str):
    log = repo.parent / "standin.log"
    result = run_cli(
        "run", str(plan), "--json", *extra,
        cwd=repo, env=standin_env(fixture, KIMI_STANDIN_LOG=str(log), **knobs),
    )
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert lines and lines[-1]["type"] == "summary", result.stderr
    calls = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
    return result, lines[:-1], lines[-1], calls


def test_success_commits_on_the_run_branch_and_leaves_the_checkout_alone(repo: Path, plan: Path, state_dir: Path):
    before = checkout_fingerprint(repo)
    result, events, summary, calls = run_json(repo, plan, "kimi_success")

    assert result.returncode == 0, result.stderr
    assert summary["status"] == "review" and summary["failure_kind"] is None
    assert summary["steps"] == 3
    assert summary["branch"].startswith(f"kimi/{summary['run_id']}-add-a-greeting")
    assert summary["base_branch"] == "main" and summary["base_sha"] == git(repo, "rev-parse", "HEAD")
    # The stand-in got the argv of DESIGN.md, with -w the run's worktree and cwd the same.
    (call,) = calls
    worktree = state_dir / "worktrees" / summary["run_id"]
    argv = call["argv"]
    assert argv[:9] == ["--print", "--output-format", "stream-json", "--yolo", "--thinking",
                        "--max-steps-per-turn", "100", "-w", str(worktree)]
    assert argv[9] == "-p" and "# Spec: 001 -- Add a greeting" in argv[10]
    assert Path(call["cwd"]) == worktree
    # Events arrived in order, as parsed from the stream.
    kinds = [e["kind"] for e in events]
    assert kinds[:4] == ["text", "tool_call", "tool_result", "tool_call"]
    assert events[1]["name"] == "WriteFile" and events[1]["key_arg"] == "hello.txt"
    assert kinds[-1] == "exit"
    # The file the agent wrote is committed on the branch, authored by the agent.
    branch = summary["branch"]
    assert git(repo, "show", f"{branch}:hello.txt") == "hello from fake model"
    assert git(repo, "log", "-1", "--format=%an <%ae>", branch) == "Kimi (hybrid-tui) <kimi@hybrid-tui.invalid>"
    assert git(repo, "rev-parse", f"{branch}~1") == summary["base_sha"]
    # Invariant 1: the user's checkout is byte-identical, and the state dir holds the record.
    assert checkout_fingerprint(repo) == before
    record = json.loads((state_dir / "runs" / summary["run_id"] / "run.json").read_text())
    assert record["status"] == "review" and record["session_id"] == "2a47416c-43bf-46fd-8fe6-a29c47d04c27"
    assert record["worktree"] == str(worktree) and record["pgid"] and record["exit_code"] == 0
    transcript = (state_dir / "runs" / summary["run_id"] / "transcript.jsonl").read_text()
    assert transcript.count("\n") == 5


def test_max_steps_fails_but_keeps_the_work(repo: Path, plan: Path):
    result, events, summary, _ = run_json(repo, plan, "kimi_max_steps")
    assert result.returncode == 1
    assert (summary["status"], summary["failure_kind"]) == ("failed", "max_steps")
    assert "Max number of steps reached" in summary["message"]
    assert any(e["kind"] == "text" and e["raw"] and "Max number of steps" in e["text"] for e in events)


def test_connection_error_is_transient(repo: Path, plan: Path):
    result, _, summary, _ = run_json(repo, plan, "kimi_server_down")
    assert result.returncode == 1
    assert (summary["status"], summary["failure_kind"]) == ("failed", "transient")
    assert "Connection error." in summary["message"]
    # No changes: an empty diff, not an error.
    assert git(repo, "rev-parse", summary["branch"]) == summary["base_sha"]


def test_agent_killed_by_a_signal_is_crashed_and_its_work_committed(repo: Path, plan: Path):
    result, _, summary, _ = run_json(repo, plan, "kimi_success", KIMI_STANDIN_SIGNAL="9")
    assert result.returncode == 1
    assert (summary["status"], summary["failure_kind"]) == ("failed", "crashed")
    assert summary["exit_code"] == -9
    assert git(repo, "show", f"{summary['branch']}:hello.txt") == "hello from fake model"


def test_timeout_stops_the_agent_and_commits(repo: Path, plan: Path):
    result, _, summary, _ = run_json(repo, plan, "kimi_success", "--timeout", "1", KIMI_STANDIN_HANG="1")
    assert result.returncode == 1
    assert (summary["status"], summary["failure_kind"]) == ("timed_out", "timeout")
    assert git(repo, "show", f"{summary['branch']}:hello.txt") == "hello from fake model"


def test_a_spec_file_runs_as_is_and_long_prompts_go_through_stdin(repo: Path, tmp_path: Path):
    requirement = "x" * 120_000
    spec = tmp_path / "spec.md"
    spec.write_text(
        "# Spec: 007 -- Long one\n\nSource: manual\nBase: main@0000000\n\n## Context\nBig.\n\n"
        "## Tasks\n\n### Task 1: Write hello\n\nFiles:\n- CREATE hello.txt\n\n"
        f"Requirements:\n- {requirement}\n\nVerification:\n- `true`\n"
    )
    result, _, summary, calls = run_json(repo, spec, "kimi_success")
    assert result.returncode == 0, result.stderr
    (call,) = calls
    assert "-p" not in call["argv"]
    assert "# Spec: 007 -- Long one" in call["stdin"] and requirement in call["stdin"]


def test_a_change_to_the_user_checkout_during_the_run_is_reported(repo: Path, plan: Path, tmp_path: Path):
    target = repo / "src" / "app.py"
    stream = tmp_path / "reach_out.jsonl"
    args = json.dumps({"command": f"echo hacked >> {target}"})
    stream.write_text(
        json.dumps({"role": "assistant", "content": "", "tool_calls": [
            {"type": "function", "id": "c1", "function": {"name": "Shell", "arguments": args}}]}) + "\n"
        + json.dumps({"role": "tool", "content": "<system>Command executed successfully.</system>", "tool_call_id": "c1"}) + "\n"
    )
    (tmp_path / "reach_out.rc").write_text("0\n")
    (tmp_path / "reach_out.stderr").write_text("")
    env = standin_env("kimi_success", KIMI_STANDIN_FIXTURE=str(stream))
    result = run_cli("run", str(plan), "--json", cwd=repo, env=env)
    summary = json.loads(result.stdout.splitlines()[-1])
    assert summary["checkout_changes"] == ["src/app.py"]
    assert any("Your checkout changed" in json.loads(l).get("text", "") for l in result.stdout.splitlines())
