"""The `hybrid-tui` command: the TUI by default, and sub-commands for scripts and for Claude.

Exit codes: 0 ok; 1 the run or the action failed; 2 bad usage or bad input (nothing changed).

This package holds the parser, `main` and the table of sub-commands; each group of sub-commands
has its module (`plans`, `run`, `land`, `revise`), their shared helpers are in `common` and
`report`, the TUI's entry in `tui`. The TUI's start-up path imports neither `hybrid_tui.config`
(pydantic) nor the agents: the sub-commands import them where they are used (DESIGN.md: first
frame <= 1.3x a bare app), so importing this package and its modules stays light.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from hybrid_tui.cli.claude_setup import cmd_claude
from hybrid_tui.cli.common import EXIT_BAD_INPUT, EXIT_FAILED, EXIT_OK
from hybrid_tui.cli.hook import cmd_hook, permission_request
from hybrid_tui.cli.land import cmd_accept, cmd_pr, cmd_rebase, cmd_reject
from hybrid_tui.cli.plans import cmd_check, cmd_plans, cmd_spec
from hybrid_tui.cli.revise import cmd_review, cmd_revise
from hybrid_tui.cli.run import cmd_diff, cmd_quota, cmd_run, cmd_runs, cmd_verify
from hybrid_tui.cli.stdout import InertStream, ReaderMayLeave
from hybrid_tui.cli.tui import _tui, tui_app
from hybrid_tui.core.errors import HybridError

if TYPE_CHECKING:
    from hybrid_tui.config import Settings

__all__ = ["COMMANDS", "EXIT_BAD_INPUT", "EXIT_FAILED", "EXIT_OK", "ReaderMayLeave", "main", "tui_app"]


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
    p.add_argument("--all", action="store_true",
                   help="every project's plans, each with its project (default: this repository's)")
    p = add("spec", "convert a plan into a spec and print it")
    p.add_argument("plan", type=Path, metavar="PLAN_FILE", help="a plan (Claude's markdown); a spec is refused")
    p.add_argument("-o", "--output", type=Path, metavar="FILE", help="write the spec to FILE instead of stdout")
    p.add_argument("--with-claude", action="store_true",
                   help="ask `claude -p` (read-only) to convert the plan; the deterministic spec "
                        "stays when Claude is missing or fails, and a warning says why")
    p = add("check", "validate a spec: FILE:LINE: severity: message lines (exit 1 on errors)")
    p.add_argument("spec", type=Path, metavar="SPEC_FILE")
    p = add("run", "run the worker on a plan or a spec, on a new branch; events as they come, "
            "then the checks you approved (--approve-checks), then a summary (exit 0: the agent finished and no check failed)",
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
    p.add_argument("--approve-checks", action="store_true",
                   help="run the verification commands printed before the agent starts (default: skipped, "
                        "unless [review] approve_checks = true)")
    p.add_argument("--force", action="store_true",
                   help="start even when the weekly request budget ([quota] weekly_limit) is used up")
    p.add_argument("--profile", metavar="NAME",
                   help="the worker profile ([profiles.NAME]: its home or config file, max_steps, timeout, weekly_limit; "
                        "default: default_profile)")
    add("runs", "list the runs of this repository (all runs outside a repository), newest first", json_flag=True)
    add("quota", "the weekly request ledger (estimated from the runs): requests by week, agent and profile, "
        "against [quota] weekly_limit", repo=False, json_flag=True)
    p = add("diff", "show a run's changes against its base", repo=False, json_flag=True)
    p.add_argument("run_id", metavar="RUN_ID", help=RUN_ID_HELP)
    p = add("verify", "run a run's verification commands again in its worktree (exit 1 if one fails)",
            repo=False, json_flag=True, json_help="one JSON object per line on stdout: the events as they come, then a summary")
    p.add_argument("run_id", metavar="RUN_ID", help=RUN_ID_HELP)
    p.add_argument("--timeout", type=_seconds, metavar="S", help="seconds for each command (default: [review] check_timeout, 120)")
    p.add_argument("--approve-checks", action="store_true",
                   help="run them: without it (or [review] approve_checks = true) they are only printed, exit 2")
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
    p.add_argument("--approve-checks", action="store_true",
                   help="run the verification commands printed before the agent starts (default: skipped, "
                        "unless [review] approve_checks = true)")
    p = add("review", "ask Claude (headless, read-only) to review a run's branch: exit 0 approve, 1 request changes", repo=False, json_flag=True)
    p.add_argument("run_id", metavar="RUN_ID", help=RUN_ID_HELP)
    p.add_argument("--timeout", type=_seconds, metavar="S", help="seconds before Claude is stopped (default: [agents.claude] timeout, 600)")
    p = add("pr", "push a run's branch and open a pull request with the spec as its body (needs a remote and gh)", repo=False, json_flag=True)
    p.add_argument("run_id", metavar="RUN_ID", help=RUN_ID_HELP)
    p.add_argument("--remote", help="the remote to push to (default: the base branch's remote, else origin)")
    p.add_argument("--dry-run", action="store_true", help="only say whether a pull request can be opened, and the commands")
    p = add("hook", "Claude Code's approval hook: the choice Claude implements / Delegate to Kimi on its "
                    "plan approval screen")
    p.add_argument("action", choices=["install", "uninstall", "status", "permission-request"],
                   help="install, uninstall or show the hook; permission-request is the hook itself "
                        "(Claude Code runs it with the hook's JSON on stdin)")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--project", action="store_true",
                       help="this repository's .claude/settings.json (the default)")
    where.add_argument("--user", action="store_true", help="the user's settings ($CLAUDE_CONFIG_DIR/settings.json)")
    p = add("claude", "the Claude-side pieces: skills kimi-spec and kimi-dispatch, rules kimi-delegation.md")
    p.add_argument("action", choices=["install", "uninstall"])
    where = p.add_mutually_exclusive_group()
    where.add_argument("--project", action="store_true", help="this repository's .claude/ (the default)")
    where.add_argument("--user", action="store_true", help="the user's $CLAUDE_CONFIG_DIR")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "hook" and args.action == "permission-request":
        return permission_request()  # Claude Code's hook: never fails, whatever the settings say
    stdout, stderr = sys.stdout, sys.stderr
    try:
        if args.command is None:
            return _tui(args)  # reads the settings itself; a broken file is a notification
        sys.stdout = InertStream(ReaderMayLeave(stdout))  # nothing from outside drives the terminal
        sys.stderr = InertStream(stderr)
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
        sys.stdout, sys.stderr = stdout, stderr


COMMANDS: dict[str, Callable[[argparse.Namespace, Settings], int]] = {
    "plans": cmd_plans,
    "spec": cmd_spec,
    "check": cmd_check,
    "run": cmd_run,
    "runs": cmd_runs,
    "quota": cmd_quota,
    "diff": cmd_diff,
    "verify": cmd_verify,
    "accept": cmd_accept,
    "rebase": cmd_rebase,
    "reject": cmd_reject,
    "revise": cmd_revise,
    "review": cmd_review,
    "pr": cmd_pr,
    "hook": cmd_hook,
    "claude": cmd_claude,
}
