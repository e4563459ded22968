"""Plan -> Spec, deterministically (no model calls).

The converter reads a Claude Code plan (markdown) in small passes, one module each:

1. `scan`: split lines, and take fenced code (content, never structure) and the headings from
   markdown-it-py's block tokens (a plan stored JSON-escaped or drifted right is repaired first).
2. `sections` and `heading_words`: what each heading says its section is (context, steps,
   verification, files, reference-only, out of scope, done, criteria) in eleven languages;
   `context.content_kinds`: a section under a heading no table knows gets its role from its
   content (a file tree: files; shell blocks of checks: verification).
3. `steps`: the plan's own units of work become tasks (step / phase headings, step sections
   and their sub-headings, bold lines, numbered items or table rows, numbered headings); with
   none, the whole plan is one task.
4. `inventory` (with `paths`, `actions`, `trees`): every file mention as an event saying
   whether the plan changes the file, only reads it, excludes it or reports it done, and with
   which action. A task's files are the changes on its own lines; files the plan lists
   elsewhere (a Files section, an action table, a tree with NEW / MODIFIED tags, a YAML file
   list, acceptance criteria) go to the task that names them, else to a last task
   "Other files the plan lists". A file excluded (out of scope, "no changes needed in:") is
   left out everywhere; a done or deferred mark applies to the entry it marks and to the
   file's mentions that say nothing of their own, a finished phase to its own lines; a plan
   whose every step is ticked changes nothing.
5. `commands`: verification commands from verification and criteria sections (spec level),
   from a step's own verification sub-section or label (task level), and inline checks
   (a line saying verify / check / test with a command span). A plan's shell command never
   becomes a requirement: the items of a verification section (or a step's verification
   label) become requirements only without their commands, which go to Verification, where
   the user sees and approves them before they run (the rule is in `commands`).
6. `guidance`: the plan's sections outside the steps that a worker must keep in mind
   (constraints, out of scope, edge cases, acceptance criteria, notes, architecture, design,
   risks...) follow the plan's own context in the spec's Context, verbatim under a bold label
   line, each capped at 80 lines. Not with one task of the whole plan (its body holds them).

A ticked checklist item (`- [x] ...`) reports work done and is never a requirement.

Action per path: with `tree`, DELETE when the words say delete / remove it, else MODIFY when
the file is present (in the tree or created by an earlier task), else CREATE. Without
`tree`, the words decide (see `actions`; a task's own words first, then the plan's first
statement about the path) and the default is MODIFY; a path an earlier task created is
MODIFY. Paths outside the repository (absolute, `~`, `..`) are left out of Files and named in
a requirement instead. `[INDEPENDENT]` goes on each task that has files and shares none with
another task.
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath

from hybrid_tui.core.spec.convert.commands import (
    commands_in,
    inline_checks,
    looks_like_command,
    shell_commands,
    strip_comment,
    unique,
    without_checks,
)
from hybrid_tui.core.spec.convert.context import content_kinds, section_kinds, spec_safe
from hybrid_tui.core.spec.convert.guidance import guidance_sections
from hybrid_tui.core.spec.convert.inventory import Event, collect_events
from hybrid_tui.core.spec.convert.paths import line_mentions, path_candidates
from hybrid_tui.core.spec.convert.scan import (
    Doc,
    Heading,
    requirements,
    scan,
    words,
)
from hybrid_tui.core.spec.convert.sections import context_rank, is_verification_heading
from hybrid_tui.core.spec.convert.steps import (
    Unit,
    clean_title,
    find_units,
    split_checks,
)
from hybrid_tui.core.spec.format import FileChange, Spec, Task, cycle_from, path_problem

__all__ = [
    "commands_in",
    "convert_plan",
    "line_mentions",
    "mark_dependencies",
    "looks_like_command",
    "path_candidates",
    "scan",
    "shell_commands",
    "strip_comment",
]

OTHER_FILES_TITLE = "Other files the plan lists"
_LIST_MARK = re.compile(r"^(?:[-*+]|\d+[.)])\s+(?:\[[ xX]\]\s+)?")
_PATHS_ONLY = re.compile(r"(?:`[^`]+`[\s,、;]*)+")
_PLAN_PREFIX = re.compile(
    r"^(?:(?:implementation|execution)\s+)?(?:plan|spec|計画|计划|計劃|계획|plano|plan de implementación"
    r"|実装計画|実施計画|实施计划|实现计划|구현 계획|실행 계획|plan d'implémentation|umsetzungsplan"
    r"|implementierungsplan|plano de implementação|piano di implementazione|piano|план реализации|план"
    r"|kế hoạch(?: triển khai| thực hiện)?)\s*[:：—–]\s*(?=\w)",
    re.IGNORECASE,
)
"""A plan's "Plan:" title prefix, which the spec's own "Spec: NNN --" replaces."""


def convert_plan(
    plan_text: str,
    *,
    source: str,
    number: int = 1,
    base: str = "",
    tree: set[str] | None = None,
    root: str | None = None,
) -> Spec:
    """Turn a plan into a Spec. `source` is the plan's file name (also the title fallback),
    `tree` the repo-relative files of the base commit (None: decide actions from words only),
    `root` the repository's absolute path (an absolute path under it is a repository path)."""
    doc = scan(plan_text)
    title_heading = next((h for h in doc.headings if h.level == 1), None)
    title_index = title_heading.index if title_heading else None
    title = _PLAN_PREFIX.sub("", " ".join(title_heading.text.split())) if title_heading else ""
    if not title:
        title = " ".join(PurePosixPath(source).stem.split()) or "Untitled plan"

    context_heading = _context_heading(doc, title_index)
    context = _context_text(doc, context_heading, title_index)
    kinds = section_kinds(doc, title_index)

    units = find_units(doc, title_index)
    owned = [False] * len(doc.lines)
    for unit in units:
        for i in unit.where:
            owned[i] = True
    # a finished phase or step (`## Phase 1: Setup ✅`) is no task: its lines stay owned, so
    # nothing of it is left over for "Other files", and its files are done (section_kinds)
    finished = [unit for unit in units if unit.span and kinds[unit.span[0]] == "done"]
    all_done = bool(units) and len(finished) == len(units)  # every step ticked: the plan is done
    units = [unit for unit in units if unit not in finished]
    content_kinds(doc, kinds, owned, title_index)
    whole_plan = not units
    if whole_plan:
        units = [_whole_plan_unit(doc, title, title_index, context_heading, kinds)]

    spec_commands, spec_others = _spec_verification(doc, title_index, owned, kinds)
    events = collect_events(doc, title_index, kinds, tree, root)
    if all_done:
        events = [e for e in events if e.stance != "change"]
    tasks = [_task(unit, n) for n, unit in enumerate(units, start=1)]
    fresh = (bool(_GREENFIELD.search(context)) or bool(_GREENFIELD.search(title))
             or bool(_PROJECT_INIT.search(plan_text)))
    _place_files(tasks, units, events, kinds, whole_plan, tree, greenfield=fresh)
    spec_commands = unique(
        spec_commands + _inline_spec_checks(doc, owned, kinds, title_index)
    )
    if spec_others:
        tasks[-1].requirements.extend(r for r in spec_others if not _TICKED.match(r))
    mark_dependencies(tasks)
    if not whole_plan:  # with one task of the whole plan, its body already holds them
        context = "\n\n".join(
            [context] * bool(context)
            + guidance_sections(doc, title_index, context_heading, owned)
        )
    return Spec(
        number=number,
        title=title,
        source=source,
        base=base,
        context=context,
        tasks=tasks,
        verification=spec_commands,
    )


# --------------------------------------------------------------------------------------------
# Context


def _context_heading(doc: Doc, title_index: int | None) -> Heading | None:
    best: tuple[int, int] | None = None
    chosen = None
    for heading in doc.headings:
        if heading.index == title_index:
            continue
        rank = context_rank(heading.text)
        if rank is not None and (best is None or (rank, heading.index) < best):
            best, chosen = (rank, heading.index), heading
    return chosen


def _context_text(doc: Doc, heading: Heading | None, title_index: int | None) -> str:
    if heading is not None:
        lines = doc.lines[heading.index + 1 : doc.section_end(heading)]
    else:
        start = 0 if title_index is None else title_index + 1
        stop = next((h.index for h in doc.headings if h.index >= start), len(doc.lines))
        lines = doc.lines[start:stop]
    lines = [line.rstrip() for line in lines]
    while lines and not lines[0].strip():
        lines.pop(0)
    while lines and not lines[-1].strip():
        lines.pop()
    if not lines:
        return ""
    return "\n".join(spec_safe(lines))


def _whole_plan_unit(
    doc: Doc, title: str, title_index: int | None, context_heading: Heading | None, kinds: list[str | None]
) -> Unit:
    skip = [False] * len(doc.lines)
    if title_index is not None:
        skip[title_index] = True
    if context_heading is not None:
        for i in range(context_heading.index, doc.section_end(context_heading)):
            skip[i] = True
    for heading in doc.headings:
        if heading.index != title_index and kinds[heading.index] == "verify":
            for i in range(heading.index, doc.section_end(heading)):
                skip[i] = True
    body = [line for line, s in zip(doc.lines, skip) if not s]
    where = [i for i in range(len(doc.lines)) if i != title_index]
    return Unit(title=title, head="", body=body, where=where)


# --------------------------------------------------------------------------------------------
# Verification


def _spec_verification(
    doc: Doc, title_index: int | None, owned: list[bool], kinds: list[str | None]
) -> tuple[list[str], list[str]]:
    """Commands of verification and criteria sections outside the steps; the other items of
    verification sections (checklists, slash commands, prose checks) become requirements of
    the last task. A shell command in an item goes to the commands, never to a requirement."""
    commands: list[str] = []
    others: list[str] = []
    covered_until = -1
    for heading in doc.headings:
        if (
            heading.index == title_index
            or heading.index < covered_until
            or owned[heading.index]
        ):
            continue
        verify = is_verification_heading(heading.text) or kinds[heading.index] == "verify"
        if not verify and kinds[heading.index] != "criteria":
            continue
        end = doc.section_end(heading)
        covered_until = end
        lines = [doc.lines[i] for i in range(heading.index + 1, end) if not owned[i]]
        found, rest = commands_in(lines)
        commands.extend(found)
        if verify:
            others.extend(rest)
    return unique(commands), others


def _inline_spec_checks(
    doc: Doc, owned: list[bool], kinds: list[str | None], title_index: int | None
) -> list[str]:
    """Inline checks outside the steps and outside verification sections."""
    lines = [
        line if not doc.fenced[i] else ""
        for i, line in enumerate(doc.lines)
        if not owned[i]
        and i != title_index
        and kinds[i] not in ("verify", "criteria", "ignore")
    ]
    return inline_checks(lines)


# --------------------------------------------------------------------------------------------
# Tasks and their files


# a ticked checklist item (`- [x] ...`) reports work done: not a requirement to do
_TICKED = re.compile(r"\[[xX]\](?:\s|$)")


def _task(unit: Unit, number: int) -> Task:
    body, labelled_checks = split_checks(unit.body)
    unit_checks = unit.checks + labelled_checks
    verification: list[str] = []
    reqs: list[str] = []
    if unit.verify_only:
        found, rest = commands_in(body)
        verification.extend(found)
        reqs.extend(rest)
    else:
        checks = inline_checks(body)
        reqs.extend(without_checks(requirements(body), checks))
        verification.extend(checks)
    for check in unit_checks:
        found, rest = commands_in(check)
        verification.extend(found)
        reqs.extend(rest)
    reqs = [r for r in reqs if not _TICKED.match(r)]
    return Task(
        number=number,
        title=clean_title(unit.title, f"Step {number}", strip_paths=unit.from_heading),
        requirements=reqs,
        verification=unique(verification),
    )


def _place_files(
    tasks: list[Task],
    units: list[Unit],
    events: list[Event],
    kinds: list[str | None],
    whole_plan: bool,
    tree: set[str] | None,
    *,
    greenfield: bool = False,
) -> None:
    """Give each task its files (see the module docstring)."""
    # "no change" / out of scope rules over the whole plan; a done mark over the entry it marks
    # and over mentions that say nothing of their own (no action word: "(capab.h)")
    blocked = {e.path for e in events if e.stance == "exclude"}
    # (a finished phase's files are its own: an open step naming them still changes them)
    done = {e.path for e in events if e.stance == "done" and kinds[e.line] != "done"}
    owner: dict[int, int] = {}
    for index, unit in enumerate(units):
        for i in unit.where:
            owner.setdefault(i, index)
    plan_action: dict[str, str] = {}
    for event in events:
        if event.stance in ("change", "read") and event.action and not event.outside:
            plan_action.setdefault(event.path, event.action)

    chosen: list[dict[str, str | None]] = [{} for _ in tasks]
    outside: list[list[str]] = [[] for _ in tasks]
    leftovers: dict[str, list[Event]] = {}
    for event in events:
        n = owner.get(event.line)
        if event.stance != "change" or event.path in blocked or (event.path in done and not event.worded):
            continue
        kind = kinds[event.line]
        if kind == "verify" and event.action is None and not event.listing and not event.worded:
            continue  # a verification section names files it runs, not files it changes (unless it says so)
        if kind in ("verify", "criteria") and event.action is None and _runs(event):
            continue  # `./scripts/smoke.sh` as a check: the file is run
        if n is None:
            if not (event.listing or event.action in ("CREATE", "DELETE") or (event.worded and kind is None)):
                continue  # outside the steps, a file counts when listed, created, deleted or said to change
            if (
                kind == "context"
                or (kind == "read" and event.action is None)
                or event.outside
                or path_problem(event.path) is not None
            ):
                continue
            leftovers.setdefault(event.path, []).append(event)
            continue
        if kind == "context" and not whole_plan:
            continue
        if event.outside or path_problem(event.path) is not None:  # never a path the spec refuses
            if event.path not in outside[n]:
                outside[n].append(event.path)
            continue
        current = chosen[n].get(event.path)
        if event.path not in chosen[n] or (current is None and event.action):
            chosen[n][event.path] = event.action

    placed = {path for files in chosen for path in files}

    other_reqs: list[str] = []
    other: dict[str, str | None] = {}
    for path, found in leftovers.items():
        if path in placed:
            continue
        n = _task_naming(path, units)
        action = next((e.action for e in found if e.action), None)
        if n is None:
            other.setdefault(path, action)
            for event in found:
                text = _LIST_MARK.sub("", event.text.strip())
                if _PATHS_ONLY.fullmatch(text):
                    continue  # a listed path: the task's Files say it
                if text and text not in other_reqs:
                    other_reqs.append(text)
        else:
            chosen[n].setdefault(path, action)
    if other:
        if len(tasks) == 1:
            for path, action in other.items():
                chosen[0].setdefault(path, action)
        else:
            tasks.append(
                Task(
                    number=len(tasks) + 1,
                    title=OTHER_FILES_TITLE,
                    requirements=other_reqs,
                )
            )
            chosen.append(other)
            outside.append([])

    new_folders = _new_folders(events)
    scaffolded = _scaffolded(events) if tree is None else set()
    present = set(tree) if tree is not None else set()
    created: set[str] = set()
    for task, files, away in zip(tasks, chosen, outside):
        changes = []
        for path, action in files.items():
            action = action or plan_action.get(path)
            if tree is not None:
                exists = path in present
                final = (
                    "DELETE"
                    if action == "DELETE"
                    else ("MODIFY" if exists else "CREATE")
                )
            else:
                folder = path.rsplit("/", 1)[0] if "/" in path else ""
                default = ("CREATE" if greenfield or folder in new_folders or _NEW_MIGRATION.search(path)
                           else "MODIFY")
                final = action or default
                if path.split("/", 1)[0] in scaffolded and final != "DELETE":
                    final = "CREATE"
                if final == "CREATE" and path in created:
                    final = "MODIFY"
            if final == "CREATE":
                present.add(path)
                created.add(path)
            elif final == "DELETE":
                present.discard(path)
            changes.append(FileChange(action=final, path=path))  # type: ignore[arg-type]
        task.files = changes
        if away:
            listed = ", ".join(f"`{p}`" for p in away)
            task.requirements.append(
                f"Paths outside the repository (not in Files, not edited by this spec): {listed}"
            )


def _runs(event: Event) -> bool:
    """The mention is (in) a command span on its line: the file is run, not changed."""
    return any(event.path in span and looks_like_command(span) for span in _SPAN.findall(event.text))


_SPAN = re.compile(r"`([^`\n]+)`")


# a plan for a project with no code yet: files default to CREATE
_GREENFIELD = re.compile(
    r"\bgreen-?field\b|no (?:application |source )?code exists|from scratch|empty repo"
    r"|new (?:project|repository)\b|プロジェクト新規|新規プロジェクト|新しいプロジェクト|从零|新项目|신규 프로젝트"
    r"|새 프로젝트|nuevo proyecto|quiere construir|neues projekt|nouveau projet|novo projeto|nuovo progetto",
    re.IGNORECASE,
)
_PROJECT_INIT = re.compile(
    r"`(?:uv|npm|pnpm|yarn|bun|cargo|poetry|hatch|go mod|dotnet new|rails new|django-admin startproject)"
    r"\s+(?:init|new)\b|`npx create-|`npm create |`cargo new\b|`uv init\b",
)
"""A plan that starts the project (`uv init`, `cargo new`): the files it names are new."""


def _new_folders(events: list[Event]) -> set[str]:
    """Folders the plan creates: the first file of the folder the plan names is CREATEd (the
    repository root and top-level folders like `src` are never counted)."""
    first: dict[str, str | None] = {}
    for event in events:
        if event.stance == "change" and not event.outside and "/" in event.path:
            folder = event.path.rsplit("/", 1)[0]
            if "/" in folder:
                first.setdefault(folder, event.action)
    return {folder for folder, action in first.items() if action == "CREATE"}


def _scaffolded(events: list[Event]) -> set[str]:
    """Top folders a step scaffolds (`mcp/package.json`, ... "Package skeleton"): every file
    the plan names under one is created, whatever word the step's row uses."""
    return {event.path.split("/", 1)[0] for event in events
            if event.stance == "change" and not event.outside and "/" in event.path
            and _SCAFFOLD.search(event.text)} - _SHARED_TOP_FOLDERS


_NEW_MIGRATION = re.compile(r"(?:^|/)migrations?/\d{2,}[\w.-]*\.(?:sql|py|ts|js|rb|go)$")
"""A numbered migration (`migrations/020_cascade.sql`) is a new file: migrations are added, not edited."""
_SCAFFOLD = re.compile(
    r"\b(?:skeleton|scaffold\w*|new (?:package|module|crate|app|service|server|workspace))\b"
    r"|esqueleto|squelette|gerüst|スケルトン|雛形|骨架|脚手架|뼈대",
    re.IGNORECASE,
)
_SHARED_TOP_FOLDERS = {"src", "lib", "app", "apps", "packages", "test", "tests", "docs", "scripts", ".github", ".claude"}


_GENERIC_STEMS = words(
    """
    index main app types utils util config readme package init mod lib test tests setup
    """
)


def _task_naming(path: str, units: list[Unit]) -> int | None:
    """The first unit whose text names the file (its name, else its stem as a word)."""
    name = path.rsplit("/", 1)[-1]
    stem = name.split(".", 1)[0]
    texts = [" ".join([unit.title, unit.head, *unit.body]) for unit in units]
    for n, text in enumerate(texts):
        if name in text:
            return n
    if len(stem) >= 4 and stem.lower() not in _GENERIC_STEMS:
        word = re.compile(rf"(?<![\w-]){re.escape(stem)}(?![\w-])")
        for n, text in enumerate(texts):
            if word.search(text):
                return n
    return None


def mark_dependencies(tasks: list[Task]) -> None:
    """`Depends on:` and `[INDEPENDENT]` from what each task uses of another's work.

    A task uses another when they share a file, when it tests the other's file
    (`tests/test_x.py` for `x.py`, `x.test.ts` for `x.ts`), when its text names the other's
    file, or when a code span of its text names a symbol the other adds ("Add `greet(name)`"
    there, "call `greet()`" here). It depends on each task it uses: on the earlier of two that share a file, on both
    sides' earlier one when two use each other, and on a later task only when that makes no
    cycle. `[INDEPENDENT]`: a task with files that uses no other task and shares no file."""
    owners: dict[str, int] = {}
    for task in tasks:
        for change in task.files:
            owners[change.path] = owners.get(change.path, 0) + 1
    uses = {(a.number, b.number): _uses(a, b) for a in tasks for b in tasks if a is not b}
    needs: dict[int, list[int]] = {task.number: [] for task in tasks}
    for task in tasks:
        mine = {c.path for c in task.files}
        for other in tasks:
            if other.number < task.number and (
                uses[task.number, other.number] or mine & {c.path for c in other.files}
            ):
                needs[task.number].append(other.number)
    for task in tasks:  # a task that uses a later one (the plan's order is not the order of use)
        for other in tasks:
            if other.number > task.number and uses[task.number, other.number] and not uses[other.number, task.number]:
                needs[task.number].append(other.number)
                if cycle_from(task.number, needs) is not None:
                    needs[task.number].pop()
    for task in tasks:
        task.depends_on = sorted(needs[task.number])
        task.independent = bool(task.files) and all(
            owners[c.path] == 1 for c in task.files
        ) and not any(uses[task.number, other.number] for other in tasks if other is not task)


_TEST_NAME = re.compile(r"^(?:test_)?(.+?)(?:_test|\.test|\.spec|_spec|Test|Tests)?$")


def _uses(task: Task, other: Task) -> bool:
    """Whether `task` needs what `other` writes (see `_mark_independent`)."""
    theirs = {c.path for c in other.files if c.action != "DELETE"}
    if not theirs:
        return False
    stems = {_file_stem(path) for path in theirs if _tested_stem(path) is None} - _GENERIC_STEMS
    for change in task.files:
        tested = _tested_stem(change.path)
        if tested is not None and tested in stems:
            return True  # a test of another task's (non-test) file
    text = " ".join([task.title, *task.requirements])
    if any(f"`{path}`" in text or f"`{path.rsplit('/', 1)[-1]}`" in text for path in theirs
           if _file_stem(path) not in _GENERIC_STEMS):
        return True
    used = {name for span in _SPAN.findall(text) if not path_candidates(span) for name in _IDENTIFIER.findall(span)}
    return bool(used & (_defined(other) - _defined(task)))


_IDENTIFIER = re.compile(r"(?<![\w.])([A-Za-z_][A-Za-z0-9_]{2,})(?=\s*\(|\b)")
_DEFINES = re.compile(
    r"\b(?:add|adds|adding|create|creates|define|defines|implement|implements|introduce|export|exports|write|new"
    r"|ajouter|créer|définir|implémenter|nouveau|nouvelle|añadir|agregar|crear|definir|implementar|nuevo|nueva"
    r"|hinzufügen|erstellen|definieren|implementieren|neue|neuen|adicionar|criar|novo|nova|aggiungere|creare"
    r"|definire|implementare|nuovo|nuova|добавить|создать|определить|реализовать|новый|новую|thêm|tạo|định nghĩa)"
    r"(?:\s+[\w'-]+){0,2}\s*$"
    r"|(?:添加|新增|新建|定义|实现|追加|作成|定義|実装|추가|정의|구현)\s*$",
    re.IGNORECASE,
)
_COMMON_NAMES = words(
    """
    self this true false none null main init test tests args kwargs str int bool dict list print
    return async await def class import from export const let var function new get set
    """
)


def _defined(task: Task) -> set[str]:
    """Names a task adds: the identifier of a code span right after "add" / "define" /
    "implement" / "new function" (and their zh, ja, ko forms): `greet(name)` -> greet."""
    names: set[str] = set()
    for text in (task.title, *task.requirements):
        for match in _SPAN.finditer(text):
            before = _SPAN.sub("X", text[max(0, match.start() - 80) : match.start()])  # "Add `a.py` with `f()`"
            if _DEFINES.search(before) and not path_candidates(match.group(1)):
                found = _IDENTIFIER.match(match.group(1).removeprefix("def ").removeprefix("fn ").strip())
                if found and found.group(1).lower() not in _COMMON_NAMES:
                    names.add(found.group(1))
    return names


def _tested_stem(path: str) -> str | None:
    """`x` for a test file of `x` (`test_x.py`, `x.test.ts`, `x_spec.rb`), else None."""
    stem = path.rsplit("/", 1)[-1].rsplit(".", 1)[0]  # `x.test.ts` -> `x.test`
    tested = _TEST_NAME.match(stem)
    return tested.group(1) if tested and tested.group(1) != stem else None


def _file_stem(path: str) -> str:
    return path.rsplit("/", 1)[-1].split(".", 1)[0]
