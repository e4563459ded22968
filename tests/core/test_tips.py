"""Every tip a run's branch ever had is kept (issue 10, scope point 3; core/run/tips.py): an agent's
`git reset --hard HEAD~1` over its own commit, or a commit on a detached HEAD it left, is still
reachable after a reject, even after `git gc --prune=now`. Real repositories, the stand-in kimi
running the agent's git for real in its worktree."""

from __future__ import annotations

import os
from pathlib import Path

from hybrid_tui.core.run import tips
from hybrid_tui.core.runs import RunStore
from tests.support.cli import run_cli
from tests.support.repos import git, make_repo
from tests.support.runs import agent_stream, run_stream


def store() -> RunStore:
    return RunStore(Path(os.environ["HYBRID_TUI_STATE_DIR"]))


def dropped_commits_run(tmp_path: Path) -> tuple[Path, dict, str, str]:
    """A run whose agent committed and reset that commit away, then made a detached commit and
    went back to its branch: (repo, summary, the reset commit, the detached commit)."""
    repo = make_repo(tmp_path / "project", {"app.txt": "base\n"})
    shas = tmp_path / "shas"
    stream = agent_stream(tmp_path, "drop", [
        ("WriteFile", {"path": "first.txt", "content": "first try\n"}),
        ("Shell", {"command": f"git add -A && git commit -q -m 'first try' && git rev-parse HEAD > {shas}.reset && git reset -q --hard HEAD~1"}),
        ("Shell", {"command": f"git checkout -q --detach && echo d > d.txt && git add d.txt && git commit -q -m detached && git rev-parse HEAD > {shas}.detached && git checkout -q -"}),
        ("WriteFile", {"path": "hello.txt", "content": "hi\n"}),
    ])  # fmt: skip
    result, _, summary = run_stream(repo, tmp_path, stream)
    assert result.returncode == 0, result.stderr
    reset, detached = (Path(f"{shas}.{n}").read_text().strip() for n in ("reset", "detached"))
    return repo, summary, reset, detached


def test_commits_the_agent_dropped_stay_reachable_after_a_reject(tmp_path: Path):
    repo, summary, reset, detached = dropped_commits_run(tmp_path)
    run_id = summary["run_id"]
    assert git(repo, "show", f"{summary['branch']}:hello.txt") == "hi"
    assert run_cli("reject", run_id, cwd=repo).returncode == 0
    # The branch, its reflog and the worktree's HEAD reflog are gone; gc prunes the unreachable.
    git(repo, "reflog", "expire", "--expire=now", "--all")
    git(repo, "gc", "-q", "--prune=now")
    for sha in (reset, detached):
        holders = git(repo, "for-each-ref", "--contains", sha, "--format=%(refname)", f"refs/hybrid-tui/tips/{run_id}/")
        assert holders, sha
    assert git(repo, "show", f"{reset}:first.txt") == "first try"
    assert git(repo, "show", f"{detached}:d.txt") == "d"
    kept = tips.kept(repo, run_id)
    assert sorted(kept) == [f"refs/hybrid-tui/tips/{run_id}/{n}" for n in range(1, len(kept) + 1)]
    assert git(repo, "rev-parse", f"refs/hybrid-tui/rejected/{run_id}") in kept.values()


def test_keep_is_idempotent_and_an_accept_drops_the_tips(tmp_path: Path):
    repo, summary, _, _ = dropped_commits_run(tmp_path)
    run = store().load(summary["run_id"])
    before = tips.kept(repo, run.id)
    assert len(before) == 3  # the branch tip, the reset commit, the detached commit
    assert tips.keep(run) == [] and tips.kept(repo, run.id) == before
    assert run_cli("accept", run.id, cwd=repo).returncode == 0
    assert tips.kept(repo, run.id) == {}
