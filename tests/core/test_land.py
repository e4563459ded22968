"""Accept and reject (DESIGN.md invariants 2 and 3) on real repositories, through the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.cli import checkout_fingerprint, has_merge_head, run_cli, standin_env
from tests.support.repos import git

PLAN = "# Say hello\n\n## Changes\n\n### 1. `hello.txt`\nCreate it.\n\n## Verification\n- `cat hello.txt`\n"


@pytest.fixture
def run(repo: Path, tmp_path: Path) -> dict:
    """A finished run of the stand-in: hello.txt created on the run's branch."""
    plan = tmp_path / "plan.md"
    plan.write_text(PLAN)
    result = run_cli("run", str(plan), "--json", "--approve-checks", cwd=repo, env=standin_env("kimi_success"))
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.splitlines()[-1])


def test_accept_merges_into_the_base_branch_and_cleans_up(repo: Path, run: dict, state_dir: Path):
    tip = git(repo, "rev-parse", run["branch"])
    result = run_cli("accept", run["run_id"], cwd=repo.parent)  # by id, from another directory
    assert result.returncode == 0, result.stderr
    assert (repo / "hello.txt").read_text() == "hello from fake model\n"
    assert git(repo, "rev-parse", "HEAD^2") == tip  # a real merge commit (--no-ff)
    assert git(repo, "status", "--porcelain") == ""
    assert not (state_dir / "worktrees" / run["run_id"]).exists()
    assert git(repo, "branch", "--list", run["branch"]) == ""
    listed = json.loads(run_cli("runs", "--json", cwd=repo).stdout)
    assert listed[0]["status"] == "accepted" and listed[0]["merge_sha"] == git(repo, "rev-parse", "HEAD")


def test_accept_keeps_unrelated_local_changes(repo: Path, run: dict):
    (repo / "README.md").write_text("# local edit\n")
    result = run_cli("accept", run["run_id"], cwd=repo)
    assert result.returncode == 0, result.stderr
    assert (repo / "README.md").read_text() == "# local edit\n"
    assert (repo / "hello.txt").exists()


def assert_refused(repo: Path, run: dict, expected: str) -> None:
    before = checkout_fingerprint(repo)
    tip = git(repo, "rev-parse", run["branch"])
    result = run_cli("accept", run["run_id"], cwd=repo)
    assert result.returncode == 1
    assert expected in result.stderr and "Traceback" not in result.stderr
    assert checkout_fingerprint(repo) == before  # byte-identical: status, HEAD, every file
    assert not has_merge_head(repo)
    assert git(repo, "rev-parse", run["branch"]) == tip  # the branch is kept


def test_accept_refuses_when_the_base_branch_is_not_checked_out(repo: Path, run: dict):
    git(repo, "switch", "-q", "-c", "elsewhere")
    assert_refused(repo, run, "git switch main")


def test_accept_refuses_local_changes_that_overlap_the_branch(repo: Path, run: dict):
    (repo / "hello.txt").write_text("mine, not committed\n")
    assert_refused(repo, run, "hello.txt")


def test_accept_refuses_a_conflicting_merge_and_leaves_the_checkout_as_it_was(repo: Path, run: dict):
    # The conflict is found by `git merge-tree` before git touches the checkout; the abort of a
    # merge that conflicts anyway is pinned in test_merge.py.
    (repo / "hello.txt").write_text("a different hello\n")
    git(repo, "add", "hello.txt")
    git(repo, "commit", "-q", "-m", "hello of my own")
    assert_refused(repo, run, "conflict with what main got since the run started, in hello.txt")
    assert (repo / "hello.txt").read_text() == "a different hello\n"  # no conflict markers


def test_reject_keeps_the_tip_under_a_ref_and_is_idempotent(repo: Path, run: dict, state_dir: Path):
    before = checkout_fingerprint(repo)
    tip = git(repo, "rev-parse", run["branch"])
    result = run_cli("reject", run["run_id"], cwd=repo)
    assert result.returncode == 0, result.stderr
    assert git(repo, "rev-parse", f"refs/hybrid-tui/rejected/{run['run_id']}") == tip
    assert git(repo, "branch", "--list", run["branch"]) == ""
    assert not (state_dir / "worktrees" / run["run_id"]).exists()
    assert checkout_fingerprint(repo) == before
    again = run_cli("reject", run["run_id"], cwd=repo)
    assert again.returncode == 0
    assert git(repo, "rev-parse", f"refs/hybrid-tui/rejected/{run['run_id']}") == tip


def test_diff_lists_files_with_counts_and_the_unified_diff(repo: Path, run: dict):
    result = run_cli("diff", run["run_id"], "--json", cwd=repo)
    data = json.loads(result.stdout)
    assert data["files"] == [
        {"path": "hello.txt", "old_path": None, "status": "added", "added": 1, "removed": 0, "binary": False,
         "out_of_scope": False}
    ]
    assert data["checks"] == [
        {"command": "cat hello.txt", "exit_code": 0, "ok": True, "seconds": data["checks"][0]["seconds"],
         "timed_out": False}
    ]
    assert (data["out_of_scope"], data["untouched"]) == ([], [])
    assert "+hello from fake model" in data["diff"]


def test_accepting_a_rejected_run_is_refused(repo: Path, run: dict):
    run_cli("reject", run["run_id"], cwd=repo)
    result = run_cli("accept", run["run_id"], cwd=repo)
    assert result.returncode == 1 and "already rejected" in result.stderr


def test_reject_also_removes_the_prompt_folder_beside_the_worktree(repo: Path, run: dict, state_dir: Path):
    """The Kimi Code CLI's long prompt is written to `<worktree>.prompt/`; cleanup takes it too."""
    prompt_dir = state_dir / "worktrees" / f"{run['run_id']}.prompt"
    prompt_dir.mkdir()
    (prompt_dir / "prompt.md").write_text("long prompt\n")
    assert run_cli("reject", run["run_id"], cwd=repo).returncode == 0
    assert not prompt_dir.exists()
