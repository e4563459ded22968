"""What the sub-commands share: exit codes, the run store and the project, JSON output, reading
a plan or a spec, converting a plan, finding a run by id and running an agent until it is done.

Everything heavy (pydantic settings, GitPython, the agents) is imported inside the functions
that use it: `import hybrid_tui.cli` stays light for the TUI's start-up.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hybrid_tui.core.errors import InputError

if TYPE_CHECKING:
    from hybrid_tui.config import Settings


EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2


def _store(settings: Settings):
    from hybrid_tui.core.runs import RunStore

    return RunStore(settings.resolved_state_dir())


def _project(args: argparse.Namespace):
    from hybrid_tui.core import git

    repo = git.open_project((args.repo or Path.cwd()).resolve())
    return repo, git.project_root(repo)


def _print_json(data: Any) -> None:
    """One JSON document, one line; DEL, C1 and bidi controls `\\u`-escaped too (`inert_json`)."""
    from hybrid_tui.core.inert import inert_json

    print(inert_json(json.dumps(data, ensure_ascii=False)), flush=True)


def _read_input(path: Path, what: str = "plan") -> str:
    """The file's text by `read_plan`'s rules (size, FIFO, binary...); its refusals name the
    file as `what` it is meant to be ("spec" for `check`)."""
    from hybrid_tui.core.plan.plans import read_plan

    try:
        return read_plan(path)
    except InputError as err:
        if what == "plan" or not err.message.startswith("Cannot use plan "):
            raise
        raise InputError(f"Cannot use {what} " + err.message.removeprefix("Cannot use plan "), fix=err.fix) from None


def _spec_from_plan(args: argparse.Namespace, settings: Settings, path: Path, text: str) -> str:
    from hybrid_tui.core import git
    from hybrid_tui.core.spec.convert import convert_plan
    from hybrid_tui.core.spec.format import render_spec

    repo, root = _project(args)
    branch, sha = git.head_branch(repo)
    spec = convert_plan(
        text,
        source=path.name,
        number=_store(settings).next_number(root),
        base=f"{branch}@{sha[:7]}",
        tree=git.tree_paths(repo, sha),
        root=str(root),
    )
    return render_spec(spec)


def _with_agent_timeout(settings: Settings, agent: str, timeout: float | None) -> Settings:
    """`settings` with `[agents.AGENT] timeout` set to the `--timeout` flag's value, so the
    agent stops when the flag says and its timed-out message names those seconds."""
    section = getattr(settings.agents, agent, None)
    if timeout is None or section is None:
        return settings
    agents = settings.agents.model_copy(update={agent: section.model_copy(update={"timeout": timeout})})
    return settings.model_copy(update={"agents": agents})


def _run_until_done(start: Callable, cancel: Callable[[], None]):
    """Run the coroutine `start()`; Ctrl-C or SIGTERM cancels the agent (work is committed)."""

    async def main():
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, cancel)
        return await start()

    return asyncio.run(main())


def _runs_for(args: argparse.Namespace, settings: Settings, *, writes: bool = True):
    """The run store, orphaned runs recovered first. A command that `writes` (a record, a log,
    the checkout) refuses up front, exit 2, when the state dir cannot be written (read-only,
    no permission, full); one that only reads works on such a state dir, leaving its runs for
    a later recovery."""
    from hybrid_tui.core.run.recovery import recover_runs
    from hybrid_tui.core.runs import StateDirError

    store = _store(settings)
    if writes:
        store.require_writable()
        recover_runs(store)
    else:
        with contextlib.suppress(StateDirError):
            recover_runs(store)
    return store


def _stopped_mid_way(what: str, err: Exception, store):
    """`ActionFailed` (exit 1) for a run or a check run that the state dir (no space left,
    turned read-only) or git stopped after it began: the record is as it was last written."""
    from hybrid_tui.core.errors import ActionFailed, HybridError
    from hybrid_tui.core.git import GitCommandError
    from hybrid_tui.core.runs import state_dir_fix

    fix = ""
    if isinstance(err, HybridError):
        reason, fix = err.message, err.fix or fix
    elif isinstance(err, GitCommandError):
        said = (err.stderr or "").strip().splitlines()
        reason = f"git: {said[-1] if said else f'exit {err.status}'}"
    elif isinstance(err, OSError):
        reason = f"{err.filename}: {err.strerror}" if err.filename else (err.strerror or str(err))
        fix = f"hybrid-tui writes the run's record, transcript and worktree under {store.root}: {state_dir_fix(err)}"
    else:
        reason = str(err)
    return ActionFailed(
        f"{what} failed mid-way: {reason}; its record is as it was last written",
        fix=(fix + " `hybrid-tui runs` shows it again (a run cut short is marked interrupted, its work kept).").strip(),
    )


def _load_run(store, run_id: str):
    """`store.load(run_id)`, its refusal completed with what to do: the matching ids when the
    prefix is ambiguous, `hybrid-tui runs` when nothing matches."""
    if not run_id.strip():
        raise InputError("the run id is empty", fix="Pass a run id or a unique prefix of one; `hybrid-tui runs` lists them.")
    try:
        return store.load(run_id)
    except InputError as err:
        if err.fix is not None:
            raise
        matches = [run.id for run in store.list() if run.id.startswith(run_id)]
        if len(matches) > 1:
            shown = ", ".join(matches[:8]) + (f" and {len(matches) - 8} more" if len(matches) > 8 else "")
            fix = f"It matches {shown}: give more of the id."
        else:
            fix = "`hybrid-tui runs` lists the runs of the repository you are in (outside a repository: every run)."
        raise InputError(err.message, fix=fix) from None
