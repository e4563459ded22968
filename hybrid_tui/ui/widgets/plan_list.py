"""The plan list: one row per plan, `title … age size`, newest first.

Behaviour choices:
- A row is one line: the plan's title (cut with "…" when the column is narrow), then its age
  and size right-aligned and dimmed, e.g. `Fix delete types     3m  1.8 KB`. A plan kept in a
  sub-folder (`completed/old.md`) shows the folder before the title, dimmed.
- Ages come from the `now` the owner passes (the app's injected clock), never from the wall
  clock here: `format_age` gives `now`, `45s`, `3m`, `2h`, `4d`; a file dated in the future
  (clock skew) shows `now`.
- `set_plans` replaces the rows and keeps the highlight on the same plan (by path); when that
  plan is gone the row that took its place is highlighted (its old neighbour), and the
  highlight clamps to the last row. The owner learns of the highlight through OptionList's
  own `OptionHighlighted` / `OptionSelected` messages (option ids are the plan paths).
"""

from __future__ import annotations

from pathlib import Path

from rich.table import Table
from rich.text import Text
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from hybrid_tui.core.plans import Plan


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


def plan_row(plan: Plan, now: float) -> Table:
    """The renderable for one row (a one-line grid: title, then age and size)."""
    title = Text(no_wrap=True, overflow="ellipsis")
    folder = plan.name.rpartition("/")[0]
    if folder:
        title.append(f"{folder}/ ", style="dim")
    title.append(plan.title)
    grid = Table.grid(expand=True, padding=(0, 1))
    grid.add_column(ratio=1, no_wrap=True, overflow="ellipsis")
    grid.add_column(justify="right", no_wrap=True, width=3)
    grid.add_column(justify="right", no_wrap=True, width=7)
    grid.add_row(
        title,
        Text(format_age(now - plan.mtime), style="dim"),
        Text(format_size(plan.size), style="dim"),
    )
    return grid


class PlanList(OptionList):
    """An OptionList of plans; `plans` is what it shows, in order."""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.plans: list[Plan] = []

    @property
    def selected_plan(self) -> Plan | None:
        if self.highlighted is None or not 0 <= self.highlighted < len(self.plans):
            return None
        return self.plans[self.highlighted]

    def set_plans(self, plans: list[Plan], now: float) -> None:
        """Show `plans`, keeping the highlighted plan (by path) or its position when it went."""
        previous = self.selected_plan
        previous_index = self.highlighted
        self.plans = list(plans)
        self.set_options(Option(plan_row(plan, now), id=str(plan.path)) for plan in self.plans)
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

    def refresh_ages(self, now: float) -> None:
        """Redraw the rows for a new `now` (ages move on while the list stays the same)."""
        self.set_plans(self.plans, now)

    def plan_for(self, option_id: str | None) -> Plan | None:
        if option_id is None:
            return None
        path = Path(option_id)
        return next((plan for plan in self.plans if plan.path == path), None)
