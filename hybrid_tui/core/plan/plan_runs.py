"""Plans know their runs: the latest run made from each plan, the one word its state shows in the
plan list, and the question asked before the plan is delegated again.

Behaviour choices:
- A run belongs to the plan file it was made from (`Run.plan_path`, resolved); the latest is the
  newest run id (ids start with their creation time). Runs of other repositories do not count.
- The state word: `running` (preparing, running, verifying), `review`, `accepted`, `rejected`,
  `failed` (failed or timed out), `stopped` (cancelled or interrupted: its branch is still there
  to review).
- Delegating a plan whose latest run is running, in review or accepted asks first: the work may
  be done already (or being done), and a second run costs requests of the weekly budget. A plan
  whose run failed, stopped or was rejected is delegated again without a question.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from hybrid_tui.core.runs import ACTIVE, Run, Status

STATE_WORDS: dict[Status, str] = {
    Status.PREPARING: "running",
    Status.RUNNING: "running",
    Status.VERIFYING: "running",
    Status.REVIEW: "review",
    Status.ACCEPTED: "accepted",
    Status.REJECTED: "rejected",
    Status.FAILED: "failed",
    Status.TIMED_OUT: "failed",
    Status.CANCELLED: "stopped",
    Status.INTERRUPTED: "stopped",
}
"""The word each run status shows beside its plan."""

_ASK_AGAIN = ACTIVE | {Status.REVIEW, Status.ACCEPTED}


def _key(path: str | Path) -> Path:
    try:
        return Path(path).resolve()
    except OSError:  # a path that cannot be resolved (a loop): as written
        return Path(path)


def latest_runs(runs: list[Run]) -> dict[Path, Run]:
    """The newest run of each plan file (resolved path) among `runs`."""
    latest: dict[Path, Run] = {}
    for run in sorted(runs, key=lambda r: r.id, reverse=True):
        if run.plan_path:
            latest.setdefault(_key(run.plan_path), run)
    return latest


def run_of(plan_path: Path, runs: dict[Path, Run]) -> Run | None:
    """The latest run of the plan at `plan_path` in `runs` (as `latest_runs` gives them)."""
    return runs.get(_key(plan_path))


@dataclass(frozen=True, slots=True)
class Question:
    title: str
    body: str
    yes: str


def delegate_again_question(run: Run) -> Question | None:
    """What to ask before delegating the plan of `run` again; None when nothing needs asking."""
    if run.status not in _ASK_AGAIN:
        return None
    where = f"run {run.id} on {run.branch}"
    if run.status in ACTIVE:
        state = f"is being implemented now ({where})"
    elif run.status == Status.REVIEW:
        state = f"has a run waiting in review ({where})"
    else:
        state = f"was delegated and accepted already ({where})"
    return Question(
        title="Delegate this plan again?",
        body=f"This plan {state}. Delegating it again starts another run on a new branch, "
        "with its own requests against the weekly budget.",
        yes="Delegate again",
    )
