"""Guidance sections of a plan, carried into the spec's Context: what a worker must keep in mind
beyond the steps (constraints, rules, requirements, out of scope, edge cases, acceptance
criteria, notes, architecture, design, risks; see `sections.is_guidance_heading`).

Behaviour choices:
- Only sections outside the steps: a heading a task owns is never carried, and a carried
  section leaves out the lines a task owns (a design section whose sub-sections became tasks
  keeps only the rest).
- Never carried: the title, the context section (already the spec's context) and anything under
  it, verification / files / done / reference-only sections and anything under them, and
  headings under a carried section (they come along with it).
- Each section is its heading as a bold label line (`**Out of scope**`) followed by its body
  verbatim (markdown, nested bullets and sub-headings kept); blank lines and `---` rules
  trimmed at both ends.
  A body longer than `MAX_LINES` is cut there with a `… (N more lines in the plan)` line.
- Lines are made spec-safe (`context.spec_safe`): `## Tasks`-like lines escaped, an open fence
  closed (also one the cut left open).
"""

from __future__ import annotations

from hybrid_tui.core.spec.convert.context import spec_safe
from hybrid_tui.core.spec.convert.scan import RULE, Doc, Heading
from hybrid_tui.core.spec.convert.sections import (
    is_guidance_heading,
    is_verification_heading,
    section_kind,
)

MAX_LINES = 80

_NEVER_KINDS = ("files", "done", "read", "verify", "context")


def guidance_sections(
    doc: Doc,
    title_index: int | None,
    context_heading: Heading | None,
    owned: list[bool],
) -> list[str]:
    """The plan's guidance sections as Context blocks, in plan order."""
    out: list[str] = []
    skip_until = -1
    for heading in doc.headings:
        if heading.index < skip_until or heading.index == title_index:
            continue
        if owned[heading.index]:
            continue
        end = doc.section_end(heading)
        if (
            heading is context_heading
            or is_verification_heading(heading.text)
            or section_kind(heading.text) in _NEVER_KINDS
        ):
            skip_until = end
            continue
        if not is_guidance_heading(heading.text):
            continue
        skip_until = end
        block = _block(doc, heading, end, owned)
        if block:
            out.append(block)
    return out


def _block(doc: Doc, heading: Heading, end: int, owned: list[bool]) -> str:
    lines = [
        doc.lines[i].rstrip() for i in range(heading.index + 1, end) if not owned[i]
    ]
    while lines and (not lines[0].strip() or RULE.match(lines[0])):
        lines.pop(0)
    while lines and (not lines[-1].strip() or RULE.match(lines[-1])):
        lines.pop()  # the `---` before the next heading is the plan's layout, not content
    if not lines:
        return ""
    more = len(lines) - MAX_LINES
    if more > 0:
        lines = lines[:MAX_LINES]
        while lines and not lines[-1].strip():
            lines.pop()
    lines = spec_safe(lines)
    if more > 0:
        lines.append(f"… ({more} more lines in the plan)")
    label = " ".join(heading.text.replace("**", "").replace("__", "").split())
    return "\n".join([f"**{label}**", "", *lines])
