"""The plan's own units of work: which headings, list items or table rows become tasks.

Strategies, the first that yields something wins:
  a. step headings: `Step N` / `Phase N` / `Task N` / `Stage N` / `Story N` / `Part N` / `Wave N`
     (and translations), at least two at one heading level (the level holding most of them);
  b. step sections: `Changes`, `Implementation ...`, `Steps`, `Tasks`, `Phases`, `Fix` (and
     translations). Inside each: its sub-headings; else lines that are wholly bold; else its
     top-level numbered list items (when they are most of the section); else the rows of a
     numbered table; else the section itself is one step. `Implementation order` lists are
     steps only when no other step section exists;
  c. numbered headings (`### 2. ...`), at least two at one level;
  d. no steps: the caller makes one task of the whole plan.
A unit keeps the line index of every body line (`where`), so callers can ask which section and
label each line sits under. Verification sub-sections and `**Verification:**` label blocks
inside a unit become its checks.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from hybrid_tui.core.spec.convert.commands import looks_like_command
from hybrid_tui.core.spec.convert.paths import CODE_SPAN, line_mentions, path_candidates
from hybrid_tui.core.spec.convert.scan import (
    HEADING_LINE,
    Block,
    Doc,
    Heading,
    blocks,
    cells,
    fence_mask,
)
from hybrid_tui.core.spec.convert.sections import (
    NUMBERED_HEADING,
    STEP_PREFIX,
    context_rank,
    is_criteria_heading,
    is_order_heading,
    is_step_heading,
    is_steps_heading,
    is_verification_heading,
)


@dataclass(slots=True)
class Unit:
    """One future task: its title, body lines, and lines of verification sub-sections."""

    title: str
    head: str  # the heading (or first line) the title came from: paths in it count
    body: list[str]
    checks: list[list[str]] = field(default_factory=list)
    verify_only: bool = False  # the step itself is a verification step
    span: tuple[int, int] | None = None  # line range of a heading unit in the plan
    from_heading: bool = (
        True  # a heading title drops a path at either end; an item's keeps it
    )
    where: list[int] = field(default_factory=list)  # plan line indices the unit owns


def find_units(doc: Doc, title_index: int | None) -> list[Unit]:
    headings = [h for h in doc.headings if h.index != title_index]
    for strategy in (
        _units_from_step_headings,
        _units_from_step_sections,
        _units_from_numbered_headings,
    ):
        units = strategy(doc, headings)
        if units:
            return units
    return []


def _most_common_level(candidates: list[Heading]) -> list[Heading]:
    by_level: dict[int, list[Heading]] = {}
    for heading in candidates:
        by_level.setdefault(heading.level, []).append(heading)
    if not by_level:
        return []
    level = max(by_level, key=lambda lv: (len(by_level[lv]), -lv))
    return by_level[level]


def _units_from_step_headings(doc: Doc, headings: list[Heading]) -> list[Unit]:
    chosen = _most_common_level([h for h in headings if is_step_heading(h.text)])
    if len(chosen) < 2:
        return []
    return [_heading_unit(doc, h) for h in chosen]


def _units_from_numbered_headings(doc: Doc, headings: list[Heading]) -> list[Unit]:
    chosen = _most_common_level(
        [
            h
            for h in headings
            if NUMBERED_HEADING.match(h.text)
            and not is_verification_heading(h.text)
            and context_rank(h.text) is None
        ]
    )
    if len(chosen) < 2:
        return []
    return [_heading_unit(doc, h) for h in chosen]


def _units_from_step_sections(doc: Doc, headings: list[Heading]) -> list[Unit]:
    return _units_from_sections(
        doc, headings, is_steps_heading
    ) or _units_from_sections(doc, headings, is_order_heading)


def _units_from_sections(
    doc: Doc, headings: list[Heading], kind: Callable[[str], bool]
) -> list[Unit]:
    units: list[Unit] = []
    covered_until = -1
    for heading in headings:
        if heading.index < covered_until or not kind(heading.text):
            continue
        end = doc.section_end(heading)
        covered_until = end
        inner = doc.headings_in(heading.index, end)
        if inner:
            top = min(h.level for h in inner)
            children = [
                h
                for h in inner
                if h.level == top
                and (not is_verification_heading(h.text) or _writes_tests(doc, h))
                and context_rank(h.text) is None
            ]
            if children:
                units.extend(_heading_unit(doc, h) for h in children)
                continue
        offset = heading.index + 1
        body = doc.lines[offset:end]
        labelled = _bold_label_units(body, offset)
        if labelled:
            units.extend(labelled)
            continue
        items = [b for b in blocks(body) if b.kind == "item" and b.numbered]
        if items and 2 * sum(len(b.lines) for b in items) >= sum(
            1 for x in body if x.strip()
        ):
            # a numbered list that is most of the section: its items are the steps
            units.extend(_item_unit(b, offset) for b in items)
            continue
        rows = _table_units(body, offset)
        if rows:
            units.extend(rows)
            continue
        units.append(_heading_unit(doc, heading))
    return units


def _writes_tests(doc: Doc, heading: Heading) -> bool:
    """A numbered "3. Tests" step that names a file to write (`tests/test_x.py`): a step of its
    own, not the checks of the step before it."""
    if not (NUMBERED_HEADING.match(heading.text) or is_step_heading(heading.text)):
        return False
    for i in range(heading.index + 1, doc.section_end(heading)):
        line = doc.lines[i]
        if doc.fenced[i]:
            continue
        commands = [span for span in CODE_SPAN.findall(line) if looks_like_command(span)]
        if any(not any(m.path in c for c in commands) for m in line_mentions(line)):
            return True
    return False


def _heading_unit(doc: Doc, heading: Heading) -> Unit:
    end = doc.section_end(heading)
    body: list[str] = []
    checks: list[list[str]] = []
    inner = doc.headings_in(heading.index, end)
    i = heading.index + 1
    for sub in inner:
        if sub.index < i or not (
            is_verification_heading(sub.text) or is_criteria_heading(sub.text)
        ):
            continue
        body.extend(doc.lines[i : sub.index])
        sub_end = doc.section_end(sub)
        checks.append(doc.lines[sub.index + 1 : sub_end])
        i = sub_end
    body.extend(doc.lines[i:end])
    return Unit(
        title=heading.text,
        head=heading.text,
        body=body,
        checks=checks,
        verify_only=is_verification_heading(heading.text),
        span=(heading.index, end),
        where=list(range(heading.index, end)),
    )


_BOLD_LEAD = re.compile(r"^\s*(?:\*\*|__)(.+?)(?:\*\*|__)")


def _item_unit(block: Block, offset: int) -> Unit:
    first = block.lines[0]
    bold = _BOLD_LEAD.match(first)
    if bold:
        title = bold.group(1).strip().rstrip(":—–-").strip()
    else:
        title = re.split(r"(?<=[.!?。])\s|:\s|\s[—–]\s|\s-\s", first, maxsplit=1)[0]
    return Unit(
        title=title,
        head="",
        body=list(block.lines),
        from_heading=False,
        where=list(range(offset + block.line, offset + block.end)),
    )


_BOLD_LINE = re.compile(r"(?:\*\*|__)([^*_]+?)(?:\*\*|__)(\s*\([^)]*\))?\s*$")


def _bold_label_units(lines: list[str], offset: int) -> list[Unit]:
    """Lines that are wholly bold (`**`index.html`**`, `**Phase 1: Setup** (~2h)`) used as
    sub-headings, at least two of them: one step each. A label ending in `:` is a field
    (`**Files:**`), not a step."""
    fenced = fence_mask(lines)
    starts = []
    for i, (line, is_code) in enumerate(zip(lines, fenced)):
        if is_code or not line.startswith(("**", "__")):
            continue
        match = _BOLD_LINE.match(line)
        if match and not match.group(1).rstrip().endswith(":"):
            starts.append((i, match.group(1).strip()))
    if len(starts) < 2:
        return []
    units = []
    for n, (i, title) in enumerate(starts):
        end = starts[n + 1][0] if n + 1 < len(starts) else len(lines)
        units.append(
            Unit(
                title=title,
                head=lines[i],
                body=lines[i + 1 : end],
                where=list(range(offset + i, offset + end)),
            )
        )
    return units


def _table_units(lines: list[str], offset: int) -> list[Unit]:
    """Rows of a table whose first column numbers the steps (`| 1 | change | files |`)."""
    units = []
    for block in blocks(lines):
        if block.kind != "table":
            continue
        rows = [cells(r) for r in block.lines]
        data = [r for r in rows[2:] if len(r) >= 2] if len(rows) > 2 else []
        if not data or not all(
            re.fullmatch(r"\d+[a-z]?\.?", r[0].strip("*")) for r in data
        ):
            continue
        for number, row in enumerate(rows):
            if number < 2 or len(row) < 2:
                continue
            text = row[1]
            title = re.split(r":\s|;\s|\s[—–]\s", text, maxsplit=1)[0]
            body = [text] + [f"Files: {cell}" for cell in row[2:] if cell]
            units.append(
                Unit(
                    title=title,
                    head="",
                    body=body,
                    from_heading=False,
                    where=[offset + block.line + number],
                )
            )
    return units


# --------------------------------------------------------------------------------------------
# Titles

_EDGE_PATH = re.compile(r"^\s*`([^`]+)`|`([^`]+)`\s*$")
_SEPARATORS = " \t—–-:|,;·：、"
_MARKER_ONLY = re.compile(r"\([^()]{1,24}\)|\[[^\[\]]{1,24}\]")  # "(new)", "(modified)", "[neu]"


_NUMBER_FIRST_STEP = re.compile(r"^\d+\s*(?:단계|段階|阶段|步|ステップ|차)\s*[:：.．)）-]?\s*(?=\S)")
"""Korean, Japanese and Chinese put the number first: "2단계: 화면", "3段階：UI"."""


def clean_title(text: str, fallback: str, *, strip_paths: bool = True) -> str:
    """A one-line task title: no numbering or step-word prefix; a heading that is just a path
    becomes that path; a path at either end is dropped; long titles are cut at a word, never
    inside a `code span`."""
    text = text.strip().rstrip("#").strip()
    text = re.sub(r"^\d+(?:[.\-]\d+)*(?:[.):]?\s+|[：、．）]\s*)", "", text)
    text = _NUMBER_FIRST_STEP.sub("", text)
    rest = STEP_PREFIX.sub("", text)
    if rest.strip(_SEPARATORS):
        text = rest
    first_path = ""
    while strip_paths:
        match = _EDGE_PATH.search(text)
        if not match:
            break
        token = match.group(1) or match.group(2)
        found = path_candidates(token)
        if not found:
            break
        first_path = first_path or found[0][0]
        text = (text[: match.start()] + text[match.end() :]).strip(_SEPARATORS)
    if not re.search(r"\w", text) or (first_path and _MARKER_ONLY.fullmatch(text)):
        text = first_path or ""  # `src/x.py` (new): the path is the title
    text = " ".join(text.split())
    while text.endswith("[INDEPENDENT]"):
        text = text[: -len("[INDEPENDENT]")].rstrip()
    if text.endswith((".", "。")) and not text.endswith(".."):
        text = text[:-1].rstrip()  # a sentence's full stop is no part of a title
    if len(text) > 100:
        cut = text[:100].rsplit(" ", 1)[0]
        cut = cut if len(cut) > 40 else text[:100]
        if cut.count("`") % 2:  # never inside a code span: before it
            cut = cut[: cut.rfind("`")].rstrip()
        text = cut.rstrip(_SEPARATORS) + "…"
    return text or fallback


_LABEL_LINE = re.compile(
    r"^(?:\*\*|__)?([^*_:][^:]{0,60}?)(?::\s*(?:\*\*|__)?|(?:\*\*|__):)\s*$"
)


def split_checks(body: list[str]) -> tuple[list[str], list[list[str]]]:
    """Cut `**Verification:**`-style label blocks out of a step's body: (rest, checks). A block
    runs to the next label line or heading at the left margin."""
    fenced = fence_mask(body)
    rest: list[str] = []
    checks: list[list[str]] = []
    current: list[str] | None = None
    for line, is_code in zip(body, fenced):
        if not is_code and line[:1] not in (" ", "\t", ""):
            label = _LABEL_LINE.match(line.strip())
            if label or HEADING_LINE.match(line):
                current = None
                if label and is_verification_heading(label.group(1)):
                    current = []
                    checks.append(current)
                    continue
        (rest if current is None else current).append(line)
    return rest, checks
