"""A `kill -9` of hybrid-tui during a rebase (issue 10, scope 5): cut short after git stopped on a
conflict, or after git finished but before hybrid-tui wrote it down, the run is left in a state
that `accept`, `reject` and `rebase --undo` handle.

The moment is hit exactly, with real git and a real SIGKILL: the repository has a merge driver
(`merge.hold.driver`, an ordinary git feature) that git runs while it replays the run's commit.
Armed for one `hybrid-tui rebase` process, it stops that process (SIGSTOP), then lets git go on:
git stops on the conflict (or, resolving, finishes the rebase) and exits, and only then does the
test kill the stopped hybrid-tui, which never got to see git's answer.
"""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from hybrid_tui.core.land.merge import undo_rebase
from hybrid_tui.core.runs import Run, RunStore, Status
from tests.support.cli import checkout_fingerprint, run_cli
from tests.support.repos import git, make_repo
from tests.support.runs import agent_stream, run_spec, spec_file

DRIVER = """\
import os, signal, sys
from pathlib import Path

def parent(pid):
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])

mode = os.environ.get("HOLD_MODE")
if not mode:
    sys.exit(1)  # not armed: a conflict, as git's own merge would say
chain = [os.getpid()]
while parent(chain[-1]) != int(os.environ["HOLD_TEST_PID"]):
    if parent(chain[-1]) <= 1:
        sys.exit(1)
    chain.append(parent(chain[-1]))
hybrid_tui, rebasing_git = chain[-1], chain[-2]  # the test's child, and the git it started
os.kill(hybrid_tui, signal.SIGSTOP)
if mode == "resolve":
    Path(sys.argv[1]).write_text("one, merged\\n")
with open(os.environ["HOLD_FIFO"], "w") as fifo:
    fifo.write(f"{rebasing_git}\\n")
sys.exit(0 if mode == "resolve" else 1)
"""


def commit_on_main(repo: Path, name: str, text: str) -> str:
    (repo / name).write_text(text)
    git(repo, "commit", "-q", "-am", f"main: {name}")
    return git(repo, "rev-parse", "HEAD")


@pytest.fixture
def rebased(tmp_path: Path, state_dir: Path) -> tuple[Path, RunStore, Run, str]:
    """A run whose agent changed app.txt, rebased once already (main moved in other.txt), then
    main changed app.txt too; the repository's merge driver `hold` is set for app.txt.
    Returns (repo, store, run, the run's tip before any rebase)."""
    repo = make_repo(tmp_path / "project", {"app.txt": "one\n", "other.txt": "other\n"})
    stream = agent_stream(tmp_path, "work", [("WriteFile", {"path": "app.txt", "content": "one, by the agent\n"})])
    result, _, summary = run_spec(repo, spec_file(tmp_path, ["MODIFY app.txt"], []), stream)
    assert result.returncode == 0, result.stderr
    store = RunStore(state_dir)
    run = store.load(summary["run_id"])
    first_tip = git(repo, "rev-parse", run.branch)
    commit_on_main(repo, "other.txt", "other, on main\n")
    assert run_cli("rebase", run.id, cwd=repo).returncode == 0
    commit_on_main(repo, "app.txt", "one, on main\n")
    driver = tmp_path / "hold_driver.py"
    driver.write_text(DRIVER)
    git(repo, "config", "merge.hold.driver", f"{sys.executable} {driver} %A")
    (repo / ".git" / "info").mkdir(exist_ok=True)
    (repo / ".git" / "info" / "attributes").write_text("app.txt merge=hold\n")
    return repo, store, store.load(run.id), first_tip


def kill_rebase_at_gits_answer(repo: Path, run: Run, tmp_path: Path, mode: str) -> None:
    """`hybrid-tui rebase RUN`, SIGKILLed once git has stopped on the conflict (mode
    "conflict") or finished the rebase ("resolve"), before hybrid-tui could read git's answer."""
    fifo = tmp_path / "held"
    os.mkfifo(fifo)
    env = {**os.environ, "HOLD_MODE": mode, "HOLD_TEST_PID": str(os.getpid()), "HOLD_FIFO": str(fifo)}
    proc = subprocess.Popen([sys.executable, "-m", "hybrid_tui", "rebase", run.id], cwd=repo, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        with open(fifo) as held:  # the driver ran: hybrid-tui is stopped, git goes on
            rebasing_git = int(held.readline())
        pidfd = os.pidfd_open(rebasing_git)
        try:
            assert select.select([pidfd], [], [], 60)[0], "git did not end"
        finally:
            os.close(pidfd)
        proc.send_signal(signal.SIGKILL)
        assert proc.wait(timeout=10) == -signal.SIGKILL
    finally:
        proc.kill()
        proc.wait()


def rebase_in_progress(worktree: Path) -> bool:
    return (worktree / git(worktree, "rev-parse", "--git-path", "rebase-merge")).exists()


def assert_worktree_clean_at(run: Run, tip: str) -> None:
    worktree = Path(run.worktree)
    assert not rebase_in_progress(worktree)
    assert git(worktree, "symbolic-ref", "HEAD") == f"refs/heads/{run.branch}"
    assert git(worktree, "rev-parse", "HEAD") == tip
    assert git(worktree, "status", "--porcelain", "--untracked-files=all") == ""


@pytest.mark.parametrize("then", ["accept", "reject", "rebase --undo"])
def test_kill_9_while_the_rebase_stopped_on_a_conflict(rebased, tmp_path: Path, then: str):
    repo, store, run, first_tip = rebased
    earlier = run.rebase  # the first rebase, still undoable
    assert earlier is not None
    tip = git(repo, "rev-parse", run.branch)
    kill_rebase_at_gits_answer(repo, run, tmp_path, "conflict")
    # What the kill left: git's rebase stopped in the worktree, the branch not moved yet, the
    # record saying a rebase was under way.
    assert rebase_in_progress(Path(run.worktree))
    assert git(Path(run.worktree), "diff", "--name-only", "--diff-filter=U") == "app.txt"
    assert store.load(run.id).rebasing is not None and git(repo, "rev-parse", run.branch) == tip
    before = checkout_fingerprint(repo)

    result = run_cli(*then.split(), run.id, cwd=repo)

    assert "Traceback" not in result.stderr
    record = store.load(run.id)
    if then == "accept":  # refused for the conflict it is, nothing in the way of that
        assert result.returncode == 1
        assert "conflict with what main got since the run started, in app.txt" in result.stderr
        assert "worktree" not in result.stderr
        assert record.status == Status.REVIEW
        assert_worktree_clean_at(record, tip)
        assert record.rebase == earlier  # the first rebase can still be undone
        assert git(repo, "rev-parse", f"refs/hybrid-tui/pre-rebase/{run.id}") == earlier.old_tip
    elif then == "reject":
        assert result.returncode == 0, result.stderr
        assert git(repo, "rev-parse", f"refs/hybrid-tui/rejected/{run.id}") == tip
        assert not Path(run.worktree).exists() and git(repo, "branch", "--list", run.branch) == ""
    else:  # the undo takes back the first rebase, the one that went through
        assert result.returncode == 0, result.stderr
        assert_worktree_clean_at(record, first_tip)
        assert (record.rebase, record.base_sha) == (None, earlier.old_base_sha)
        assert git(repo, "for-each-ref", f"refs/hybrid-tui/pre-rebase/{run.id}") == ""
    assert checkout_fingerprint(repo) == before  # all of it happened in the run's worktree
    assert record.rebasing is None


def test_kill_9_after_git_finished_the_rebase_but_before_it_was_recorded(rebased, tmp_path: Path):
    """The branch moved onto the new base; the record still had the old one. The next writer
    (here the undo, in this process, as the TUI's `u` calls it) writes the record first."""
    repo, store, run, _ = rebased
    tip = git(repo, "rev-parse", run.branch)
    kill_rebase_at_gits_answer(repo, run, tmp_path, "resolve")
    rebased_tip = git(repo, "rev-parse", run.branch)
    assert rebased_tip != tip and git(repo, "rev-parse", f"{rebased_tip}~1") == git(repo, "rev-parse", "main")
    stale = store.load(run.id)
    assert stale.rebasing is not None and stale.rebase is not None and stale.rebase.new_tip == tip

    undone = undo_rebase(store, stale)

    assert git(repo, "rev-parse", run.branch) == tip  # back before the rebase that was cut short
    assert_worktree_clean_at(undone, tip)
    assert undone.rebasing is None and undone.rebase is None
    assert store.load(run.id).base_sha == stale.base_sha
    diff = json.loads(run_cli("diff", run.id, "--json", cwd=repo).stdout)
    assert [f["path"] for f in diff["files"]] == ["app.txt"]  # only the run's own change
