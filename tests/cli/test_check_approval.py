"""Checks the user approved (issue 10, point 2): a verification command from a plan or a spec runs
only once the user has seen it. The CLI's `run` and `revise` print the exact commands (risky ones
marked) and run them only with `--approve-checks` or `[review] approve_checks = true`; `verify`
refuses without it; "Claude implements" runs get the plan's own commands, with the same approval.

Real repositories, the real CLI as a process, the stand-in agents; the hostile plan's
`find ~ -delete` is real too, aimed at this test's own HOME.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from hybrid_tui.core.errors import ActionFailed
from hybrid_tui.core.runs import RunStore
from hybrid_tui.core.verify import RunChecks
from tests.support.cli import checkout_fingerprint, run_cli, standin_env
from tests.support.repos import AGENT_STREAMS
from tests.support.runs import record, spec_file

HOSTILE_PLAN = """\
# Add a greeting

## Context
The app should greet.

## Steps
1. Create `hello.txt` with a greeting.

## Verification
```bash
find ~ -delete
```
"""


def home_canary(home: Path) -> Path:
    canary = home / "precious" / "thesis.tex"
    canary.parent.mkdir(parents=True, exist_ok=True)
    canary.write_text("years of work\n")
    return canary


def json_lines(stdout: str) -> list[dict]:
    return [json.loads(line) for line in stdout.splitlines()]


def test_a_plan_with_find_home_delete_deletes_nothing_without_approval(
    repo: Path, tmp_path: Path, isolated_env: Path, state_dir: Path
):
    canary = home_canary(isolated_env)
    plan = tmp_path / "greet.md"
    plan.write_text(HOSTILE_PLAN)
    before = checkout_fingerprint(repo)

    result = run_cli("run", str(plan), cwd=repo, env=standin_env("kimi_success"))

    assert result.returncode == 0, result.stdout + result.stderr  # the agent finished: exit 0
    out = result.stdout
    # The exact command was shown before the agent started, with what is risky in it.
    assert "checks after the agent (not approved, so they will be skipped (add --approve-checks to run them)):" in out
    assert "  $ find ~ -delete\n    ! this check deletes files recursively\n" in out
    assert "    ! this check reaches your home directory (~ or $HOME)\n" in out
    assert out.index("$ find ~ -delete") < out.index(": review,")
    run_id = out.split()[1].rstrip(":")
    assert f"checks skipped (not approved): hybrid-tui verify {run_id} --approve-checks runs them" in out
    assert "you did not approve them" in out
    assert canary.read_text() == "years of work\n"
    saved = record(state_dir, run_id)
    assert (saved["status"], saved["checks"], saved["checks_skipped"]) == ("review", None, "not approved")
    assert checkout_fingerprint(repo) == before


def test_json_says_which_checks_and_whether_approved(repo: Path, tmp_path: Path, isolated_env: Path):
    spec = spec_file(tmp_path, ["CREATE hello.txt"], ["test -f hello.txt", "rm -rf ~/cache"])
    result = run_cli("run", str(spec), "--json", cwd=repo, env=standin_env("kimi_success"))
    lines = json_lines(result.stdout)
    (checks,) = [line for line in lines if line["type"] == "checks"]
    assert checks["commands"] == ["test -f hello.txt", "rm -rf ~/cache"]
    assert checks["risks"] == [[], ["deletes files recursively", "reaches your home directory (~ or $HOME)"]]
    assert checks["approved"] is False
    assert lines.index(checks) < min(i for i, line in enumerate(lines) if line["type"] == "event")
    summary = lines[-1]
    assert (summary["status"], summary["checks"], summary["checks_skipped"]) == ("review", None, "not approved")
    assert result.returncode == 0


def test_approved_checks_run_and_verify_needs_the_approval_too(
    repo: Path, tmp_path: Path, isolated_env: Path, state_dir: Path
):
    marker = isolated_env / "ran.log"
    spec = spec_file(tmp_path, ["CREATE hello.txt"], ["test -f hello.txt", f"echo ran >> {marker}"])
    approved = json_lines(
        run_cli("run", str(spec), "--json", "--approve-checks", cwd=repo, env=standin_env("kimi_success")).stdout
    )
    assert [c["ok"] for c in approved[-1]["checks"]] == [True, True]
    assert approved[-1]["checks_skipped"] is None and marker.read_text() == "ran\n"

    skipped = json_lines(run_cli("run", str(spec), "--json", cwd=repo, env=standin_env("kimi_success")).stdout)[-1]
    run_id = skipped["run_id"]
    # verify without the approval: the commands are printed, nothing runs, exit 2.
    refused = run_cli("verify", run_id, cwd=repo, env=standin_env("kimi_success"))
    assert refused.returncode == 2
    assert f"  $ echo ran >> {marker}\n" in refused.stdout
    assert "    ! this check uses absolute paths outside the worktree" in refused.stdout
    assert "a check runs only once you approve it" in refused.stderr
    assert f"hybrid-tui verify {run_id} --approve-checks" in refused.stderr
    assert marker.read_text() == "ran\n" and record(state_dir, run_id)["checks"] is None
    # With it they run, and the record no longer says skipped.
    ran = run_cli("verify", run_id, "--approve-checks", cwd=repo, env=standin_env("kimi_success"))
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert "2 of 2 check(s) passed" in ran.stdout and marker.read_text() == "ran\nran\n"
    saved = record(state_dir, run_id)
    assert [c["ok"] for c in saved["checks"]] == [True, True] and saved["checks_skipped"] is None


def test_the_config_setting_approves_them(repo: Path, tmp_path: Path, isolated_env: Path):
    (isolated_env / "config.toml").write_text("[review]\napprove_checks = true\n")
    spec = spec_file(tmp_path, ["CREATE hello.txt"], ["test -f hello.txt"])
    result = run_cli("run", str(spec), cwd=repo, env=standin_env("kimi_success"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "checks after the agent (approved):\n  $ test -f hello.txt\n" in result.stdout
    assert "✓ test -f hello.txt" in result.stdout


def test_claude_implements_gets_the_plans_own_checks(repo: Path, tmp_path: Path, isolated_env: Path):
    marker = isolated_env / "claude-checks.log"
    plan = tmp_path / "greet.md"
    plan.write_text(HOSTILE_PLAN.replace("find ~ -delete", f"test -f hello_claude.txt && echo ok >> {marker}"))
    env = standin_env("kimi_success", CLAUDE_STANDIN_FIXTURE=str(AGENT_STREAMS / "claude_success.jsonl"))

    skipped = json_lines(run_cli("run", str(plan), "--agent", "claude", "--json", cwd=repo, env=env).stdout)
    (checks,) = [line for line in skipped if line["type"] == "checks"]
    assert checks["commands"] == [f"test -f hello_claude.txt && echo ok >> {marker}"] and not checks["approved"]
    assert (skipped[-1]["prompt_source"], skipped[-1]["checks"], skipped[-1]["checks_skipped"]) == ("plan", None, "not approved")
    assert not marker.exists()

    approved = json_lines(
        run_cli("run", str(plan), "--agent", "claude", "--json", "--approve-checks", cwd=repo, env=env).stdout
    )[-1]
    assert [(c["command"], c["ok"]) for c in approved["checks"]] == [(checks["commands"][0], True)]
    assert marker.read_text() == "ok\n"


def test_checks_that_changed_since_the_approval_do_not_run(
    repo: Path, tmp_path: Path, isolated_env: Path, state_dir: Path
):
    marker = isolated_env / "ran.log"
    spec = spec_file(tmp_path, ["CREATE hello.txt"], [f"echo ran >> {marker}"])
    summary = json_lines(run_cli("run", str(spec), "--json", cwd=repo, env=standin_env("kimi_success")).stdout)[-1]
    store = RunStore(state_dir)
    run = store.load(summary["run_id"])
    with pytest.raises(ActionFailed, match="not the ones you approved"):
        asyncio.run(RunChecks(store, run, timeout=30, on_events=lambda e: None, approved=["pytest -q"]).start())
    assert not marker.exists() and store.load(run.id).checks is None
