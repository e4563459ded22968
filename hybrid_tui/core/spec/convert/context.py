"""Per-line context of a plan: the kind of section each line sits in, the label over its list,
and the folder its heading names.

Behaviour choices:
- A line's section kind is the innermost heading kind (see `sections.section_kind`), except
  that a done or out-of-scope heading rules over everything under it.
- A label line (`**Files to create:**`, `- Rollback:`) gives its kind to the list under it,
  up to the next line that is neither a list item, an indented continuation nor a table row.
  A heading that reads as a create, modify or delete label (`## Files to be deleted`) gives
  it to its section, up to the next heading.
"""

from __future__ import annotations

import re

from hybrid_tui.core.spec.convert.actions import label_kind
from hybrid_tui.core.spec.convert.commands import SHELL_INFO, commands_in
from hybrid_tui.core.spec.convert.scan import (
    BULLET,
    FENCE_OPEN,
    HEADING_LINE,
    TABLE_ROW,
    Doc,
)
from hybrid_tui.core.spec.convert.sections import section_kind
from hybrid_tui.core.spec.convert.trees import looks_like_tree
from hybrid_tui.core.spec.format import context_fence_after

DIR_SPAN = re.compile(r"`([\w.\-/]+/)`")

_SPEC_SECTION_LINE = re.compile(
    r"##\s+(?:context|tasks|verification)\s*$", re.IGNORECASE
)


def spec_safe(lines: list[str]) -> list[str]:
    """Plan lines made safe inside a spec's Context: a line the spec parser would read as a
    section heading (`## Tasks`) is escaped with a backslash, and a fence left open is closed
    (or the spec's next section would be code)."""
    out: list[str] = []
    fence: str | None = None  # as the spec parser reads the Context (format.context_fence_after)
    for line in lines:
        if fence is None and _SPEC_SECTION_LINE.match(line):
            line = "\\" + line
        fence = context_fence_after(line, fence)
        out.append(line)
    if fence is not None:
        out.append(fence)
    return out


_DONE_ITEM = re.compile(r"\[[xX]\]|✅|✔|☑")
_STEP_ID = re.compile(r"^\W*(?:(?:step|phase|task|stage|schritt|étape|etapa|fase|этап|bước)\s*)?(\d+(?:\.\d+)+|\d+)(?=[\s.:)：*])", re.IGNORECASE)


_NAME = re.compile(r"[\w.-]+\.\w+")


def _done_step_ids(doc: Doc) -> dict[str, str]:
    """Step numbers a tracker ticks (`- [x] **Step 1.1:** Update alarms.tf`), with the line: a
    heading with that number naming a file that line names (`#### 1.1 Update alarms.tf`) tells
    the same finished step in detail."""
    ids: dict[str, str] = {}
    for i, line in enumerate(doc.lines):
        if not doc.fenced[i] and _DONE_ITEM.search(line):
            match = _STEP_ID.match(_DONE_ITEM.sub("", line.lstrip(" -*+")))
            if match and ("." in match.group(1) or "step" in line.lower()):
                ids[match.group(1)] = line
    return ids


def _same_done_step(heading: str, done_ids: dict[str, str]) -> bool:
    step = _STEP_ID.match(heading)
    if step is None or step.group(1) not in done_ids:
        return False
    names = set(_NAME.findall(heading))
    return bool(names) and names <= set(_NAME.findall(done_ids[step.group(1)]))


def section_kinds(doc: Doc, title_index: int | None) -> list[str | None]:
    """The kind of the innermost heading with a kind, for every line; a heading naming a step
    the plan's tracker ticks is "done" (see `_done_step_ids`)."""
    done_ids = _done_step_ids(doc)
    kinds: list[str | None] = [None] * len(doc.lines)
    stack: list[tuple[int, str | None]] = []  # (level, kind)
    positions = {h.index: h for h in doc.headings}
    current: str | None = None
    for i in range(len(doc.lines)):
        heading = positions.get(i)
        if heading is not None:
            while stack and stack[-1][0] >= heading.level:
                stack.pop()
            kind = None if heading.index == title_index else section_kind(heading.text)
            if done_ids and _same_done_step(heading.text, done_ids):
                kind = "done"
            stack.append((heading.level, kind))
            ruling = [k for _, k in stack if k in ("done", "exclude")]
            current = (
                ruling[0]
                if ruling
                else next((k for _, k in reversed(stack) if k), None)
            )
        kinds[i] = current
    return kinds


_CHECK_COMMAND = re.compile(
    r"(?:^|[\s/])(?:pytest|tox|nox|mypy|pyright|ruff|flake8|pylint|black\s+--check|eslint|tsc|vitest|jest"
    r"|playwright|cypress|phpunit|rspec|shellcheck|hadolint|golangci-lint|clippy|ctest)\b"
    r"|\b(?:test|tests|lint|check|typecheck|type-check|verify|validate|vet|fmt\s+--check|build)\b",
)


def content_kinds(doc: Doc, kinds: list[str | None], owned: list[bool], title_index: int | None) -> None:
    """Give a section its role by its content when its heading has none (in any language):
    a section holding a file tree (`├──` glyphs) is a list of files ("files"); one holding
    only shell code blocks and command items, one of them a check (`pytest`, `npm test`,
    `cargo clippy`...), is a verification section ("verify"). Sections owned by a step, and
    sections under a heading with a kind, keep theirs. Changes `kinds` in place."""
    for heading in doc.headings:
        start = heading.index
        if start == title_index or owned[start] or kinds[start] is not None:
            continue
        nxt = next((h.index for h in doc.headings if h.index > start), len(doc.lines))
        body = list(range(start + 1, nxt))
        role = _role_by_content(doc, body)
        if role is not None:
            for i in range(start, doc.section_end(heading)):
                if kinds[i] is None:
                    kinds[i] = role


def _role_by_content(doc: Doc, body: list[int]) -> str | None:
    lines = [doc.lines[i] for i in body]
    code = [line for i, line in zip(body, lines) if doc.fenced[i]]
    prose = [line for i, line in zip(body, lines) if not doc.fenced[i] and line.strip()]
    if code and looks_like_tree(code) and len(prose) <= 3:
        return "files"
    for line in code:
        opener = FENCE_OPEN.match(line)
        info = opener.group(2).strip().split() if opener else []
        if info and info[0].lower() not in SHELL_INFO:
            return None  # code to write, not commands to run
    commands, others = commands_in(lines)
    if not commands or len(others) > 2:
        return None
    return "verify" if any(_CHECK_COMMAND.search(command) for command in commands) else None


def label_kinds(doc: Doc) -> list[str | None]:
    """The kind of the label line over each line's list (see `actions.label_kind`)."""
    out: list[str | None] = [None] * len(doc.lines)
    label: str | None = None
    for i, line in enumerate(doc.lines):
        if doc.fenced[i]:
            out[i] = label
            continue
        stripped = line.strip()
        if not stripped:
            out[i] = label
            continue
        if HEADING_LINE.match(line):
            # A heading that reads as a label ("## Files to be deleted") labels its section.
            own = label_kind(f"**{line.strip().lstrip('#').strip().rstrip(':：')}:**")
            label = own if own in ("CREATE", "DELETE", "MODIFY") else None
            continue
        own = label_kind(line)
        if own is not None:
            label = own
            continue
        if BULLET.match(line) or TABLE_ROW.match(line) or line[:1] in (" ", "\t"):
            out[i] = label
            continue
        label = None
    return out


def section_folders(doc: Doc) -> list[str]:
    """For every line, the folder its innermost heading names (`## Skills (`.claude/commands/`)`):
    a bare file name in that section lives there."""
    out = [""] * len(doc.lines)
    stack: list[tuple[int, str]] = []
    positions = {h.index: h for h in doc.headings}
    current = ""
    for i in range(len(doc.lines)):
        heading = positions.get(i)
        if heading is not None:
            while stack and stack[-1][0] >= heading.level:
                stack.pop()
            spans = DIR_SPAN.findall(heading.text)
            stack.append(
                (heading.level, spans[0].rstrip("/") if len(spans) == 1 else "")
            )
            current = next((f for _, f in reversed(stack) if f), "")
        out[i] = current
    return out
