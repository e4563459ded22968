"""The sub-commands that send a run back for more work: `revise` (the agent again, with a note or
Claude's review points) and `review` (Claude reviews the branch, read-only).
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from hybrid_tui.cli.common import (
    EXIT_FAILED,
    EXIT_OK,
    _load_run,
    _print_json,
    _run_until_done,
    _runs_for,
    _stopped_mid_way,
    _with_agent_timeout,
)
from hybrid_tui.cli.report import (
    _announce_checks,
    _event_printer,
    _print_run_end,
    _review_fields,
    _run_exit_code,
)
from hybrid_tui.core.errors import InputError

if TYPE_CHECKING:
    from hybrid_tui.config import Settings


def cmd_revise(args: argparse.Namespace, settings: Settings) -> int:
    from hybrid_tui.agents.registry import agent_timeout
    from hybrid_tui.core.git import GitCommandError
    from hybrid_tui.core.review.claude_review import load_review, points_as_note
    from hybrid_tui.core.run.dispatch import RunExecution
    from hybrid_tui.core.run.revise import (
        agent_for_run,
        new_commits,
        prepare_revision,
    )
    from hybrid_tui.core.runs import StateDirError
    from hybrid_tui.core.verify import check_commands

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
    _, run = prepare_revision(store, run, "\n\n".join(notes), agent=agent, fresh=args.fresh)
    revision = run.revisions[-1]
    if not args.json:
        how = f"resumes session {revision.session_id}" if revision.session_id else "starts a fresh session"
        print(f"run {run.id}: revision {len(run.revisions)}, {agent.display_name} {how} on {run.branch}", flush=True)
    commands = check_commands(run)
    approved = args.approve_checks or settings.review.approve_checks
    _announce_checks(args, run, commands, approved, when="after the agent")
    execution = RunExecution(
        store, run, agent, revision=True, timeout=agent_timeout(run.agent, settings),
        on_events=_event_printer(args), check_timeout=args.check_timeout or settings.review.check_timeout,
        approved_checks=commands if approved else None,
        sandbox=settings.sandbox, check_network=settings.review.check_network,
    )
    try:
        run = _run_until_done(execution.start, execution.cancel)
    except (StateDirError, OSError, GitCommandError) as err:  # the state dir filled up mid-run, say
        raise _stopped_mid_way(f"revision {len(run.revisions)} of run {run.id}", err, store) from None
    commits = new_commits(run, revision)
    if args.json:
        _print_json({
            "type": "summary", "run_id": run.id, "revision": len(run.revisions), "status": run.status.value,
            "failure_kind": run.failure_kind, "message": run.message, "branch": run.branch,
            "resumed_session": revision.session_id, "session_id": run.session_id,
            "from_sha": revision.from_sha, "head_sha": run.head_sha, "new_commits": commits,
            "steps": revision.steps, "total_steps": run.steps,
            "requests": revision.requests, "total_requests": run.requests, "exit_code": run.exit_code, **_review_fields(run),
        })
        return _run_exit_code(run)
    return _print_run_end(
        run, f"{revision.steps} step(s), {len(commits)} new commit(s) on {run.branch}", f"hybrid-tui revise {run.id} -m NOTE"
    )


def cmd_review(args: argparse.Namespace, settings: Settings) -> int:
    from hybrid_tui.core.review.claude_review import ClaudeReviewer, points_as_note

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
