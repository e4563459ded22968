"""The `hybrid-tui` command: the TUI by default, and sub-commands for scripts and for Claude.

Exit codes: 0 ok; 1 the run or the action failed; 2 bad usage or bad input (nothing changed).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hybrid_tui.core.errors import ActionFailed, HybridError, InputError

# The TUI's start-up path imports neither `hybrid_tui.config` (pydantic) nor the agents: the
# sub-commands import them where they are used (DESIGN.md: first frame <= 1.3x a bare app).
if TYPE_CHECKING:
    from hybrid_tui.agents.events import AgentEvent
    from hybrid_tui.config import Settings
    from hybrid_tui.ui.app import HybridApp


def event_to_dict(event: AgentEvent) -> dict[str, Any]:
    """`agents.events.event_to_dict`, imported on first use."""
    from hybrid_tui.agents.events import event_to_dict as to_dict

    return to_dict(event)


EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2

EXIT_CODES_HELP = (
    "exit codes: 0 ok; 1 the run or the action failed (agent failed, timed out or cancelled, "
    "a check failed, git refused); 2 bad usage or bad input (nothing was changed). "
    "Errors go to stderr, also with --json."
)
RUN_ID_HELP = "the run's id, or any unique prefix of it (`hybrid-tui runs` lists them)"
SOURCE_HELP = (
    "a spec (a .md file whose first line starts with `# Spec:`) runs as it is; anything else "
    "is a plan and is converted into a spec first"
)


def _seconds(text: str) -> float:
    """An argparse type: a number of seconds > 0 (0 or less is a usage error, exit 2)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a number of seconds greater than 0, not {text!r}")
    return value


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hybrid-tui",
        description="Claude plans, Kimi implements: delegate Claude Code plans to a worker "
        "agent on an isolated git branch, then review and accept or reject. Without a "
        "COMMAND it opens the TUI.",
        epilog=EXIT_CODES_HELP + " `hybrid-tui COMMAND --help` says more.",
    )
    parser.add_argument("--repo", type=Path, default=None, metavar="DIR", help="the git repository (default: .)")
    parser.add_argument("--plans-dir", type=Path, default=None, metavar="DIR", help="Claude's plans directory")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    def add(name: str, help: str, *, repo: bool = True, json_flag: bool = False,
            json_help: str = "one JSON document on stdout") -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help, description=help, epilog=EXIT_CODES_HELP)
        if repo:
            p.add_argument("--repo", type=Path, default=argparse.SUPPRESS, metavar="DIR",
                           help="the git repository (default: .)")
        if json_flag:
            p.add_argument("--json", action="store_true", help=json_help)
        return p

    p = add("plans", "list Claude's plans, newest first", json_flag=True)
    p.add_argument("--plans-dir", type=Path, default=argparse.SUPPRESS, metavar="DIR", help="Claude's plans directory")
    p = add("spec", "convert a plan into a spec and print it")
    p.add_argument("plan", type=Path, metavar="PLAN_FILE", help="a plan (Claude's markdown); a spec is refused")
    p.add_argument("-o", "--output", type=Path, metavar="FILE", help="write the spec to FILE instead of stdout")
    p.add_argument("--with-claude", action="store_true",
                   help="ask `claude -p` (read-only) to convert the plan; the deterministic spec "
                        "stays when Claude is missing or fails, and a warning says why")
    p = add("check", "validate a spec: FILE:LINE: severity: message lines (exit 1 on errors)")
    p.add_argument("spec", type=Path, metavar="SPEC_FILE")
    p = add("run", "run the worker on a plan or a spec, on a new branch; events as they come, "
            "then the spec's checks, then a summary (exit 0: the agent finished and every check passed)",
            json_flag=True, json_help="one JSON object per line on stdout: the events as they come, then a summary")
    p.add_argument("source", type=Path, metavar="PLAN_OR_SPEC_FILE", help=SOURCE_HELP)
    p.add_argument("--agent", default="kimi", metavar="kimi|claude",
                   help="the worker: kimi (default), or claude (\"Claude implements\": the plan itself is its prompt)")
    p.add_argument("--timeout", type=_seconds, metavar="S",
                   help="seconds before the agent is stopped (default: [agents.NAME] timeout, 300 for kimi, 600 for claude)")
    p.add_argument("--check-timeout", type=_seconds, metavar="S",
                   help="seconds for each verification command (default: [review] check_timeout, 120)")
    p.add_argument("--spec", action="store_true",
                   help="convert a plan into a spec first even for --agent claude (which otherwise gets the plan itself)")
    add("runs", "list the runs of this repository (all runs outside a repository), newest first", json_flag=True)
    p = add("diff", "show a run's changes against its base", repo=False, json_flag=True)
    p.add_argument("run_id", metavar="RUN_ID", help=RUN_ID_HELP)
    p = add("verify", "run a run's verification commands again in its worktree (exit 1 if one fails)",
            repo=False, json_flag=True, json_help="one JSON object per line on stdout: the events as they come, then a summary")
    p.add_argument("run_id", metavar="RUN_ID", help=RUN_ID_HELP)
    p.add_argument("--timeout", type=_seconds, metavar="S", help="seconds for each command (default: [review] check_timeout, 120)")
    p = add("accept", "land a run's branch on its base branch (all of it, or --only some files)", repo=False, json_flag=True)
    p.add_argument("run_id", metavar="RUN_ID", help=RUN_ID_HELP)
    p.add_argument("--only", nargs="+", action="extend", metavar="PATH",
                   help="accept only these files (repository-relative, as `hybrid-tui diff` lists them), "
                        "as one commit; the run stays under review")
    p.add_argument("--squash", action="store_true", help="land the whole branch as one commit (--strategy squash)")
    p.add_argument("--strategy", choices=["merge", "squash", "rebase"],
                   help="merge commit, one squashed commit, or fast-forward after a rebase (default: [merge] strategy)")
    p.add_argument("--dry-run", action="store_true", help="only say what would stop or surprise the accept")
    p = add("rebase", "rebase a run's branch onto the current tip of its base branch", repo=False, json_flag=True)
    p.add_argument("run_id", metavar="RUN_ID", help=RUN_ID_HELP)
    p.add_argument("--undo", action="store_true", help="put the branch back where it was before the last rebase")
    p = add("reject", "discard a run's branch (its tip is kept under refs/hybrid-tui/rejected/)", repo=False, json_flag=True)
    p.add_argument("run_id", metavar="RUN_ID", help=RUN_ID_HELP)
    p = add("revise", "send a run back to its agent with a note: same session, worktree and branch",
            repo=False, json_flag=True, json_help="one JSON object per line on stdout: the events as they come, then a summary")
    p.add_argument("run_id", metavar="RUN_ID", help=RUN_ID_HELP)
    p.add_argument("-m", "--message", metavar="NOTE", help="what the agent should change")
    p.add_argument("--claude-points", action="store_true", help="send the points of the run's last Claude review (before -m NOTE)")
    p.add_argument("--fresh", action="store_true", help="start a new agent session with the spec and the note instead of resuming")
    p.add_argument("--timeout", type=_seconds, metavar="S",
                   help="seconds before the agent is stopped (default: [agents.NAME] timeout)")
    p.add_argument("--check-timeout", type=_seconds, metavar="S",
                   help="seconds for each verification command (default: [review] check_timeout, 120)")
    p = add("review", "ask Claude (headless, read-only) to review a run's branch: exit 0 approve, 1 request changes", repo=False, json_flag=True)
    p.add_argument("run_id", metavar="RUN_ID", help=RUN_ID_HELP)
    p.add_argument("--timeout", type=_seconds, metavar="S", help="seconds before Claude is stopped (default: [agents.claude] timeout, 600)")
    p = add("pr", "push a run's branch and open a pull request with the spec as its body (needs a remote and gh)", repo=False, json_flag=True)
    p.add_argument("run_id", metavar="RUN_ID", help=RUN_ID_HELP)
    p.add_argument("--remote", help="the remote to push to (default: the base branch's remote, else origin)")
    p.add_argument("--dry-run", action="store_true", help="only say whether a pull request can be opened, and the commands")
    return parser


class ReaderMayLeave:
    """`sys.stdout` for the sub-commands, when its reader may leave early (`| head`).

    The first write or flush that finds the pipe closed points the file descriptor at
    /dev/null and drops the rest of the output: the command carries on to its end and exits
    with its own code. So `hybrid-tui run SPEC | head` still runs the agent and its checks to
    the end and commits the work (a BrokenPipeError raised inside the run would stop it as a
    crash), and `hybrid-tui plans | head` exits 0."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream
        self.reader_left = False

    def write(self, text: str) -> int:
        if not self.reader_left:
            try:
                return self._stream.write(text)
            except BrokenPipeError:
                self._leave()
        return len(text)

    def flush(self) -> None:
        if not self.reader_left:
            try:
                self._stream.flush()
            except BrokenPipeError:
                self._leave()

    def _leave(self) -> None:
        self.reader_left = True
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, self._stream.fileno())  # what is still buffered goes nowhere
        finally:
            os.close(devnull)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    stdout = sys.stdout
    try:
        if args.command is None:
            return _tui(args)  # reads the settings itself; a broken file is a notification
        sys.stdout = ReaderMayLeave(stdout)
        from hybrid_tui.config import load_settings

        settings = load_settings()
        return COMMANDS[args.command](args, settings)
    except HybridError as err:
        print(f"hybrid-tui: {err}", file=sys.stderr)
        return err.exit_code
    except KeyboardInterrupt:  # outside a run (a run's Ctrl-C cancels the agent instead)
        print("hybrid-tui: interrupted", file=sys.stderr)
        return EXIT_FAILED
    finally:
        sys.stdout = stdout


# -- helpers -----------------------------------------------------------------------------------


def _store(settings: Settings):
    from hybrid_tui.core.runs import RunStore

    return RunStore(settings.resolved_state_dir())


def _project(args: argparse.Namespace):
    from hybrid_tui.core import workspace

    repo = workspace.open_project((args.repo or Path.cwd()).resolve())
    return repo, workspace.project_root(repo)


def _print_json(data: Any) -> None:
    print(json.dumps(data, ensure_ascii=False), flush=True)


def _read_input(path: Path, what: str = "plan") -> str:
    """The file's text by `read_plan`'s rules (size, FIFO, binary...); its refusals name the
    file as `what` it is meant to be ("spec" for `check`)."""
    from hybrid_tui.core.plans import read_plan

    try:
        return read_plan(path)
    except InputError as err:
        if what == "plan" or not err.message.startswith("Cannot use plan "):
            raise
        raise InputError(f"Cannot use {what} " + err.message.removeprefix("Cannot use plan "), fix=err.fix) from None


def _age(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{int(seconds // size)}{unit}"
    return f"{int(seconds)}s"


# -- commands ----------------------------------------------------------------------------------


def tui_app(args: argparse.Namespace) -> HybridApp:
    """The app as `hybrid-tui` starts it (bench/bench_startup.py times this very function).

    The garbage collector is off from here to the first frame: start-up allocates objects
    that mostly live as long as the app, and the collections they trigger cost ~10 ms before
    anything is drawn. After the first frame the app freezes them (`gc.freeze()`: the ~2,000
    start-up objects that were already garbage stay, a one-off) and turns it back on. The app
    reads the config file itself (`make_app` without settings): its first frame needs only a
    few values; the validated `Settings` follow right after it."""
    gc.disable()
    try:
        from hybrid_tui.ui.app import make_app

        return make_app(repo=args.repo, plans_dir=args.plans_dir, resume_gc=True)
    except BaseException:
        gc.enable()
        raise


def _tui(args: argparse.Namespace) -> int:
    tui_app(args).run()
    return EXIT_OK


def cmd_plans(args: argparse.Namespace, settings: Settings) -> int:
    from hybrid_tui.core.plans import CONFIG_SOURCE, find_plans_dir, list_plans

    _, root = _project(args)
    location = (
        find_plans_dir(root, args.plans_dir)
        if args.plans_dir or not settings.plans_dir
        else find_plans_dir(root, settings.plans_dir, CONFIG_SOURCE)
    )
    if not location.path.is_dir():
        given = location.source == "--plans-dir"
        if location.path.exists():
            raise InputError(f"{location.path}: not a directory ({location.source})",
                             fix="Pass the directory that holds the plans: --plans-dir DIR.")
        raise InputError(
            f"{location.path}: the plans directory does not exist ({location.source})",
            fix="Check the path given to --plans-dir." if given
            else "Claude Code creates it with its first plan; or pass --plans-dir DIR.",
        )
    plans = list_plans(location.path)
    advice = {plan.path: _plan_advice(plan.path, settings) for plan in plans}
    if args.json:
        _print_json(
            [
                {"path": str(p.path), "name": p.name, "title": p.title, "mtime": p.mtime, "size": p.size,
                 "advice": advice[p.path]}
                for p in plans
            ]
        )
        return EXIT_OK
    print(f"{len(plans)} plan(s) in {location.path} ({location.source})")
    now = time.time()
    for p in plans:
        found = advice[p.path] or {}
        badge = {"claude": "Claude", "kimi": "Kimi"}.get(found.get("choice"), "?")
        print(f"{_age(now - p.mtime):>5}  {p.size:>7}  [{badge:>6}]  {p.title}  ({p.name})")
        print(f"{'':>25}{found.get('reason') or 'no advice: the plan cannot be read'}")
    return EXIT_OK


def _plan_advice(path: Path, settings: Settings) -> dict[str, Any] | None:
    """The Claude-or-Kimi advice for a plan file as JSON, or None when it cannot be read."""
    from hybrid_tui.core.advice import advise_plan_file

    advice = advise_plan_file(path, settings.advice)
    if advice is None:
        return None
    return {"choice": advice.choice, "label": advice.label, "reason": advice.reason,
            "files": advice.files, "lines": advice.lines}


def _spec_from_plan(args: argparse.Namespace, settings: Settings, path: Path, text: str) -> str:
    from hybrid_tui.core import workspace
    from hybrid_tui.core.convert import convert_plan
    from hybrid_tui.core.spec import render_spec

    repo, root = _project(args)
    branch, sha = workspace.head_branch(repo)
    spec = convert_plan(
        text,
        source=path.name,
        number=_store(settings).next_number(root),
        base=f"{branch}@{sha[:7]}",
        tree=workspace.tree_paths(repo, sha),
    )
    return render_spec(spec)


def _require_writable(path: Path) -> None:
    """Refuse (InputError, before any work) an output path that cannot be written."""
    if path.is_dir():
        raise InputError(f"Cannot write the spec to {path}: it is a directory", fix="Pass a file name: -o FILE.")
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise InputError(f"Cannot write the spec to {path}: the directory {parent} does not exist",
                         fix="Create the directory first, or pass another -o FILE.")
    if not os.access(parent, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise InputError(f"Cannot write the spec to {path}: permission denied", fix="Pass another -o FILE.")


def cmd_spec(args: argparse.Namespace, settings: Settings) -> int:
    from hybrid_tui.core.spec import is_spec_text

    plan_text = _read_input(args.plan)
    if is_spec_text(plan_text):
        raise InputError(
            f"{args.plan} is already a spec (its first line starts with `# Spec:`)",
            fix=f"Check it with `hybrid-tui check {args.plan}`, or run it as it is: `hybrid-tui run {args.plan}`.",
        )
    if args.output:
        _require_writable(args.output)
    text = _spec_from_plan(args, settings, args.plan, plan_text)
    if args.with_claude:
        from hybrid_tui.core import workspace
        from hybrid_tui.core.convert.with_claude import convert_with_claude
        from hybrid_tui.core.spec import parse_spec

        ours = parse_spec(text)  # number, source and base as the deterministic spec has them
        repo, root = _project(args)
        claude = convert_with_claude(
            plan_text, root=root, source=ours.source, number=ours.number, base=ours.base,
            tree=workspace.tree_paths(repo, workspace.head_branch(repo)[1]),
            settings=settings.agents.claude,
        )  # fmt: skip
        if claude.ok:
            text = claude.text
            print(f"hybrid-tui: {claude.message}", file=sys.stderr)
            for problem in claude.problems:
                print(f"hybrid-tui: {problem}", file=sys.stderr)
        else:
            print(f"hybrid-tui: warning: kept the deterministic spec: {claude.message}", file=sys.stderr)
    if args.output:
        try:
            args.output.write_text(text, encoding="utf-8")
        except OSError as err:
            raise InputError(f"Cannot write the spec to {args.output}: {err.strerror or err}",
                             fix="Pass another -o FILE.") from None
        print(f"wrote {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return EXIT_OK


def cmd_check(args: argparse.Namespace, settings: Settings) -> int:
    from hybrid_tui.core import workspace
    from hybrid_tui.core.spec import is_spec_text, validate_spec

    text = _read_input(args.spec, "spec")
    repo, _ = _project(args)
    _, sha = workspace.head_branch(repo)
    _, problems = validate_spec(text, tree=workspace.tree_paths(repo, sha))
    for problem in problems:  # line 0: the spec as a whole, `FILE: severity: message`
        where = f"{args.spec}:{problem.line}" if problem.line else f"{args.spec}"
        print(f"{where}: {problem.severity}: {problem.message}")
    errors = sum(p.severity == "error" for p in problems)
    print(f"{args.spec}: {errors} error(s), {len(problems) - errors} warning(s)", file=sys.stderr)
    if errors and not is_spec_text(text):
        print(f"hybrid-tui: {args.spec} does not start with `# Spec: NNN -- title`; if it is a plan, "
              f"convert it with `hybrid-tui spec {args.spec} -o SPEC_FILE` "
              f"(`hybrid-tui run {args.spec}` converts a plan itself)", file=sys.stderr)
    return EXIT_FAILED if errors else EXIT_OK


def _describe(event: AgentEvent) -> str:
    """`describe_event`, with Kimi's `<system>` status tags shown as plain words, as the live
    pane shows them (`--json` keeps them, as the transcript does)."""
    from hybrid_tui.agents.events import ToolResult, describe_event

    line = describe_event(event)
    if isinstance(event, ToolResult) and "<system>" in line:
        line = line.replace("<system>", "").replace("</system>", "")
    return line


def _with_agent_timeout(settings: Settings, agent: str, timeout: float | None) -> Settings:
    """`settings` with `[agents.AGENT] timeout` set to the `--timeout` flag's value, so the
    agent stops when the flag says and its timed-out message names those seconds."""
    section = getattr(settings.agents, agent, None)
    if timeout is None or section is None:
        return settings
    agents = settings.agents.model_copy(update={agent: section.model_copy(update={"timeout": timeout})})
    return settings.model_copy(update={"agents": agents})


def _event_printer(args: argparse.Namespace) -> Callable[[list[AgentEvent]], None]:
    """Print events as they come: JSON lines with --json, else one plain line each."""

    def show(events: list[AgentEvent]) -> None:
        for event in events:
            if args.json:
                _print_json({"type": "event", **event_to_dict(event)})
            else:
                print(_describe(event), flush=True)

    return show


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    """Run an agent on a spec or a plan. A spec file (first line `# Spec:`) runs as it is. A
    plan goes to Kimi as the spec converted from it; Claude ("Claude implements") gets the plan
    itself as its prompt, no conversion (so no checks and no scope flags), unless `--spec` asks
    for the converted spec as for Kimi."""
    from hybrid_tui.agents.registry import agent_timeout, make_agent
    from hybrid_tui.core.dispatch import RunExecution, prepare_plan_run, prepare_run
    from hybrid_tui.core.spec import is_spec_text

    text = _read_input(args.source)
    settings = _with_agent_timeout(settings, args.agent, args.timeout)
    agent = make_agent(args.agent, settings)
    store = _store(settings)
    repo_path = (args.repo or Path.cwd()).resolve()
    if is_spec_text(text):
        prepared = prepare_run(store, repo_path, text, agent)
    elif agent.name == "claude" and not args.spec:
        prepared = prepare_plan_run(store, repo_path, text, agent, plan_path=args.source.resolve())
    else:
        spec_text = _spec_from_plan(args, settings, args.source, text)
        prepared = prepare_run(store, repo_path, spec_text, agent, plan_path=args.source.resolve())
    for warning in prepared.warnings:
        print(f"hybrid-tui: warning: {warning}", file=sys.stderr)
    run = prepared.run

    show = _event_printer(args)

    if not args.json:
        print(f"run {run.id}: {agent.display_name} on branch {run.branch} from {run.base_branch}@{run.base_sha[:7]}", flush=True)
    execution = RunExecution(
        store, run, agent, timeout=agent_timeout(args.agent, settings), on_events=show,
        check_timeout=args.check_timeout or settings.review.check_timeout,
    )
    run = _run_until_done(execution.start, execution.cancel)
    summary = {
        "type": "summary",
        "run_id": run.id,
        "status": run.status.value,
        "failure_kind": run.failure_kind,
        "message": run.message,
        "branch": run.branch,
        "base": f"{run.base_branch}@{run.base_sha}",
        "base_branch": run.base_branch,
        "base_sha": run.base_sha,
        "agent": run.agent,
        "prompt_source": run.prompt_source,
        "steps": run.steps,
        "turns": run.turns,
        "tokens": run.tokens,
        "cost_usd": run.cost_usd,
        "exit_code": run.exit_code,
        "worktree": run.worktree,
        "session_id": run.session_id,
        "checkout_changes": run.checkout_changes,
        **_review_fields(run),
    }
    if args.json:
        _print_json(summary)
    else:
        print(f"run {run.id}: {_status_text(run)}"
              + f", {_usage_text(run)}, branch {run.branch}")
        if run.message:
            print(run.message)
        _print_review(run)
        print(f"next: hybrid-tui diff {run.id} | hybrid-tui accept {run.id} | hybrid-tui reject {run.id}")
    return EXIT_OK if run.status.value == "review" and run.checks_ok is not False else EXIT_FAILED


def _status_text(run) -> str:
    """`failed (crashed)`; the failure kind only when it says more than the status."""
    status = run.status.value
    return f"{status} ({run.failure_kind})" if run.failure_kind and run.failure_kind != status else status


def _usage_text(run) -> str:
    """`3 step(s)`, plus turns, tokens and cost when the agent reported them (Claude)."""
    parts = [f"{run.steps} step(s)"]
    if run.turns is not None:
        parts.append(f"{run.turns} turn(s)")
    if run.tokens is not None:
        parts.append(f"{run.tokens:,} tokens")
    if run.cost_usd is not None:
        parts.append(f"${run.cost_usd:.4f}")
    return ", ".join(parts)


def _review_fields(run) -> dict[str, Any]:
    """What the review knows of a run, for JSON: checks, scope, partial accepts."""
    from hybrid_tui.core.verify import checks_json

    return {
        "checks": checks_json(run.checks),
        "out_of_scope": run.out_of_scope,
        "untouched": run.untouched,
        "partial_accepts": [p.model_dump() for p in run.partial_accepts],
    }


def _print_checks(run) -> None:
    for check in run.checks or []:
        mark = "✓" if check.ok else "✗"
        how = "timed out" if check.timed_out else "stopped" if check.exit_code is None else f"exit {check.exit_code}"
        print(f"  {mark} {check.command}  ({how}, {check.seconds:.1f}s)")


def _print_review(run) -> None:
    """Checks and scope in plain lines (the human form of `_review_fields`)."""
    _print_checks(run)
    if run.out_of_scope:
        print(f"out of scope (changed, not in the spec): {', '.join(run.out_of_scope)}")
    if run.untouched:
        print(f"untouched (in the spec, not changed): {', '.join(run.untouched)}")


def _run_until_done(start: Callable, cancel: Callable[[], None]):
    """Run the coroutine `start()`; Ctrl-C or SIGTERM cancels the agent (work is committed)."""

    async def main():
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, cancel)
        return await start()

    return asyncio.run(main())


def _runs_for(args: argparse.Namespace, settings: Settings):
    from hybrid_tui.core.recovery import recover_runs

    store = _store(settings)
    recover_runs(store)
    return store


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


def cmd_runs(args: argparse.Namespace, settings: Settings) -> int:
    store = _runs_for(args, settings)
    try:
        _, root = _project(args)
    except InputError:
        if args.repo is not None:
            raise
        root = None  # outside a repository: every run
    runs = store.list(root)
    if args.json:
        _print_json([run.model_dump(mode="json") for run in runs])
        return EXIT_OK
    for run in runs:
        status = _status_text(run)
        if run.checks:
            passed = sum(check.ok for check in run.checks)
            checks = f"checks {passed}/{len(run.checks)}"
        else:
            checks = ""
        print(f"{run.id}  {status:<22}  {run.agent:<6} {run.steps:>3} steps  {checks:<12}  {run.title}")
    if not runs:
        print("no runs yet")
    return EXIT_OK


def cmd_diff(args: argparse.Namespace, settings: Settings) -> int:
    from hybrid_tui.core.land import run_diff, run_diff_text, run_scope

    run = _load_run(_runs_for(args, settings), args.run_id)
    files = run_diff(run)
    scope = run_scope(run, files)
    flagged = {f.path for f in files if scope is not None and scope.flags(f)}
    review = _review_fields(run)
    if scope is not None:
        review.update(out_of_scope=scope.out_of_scope, untouched=scope.untouched)
    if args.json:
        _print_json(
            {
                "run_id": run.id,
                "files": [
                    {"path": f.path, "old_path": f.old_path, "status": f.status, "added": f.added,
                     "removed": f.removed, "binary": f.binary, "out_of_scope": f.path in flagged}
                    for f in files
                ],
                **review,
                "diff": run_diff_text(run),
            }
        )
        return EXIT_OK
    print(f"run {run.id}: {run.branch} against {run.base_branch}@{run.base_sha[:7]}, {len(files)} file(s)")
    for f in files:
        counts = "binary" if f.binary else f"+{f.added} -{f.removed}"
        name = f"{f.old_path} -> {f.path}" if f.old_path else f.path
        marker = "  ! out of scope" if f.path in flagged else ""
        print(f"  {f.status:<9} {counts:>12}  {name}{marker}")
    if scope is not None and scope.untouched:
        print(f"  untouched (in the spec, not changed): {', '.join(scope.untouched)}")
    _print_checks(run)
    print()
    sys.stdout.write(run_diff_text(run))
    return EXIT_OK


def cmd_verify(args: argparse.Namespace, settings: Settings) -> int:
    from hybrid_tui.core.verify import RunChecks, checks_json, require_rerunnable

    store = _runs_for(args, settings)
    run = _load_run(store, args.run_id)
    require_rerunnable(run)

    show = _event_printer(args)

    checks = RunChecks(store, run, timeout=args.timeout or settings.review.check_timeout, on_events=show)
    results = _run_until_done(checks.start, checks.cancel)
    ok = all(check.ok for check in results)
    if args.json:
        _print_json({"type": "summary", "run_id": run.id, "checks": checks_json(results), "ok": ok})
    elif not results and not checks.cancelled:
        why = "it ran the plan itself, with no spec" if run.prompt_source == "plan" else "its spec has no verification command"
        print(f"run {run.id}: no checks to run ({why})")
    else:
        passed = sum(check.ok for check in results)
        print(f"run {run.id}: {passed} of {len(results)} check(s) passed")
    return EXIT_OK if ok else EXIT_FAILED


def cmd_rebase(args: argparse.Namespace, settings: Settings) -> int:
    from hybrid_tui.core.merge import rebase_run, undo_rebase

    store = _runs_for(args, settings)
    run = _load_run(store, args.run_id)
    before = run.head_sha, run.base_sha
    run = (undo_rebase if args.undo else rebase_run)(store, run)
    changed = (run.head_sha, run.base_sha) != before
    if args.json:
        _print_json({"run_id": run.id, "branch": run.branch, "base_sha": run.base_sha, "head_sha": run.head_sha,
                     "changed": changed, "pre_rebase_ref": run.rebase.ref if run.rebase else None})
    elif args.undo:
        print(f"run {run.id}: {run.branch} is back at {run.head_sha[:7]}, on {run.base_branch}@{run.base_sha[:7]}")
    elif changed:
        print(f"run {run.id}: {run.branch} rebased onto {run.base_branch}@{run.base_sha[:7]} "
              f"(undo: hybrid-tui rebase {run.id} --undo)")
    else:
        print(f"run {run.id}: {run.branch} is already on top of {run.base_branch}; nothing to do")
    return EXIT_OK


def _land(args: argparse.Namespace, settings: Settings, action: Callable, verb: str) -> int:
    store = _runs_for(args, settings)
    run = action(store, _load_run(store, args.run_id))
    if args.json:
        _print_json({"run_id": run.id, "status": run.status.value, "branch": run.branch,
                     "merge_sha": run.merge_sha, "rejected_ref": run.rejected_ref,
                     "strategy": run.strategy, "accepted_ref": run.accepted_ref})
    elif verb == "accept":
        how = {"squash": "squashed onto", "rebase": "rebased and fast-forwarded onto"}.get(run.strategy or "", "merged into")
        print(f"run {run.id} accepted: {run.branch} {how} {run.base_branch} ({run.merge_sha[:7]})")
    else:
        kept = f"; its tip is kept as {run.rejected_ref}" if run.rejected_ref else ""
        print(f"run {run.id} rejected: branch {run.branch} and its worktree removed{kept}")
    return EXIT_OK


def cmd_accept(args: argparse.Namespace, settings: Settings) -> int:
    from hybrid_tui.core.land import accept_run

    if args.squash and args.strategy not in (None, "squash"):
        raise InputError(f"--squash and --strategy {args.strategy} contradict each other",
                         fix="Pass one of them (--squash is --strategy squash).")
    strategy = "squash" if args.squash else (args.strategy or settings.merge.strategy)
    if args.only and (args.squash or args.strategy):
        raise InputError("--only lands the chosen files as one commit: it takes no --squash or --strategy",
                         fix="Drop --squash/--strategy, or accept the whole branch without --only.")
    if args.dry_run:
        return _preflight(args, settings, strategy)
    if args.only:
        return _accept_only(args, settings)
    return _land(args, settings, lambda store, run: accept_run(store, run, strategy), "accept")


def _preflight(args: argparse.Namespace, settings: Settings, strategy: str) -> int:
    from hybrid_tui.core.merge import preflight

    run = _load_run(_runs_for(args, settings), args.run_id)
    only = _only_paths(run, args.only) if args.only else None
    findings = preflight(run, strategy, paths=set(only) if only else None)
    blocked = any(f.blocking for f in findings)
    if args.json:
        _print_json({"run_id": run.id, "strategy": strategy, "ok": not blocked,
                     "findings": [{"kind": f.kind, "problem": f.problem, "fix": f.fix, "blocking": f.blocking}
                                  for f in findings]})
    else:
        for f in findings:
            print(f"{'✗' if f.blocking else '!'} {f.problem}\n  Fix: {f.fix}")
        what = f"{', '.join(only)} as one commit" if only else f"({strategy})"
        print(f"run {run.id}: " + ("the accept would be refused" if blocked else f"ready to accept {what}"))
    return EXIT_FAILED if blocked else EXIT_OK


def _accept_only(args: argparse.Namespace, settings: Settings) -> int:
    from hybrid_tui.core.hunks import ALL
    from hybrid_tui.core.partial import accept_selection

    store = _runs_for(args, settings)
    run = _load_run(store, args.run_id)
    sha = accept_selection(store, run, {path: ALL for path in _only_paths(run, args.only)})
    paths = run.partial_accepts[-1].paths
    if args.json:
        _print_json({"run_id": run.id, "status": run.status.value, "branch": run.branch,
                     "partial_accept": {"sha": sha, "paths": paths}})
    else:
        print(f"run {run.id}: {', '.join(paths)} landed on {run.base_branch} as {sha[:7]}; "
              f"the rest stays on {run.branch}")
    return EXIT_OK


def _only_paths(run, paths: list[str]) -> list[str]:
    """The `--only` paths as the run's diff names them (`./a` and an absolute path inside the
    repository are taken as `a`). Refused (InputError, nothing changed): a path the run did not
    change, naming the ones it did; and a file whose content on the base branch is already the
    branch's (landed by an earlier `--only`): its patch would apply a second time on top."""
    from hybrid_tui.core import workspace
    from hybrid_tui.core.land import require_open, run_diff
    from hybrid_tui.core.merge import base_tip

    require_open(run, "accepted")
    root = Path(run.repo_root)
    files = run_diff(run)
    changed = {name for f in files for name in (f.path, f.old_path) if name}
    chosen: list[str] = []
    for given in paths:
        path = Path(given)
        if path.is_absolute() and path.is_relative_to(root):
            path = path.relative_to(root)
        name = Path(os.path.normpath(path)).as_posix()
        if name not in changed:
            listed = ", ".join(f.path for f in files[:20]) + (" …" if len(files) > 20 else "")
            raise InputError(
                f"run {run.id}: {given}: not a file the run changed",
                fix=f"The run changed: {listed}." if files else "The run changed no file.",
            )
        if name not in chosen:
            chosen.append(name)
    base, tip = base_tip(run), workspace.ref_sha(root, f"refs/heads/{run.branch}")
    if tip is not None:
        landed = [name for name in chosen if _blob(root, base, name) == _blob(root, tip, name)]
        if landed:
            raise ActionFailed(
                f"run {run.id}: {', '.join(landed)} on {run.base_branch} already "
                f"match{'es' if len(landed) == 1 else ''} {run.branch} (an earlier accept landed "
                f"{'it' if len(landed) == 1 else 'them'}); nothing to accept. Nothing changed.",
                fix=f"`hybrid-tui diff {run.id}` shows the run's changes; `hybrid-tui accept {run.id}` lands the rest of the branch.",
            )
    return chosen


def _blob(root: Path, commit: str, path: str) -> str | None:
    """The object id of `path` in `commit`, None when it is not there."""
    from hybrid_tui.core import workspace

    status, out, _ = workspace.git_rc(root, "rev-parse", "--verify", "--quiet", f"{commit}:{path}")
    return out.strip() if status == 0 else None


def cmd_reject(args: argparse.Namespace, settings: Settings) -> int:
    from hybrid_tui.core.land import reject_run

    return _land(args, settings, reject_run, "reject")


def cmd_revise(args: argparse.Namespace, settings: Settings) -> int:
    from hybrid_tui.agents.registry import agent_timeout
    from hybrid_tui.core.claude_review import load_review, points_as_note
    from hybrid_tui.core.revise import (
        RevisionExecution,
        agent_for_run,
        new_commits,
        prepare_revision,
    )

    store = _runs_for(args, settings)
    run = _load_run(store, args.run_id)
    notes = []
    if args.claude_points:
        review = load_review(store, run)
        if review is None:
            raise InputError(f"run {run.id} has no Claude review to forward", fix=f"Run `hybrid-tui review {run.id}` first.")
        notes.append(points_as_note(review))
    if args.message:
        notes.append(args.message)
    settings = _with_agent_timeout(settings, run.agent, args.timeout)
    agent = agent_for_run(run, settings)
    prompt, run = prepare_revision(store, run, "\n\n".join(notes), agent=agent, fresh=args.fresh)
    revision = run.revisions[-1]
    if not args.json:
        how = f"resumes session {revision.session_id}" if revision.session_id else "starts a fresh session"
        print(f"run {run.id}: revision {len(run.revisions)}, {agent.display_name} {how} on {run.branch}", flush=True)
    execution = RevisionExecution(
        store, run, agent, prompt, timeout=agent_timeout(run.agent, settings),
        on_events=_event_printer(args), check_timeout=args.check_timeout or settings.review.check_timeout,
    )
    run = _run_until_done(execution.start, execution.cancel)
    commits = new_commits(run, revision)
    if args.json:
        _print_json({
            "type": "summary", "run_id": run.id, "revision": len(run.revisions), "status": run.status.value,
            "failure_kind": run.failure_kind, "message": run.message, "branch": run.branch,
            "resumed_session": revision.session_id, "session_id": run.session_id,
            "from_sha": revision.from_sha, "head_sha": run.head_sha, "new_commits": commits,
            "steps": revision.steps, "total_steps": run.steps, "exit_code": run.exit_code, **_review_fields(run),
        })
    else:
        print(f"run {run.id}: {_status_text(run)}"
              + f", {revision.steps} step(s), {len(commits)} new commit(s) on {run.branch}")
        if run.message:
            print(run.message)
        _print_review(run)
        print(f"next: hybrid-tui diff {run.id} | hybrid-tui accept {run.id} | hybrid-tui revise {run.id} -m NOTE")
    return EXIT_OK if run.status.value == "review" and run.checks_ok is not False else EXIT_FAILED


def cmd_review(args: argparse.Namespace, settings: Settings) -> int:
    from hybrid_tui.core.claude_review import ClaudeReviewer, points_as_note

    store = _runs_for(args, settings)
    run = _load_run(store, args.run_id)
    reviewer = ClaudeReviewer(store, run, settings.agents.claude, timeout=args.timeout)
    reviewer.prepare()  # refusals (run state, claude missing) before Claude starts
    if not args.json:
        print(f"run {run.id}: asking Claude to review {run.branch} (read-only)…", flush=True)
    review = _run_until_done(reviewer.start, reviewer.cancel)
    if args.json:
        _print_json({"run_id": run.id, **review.model_dump(mode="json"), "note": points_as_note(review)})
    else:
        badge = "approve" if review.verdict == "approve" else "request changes"
        print(f"run {run.id}: Claude says {badge}" + (f" ({len(review.points)} point(s))" if review.points else ""))
        if review.summary:
            print(review.summary)
        for point in review.points:
            where = point.file + (f":{point.line}" if point.line else "")
            print(f"  - {where}: {point.problem}")
        if review.verdict != "approve":
            print(f"next: hybrid-tui revise {run.id} --claude-points")
    return EXIT_OK if review.verdict == "approve" else EXIT_FAILED


def cmd_pr(args: argparse.Namespace, settings: Settings) -> int:
    import shlex

    from hybrid_tui.core import workspace
    from hybrid_tui.core.pull_request import (
        find_remote,
        gh_create_argv,
        open_pull_request,
        pr_available,
        push_argv,
    )

    store = _runs_for(args, settings)
    run = _load_run(store, args.run_id)
    root = Path(run.repo_root)
    remotes = workspace.git(root, "remote").split() if root.is_dir() else []
    if args.remote and args.remote not in remotes:
        raise InputError(
            f"{root}: no git remote named {args.remote!r}",
            fix=f"Its remotes: {', '.join(remotes)}." if remotes else "It has none: add one with `git remote add NAME URL`.",
        )
    if not remotes and not args.dry_run:
        raise ActionFailed(
            f"No pull request for run {run.id}: the repository {root} has no git remote to push to.",
            fix=f"Add one (`git remote add origin URL`), then `hybrid-tui pr {run.id}` again; "
                f"or land the run here with `hybrid-tui accept {run.id}`.",
        )
    if args.dry_run:
        ok, reason = pr_available(run)
        remote = args.remote or find_remote(run)
        commands = [push_argv(run, remote), gh_create_argv(run, remote)] if remote else []
        if args.json:
            _print_json({"run_id": run.id, "available": ok, "reason": reason, "remote": remote, "commands": commands})
        else:
            print(f"run {run.id}: " + ("a pull request can be opened: " if ok else "no pull request: ") + reason)
            for argv in commands:
                print("  " + shlex.join(argv))
        return EXIT_OK if ok else EXIT_FAILED
    url = open_pull_request(store, run, remote=args.remote)
    if args.json:
        _print_json({"run_id": run.id, "url": url, "branch": run.branch, "base_branch": run.base_branch})
    else:
        print(f"run {run.id}: pull request {url}")
    return EXIT_OK


COMMANDS: dict[str, Callable[[argparse.Namespace, Settings], int]] = {
    "plans": cmd_plans,
    "spec": cmd_spec,
    "check": cmd_check,
    "run": cmd_run,
    "runs": cmd_runs,
    "diff": cmd_diff,
    "verify": cmd_verify,
    "accept": cmd_accept,
    "rebase": cmd_rebase,
    "reject": cmd_reject,
    "revise": cmd_revise,
    "review": cmd_review,
    "pr": cmd_pr,
}
