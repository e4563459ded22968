"""Pull request (issue 6, point 8): offered only with a remote and `gh`; the push against a real
bare remote; the `gh pr create` argv as a pure function.

`gh` itself is never run here: it is not an agent CLI, so it gets no stand-in. Availability
looks `gh` up on PATH, so one test puts an executable file named `gh` on a PATH of its own (it
is looked up, never executed) and the others use a PATH without one.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from hybrid_tui.core.errors import ActionFailed
from hybrid_tui.core.land.accept import reject_run
from hybrid_tui.core.review.pull_request import (
    find_remote,
    gh_create_argv,
    open_pull_request,
    pr_available,
    push_argv,
    push_branch,
)
from hybrid_tui.core.runs import RunStore, Status
from tests.support.cli import run_cli
from tests.support.repos import git
from tests.support.runs import run_spec, spec_file

NO_GH = "/usr/bin:/bin"  # git is here, gh is not


@pytest.fixture
def store(state_dir: Path) -> RunStore:
    return RunStore(state_dir)


@pytest.fixture
def run_id(repo: Path, tmp_path: Path) -> str:
    spec = spec_file(tmp_path, ["CREATE hello.txt"], ["test -f hello.txt"], title="Add a greeting")
    _, _, summary = run_spec(repo, spec)
    assert summary["status"] == "review"
    return summary["run_id"]


@pytest.fixture
def gh_path(tmp_path: Path) -> str:
    """A PATH holding an executable named `gh` (looked up only, never run) and git."""
    folder = tmp_path / "gh-bin"
    folder.mkdir()
    gh = folder / "gh"
    gh.write_text("#!/bin/sh\necho 'this gh is only looked up, never run' >&2\nexit 127\n")
    gh.chmod(gh.stat().st_mode | stat.S_IXUSR)
    return f"{folder}{os.pathsep}{NO_GH}"


def bare_remote(repo: Path, tmp_path: Path, name: str = "origin") -> Path:
    remote = tmp_path / f"{name}.git"
    git(tmp_path, "init", "-q", "--bare", str(remote))
    git(repo, "remote", "add", name, f"file://{remote}")
    return remote


def test_not_offered_without_a_remote_or_without_gh(store: RunStore, repo: Path, run_id: str, tmp_path: Path, gh_path: str):
    run = store.load(run_id)
    ok, reason = pr_available(run, path=gh_path)
    assert not ok and reason == "the repository project has no git remote to push to"
    bare_remote(repo, tmp_path)
    ok, reason = pr_available(run, path=NO_GH)
    assert not ok and reason.startswith("gh (the GitHub CLI) is not installed") and "cli.github.com" in reason
    ok, reason = pr_available(run, path=gh_path)
    assert ok and reason == f"push {run.branch} to origin and open a pull request into main with gh"


def test_not_offered_for_a_run_at_work_or_landed(store: RunStore, repo: Path, run_id: str, tmp_path: Path, gh_path: str):
    bare_remote(repo, tmp_path)
    run = store.load(run_id)
    run.status = Status.RUNNING
    assert pr_available(run, path=gh_path) == (False, f"run {run_id} is still running")
    rejected = reject_run(store, store.load(run_id))
    assert pr_available(rejected, path=gh_path) == (False, f"run {run_id} was already rejected")


def test_the_remote_is_the_base_upstream_else_origin_else_the_first(store: RunStore, repo: Path, run_id: str, tmp_path: Path):
    run = store.load(run_id)
    assert find_remote(run) is None
    bare_remote(repo, tmp_path, "backup")
    assert find_remote(run) == "backup"
    bare_remote(repo, tmp_path, "origin")
    assert find_remote(run) == "origin"
    bare_remote(repo, tmp_path, "upstream")
    git(repo, "config", "branch.main.remote", "upstream")
    assert find_remote(run) == "upstream"


def test_the_branch_is_pushed_to_a_real_bare_remote(store: RunStore, repo: Path, run_id: str, tmp_path: Path):
    remote = bare_remote(repo, tmp_path)
    run = store.load(run_id)
    assert push_argv(run, "origin") == ["git", "push", "-u", "origin", run.branch]
    push_branch(run, "origin")
    assert git(remote, "rev-parse", f"refs/heads/{run.branch}") == git(repo, "rev-parse", run.branch)
    assert git(remote, "show", f"{run.branch}:hello.txt") == "hello from fake model"
    assert git(repo, "config", f"branch.{run.branch}.remote") == "origin"  # -u: the upstream is set


def test_a_refused_push_says_what_git_said(store: RunStore, repo: Path, run_id: str, tmp_path: Path):
    git(repo, "remote", "add", "origin", str(tmp_path / "nowhere.git"))
    run = store.load(run_id)
    with pytest.raises(ActionFailed, match=f"git could not push {run.branch} to origin: .*") as err:
        push_branch(run, "origin")
    assert "nowhere.git" in str(err.value)


def test_gh_create_argv_uses_the_branch_base_title_and_spec():
    from hybrid_tui.core.runs import Run

    run = Run(id="r1", title="Add a greeting: the \"hello\" file", repo_root="/repo", spec_path="/state/runs/r1/spec.md",
              branch="kimi/r1-add-a-greeting", base_branch="develop", base_sha="0" * 40, worktree="/wt", created_at="t")
    assert gh_create_argv(run, "origin") == [
        "gh", "pr", "create", "--head", "kimi/r1-add-a-greeting", "--base", "develop",
        "--title", 'Add a greeting: the "hello" file', "--body-file", "/state/runs/r1/spec.md",
    ]  # fmt: skip


def test_open_pull_request_without_gh_pushes_nothing(store: RunStore, repo: Path, run_id: str, tmp_path: Path):
    remote = bare_remote(repo, tmp_path)
    run = store.load(run_id)
    with pytest.raises(ActionFailed, match="No pull request for run .*: gh \\(the GitHub CLI\\) is not installed"):
        open_pull_request(store, run, path=NO_GH)
    assert git(remote, "for-each-ref") == ""
    assert store.load(run_id).pr_url is None


def test_cli_pr_dry_run_and_refusal(repo: Path, run_id: str, tmp_path: Path, state_dir: Path):
    env = {"PATH": NO_GH}
    result = run_cli("pr", run_id, "--dry-run", "--json", cwd=repo, env=env)
    assert result.returncode == 1
    data = json.loads(result.stdout)
    assert data == {"run_id": run_id, "available": False, "reason": "the repository project has no git remote to push to",
                    "remote": None, "commands": []}
    bare_remote(repo, tmp_path)
    branch = json.loads((state_dir / "runs" / run_id / "run.json").read_text())["branch"]
    result = run_cli("pr", run_id, "--dry-run", cwd=repo, env=env)
    assert result.returncode == 1 and "no pull request: gh (the GitHub CLI) is not installed" in result.stdout
    assert f"  git push -u origin {branch}" in result.stdout
    assert f"  gh pr create --head {branch} --base main --title 'Add a greeting' --body-file " in result.stdout
    refused = run_cli("pr", run_id, cwd=repo, env=env)
    assert refused.returncode == 1 and "gh (the GitHub CLI) is not installed" in refused.stderr
