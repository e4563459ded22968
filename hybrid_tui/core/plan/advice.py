"""Advice: should Claude implement this plan, or should it be delegated to Kimi?

A recommendation with its reason, never a gate: the user can always choose either. The rules
(issue 5), checked in this order:

1. Nothing to implement (no file changes and no steps): Claude, who can say so in one turn.
2. Design, architecture, security or trade-off decisions, or a plan that is mostly open
   questions: Claude; the planner's judgement is what the work needs.
3. Small: at most `claude_max_files` files and under `claude_max_lines` changed lines: Claude;
   handing it over costs more than doing it.
4. Large: `kimi_min_files` or more files, or `kimi_min_lines`+ lines: Kimi.
5. Mechanical work (renames, boilerplate, CRUD, format unification, dependency bumps,
   translations) of any size beyond "small": Kimi.
6. Otherwise (medium-sized, not mechanical): Kimi, since a precise spec makes it cheap.

"Changed lines" is an estimate from the plan: the lines of its code blocks that are not shell
commands, or `lines_per_file_without_code` per file when that is more.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from hybrid_tui.config import AdviceSettings
from hybrid_tui.core.errors import InputError
from hybrid_tui.core.spec.format import Spec


@dataclass(frozen=True, slots=True)
class Advice:
    choice: Literal["claude", "kimi"]
    reason: str
    files: int
    lines: int

    @property
    def label(self) -> str:
        return "Claude implements" if self.choice == "claude" else "Delegate to Kimi"


_FENCE = re.compile(r"^\s*(```|~~~)\s*([\w+-]*)")
_SHELL_LANGS = {"bash", "sh", "shell", "console", "zsh", "powershell", "ps1", "cmd", "fish"}
# Decisions still open: an "Open questions" / "Options" / "Alternatives" / "Trade-offs"
# heading that is not marked resolved, a plan titled as a design / proposal / RFC / security
# work, or several decision phrases in the prose. "Resolved decisions" and "Design decisions
# (locked)" sections are plans that settled their design: implementable.
_OPEN_HEADING = re.compile(
    r"^#{1,6}\s.*\b(open (\w+ )?(questions?|decisions?)|options|alternatives?|trade-?offs?|"
    r"proposed design|proposal|rfc)\b",
    re.IGNORECASE,
)
_RESOLVED = re.compile(r"\b(resolved|locked|approved|decided|chosen)\b", re.IGNORECASE)
_DESIGN_TITLE = re.compile(r"^#\s.*\b(design|proposal|rfc|architecture|security|hardening)\b", re.IGNORECASE)
_DECISION = re.compile(
    r"\b(trade-?offs?|alternatives? considered|option [a-c1-3]\b|open questions?|tbd|"
    r"to be decided|decide (whether|between|on)|pros and cons|which approach|undecided)\b",
    re.IGNORECASE,
)
_MECHANICAL = re.compile(
    r"\b(renam\w*|boilerplate|crud|scaffold\w*|format unification|unify (the )?format\w*|"
    r"reformat\w*|bump\w*|upgrade\w*|migrat\w+ (all|every)|search and replace|find and replace|"
    r"replace all|translat\w+|i18n|codemod|mechanical)\b",
    re.IGNORECASE,
)


def _scan(plan_text: str) -> tuple[int, list[str]]:
    """(code lines that are not shell, prose lines) of a plan."""
    code_lines, prose, fence, shell = 0, [], None, False
    for line in plan_text.splitlines():
        match = _FENCE.match(line)
        if match and (fence is None or match.group(1) == fence):
            if fence is None:
                fence, shell = match.group(1), match.group(2).lower() in _SHELL_LANGS
            else:
                fence = None
            continue
        if fence is not None:
            code_lines += 0 if shell or not line.strip() else 1
        elif line.strip():
            prose.append(line.strip())
    return code_lines, prose


def _open_design(prose: list[str]) -> str | None:
    """Why the plan still needs design decisions, or None."""
    for line in prose:
        if _DESIGN_TITLE.match(line):
            return f"a design plan ({line.lstrip('# ')[:40]})"
        if _OPEN_HEADING.match(line) and not _RESOLVED.search(line):
            return f"open decisions ({line.lstrip('# ')[:40]})"
    hits = _DECISION.findall("\n".join(prose))
    if len(hits) >= 3:
        return f"{len(hits)} open decision points"
    return None


def estimate_lines(plan_text: str, spec: Spec, settings: AdviceSettings) -> int:
    """Changed lines, estimated: the plan's non-shell code lines, or a fixed amount per file
    when the plan shows less code than that."""
    code_lines, _ = _scan(plan_text)
    files = len({change.path for change in spec.all_files()})
    return max(code_lines, settings.lines_per_file_without_code * files)


def advise(plan_text: str, spec: Spec, settings: AdviceSettings | None = None) -> Advice:
    """The recommendation for a plan and its converted spec."""
    settings = settings or AdviceSettings()
    files = len({change.path for change in spec.all_files()})
    lines = estimate_lines(plan_text, spec, settings)
    _, prose = _scan(plan_text)

    def advice(choice: Literal["claude", "kimi"], reason: str) -> Advice:
        return Advice(choice, reason, files, lines)

    if files == 0:
        return advice("claude", "no file to change is named in the plan")
    questions = sum(1 for line in prose if line.endswith("?"))
    if questions >= 3 and questions * 3 >= len(prose):
        return advice("claude", f"mostly open questions ({questions}): Claude should settle them")
    design = _open_design(prose)
    if design:
        return advice("claude", f"{design}: Claude should decide")
    size = f"{files} file(s), ~{lines} lines"
    if files <= settings.claude_max_files and lines < settings.claude_max_lines:
        return advice("claude", f"small change ({size}): cheaper to do than to hand over")
    if files >= settings.kimi_min_files or lines >= settings.kimi_min_lines:
        return advice("kimi", f"large change ({size}): a precise spec saves Claude's tokens")
    mechanical = _MECHANICAL.search("\n".join(prose))
    if mechanical:
        return advice("kimi", f"mechanical work ({mechanical.group(0).lower()}, {size})")
    return advice("kimi", f"medium change ({size}) with a precise spec")


def advise_plan_file(path: Path, settings: AdviceSettings | None = None) -> Advice | None:
    """The advice for a plan file; None when it cannot be read (`read_plan` refuses it). Reads
    and converts the plan: from the TUI, call it in a worker."""
    from hybrid_tui.core.plan.plans import read_plan
    from hybrid_tui.core.spec.convert import convert_plan

    try:
        text = read_plan(path)
    except InputError:
        return None
    return advise(text, convert_plan(text, source=path.name), settings)
