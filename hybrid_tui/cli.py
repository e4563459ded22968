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

from hybrid_tui.core.errors import HybridError, InputError

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


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hybrid-tui",
        description="Claude plans, Kimi implements: delegate Claude Code plans to a worker "
        "agent on an isolated git branch, then review and accept or reject.",
    )
    parser.add_argument("--repo", type=Path, default=None, help="the git repository (default: .)")
    parser.add_argument("--plans-dir", type=Path, default=None, help="Claude's plans directory")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    def add(name: str, help: str, *, repo: bool = True, json_flag: bool = False) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help, description=help)
        if repo:
            p.add_argument("--repo", type=Path, default=argparse.SUPPRESS, help="the git repository (default: .)")
        if json_flag:
            p.add_argument("--json", action="store_true", help="machine-readable output")
        return p

    p = add("plans", "list Claude's plans, newest first", json_flag=True)
    p.add_argument("--plans-dir", type=Path, default=argparse.SUPPRESS, help="Claude's plans directory")
    p = add("spec", "convert a plan into a spec and print it")
    p.add_argument("plan", type=Path, metavar="PLAN_FILE")
    p.add_argument("-o", "--output", type=Path, help="write the spec to this file")
    p.add_argument("--with-claude", action="store_true",
                   help="ask `claude -p` (read-only) to convert the plan; the deterministic spec "
                        "stays when Claude is missing or fails, and a warning says why")
    p = add("check", "validate a spec (exit 1 on errors)")
    p.add_argument("spec", type=Path, metavar="SPEC_FILE")
    p = add("run", "run the worker on a plan or a spec, on a new branch", json_flag=True)
    p.add_argument("source", type=Path, metavar="PLAN_OR_SPEC_FILE")
    p.add_argument("--agent", default="kimi", help="the worker agent (default: kimi)")
    p.add_argument("--timeout", type=float, help="seconds before the agent is stopped")
    p.add_argument("--check-timeout", type=float, help="seconds for each verification command (default: [review] check_timeout)")
    p.add_argument("--spec", action="store_true",
                   help="convert a plan into a spec first even for --agent claude (which otherwise gets the plan itself)")
    add("runs", "list runs", json_flag=True)
    p = add("diff", "show a run's changes against its base", repo=False, json_flag=True)
    p.add_argument("run_id", metavar="RUN_ID")
    p = add("verify", "run a run's verification commands again in its worktree", repo=False, json_flag=True)
    p.add_argument("run_id", metavar="RUN_ID")
    p.add_argument("--timeout", type=float, help="seconds for each command (default: [review] check_timeout)")
    p = add("accept", "land a run's branch on its base branch (all of it, or --only some files)", repo=False, json_flag=True)
    p.add_argument("run_id", metavar="RUN_ID")
    p.add_argument("--only", nargs="+", action="extend", metavar="PATH",
                   help="accept only these files, as one commit; the run stays under review")
    p.add_argument("--squash", action="store_true", help="land the whole branch as one commit (--strategy squash)")
    p.add_argument("--strategy", choices=["merge", "squash", "rebase"],
                   help="merge commit, one squashed commit, or fast-forward after a rebase (default: [merge] strategy)")
    p.add_argument("--dry-run", action="store_true", help="only say what would stop or surprise the accept")
    p = add("rebase", "rebase a run's branch onto the current tip of its base branch", repo=False, json_flag=True)
    p.add_argument("run_id", metavar="RUN_ID")
    p.add_argument("--undo", action="store_true", help="put the branch back where it was before the last rebase")
    p = add("reject", "discard a run's branch (its tip is kept under refs/hybrid-tui/rejected/)", repo=False, json_flag=True)
    p.add_argument("run_id", metavar="RUN_ID")
    p = add("revise", "send a run back to its agent with a note: same session, worktree and branch", repo=False, json_flag=True)
    p.add_argument("run_id", metavar="RUN_ID")
    p.add_argument("-m", "--message", metavar="NOTE", help="what the agent should change")
    p.add_argument("--claude-points", action="store_true", help="send the points of the run's last Claude review (before -m NOTE)")
    p.add_argument("--fresh", action="store_true", help="start a new agent session with the spec and the note instead of resuming")
    p.add_argument("--timeout", type=float, help="seconds before the agent is stopped")
    p.add_argument("--check-timeout", type=float, help="seconds for each verification command (default: [review] check_timeout)")
    p = add("review", "ask Claude (headless, read-only) to review a run's branch: exit 0 approve, 1 request changes", repo=False, json_flag=True)
    p.add_argument("run_id", metavar="RUN_ID")
    p.add_argument("--timeout", type=float, help="seconds before Claude is stopped (default: agents.claude.timeout)")
    p = add("pr", "push a run's branch and open a pull request with the spec as its body (needs a remote and gh)", repo=False, json_flag=True)
    p.add_argument("run_id", metavar="RUN_ID")
    p.add_argument("--remote", help="the remote to push to (default: the base branch's remote, else origin)")
    p.add_argument("--dry-run", action="store_true", help="only say whether a pull request can be opened, and the commands")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command is None:
            return _tui(args)  # reads the settings itself; a broken file is a notification
        from hybrid_tui.config import load_settings

        settings = load_settings()
        return COMMANDS[args.command](args, settings)
    except HybridError as err:
        print(f"hybrid-tui: {err}", file=sys.stderr)
        return err.exit_code
    except KeyboardInterrupt:
        return EXIT_FAILED
    except BrokenPipeError:  # `hybrid-tui plans | head`: the reader left; not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK


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


def _read_input(path: Path) -> str:
    from hybrid_tui.core.plans import read_plan

    return read_plan(path)


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
    from hybrid_tui.core.plans import find_plans_dir, list_plans

    _, root = _project(args)
    location = find_plans_dir(root, args.plans_dir or settings.plans_dir)
    if not location.path.is_dir():
        raise InputError(
            f"{location.path}: the plans directory does not exist ({location.source})",
            fix="Claude Code creates it with its first plan; or pass --plans-dir DIR.",
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
        badge = {"claude": "Claude", "kimi": "Kimi"}.get((advice[p.path] or {}).get("choice"), "?")
        print(f"{_age(now - p.mtime):>5}  {p.size:>7}  [{badge:>6}]  {p.title}  ({p.name})")
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


def cmd_spec(args: argparse.Namespace, settings: Settings) -> int:
    plan_text = _read_input(args.plan)
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
        args.output.write_text(text, encoding="utf-8")
        print(f"wrote {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return EXIT_OK


def cmd_check(args: argparse.Namespace, settings: Settings) -> int:
    from hybrid_tui.core import workspace
    from hybrid_tui.core.spec import validate_spec

    text = _read_input(args.spec)
    repo, _ = _project(args)
    _, sha = workspace.head_branch(repo)
    _, problems = validate_spec(text, tree=workspace.tree_paths(repo, sha))
    for problem in problems:
        print(f"{args.spec}:{problem.line}: {problem.severity}: {problem.message}")
    errors = sum(p.severity == "error" for p in problems)
    print(f"{args.spec}: {errors} error(s), {len(problems) - errors} warning(s)", file=sys.stderr)
    return EXIT_FAILED if errors else EXIT_OK


def _describe(event: AgentEvent) -> str:
    from hybrid_tui.agents.events import describe_event

    return describe_event(event)


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
        store, run, agent, timeout=args.timeout or agent_timeout(args.agent, settings), on_events=show,
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
        print(f"run {run.id}: {run.status.value}" + (f" ({run.failure_kind})" if run.failure_kind else "")
              + f", {_usage_text(run)}, branch {run.branch}")
        if run.message:
            print(run.message)
        _print_review(run)
        print(f"next: hybrid-tui diff {run.id} | hybrid-tui accept {run.id} | hybrid-tui reject {run.id}")
    return EXIT_OK if run.status.value == "review" and run.checks_ok is not False else EXIT_FAILED


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
        how = "timed out" if check.timed_out else f"exit {check.exit_code}"
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
        kind = f" ({run.failure_kind})" if run.failure_kind else ""
        print(f"{run.id}  {run.status.value}{kind:<14}  {run.agent:<6} {run.steps:>3} steps  {run.title}")
    if not runs:
        print("no runs yet")
    return EXIT_OK


def cmd_diff(args: argparse.Namespace, settings: Settings) -> int:
    from hybrid_tui.core.land import run_diff, run_diff_text, run_scope

    run = _runs_for(args, settings).load(args.run_id)
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
    run = store.load(args.run_id)
    require_rerunnable(run)

    show = _event_printer(args)

    checks = RunChecks(store, run, timeout=args.timeout or settings.review.check_timeout, on_events=show)
    results = _run_until_done(checks.start, checks.cancel)
    ok = all(check.ok for check in results)
    if args.json:
        _print_json({"type": "summary", "run_id": run.id, "checks": checks_json(results), "ok": ok})
    else:
        passed = sum(check.ok for check in results)
        print(f"run {run.id}: {passed} of {len(results)} check(s) passed")
    return EXIT_OK if ok else EXIT_FAILED


def cmd_rebase(args: argparse.Namespace, settings: Settings) -> int:
    from hybrid_tui.core.merge import rebase_run, undo_rebase

    store = _runs_for(args, settings)
    run = store.load(args.run_id)
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
    run = action(store, store.load(args.run_id))
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
        raise InputError(f"--squash and --strategy {args.strategy} contradict each other")
    strategy = "squash" if args.squash else (args.strategy or settings.merge.strategy)
    if args.only and (args.squash or args.strategy):
        raise InputError("--only lands the chosen files as one commit: it takes no --squash or --strategy")
    if args.dry_run:
        return _preflight(args, settings, strategy)
    if args.only:
        return _accept_only(args, settings)
    return _land(args, settings, lambda store, run: accept_run(store, run, strategy), "accept")


def _preflight(args: argparse.Namespace, settings: Settings, strategy: str) -> int:
    from hybrid_tui.core.merge import preflight

    run = _runs_for(args, settings).load(args.run_id)
    findings = preflight(run, strategy, paths=set(args.only) if args.only else None)
    blocked = any(f.blocking for f in findings)
    if args.json:
        _print_json({"run_id": run.id, "strategy": strategy, "ok": not blocked,
                     "findings": [{"kind": f.kind, "problem": f.problem, "fix": f.fix, "blocking": f.blocking}
                                  for f in findings]})
    else:
        for f in findings:
            print(f"{'✗' if f.blocking else '!'} {f.problem}\n  Fix: {f.fix}")
        print(f"run {run.id}: " + ("the accept would be refused" if blocked else f"ready to accept ({strategy})"))
    return EXIT_FAILED if blocked else EXIT_OK


def _accept_only(args: argparse.Namespace, settings: Settings) -> int:
    from hybrid_tui.core.hunks import ALL
    from hybrid_tui.core.partial import accept_selection

    store = _runs_for(args, settings)
    run = store.load(args.run_id)
    sha = accept_selection(store, run, {path: ALL for path in args.only})
    paths = run.partial_accepts[-1].paths
    if args.json:
        _print_json({"run_id": run.id, "status": run.status.value, "branch": run.branch,
                     "partial_accept": {"sha": sha, "paths": paths}})
    else:
        print(f"run {run.id}: {', '.join(paths)} landed on {run.base_branch} as {sha[:7]}; "
              f"the rest stays on {run.branch}")
    return EXIT_OK


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
    run = store.load(args.run_id)
    notes = []
    if args.claude_points:
        review = load_review(store, run)
        if review is None:
            raise InputError(f"run {run.id} has no Claude review to forward", fix=f"Run `hybrid-tui review {run.id}` first.")
        notes.append(points_as_note(review))
    if args.message:
        notes.append(args.message)
    agent = agent_for_run(run, settings)
    prompt, run = prepare_revision(store, run, "\n\n".join(notes), agent=agent, fresh=args.fresh)
    revision = run.revisions[-1]
    if not args.json:
        how = f"resumes session {revision.session_id}" if revision.session_id else "starts a fresh session"
        print(f"run {run.id}: revision {len(run.revisions)}, {agent.display_name} {how} on {run.branch}", flush=True)
    execution = RevisionExecution(
        store, run, agent, prompt, timeout=args.timeout or agent_timeout(run.agent, settings),
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
        print(f"run {run.id}: {run.status.value}" + (f" ({run.failure_kind})" if run.failure_kind else "")
              + f", {revision.steps} step(s), {len(commits)} new commit(s) on {run.branch}")
        if run.message:
            print(run.message)
        _print_review(run)
        print(f"next: hybrid-tui diff {run.id} | hybrid-tui accept {run.id} | hybrid-tui revise {run.id} -m NOTE")
    return EXIT_OK if run.status.value == "review" and run.checks_ok is not False else EXIT_FAILED


def cmd_review(args: argparse.Namespace, settings: Settings) -> int:
    from hybrid_tui.core.claude_review import ClaudeReviewer, points_as_note

    store = _runs_for(args, settings)
    run = store.load(args.run_id)
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

    from hybrid_tui.core.pull_request import (
        find_remote,
        gh_create_argv,
        open_pull_request,
        pr_available,
        push_argv,
    )

    store = _runs_for(args, settings)
    run = store.load(args.run_id)
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
