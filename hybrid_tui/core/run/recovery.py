"""Recovery after a crash (DESIGN.md invariant 4).

A run whose record says preparing/running/verifying but whose owning hybrid-tui process is gone
(killed, even with `kill -9`) is marked `interrupted`. Its agent, if still alive (it runs in a
process group of its own, so it outlives its parent), is stopped; whatever it left in the worktree
is committed on the run's branch so the branch is the result. Worktree, branch and transcript are
kept: the run is reviewable like any failed run. A worktree whose work cannot be committed
(the agent ran `git init` there) does not stop the recovery: the run is marked interrupted with
the reason, its files left where they are. Before anything is committed, the repo guard the run
saved at its start (core/run/repo_guard.py) puts back what the agent changed in the repository's
git config, hooks and links, and the message says which files.

Recovery writes the run's branch, so it holds the repository's writer lock (`merge.run_writer`,
which also finishes or takes back a rebase of the run that hybrid-tui was killed in), and looks
at the run again once it holds it: two commands starting at once recover an orphan once. It
never waits: when another writer holds the lock, the run is left for the next command.
"""

from __future__ import annotations

import contextlib
import os
import signal
from pathlib import Path

from hybrid_tui.agents.registry import agent_identity
from hybrid_tui.core.errors import ActionFailed
from hybrid_tui.core.git import GitCommandError
from hybrid_tui.core.land.merge import run_writer
from hybrid_tui.core.repo_lock import RepoBusy
from hybrid_tui.core.run.dispatch import commit_run
from hybrid_tui.core.run.repo_guard import RepoGuard
from hybrid_tui.core.runs import Run, RunStore, Status


def _alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _stop_orphan_agent(run: Run) -> None:
    """Kill the run's agent group, but only if its leader still works in the run's worktree or
    below it (a reused pid of an unrelated process is left alone). The kernel gives the cwd with
    symlinks resolved, so the worktree's path is resolved too (a state dir reached through a
    symlink)."""
    if not run.pgid:
        return
    try:
        cwd = Path(os.readlink(f"/proc/{run.pgid}/cwd"))
    except OSError:
        return
    worktree = run.worktree_dir.resolve()
    if cwd == worktree or worktree in cwd.parents:
        try:
            os.killpg(run.pgid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def _orphaned(run: Run) -> bool:
    return run.is_active and not _alive(run.owner_pid)


def recover_runs(store: RunStore) -> list[Run]:
    """Mark every orphaned active run interrupted, and finish or take back every rebase cut
    short (`merge.finish_interrupted_rebase`); return the runs marked interrupted."""
    recovered = []
    for run in store.list():
        if not _orphaned(run) and run.rebasing is None:
            continue
        try:
            with run_writer(store, run, "recovery", wait=0):
                if _orphaned(run):
                    _recover(store, run)
                    recovered.append(run)
        except RepoBusy:
            continue  # another writer is at work here: the next command looks again
        except (ActionFailed, GitCommandError):
            continue  # a rebase that cannot be taken back here: the run's own commands say why
    return recovered


def startup_line(recovered: list[Run], runs: list[Run]) -> str | None:
    """What the app says at start-up of this repository's runs (`runs`) after `recover_runs`
    gave `recovered`, in one line; None when there is nothing to say (no run waits, none was
    recovered; a run this process drives is not counted)."""
    mine = {run.id for run in runs}
    cut = [run for run in recovered if run.id in mine]
    news = [run for run in runs if run.owner_pid != os.getpid()]  # a run this process made is no news
    going = sum(1 for run in news if run.is_active)
    waiting = sum(1 for run in news if run.status == Status.REVIEW)
    parts = []
    if cut:
        parts.append(f"{len(cut)} run{'s' * (len(cut) != 1)} cut short when hybrid-tui stopped: "
                     "marked interrupted, what the agent left kept")
    if waiting:
        parts.append(f"{waiting} in review")
    if going:
        parts.append(f"{going} still going")
    if not parts:
        return None
    return " · ".join(parts) + " (f2 lists every run)"


def _recover(store: RunStore, run: Run) -> None:
    """Stop the orphan's agent, commit what it left, mark it interrupted."""
    _stop_orphan_agent(run)
    head = None
    message = "hybrid-tui stopped while this run was going; the work so far is on the branch."
    with contextlib.suppress(OSError, ActionFailed):  # put back before hybrid-tui's git runs there
        if (guard := RepoGuard.saved(store, run)) is not None and (found := guard.check()):
            message += f" The agent had changed git files of the repository; they were put back: {', '.join(t.path for t in found)}."
    if run.worktree_dir.is_dir():
        display_name, author = agent_identity(run.agent)
        try:
            head, _ = commit_run(run, display_name, author, "interrupted")
        except (ActionFailed, GitCommandError) as err:
            # One broken worktree must not stop the recovery of the others (nor the listing).
            reason = err.message if isinstance(err, ActionFailed) else (err.stderr or str(err)).strip()
            message = (
                "hybrid-tui stopped while this run was going, and its work could not be "
                f"committed ({reason}); what the agent left is still in {run.worktree}."
            )
    store.transition(
        run,
        Status.INTERRUPTED,
        failure_kind=run.failure_kind or "crashed",
        message=message,
        finished_at=store.now(),
        head_sha=head or run.head_sha,
    )
