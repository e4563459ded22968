"""The sub-commands that land or drop a run's branch: `accept` (all of it, `--only` some files,
or `--dry-run`), `rebase` (onto its base's tip, or `--undo`), `reject` and `pr` (push the branch
and open a pull request).
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from hybrid_tui.cli.common import (
    EXIT_FAILED,
    EXIT_OK,
    _load_run,
    _print_json,
    _runs_for,
)
from hybrid_tui.core.errors import ActionFailed, InputError

if TYPE_CHECKING:
    from hybrid_tui.config import Settings


def cmd_accept(args: argparse.Namespace, settings: Settings) -> int:
    from hybrid_tui.core.land.accept import accept_run

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


def _preflight(args: argparse.Namespace, settings: Settings, strategy: str) -> int:
    from hybrid_tui.core.land.merge import preflight

    run = _load_run(_runs_for(args, settings, writes=False), args.run_id)  # a dry run writes nothing
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
    from hybrid_tui.core.land.hunks import ALL
    from hybrid_tui.core.land.partial import accept_selection

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
    from hybrid_tui.core import git
    from hybrid_tui.core.git import base_tip
    from hybrid_tui.core.land.accept import require_open, run_diff

    require_open(run, "accept")
    root = run.root
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
    base, tip = base_tip(run), git.branch_tip(run)
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
    from hybrid_tui.core import git

    status, out, _ = git.git_rc(root, "rev-parse", "--verify", "--quiet", f"{commit}:{path}")
    return out.strip() if status == 0 else None


def cmd_rebase(args: argparse.Namespace, settings: Settings) -> int:
    from hybrid_tui.core.land.merge import rebase_run, undo_rebase

    store = _runs_for(args, settings)
    run = _load_run(store, args.run_id)
    before = run.head_sha, run.base_sha
    run = (undo_rebase if args.undo else rebase_run)(store, run)
    changed = (run.head_sha, run.base_sha) != before
    if args.json:
        _print_json({"run_id": run.id, "branch": run.branch, "base_sha": run.base_sha, "head_sha": run.head_sha,
                     "changed": changed, "pre_rebase_ref": run.rebase.ref if run.rebase else None})
    elif args.undo:
        print(f"run {run.id}: {run.branch} is back at {(run.head_sha or '')[:7]}, on {run.base_branch}@{run.base_sha[:7]}")
    elif changed:
        print(f"run {run.id}: {run.branch} rebased onto {run.base_branch}@{run.base_sha[:7]} "
              f"(undo: hybrid-tui rebase {run.id} --undo)")
    else:
        print(f"run {run.id}: {run.branch} is already on top of {run.base_branch}; nothing to do")
    return EXIT_OK


def cmd_reject(args: argparse.Namespace, settings: Settings) -> int:
    from hybrid_tui.core.land.accept import reject_run

    return _land(args, settings, reject_run, "reject")


def cmd_pr(args: argparse.Namespace, settings: Settings) -> int:
    import shlex

    from hybrid_tui.core import git
    from hybrid_tui.core.review.pull_request import (
        find_remote,
        gh_create_argv,
        open_pull_request,
        pr_available,
        push_argv,
    )

    store = _runs_for(args, settings, writes=not args.dry_run)
    run = _load_run(store, args.run_id)
    root = run.root
    remotes = git.git(root, "remote").split() if root.is_dir() else []
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
