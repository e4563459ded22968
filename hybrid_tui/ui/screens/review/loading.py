"""Loading the review lazily and off the UI thread, in steps: the file list first
(`workspace.diff_names`: names and status, no content diff; and the scope check against the
spec), then the +/- counts (`workspace.diff_files`), then the whole patch, read once
(`workspace.patch_text`, split per file by `diff_model.PatchIndex`); each file is parsed and laid
out (`diff_model.prepare_file`) in a worker when it is opened, and the last few are cached.
Each load is a generation: results of an older load are dropped.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from textual import on

from hybrid_tui.ui.widgets.claude_review import ClaudeReviewPanel
from hybrid_tui.ui.widgets.diff_model import FileModel, PatchIndex, prepare_file
from hybrid_tui.ui.widgets.diff_view import DiffView
from hybrid_tui.ui.widgets.file_list import FileList

if TYPE_CHECKING:
    from hybrid_tui.core.scope import Scope
    from hybrid_tui.core.workspace import FileDiff

CACHED_FILES = 8



def line_position(model: FileModel, line: int, split: bool) -> tuple[int, int]:
    """(hunk, row) where `model` shows line `line` of the new file: its row when a hunk holds
    it, else the header row of the hunk nearest to it. (-1, 0) for a file without hunks."""
    best: tuple[int, int, int] | None = None  # (distance, hunk, row)
    starts = model.starts(split)
    for index, hunk in enumerate(model.hunks):
        numbers = [n for n in hunk.new if n]
        for position, number in enumerate(hunk.new):
            if number == line:
                if split:
                    rows = list(hunk.right)
                    position = rows.index(position) if position in rows else 0
                return index, starts[index] + 1 + position
        if numbers:
            distance = min(abs(numbers[0] - line), abs(numbers[-1] - line))
            if best is None or distance < best[0]:
                best = (distance, index, starts[index])
    if best is None:
        return (0, starts[0]) if model.hunks else (-1, 0)
    return best[1], best[2]


class LoadingMixin:
    """`ReviewScreen`'s loading: the thread workers that read the files, counts and patch, and what shows their results."""

    def _load(self) -> None:
        """(Re)load the file list; the patch and the open file follow."""
        self._loading += 1
        self.patch = None
        self._models.clear()
        self._hunk_counts.clear()
        generation = self._loading
        self._worker(lambda: (generation, *self._read_files()), "files")

    def _read_files(self) -> tuple[list[FileDiff], str, Scope | None]:
        """The changed files by name and status (no counts yet), the tip, the scope check."""
        from hybrid_tui.core.land import run_scope, run_tip
        from hybrid_tui.core.workspace import diff_names

        tip = run_tip(self.run)
        files = diff_names(Path(self.run.repo_root), self.run.base_sha, tip)
        return files, tip, run_scope(self.run, files)

    def _read_counts(self, generation: int, tip: str) -> tuple[int, list[FileDiff]]:
        from hybrid_tui.core import workspace

        return generation, workspace.diff_files(Path(self.run.repo_root), self.run.base_sha, tip)

    def _read_patch(self, generation: int, tip: str) -> tuple[int, PatchIndex]:
        from hybrid_tui.core import workspace

        return generation, PatchIndex(workspace.patch_text(Path(self.run.repo_root), self.run.base_sha, tip))

    def _prepare(self, generation: int, path: str, section: str) -> tuple[int, str, FileModel]:
        return generation, path, prepare_file(section)

    def _show_files(self, result: tuple[int, list[FileDiff], str, Scope | None]) -> None:
        generation, files, tip, scope = result
        if generation != self._loading:
            return
        self.files, self.tip, self.scope = files, tip, scope
        self.counted = False
        file_list = self.query_one(FileList)
        file_list.set_files(
            files,
            flagged={f.path for f in files if scope.flags(f)} if scope else None,
            untouched=scope.untouched if scope else None,
            counted=False,
        )
        if not files:
            self.query_one(DiffView).show_message("No changes on this branch: the agent changed nothing.")
        panel = self.query_one(ClaudeReviewPanel)
        if panel.review is not None and not self.claude_reviewing:
            panel.show_review(panel.review, tip=tip)  # says when it was of an older tip
        self._refresh_header()
        self._refresh_checks()
        # Then the counts (a diff of every file); then the patch and the preflight.
        self._worker(lambda: self._read_counts(generation, tip), "counts")

    def _show_counts(self, result: tuple[int, list[FileDiff]]) -> None:
        generation, files = result
        if generation != self._loading:
            return
        self.files, self.counted = files, True
        self.query_one(FileList).set_counts(files)
        self._refresh_header()
        tip = self.tip
        assert tip is not None
        self._worker(lambda: self._read_patch(generation, tip), "patch")
        if not self.busy:
            self._worker(lambda: ("advice", None, self._findings(None)), "preflight")

    def _patch_ready(self, result: tuple[int, PatchIndex]) -> None:
        generation, index = result
        if generation != self._loading:
            return
        self.patch = index
        row = self.query_one(FileList).current
        if row is not None and row.file is not None:
            self._open(row.path)

    @on(FileList.Highlighted)
    def _file_highlighted(self, event: FileList.Highlighted) -> None:
        row = event.row
        view = self.query_one(DiffView)
        if row.file is None:
            nothing = "" if self.files else "No changes on this branch: the agent changed nothing. "
            view.show_message(f"{nothing}The spec names {row.path}, but the run did not change it.", row.path)
            return
        self._open(row.path)

    def _open(self, path: str) -> None:
        view = self.query_one(DiffView)
        if (model := self._models.get(path)) is not None:
            self._models.move_to_end(path)
            self._set_model(model, path)
            return
        view.show_message(f"Loading {path}…", path)
        if self.patch is None:
            return  # opened when the patch is read
        section = self.patch.section(path)
        if section is None:
            view.show_message(f"{path}: not in the patch (the branch moved?)", path)
            return
        generation = self._loading
        self._worker(lambda: self._prepare(generation, path, section), "diff")

    def _show_model(self, result: tuple[int, str, FileModel]) -> None:
        generation, path, model = result
        if generation != self._loading:
            return
        self._models[path] = model
        self._hunk_counts[path] = model.hunk_count
        while len(self._models) > CACHED_FILES:
            self._models.popitem(last=False)
        if self.query_one(DiffView).path == path:  # still the file under the cursor
            self._set_model(model, path)

    def _set_model(self, model: FileModel, path: str) -> None:
        view = self.query_one(DiffView)
        view.set_model(model, path, hunk=self._pending_hunk)
        self._pending_hunk = 0
        view.set_selected(self.selection.get(path))
        if self._pending_line is not None and self._pending_line[0] == path:
            self._show_line(self._pending_line[1])

    def _show_line(self, line: int) -> None:
        """Put the diff's cursor on the hunk that shows new line `line`, that line in sight."""
        self._pending_line = None
        view = self.query_one(DiffView)
        if view.model is None:
            return
        hunk, row = line_position(view.model, line, view.split)
        if hunk < 0:
            return
        view.set_cursor(hunk)
        start = view.model.starts(view.split)[hunk]
        view.scroll_to(y=max(start, row - 2), animate=False, immediate=True, force=True)
