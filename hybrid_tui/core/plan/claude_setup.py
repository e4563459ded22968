"""Claude knows about hybrid-tui: the original set-up's Claude-side pieces, written by hybrid-tui
from the settings it uses itself (`hybrid-tui claude install | uninstall`).

    files(settings)                      # {relative path: text} under a `.claude` folder
    install(claude_dir, settings, state) # -> the paths written
    uninstall(claude_dir, state)         # -> the paths removed, the paths kept (changed since)

The pieces, as plain files (Claude Code reads them from the project's `.claude/` or the
user's `$CLAUDE_CONFIG_DIR`):
- `skills/kimi-spec/SKILL.md`: convert the current plan into a spec and show it (`hybrid-tui
  spec`), so the user can tweak it before delegating;
- `skills/kimi-dispatch/SKILL.md`: start `hybrid-tui run --json` in the background (never
  with `--approve-checks`: the user approves the checks), then report the run's progress and
  its result from `hybrid-tui runs --json` and `hybrid-tui diff RUN_ID --json`;
- `rules/kimi-delegation.md`: when Claude should suggest delegating, in the original set-up's
  five sections, with hybrid-tui's own advice thresholds (`[advice]`).

Behaviour choices:
- Install never overwrites a file it did not write: a file already there with other content
  is refused, naming it. What it wrote (each file's hash, the folders it made) is kept in the
  state dir; uninstall removes exactly those files, and the folders it made once empty. A
  file the user changed since is kept, and said so.
- Installing again after a settings change rewrites our files with the new thresholds.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from hybrid_tui.config import AdviceSettings, Settings
from hybrid_tui.core.errors import InputError

MARK = "<!-- Written by `hybrid-tui claude install`; `hybrid-tui claude uninstall` removes it. -->"


def _kimi_spec() -> str:
    return f"""---
name: kimi-spec
description: Turn the current plan into a spec for the Kimi worker and show it (hybrid-tui), before delegating.
---
{MARK}

# kimi-spec

Convert the plan of this session into hybrid-tui's spec: concrete file paths, requirements,
verification commands, `[INDEPENDENT]` tags on tasks that can run in parallel.

1. Find the plan file: the one plan mode named for this session; else the newest of
   `hybrid-tui plans --json` (it lists this repository's plans, newest first).
2. Run `hybrid-tui spec PLAN_FILE` and show the user the spec it prints.
3. Point out what looks wrong or vague in it (a missing file, a requirement that is not
   checkable, no verification command), and let the user decide. Do not edit files.
4. To delegate it, the user runs the spec from hybrid-tui (`d` on the plan), or asks you to use
   the `kimi-dispatch` skill.
"""


def _kimi_dispatch() -> str:
    return f"""---
name: kimi-dispatch
description: Delegate the current plan to the Kimi worker with hybrid-tui (its own git branch), then report the run's result.
---
{MARK}

# kimi-dispatch

Hand the plan of this session to the Kimi worker. It works on its own branch; the user reviews
and lands the result in hybrid-tui. Never pass `--approve-checks`: the user approves the checks.

1. Find the plan file (the one plan mode named for this session; else the newest of
   `hybrid-tui plans --json`).
2. Start the run in the background, so your Bash tool is not stopped after two minutes:
   `hybrid-tui run PLAN_FILE --json > /tmp/hybrid-tui-run.jsonl 2>&1 &`
3. Report progress from `hybrid-tui runs --json` (newest first): the run's `id`, `status`,
   `steps` and `checks`. Check again every minute or so until its status is no longer `running`.
4. When it ended, report the result: its status and checks from `hybrid-tui runs --json`, and
   its changes from `hybrid-tui diff RUN_ID --json` (files, + and - counts, files outside the
   spec). Do not accept, reject or edit anything: tell the user the run is ready for review in
   hybrid-tui (or `hybrid-tui accept RUN_ID` / `hybrid-tui reject RUN_ID`).
5. If the run failed, say how (its status and message) and suggest `hybrid-tui revise RUN_ID -m
   NOTE` with what should change.
"""


def _rules(advice: AdviceSettings) -> str:
    return f"""{MARK}

# Delegating to Kimi (hybrid-tui)

A worker agent, Kimi, can implement a plan on its own git branch while the user reviews the
result in hybrid-tui. Your tokens are expensive; Kimi's quota is a weekly request budget that a
precise spec stretches. These thresholds are hybrid-tui's own (`[advice]` in its config).

## When to Suggest

- The plan changes {advice.kimi_min_files} or more files, or about {advice.kimi_min_lines} or more lines.
- Mechanical work of any size beyond small: renames, boilerplate, CRUD, format unification,
  dependency bumps, translations.
- Medium-sized work that a precise spec pins down (concrete paths, checkable requirements).

## When NOT to Suggest

- Small changes: at most {advice.claude_max_files} files and under {advice.claude_max_lines} changed lines. Doing
  them costs less than handing them over.
- Design, architecture, security or trade-off decisions, or a plan that is mostly open questions.
- Nothing to implement (research, an answer, a review).

## Plan Approval Flow

When you leave plan mode, hybrid-tui (when it runs beside you) offers the user: Claude
implements / Delegate to Kimi / decide in Claude. If the plan is delegated, your ExitPlanMode
call is denied with a message saying so: stop, do not implement the plan, and wait. Follow the
run with `hybrid-tui runs --json` and `hybrid-tui diff RUN_ID` when the user asks.

## Plan to Spec Conversion

A delegated plan becomes a spec (`hybrid-tui spec PLAN_FILE`, the `kimi-spec` skill): name
every file to create, modify or delete by its path; state requirements that can be checked;
list the verification commands; mark tasks that do not depend on each other `[INDEPENDENT]`.
Write plans that way and the spec needs no tweaking.

## Quota Awareness

- Up to {advice.claude_max_files} file(s) and under {advice.claude_max_lines} lines: Claude implements.
- {advice.kimi_min_files}+ files or {advice.kimi_min_lines}+ lines: suggest Kimi (the `kimi-dispatch` skill).
- A precise spec saves Kimi's requests: a run of a few steps, not dozens of exploring ones.
"""


def files(settings: Settings) -> dict[str, str]:
    """The pieces, by path under the `.claude` folder."""
    return {
        "skills/kimi-spec/SKILL.md": _kimi_spec(),
        "skills/kimi-dispatch/SKILL.md": _kimi_dispatch(),
        "rules/kimi-delegation.md": _rules(settings.advice),
    }


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _record_path(state_dir: Path, claude_dir: Path) -> Path:
    digest = hashlib.sha256(f"claude-files:{claude_dir.resolve()}".encode()).hexdigest()[:16]
    return state_dir / "claude-installs" / f"{digest}.json"


def _read_record(path: Path) -> dict:
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {"files": {}, "dirs": []}
    return record if isinstance(record, dict) else {"files": {}, "dirs": []}


def install(claude_dir: Path, settings: Settings, state_dir: Path) -> list[Path]:
    from hybrid_tui.core.runs import atomic_write

    record_path = _record_path(state_dir, claude_dir)
    record = _read_record(record_path)
    pieces = files(settings)
    for rel in pieces:  # refuse before writing anything
        path = claude_dir / rel
        if path.exists() and rel not in record["files"]:
            raise InputError(f"{path}: exists and was not written by hybrid-tui; it is left as it is",
                             fix="Move it away (or rename the skill), then run this again.")
    written = []
    for rel, text in pieces.items():
        path = claude_dir / rel
        for folder in reversed([p for p in path.parents if p == claude_dir or claude_dir in p.parents]):
            if not folder.exists():
                folder.mkdir()
                record["dirs"].append(str(folder))
        path.write_text(text, encoding="utf-8")
        record["files"][rel] = _digest(text)
        written.append(path)
    atomic_write(record_path, json.dumps(record))
    return written


def uninstall(claude_dir: Path, state_dir: Path) -> tuple[list[Path], list[Path]]:
    """(removed, kept: changed since install)."""
    record_path = _record_path(state_dir, claude_dir)
    record = _read_record(record_path)
    removed, kept = [], []
    for rel, digest in record["files"].items():
        path = claude_dir / rel
        try:
            text = path.read_text(encoding="utf-8")
        except OSError:
            continue  # gone already
        if _digest(text) == digest:
            path.unlink()
            removed.append(path)
        else:
            kept.append(path)
    for folder in sorted(record["dirs"], key=len, reverse=True):
        try:
            Path(folder).rmdir()
        except OSError:
            pass  # not empty: something else is in it now
    record_path.unlink(missing_ok=True)
    return removed, kept
