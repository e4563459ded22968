"""Dispatch: a spec (or a plan) in, an agent at work on its own branch, the result committed.

`prepare_run` checks everything that can be checked first (git repository, branch, a state dir
outside the project, spec, agent binary) so that bad input changes nothing; only then does it
create the run record, the branch and the worktree. `prepare_plan_run` is the same for "Claude implements": the plan itself is the
prompt, no spec (`Run.prompt_source == "plan"`, `spec_path` a copy of the plan), so such a run
has no scope flags; its checks are the plan's own verification commands. Either way `runs/<id>/prompt.md` holds the exact prompt.

`RunExecution` runs the agent in the worktree, streams its events, and, however the agent
ends, commits what it left on the run's branch (its scope check is worked out when it is shown,
`land.run_scope`). When the agent finished (`done`) and `check_timeout` is given,
the run goes `verifying`: the spec's checks run in the worktree (`verify.RunChecks`, output
streamed as events) and are recorded in `checks`; then `review`. They run only when the user
approved them (`approved_checks`); unapproved, they are skipped (`checks_skipped`) and the run
goes to review. Checks run only for a run whose
agent finished: a failed or stopped run can have them run from the review (`rerun_checks`).
Failing checks do not change the status: the review shows them. The agent's own account of
the run (`parser.stats()`: Claude's turns, tokens and cost) is recorded in `turns`, `tokens`,
`cost_usd`; the resolved flavour (Kimi's "auto") in `flavour`. An unexpected error inside
`start` records the run `failed`/`crashed` before it propagates: run.json never stays `running`.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from hybrid_tui.agents.base import Agent, ProcessOutcome, Verdict
from hybrid_tui.agents.events import AgentEvent, Exit, Notice
from hybrid_tui.agents.process import AgentMissing, AgentProcess
from hybrid_tui.agents.sandbox import SandboxUnavailable
from hybrid_tui.core import git
from hybrid_tui.core.errors import ActionFailed, InputError
from hybrid_tui.core.plan.plans import plan_title
from hybrid_tui.core.repo_lock import RepositoryWatch
from hybrid_tui.core.run import tips
from hybrid_tui.core.run.confine import confine_agent
from hybrid_tui.core.run.repo_guard import RepoGuard
from hybrid_tui.core.runs import Revision, Run, RunStore, StateDirError, Status
from hybrid_tui.core.spec.format import SpecError, validate_spec

if TYPE_CHECKING:
    from hybrid_tui.core.git import Repo
    from hybrid_tui.core.verify import RunChecks

PROMPT_PREAMBLE = """\
Implement the following spec in the current working directory, a git worktree made for this \
task. Create, modify and delete exactly the files it lists, meet every requirement, and run \
its verification commands. Do not commit and do not switch branches: your work is committed \
for you when you finish.

"""

PLAN_PROMPT_PREAMBLE = """\
Implement the following plan in the current working directory, a git worktree made for this \
task. Make every change it describes and run the checks it names. Do not commit and do not \
switch branches: your work is committed for you when you finish.

"""

_STATUS_OF_VERDICT = {
    "done": Status.REVIEW,
    "failed": Status.FAILED,
    "timed_out": Status.TIMED_OUT,
    "cancelled": Status.CANCELLED,
}


def build_prompt(spec_text: str) -> str:
    return PROMPT_PREAMBLE + spec_text


def build_plan_prompt(plan_text: str) -> str:
    return PLAN_PROMPT_PREAMBLE + plan_text


def check_agent_installed(agent: Agent) -> None:
    """Raise `AgentMissing` (with the install hint) when the agent's command is not found."""
    command = agent.command(Path.cwd(), "").argv[0]
    if shutil.which(command) is None:
        raise AgentMissing(command, agent.install_hint)


@dataclass
class Prepared:
    run: Run
    warnings: list[str] = field(default_factory=list)


@dataclass
class _Base:
    """The repository a run starts from, as checked before anything is created."""

    repo: Repo
    root: Path
    branch: str
    sha: str


def _open_base(repo_path: Path) -> _Base:
    """The project and the commit HEAD names (InputError: not a repository, detached HEAD...)."""
    repo = git.open_project(repo_path)
    root = git.project_root(repo)
    branch, sha = git.head_branch(repo)
    return _Base(repo, root, branch, sha)


def _require_state_outside(store: RunStore, root: Path) -> None:
    """Refuse (InputError) a state dir inside the project: run records, transcripts and the
    worktrees would be written into the user's checkout at every run (invariant 1), show in
    its `git status`, and go with a `git stash -u` or a `git clean`."""
    state = store.root.resolve()
    if state == root or root in state.parents:
        raise InputError(
            f"{state}: hybrid-tui's state dir (run records and worktrees) is inside the project {root}, "
            "so every run would write into your checkout",
            fix="Set HYBRID_TUI_STATE_DIR (or XDG_STATE_HOME) to a directory outside the project.",
        )


def _local_changes_warning(root: Path) -> list[str]:
    local = git.local_changes(root)
    if not local:
        return []
    return [
        (
            f"{len(local)} uncommitted change(s) in {root} are not part of the run: "
            "the worker starts from the last commit."
        )
    ]


def _create_run(
    store: RunStore,
    base: _Base,
    agent: Agent,
    *,
    number: int,
    title: str,
    plan_path: Path | None,
    source: str,
    source_text: str,
    prompt: str,
) -> Run:
    """Write the run's files (`spec.md` or `plan.md`, and `prompt.md`) and record, then create
    the branch `<agent>/<id>-<slug>` and its worktree. Called once every check has passed."""
    run_id = store.new_id()
    run_dir = store.make_run_dir(run_id)  # 0700; StateDirError (exit 2) when it cannot be written
    source_path = store.spec_path(run_id) if source == "spec" else run_dir / "plan.md"
    prompt_path = run_dir / "prompt.md"
    worktree = store.worktrees_dir / run_id
    try:  # a run that cannot be written whole (a full or read-only state dir) leaves nothing
        store.write_file(source_path, source_text)
        store.write_file(prompt_path, prompt)
        run = store.save(
            Run(
                id=run_id,
                number=number,
                title=title,
                repo_root=str(base.root),
                plan_path=str(plan_path) if plan_path else None,
                spec_path=str(source_path),
                prompt_source=source,
                prompt_path=str(prompt_path),
                agent=agent.name,
                flavour="",  # known once the first attempt builds its command (Kimi's "auto")
                branch=f"{agent.name}/{run_id}-{git.slugify(title)}",
                base_branch=base.branch,
                base_sha=base.sha,
                worktree=str(worktree),
                owner_pid=os.getpid(),
                created_at=store.now(),
            )
        )
        _create_worktree(base, worktree, run.branch)
    except BaseException:
        store.discard_run_dir(run_id)
        raise
    return run


def _create_worktree(base: _Base, worktree: Path, branch: str) -> None:
    """The run's branch and worktree; when git cannot make them (no space left in the state
    dir, say), whatever it made of them is removed and `StateDirError` (exit 2) says why."""
    from hybrid_tui.core.git import GitCommandError

    there_before = os.path.lexists(worktree)  # not ours to remove then
    try:
        git.create_worktree(base.repo, worktree, branch, base.sha)
    except (GitCommandError, OSError) as err:
        with contextlib.suppress(GitCommandError, OSError):
            git.remove_worktree(base.root, worktree)
        with contextlib.suppress(GitCommandError, OSError):
            if git.ref_sha(base.root, f"refs/heads/{branch}") == base.sha:  # ours, nothing on it
                git.delete_branch(base.root, branch)
        if not there_before:
            shutil.rmtree(worktree, ignore_errors=True)
        said = (err.stderr or str(err)).strip().splitlines() if isinstance(err, GitCommandError) else [err.strerror or str(err)]
        raise StateDirError(
            f"cannot create the run's worktree {worktree}: {said[-1] if said else err}",
            fix="hybrid-tui keeps the worktrees in its state dir (HYBRID_TUI_STATE_DIR): check that it "
            "is writable and has space.",
        ) from None


def _require_plan_of_this_project(store: RunStore, root: Path, plan_path: Path | None) -> None:
    """A plan Claude wrote for another repository is not delegated here (`projects`)."""
    if plan_path is None:
        return
    from hybrid_tui.core.plan.projects import PlanProjects, require_this_project

    projects = PlanProjects.open(store.root)
    projects.update()
    require_this_project(plan_path, root, projects)


def prepare_run(
    store: RunStore,
    repo_path: Path,
    spec_text: str,
    agent: Agent,
    *,
    plan_path: Path | None = None,
    title: str | None = None,
) -> Prepared:
    """Validate, then create the run: record, spec.md, branch `<agent>/<id>-<slug>`, worktree."""
    base = _open_base(repo_path)
    _require_state_outside(store, base.root)
    _require_plan_of_this_project(store, base.root, plan_path)
    spec, problems = validate_spec(spec_text, tree=git.tree_paths(base.repo, base.sha))
    errors = [p for p in problems if p.severity == "error"]
    if spec is None or errors:
        raise SpecError(errors)
    check_agent_installed(agent)
    warnings = [str(p) for p in problems if p.severity == "warning"]
    warnings += _local_changes_warning(base.root)
    run = _create_run(
        store, base, agent, number=spec.number, title=title or spec.title, plan_path=plan_path,
        source="spec", source_text=spec_text, prompt=build_prompt(spec_text),
    )  # fmt: skip
    return Prepared(run, warnings)


def prepare_plan_run(
    store: RunStore,
    repo_path: Path,
    plan_text: str,
    agent: Agent,
    *,
    plan_path: Path | None = None,
    title: str | None = None,
) -> Prepared:
    """Create a run whose prompt is the plan itself, no spec ("Claude implements"): the same
    checks as `prepare_run` (git repository, branch, agent binary) except the spec's, plus a
    plan with something in it. The plan is copied to `runs/<id>/plan.md` (`spec_path`; Claude
    may rewrite the plan file later), the prompt is `build_plan_prompt(plan)`. Such a run has
    no scope flags (there is no spec to take them from); its checks are the plan's verification
    commands (`verify.plan_check_commands`). `title` defaults to the
    plan's first heading, else the plan file's name."""
    base = _open_base(repo_path)
    _require_state_outside(store, base.root)
    _require_plan_of_this_project(store, base.root, plan_path)
    where = f"{plan_path}: " if plan_path else ""
    if not plan_text.strip():
        raise InputError(f"{where}the plan is empty: nothing to implement")
    check_agent_installed(agent)
    title = title or plan_title(plan_text, plan_path.stem if plan_path else "plan")
    run = _create_run(
        store, base, agent, number=store.next_number(base.root), title=title, plan_path=plan_path,
        source="plan", source_text=plan_text, prompt=build_plan_prompt(plan_text),
    )  # fmt: skip
    return Prepared(run, _local_changes_warning(base.root))


def run_prompt(run: Run) -> str:
    """The prompt the run's agent gets: `prompt.md` when the run has one, else built from the
    spec (runs recorded before prompts were kept)."""
    if run.prompt_path and Path(run.prompt_path).is_file():
        return Path(run.prompt_path).read_text(encoding="utf-8")
    text = Path(run.spec_path).read_text(encoding="utf-8")
    return build_plan_prompt(text) if run.prompt_source == "plan" else build_prompt(text)


def commit_run(run: Run, display_name: str, author: str, outcome: str) -> tuple[str, str | None]:
    """Commit whatever the agent left in the run's worktree on the run's branch, however it
    ended; first bring the worktree back to that branch if the agent switched away.
    Returns (the branch tip, a notice when the agent had switched branches).

    A run caught while `verifying` (hybrid-tui killed during the checks) had its agent's work
    committed already (`head_sha`): what is in the worktree now is the checks' litter, so the
    worktree is put back to that tip instead of committing it."""
    worktree = run.worktree_dir
    git.ensure_worktree(run.root, worktree)  # the agent may have deleted .git
    if run.status == Status.VERIFYING and run.head_sha:
        git.restore_worktree(worktree, run.branch, run.head_sha)
        return run.head_sha, None
    moved = git.reconcile_branch(worktree, run.branch, run.base_sha)
    git.commit_all(
        worktree,
        author=author,
        message=f"{display_name}: {run.title}\n\nhybrid-tui run {run.id} ({outcome}).",
    )
    tips.keep(run)  # the agent's own commits too, even those it reset away (core/run/tips.py)
    return git.git(worktree, "rev-parse", "HEAD"), moved


EventSink = Callable[[list[AgentEvent]], None]
T = TypeVar("T")


def _planned_checks(run: Run) -> list[str] | None:
    """The run's verification commands; None when they cannot be read (RunChecks says why)."""
    from hybrid_tui.core.verify import check_commands

    try:
        return check_commands(run)
    except ActionFailed:
        return None


# Run fields that add up over the first attempt and its revisions: the quota used.
_TOTALS = ("steps", "requests", "prompt_reads", "turns", "tokens", "cost_usd")


class RunExecution:
    """One attempt of an agent on a run: the first (a prepared run), or a revision
    (`revision=True`: the one `revise.prepare_revision` recorded, its prompt file, its session
    resumed). `await start()`, `cancel()` from anywhere on the same event loop."""

    def __init__(
        self,
        store: RunStore,
        run: Run,
        agent: Agent,
        *,
        timeout: float,
        on_events: EventSink,
        check_timeout: float | None = None,
        approved_checks: list[str] | None = None,
        sandbox: str = "auto",
        check_network: bool = False,
        revision: bool = False,
    ) -> None:
        """`check_timeout`: seconds for each verification command; None runs no checks.
        `approved_checks`: the verification commands the user saw and approved
        (`verify.check_commands(run)` as shown); None: not approved, so the checks are skipped
        (`checks_skipped = "not approved"`) and the run goes to review when the agent finished.
        `sandbox`: the setting ("auto", "required", "off"; core/run/confine.py); `check_network`:
        whether sandboxed checks keep the network."""
        self.store = store
        self.run = run
        self.agent = agent
        self.timeout = timeout
        self.on_events = on_events
        self.check_timeout = check_timeout
        self.approved_checks = approved_checks
        self.sandbox = sandbox
        self.check_network = check_network
        self.revision: Revision | None = None
        self.before: dict[str, object] = {}
        if revision:
            if not run.revisions or run.revisions[-1].status != Status.PREPARING:
                raise ActionFailed(f"run {run.id} has no prepared revision: call prepare_revision first")
            self.revision = run.revisions[-1]
            self.before = {key: getattr(run, key) for key in _TOTALS}
        self.parser = agent.parser()
        self._process: AgentProcess | None = None
        self._checks: RunChecks | None = None
        self._guard: RepoGuard | None = None
        self._cancel_requested = False
        self._task_cancelled = False  # the task awaiting `start` was cancelled: raise once recorded
        self._recording_pgid: asyncio.Future[None] | None = None

    @property
    def cancel_requested(self) -> bool:
        return self._cancel_requested

    def cancel(self) -> None:
        """Stop the agent (its work is committed, the run cancelled), or the checks when they
        are running (the run goes to review with the checks that ran)."""
        self._cancel_requested = True
        if self._process is not None:
            self._process.cancel()
        if self._checks is not None:
            self._checks.cancel()

    async def start(self) -> Run:
        """Run the agent (and the checks) to the end; returns the run as recorded. Should
        anything raise on the way, the run is recorded `failed` (`crashed`, the error in its
        message; the agent's work committed when it can be) before the error goes on up, so
        run.json never stays `running`. Cancelling the task that awaits this is `cancel()`:
        the agent is stopped, its work committed, the run recorded `cancelled`; then
        `CancelledError` goes on up."""
        if self.revision is not None:
            self.revision.status = Status.RUNNING
        try:
            run = await self._start()
            if self.revision is not None:
                run = await self._steady(asyncio.to_thread(self._end_revision, run))
        except BaseException as err:
            self._record_crash(err)
            if self.revision is not None:  # recorded failed/crashed above when it could be; else stopped
                self.revision.status = Status.INTERRUPTED if self.run.is_active else self.run.status
                self.revision.finished_at = self.store.now()
                self.store.save(self.run)
            raise
        if self._task_cancelled:
            raise asyncio.CancelledError
        return run

    async def _steady(self, awaitable: Awaitable[T]) -> T:
        """`await awaitable` to its end, even when the task running the attempt is cancelled
        meanwhile: that cancel becomes `cancel()` (the agent stopped, the checks skipped), and
        `start` raises `CancelledError` once the run is recorded. Every step of an attempt
        goes through here, so a cancel never leaves a half-written record or a live agent."""
        future = asyncio.ensure_future(awaitable)
        while True:
            try:
                return await asyncio.shield(future)
            except asyncio.CancelledError:
                if future.cancelled():
                    raise
                task = asyncio.current_task()
                if task is not None:
                    task.uncancel()  # our own waits (the agent's kill grace) must still time out
                self._task_cancelled = True
                self.cancel()

    def _prompt(self) -> tuple[str, str | None]:
        """The attempt's prompt and the session it resumes (None: a new one)."""
        if self.revision is None:
            return run_prompt(self.run), None
        return Path(self.revision.prompt_path or "").read_text(encoding="utf-8"), self.revision.session_id

    def _setup(self) -> tuple[RepositoryWatch, AgentProcess | None]:
        """Everything before the agent starts (blocking git and file work: call in a thread):
        the checkout fingerprinted, the repository's git files guarded, the command built and
        confined, the run `running`. No process when the sandbox the run requires is missing
        (the run is then recorded failed)."""
        run, store = self.run, self.store
        before = RepositoryWatch(run.root)  # hybrid-tui's own writes meanwhile are left out
        self._guard = RepoGuard.take(store, run)  # the repository's git config, hooks... (core/run/repo_guard.py)
        prompt, resume = self._prompt()
        invocation = self.agent.command(run.worktree_dir, prompt, resume=resume)
        if invocation.prompt_file is not None:
            self.parser.prompt_file = str(invocation.prompt_file)  # its Reads are counted
        # Kimi's "auto" flavour is only known once the command is built.
        store.update(run, flavour=self.agent.flavour, profile=self.agent.profile())
        try:
            confined = confine_agent(store, run, self.agent.name, self.agent.flavour, invocation, mode=self.sandbox)
        except SandboxUnavailable as err:
            store.transition(
                run, Status.FAILED, failure_kind="sandbox", message=f"{err} -- {err.fix}", finished_at=store.now()
            )
            return before, None
        invocation, sandbox = confined.invocation, confined.sandbox
        store.update(
            run, sandbox=sandbox.tool, sandbox_reason=sandbox.reason,
            agent_data=str(confined.agent_data) if confined.agent_data else None,
        )  # fmt: skip
        process = AgentProcess(
            invocation,
            timeout=self.timeout,
            transcript=store.transcript_path(run.id),
            stderr_log=store.stderr_path(run.id),
            install_hint=self.agent.install_hint,
        )
        store.transition(run, Status.RUNNING, started_at=store.now(), owner_pid=os.getpid())
        return before, process

    async def _start(self) -> Run:
        run = self.run
        before, self._process = await self._steady(asyncio.to_thread(self._setup))
        self.on_events = self._guard.watching(self.on_events) if self._guard else self.on_events
        if self._process is None:  # refused: the sandbox it requires is missing
            self.on_events([Exit(None, run.status.value, run.failure_kind, run.message)])
            return run
        if self._cancel_requested:
            self._process.cancel()
        outcome: ProcessOutcome | None = None
        try:
            outcome = await self._steady(self._process.run(self._on_line, on_start=self._on_start))
        except AgentMissing as err:
            verdict = Verdict("failed", "agent_missing", str(err))
        else:
            self.parser.feed_stderr(outcome.stderr_tail)
            verdict = self.agent.verdict(outcome, self.parser)
        due = verdict.status == "done" and self.check_timeout is not None and not self._cancel_requested
        planned = await self._steady(asyncio.to_thread(_planned_checks, run)) if due else []
        # Only approved checks run; a spec without commands still records `checks == []`.
        verify = due and (self.approved_checks is not None or planned == [])
        if self._guard is not None:
            await self._steady(self._guard.settled())
        if self._recording_pgid is not None:
            await self._steady(self._recording_pgid)
        notices = await self._steady(asyncio.to_thread(self._finish, outcome, verdict, before, verify=verify))
        if verify:
            if planned:
                where = "plan's" if run.prompt_source == "plan" else "spec's"
                notices.append(Notice(f"The agent finished; running the {where} checks in the worktree."))
            self.on_events(notices)
            notices = []
            await self._verify()
        elif due:
            # Results of an earlier tip (before a revision) no longer say anything about this one.
            await self._steady(asyncio.to_thread(
                self.store.update, run, checks=None, checks_at=None, checks_sha=None, checks_skipped="not approved"
            ))  # fmt: skip
            count = f"{len(planned)} check(s)" if planned else "checks"
            notices.append(Notice(f"The agent finished; its {count} did not run: you did not approve them.", "warning"))
        run = self.run
        notices.append(Exit(run.exit_code, run.status.value, run.failure_kind, run.message))
        self.on_events(notices)
        return run

    def _end_revision(self, run: Run) -> Run:
        """Record how the revision ended in `run.revisions`; the quota fields add up over the
        attempts; a revision whose agent printed no session id keeps the one it resumed."""
        revision = self.revision
        assert revision is not None
        revision.status = run.status
        revision.failure_kind = run.failure_kind
        revision.finished_at = run.finished_at
        revision.head_sha = run.head_sha
        revision.steps = run.steps
        revision.requests = run.requests
        changes: dict[str, object] = {"revisions": run.revisions}
        for key, before in self.before.items():
            now = getattr(run, key)
            if isinstance(before, int | float) and isinstance(now, int | float):
                changes[key] = before + now
            elif now is None:
                changes[key] = before
        if run.session_id is None and revision.session_id is not None:
            changes["session_id"] = revision.session_id
        return self.store.update(run, **changes)

    def _record_crash(self, err: BaseException) -> None:
        """Mark a run still at work `failed`/`crashed` after an unexpected error; commit what the
        agent left when it was still `running` (best effort: this is already a failure). A
        revision has the first attempt's `head_sha` already, so that is no sign of "committed";
        a second commit of an already committed worktree is a no-op anyway."""
        run, store = self.run, self.store
        if not run.is_active:
            return
        if run.status == Status.RUNNING:
            with contextlib.suppress(Exception):
                if self._guard is not None:
                    self._guard.check()
                head_sha, _ = commit_run(run, self.agent.display_name, self.agent.author, "crashed")
                run.head_sha = head_sha
        reason = f"{type(err).__name__}: {err}" if str(err) else type(err).__name__
        with contextlib.suppress(Exception):
            store.transition(
                run,
                Status.FAILED,
                failure_kind="crashed",
                message=f"hybrid-tui stopped the run on an unexpected error ({reason}); "
                "the work so far is on the branch",
                finished_at=store.now(),
                steps=self.parser.steps,
                requests=self.parser.requests,
            )

    async def _verify(self) -> None:
        """Run the spec's checks in the worktree, then put the run in review."""
        from hybrid_tui.core.verify import RunChecks

        run, store = self.run, self.store
        self._checks = RunChecks(
            store, run, timeout=self.check_timeout or 0, on_events=self.on_events,
            approved=self.approved_checks or [], sandbox=self.sandbox, network=self.check_network,
            on_start=self._on_start,
        )
        if self._cancel_requested:  # cancelled while the agent's work was being committed
            self._checks.cancel()
        try:
            results = await self._steady(self._checks.start())
        except ActionFailed as err:
            self.on_events([Notice(f"The checks could not run: {err}", "error")])
        else:
            if self._checks.cancelled:
                self.on_events([Notice(f"Checks cancelled after {len(results)} command(s).", "warning")])
        finally:
            self._checks = None
        if self._recording_pgid is not None:
            await self._steady(self._recording_pgid)
        await self._steady(asyncio.to_thread(store.transition, run, Status.REVIEW))

    def _usage(self) -> dict[str, object]:
        """turns, tokens and cost the agent reported (`parser.stats()`: Claude's result line);
        None each where the parser has nothing to say (Kimi's stream reports none of them)."""
        stats = self.parser.stats()
        return {key: stats.get(key) for key in ("turns", "tokens", "cost_usd")}

    def _on_start(self, pid: int) -> None:
        """Record the process group (recovery stops it should hybrid-tui die) in a thread, after
        the one recorded before; awaited before the attempt's next write."""
        previous = self._recording_pgid

        async def record() -> None:
            if previous is not None:
                await previous
            await asyncio.to_thread(self.store.update, self.run, pgid=pid)

        self._recording_pgid = asyncio.ensure_future(record())

    def _on_line(self, line: str, truncated: bool) -> None:
        if truncated:  # cut JSON would only show as garbage; the transcript has it whole
            self.on_events([Notice(
                f"a line of the agent's output over {len(line.encode()):,} bytes is not shown "
                f"(it is whole in {self.store.transcript_path(self.run.id)})", "warning",
            )])  # fmt: skip
            return
        events = self.parser.feed(line)
        if events:
            self.on_events(events)
        if self.parser.finished and self._process is not None:
            self._process.finished(self.agent.linger_grace)

    def _finish(
        self,
        outcome: ProcessOutcome | None,
        verdict: Verdict,
        before: RepositoryWatch,
        *,
        verify: bool,
    ) -> list[AgentEvent]:
        """Commit the agent's work and record how it ended (status `verifying` when checks
        follow); returns the notices to show. Blocking git work: call in a thread."""
        run, store = self.run, self.store
        assert self._guard is not None, "taken when the attempt started"
        notices: list[AgentEvent] = self._guard.after()  # put back before hybrid-tui's git runs
        head_sha, moved = commit_run(run, self.agent.display_name, self.agent.author, verdict.status)
        if moved:
            notices.append(Notice(moved, "warning"))
        changed = before.changes()
        if changed:
            notices.append(
                Notice(
                    f"Your checkout changed while the agent ran: {', '.join(changed[:10])}. "
                    "hybrid-tui did not write there; check whether the agent did.",
                    "warning",
                )
            )
        status = Status.VERIFYING if verify else _STATUS_OF_VERDICT.get(verdict.status, Status.FAILED)
        store.transition(
            run,
            status,
            failure_kind=verdict.failure_kind,
            message=verdict.message,
            finished_at=store.now(),
            exit_code=outcome.returncode if outcome else None,
            steps=self.parser.steps,
            requests=self.parser.requests,
            prompt_reads=self.parser.prompt_reads,
            session_id=self.parser.session_id,
            head_sha=head_sha,
            checkout_changes=changed,
            **self._usage(),
        )
        return notices
