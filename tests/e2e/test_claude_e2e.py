"""The real `claude` binary, driven through `hybrid-tui run --agent claude`, offline.

Claude Code talks to a scripted Anthropic Messages server on 127.0.0.1
(tests/support/servers/anthropic.py); everything else is real: the CLI process, git, the worktree,
the files Claude's tools write. The binary is Claude Code 2.1.332, which tests/support/agent_clis.py
installs on first use (or `HYBRID_TUI_CLAUDE_BIN`); a binary that is missing and cannot be
installed fails the tests, it never skips them (use `--no-e2e` to deselect).
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from tests.support.cli import checkout_fingerprint, run_cli
from tests.support.e2e import write_config, write_file
from tests.support.repos import git, make_repo
from tests.support.servers.anthropic import (
    ApiError,
    RecordedRequest,
    ScriptedAnthropic,
    text,
    tool_use,
)

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("claude_bin")]

PLAN = """\
# Add a greeting

## Context
The project needs a greeting file.

## Changes

### 1. `hello.txt`
Create it with a friendly line.

## Verification
- `test -f hello.txt`
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    # Hermetic: no Anthropic/Claude settings of the machine reach the agent.
    for name in list(os.environ):
        if name.startswith(("ANTHROPIC_", "CLAUDE_CODE_")) or name in ("CLAUDECODE", "IS_SANDBOX"):
            monkeypatch.delenv(name)
    return make_repo(tmp_path / "project", {"README.md": "# demo\n"})


@pytest.fixture
def plan(tmp_path: Path) -> Path:
    path = tmp_path / "plans" / "add-greeting.md"
    path.parent.mkdir()
    path.write_text(PLAN)
    return path


def run_claude(project: Path, source: Path, *, approve_checks: bool = True):
    """`hybrid-tui run SOURCE --agent claude [--approve-checks] --json`: (process, events, summary, seconds)."""
    started = time.monotonic()
    approve = ["--approve-checks"] if approve_checks else []
    result = run_cli("run", str(source), "--agent", "claude", *approve, "--json", cwd=project, timeout=90)
    seconds = time.monotonic() - started
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert lines and lines[-1]["type"] == "summary", result.stdout + result.stderr
    return result, [e for e in lines[:-1] if e["type"] == "event"], lines[-1], seconds


def worktree_of(summary: dict) -> Path:
    return Path(os.environ["HYBRID_TUI_STATE_DIR"]) / "worktrees" / summary["run_id"]


def test_claude_writes_a_file_and_the_branch_holds_it(project: Path, plan: Path, isolated_env: Path):
    before = checkout_fingerprint(project)
    turns = [write_file("hello.txt", "hello from claude\n"), [text("Created hello.txt.")]]
    with ScriptedAnthropic(turns) as server:
        write_config(isolated_env, server)
        result, events, summary, seconds = run_claude(project, plan)

    assert result.returncode == 0, result.stderr
    assert (summary["status"], summary["failure_kind"]) == ("review", None)
    assert seconds < 30
    # Claude worked in the run's worktree and got the plan itself as its prompt.
    assert len(server.turn_requests) == 2 and not server.problems
    first = server.turn_requests[0]
    assert first.cwd == str(worktree_of(summary))
    assert "Implement the following plan" in first.all_text() and "# Add a greeting" in first.all_text()
    assert "# Spec:" not in first.all_text()
    assert first.query == {"beta": ["true"]} and first.headers["x-api-key"] == "test-key"
    (result_block,) = server.turn_requests[1].tool_results()
    assert "File created successfully" in json.dumps(result_block)
    # The stream, parsed: init notice, text, Write (path relative to the worktree), its result,
    # the final text, the cost summary, the exit.
    kinds = [e["kind"] for e in events]
    assert kinds == ["notice", "text", "tool_call", "tool_result", "text", "notice", "notice", "notice", "notice", "exit"]
    # Then the plan's own check, approved with --approve-checks, in the worktree.
    assert [e["text"] for e in events[6:8]] == ["The agent finished; running the plan's checks in the worktree.",
                                                "$ test -f hello.txt"]
    assert events[8]["text"].startswith("✓ passed in ") and summary["checks"][0]["ok"] is True
    assert events[0]["text"].startswith("model ") and "permission mode acceptEdits" in events[0]["text"]
    assert (events[2]["name"], events[2]["key_arg"]) == ("Write", "hello.txt")
    assert events[3]["is_error"] is False and "File created successfully" in events[3]["text"]
    assert events[4]["text"] == "Created hello.txt."
    assert events[5]["text"].startswith("2 turns, ") and "$" in events[5]["text"]
    assert events[-1]["status"] == "review"
    assert summary["steps"] == 2 and summary["session_id"]
    # The branch holds exactly the file, authored by Claude; the user's checkout is untouched.
    branch = summary["branch"]
    assert branch.startswith(f"claude/{summary['run_id']}-add-a-greeting")
    assert git(project, "show", f"{branch}:hello.txt") == "hello from claude"
    changed = git(project, "diff", "--name-only", summary["base_sha"], branch)
    assert changed.splitlines() == ["hello.txt"]
    assert git(project, "log", "-1", "--format=%an <%ae>", branch) == (
        "Claude (hybrid-tui) <claude@hybrid-tui.invalid>"
    )
    assert checkout_fingerprint(project) == before
    record = json.loads(
        (Path(os.environ["HYBRID_TUI_STATE_DIR"]) / "runs" / summary["run_id"] / "run.json").read_text()
    )
    assert record["agent"] == "claude" and record["session_id"] == summary["session_id"]


@pytest.mark.parametrize(
    ("error", "kind", "words"),
    [
        (ApiError(500, "scripted outage"), "transient", ["500", "scripted outage", "retry"]),
        (ApiError(400, "scripted bad request"), "agent_error", ["400", "scripted bad request"]),
        (ApiError(401, "invalid x-api-key"), "auth", ["Invalid API key", "ANTHROPIC_API_KEY"]),
    ],
)
def test_an_api_error_fails_the_run(project: Path, plan: Path, isolated_env: Path, error, kind, words):
    with ScriptedAnthropic([error]) as server:
        write_config(isolated_env, server)
        result, events, summary, seconds = run_claude(project, plan)

    assert result.returncode == 1
    # Claude says subtype "success" for an API failure; the run must not.
    assert (summary["status"], summary["failure_kind"]) == ("failed", kind)
    for word in words:
        assert word in summary["message"]
    assert seconds < 30
    assert server.turn_requests and not server.problems
    assert all(r.turn == 0 for r in server.turn_requests)  # retries of the one failing turn
    assert not [e for e in events if e["kind"] == "text"]  # the error is a notice, not output
    assert any(e["kind"] == "notice" and e["level"] == "error" and "API" in e["text"]
               for e in events)  # fmt: skip
    assert events[-1]["kind"] == "exit" and events[-1]["status"] == "failed"
    # Nothing was written: an empty branch at the base, not an error.
    assert git(project, "rev-parse", summary["branch"]) == summary["base_sha"]


def test_max_turns_fails_but_the_work_is_committed_and_reviewable(project: Path, plan: Path, isolated_env: Path):
    # A model that never stops calling tools.
    turns = [write_file(f"step{n}.txt", f"step {n}\n", say=f"Step {n}.") for n in range(5)]
    with ScriptedAnthropic(turns) as server:
        write_config(isolated_env, server, max_turns=1)
        result, events, summary, seconds = run_claude(project, plan)

    assert result.returncode == 1
    assert (summary["status"], summary["failure_kind"]) == ("failed", "max_steps")
    assert "Reached maximum number of turns (1)" in summary["message"]
    assert "agents.claude.max_turns" in summary["message"]
    assert seconds < 30
    assert len(server.turn_requests) == 1
    assert [e["name"] for e in events if e["kind"] == "tool_call"] == ["Write"]
    # The one file it wrote is on the branch, and `hybrid-tui diff` shows it for review.
    assert git(project, "show", f"{summary['branch']}:step0.txt") == "step 0"
    diff = run_cli("diff", summary["run_id"], "--json", cwd=project)
    assert diff.returncode == 0, diff.stderr
    files = json.loads(diff.stdout)["files"]
    assert [(f["path"], f["status"]) for f in files] == [("step0.txt", "added")]


def test_a_long_prompt_reaches_claude_through_stdin(project: Path, tmp_path: Path, isolated_env: Path):
    requirement = "Keep this requirement word for word: " + "x" * 120_000 + " END-OF-REQUIREMENT"
    spec = tmp_path / "spec.md"
    spec.write_text(
        "# Spec: 007 -- Long one\n\nSource: manual\nBase: main@0000000\n\n## Context\nBig.\n\n"
        "## Tasks\n\n### Task 1: Write hello\n\nFiles:\n- CREATE hello.txt\n\n"
        f"Requirements:\n- {requirement}\n\nVerification:\n- `true`\n"
    )
    turns = [write_file("hello.txt", "long\n"), [text("Done.")]]
    with ScriptedAnthropic(turns) as server:
        write_config(isolated_env, server)
        result, _, summary, seconds = run_claude(project, spec)

    assert result.returncode == 0, result.stderr
    assert summary["status"] == "review"
    assert seconds < 30
    prompt = server.turn_requests[0].all_text()
    assert "# Spec: 007 -- Long one" in prompt and requirement in prompt
    assert git(project, "show", f"{summary['branch']}:hello.txt") == "long"


def test_claude_implements_may_run_bash_inside_the_sandbox(project: Path, plan: Path, isolated_env: Path, sandboxed: str):
    """In the sandbox "Claude implements" gets Bash (`--allowedTools Bash`): it can run its own
    tests; the command runs confined (a write to HOME is refused, the worktree write lands)."""
    from hybrid_tui.agents.sandbox import probe

    if not probe().on and sandboxed != "required":
        pytest.skip(probe().reason)
    canary = isolated_env / "canary"
    command = f"echo from-bash > bash.txt; (echo pwned > {canary}) 2>/dev/null; echo home=$? >> bash.txt"

    def bash(request: RecordedRequest):
        return [tool_use("Bash", {"command": command, "description": "write a file"})]

    with ScriptedAnthropic([bash, [text("Ran it.")]]) as server:
        write_config(isolated_env, server)
        result, events, summary, _ = run_claude(project, plan, approve_checks=False)  # its check wants hello.txt
    assert result.returncode == 0, result.stderr
    assert summary["sandbox"] is not None
    (bash_result,) = [e for e in events if e["kind"] == "tool_result"]
    assert bash_result["is_error"] is False, bash_result
    written = git(project, "show", f"{summary['branch']}:bash.txt").splitlines()
    assert written[0] == "from-bash" and written[1] != "home=0"
    assert not canary.exists()
