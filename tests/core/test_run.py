"""`hybrid-tui run` end to end: real git, the real CLI process, the stand-in kimi on PATH."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from hybrid_tui.agents.registry import make_agent
from hybrid_tui.config import Settings
from hybrid_tui.core.errors import InputError
from hybrid_tui.core.run.dispatch import (
    PLAN_PROMPT_PREAMBLE,
    RunExecution,
    prepare_plan_run,
)
from hybrid_tui.core.runs import RunStore, Status
from tests.support.cli import checkout_fingerprint, run_cli, standin_env, world
from tests.support.repos import AGENT_STREAMS, git

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
    return result, [e for e in lines[:-1] if e["type"] == "event"], lines[-1], calls


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


def test_a_second_edit_to_a_file_already_modified_before_the_run_is_reported(repo: Path, plan: Path, tmp_path: Path):
    # The file's status is " M" before and after the run: only its content tells the change.
    target = repo / "src" / "app.py"
    target.write_text(target.read_text() + "# my own edit, not committed\n")
    (repo / "notes.txt").write_text("untracked and left alone\n")
    stream = tmp_path / "edit_again.jsonl"
    args = json.dumps({"command": f"echo hacked >> {target}"})
    stream.write_text(
        json.dumps({"role": "assistant", "content": "", "tool_calls": [
            {"type": "function", "id": "c1", "function": {"name": "Shell", "arguments": args}}]}) + "\n"
        + json.dumps({"role": "tool", "content": "<system>Command executed successfully.</system>", "tool_call_id": "c1"}) + "\n"
    )
    (tmp_path / "edit_again.rc").write_text("0\n")
    (tmp_path / "edit_again.stderr").write_text("")
    result = run_cli("run", str(plan), "--json", cwd=repo, env=standin_env("kimi_success", KIMI_STANDIN_FIXTURE=str(stream)))
    summary = json.loads(result.stdout.splitlines()[-1])
    assert target.read_text().endswith("# my own edit, not committed\nhacked\n")
    assert summary["checkout_changes"] == ["src/app.py"]  # the untouched untracked file is not
    assert any("Your checkout changed" in json.loads(l).get("text", "") for l in result.stdout.splitlines())


# -- Claude implements: the plan itself is the prompt --------------------------------------------


def run_claude_json(repo: Path, source: Path, fixture: str, *extra: str):
    """`hybrid-tui run SOURCE --agent claude --json` with the stand-in claude replaying `fixture`."""
    log = repo.parent / "claude-standin.log"
    env = standin_env("kimi_success", CLAUDE_STANDIN_FIXTURE=str(AGENT_STREAMS / f"{fixture}.jsonl"),
                      CLAUDE_STANDIN_LOG=str(log))
    result = run_cli("run", str(source), "--agent", "claude", "--json", *extra, cwd=repo, env=env)
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert lines and lines[-1]["type"] == "summary", result.stderr
    calls = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
    return result, [e for e in lines[:-1] if e["type"] == "event"], lines[-1], calls


def test_claude_gets_the_plan_itself_and_the_summary_has_its_usage(repo: Path, plan: Path, state_dir: Path):
    before = checkout_fingerprint(repo)
    result, events, summary, calls = run_claude_json(repo, plan, "claude_success")

    assert result.returncode == 0, result.stderr
    assert (summary["status"], summary["agent"], summary["prompt_source"]) == ("review", "claude", "plan")
    assert (summary["turns"], summary["tokens"], summary["cost_usd"]) == (2, 220, pytest.approx(0.0012))
    assert summary["steps"] == 2 and summary["checks"] is None  # no spec: no checks
    assert summary["branch"].startswith(f"claude/{summary['run_id']}-add-a-greeting")
    # No conversion: the prompt is the preamble and the plan, as Claude got it.
    (call,) = calls
    worktree = state_dir / "worktrees" / summary["run_id"]
    assert call["argv"][:2] == ["-p", PLAN_PROMPT_PREAMBLE + PLAN] and Path(call["cwd"]) == worktree
    assert "# Spec:" not in call["argv"][1]
    assert not any("running the spec's checks" in e.get("text", "") for e in events)
    # The run keeps a copy of the plan and the exact prompt; run.json says it all.
    run_dir = state_dir / "runs" / summary["run_id"]
    record = json.loads((run_dir / "run.json").read_text())
    assert record["spec_path"] == str(run_dir / "plan.md") and (run_dir / "plan.md").read_text() == PLAN
    assert (run_dir / "prompt.md").read_text() == PLAN_PROMPT_PREAMBLE + PLAN
    assert not (run_dir / "spec.md").exists()
    assert (record["plan_path"], record["flavour"]) == (str(plan.resolve()), "")
    assert (record["turns"], record["tokens"], record["cost_usd"]) == (2, 220, pytest.approx(0.0012))
    assert (summary["out_of_scope"], summary["untouched"]) == ([], [])  # no spec: no scope flags
    assert git(repo, "show", f"{summary['branch']}:hello_claude.txt") == "hello from fake claude"
    assert checkout_fingerprint(repo) == before
    # The plain summary says the same.
    text = run_cli("run", str(plan), "--agent", "claude", cwd=repo,
                   env=standin_env("kimi_success", CLAUDE_STANDIN_FIXTURE=str(AGENT_STREAMS / "claude_success.jsonl")))
    assert ": review, 2 step(s), 2 turn(s), 220 tokens, $0.0012, branch claude/" in text.stdout


def test_claude_with_spec_gets_the_converted_spec(repo: Path, plan: Path):
    result, _, summary, calls = run_claude_json(repo, plan, "claude_success", "--spec")
    assert result.returncode == 0, result.stderr
    assert summary["prompt_source"] == "spec"
    (call,) = calls
    assert call["argv"][0] == "-p" and "# Spec: 001 -- Add a greeting" in call["argv"][1]


def test_claude_api_error_is_transient_with_its_usage(repo: Path, plan: Path):
    result, _, summary, _ = run_claude_json(repo, plan, "claude_http500")
    assert result.returncode == 1
    assert (summary["status"], summary["failure_kind"]) == ("failed", "transient")
    assert (summary["turns"], summary["tokens"], summary["cost_usd"]) == (1, 0, 0.0)


def test_kimi_has_no_usage_and_its_auto_flavour_is_recorded_resolved(repo: Path, plan: Path, state_dir: Path):
    result, _, summary, _ = run_json(repo, plan, "kimi_success")
    assert result.returncode == 0, result.stderr
    assert (summary["agent"], summary["prompt_source"]) == ("kimi", "spec")
    assert (summary["turns"], summary["tokens"], summary["cost_usd"]) == (None, None, None)
    record = json.loads((state_dir / "runs" / summary["run_id"] / "run.json").read_text())
    assert record["flavour"] == "legacy"  # asked of the stand-in (kimi, version 1.50.0); config says "auto"


def test_an_empty_plan_for_claude_is_refused_and_changes_nothing(repo: Path, tmp_path: Path, state_dir: Path,
                                                                  monkeypatch: pytest.MonkeyPatch):
    empty = tmp_path / "empty.md"
    empty.write_text("\n  \n")
    before = world(repo, state_dir)
    result = run_cli("run", str(empty), "--agent", "claude", cwd=repo, env=standin_env("kimi_success"))
    assert result.returncode == 2
    assert f"Cannot use plan {empty}: the file holds only whitespace" in result.stderr
    # The same check where the text comes from elsewhere than a file.
    for key, value in standin_env("kimi_success").items():
        monkeypatch.setenv(key, value)
    settings = Settings()
    with pytest.raises(InputError, match="the plan is empty: nothing to implement"):
        prepare_plan_run(RunStore(settings.resolved_state_dir()), repo, " \n", make_agent("claude", settings),
                         plan_path=empty)
    assert world(repo, state_dir) == before


# -- an unexpected error never leaves the run `running` ------------------------------------------


def test_an_unexpected_error_marks_the_run_crashed(repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    for key, value in standin_env("kimi_success").items():
        monkeypatch.setenv(key, value)
    settings = Settings()
    store = RunStore(settings.resolved_state_dir())
    agent = make_agent("kimi", settings)
    run = prepare_plan_run(store, repo, PLAN, agent).run

    def broken_sink(events):  # a front end that fails on the first events it is given
        raise RuntimeError("the pane fell over")

    execution = RunExecution(store, run, agent, timeout=20, on_events=broken_sink)
    with pytest.raises(RuntimeError, match="the pane fell over"):
        asyncio.run(execution.start())
    record = store.load(run.id)
    assert (record.status, record.failure_kind) == (Status.FAILED, "crashed")
    assert "RuntimeError: the pane fell over" in record.message and record.finished_at
    # What the agent wrote before it was stopped is on the branch.
    assert record.head_sha == git(repo, "rev-parse", run.branch)


def test_cancelling_the_task_that_awaits_a_run_cancels_the_run(repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """The one concurrency model: a front end cancels its worker, and that is `cancel()` (the
    agent stopped, its work committed, the run recorded cancelled); then CancelledError."""
    for key, value in standin_env("kimi_success", KIMI_STANDIN_HANG="1").items():
        monkeypatch.setenv(key, value)
    settings = Settings()
    store = RunStore(settings.resolved_state_dir())
    agent = make_agent("kimi", settings)
    run = prepare_plan_run(store, repo, PLAN, agent).run

    async def main() -> None:
        wrote = asyncio.Event()

        def sink(events) -> None:
            if any("Created" in getattr(event, "text", "") for event in events):
                wrote.set()  # the agent's last line: it now hangs

        task = asyncio.ensure_future(RunExecution(store, run, agent, timeout=60, on_events=sink).start())
        await asyncio.wait_for(wrote.wait(), 30)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())
    record = store.load(run.id)
    assert (record.status, record.failure_kind) == (Status.CANCELLED, "cancelled")
    assert record.head_sha == git(repo, "rev-parse", run.branch) != run.base_sha
    assert git(repo, "show", f"{run.branch}:hello.txt") == "hello from fake model"

