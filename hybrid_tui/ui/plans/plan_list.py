"""The plan list: one row per plan, `title … advice age size`, newest first.

Behaviour choices:
- A row is one line: the plan's title (cut with "…" when the column is narrow), then the
  advice badge (`Claude` or `Kimi`, bold, in the theme's accent or primary colour; blank while
  the advice is not known yet or when the plan cannot be read), then its age and size
  right-aligned and dimmed, e.g. `Fix delete types  Claude  3m  1.8 KB`. In a column narrower
  than `SIZE_MIN_WIDTH` cells (the list beside the preview at 80 columns) the size is left
  out, so the title keeps room. A plan kept in a sub-folder (`completed/old.md`) shows the
  folder before the title, dimmed; in the all-projects view each title follows its project's
  name, dimmed (`repo-b · `, `project unknown · `: `set_plans(..., labels=...)`).
- Ages come from the `now` the owner passes (the app's injected clock), never from the wall
  clock here: `format_age` gives `now`, `45s`, `3m`, `2h`, `4d`; a file dated in the future
  (clock skew) shows `now`. `refresh_ages` redraws only the rows whose age reads differently,
  so the owner can call it every second.
- `set_plans` replaces the rows and keeps the highlight on the same plan (by path); when that
  plan is gone the row that took its place is highlighted (its old neighbour), and the
  highlight clamps to the last row. The owner learns of the highlight through OptionList's
  own `OptionHighlighted` / `OptionSelected` messages (option ids are the plan paths).
- Advice comes from the owner (`set_advice`, keyed by plan path; computing it reads and
  converts each plan, which is worker work): the list only draws it, in the current theme's
  colours (rows are redrawn when the theme changes).
- The state of each plan's latest run (`set_runs`, from `core.plan.plan_runs`) follows the
  advice badge: `running`, `review`, `accepted`, `rejected`, `failed` or `stopped`, coloured
  (warning, accent, success, muted, error, muted), or in a narrow row its one-cell sign
  (`RUN_GLYPHS`: ▶ ◆ ✓ ✗ ! ■); blank for a plan never run. The column is there only while
  some plan has a run, so lists without runs keep their room for titles.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console, ConsoleOptions, RenderResult
from rich.table import Table
from rich.text import Text
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from hybrid_tui.core.inert import inert
from hybrid_tui.core.plan.plans import Plan

if TYPE_CHECKING:
    from hybrid_tui.core.plan.advice import Advice

BADGES = {"claude": "Claude", "kimi": "Kimi"}
"""The badge text of each advice choice."""
BADGE_COLOURS = {"claude": "accent", "kimi": "primary"}
"""The theme colour (a Textual theme variable) of each advice choice's badge."""
BADGE_WIDTH = max(len(text) for text in BADGES.values())
RUN_COLOURS = {"running": "warning", "review": "accent", "accepted": "success", "rejected": "text-muted",
               "failed": "error", "stopped": "text-muted"}
"""The theme colour of each run-state word (core.plan.plan_runs.STATE_WORDS)."""
RUN_WIDTH = max(len(word) for word in RUN_COLOURS)
RUN_GLYPHS = {"running": "▶", "review": "◆", "accepted": "✓", "rejected": "✗", "failed": "!", "stopped": "■"}
"""The one-cell sign of each run state, in rows narrower than `SIZE_MIN_WIDTH` (the list beside
the preview at 80 columns), so the title keeps its room; the advice line names the state."""
SIZE_MIN_WIDTH = 44
"""Rows narrower than this leave out the plan's size."""


def format_age(seconds: float) -> str:
    """A short age: `now` under a second (or negative), else `45s`, `3m`, `2h`, `4d`."""
    if seconds < 1:
        return "now"
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{int(seconds // size)}{unit}"
    return f"{int(seconds)}s"


def format_size(size: int) -> str:
    """A short size: `512 B`, `1.8 KB`, `2.3 MB` (1 KB = 1024 bytes)."""
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KB"
    return f"{size / (1024 * 1024):.1f} MB"


def advice_badge(advice: Advice | None, colours: dict[str, str] | None = None) -> Text:
    """`Claude` / `Kimi`, bold, coloured from `colours` (choice -> colour); empty without advice."""
    if advice is None:
        return Text("")
    colour = (colours or {}).get(advice.choice, "")
    return Text(BADGES[advice.choice], style=f"bold {colour}".strip())


class PlanRow:
    """One row: a one-line grid of title, advice badge, age and (when there is room) size,
    laid out for the width it is rendered at."""

    def __init__(self, plan: Plan, now: float, advice: Advice | None = None,
                 colours: dict[str, str] | None = None, label: str | None = None,
                 run_state: str | None = None, with_runs: bool = False) -> None:
        self.plan = plan
        self.now = now
        self.advice = advice
        self.colours = colours
        self.label = label
        self.run_state = run_state
        self.with_runs = with_runs

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        plan = self.plan
        title = Text(no_wrap=True, overflow="ellipsis")
        if self.label:
            title.append(f"{inert(self.label, one_line=True)} · ", style="dim")
        folder = plan.name.rpartition("/")[0]
        if folder:
            title.append(f"{inert(folder, one_line=True)}/ ", style="dim")
        title.append(inert(plan.title, one_line=True))  # a plan's bytes never reach the terminal raw
        with_size = options.max_width >= SIZE_MIN_WIDTH
        grid = Table.grid(expand=True, padding=(0, 1))
        grid.add_column(ratio=1, no_wrap=True, overflow="ellipsis")
        grid.add_column(no_wrap=True, width=BADGE_WIDTH)
        cells = [title, advice_badge(self.advice, self.colours)]
        if self.with_runs:
            state = self.run_state or ""
            grid.add_column(no_wrap=True, width=RUN_WIDTH if with_size else 1)
            shown = state if with_size else RUN_GLYPHS.get(state, "")
            cells.append(Text(shown, style=(self.colours or {}).get(f"run-{state}", "")))
        grid.add_column(justify="right", no_wrap=True, width=3)
        cells.append(Text(format_age(self.now - plan.mtime), style="dim"))
        if with_size:
            grid.add_column(justify="right", no_wrap=True, width=7)
            cells.append(Text(format_size(plan.size), style="dim"))
        grid.add_row(*cells)
        yield grid


def plan_row(plan: Plan, now: float, advice: Advice | None = None,
             colours: dict[str, str] | None = None, label: str | None = None,
             run_state: str | None = None, with_runs: bool = False) -> PlanRow:
    """The renderable for one plan's row."""
    return PlanRow(plan, now, advice, colours, label, run_state, with_runs)


class PlanList(OptionList):
    """An OptionList of plans; `plans` is what it shows, in order."""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.plans: list[Plan] = []
        self.advice: dict[Path, Advice | None] = {}
        self.labels: dict[Path, str] = {}  # each plan's project, in the all-projects view
        self.run_states: dict[Path, str] = {}  # the state word of each plan's latest run
        self._now = 0.0

    @property
    def selected_plan(self) -> Plan | None:
        if self.highlighted is None or not 0 <= self.highlighted < len(self.plans):
            return None
        return self.plans[self.highlighted]

    def set_plans(self, plans: list[Plan], now: float, labels: dict[Path, str] | None = None) -> None:
        """Show `plans`, keeping the highlighted plan (by path) or its position when it went;
        `labels`: each plan's project, shown before its title (None: keep those shown)."""
        previous = self.selected_plan
        previous_index = self.highlighted
        self.plans = list(plans)
        self._now = now
        if labels is not None:
            self.labels = dict(labels)
        colours = self._badge_colours()
        self.set_options(
            Option(self._row(plan, now, colours), id=str(plan.path))
            for plan in self.plans
        )
        if not self.plans:
            return
        index = 0
        if previous is not None:
            paths = [plan.path for plan in self.plans]
            if previous.path in paths:
                index = paths.index(previous.path)
            elif previous_index is not None:
                index = min(previous_index, len(self.plans) - 1)
        self.highlighted = index

    def on_mount(self) -> None:
        # Badge colours come from the theme: redraw the rows when it changes.
        self.app.theme_changed_signal.subscribe(self, lambda _theme: self.set_plans(self.plans, self._now))

    def set_advice(self, advice: dict[Path, Advice | None]) -> None:
        """Show these badges (by plan path; a path missing or None gets none)."""
        self.advice = dict(advice)
        self.set_plans(self.plans, self._now)

    def set_runs(self, states: dict[Path, str]) -> None:
        """Show these run states (by plan path, as the plans are listed); redraws only when they
        changed."""
        if states != self.run_states:
            self.run_states = dict(states)
            self.set_plans(self.plans, self._now)

    def _badge_colours(self) -> dict[str, str]:
        variables = self.app.theme_variables if self.is_attached else {}
        colours = {choice: variables.get(name, "") for choice, name in BADGE_COLOURS.items()}
        colours.update({f"run-{state}": variables.get(name, "") for state, name in RUN_COLOURS.items()})
        return colours

    def refresh_ages(self, now: float) -> None:
        """Redraw, for a new `now`, the rows whose age reads differently (ages move on while the
        list stays the same); the highlight and the scroll position stay as they are."""
        before, self._now = self._now, now
        colours = self._badge_colours()
        for index, plan in enumerate(self.plans):
            if format_age(now - plan.mtime) != format_age(before - plan.mtime):
                self.replace_option_prompt_at_index(index, self._row(plan, now, colours))

    def _row(self, plan: Plan, now: float, colours: dict[str, str]) -> PlanRow:
        return plan_row(plan, now, self.advice.get(plan.path), colours, self.labels.get(plan.path),
                        self.run_states.get(plan.path), bool(self.run_states))

    def plan_for(self, option_id: str | None) -> Plan | None:
        if option_id is None:
            return None
        path = Path(option_id)
        return next((plan for plan in self.plans if plan.path == path), None)
