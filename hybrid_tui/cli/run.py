"""The run sub-commands: `run` (an agent on a plan or a spec, on a new branch), `runs` (list the
runs), `diff` (a run's changes against its base) and `verify` (a run's checks again).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from hybrid_tui.cli.common import (
    EXIT_FAILED,
    EXIT_OK,
    _load_run,
    _print_json,
    _project,
    _read_input,
    _run_until_done,
    _runs_for,
    _spec_from_plan,
    _stopped_mid_way,
    _store,
    _with_agent_timeout,
)
from hybrid_tui.cli.report import (
    _announce_checks,
    _event_printer,
    _no_checks_reason,
    _print_checks,
    _print_run_end,
    _review_fields,
    _run_exit_code,
    _status_text,
    _usage_text,
)
from hybrid_tui.core.errors import InputError
from hybrid_tui.core.inert import inert

if TYPE_CHECKING:
    from hybrid_tui.config import Settings


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    """Run an agent on a spec or a plan. A spec file (first line `# Spec:`) runs as it is. A
    plan goes to Kimi as the spec converted from it; Claude ("Claude implements") gets the plan
    itself as its prompt, no conversion (so no scope flags; its checks are the plan's own
    verification commands), unless `--spec` asks for the converted spec as for Kimi. The checks
    are printed before the agent starts and run only with `--approve-checks` (or `[review]
    approve_checks = true`); otherwise they are skipped and the summary says so (exit 0 when
    the agent finished)."""
    from hybrid_tui.agents.registry import agent_timeout, make_agent
    from hybrid_tui.core.git import GitCommandError
    from hybrid_tui.core.run.confine import announce as announce_sandbox
    from hybrid_tui.core.run.dispatch import RunExecution, prepare_plan_run, prepare_run
    from hybrid_tui.core.runs import StateDirError
    from hybrid_tui.core.spec.format import is_spec_text
    from hybrid_tui.core.verify import check_commands

    text = _read_input(args.source)
    profile_name = None
    if args.agent == "kimi":
        settings, profile_name = settings.with_profile(args.profile)
    elif args.profile:
        raise InputError(f"--profile {args.profile}: profiles are for the kimi agent, not {args.agent}")
    settings = _with_agent_timeout(settings, args.agent, args.timeout)
    agent = make_agent(args.agent, settings)
    store = _store(settings)
    store.require_writable()  # a read-only, full or missing-permission state dir: exit 2 here
    if agent.name == "kimi":
        _mind_the_quota(store, settings, profile_name, force=args.force)
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
    if profile_name is not None:
        store.update(run, profile_name=profile_name)

    show = _event_printer(args)

    if not args.json:
        print(f"run {run.id}: {agent.display_name} on branch {run.branch} from {run.base_branch}@{run.base_sha[:7]}", flush=True)
        print(announce_sandbox(settings.sandbox), flush=True)
    commands = check_commands(run)
    approved = args.approve_checks or settings.review.approve_checks
    _announce_checks(args, run, commands, approved, when="after the agent")
    execution = RunExecution(
        store, run, agent, timeout=agent_timeout(args.agent, settings), on_events=show,
        check_timeout=args.check_timeout or settings.review.check_timeout,
        approved_checks=commands if approved else None,
        sandbox=settings.sandbox, check_network=settings.review.check_network,
    )
    try:
        run = _run_until_done(execution.start, execution.cancel)
    except (StateDirError, OSError, GitCommandError) as err:  # the state dir filled up mid-run, say
        raise _stopped_mid_way(f"run {run.id}", err, store) from None
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
        "profile": run.profile_name,
        "prompt_source": run.prompt_source,
        "steps": run.steps,
        "requests": run.requests,
        "prompt_reads": run.prompt_reads,
        "turns": run.turns,
        "tokens": run.tokens,
        "cost_usd": run.cost_usd,
        "exit_code": run.exit_code,
        "worktree": run.worktree,
        "session_id": run.session_id,
        "checkout_changes": run.checkout_changes,
        "sandbox": run.sandbox,
        "sandbox_reason": run.sandbox_reason,
        "agent_data": run.agent_data,
        **_review_fields(run),
    }
    if args.json:
        _print_json(summary)
        return _run_exit_code(run)
    return _print_run_end(run, f"{_usage_text(run)}, branch {run.branch}", f"hybrid-tui reject {run.id}")


def _mind_the_quota(store, settings: Settings, profile_name: str | None, *, force: bool) -> None:
    """Refuse a Kimi run when the week's requests reached `[quota] weekly_limit` (unless
    `--force`); warn when its step budget could cross it (core/quota.py). With a named profile,
    its own runs count against its own limit."""
    from datetime import UTC, datetime

    from hybrid_tui.core.quota import dispatch_refusal, dispatch_warning, used_this_week

    quota = settings.quota
    used = used_this_week(store.list(), datetime.now(UTC), reset_weekday=quota.weekday, reset_hour=quota.reset_hour,
                          profile=settings.own_limit_profile(profile_name))
    refusal = dispatch_refusal(used, quota.weekly_limit)
    if refusal and not force:
        raise InputError(f"not started: {refusal}",
                         fix="Wait for the reset, raise [quota] weekly_limit, or pass --force to start anyway.")
    warning = refusal or dispatch_warning(used, quota.weekly_limit, settings.agents.kimi.max_steps)
    if warning:
        print(f"hybrid-tui: warning: {warning}", file=sys.stderr)


def cmd_quota(args: argparse.Namespace, settings: Settings) -> int:
    """The request ledger by week, agent and profile, newest week first, with this week's Kimi
    requests against `[quota] weekly_limit` (estimated: counted from hybrid-tui's own runs)."""
    from datetime import UTC, datetime

    from hybrid_tui.core.quota import ledger, usage_text, used_this_week

    store = _store(settings)
    store.require_readable()
    runs = store.list()
    settings, profile_name = settings.with_profile(None)  # the default profile's count and limit, as `run` has them
    quota = settings.quota
    rows = ledger(runs, quota.weekday, quota.reset_hour)
    used = used_this_week(runs, datetime.now(UTC), reset_weekday=quota.weekday, reset_hour=quota.reset_hour,
                          profile=settings.own_limit_profile(profile_name))
    if args.json:
        _print_json({"this_week": {"requests": used, "weekly_limit": quota.weekly_limit, "estimated": True},
                     "weeks": [row.as_json() for row in rows]})
        return EXIT_OK
    print(f"kimi: {usage_text(used, quota.weekly_limit)}")
    if not rows:
        print("no runs yet")
        return EXIT_OK
    print(f"{'week':<9}  {'agent':<6}  {'profile':<20}  {'runs':>5}  {'requests':>8}  {'cost':>8}")
    for row in rows:
        cost = f"${row.cost_usd:.2f}" if row.cost_usd else ""
        print(f"{row.week:<9}  {row.agent:<6}  {inert(row.profile, one_line=True):<20}  {row.runs:>5}  {row.requests:>8}  {cost:>8}")
    return EXIT_OK


def cmd_runs(args: argparse.Namespace, settings: Settings) -> int:
    """The runs, newest first. A record that cannot be read is listed as `unreadable`, with its
    path and the reason (in `--json`: `{id, status: "unreadable", path, reason}`); its
    repository is unknown, so it shows whichever repository `runs` is asked about. Works on a
    read-only state dir (the recovery of orphaned runs waits for a writable one)."""
    store = _runs_for(args, settings, writes=False)
    store.require_readable()
    try:
        _, root = _project(args)
    except InputError:
        if args.repo is not None:
            raise
        root = None  # outside a repository: every run
    runs, unreadable = store.scan(root)
    if args.json:
        listed = [run.model_dump(mode="json") for run in runs] + [u.as_json() for u in unreadable]
        _print_json(sorted(listed, key=lambda entry: entry["id"], reverse=True))
        return EXIT_OK
    lines = [(bad.id, f"{bad.id}  {'unreadable':<22}  {inert(f'{bad.path}: {bad.reason}', one_line=True)}") for bad in unreadable]
    for run in runs:
        status = _status_text(run)
        if run.checks:
            passed = sum(check.ok for check in run.checks)
            checks = f"checks {passed}/{len(run.checks)}"
        else:
            checks = ""
        title = inert(run.title, one_line=True)  # a title cannot fake a row of its own
        lines.append((run.id, f"{run.id}  {status:<22}  {run.agent:<6} {run.steps:>3} steps  {checks:<12}  {title}"))
    for _, line in sorted(lines, reverse=True):
        print(line)
    if not runs and not unreadable:
        print("no runs yet")
    return EXIT_OK


def cmd_diff(args: argparse.Namespace, settings: Settings) -> int:
    from hybrid_tui.core.land.accept import run_diff, run_diff_text, run_scope

    run = _load_run(_runs_for(args, settings, writes=False), args.run_id)
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
    """A run's checks again. They are printed first and run only with `--approve-checks` (or
    `[review] approve_checks = true`); otherwise nothing runs and the exit is 2 (bad usage)."""
    from hybrid_tui.core.git import GitCommandError
    from hybrid_tui.core.runs import StateDirError
    from hybrid_tui.core.verify import (
        RunChecks,
        check_commands,
        checks_json,
        require_rerunnable,
    )

    store = _runs_for(args, settings)
    run = _load_run(store, args.run_id)
    require_rerunnable(run)
    commands = check_commands(run)
    approved = args.approve_checks or settings.review.approve_checks
    if commands:
        _announce_checks(args, run, commands, approved, when="to run")
        if not approved:
            raise InputError(
                f"run {run.id}: its {len(commands)} check(s) were not run: a check runs only once you approve it",
                fix=f"Read them above, then: hybrid-tui verify {run.id} --approve-checks",
            )

    show = _event_printer(args)

    checks = RunChecks(
        store, run, timeout=args.timeout or settings.review.check_timeout, on_events=show,
        approved=commands, sandbox=settings.sandbox, network=settings.review.check_network,
    )
    try:
        results = _run_until_done(checks.start, checks.cancel)
    except (StateDirError, OSError, GitCommandError) as err:
        raise _stopped_mid_way(f"the checks of run {run.id}", err, store) from None
    ok = all(check.ok for check in results)
    if args.json:
        _print_json({"type": "summary", "run_id": run.id, "checks": checks_json(results), "ok": ok})
    elif not results and not checks.cancelled:
        print(f"run {run.id}: no checks to run ({_no_checks_reason(run)})")
    else:
        passed = sum(check.ok for check in results)
        print(f"run {run.id}: {passed} of {len(results)} check(s) passed")
    return EXIT_OK if ok else EXIT_FAILED
