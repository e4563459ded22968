"""How the sub-commands report a run: its events as they come (plain lines or JSON lines), its
status and usage in words, and what the review knows of it (checks, scope, partial accepts).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from hybrid_tui.cli.common import EXIT_FAILED, EXIT_OK, _print_json
from hybrid_tui.core.inert import inert_output

if TYPE_CHECKING:
    from hybrid_tui.agents.events import AgentEvent
    from hybrid_tui.core.review.scope import Scope


def event_to_dict(event: AgentEvent) -> dict[str, Any]:
    """`agents.events.event_to_dict`, imported on first use."""
    from hybrid_tui.agents.events import event_to_dict as to_dict

    return to_dict(event)


def _describe(event: AgentEvent) -> str:
    """`describe_event`, with Kimi's `<system>` status tags shown as plain words, as the live
    pane shows them (`--json` keeps them, as the transcript does)."""
    from hybrid_tui.agents.events import ToolResult, describe_event

    line = describe_event(event)
    if isinstance(event, ToolResult) and "<system>" in line:
        line = line.replace("<system>", "").replace("</system>", "")
    return line


def _event_printer(args: argparse.Namespace) -> Callable[[list[AgentEvent]], None]:
    """Print events as they come: JSON lines with --json, else one plain line each."""

    def show(events: list[AgentEvent]) -> None:
        for event in events:
            if args.json:
                _print_json({"type": "event", **event_to_dict(event)})
            else:  # colours dropped; every other control shown as `\\xNN` (core.inert)
                print(inert_output(_describe(event)), flush=True)

    return show


def _status_text(run) -> str:
    """`failed (crashed)`; the failure kind only when it says more than the status."""
    status = run.status.value
    return f"{status} ({run.failure_kind})" if run.failure_kind and run.failure_kind != status else status


def _usage_text(run) -> str:
    """`3 step(s)`; `5 request(s)` when failed requests made them more than the steps; turns,
    tokens and cost when the agent reported them (Claude); the Reads a too-long prompt cost
    (Kimi Code) are named."""
    parts = [f"{run.steps} step(s)"]
    if run.prompt_reads:
        parts[0] += f" ({run.prompt_reads} reading the prompt file)"
    if run.requests > run.steps:
        parts.append(f"{run.requests} request(s)")
    if run.turns is not None:
        parts.append(f"{run.turns} turn(s)")
    if run.tokens is not None:
        parts.append(f"{run.tokens:,} tokens")
    if run.cost_usd is not None:
        parts.append(f"${run.cost_usd:.4f}")
    return ", ".join(parts)


def _review_fields(run) -> dict[str, Any]:
    """What the review knows of a run, for JSON: checks, scope, partial accepts, git files put back."""
    from hybrid_tui.core.verify import checks_json

    scope = _scope(run)
    return {
        "checks": checks_json(run.checks),
        "checks_skipped": run.checks_skipped,
        "out_of_scope": scope.out_of_scope,
        "untouched": scope.untouched,
        "partial_accepts": [p.model_dump() for p in run.partial_accepts],
        "git_tampering": [t.model_dump() for t in run.git_tampering],
    }


def _print_checks(run) -> None:
    for check in run.checks or []:
        mark = "✓" if check.ok else "✗"
        how = "timed out" if check.timed_out else "stopped" if check.exit_code is None else f"exit {check.exit_code}"
        print(f"  {mark} {check.command}  ({how}, {check.seconds:.1f}s)")


def _scope(run) -> Scope:
    """The run's scope check (`land.run_scope`, worked out from its spec and its branch: it is
    not stored); nothing flagged when there is no spec or no branch to compare."""
    from hybrid_tui.core.land.accept import run_scope
    from hybrid_tui.core.review.scope import Scope

    return run_scope(run) or Scope()


def _print_review(run) -> None:
    """Checks and scope in plain lines (the human form of `_review_fields`)."""
    _print_checks(run)
    scope = _scope(run)
    if scope.out_of_scope:
        print(f"out of scope (changed, not in the spec): {', '.join(scope.out_of_scope)}")
    if scope.untouched:
        print(f"untouched (in the spec, not changed): {', '.join(scope.untouched)}")


def _announce_checks(args: argparse.Namespace, run, commands: list[str], approved: bool, *, when: str) -> None:
    """Before anything runs, the exact checks (with what is risky in each, core/spec/risky_commands.py)
    and whether they will run: `when` says when ("after the agent"). With --json, one line
    `{"type": "checks", "commands", "risks", "approved"}`."""
    from hybrid_tui.core.spec.risky_commands import command_risks

    risks = [command_risks(command) for command in commands]
    if args.json:
        _print_json({"type": "checks", "run_id": run.id, "commands": commands, "risks": risks, "approved": approved})
        return
    if not commands:
        print(f"checks {when}: none ({_no_checks_reason(run)})", flush=True)
        return
    how = "approved" if approved else "not approved, so they will be skipped (add --approve-checks to run them)"
    print(f"checks {when} ({how}):", flush=True)
    for command, found in zip(commands, risks):
        print(f"  $ {command}", flush=True)
        for risk in found:
            print(f"    ! this check {risk}", flush=True)


def _no_checks_reason(run) -> str:
    return "the plan names no verification command" if run.prompt_source == "plan" else "the spec names no verification command"


def _print_run_end(run, detail: str, next_step: str) -> int:
    """The plain ending of `run` and `revise`: status and `detail`, the message, what the review
    knows, the next commands; returns the exit code: 0 only when the agent finished and no check
    failed."""
    print(f"run {run.id}: {_status_text(run)}, {detail}")
    if run.message:
        print(run.message)
    if run.sandbox is None and run.sandbox_reason:
        print(f"no sandbox: {run.sandbox_reason}; writes outside the worktree were not watched")
    _print_review(run)
    if run.checks_skipped:
        print(f"checks skipped ({run.checks_skipped}): hybrid-tui verify {run.id} --approve-checks runs them")
    print(f"next: hybrid-tui diff {run.id} | hybrid-tui accept {run.id} | {next_step}")
    return _run_exit_code(run)


def _run_exit_code(run) -> int:
    return EXIT_OK if run.status.value == "review" and run.checks_ok is not False else EXIT_FAILED
