"""Dispatch: a spec in, an agent at work on its own branch, the result committed.

`prepare_run` checks everything that can be checked first (git repository, branch, spec, agent
binary) so that bad input changes nothing; only then does it create the run record, the branch
and the worktree. `RunExecution` runs the agent in the worktree, streams its events, and,
however the agent ends, commits what it left on the run's branch and records the scope check
(`out_of_scope`, `untouched`). When the agent finished (`done`) and `check_timeout` is given,
the run goes `verifying`: the spec's checks run in the worktree (`verify.RunChecks`, output
streamed as events) and are recorded in `checks`; then `review`. Checks run only for a run whose
agent finished: a failed or stopped run can have them run from the review (`rerun_checks`).
Failing checks do not change the status: the review shows them.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from hybrid_tui.agents.base import Agent, ProcessOutcome
from hybrid_tui.agents.events import AgentEvent, Exit, Notice
from hybrid_tui.agents.process import AgentMissing, AgentProcess
from hybrid_tui.core import workspace
from hybrid_tui.core.errors import ActionFailed
from hybrid_tui.core.runs import Run, RunStore, Status
from hybrid_tui.core.scope import record_scope
from hybrid_tui.core.spec import SpecError, validate_spec

if TYPE_CHECKING:
    from hybrid_tui.core.verify import RunChecks

PROMPT_PREAMBLE = """\
Implement the following spec in the current working directory, a git worktree made for this \
task. Create, modify and delete exactly the files it lists, meet every requirement, and run \
its verification commands. Do not commit and do not switch branches: your work is committed \
for you when you finish.

"""

_STATUS_OF_VERDICT = {
    "done": Status.REVIEW,
    "failed": Status.FAILED,
    "timed_out": Status.TIMED_OUT,
    "cancelled": Status.CANCELLED,
}


def build_prompt(spec_text: str) -> str:
    return PROMPT_PREAMBLE + spec_text


def check_agent_installed(agent: Agent) -> None:
    """Raise `AgentMissing` (with the install hint) when the agent's command is not found."""
    command = agent.command(Path.cwd(), "").argv[0]
    if shutil.which(command) is None:
        raise AgentMissing(command, agent.install_hint)


@dataclass
class Prepared:
    run: Run
    warnings: list[str] = field(default_factory=list)


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
    repo = workspace.open_project(repo_path)
    root = workspace.project_root(repo)
    base_branch, base_sha = workspace.head_branch(repo)
    spec, problems = validate_spec(spec_text, tree=workspace.tree_paths(repo, base_sha))
    errors = [p for p in problems if p.severity == "error"]
    if spec is None or errors:
        raise SpecError(errors)
    check_agent_installed(agent)

    warnings = [str(p) for p in problems if p.severity == "warning"]
    local = workspace.local_changes(root)
    if local:
        warnings.append(
            f"{len(local)} uncommitted change(s) in {root} are not part of the run: "
            "the worker starts from the last commit."
        )

    run_id = store.new_id()
    branch = f"{agent.name}/{run_id}-{workspace.slugify(title or spec.title)}"
    worktree = store.worktrees_dir / run_id
    spec_path = store.spec_path(run_id)
    spec_path.parent.mkdir(parents=True, exist_ok=True)
    spec_path.write_text(spec_text, encoding="utf-8")
    run = store.save(
        Run(
            id=run_id,
            number=spec.number,
            title=title or spec.title,
            repo_root=str(root),
            plan_path=str(plan_path) if plan_path else None,
            spec_path=str(spec_path),
            agent=agent.name,
            flavour=getattr(getattr(agent, "settings", None), "flavour", ""),
            branch=branch,
            base_branch=base_branch,
            base_sha=base_sha,
            worktree=str(worktree),
            owner_pid=os.getpid(),
            created_at=store.now(),
        )
    )
    workspace.create_worktree(repo, worktree, branch, base_sha)
    return Prepared(run, warnings)


def commit_run(run: Run, display_name: str, author: str, outcome: str) -> tuple[str, str | None]:
    """Commit whatever the agent left in the run's worktree on the run's branch, however it
    ended; first bring the worktree back to that branch if the agent switched away.
    Returns (the branch tip, a notice when the agent had switched branches).

    A run caught while `verifying` (hybrid-tui killed during the checks) had its agent's work
    committed already (`head_sha`): what is in the worktree now is the checks' litter, so the
    worktree is put back to that tip instead of committing it."""
    worktree = Path(run.worktree)
    if run.status == Status.VERIFYING and run.head_sha:
        workspace.restore_worktree(worktree, run.branch, run.head_sha)
        return run.head_sha, None
    moved = workspace.reconcile_branch(worktree, run.branch, run.base_sha)
    workspace.commit_all(
        worktree,
        author=author,
        message=f"{display_name}: {run.title}\n\nhybrid-tui run {run.id} ({outcome}).",
    )
    return workspace.git(worktree, "rev-parse", "HEAD"), moved


EventSink = Callable[[list[AgentEvent]], None]


class RunExecution:
    """One agent process working on a prepared run. `await start()`, `cancel()` from anywhere
    on the same event loop."""

    def __init__(
        self,
        store: RunStore,
        run: Run,
        agent: Agent,
        *,
        timeout: float,
        on_events: EventSink,
        check_timeout: float | None = None,
    ) -> None:
        """`check_timeout`: seconds for each verification command; None runs no checks."""
        self.store = store
        self.run = run
        self.agent = agent
        self.timeout = timeout
        self.on_events = on_events
        self.check_timeout = check_timeout
        self.parser = agent.parser()
        self._process: AgentProcess | None = None
        self._checks: RunChecks | None = None
        self._cancel_requested = False

    def cancel(self) -> None:
        """Stop the agent (its work is committed, the run cancelled), or the checks when they
        are running (the run goes to review with the checks that ran)."""
        self._cancel_requested = True
        if self._process is not None:
            self._process.cancel()
        if self._checks is not None:
            self._checks.cancel()

    async def start(self) -> Run:
        run, store = self.run, self.store
        root, worktree = Path(run.repo_root), Path(run.worktree)
        before = workspace.checkout_state(root)
        spec_text = Path(run.spec_path).read_text(encoding="utf-8")
        invocation = self.agent.command(worktree, build_prompt(spec_text))
        self._process = AgentProcess(
            invocation,
            timeout=self.timeout,
            transcript=store.transcript_path(run.id),
            stderr_log=store.stderr_path(run.id),
            install_hint=self.agent.install_hint,
        )
        store.update(run, status=Status.RUNNING, started_at=store.now(), owner_pid=os.getpid())
        if self._cancel_requested:
            self._process.cancel()
        try:
            outcome = await self._process.run(self._on_line, on_start=self._on_start)
        except AgentMissing as err:
            outcome = None
            verdict_status, kind, message = "failed", "agent_missing", str(err)
        else:
            self.parser.feed_stderr(outcome.stderr_tail)
            verdict = self.agent.verdict(outcome, self.parser)
            verdict_status, kind, message = verdict.status, verdict.failure_kind, verdict.message
        verify = verdict_status == "done" and self.check_timeout is not None and not self._cancel_requested
        notices = self._finish(outcome, verdict_status, kind, message, before, verify=verify)
        if verify:
            notices.append(Notice("The agent finished; running the spec's checks in the worktree."))
            self.on_events(notices)
            notices = []
            await self._verify()
        run = self.run
        notices.append(Exit(run.exit_code, run.status.value, run.failure_kind, run.message))
        self.on_events(notices)
        return run

    async def _verify(self) -> None:
        """Run the spec's checks in the worktree, then put the run in review."""
        from hybrid_tui.core.verify import RunChecks

        run, store = self.run, self.store
        self._checks = RunChecks(
            store, run, timeout=self.check_timeout or 0, on_events=self.on_events,
            on_start=lambda pid: store.update(run, pgid=pid),
        )
        try:
            results = await self._checks.start()
        except ActionFailed as err:
            self.on_events([Notice(f"The checks could not run: {err}", "error")])
        else:
            if self._checks.cancelled:
                self.on_events([Notice(f"Checks cancelled after {len(results)} command(s).", "warning")])
        finally:
            self._checks = None
        store.update(run, status=Status.REVIEW)

    def _on_start(self, pid: int) -> None:
        self.store.update(self.run, pgid=pid)

    def _on_line(self, line: str, truncated: bool) -> None:
        events = self.parser.feed(line)
        if events:
            self.on_events(events)

    def _finish(
        self,
        outcome: ProcessOutcome | None,
        verdict_status: str,
        failure_kind: str | None,
        message: str,
        before: dict[str, str],
        *,
        verify: bool,
    ) -> list[AgentEvent]:
        """Commit the agent's work and record how it ended (status `verifying` when checks
        follow) and the scope check; returns the notices to show."""
        run, store = self.run, self.store
        root = Path(run.repo_root)
        notices: list[AgentEvent] = []
        head_sha, moved = commit_run(run, self.agent.display_name, self.agent.author, verdict_status)
        if moved:
            notices.append(Notice(moved, "warning"))
        changed = workspace.compare_checkout(before, workspace.checkout_state(root))
        if changed:
            notices.append(
                Notice(
                    f"Your checkout changed while the agent ran: {', '.join(changed[:10])}. "
                    "hybrid-tui did not write there; check whether the agent did.",
                    "warning",
                )
            )
        status = Status.VERIFYING if verify else _STATUS_OF_VERDICT.get(verdict_status, Status.FAILED)
        store.update(
            run,
            status=status,
            failure_kind=failure_kind,
            message=message,
            finished_at=store.now(),
            exit_code=outcome.returncode if outcome else None,
            steps=self.parser.steps,
            session_id=self.parser.session_id,
            head_sha=head_sha,
            checkout_changes=changed,
        )
        record_scope(store, run)
        return notices
