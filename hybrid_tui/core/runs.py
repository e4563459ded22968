"""Runs: the record of one delegation (`Run`), its lifecycle, and where runs live (`RunStore`).

State layout (DESIGN.md): `<state>/runs/<run-id>/{run.json, spec.md | plan.md, prompt.md,
transcript.jsonl, stderr.log, checks.log}` and `<state>/worktrees/<run-id>/`. A run implements
a spec (`spec.md`) or, for "Claude implements", the plan itself (`plan.md`, a copy of the plan
as it was at dispatch); `prompt.md` is the exact prompt the agent was given.
`run.json` is rewritten atomically (temp file in the same directory, fsync, rename) at every
status change, before any front end shows it; a write that fails (no space left, a read-only
state dir) leaves the old record whole and no temp file behind. Runs are found again by id (or
a unique prefix of it) from any directory; a run id is checked against its format
(`YYMMDD-HHMMSS-xx`) first, so it is never a path. The state dir and its run directories are
0700, the files in them 0600. A record that cannot be read is listed as unreadable
(`RunStore.scan`), with its path and the reason, never dropped silently.

Lifecycle: preparing -> running -> verifying -> review -> accepted | rejected, with the side
exits failed | timed_out | cancelled | interrupted and a `failure_kind` (agent_missing,
transient, max_steps, auth, agent_error, crashed, timeout, cancelled). `agent_error` is an
error the agent reported itself (an HTTP 4xx from its provider, say); `crashed` is a death by
signal or an exit code the agent does not document.
"""

from __future__ import annotations

import builtins
import contextlib
import errno
import os
import random
import re
import shutil
import stat
import string
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Literal, get_args

from pydantic import BaseModel, ValidationError

from hybrid_tui.agents.base import FailureKind
from hybrid_tui.core.errors import ActionFailed, InputError
from hybrid_tui.core.private_files import PRIVATE_FILE, private_dir, write_private


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

# The lifecycle as data: the statuses a run may go to from each status. `RunStore.transition`
# is the one writer of `status` and refuses a move this table does not hold. A reviewable run
# goes back to running when it is revised, or fails before its revision's agent started (the
# sandbox it requires is missing); a landed run stays landed.
_ENDS = frozenset({Status.REVIEW, Status.FAILED, Status.TIMED_OUT, Status.CANCELLED, Status.INTERRUPTED})
TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.PREPARING: frozenset({Status.RUNNING, Status.FAILED, Status.CANCELLED, Status.INTERRUPTED}),
    Status.RUNNING: _ENDS | {Status.VERIFYING},
    Status.VERIFYING: frozenset({Status.REVIEW, Status.FAILED, Status.INTERRUPTED}),
    **{status: frozenset({Status.RUNNING, Status.FAILED, Status.ACCEPTED, Status.REJECTED}) for status in REVIEWABLE},
    Status.ACCEPTED: frozenset(),
    Status.REJECTED: frozenset(),
}

# What may be done to a run, for `Run.refusal`: the word each refusal uses for it.
Action = Literal["accept", "reject", "revise", "review", "rebase", "verify", "pr"]
_ACTION_DONE = {
    "accept": "accepted", "reject": "rejected", "revise": "revised", "review": "reviewed",
    "rebase": "rebased", "verify": "verified", "pr": "pushed",
}  # fmt: skip
WAIT_FIX = "Wait for it to finish, or cancel it first."

# Claude's verdict on a run's branch (`ClaudeReview`).
Verdict = Literal["approve", "request_changes"]

# How an accepted run lands on its base branch (`[merge] strategy`, core/land/accept.py).
Strategy = Literal["merge", "squash", "rebase"]
STRATEGIES: tuple[Strategy, ...] = get_args(Strategy)


class CheckResult(BaseModel):
    """One verification command's outcome (`exit_code` None: it was stopped, see `timed_out`)."""

    command: str
    exit_code: int | None
    ok: bool
    seconds: float
    timed_out: bool = False
    output: str | None = None  # the file holding what it printed (stdout and stderr), as it came


TamperedBy = Literal["agent", "checks"]


class GitTampering(BaseModel):
    """A git file of the repository the agent (or a check) changed, found and put back by the
    repo guard (core/run/repo_guard.py): `path` as shown (`.git/hooks/pre-commit`), `change`
    added | changed | deleted, `restored`, `kept` where the changed version is kept, `by` agent | checks."""

    path: str
    change: Literal["added", "changed", "deleted"]
    restored: bool = True
    kept: str | None = None
    by: TamperedBy = "agent"


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
    """One send-back of a run to its agent (`core/run/revise.py`): the reviewer's note, the session
    it resumed (None: a fresh session with the spec), and how it ended (`status`: preparing,
    running, then the run's status: review, failed, ...; interrupted when hybrid-tui died)."""

    note: str
    started_at: str
    session_id: str | None = None
    from_sha: str | None = None  # the branch tip the revision started from
    status: Status = Status.PREPARING
    failure_kind: FailureKind | None = None
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
    """Claude's verdict on a run's branch (`core/review/claude_review.py`)."""

    verdict: Verdict
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
    # so a plan run has no scope flags; its checks are the plan's own verification commands).
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
    failure_kind: FailureKind | None = None
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
    profile_name: str | None = None  # the named profile (`[profiles.NAME]`, --profile) the run used
    # What confined the agent and the checks ("bwrap 0.8.0"), or None and the reason there was
    # nothing (core/run/confine.py).
    sandbox: str | None = None
    sandbox_reason: str = ""
    agent_data: str | None = None  # the run's copy of the agent's data dir (sandboxed runs)
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
    # Why the checks did not run after the agent: "not approved" (core/verify.py: a check runs
    # only once the user approved it); None once they ran.
    checks_skipped: str | None = None
    partial_accepts: list[PartialAccept] = []
    rebase: RebaseRecord | None = None  # the last rebase, while it can be undone
    rebasing: RebaseStart | None = None  # a rebase under way, or one cut short
    strategy: Strategy | None = None  # how an accepted run landed
    accepted_ref: str | None = None  # tip kept when its commits are not in the base (squash)
    revisions: list[Revision] = []  # send-backs to the agent, oldest first
    claude_review: ClaudeReview | None = None  # the last Claude review (also runs/<id>/review.json)
    pr_url: str | None = None  # the pull request opened for the branch

    @property
    def root(self) -> Path:
        """The user's repository (its top directory)."""
        return Path(self.repo_root)

    @property
    def worktree_dir(self) -> Path:
        """The run's own worktree, under the state dir."""
        return Path(self.worktree)

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE

    @property
    def is_reviewable(self) -> bool:
        return self.status in REVIEWABLE

    def blocked(self) -> str | None:
        """Why nothing can be done to the branch now, in a few words ("run X is still running",
        "run X was already accepted"); None for a run under review (or failed, still reviewable)."""
        if self.is_active:
            return f"run {self.id} is still {self.status.value}"
        if self.status in LANDED:
            return f"run {self.id} was already {self.status.value}"
        return None

    def refusal(self, action: Action) -> ActionFailed | None:
        """Why `action` cannot be done to this run now, as the error to raise; None when it can.
        Every guard (land, partial accept, rebase, revise, verify, Claude's review, pr) asks
        this: a run still at work waits, a landed run is done with (its checks can still be
        re-run while its worktree is there)."""
        blocked = self.blocked()
        if blocked is None or (action == "verify" and not self.is_active):
            return None
        if self.is_active:
            what = "its checks run when the agent ends." if action == "verify" else f"it cannot be {_ACTION_DONE[action]} yet."
            return ActionFailed(f"{blocked}: {what}", fix=WAIT_FIX)
        if action == "rebase":
            return ActionFailed(f"run {self.id} is {self.status.value}: only a run under review can be rebased.")
        return ActionFailed(f"{blocked}.")

    @property
    def checks_ok(self) -> bool | None:
        """True when every check passed, False when one failed, None when none ran."""
        if not self.checks:
            return None
        return all(check.ok for check in self.checks)


def utc_now() -> datetime:
    return datetime.now(UTC)


RUN_ID_EXAMPLE = "261129-013757-k3"
_RUN_ID = re.compile(r"\d{6}-\d{6}-[a-z0-9]{2}")
# Any non-empty prefix of a run id: what a user may type to pick a run.
_RUN_ID_PREFIX = re.compile(r"\d{1,5}|\d{6}(?:-(?:\d{0,5}|\d{6}(?:-[a-z0-9]{0,2})?))?")


def new_run_id(now: datetime, rng: random.Random | None = None) -> str:
    """Short, unique, sorts by time: `YYMMDD-HHMMSS-xx` (UTC, two random base-36 chars)."""
    alphabet = string.ascii_lowercase + string.digits
    suffix = "".join((rng or random).choice(alphabet) for _ in range(2))
    return now.astimezone(UTC).strftime("%y%m%d-%H%M%S-") + suffix


def is_run_id(text: str) -> bool:
    """Whether `text` is a whole run id (`YYMMDD-HHMMSS-xx`)."""
    return _RUN_ID.fullmatch(text) is not None


def check_run_id(text: str) -> str:
    """`text` when it is a run id or a prefix of one; else `InputError` (exit 2): a run id is
    never a path, so `../../x` cannot name a record outside the state dir."""
    if _RUN_ID_PREFIX.fullmatch(text) is None:
        raise InputError(
            f"{text}: not a run id (run ids look like {RUN_ID_EXAMPLE}: YYMMDD-HHMMSS-xx; "
            "a unique prefix of one will do)",
            fix="`hybrid-tui runs` lists them.",
        )
    return text


# -- files of the state dir: private, written whole -------------------------------------------


class StateDirError(InputError):
    """The state dir could not be written (read-only, no permission, no space left, a file
    where a directory should be). Nothing half-written is left: the record or file that was
    being written is as it was. An `InputError` (exit 2) where a command could not start;
    `run`, `revise` and `verify` report one that stops them mid-way as a failure (exit 1)."""


def state_dir_error(err: OSError, path: Path, what: str) -> StateDirError:
    reason = err.strerror or str(err)
    return StateDirError(
        f"cannot write {what} {path}: {reason}",
        fix=f"hybrid-tui keeps its runs there (HYBRID_TUI_STATE_DIR): {state_dir_fix(err)}",
    )


def state_dir_fix(err: OSError) -> str:
    """What to do about a state dir that refused a write with `err`."""
    if err.errno == errno.ENOSPC or err.errno == errno.EDQUOT:
        return "free some space on that disk, or point HYBRID_TUI_STATE_DIR at another one."
    if err.errno == errno.EROFS:
        return "it is on a read-only file system; point HYBRID_TUI_STATE_DIR at a writable directory."
    if err.errno in (errno.EACCES, errno.EPERM):
        return "give yourself write permission there, or point HYBRID_TUI_STATE_DIR elsewhere."
    return "make it a writable directory, or point HYBRID_TUI_STATE_DIR elsewhere."


def atomic_write(path: Path, data: str) -> None:
    """Write `data` to `path` so that a reader (or a crash) sees the old or the new file, whole:
    a temp file (0600) in the same directory, fsync, rename. On any failure (no space left, a
    read-only file system) the temp file is removed and `path` is as it was; the OSError goes
    on up."""
    private_dir(path.parent)
    tmp = path.with_name(f".{path.name}.{os.getpid()}-{threading.get_ident()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC | os.O_NOFOLLOW, PRIVATE_FILE)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


@dataclass(frozen=True)
class UnreadableRun:
    """A run record that cannot be read (`reason`: not JSON, not a run record, cannot be
    opened...): `runs` lists it as such rather than hiding the run. `id` is its directory's name."""

    id: str
    path: Path
    reason: str

    def as_json(self) -> dict[str, str]:
        return {"id": self.id, "status": "unreadable", "path": str(self.path), "reason": self.reason}


class RunStore:
    """The state directory: run records, their files, and the run worktrees.

    The state dir, `runs/`, `worktrees/` and each `runs/<id>/` are 0700, the files hybrid-tui
    writes there 0600 (transcripts hold whatever the agent printed, secrets included). Reading
    never writes; a write that fails raises `StateDirError` (see `require_writable`)."""

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
        if not is_run_id(run_id):  # never a path: a record's files stay under runs/
            raise InputError(f"{run_id}: not a run id (run ids look like {RUN_ID_EXAMPLE})")
        return self.runs_dir / run_id

    def transcript_path(self, run_id: str) -> Path:
        return self.run_dir(run_id) / "transcript.jsonl"

    def stderr_path(self, run_id: str) -> Path:
        return self.run_dir(run_id) / "stderr.log"

    def spec_path(self, run_id: str) -> Path:
        return self.run_dir(run_id) / "spec.md"

    def checks_log_path(self, run_id: str) -> Path:
        return self.run_dir(run_id) / "checks.log"

    def new_checks_dir(self, run_id: str) -> Path:
        """`runs/<id>/checks/<n>/` (0700) for one run of the checks, n one more than the last:
        each check's output goes in `<i>.out` there (`CheckResult.output`)."""
        parent = private_dir(self.run_dir(run_id) / "checks")
        taken = [int(p.name) for p in parent.iterdir() if p.name.isdigit()]
        return private_dir(parent / str(max(taken, default=0) + 1))

    def now(self) -> str:
        return self.clock().astimezone(UTC).isoformat(timespec="seconds")

    def new_id(self) -> str:
        for _ in range(20):
            run_id = self.id_factory(self.clock())
            if not self.run_dir(run_id).exists():
                return run_id
        raise RuntimeError("could not find a free run id")

    # -- writing -------------------------------------------------------------------------------

    def require_writable(self) -> None:
        """Refuse (`StateDirError`, exit 2) before a command starts, when the state dir cannot
        take a write: read-only, no permission, no space left, not a directory. The probe writes
        and removes a small temp file in `runs/`; directories it had to create for that are
        removed again, so a command refused later for bad input has changed nothing."""
        probe = self.runs_dir / f".probe.{os.getpid()}-{threading.get_ident()}.tmp"
        made = [d for d in (*reversed(self.runs_dir.parents), self.runs_dir) if not os.path.lexists(d)]
        try:
            private_dir(self.root)
            private_dir(self.runs_dir)
            atomic_write(probe, "hybrid-tui checks that it can write here\n" * 16)
        except OSError as err:
            raise state_dir_error(err, self.root, "the state dir") from None
        finally:
            with contextlib.suppress(OSError):
                probe.unlink()
            for directory in reversed(made):
                with contextlib.suppress(OSError):
                    directory.rmdir()

    def require_readable(self) -> None:
        """Refuse (`StateDirError`, exit 2) a state dir that is there but cannot be listed (a
        file where it or `runs/` should be, no permission): no runs is not what it holds."""
        for directory in (self.root, self.runs_dir):
            try:
                os.scandir(directory).close()
            except FileNotFoundError:
                return  # nothing yet: no runs
            except OSError as err:
                raise StateDirError(
                    f"cannot read the state dir {directory}: {err.strerror or err}",
                    fix=f"hybrid-tui keeps its runs there (HYBRID_TUI_STATE_DIR): {state_dir_fix(err)}",
                ) from None

    def make_run_dir(self, run_id: str) -> Path:
        """`runs/<id>/`, created private (0700) with the state dir's own directories."""
        path = self.run_dir(run_id)
        try:
            for directory in (self.root, self.runs_dir, self.worktrees_dir, path):
                private_dir(directory)
        except OSError as err:
            raise state_dir_error(err, path, "the run's directory") from None
        return path

    def write_file(self, path: Path, text: str) -> Path:
        """A file of a run (a spec copy, a prompt), 0600; `StateDirError` when it cannot be
        written, with nothing of it left behind."""
        try:
            write_private(path, text)
        except OSError as err:
            with contextlib.suppress(OSError):
                path.unlink()
            raise state_dir_error(err, path, "the run's file") from None
        return path

    def discard_run_dir(self, run_id: str) -> None:
        """Remove `runs/<id>/` of a run that could not be created (best effort)."""
        shutil.rmtree(self.run_dir(run_id), ignore_errors=True)

    def save(self, run: Run) -> Run:
        path = self.run_dir(run.id) / "run.json"
        try:
            atomic_write(path, run.model_dump_json(indent=2) + "\n")
        except OSError as err:
            raise state_dir_error(err, path, "the run record") from None
        return run

    def transition(self, run: Run, to: Status, **changes: object) -> Run:
        """Move `run` to status `to` with `changes`, in place, and write it; `ActionFailed` (and
        nothing written) when `TRANSITIONS` does not allow it. The only writer of `status`."""
        if to not in TRANSITIONS[run.status]:
            raise ActionFailed(
                f"run {run.id} is {run.status.value}: it cannot become {to.value} "
                "(hybrid-tui refused a change of state that its lifecycle does not allow)"
            )
        return self._apply(run, {"status": to, **changes})

    def update(self, run: Run, **changes: object) -> Run:
        """Apply `changes` to `run` in place and write it; returns the run. A status change
        goes through `transition`."""
        if "status" in changes:
            raise ValueError("RunStore.update cannot change a run's status: use RunStore.transition")
        return self._apply(run, changes)

    def _apply(self, run: Run, changes: dict[str, object]) -> Run:
        for key, value in changes.items():
            setattr(run, key, value)
        return self.save(run)

    # -- reading -------------------------------------------------------------------------------

    def load(self, run_id: str) -> Run:
        """The run with this id, or with this unique id prefix; `InputError` when `run_id` is
        not a run id or a prefix of one (a path, say), matches none or several runs, or names
        a record that cannot be read (the reason said)."""
        check_run_id(run_id)
        path = self.runs_dir / run_id / "run.json"
        if not is_run_id(run_id) or not os.path.lexists(path):
            matches = [p for p in self._run_files() if p.parent.name.startswith(run_id)]
            if len(matches) != 1:
                reason = "no such run" if not matches else "ambiguous run id prefix"
                raise InputError(f"{run_id}: {reason} (state dir {self.runs_dir})")
            path = matches[0]
        return self._read(path)

    def list(self, repo_root: Path | None = None) -> list[Run]:
        """Every readable run, newest first; only those of `repo_root` when given."""
        return self.scan(repo_root)[0]

    def scan(self, repo_root: Path | None = None) -> tuple[builtins.list[Run], builtins.list[UnreadableRun]]:
        """The readable runs (of `repo_root` when given) and the records that cannot be read
        (whichever repository they were of), each newest first."""
        runs, unreadable = [], []
        for path in self._run_files():
            try:
                run = self._read(path)
            except UnreadableRecord as err:
                unreadable.append(UnreadableRun(path.parent.name, path, err.reason))
                continue
            if repo_root is None or run.root == repo_root:
                runs.append(run)
        runs.sort(key=lambda r: r.id, reverse=True)
        unreadable.sort(key=lambda u: u.id, reverse=True)
        return runs, unreadable

    def next_number(self, repo_root: Path) -> int:
        """The next per-repository spec number (1 + the highest so far)."""
        return 1 + max((run.number for run in self.list(repo_root)), default=0)

    def _run_files(self) -> builtins.list[Path]:
        """`runs/<id>/run.json` of every directory named like a run (a record that is there but
        is not a file, or a link, included: reading it says why it is unreadable)."""
        try:
            entries = sorted(os.scandir(self.runs_dir), key=lambda e: e.name)
        except OSError:  # missing, not a directory, unreadable
            return []
        return [
            Path(entry.path) / "run.json"
            for entry in entries
            if is_run_id(entry.name) and os.path.lexists(os.path.join(entry.path, "run.json"))
        ]

    def _read(self, path: Path) -> Run:
        """The record at `path`; `InputError` naming it and why it is unreadable. Never blocks
        (a FIFO is refused unopened) and never follows a record out of its directory."""
        try:
            run = Run.model_validate_json(_read_record(path))
        except OSError as err:
            raise UnreadableRecord(path, f"cannot be read ({err.strerror or err})") from None
        except UnicodeDecodeError as err:
            raise UnreadableRecord(path, f"not UTF-8 (invalid byte at offset {err.start})") from None
        except ValidationError as err:
            raise UnreadableRecord(path, _validation_reason(err)) from None
        if run.id != path.parent.name:
            raise UnreadableRecord(path, f"its id {run.id!r} is not its directory's name")
        return run


MAX_RECORD_BYTES = 16 * 1024 * 1024


def _read_record(path: Path) -> str:
    """The text of a run record: a regular file (not followed through a symlink), at most
    `MAX_RECORD_BYTES`."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError as err:
        if err.errno == errno.ELOOP:
            raise OSError(errno.ELOOP, "a symbolic link, not a file") from None
        raise
    with os.fdopen(fd, "rb") as handle:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise OSError(errno.EINVAL, "not a regular file")
        data = handle.read(MAX_RECORD_BYTES + 1)
    if len(data) > MAX_RECORD_BYTES:
        raise OSError(errno.EFBIG, f"larger than {MAX_RECORD_BYTES // (1024 * 1024)} MiB")
    return data.decode("utf-8")


def _validation_reason(err: ValidationError) -> str:
    """Why pydantic refused a record, in a few words: not JSON, or the first wrong fields."""
    errors = err.errors(include_url=False, include_input=False)
    if errors and errors[0]["type"].startswith("json"):
        return f"not valid JSON ({errors[0]['msg']})"
    shown = "; ".join(
        f"{'.'.join(str(part) for part in e['loc']) or 'the record'}: {e['msg'].lower()}" for e in errors[:3]
    )
    more = f" (and {len(errors) - 3} more)" if len(errors) > 3 else ""
    return f"not a run record ({shown}{more})"


class UnreadableRecord(InputError):
    """A run record that cannot be read: `reason` says why, the message names the file too."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"{path}: unreadable run record: {reason}")
        self.reason = reason
