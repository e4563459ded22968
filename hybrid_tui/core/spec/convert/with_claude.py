"""Plan -> Spec with Claude: `claude -p` reads the plan and answers with a spec as JSON.

The deterministic converter (`convert_plan`) is always there; this is the option on top of it.
`convert_with_claude` never raises for what can go wrong with Claude: it returns a
`ClaudeConversion` whose `text` is None and whose `message` says why, and the caller keeps the
deterministic spec.

How Claude is asked (Claude Code 2.1.x, checked against the real binary):
- `claude -p PROMPT --output-format stream-json --verbose --permission-mode plan
  --disallowed-tools=Bash,Edit,Write,NotebookEdit --json-schema SCHEMA`, cwd = the repository
  root, env = `agents.claude.env`: read-only (plan mode, and no tool that writes or runs
  commands; Read / Glob / Grep stay so Claude can look at the code). The argv, the stdin rule
  for long prompts, the process and the parser are the worker's: `ClaudeAgent.command` with a
  copy of the settings, `AgentProcess`, `ClaudeParser`; `agents.claude.extra_args` and
  `max_turns` are for worker runs and are not passed (`timeout` bounds the conversion).
- `--json-schema`: Claude Code offers the model a `StructuredOutput` tool whose
  `input_schema` is SCHEMA ("You MUST call this tool exactly once at the end"), checks the
  tool input against the schema itself (a mismatch goes back to the model as an error
  tool_result, and it tries again), ends the session as soon as a valid call is made, and puts
  the input in the result line's `structured_output` (and, as JSON text, in `result`). A model
  that never calls the tool gets one "[structured-output-enforce]" reminder; after that the
  result line says success without `structured_output`.
- The prompt: instructions, the spec format (DESIGN.md), the plan, and the repository's file
  list (sorted, the first `MAX_LISTED_FILES` paths).

What the answer becomes, through the same code as every other spec:
structured output -> `spec_from_output` (a Spec model; number, source and base are ours, not
Claude's; `[INDEPENDENT]` and `Depends on:` decided as the deterministic converter decides them) -> `render_spec`
-> `validate_spec` with the tree. Without structured output, a spec in the result text (a
```markdown block starting `# Spec:`, or the whole text) is parsed instead, its header
replaced by ours and `[INDEPENDENT]` / `Depends on:` decided again. A spec with errors is not used; warnings are kept in `problems`.

Failures and their messages: Claude missing (the install hint), timed out, an
unsuccessful end (the worker verdict's message: API error, auth, crash, non-zero exit;
`is_error` with subtype success is a failure), no spec in the answer, an answer that does not
map to a spec, a spec with errors (the first few, with their lines).
"""

from __future__ import annotations

import asyncio
import json
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from hybrid_tui.config import ClaudeSettings
from hybrid_tui.core.errors import InputError
from hybrid_tui.core.spec.convert import mark_dependencies
from hybrid_tui.core.spec.convert.scan import fence_state
from hybrid_tui.core.spec.format import (
    ACTIONS,
    FileChange,
    Problem,
    Spec,
    Task,
    render_spec,
    validate_spec,
)

MAX_LISTED_FILES = 2000
"""Files of the repository listed in the prompt; the rest are counted, not named."""

MAX_ANSWER_LINE = 16 * 1024 * 1024
"""Longest stdout line read whole: the result line holds the spec twice (`structured_output`
and `result`), and the runner cuts longer lines (the worker's 64 KiB limit would cut a big
spec, and a cut result line is no result)."""

SHOWN_PROBLEMS = 3
"""Problems of a rejected spec named in the message."""

READ_ONLY_ARGS = ["--disallowed-tools=Bash,Edit,Write,NotebookEdit"]

_ONE_LINE = r"^[^\r\n]*\S[^\r\n]*$"  # not blank, no line break

SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["title", "context", "tasks", "verification"],
    "properties": {
        "title": {"type": "string", "pattern": _ONE_LINE, "description": "the spec's title"},
        "context": {
            "type": "string",
            "description": "background the worker needs, carried over from the plan (Markdown)",
        },
        "tasks": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["title", "files", "requirements", "verification"],
                "properties": {
                    "title": {"type": "string", "pattern": _ONE_LINE},
                    "files": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "additionalProperties": False,
                            "required": ["action", "path"],
                            "properties": {
                                "action": {"type": "string", "enum": list(ACTIONS)},
                                "path": {
                                    "type": "string",
                                    "pattern": _ONE_LINE,
                                    "description": "relative to the repository root",
                                },
                            },
                        },
                    },
                    "requirements": {"type": "array", "items": {"type": "string"}},
                    "verification": {
                        "type": "array",
                        "items": {"type": "string", "pattern": _ONE_LINE},
                        "description": "shell commands, run from the repository root",
                    },
                },
            },
        },
        "verification": {
            "type": "array",
            "items": {"type": "string", "pattern": _ONE_LINE},
            "description": "shell commands that check the whole change",
        },
    },
}

SPEC_FORMAT = render_spec(
    Spec(
        title="<title>",
        source="<plan file name>",
        base="<branch>@<short sha>",
        context="<free text carried over from the plan>",
        tasks=[
            Task(
                number=1,
                title="<title>",
                independent=True,
                files=[
                    FileChange(action="CREATE", path="path/new_file.py"),
                    FileChange(action="MODIFY", path="path/existing.py"),
                    FileChange(action="DELETE", path="path/old.py"),
                ],
                requirements=["<concrete requirement>"],
                verification=["pytest tests/test_new_file.py"],
            ),
            Task(
                number=2,
                title="<title of a task that uses task 1's work>",
                depends_on=[1],
                files=[FileChange(action="CREATE", path="tests/test_new_file.py")],
                requirements=["<concrete requirement>"],
            )
        ],
        verification=["pytest --cov=src"],
    )
)
"""The spec format of DESIGN.md, shown to Claude: an example rendered by `render_spec`."""

INSTRUCTIONS = """\
Convert the implementation plan below into a spec for a worker agent that will carry it out \
on its own branch of this repository (the current directory). Do not change any file: you may \
read files to decide which ones the work touches.

Answer by calling the StructuredOutput tool once, with:
- title: the spec's title, one line.
- context: what the worker needs to know from the plan (goal, constraints, decisions), as \
Markdown.
- tasks: the plan's units of work, in order. Each task has a one-line title; files: every file \
it changes, each with action CREATE (a new file), MODIFY (a file that exists) or DELETE, and a \
path relative to the repository root (forward slashes; never absolute, never `..`); \
requirements: concrete statements of what must be true when the task is done; verification: \
shell commands that check the task, one command per item, without backticks.
- verification: shell commands that check the whole change.
Files that already exist are listed at the end; a file not listed does not exist yet.

Your answer is rendered into this spec format (number, source and base are filled in for you):

"""


# --------------------------------------------------------------------------------------------
# The result


@dataclass(frozen=True)
class ClaudeConversion:
    """What Claude's conversion gave. `text`/`spec`: Claude's spec, rendered and validated,
    when it had no errors (None otherwise); `problems`: `validate_spec`'s findings on it
    (warnings when used, errors when rejected); `message`: what happened, for the user."""

    spec: Spec | None
    text: str | None
    problems: list[Problem] = field(default_factory=list)
    message: str = ""

    @property
    def ok(self) -> bool:
        return self.text is not None


def _failed(message: str, problems: list[Problem] | None = None) -> ClaudeConversion:
    return ClaudeConversion(None, None, list(problems or []), message)


# --------------------------------------------------------------------------------------------
# The prompt


def build_prompt(plan_text: str, tree: set[str] | None, *, limit: int = MAX_LISTED_FILES) -> str:
    """Instructions, the spec format, the plan, and the first `limit` files of `tree`."""
    parts = [INSTRUCTIONS + SPEC_FORMAT, "<plan>\n" + plan_text.rstrip("\n") + "\n</plan>"]
    if tree is None:
        parts.append("<files>\n(the repository's file list is not available)\n</files>")
    else:
        paths = sorted(tree)
        listed = "\n".join(paths[:limit])
        more = f"\n... and {len(paths) - limit} more files, not listed" if len(paths) > limit else ""
        parts.append(f"<files count=\"{len(paths)}\">\n{listed}{more}\n</files>")
    return "\n\n".join(parts) + "\n"


# --------------------------------------------------------------------------------------------
# Structured output -> Spec


class _Loose(BaseModel):
    model_config = ConfigDict(extra="ignore")


class _FileOut(_Loose):
    action: str
    path: str


class _TaskOut(_Loose):
    title: str
    files: list[_FileOut] = []
    requirements: list[str] = []
    verification: list[str] = []


class _SpecOut(_Loose):
    title: str
    context: str = ""
    tasks: list[_TaskOut] = []
    verification: list[str] = []


class OutputError(ValueError):
    """Structured output that does not map to a spec; `reasons` says what is wrong."""

    def __init__(self, reasons: list[str]) -> None:
        super().__init__("; ".join(reasons))
        self.reasons = reasons


_SPEC_SECTION_LINE = re.compile(r"##\s+(?:context|tasks|verification)\s*$", re.IGNORECASE)
_INDEPENDENT = re.compile(r"\s*\[INDEPENDENT\]\s*$")


def spec_from_output(data: Any, *, number: int = 1, source: str = "", base: str = "") -> Spec:
    """The Spec that Claude's structured output describes; `OutputError` when it cannot be one.

    Titles are made one line (whitespace collapsed, a trailing `[INDEPENDENT]` dropped: it is
    decided here); the context is kept, with a line the spec parser would read as a section
    escaped and an unclosed code fence closed (as `convert_plan` does); blank requirements and
    commands are dropped; actions are upper-cased; paths are kept as given (backticks around
    them dropped) so `validate_spec` judges them.
    """
    try:
        out = _SpecOut.model_validate(data)
    except ValidationError as err:
        raise OutputError(
            [f"{'.'.join(str(p) for p in e['loc']) or 'the answer'}: {e['msg']}" for e in err.errors()]
        ) from err
    reasons: list[str] = []
    title = _one_line(out.title)
    if not title:
        reasons.append("the spec has no title")
    if not out.tasks:
        reasons.append("the spec has no tasks")
    tasks: list[Task] = []
    for n, task in enumerate(out.tasks, start=1):
        task_title = _INDEPENDENT.sub("", _one_line(task.title))
        if not task_title:
            reasons.append(f"task {n} has no title")
        files = []
        for change in task.files:
            action = change.action.strip().upper()
            if action not in ACTIONS:
                reasons.append(f"task {n}: unknown action {change.action!r} for {change.path!r}")
                continue
            files.append(FileChange(action=action, path=change.path.strip().strip("`").strip()))
        tasks.append(
            Task(
                number=n,
                title=task_title,
                files=files,
                requirements=[r.strip() for r in task.requirements if r.strip()],
                verification=_commands(task.verification, f"task {n}", reasons),
            )
        )
    verification = _commands(out.verification, "the spec", reasons)
    if reasons:
        raise OutputError(reasons)
    mark_dependencies(tasks)
    return Spec(
        number=number,
        title=title,
        source=source,
        base=base,
        context=_safe_context(out.context),
        tasks=tasks,
        verification=verification,
    )


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _commands(items: list[str], where: str, reasons: list[str]) -> list[str]:
    commands: list[str] = []
    for item in items:
        command = item.strip()
        if "\n" in command or "\r" in command:
            reasons.append(f"{where}: a verification command spans several lines: {command!r}")
        elif command and command not in commands:
            commands.append(command)
    return commands


def _safe_context(text: str) -> str:
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").split("\n")]
    while lines and not lines[0].strip():
        lines.pop(0)
    while lines and not lines[-1].strip():
        lines.pop()
    fenced, open_fence = fence_state(lines)
    lines = [
        "\\" + line if not f and _SPEC_SECTION_LINE.match(line) else line
        for line, f in zip(lines, fenced)
    ]
    if open_fence:
        lines.append(open_fence)
    return "\n".join(lines)


_MARKDOWN_BLOCK = re.compile(
    r"^(?P<fence>`{3,}|~{3,})[ \t]*(?:markdown|md)?[ \t]*\n(?P<body>.*?)\n(?P=fence)[ \t]*$",
    re.MULTILINE | re.DOTALL | re.IGNORECASE,
)


def spec_text_in(answer: str) -> str | None:
    """A spec in Claude's text answer: the first fenced block that starts with `# Spec:`, else
    the whole answer when it does; None when there is none."""
    for match in _MARKDOWN_BLOCK.finditer(answer):
        body = match.group("body")
        if body.lstrip().startswith("# Spec:"):
            return body.strip("\n") + "\n"
    if answer.lstrip().startswith("# Spec:"):
        return answer.strip("\n") + "\n"
    return None


# --------------------------------------------------------------------------------------------
# Validation of Claude's spec (the same code as every other spec)


def _judge(spec: Spec, tree: set[str] | None, how: str, note: str) -> ClaudeConversion:
    """Render and validate Claude's spec; errors reject it. `how` and `note` qualify the
    failure and the success message."""
    text = render_spec(spec)
    checked, problems = validate_spec(text, tree=tree)
    errors = [p for p in problems if p.severity == "error"]
    if checked is None or errors:
        listed = "; ".join(str(p) for p in errors[:SHOWN_PROBLEMS])
        more = f" (and {len(errors) - SHOWN_PROBLEMS} more)" if len(errors) > SHOWN_PROBLEMS else ""
        count = f"{len(errors)} error{'s' if len(errors) != 1 else ''}"
        return _failed(f"Claude's spec{how} has {count}: {listed}{more}", problems)
    warnings = len(problems)
    files = len(checked.all_files())
    summary = (
        f"Converted with Claude{note}: {len(checked.tasks)} task{'s' if len(checked.tasks) != 1 else ''}, "
        f"{files} file{'s' if files != 1 else ''}"
    )
    if warnings:
        summary += f", {warnings} warning{'s' if warnings != 1 else ''}"
    return ClaudeConversion(checked, text, problems, summary)


def conversion_from_answer(
    structured: Any,
    answer: str,
    *,
    number: int,
    source: str,
    base: str,
    tree: set[str] | None,
    note: str = "",
) -> ClaudeConversion:
    """Claude's answer (the result line's `structured_output`, else its text) -> a conversion."""
    if structured is not None:
        try:
            spec = spec_from_output(structured, number=number, source=source, base=base)
        except OutputError as err:
            reasons = err.reasons[:SHOWN_PROBLEMS]
            more = f" (and {len(err.reasons) - SHOWN_PROBLEMS} more)" if len(err.reasons) > SHOWN_PROBLEMS else ""
            return _failed(f"Claude's answer is not a usable spec: {'; '.join(reasons)}{more}")
        return _judge(spec, tree, "", note)
    found = spec_text_in(answer)
    if found is None:
        said = " ".join(answer.split())
        said = f": {said[:200]}{'…' if len(said) > 200 else ''}" if said else ""
        return _failed(
            "Claude answered without a spec (no structured output, and no ```markdown block "
            f"starting with '# Spec:'){said}"
        )
    parsed, problems = validate_spec(found)
    errors = [p for p in problems if p.severity == "error"]
    if parsed is None or errors:
        listed = "; ".join(str(p) for p in errors[:SHOWN_PROBLEMS])
        return _failed(f"the spec in Claude's text answer does not parse: {listed}", problems)
    spec = parsed.model_copy(update={"number": number, "source": source, "base": base})
    mark_dependencies(spec.tasks)
    return _judge(spec, tree, " (from its text answer)", " (from its text answer)" + note)


# --------------------------------------------------------------------------------------------
# Running Claude


async def convert_with_claude_async(
    plan_text: str,
    *,
    root: Path,
    source: str,
    number: int = 1,
    base: str = "",
    tree: set[str] | None,
    settings: ClaudeSettings,
    timeout: float | None = None,
) -> ClaudeConversion:
    """Ask `claude` (headless, read-only, in `root`) to convert the plan; see the module doc.
    Cancelling the task stops Claude (its whole process group)."""
    from hybrid_tui.agents.claude import ClaudeAgent
    from hybrid_tui.agents.process import AgentMissing, AgentProcess

    timeout = settings.timeout if timeout is None else timeout
    agent = ClaudeAgent(
        settings.model_copy(
            update={
                "permission_mode": "plan",
                "max_turns": None,
                "extra_args": [*READ_ONLY_ARGS, "--json-schema", json.dumps(SCHEMA)],
            }
        )
    )
    invocation = agent.command(Path(root), build_prompt(plan_text, tree))
    parser = agent.parser()
    with tempfile.TemporaryDirectory(prefix="hybrid-tui-convert-") as scratch:
        process = AgentProcess(
            invocation,
            timeout=timeout,
            transcript=Path(scratch) / "transcript.jsonl",
            stderr_log=Path(scratch) / "stderr.log",
            install_hint=agent.install_hint,
            max_event_line=MAX_ANSWER_LINE,
        )
        try:
            outcome = await process.run(lambda line, truncated: _ignore(parser.feed(line)))
        except AgentMissing as err:
            return _failed(f"Claude is not available: {err}")
        except InputError as err:
            return _failed(f"Claude could not be started: {err}")
    if outcome.timed_out:
        return _failed(
            f"Claude did not answer within {timeout:g} s (raise agents.claude.timeout to give it longer)"
        )
    verdict = agent.verdict(outcome, parser)
    if verdict.status != "done":
        return _failed(f"Claude failed: {verdict.message}")
    result = parser.result or {}
    cost = f" (${parser.cost_usd:.4f})" if parser.cost_usd is not None else ""
    return conversion_from_answer(
        result.get("structured_output"),
        parser.result_text,
        number=number,
        source=source,
        base=base,
        tree=tree,
        note=cost,
    )


def convert_with_claude(
    plan_text: str,
    *,
    root: Path,
    source: str,
    number: int = 1,
    base: str = "",
    tree: set[str] | None,
    settings: ClaudeSettings,
    timeout: float | None = None,
) -> ClaudeConversion:
    """`convert_with_claude_async` on a private event loop (for the CLI and threads)."""
    return asyncio.run(
        convert_with_claude_async(
            plan_text,
            root=root,
            source=source,
            number=number,
            base=base,
            tree=tree,
            settings=settings,
            timeout=timeout,
        )
    )


def _ignore(_: object) -> None:
    """For a callback whose caller wants nothing back (the parser keeps what it read)."""
