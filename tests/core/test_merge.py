"""Merging without surprises (issue 6): preflight findings in plain words with the exact fix,
rebase of the run's branch (and its undo), merge strategies, and refusals that change nothing.

Real repositories; the runs are made by the real CLI with the stand-in kimi.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from hybrid_tui.core import git as core_git
from hybrid_tui.core.errors import ActionFailed
from hybrid_tui.core.land.merge import preflight
from hybrid_tui.core.runs import Run, RunStore
from tests.support.cli import checkout_fingerprint, has_merge_head, run_cli
from tests.support.repos import git, make_repo
from tests.support.runs import agent_stream, run_spec, spec_file


def commit_on_main(repo: Path, name: str, text: str) -> str:
    (repo / name).write_text(text)
    git(repo, "add", name)
    git(repo, "commit", "-q", "-m", f"main: {name}")
    return git(repo, "rev-parse", "HEAD")


@pytest.fixture
def made(tmp_path: Path) -> tuple[Path, Run, RunStore]:
    """A run under review whose agent changed app.txt and wrote hello.txt."""
    repo = make_repo(tmp_path / "project", {"app.txt": "one\n", "other.txt": "other\n"})
    stream = agent_stream(tmp_path, "work", [
        ("WriteFile", {"path": "app.txt", "content": "one, by the agent\n"}),
        ("WriteFile", {"path": "hello.txt", "content": "hello\n"}),
    ])
    result, _, summary = run_spec(repo, spec_file(tmp_path, ["MODIFY app.txt", "CREATE hello.txt"], []), stream)
    assert result.returncode == 0, result.stderr
    store = RunStore(Path(os.environ["HYBRID_TUI_STATE_DIR"]))
    return repo, store.load(summary["run_id"]), store


def dry_run(repo: Path, run: Run, *extra: str) -> tuple[int, dict]:
    result = run_cli("accept", run.id, "--dry-run", "--json", *extra, cwd=repo)
    return result.returncode, json.loads(result.stdout)


def test_nothing_in_the_way_means_no_findings(made):
    repo, run, _ = made
    assert preflight(run) == []
    assert dry_run(repo, run) == (0, {"run_id": run.id, "strategy": "merge", "ok": True, "findings": []})


def test_base_moved_ahead_is_explained_then_rebased_and_undone(made):
    repo, run, store = made
    new_main = commit_on_main(repo, "other.txt", "other, on main\n")
    old_tip = git(repo, "rev-parse", run.branch)
    before = checkout_fingerprint(repo)

    code, report = dry_run(repo, run)
    (finding,) = report["findings"]
    assert code == 0 and report["ok"] and finding["kind"] == "base_moved" and not finding["blocking"]
    assert finding["problem"] == (f"main moved ahead by 1 commit(s) since the run started "
                                  f"(from {run.base_sha[:7]} to {new_main[:7]}).")
    assert f"`hybrid-tui rebase {run.id}`" in finding["fix"] and f"`hybrid-tui rebase {run.id} --undo`" in finding["fix"]

    result = run_cli("rebase", run.id, "--json", cwd=repo)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    new_tip = git(repo, "rev-parse", run.branch)
    assert data["changed"] and data["base_sha"] == new_main and data["head_sha"] == new_tip
    assert git(repo, "rev-parse", f"{new_tip}~1") == new_main  # on top of the new main
    assert git(repo, "rev-parse", f"refs/hybrid-tui/pre-rebase/{run.id}") == old_tip
    assert git(repo, "log", "-1", "--format=%an", new_tip) == "Kimi (hybrid-tui)"  # author kept
    diff = json.loads(run_cli("diff", run.id, "--json", cwd=repo).stdout)
    assert sorted(f["path"] for f in diff["files"]) == ["app.txt", "hello.txt"]  # only the run's changes
    assert dry_run(repo, run)[1]["findings"] == []
    assert checkout_fingerprint(repo) == before  # all of it happened in the run's worktree

    again = run_cli("rebase", run.id, cwd=repo)
    assert again.returncode == 0 and "already on top of main" in again.stdout

    undo = run_cli("rebase", run.id, "--undo", cwd=repo)
    assert undo.returncode == 0, undo.stderr
    assert git(repo, "rev-parse", run.branch) == old_tip
    stored = store.load(run.id)
    assert (stored.base_sha, stored.head_sha, stored.rebase) == (run.base_sha, old_tip, None)
    assert core_git.ref_sha(repo, f"refs/hybrid-tui/pre-rebase/{run.id}") is None
    assert git(Path(run.worktree), "status", "--porcelain") == ""
    assert checkout_fingerprint(repo) == before


def test_a_rebase_conflict_is_aborted_and_changes_nothing(made):
    repo, run, store = made
    commit_on_main(repo, "app.txt", "one, changed on main\n")
    tip = git(repo, "rev-parse", run.branch)
    before = checkout_fingerprint(repo)

    code, report = dry_run(repo, run, "--strategy", "rebase")
    assert code == 1 and [f["kind"] for f in report["findings"]] == ["conflict", "base_moved"]
    assert "in app.txt" in report["findings"][0]["problem"]

    result = run_cli("rebase", run.id, cwd=repo)
    assert result.returncode == 1 and "conflict in app.txt" in result.stderr
    assert "The rebase was aborted; the branch is as it was." in result.stderr
    worktree = Path(run.worktree)
    assert git(repo, "rev-parse", run.branch) == tip
    assert git(worktree, "status", "--porcelain") == "" and git(worktree, "symbolic-ref", "--short", "HEAD") == run.branch
    assert not (Path(git(worktree, "rev-parse", "--absolute-git-dir")) / "rebase-merge").exists()
    assert core_git.ref_sha(repo, f"refs/hybrid-tui/pre-rebase/{run.id}") is None
    assert store.load(run.id).rebase is None
    assert checkout_fingerprint(repo) == before


def test_base_checked_out_in_another_worktree_names_it(made, tmp_path: Path):
    repo, run, _ = made
    git(repo, "switch", "-q", "-c", "feature")
    other = tmp_path / "other checkout"
    git(repo, "worktree", "add", "-q", str(other), "main")
    before, before_other = checkout_fingerprint(repo), checkout_fingerprint(other)

    code, report = dry_run(repo, run)
    (finding,) = report["findings"]
    assert code == 1 and finding["kind"] == "base_elsewhere" and str(other) in finding["problem"]
    assert f"`git -C {other} switch --detach`" in finding["fix"] and f"`git -C {repo} switch main`" in finding["fix"]
    result = run_cli("accept", run.id, cwd=repo)
    assert result.returncode == 1 and f"main is checked out in another worktree, {other}" in result.stderr
    assert checkout_fingerprint(repo) == before and checkout_fingerprint(other) == before_other
    assert not has_merge_head(repo) and git(repo, "rev-parse", "--verify", run.branch)


def test_local_changes_overlapping_the_branch_block_every_strategy(made):
    repo, run, _ = made
    (repo / "hello.txt").write_text("mine, untracked\n")
    (repo / "other.txt").write_text("unrelated edit\n")  # does not overlap: not named
    before = checkout_fingerprint(repo)
    for strategy in ("merge", "squash", "rebase"):
        code, report = dry_run(repo, run, "--strategy", strategy)
        (finding,) = report["findings"]
        assert code == 1 and finding["kind"] == "local_overlap"
        assert finding["problem"].endswith("touch files the run changed: hello.txt")
        result = run_cli("accept", run.id, "--strategy", strategy, cwd=repo)
        assert result.returncode == 1 and "git stash -u" in result.stderr
    assert checkout_fingerprint(repo) == before and not has_merge_head(repo)


def test_a_merge_that_conflicts_anyway_is_aborted_and_the_checkout_is_as_before(made):
    # accept_run predicts conflicts and refuses first; this pins the last line of defence.
    repo, run, _ = made
    commit_on_main(repo, "app.txt", "one, changed on main\n")
    (repo / "other.txt").write_text("unrelated local edit\n")
    before = checkout_fingerprint(repo)
    with pytest.raises(ActionFailed, match="The merge was aborted; nothing changed"):
        core_git.merge_branch(repo, branch=run.branch, base_branch="main", message="m")
    assert checkout_fingerprint(repo) == before
    assert not has_merge_head(repo)
    assert "<<<<<<<" not in (repo / "app.txt").read_text()


def test_merge_strategy_after_the_base_moved_makes_a_merge_commit(made):
    repo, run, _ = made
    new_main = commit_on_main(repo, "other.txt", "other, on main\n")
    tip = git(repo, "rev-parse", run.branch)
    result = run_cli("accept", run.id, "--json", cwd=repo)
    assert result.returncode == 0, result.stderr
    assert git(repo, "rev-parse", "HEAD^1") == new_main and git(repo, "rev-parse", "HEAD^2") == tip
    assert json.loads(result.stdout)["strategy"] == "merge"


def test_rebase_strategy_fast_forwards_onto_a_linear_history(made, state_dir: Path):
    repo, run, _ = made
    new_main = commit_on_main(repo, "other.txt", "other, on main\n")
    result = run_cli("accept", run.id, "--strategy", "rebase", "--json", cwd=repo)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["merge_sha"] == git(repo, "rev-parse", "HEAD") and data["strategy"] == "rebase"
    assert git(repo, "rev-list", "--merges", "--count", "HEAD") == "0"
    assert git(repo, "rev-parse", "HEAD~1") == new_main
    assert (repo / "hello.txt").read_text() == "hello\n" and (repo / "other.txt").read_text() == "other, on main\n"
    assert git(repo, "branch", "--list", run.branch) == ""
    assert git(repo, "for-each-ref", "refs/hybrid-tui/pre-rebase/") == ""
    assert not (state_dir / "worktrees" / run.id).exists()
    assert git(repo, "status", "--porcelain") == ""


def test_the_configured_strategy_is_the_default(made):
    repo, run, _ = made
    Path(os.environ["HYBRID_TUI_CONFIG"]).write_text('[merge]\nstrategy = "squash"\n')
    old_main = git(repo, "rev-parse", "main")
    result = run_cli("accept", run.id, cwd=repo)
    assert result.returncode == 0, result.stderr
    assert "squashed onto main" in result.stdout
    assert git(repo, "rev-parse", "HEAD^@") == old_main


def test_contradictory_flags_are_bad_input(made):
    repo, run, _ = made
    before = checkout_fingerprint(repo)
    for flags in (["--squash", "--strategy", "merge"], ["--only", "app.txt", "--squash"]):
        result = run_cli("accept", run.id, *flags, cwd=repo)
        assert result.returncode == 2, flags
    assert checkout_fingerprint(repo) == before
