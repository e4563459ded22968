"""Runs: the record of one delegation (`Run`), its lifecycle, and where runs live (`RunStore`).

State layout (DESIGN.md): `<state>/runs/<run-id>/{run.json, spec.md | plan.md, prompt.md,
transcript.jsonl, stderr.log, checks.log}` and `<state>/worktrees/<run-id>/`. A run implements
a spec (`spec.md`) or, for "Claude implements", the plan itself (`plan.md`, a copy of the plan
as it was at dispatch); `prompt.md` is the exact prompt the agent was given.
`run.json` is rewritten atomically (temp file in the same directory, fsync, rename) at every
status change, before any front end shows it. Runs are found again by id (or a unique prefix of it) from any directory.

Lifecycle: preparing -> running -> verifying -> review -> accepted | rejected, with the side
exits failed | timed_out | cancelled | interrupted and a `failure_kind` (agent_missing,
transient, max_steps, auth, agent_error, crashed, timeout, cancelled). `agent_error` is an
error the agent reported itself (an HTTP 4xx from its provider, say); `crashed` is a death by
signal or an exit code the agent does not document.
"""

from __future__ import annotations

import json
import os
import random
import string
from collections.abc import Callable
from datetime import datetime, timezone
from enum import StrEnum
from pathlib import Path

from pydantic import BaseModel, ValidationError

from hybrid_tui.core.errors import InputError


class Status(StrEnum):
    PREPARING = "preparing"
    RUNNING = "running"
    VERIFYING = "verifying"
    REVIEW = "review"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    FAILED = "failed"
    TIMED_OUT = "timed_out"
    CANCELLED = "cancelled"
    INTERRUPTED = "interrupted"


ACTIVE = frozenset({Status.PREPARING, Status.RUNNING, Status.VERIFYING})
LANDED = frozenset({Status.ACCEPTED, Status.REJECTED})
# Runs whose branch can be reviewed, accepted or rejected: a failed run is still reviewable.
REVIEWABLE = frozenset(
    {Status.REVIEW, Status.FAILED, Status.TIMED_OUT, Status.CANCELLED, Status.INTERRUPTED}
)


class CheckResult(BaseModel):
    """One verification command's outcome (`exit_code` None: it was stopped, see `timed_out`)."""

    command: str
    exit_code: int | None
    ok: bool
    seconds: float
    timed_out: bool = False


class GitTampering(BaseModel):
    """A git file of the repository the agent (or a check) changed, found and put back by the
    repo guard (core/repo_guard.py): `path` as shown (`.git/hooks/pre-commit`), `change`
    added | changed | deleted, `restored`, `kept` where the changed version is kept, `by` agent | checks."""

    path: str
    change: str
    restored: bool = True
    kept: str | None = None
    by: str = "agent"


class PartialAccept(BaseModel):
    """Part of a run landed on the base branch as one commit (`sha`); `paths` it touched."""

    sha: str
    paths: list[str]


class RebaseRecord(BaseModel):
    """What `rebase_run` replaced, so that `undo_rebase` can put it back."""

    ref: str  # refs/hybrid-tui/pre-rebase/<run-id>: the branch tip before the rebase
    old_tip: str
    old_base_sha: str
    new_tip: str


class RebaseStart(BaseModel):
    """A rebase `rebase_run` began and has not seen through: kept from before git starts until
    the record is written, so that one cut short (hybrid-tui killed, even with `kill -9`) is
    finished or taken back by the next writer (`merge.finish_interrupted_rebase`)."""

    old_tip: str
    new_base: str
    previous_ref: str | None = None  # what refs/hybrid-tui/pre-rebase/<run-id> held before


class Revision(BaseModel):
    """One send-back of a run to its agent (`core/revise.py`): the reviewer's note, the session
    it resumed (None: a fresh session with the spec), and how it ended (`status`: preparing,
    running, then the run's status: review, failed, ...; interrupted when hybrid-tui died)."""

    note: str
    started_at: str
    session_id: str | None = None
    from_sha: str | None = None  # the branch tip the revision started from
    status: str = "preparing"
    failure_kind: str | None = None
    finished_at: str | None = None
    head_sha: str | None = None  # the branch tip after the revision's work was committed
    steps: int = 0
    requests: int = 0
    prompt_path: str | None = None  # runs/<id>/revision-<n>.md: the exact prompt


class ReviewPoint(BaseModel):
    """One concrete point of a Claude review: where (`line` None: the whole file) and what."""

    file: str
    line: int | None = None
    problem: str


class ClaudeReview(BaseModel):
    """Claude's verdict on a run's branch (`core/claude_review.py`)."""

    verdict: str  # approve | request_changes
    summary: str = ""
    points: list[ReviewPoint] = []
    reviewed_sha: str | None = None  # the branch tip Claude reviewed
    reviewed_at: str | None = None
    session_id: str | None = None
    cost_usd: float | None = None


class Run(BaseModel):
    id: str
    number: int = 1
    title: str
    repo_root: str
    plan_path: str | None = None
    spec_path: str  # the spec the agent implements; a copy of the plan for a `plan` run
    # What the agent was asked to implement: "spec" (spec_path, the default) or "plan" (the
    # plan itself, no spec: spec_path is a copy of the plan, which `load_spec` cannot parse,
    # so a plan run has no checks and no scope flags).
    prompt_source: str = "spec"
    prompt_path: str | None = None  # runs/<id>/prompt.md: the exact prompt the agent got
    agent: str = "kimi"
    flavour: str = "legacy"
    branch: str
    base_branch: str
    base_sha: str
    worktree: str
    owner_pid: int | None = None  # the hybrid-tui process driving the run
    pgid: int | None = None  # the agent's process group
    session_id: str | None = None
    status: Status = Status.PREPARING
    failure_kind: str | None = None
    message: str = ""
    created_at: str
    started_at: str | None = None
    finished_at: str | None = None
    exit_code: int | None = None
    steps: int = 0  # model answers: the steps of work
    # Model requests made against the quota: the steps, plus every failed request (a retry, the
    # request a provider error ended on). Kimi legacy prints no retries: there requests = steps.
    requests: int = 0
    prompt_reads: int = 0  # steps spent reading a prompt too long for argv (Kimi Code)
    # The agent's profile the run used, so a revise resumes with it: Kimi Code's KIMI_CODE_HOME,
    # the legacy CLI's config file.
    profile: str | None = None
    # From the agent's own account of the run (Claude's `result` line); None when not reported.
    turns: int | None = None
    tokens: int | None = None  # input (fresh and cached) plus output
    cost_usd: float | None = None
    head_sha: str | None = None  # the branch tip after the agent's work was committed
    checkout_changes: list[str] = []  # the user's checkout changed during the run (invariant 1)
    git_tampering: list[GitTampering] = []  # the repository's git config, hooks... put back
    merge_sha: str | None = None
    rejected_ref: str | None = None
    # Review (issue 6). `checks` is None until the checks ran; [] for a spec without commands.
    checks: list[CheckResult] | None = None
    checks_at: str | None = None
    checks_sha: str | None = None  # the branch tip the checks ran on
    out_of_scope: list[str] = []  # changed files the spec did not name
    untouched: list[str] = []  # files the spec named that the branch did not change
    partial_accepts: list[PartialAccept] = []
    rebase: RebaseRecord | None = None  # the last rebase, while it can be undone
    rebasing: RebaseStart | None = None  # a rebase under way, or one cut short
    strategy: str | None = None  # how an accepted run landed: merge | squash | rebase
    accepted_ref: str | None = None  # tip kept when its commits are not in the base (squash)
    revisions: list[Revision] = []  # send-backs to the agent, oldest first
    claude_review: ClaudeReview | None = None  # the last Claude review (also runs/<id>/review.json)
    pr_url: str | None = None  # the pull request opened for the branch

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE

    @property
    def is_reviewable(self) -> bool:
        return self.status in REVIEWABLE

    @property
    def checks_ok(self) -> bool | None:
        """True when every check passed, False when one failed, None when none ran."""
        if not self.checks:
            return None
        return all(check.ok for check in self.checks)


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def new_run_id(now: datetime, rng: random.Random | None = None) -> str:
    """Short, unique, sorts by time: `YYMMDD-HHMMSS-xx` (UTC, two random base-36 chars)."""
    alphabet = string.ascii_lowercase + string.digits
    suffix = "".join((rng or random).choice(alphabet) for _ in range(2))
    return now.astimezone(timezone.utc).strftime("%y%m%d-%H%M%S-") + suffix


def atomic_write(path: Path, data: str) -> None:
    """Write `data` to `path` so that a reader (or a crash) sees the old or the new file, whole."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


class RunStore:
    """The state directory: run records, their files, and the run worktrees."""

    def __init__(
        self,
        root: Path,
        *,
        clock: Callable[[], datetime] = utc_now,
        id_factory: Callable[[datetime], str] = new_run_id,
    ) -> None:
        self.root = root
        self.clock = clock
        self.id_factory = id_factory

    @property
    def runs_dir(self) -> Path:
        return self.root / "runs"

    @property
    def worktrees_dir(self) -> Path:
        return self.root / "worktrees"

    def run_dir(self, run_id: str) -> Path:
        return self.runs_dir / run_id

    def transcript_path(self, run_id: str) -> Path:
        return self.run_dir(run_id) / "transcript.jsonl"

    def stderr_path(self, run_id: str) -> Path:
        return self.run_dir(run_id) / "stderr.log"

    def spec_path(self, run_id: str) -> Path:
        return self.run_dir(run_id) / "spec.md"

    def checks_log_path(self, run_id: str) -> Path:
        return self.run_dir(run_id) / "checks.log"

    def now(self) -> str:
        return self.clock().astimezone(timezone.utc).isoformat(timespec="seconds")

    def new_id(self) -> str:
        for _ in range(20):
            run_id = self.id_factory(self.clock())
            if not self.run_dir(run_id).exists():
                return run_id
        raise RuntimeError("could not find a free run id")

    def save(self, run: Run) -> Run:
        atomic_write(self.run_dir(run.id) / "run.json", run.model_dump_json(indent=2) + "\n")
        return run

    def update(self, run: Run, **changes: object) -> Run:
        """Apply `changes` to `run` in place and write it; returns the run."""
        for key, value in changes.items():
            setattr(run, key, value)
        return self.save(run)

    def load(self, run_id: str) -> Run:
        """The run with this id, or with this unique id prefix."""
        run_dir = self.run_dir(run_id)
        if not (run_dir / "run.json").is_file():
            matches = [p for p in self._run_files() if p.parent.name.startswith(run_id)]
            if len(matches) != 1:
                reason = "no such run" if not matches else "ambiguous run id prefix"
                raise InputError(f"{run_id}: {reason} (state dir {self.runs_dir})")
            run_dir = matches[0].parent
        return self._read(run_dir / "run.json")

    def list(self, repo_root: Path | None = None) -> list[Run]:
        """Every readable run, newest first; only those of `repo_root` when given."""
        runs = []
        for path in self._run_files():
            try:
                run = self._read(path)
            except InputError:
                continue
            if repo_root is None or Path(run.repo_root) == repo_root:
                runs.append(run)
        return sorted(runs, key=lambda r: r.id, reverse=True)

    def next_number(self, repo_root: Path) -> int:
        """The next per-repository spec number (1 + the highest so far)."""
        return 1 + max((run.number for run in self.list(repo_root)), default=0)

    def _run_files(self) -> list[Path]:
        if not self.runs_dir.is_dir():
            return []
        return sorted(self.runs_dir.glob("*/run.json"))

    def _read(self, path: Path) -> Run:
        try:
            return Run.model_validate(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError, ValidationError) as err:
            raise InputError(f"{path}: unreadable run record ({err})") from err
