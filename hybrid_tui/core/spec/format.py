"""The spec: what the worker is asked to do. Models, `parse_spec`, `render_spec`, `validate_spec`.

Canonical form (DESIGN.md):

    # Spec: 001 -- <title>

    Source: <plan file name>
    Base: <branch>@<short sha>

    ## Context
    <free text>

    ## Tasks

    ### Task 1: <title> [INDEPENDENT]

    Files:
    - CREATE path/greeting.py

    ### Task 2: <title>

    Depends on: Task 1

    Files:
    - CREATE path/new_file.py
    - MODIFY path/existing.py
    - DELETE path/old.py

    Requirements:
    - <concrete requirement>

    Verification:
    - `pytest tests/test_new_file.py`

    ## Verification
    - `pytest --cov=src`

`render_spec(parse_spec(text)) == text` for canonical text.

Behaviour choices:
- Rendering is a list of blocks joined by one blank line, ending in one newline. Empty parts are
  omitted: the `Source:` / `Base:` lines when empty (the whole block when both are), `## Context`
  when the context is empty, a task's `Files:` / `Requirements:` / `Verification:` when empty
  and the spec-level `## Verification` when it has no command. `## Tasks` is always rendered.
  Parsing accepts all of these omissions, blank lines anywhere between blocks (or none), and
  `*` bullets.
- A requirement may span lines: continuation lines are indented by two spaces (a tab is also
  accepted on input); blank lines inside a requirement render as empty lines.
- A command renders as ``- `cmd` ``; a command holding backticks gets a longer fence
  (``- ``a `b` c`` ``), padded with one space when it starts or ends with a backtick, the
  CommonMark way. On input a bare `- cmd` without backticks is accepted too.
- The number renders with at least three digits (`001`). `--`, `—` and `–` are accepted between
  number and title on input.
- On input, the seed's `Files to create:` / `Files to modify:` / `Files to delete:` take bullets
  that are plain paths (optionally backticked; text after a backticked path is ignored).
  Action words are accepted in any case and render upper case.
- `Depends on: Task 1, Task 3` (first in a task's body) names the tasks whose work this one
  uses, so it runs after them; `[INDEPENDENT]` says it uses none. On input it may come
  anywhere in the task's body, `Task` / `Tasks` may be left out (`Depends on: 1, 3`), `and` /
  `&` / `;` separate as well, and `Depends on: none` names no task; it renders as above.
  `validate_spec` makes a task depending on itself, on a task that does not exist or in a
  cycle an error, and so is `[INDEPENDENT]` on a task that depends on another.
- Lines are split on `\\n` only (a trailing `\\r` is dropped), so line numbers match an editor's.
- `parse_spec` checks syntax only; `validate_spec` adds the path and consistency rules and never
  raises. `check_spec` is `validate_spec` that raises `SpecError` on errors.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel

from hybrid_tui.core.errors import InputError
from hybrid_tui.core.spec.paths import git_dir_problem, link_problem
from hybrid_tui.core.spec.risky_commands import risks_text

Action = Literal["CREATE", "MODIFY", "DELETE"]
ACTIONS: tuple[Action, ...] = ("CREATE", "MODIFY", "DELETE")


def _action(word: str) -> Action | None:
    """The action a file bullet names (any case), None when it names none."""
    upper = word.upper()
    return next((action for action in ACTIONS if action == upper), None)


class FileChange(BaseModel):
    action: Action
    path: str  # repo-relative, forward slashes


class Task(BaseModel):
    number: int
    title: str
    independent: bool = False
    depends_on: list[int] = []  # numbers of the tasks this one uses (runs after them)
    files: list[FileChange] = []
    requirements: list[str] = []
    verification: list[str] = []  # shell commands, without backticks


class Spec(BaseModel):
    number: int = 1
    title: str
    source: str = ""
    base: str = ""
    context: str = ""
    tasks: list[Task] = []
    verification: list[str] = []  # spec-level shell commands

    def all_commands(self) -> list[str]:
        """Every verification command, task-level first, without repeats."""
        seen: dict[str, None] = {}
        for task in self.tasks:
            for command in task.verification:
                seen.setdefault(command, None)
        for command in self.verification:
            seen.setdefault(command, None)
        return list(seen)

    def all_files(self) -> list[FileChange]:
        return [change for task in self.tasks for change in task.files]


@dataclass(frozen=True, slots=True)
class Problem:
    """A validation finding; `line` is 1-based in the spec text (0: the spec as a whole)."""

    line: int
    severity: Literal["error", "warning"]
    message: str

    def __str__(self) -> str:
        where = f"line {self.line}: " if self.line else ""
        return f"{where}{self.severity}: {self.message}"


class SpecError(InputError):
    """An invalid spec; `problems` holds every error found, each with its line number."""

    def __init__(self, problems: list[Problem], *, name: str = "") -> None:
        self.problems = list(problems)
        where = f"invalid spec {name}" if name else "invalid spec"
        listed = "\n".join(f"  {problem}" for problem in self.problems)
        super().__init__(
            f"{where}:\n{listed}" if listed else where,
            fix="Fix the lines named above; the canonical format is in DESIGN.md.",
        )


def is_spec_text(text: str) -> bool:
    """True when the first non-blank line starts with `# Spec:`."""
    for line in text.split("\n"):
        if line.strip():
            return line.lstrip().startswith("# Spec:")
    return False


# --------------------------------------------------------------------------------------------
# Rendering


def render_spec(spec: Spec) -> str:
    """The canonical text of `spec` (see the module docstring for the omission rules)."""
    blocks = [f"# Spec: {spec.number:03d} -- {spec.title}"]
    meta = []
    if spec.source:
        meta.append(f"Source: {spec.source}")
    if spec.base:
        meta.append(f"Base: {spec.base}")
    if meta:
        blocks.append("\n".join(meta))
    if spec.context:
        blocks.append(f"## Context\n{spec.context}")
    blocks.append("## Tasks")
    for task in spec.tasks:
        marker = " [INDEPENDENT]" if task.independent else ""
        blocks.append(f"### Task {task.number}: {task.title}{marker}")
        if task.depends_on:
            blocks.append(render_depends_on(task.depends_on))
        if task.files:
            blocks.append("Files:\n" + "\n".join(f"- {c.action} {c.path}" for c in task.files))
        if task.requirements:
            blocks.append("Requirements:\n" + "\n".join(_render_item(r) for r in task.requirements))
        if task.verification:
            blocks.append(
                "Verification:\n" + "\n".join(render_command(c) for c in task.verification)
            )
    if spec.verification:
        blocks.append("## Verification\n" + "\n".join(render_command(c) for c in spec.verification))
    return "\n\n".join(blocks) + "\n"


def render_depends_on(numbers: list[int]) -> str:
    return "Depends on: " + ", ".join(f"Task {n}" for n in numbers)


def _render_item(text: str) -> str:
    first, *rest = text.split("\n")
    lines = [f"- {first}" if first else "-"]
    lines.extend(f"  {line}" if line.strip() else "" for line in rest)
    return "\n".join(lines)


_BACKTICK_RUN = re.compile(r"`+")


def render_command(command: str) -> str:
    """`- `cmd`` with a fence longer than any backtick run inside the command."""
    longest = max((len(run) for run in _BACKTICK_RUN.findall(command)), default=0)
    fence = "`" * (longest + 1)
    pad = (
        command.startswith("`")
        or command.endswith("`")
        or (len(command) > 1 and command[0] == " " and command[-1] == " " and command.strip() != "")
    )
    inner = f" {command} " if pad else command
    return f"- {fence}{inner}{fence}"


def parse_command(item: str) -> str:
    """The command inside a rendered item's text (after `- `); bare text is taken as is."""
    run = len(item) - len(item.lstrip("`"))
    if run and len(item) > 2 * run and item.endswith("`" * run) and item[-run - 1] != "`":
        inner = item[run:-run]
        if len(inner) > 1 and inner[0] == " " and inner[-1] == " " and inner.strip():
            inner = inner[1:-1]
        return inner
    return item


# --------------------------------------------------------------------------------------------
# Parsing (keeps the line of every item for validation)


@dataclass(slots=True)
class _TaskLines:
    heading: int
    files: list[int] = field(default_factory=list)
    depends_on: int = 0  # the line of `Depends on:` (0: none)


@dataclass(slots=True)
class _Located:
    """A parsed spec plus where each part was, and the syntax problems met on the way."""

    spec: Spec | None
    header: int = 0
    tasks: list[_TaskLines] = field(default_factory=list)
    commands: list[tuple[int, str]] = field(default_factory=list)  # (line, command)
    problems: list[Problem] = field(default_factory=list)


_HEADER = re.compile(r"#\s+Spec:\s*(\d+)\s*(?:--|—|–)\s*(.*?)\s*$")
_HEADER_LOOSE = re.compile(r"#\s+Spec:")
_SECTION = re.compile(r"##\s+(\S.*?)\s*$")
_TASK = re.compile(r"###\s+Task\s+(\d+)\s*:\s*(.*?)\s*$")
_TASK_LOOSE = re.compile(r"###\s")
_INDEPENDENT = " [INDEPENDENT]"
_META = re.compile(r"(Source|Base):(?: (.*))?$")
_LABEL = re.compile(
    r"(Files|Files to create|Files to modify|Files to delete|Requirements|Verification)\s*:\s*$",
    re.IGNORECASE,
)
_DEPENDS_ON = re.compile(r"Depends on\s*:\s*(.*?)\s*$", re.IGNORECASE)
_DEPENDENCY = re.compile(r"(?:tasks?\s*)?#?(\d+)", re.IGNORECASE)
_DEPENDENCY_SEPARATORS = re.compile(r"\s*(?:,|;|&|\band\b)\s*", re.IGNORECASE)
_BULLET = re.compile(r"[-*](?: |$)")
_FILE_ITEM = re.compile(r"(\S+)\s+(.*?)\s*$")
_FENCE = re.compile(r"\s{0,3}(`{3,}|~{3,})")
_KNOWN_SECTIONS = {"context": "Context", "tasks": "Tasks", "verification": "Verification"}


def parse_spec(text: str, *, name: str = "") -> Spec:
    """Parse spec text; raise `SpecError` listing every syntax error with its line."""
    located = _parse(text)
    errors = [p for p in located.problems if p.severity == "error"]
    if errors or located.spec is None:
        raise SpecError(errors, name=name)
    return located.spec


class _Parser:
    """One pass over the lines; a small state machine (section, task subsection)."""

    def __init__(self, text: str) -> None:
        self.lines = [line.removesuffix("\r") for line in text.split("\n")]
        self.problems: list[Problem] = []
        self.located = _Located(spec=None)
        self.meta: dict[str, str] = {}
        self.context: list[str] = []
        self.tasks: list[dict] = []
        self.verification: list[str] = []
        self.seen_sections: set[str] = set()

    def error(self, index: int, message: str) -> None:
        self.problems.append(Problem(index + 1, "error", message))

    def run(self) -> _Located:
        lines = self.lines
        i = 0
        while i < len(lines) and not lines[i].strip():
            i += 1
        if i == len(lines):
            self.error(0, "empty spec: expected a '# Spec: NNN -- title' header")
            self.located.problems = self.problems
            return self.located
        match = _HEADER.match(lines[i])
        number, title = 1, ""
        if match is None:
            self.error(i, "expected the header '# Spec: NNN -- title'")
        else:
            number, title = int(match.group(1)), match.group(2)
            if not title:
                self.error(i, "the header has no title after '--'")
        self.located.header = i + 1
        i = self._preamble(i + 1)
        while i < len(lines):
            i = self._section(i)
        if match is not None and not any(p.severity == "error" for p in self.problems):
            tasks = [Task(**fields) for fields in self.tasks]
            self.located.spec = Spec(
                number=number,
                title=title,
                source=self.meta.get("Source", ""),
                base=self.meta.get("Base", ""),
                context="\n".join(self.context),
                tasks=tasks,
                verification=self.verification,
            )
        self.located.problems = self.problems
        return self.located

    def _preamble(self, i: int) -> int:
        lines = self.lines
        while i < len(lines):
            line = lines[i]
            if not line.strip():
                i += 1
                continue
            if line.startswith(("## ", "### ")):
                return i
            meta = _META.match(line)
            if meta:
                key = meta.group(1)
                if key in self.meta:
                    self.error(i, f"'{key}:' given twice")
                self.meta[key] = (meta.group(2) or "").strip()
            else:
                self.error(
                    i,
                    "unexpected text before the first section: expected 'Source:', 'Base:' "
                    "or a '## Context' / '## Tasks' / '## Verification' section",
                )
            i += 1
        return i

    def _section(self, i: int) -> int:
        line = self.lines[i]
        match = _SECTION.match(line)
        key = match.group(1).lower() if match and not line.startswith("###") else None
        if key not in _KNOWN_SECTIONS:
            if _TASK_LOOSE.match(line):
                self.error(i, "a task heading outside '## Tasks'")
            else:
                self.error(
                    i, "expected a section heading '## Context', '## Tasks' or '## Verification'"
                )
            return self._skip_to_section(i + 1)
        if key in self.seen_sections:
            self.error(i, f"section '## {_KNOWN_SECTIONS[key]}' given twice")
        self.seen_sections.add(key)
        if key == "context":
            return self._context(i + 1)
        if key == "tasks":
            return self._tasks(i + 1)
        return self._items(i + 1, self.verification, kind="command", stop_at_task=False)

    def _skip_to_section(self, i: int) -> int:
        while i < len(self.lines) and not self._is_section(self.lines[i]):
            i += 1
        return i

    @staticmethod
    def _is_section(line: str) -> bool:
        match = _SECTION.match(line)
        return match is not None and not line.startswith("###") and match.group(1).lower() in _KNOWN_SECTIONS

    def _context(self, i: int) -> int:
        lines = self.lines
        body: list[str] = []
        fence: str | None = None
        fence_line = 0
        while i < len(lines):
            line = lines[i]
            if fence is None and self._is_section(line):
                break
            was_open = fence
            fence = context_fence_after(line, fence)
            if was_open is None and fence is not None:
                fence_line = i
            body.append(line)
            i += 1
        if fence is not None:
            self.error(fence_line, "code fence in Context is never closed")
        while body and not body[0].strip():
            body.pop(0)
        while body and not body[-1].strip():
            body.pop()
        self.context = body
        return i

    def _tasks(self, i: int) -> int:
        lines = self.lines
        while i < len(lines):
            line = lines[i]
            if not line.strip():
                i += 1
                continue
            if self._is_section(line):
                return i
            match = _TASK.match(line)
            if match is None:
                if _TASK_LOOSE.match(line):
                    self.error(i, "expected a task heading '### Task N: title [INDEPENDENT]'")
                else:
                    self.error(i, "expected a task heading '### Task N: title'")
                i += 1
                continue
            title = match.group(2)
            independent = title.endswith(_INDEPENDENT) or title == _INDEPENDENT.strip()
            if independent:
                title = title[: -len(_INDEPENDENT)] if title != _INDEPENDENT.strip() else ""
                title = title.rstrip()
            if not title:
                self.error(i, "the task heading has no title")
            task: dict[str, Any] = {
                "number": int(match.group(1)),
                "title": title,
                "independent": independent,
                "depends_on": [],
                "files": [],
                "requirements": [],
                "verification": [],
            }
            where = _TaskLines(heading=i + 1)
            self.tasks.append(task)
            self.located.tasks.append(where)
            i = self._task_body(i + 1, task, where)
        return i

    def _task_body(self, i: int, task: dict, where: _TaskLines) -> int:
        lines = self.lines
        while i < len(lines):
            line = lines[i]
            if not line.strip():
                i += 1
                continue
            if self._is_section(line) or _TASK_LOOSE.match(line):
                return i
            depends = _DEPENDS_ON.match(line)
            if depends is not None:
                if where.depends_on:
                    self.error(i, "'Depends on:' given twice in a task")
                where.depends_on = i + 1
                self._depends_on(i, depends.group(1), task["depends_on"])
                i += 1
                continue
            label = _LABEL.match(line)
            if label is None:
                self.error(i, "expected 'Depends on:', 'Files:', 'Requirements:' or 'Verification:' in a task")
                i += 1
                continue
            name = label.group(1).lower()
            if name == "requirements":
                i = self._items(i + 1, task["requirements"], kind="text")
            elif name == "verification":
                i = self._items(i + 1, task["verification"], kind="command")
            else:
                fixed = None if name == "files" else _action(name.rsplit(" ", 1)[1])
                i = self._files(i + 1, task["files"], where, fixed)
        return i

    def _depends_on(self, i: int, text: str, out: list[int]) -> None:
        if text.strip().lower() in ("none", "nothing", "-", "—", "–"):
            return  # "Depends on: none"
        parts = [part for part in _DEPENDENCY_SEPARATORS.split(text) if part]
        if not parts:
            self.error(i, "'Depends on:' names no task: write 'Depends on: Task 1, Task 2'")
        for part in parts:
            match = _DEPENDENCY.fullmatch(part)
            if match is None:
                self.error(i, f"'Depends on:' expects task numbers ('Task 1, Task 2'), not {part!r}")
            elif int(match.group(1)) not in out:
                out.append(int(match.group(1)))

    def _block_end(self, line: str, stop_at_task: bool = True) -> bool:
        return (
            self._is_section(line)
            or (stop_at_task and bool(_TASK_LOOSE.match(line)))
            or bool(_LABEL.match(line))
            or bool(_DEPENDS_ON.match(line))
        )

    def _files(self, i: int, out: list[FileChange], where: _TaskLines, fixed: Action | None) -> int:
        lines = self.lines
        while i < len(lines):
            line = lines[i]
            if not line.strip():
                i += 1
                continue
            if self._block_end(line):
                return i
            if not _BULLET.match(line):
                self.error(i, "expected a file bullet '- ACTION path'")
                i += 1
                continue
            rest = line[2:].strip()
            if fixed is not None:
                path = _unquote_path(rest)
                action = fixed
            else:
                match = _FILE_ITEM.match(rest)
                if match is None:
                    self.error(i, "expected '- ACTION path' (ACTION: CREATE, MODIFY or DELETE)")
                    i += 1
                    continue
                named = _action(match.group(1))
                if named is None:
                    self.error(
                        i, f"unknown action {match.group(1)!r}: use CREATE, MODIFY or DELETE"
                    )
                    i += 1
                    continue
                action = named
                path = _unquote_path(match.group(2))
            if not path:
                self.error(i, "a file bullet without a path")
            else:
                out.append(FileChange(action=action, path=path))
                where.files.append(i + 1)
            i += 1
        return i

    def _items(self, i: int, out: list[str], *, kind: str, stop_at_task: bool = True) -> int:
        """Bullets: text items may continue on indented lines; commands are one line each."""
        lines = self.lines
        current: list[str] | None = None
        pending_blank = 0
        while i < len(lines):
            line = lines[i]
            if not line.strip():
                pending_blank += 1
                i += 1
                continue
            if kind == "text" and current is not None and line[:1] in (" ", "\t"):
                current.extend([""] * pending_blank)
                current.append(line[2:] if line.startswith("  ") else line[1:])
                pending_blank = 0
                i += 1
                continue
            if current is not None:
                out.append("\n".join(current))
                current = None
            pending_blank = 0
            if self._block_end(line, stop_at_task):
                return i
            if not _BULLET.match(line):
                what = "a requirement" if kind == "text" else "a command"
                self.error(i, f"expected a bullet '- ...' holding {what}")
                i += 1
                continue
            item = line[2:]
            if kind == "text":
                current = [item]
            else:
                command = parse_command(item.strip())
                if not command.strip():
                    self.error(i, "an empty verification command")
                else:
                    out.append(command)
                    self.located.commands.append((i + 1, command))
            i += 1
        if current is not None:
            out.append("\n".join(current))
        return i


def context_fence_after(line: str, fence: str | None) -> str | None:
    """The fence open after `line` in a spec's Context, given the one open before it (None:
    none). A fence opens with three or more backticks or tildes indented at most three spaces,
    and closes with a run of the same character at least as long with nothing else on the
    line, indented at most three spaces as well."""
    opener = _FENCE.match(line)
    if fence is None:
        return opener.group(1) if opener else None
    if opener and opener.group(1)[0] == fence[0] and len(opener.group(1)) >= len(fence) and not line.strip().strip(fence[0]):
        return None
    return fence


def _unquote_path(text: str) -> str:
    text = text.strip()
    if text.startswith("`"):
        end = text.find("`", 1)
        return text[1:end].strip() if end > 0 else text.strip("`").strip()
    return text


def _parse(text: str) -> _Located:
    return _Parser(text).run()


# --------------------------------------------------------------------------------------------
# Validation


_DRIVE = re.compile(r"[A-Za-z]:")


def path_problem(path: str) -> str | None:
    """Why `path` is not an acceptable repo-relative file path, or None when it is."""
    if not path.strip():
        return "empty path"
    if "\\" in path:
        return f"{path!r} contains a backslash: use forward slashes"
    if any(ord(ch) < 32 for ch in path):
        return f"{path!r} contains a control character"
    if path.startswith("/") or _DRIVE.match(path):
        return f"{path!r} is absolute: paths are relative to the repository root"
    if path.startswith("~"):
        return f"{path!r} points into a home directory: paths are relative to the repository root"
    normal = posixpath.normpath(path)
    if normal == ".." or normal.startswith("../"):
        return f"{path!r} escapes the repository"
    if normal == "." or path.endswith("/"):
        return f"{path!r} is a directory, not a file"
    return git_dir_problem(normal)


def normalize_path(path: str) -> str:
    """The canonical spelling of an acceptable path (`./a//b` -> `a/b`)."""
    return posixpath.normpath(path)


def validate_spec(text: str, *, tree: set[str] | None = None) -> tuple[Spec | None, list[Problem]]:
    """Parse and check `text`; never raises. Problems are sorted by line.

    Errors: syntax; a path that is empty, absolute, under `~`, escaping the repository, holding a
    backslash, inside a `.git` directory, or (with `tree`'s symlinks) leading out of the
    repository through a tracked symlink (a warning when it leads to a file inside: core/spec/paths.py);
    the same path twice in one task; the same path in two [INDEPENDENT] tasks; `Depends on:` a
    task that does not exist, the task itself, or in a cycle; `[INDEPENDENT]` with `Depends on:`.
    Warnings: a verification command that reaches outside the worktree or destroys data
    (core/spec/risky_commands.py); a task without files; no verification command in the whole spec; task numbers
    out of sequence; and with `tree` (repo-relative files of the base commit): MODIFY/DELETE of a
    file that is not there, CREATE of a file that is. A file CREATEd by an earlier task counts as
    present for later tasks (and a DELETEd one as absent).
    """
    located = _parse(text)
    problems = list(located.problems)
    spec = located.spec
    if spec is None:
        return None, sorted(problems, key=lambda p: p.line)

    first_owner: dict[str, int] = {}  # normalised path -> index of the first task naming it
    present = set(tree) if tree is not None else None
    for index, (task, where) in enumerate(zip(spec.tasks, located.tasks)):
        if task.number != index + 1:
            problems.append(
                Problem(
                    where.heading, "warning", f"task number {task.number}: expected {index + 1}"
                )
            )
        if not task.files:
            problems.append(Problem(where.heading, "warning", f"task {task.number} lists no files"))
        in_task: set[str] = set()
        for change, line in zip(task.files, where.files):
            reason = path_problem(change.path)
            if reason:
                problems.append(Problem(line, "error", reason))
                continue
            key = normalize_path(change.path)
            if (linked := link_problem(change.action, key, tree)) is not None:
                problems.append(Problem(line, *linked))  # type: ignore[arg-type]
            if key in in_task:
                problems.append(
                    Problem(line, "error", f"{change.path} is named twice in task {task.number}")
                )
                continue
            in_task.add(key)
            if key in first_owner:
                other = spec.tasks[first_owner[key]]
                if task.independent and other.independent:
                    problems.append(
                        Problem(
                            line,
                            "error",
                            f"{change.path} is also in task {other.number}: two [INDEPENDENT] "
                            "tasks cannot share a file",
                        )
                    )
            else:
                first_owner[key] = index
            if present is not None:
                if change.action == "CREATE":
                    if key in present:
                        problems.append(
                            Problem(line, "warning", f"CREATE {change.path}: the file exists")
                        )
                    present.add(key)
                else:
                    if key not in present:
                        problems.append(
                            Problem(
                                line,
                                "warning",
                                f"{change.action} {change.path}: no such file in the base commit",
                            )
                        )
                    if change.action == "DELETE":
                        present.discard(key)
    problems.extend(_dependency_problems(spec, located))
    for line, command in located.commands:
        if risks := risks_text(command):
            problems.append(Problem(line, "warning", f"this check {risks}: it runs only once you approve it"))
    if not spec.all_commands():
        problems.append(Problem(0, "warning", "no verification command anywhere in the spec"))
    return spec, sorted(problems, key=lambda p: p.line)


def _dependency_problems(spec: Spec, located: _Located) -> list[Problem]:
    numbers = {task.number for task in spec.tasks}
    problems: list[Problem] = []
    for task, where in zip(spec.tasks, located.tasks):
        line = where.depends_on or where.heading
        for n in task.depends_on:
            if n == task.number:
                problems.append(Problem(line, "error", f"task {task.number} depends on itself"))
            elif n not in numbers:
                problems.append(Problem(line, "error", f"task {task.number} depends on task {n}, which does not exist"))
        if task.independent and task.depends_on:
            problems.append(Problem(
                line, "error",
                f"task {task.number} is [INDEPENDENT] but depends on "
                + ", ".join(f"task {n}" for n in task.depends_on) + ": drop one of the two",
            ))
    needs = {task.number: [n for n in task.depends_on if n in numbers and n != task.number] for task in spec.tasks}
    for task, where in zip(spec.tasks, located.tasks):
        if (cycle := cycle_from(task.number, needs)) is not None:
            shown = " -> ".join(f"task {n}" for n in cycle)
            problems.append(Problem(where.depends_on or where.heading, "error", f"tasks depend on each other in a cycle: {shown}"))
    return problems


def cycle_from(start: int, needs: dict[int, list[int]]) -> list[int] | None:
    """The dependency cycle through `start` (`[2, 3, 2]`), or None. Iterative: a chain of
    thousands of tasks does not reach Python's recursion limit."""
    seen: set[int] = set()
    stack: list[tuple[int, list[int]]] = [(start, [start])]
    while stack:
        n, path = stack.pop()
        for m in needs.get(n, []):
            if m == start:
                return [*path, m]
            if m not in seen:
                seen.add(m)
                stack.append((m, [*path, m]))
    return None


def check_spec(text: str, *, tree: set[str] | None = None, name: str = "") -> Spec:
    """`validate_spec` for callers that act on the spec: raise `SpecError` on any error."""
    spec, problems = validate_spec(text, tree=tree)
    errors = [p for p in problems if p.severity == "error"]
    if errors or spec is None:
        raise SpecError(errors, name=name)
    return spec
