"""The plan and spec sub-commands: `plans` (list Claude's plans with the Claude-or-Kimi advice),
`spec` (convert a plan into a spec) and `check` (validate a spec).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hybrid_tui.cli.common import (
    EXIT_FAILED,
    EXIT_OK,
    _print_json,
    _project,
    _read_input,
    _spec_from_plan,
)
from hybrid_tui.core.errors import InputError

if TYPE_CHECKING:
    from hybrid_tui.config import Settings


def cmd_plans(args: argparse.Namespace, settings: Settings) -> int:
    from hybrid_tui.core.plan.plans import CONFIG_SOURCE, find_plans_dir, list_plans
    from hybrid_tui.core.plan.projects import PlanProjects, attribute_all

    _, root = _project(args)
    location = (
        find_plans_dir(root, args.plans_dir)
        if args.plans_dir or not settings.plans_dir
        else find_plans_dir(root, settings.plans_dir, CONFIG_SOURCE)
    )
    for ignored in location.ignored:  # a plansDirectory outside the project (Claude ignores it too)
        print(f"hybrid-tui: warning: {ignored}", file=sys.stderr)
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
    listed = list_plans(location.path)
    projects = PlanProjects.open(settings.resolved_state_dir())
    projects.update()
    seen = attribute_all([plan.path for plan in listed], root, projects)
    plans = listed if args.all else [plan for plan in listed if seen[plan.path].shown_here]
    advice = {plan.path: _plan_advice(plan.path, settings) for plan in plans}
    if args.json:
        _print_json(
            [
                {"path": str(p.path), "name": p.name, "title": p.title, "mtime": p.mtime, "size": p.size,
                 "advice": advice[p.path], "project": _optional(seen[p.path].project),
                 "this_project": seen[p.path].ours}
                for p in plans
            ]
        )
        return EXIT_OK
    whose = "of every project" if args.all else f"of {root.name}"
    print(f"{len(plans)} plan(s) {whose} in {location.path} ({location.source})")
    now = time.time()
    for p in plans:
        found = advice[p.path] or {}
        badge = {"claude": "Claude", "kimi": "Kimi"}.get(str(found.get("choice")), "?")
        project = f"  [{seen[p.path].label}]" if args.all else ""
        print(f"{_age(now - p.mtime):>5}  {p.size:>7}  [{badge:>6}]  {p.title}  ({p.name}){project}")
        print(f"{'':>25}{found.get('reason') or 'no advice: the plan cannot be read'}")
    if hidden := len(listed) - len(plans):
        print(f"{hidden} more of other projects (--all lists them)")
    return EXIT_OK


def _optional(path: Path | None) -> str | None:
    return str(path) if path is not None else None


def _plan_advice(path: Path, settings: Settings) -> dict[str, Any] | None:
    """The Claude-or-Kimi advice for a plan file as JSON, or None when it cannot be read."""
    from hybrid_tui.core.plan.advice import advise_plan_file

    advice = advise_plan_file(path, settings.advice)
    if advice is None:
        return None
    return {"choice": advice.choice, "label": advice.label, "reason": advice.reason,
            "files": advice.files, "lines": advice.lines}


def _age(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{int(seconds // size)}{unit}"
    return f"{int(seconds)}s"


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
    from hybrid_tui.core.spec.format import is_spec_text

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
        from hybrid_tui.core import git
        from hybrid_tui.core.spec.convert.with_claude import convert_with_claude
        from hybrid_tui.core.spec.format import parse_spec

        ours = parse_spec(text)  # number, source and base as the deterministic spec has them
        repo, root = _project(args)
        claude = convert_with_claude(
            plan_text, root=root, source=ours.source, number=ours.number, base=ours.base,
            tree=git.tree_paths(repo, git.head_branch(repo)[1]),
            settings=settings.agents.claude,
        )  # fmt: skip
        if claude.ok and claude.text is not None:
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
    from hybrid_tui.core import git
    from hybrid_tui.core.spec.format import is_spec_text, validate_spec

    text = _read_input(args.spec, "spec")
    repo, _ = _project(args)
    _, sha = git.head_branch(repo)
    _, problems = validate_spec(text, tree=git.tree_paths(repo, sha))
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
