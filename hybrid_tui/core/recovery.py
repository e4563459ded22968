"""Recovery after a crash (DESIGN.md invariant 4).

A run whose record says preparing/running/verifying but whose owning hybrid-tui process is gone
(killed, even with `kill -9`) is marked `interrupted`. Its agent, if still alive (it runs in a
process group of its own, so it outlives its parent), is stopped; whatever it left in the worktree
is committed on the run's branch so the branch is the result. Worktree, branch and transcript are
kept: the run is reviewable like any failed run. A worktree whose work cannot be committed
(the agent ran `git init` there) does not stop the recovery: the run is marked interrupted with
the reason, its files left where they are.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

from git import GitCommandError

from hybrid_tui.agents.registry import agent_identity
from hybrid_tui.core.dispatch import commit_run
from hybrid_tui.core.errors import ActionFailed
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
    worktree = Path(run.worktree).resolve()
    if cwd == worktree or worktree in cwd.parents:
        try:
            os.killpg(run.pgid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def recover_runs(store: RunStore) -> list[Run]:
    """Mark every orphaned active run interrupted; return those runs."""
    recovered = []
    for run in store.list():
        if not run.is_active or _alive(run.owner_pid):
            continue
        _stop_orphan_agent(run)
        head = None
        message = "hybrid-tui stopped while this run was going; the work so far is on the branch."
        if Path(run.worktree).is_dir():
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
        store.update(
            run,
            status=Status.INTERRUPTED,
            failure_kind=run.failure_kind or "crashed",
            message=message,
            finished_at=store.now(),
            head_sha=head or run.head_sha,
        )
        recovered.append(run)
    return recovered
