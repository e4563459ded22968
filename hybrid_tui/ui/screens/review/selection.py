"""Selecting files and hunks for a partial accept: `space` toggles the file under the list
cursor, or the hunk under the diff cursor (a file without hunks, binary or mode-only, goes
whole); the file list shows the marks and the header the summary.

Hunk numbers are those of `core.hunks.parse_hunks` on the run's patch, so a selection means to
`partial.accept_selection` what the diff shows.
"""

from __future__ import annotations

from hybrid_tui.core.hunks import ALL, Whole
from hybrid_tui.ui.widgets.diff_view import DiffView
from hybrid_tui.ui.widgets.file_list import MARK_ALL, MARK_SOME, FileList

Chosen = set[int] | Whole


def _numbers(indexes: list[int]) -> str:
    shown = [str(i + 1) for i in sorted(indexes)]
    return shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " and " + shown[-1]


def describe_selection(selection: dict[str, Chosen], hunk_counts: dict[str, int]) -> list[str]:
    """One line per selected file: "numbers.txt: hunks 1 and 3 of 3" or "new.txt: whole file"."""
    lines = []
    for path, chosen in selection.items():
        total = hunk_counts.get(path)
        if chosen is ALL or (total is not None and len(chosen) == total):
            lines.append(f"{path}: whole file")
        else:
            word = "hunk" if len(chosen) == 1 else "hunks"
            lines.append(f"{path}: {word} {_numbers(list(chosen))}" + (f" of {total}" if total else ""))
    return lines


class SelectionMixin:
    """`ReviewScreen`'s selection: `self.selection` maps a path to ALL or its chosen hunk indexes."""

    def action_toggle_selection(self) -> None:
        view = self.query_one(DiffView)
        if view.has_focus and view.model is not None and view.path is not None:
            if view.model.selectable_hunks and view.cursor_hunk >= 0:
                self._toggle_hunk(view.path, view.cursor_hunk, view.model.hunk_count)
            else:
                self._toggle_file(view.path)
            return
        row = self.query_one(FileList).current
        if row is None or row.file is None:
            return
        self._toggle_file(row.path)

    def _toggle_file(self, path: str) -> None:
        if path in self.selection:
            del self.selection[path]
        else:
            self.selection[path] = ALL
        self._selection_changed()

    def _toggle_hunk(self, path: str, hunk: int, count: int) -> None:
        chosen = self.selection.get(path)
        indexes = set(range(count)) if chosen is ALL else set(chosen or ())
        indexes ^= {hunk}
        if not indexes:
            self.selection.pop(path, None)
        else:
            self.selection[path] = ALL if len(indexes) == count else indexes
        self._selection_changed()

    def _selection_changed(self) -> None:
        marks = {path: MARK_ALL if chosen is ALL else MARK_SOME for path, chosen in self.selection.items()}
        self.query_one(FileList).set_marks(marks)
        view = self.query_one(DiffView)
        view.set_selected(self.selection.get(view.path) if view.path else None)
        self._refresh_header()

    def _selection_summary(self) -> str:
        whole = sum(1 for c in self.selection.values() if c is ALL)
        hunks = sum(len(c) for c in self.selection.values() if c is not ALL)
        parts = []
        if whole:
            parts.append(f"{whole} file{'s' if whole > 1 else ''}")
        if hunks:
            parts.append(f"{hunks} hunk{'s' if hunks > 1 else ''}")
        return "● " + " + ".join(parts) + " selected"
