"""Verification: the spec's commands run in the run's worktree, streamed, timed, recorded.

`run_checks` runs shell commands one after another and says how each ended (`CheckResult`);
`RunChecks` does that for a run: in its worktree, with the spec's commands (task-level first,
then spec-level, without repeats), recording `checks` in `run.json`, each check's output in its own file
(`runs/<id>/checks/<n>/<i>.out`, `CheckResult.output`: what reads it back, `read_output`, never
parses display text) and a human log of it all in `runs/<id>/checks.log`. `rerun_checks` is the
same for a run under review.

Behaviour choices:
- Each command runs as `/bin/sh -c` in a process group of its own, through the agents'
  `AgentProcess` (chunked line reading, timeout, SIGTERM then SIGKILL of the whole group).
  stderr is folded into stdout (`exec 2>&1` before the command), so the output reads in order.
- Output is streamed as `AgentEvent`s: `Notice("$ command")`, each output line as
  `Text(raw=True)`, then `Notice("✓ passed in 1.2s")` or an error notice (`✗ failed (exit 1)`,
  `✗ timed out after 120s`). The log file gets the same lines (a check's output once it ended).
- A check that fails does not stop the others; a cancel stops the current one and skips the
  rest (those that ran are kept, the stopped one with `exit_code` None).
- Checks never change the run's branch. They start only from a clean worktree (uncommitted
  changes there would be lost: refused with the fix), and afterwards the worktree is put back
  to the branch tip (`git.restore_worktree`: reset --hard, clean -fd, ignored files kept).
  What they left is named in a notice. A check can reach anywhere, like the agent: the user's
  checkout, refs and git config are compared before and after (`git.repository_state`),
  and a change is named in a warning and added to `run.checkout_changes` (invariant 1); the
  repository's git config, hooks and attributes are put back (core/run/repo_guard.py, `by: checks`).
- A spec without commands gives `checks == []`.
- A check runs only once the user has seen and approved it (issue 10): `RunChecks` takes the
  `approved` commands and runs nothing when the run's commands are not exactly those (the spec
  changed meanwhile, say). Where the approval comes from is the caller's: the TUI's
  confirmation, the CLI's `--approve-checks` or `[review] approve_checks = true`. A run whose
  checks were not approved records `checks_skipped = "not approved"` (core/run/dispatch.py).
- A plan run ("Claude implements") has the plan's own verification commands as its checks
  (`plan_check_commands`: the converter's reading of the plan), with the same approval.
"""

from __future__ import annotations

import asyncio
import shutil
import time
from collections.abc import Callable
from pathlib import Path

from hybrid_tui.agents.base import Invocation
from hybrid_tui.agents.events import AgentEvent, Notice, Text
from hybrid_tui.agents.process import AgentProcess
from hybrid_tui.core import git
from hybrid_tui.core.errors import ActionFailed
from hybrid_tui.core.land.merge import require_clean_worktree
from hybrid_tui.core.private_files import private_opener
from hybrid_tui.core.repo_lock import RepositoryWatch
from hybrid_tui.core.review.scope import load_spec
from hybrid_tui.core.run.repo_guard import RepoGuard
from hybrid_tui.core.runs import CheckResult, Run, RunStore

__all__ = [
    "CheckResult", "CheckRunner", "RunChecks", "check_commands", "checks_json", "plan_check_commands",
    "require_rerunnable", "rerun_checks", "run_checks", "text_check_commands",
]

SHELL = "/bin/sh"
EventSink = Callable[[list[AgentEvent]], None]


def _seconds(value: float) -> float:
    return round(value, 2)


class CheckRunner:
    """Runs `commands` in `cwd` one after another; `await run()` once, `cancel()` any time."""

    def __init__(
        self,
        commands: list[str],
        cwd: Path,
        *,
        timeout: float,
        on_events: EventSink,
        log_path: Path | None = None,
        on_start: Callable[[int], None] | None = None,
        kill_grace: float = 2.0,
        confine: Callable[[Invocation], Invocation] | None = None,
        output_dir: Path | None = None,
    ) -> None:
        """`confine`: turns each command's invocation into a sandboxed one (core/run/confine.py).
        `output_dir`: where check i's output is kept, `<i>.out` (`CheckResult.output`); then
        `log_path`, the human log, gets a copy of it after the check's `$ command` line."""
        self.output_dir = output_dir
        self.commands = list(commands)
        self.confine = confine
        self.cwd = cwd
        self.timeout = timeout
        self.on_events = on_events
        self.log_path = log_path
        self.on_start = on_start
        self.kill_grace = kill_grace
        self.cancelled = False
        self._process: AgentProcess | None = None

    def cancel(self) -> None:
        self.cancelled = True
        if self._process is not None:
            self._process.cancel()

    def _log(self, text: str) -> None:
        if self.log_path is not None:
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            with open(self.log_path, "a", encoding="utf-8", opener=private_opener) as handle:  # 0600
                handle.write(text)

    def _emit(self, event: AgentEvent, log_line: str) -> None:
        self._log(log_line + "\n")
        self.on_events([event])

    async def run(self) -> list[CheckResult]:
        results: list[CheckResult] = []
        for number, command in enumerate(self.commands, 1):
            if self.cancelled:
                break
            output = self.output_dir / f"{number}.out" if self.output_dir else None
            results.append(await self._run_one(command, output))
        return results

    async def _run_one(self, command: str, output: Path | None) -> CheckResult:
        self._emit(Notice(f"$ {command}"), f"$ {command}")
        log = output or self.log_path or Path("/dev/null")

        def on_line(line: str, truncated: bool) -> None:
            self.on_events([Text(line + (" …" if truncated else ""), raw=True)])

        invocation = Invocation([SHELL, "-c", "exec 2>&1\n" + command], self.cwd)
        if self.confine is not None:  # builds the sandbox's argv (files read, a dir made): a thread
            invocation = await asyncio.to_thread(self.confine, invocation)
        self._process = AgentProcess(
            invocation,
            timeout=self.timeout,
            transcript=log,  # the raw output goes to the log as it comes
            stderr_log=log,
            kill_grace=self.kill_grace,
            install_hint="a POSIX shell at /bin/sh",
        )
        if self.cancelled:
            self._process.cancel()
        started = time.monotonic()
        outcome = await self._process.run(on_line, on_start=self.on_start)
        seconds = _seconds(time.monotonic() - started)
        self._process = None
        if output is not None and self.log_path is not None:
            await asyncio.to_thread(_append_file, output, self.log_path)
        kept = str(output) if output is not None else None
        if outcome.timed_out:
            result = CheckResult(command=command, exit_code=None, ok=False, seconds=seconds, timed_out=True, output=kept)
            self._emit(Notice(f"✗ timed out after {self.timeout:g}s", "error"), f"✗ timed out after {self.timeout:g}s")
        elif outcome.cancelled:
            result = CheckResult(command=command, exit_code=None, ok=False, seconds=seconds, output=kept)
            self._emit(Notice("✗ cancelled", "warning"), "✗ cancelled")
        else:
            code = outcome.returncode
            ok = code == 0
            result = CheckResult(command=command, exit_code=code, ok=ok, seconds=seconds, output=kept)
            if ok:
                self._emit(Notice(f"✓ passed in {seconds:.1f}s"), f"✓ passed in {seconds:.1f}s")
            else:
                why = f"killed by signal {-code}" if code is not None and code < 0 else f"exit {code}"
                self._emit(Notice(f"✗ failed ({why}) in {seconds:.1f}s", "error"), f"✗ failed ({why}) in {seconds:.1f}s")
        return result


def _append_file(source: Path, target: Path) -> None:
    """`target` += `source`'s bytes (a check's output into the human log)."""
    try:
        with open(source, "rb") as src, open(target, "ab", opener=private_opener) as dst:
            shutil.copyfileobj(src, dst)
    except FileNotFoundError:
        pass  # the check printed nothing, or never started


def read_output(check: CheckResult, max_bytes: int = 2 * 1024 * 1024) -> list[str]:
    """The last lines a check printed (its last `max_bytes`), from `check.output`; [] when it
    printed nothing or its output was not kept (checks recorded before outputs were)."""
    if not check.output:
        return []
    try:
        with open(check.output, "rb") as handle:
            handle.seek(0, 2)
            size = handle.tell()
            handle.seek(max(0, size - max_bytes))
            data = handle.read()
    except OSError:
        return []
    if size > max_bytes:
        data = data.split(b"\n", 1)[-1]  # from the first whole line
    return data.decode("utf-8", "replace").splitlines()


async def run_checks(
    commands: list[str],
    cwd: Path,
    *,
    timeout: float,
    on_events: EventSink,
    log_path: Path | None = None,
    on_start: Callable[[int], None] | None = None,
) -> list[CheckResult]:
    """Run each command via `/bin/sh -c` in `cwd` (see the module docstring); their results."""
    runner = CheckRunner(commands, cwd, timeout=timeout, on_events=on_events, log_path=log_path, on_start=on_start)
    return await runner.run()


def plan_check_commands(plan_text: str) -> list[str]:
    """The verification commands a plan names, as the converter finds them (a plan run's checks:
    "Claude implements" gets the plan itself, never a spec)."""
    from hybrid_tui.core.spec.convert import convert_plan

    return convert_plan(plan_text, source="plan").all_commands()


def text_check_commands(text: str) -> list[str]:
    """The checks a run made from `text` will have: a spec's commands, else the plan's (what
    the TUI shows for approval before it prepares the run)."""
    from hybrid_tui.core.spec.format import is_spec_text, validate_spec

    if is_spec_text(text):
        spec, _ = validate_spec(text)
        return spec.all_commands() if spec is not None else []
    return plan_check_commands(text)


def check_commands(run: Run) -> list[str]:
    """The run's verification commands: its spec's, task-level first, without repeats; for a
    run whose prompt was the plan itself ("Claude implements"), the plan's (`plan_check_commands`
    on the run's copy of the plan)."""
    if run.prompt_source == "plan":
        try:
            text = Path(run.spec_path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as err:
            raise ActionFailed(f"run {run.id}: its plan {run.spec_path} cannot be read ({err}), so its checks are unknown") from None
        return plan_check_commands(text)
    spec = load_spec(run.spec_path)
    if spec is None:
        raise ActionFailed(f"run {run.id}: its spec {run.spec_path} cannot be read, so its checks are unknown")
    return spec.all_commands()


class RunChecks:
    """The checks of one run: run in its worktree, the worktree restored, `checks` recorded.
    `await start()` once; `cancel()` from the same event loop."""

    def __init__(
        self,
        store: RunStore,
        run: Run,
        *,
        timeout: float,
        on_events: EventSink,
        approved: list[str],
        on_start: Callable[[int], None] | None = None,
        sandbox: str = "auto",
        network: bool = False,
    ) -> None:
        """`approved`: the commands the user saw and approved (`check_commands(run)` as shown
        to them); the checks run only when they are still exactly those. `sandbox`: the
        setting ("auto", "required", "off"); `network`: whether the checks keep the network
        inside the sandbox."""
        self.store = store
        self.run = run
        self.approved = list(approved)
        self.sandbox = sandbox
        self.network = network
        self.timeout = timeout
        self.on_events = on_events
        self.on_start = on_start
        self._runner: CheckRunner | None = None
        self.cancelled = False

    def cancel(self) -> None:
        """Stop the running check and skip the rest; the ones that ran are still recorded."""
        self.cancelled = True
        if self._runner is not None:
            self._runner.cancel()

    def _prepare(self) -> tuple[Path, str, list[str]]:
        run = self.run
        worktree = require_clean_worktree(run, "run the checks")
        tip = git.branch_tip(run)
        if tip is None:
            raise ActionFailed(f"run {run.id}: its branch {run.branch} no longer exists")
        commands = check_commands(run)
        if commands != self.approved:
            raise ActionFailed(
                f"run {run.id}: its checks are not the ones you approved (now: "
                f"{'; '.join(commands) or 'none'}), so none ran",
                fix=f"Look at them again (hybrid-tui verify {run.id}) and approve those.",
            )
        return worktree, tip, commands

    async def start(self) -> list[CheckResult]:
        """Run the approved checks; the git and file work around them runs in threads."""
        run, store = self.run, self.store
        worktree, tip, commands = await asyncio.to_thread(self._prepare)
        before, guard = await asyncio.to_thread(self._watch, tip, commands)
        output_dir = await asyncio.to_thread(store.new_checks_dir, run.id) if commands else None
        from hybrid_tui.core.run.confine import confine_check

        def confine(invocation: Invocation) -> Invocation:
            return confine_check(store, run, invocation, mode=self.sandbox, network=self.network)[0]

        self._runner = CheckRunner(
            commands, worktree, timeout=self.timeout, on_events=self.on_events,
            log_path=store.checks_log_path(run.id), on_start=self.on_start, confine=confine,
            output_dir=output_dir,
        )
        if self.cancelled:
            self._runner.cancel()
        try:
            results = await self._runner.run()
        finally:
            notices = await asyncio.to_thread(self._restore, guard, worktree, tip)
            self.on_events(notices)
        notices = await asyncio.to_thread(self._record, before, results, tip)
        if notices:
            self.on_events(notices)
        return results

    def _watch(self, tip: str, commands: list[str]) -> tuple[RepositoryWatch, RepoGuard]:
        """Before the checks: the checkout fingerprinted, the repository's git files guarded,
        the log's header written."""
        run, store = self.run, self.store
        before = RepositoryWatch(run.root)  # hybrid-tui's own writes meanwhile are left out
        guard = RepoGuard.take(store, run)  # the repository's git config, hooks... (core/run/repo_guard.py)
        log = store.checks_log_path(run.id)
        if commands:
            log.parent.mkdir(parents=True, exist_ok=True)
            with open(log, "a", encoding="utf-8", opener=private_opener) as handle:  # 0600
                handle.write(f"== checks of run {run.id} on {tip[:7]} at {store.now()} ==\n")
        return before, guard

    def _restore(self, guard: RepoGuard, worktree: Path, tip: str) -> list[AgentEvent]:
        """After the checks, whatever they did: git files put back, the worktree back at `tip`."""
        notices = list(guard.after("checks"))  # put back before hybrid-tui's git runs
        git.ensure_worktree(self.run.root, worktree)
        discarded = git.restore_worktree(worktree, self.run.branch, tip)
        if discarded:
            shown = ", ".join(discarded[:10]) + (" …" if len(discarded) > 10 else "")
            notices.append(Notice(
                f"The checks left changes in the worktree ({shown}); they were discarded: "
                "the branch holds only the agent's work."
            ))  # fmt: skip
        return notices

    def _record(self, before: RepositoryWatch, results: list[CheckResult], tip: str) -> list[AgentEvent]:
        run, store = self.run, self.store
        notices: list[AgentEvent] = []
        changed = before.changes()
        if changed:
            notices.append(Notice(
                f"Your checkout changed while the checks ran: {', '.join(changed[:10])}. "
                "hybrid-tui did not write there; check whether the checks did.",
                "warning",
            ))  # fmt: skip
            store.update(run, checkout_changes=sorted({*run.checkout_changes, *changed}))
        store.update(run, checks=results, checks_at=store.now(), checks_sha=tip, checks_skipped=None)
        return notices


def require_rerunnable(run: Run) -> None:
    """Refuse (ActionFailed) to re-run the checks of a run whose agent is still at work."""
    if refusal := run.refusal("verify"):
        raise refusal


async def rerun_checks(
    store: RunStore, run: Run, *, timeout: float, on_events: EventSink, approved: list[str],
    sandbox: str = "auto", network: bool = False,
) -> list[CheckResult]:
    """Run a finished run's checks again (any run whose worktree is still there) when they are
    the `approved` ones; records them. To be able to cancel, build `RunChecks` yourself after
    `require_rerunnable(run)`."""
    require_rerunnable(run)
    return await RunChecks(
        store, run, timeout=timeout, on_events=on_events, approved=approved, sandbox=sandbox, network=network
    ).start()


def checks_json(checks: list[CheckResult] | None) -> list[dict] | None:
    """`checks` as the summaries print them: `[{command, exit_code, ok, seconds, timed_out}]`."""
    if checks is None:
        return None
    return [check.model_dump(exclude={"output"}) for check in checks]
