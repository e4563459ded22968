"""`FileList`: the review's list of changed files, drawn lazily (Line API), with scope flags and
selection marks.

Each row: selection mark, scope flag, status letter, +/- counts, path. Rows are plain
strings cut into styled pieces only for the rows on screen, so a list of thousands of files
shows as fast as git names them (`set_files` costs O(files) string formatting, no widgets).

Two reads feed it: `git.diff_names` (git's `--raw`: the changed paths and their status,
no content diff: milliseconds for any diff size) shows the list with "…" for the counts
(`set_files(..., counted=False)`); `git.diff_files` (`--raw --numstat`, which diffs every
file) then fills them in (`set_counts`).

Behaviour choices:
- Selection marks: "●" the whole file is selected, "◐" some of its hunks, blank otherwise.
- A file the spec did not name gets a "!" and the warning colour ("not in the spec", also the
  tooltip); a file the spec named that the branch left alone is listed after the changed files
  in a muted row, "untouched". Untouched rows can hold the cursor but have no diff.
- Paths too long for the row lose their beginning ("…/deep/name.py"): the file name matters.
- Status letters: A added, M modified, D deleted, R renamed, C copied, T type changed.
- The cursor row is tinted (stronger when the list has focus). `up`/`down`, `home`/`end`,
  `pageup`/`pagedown` and a click move it; each move posts `FileList.Highlighted`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding
from textual.cache import LRUCache
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from hybrid_tui.ui.review.diff_model import cells, clean

if TYPE_CHECKING:
    from hybrid_tui.core.git import FileDiff

STATUS_LETTERS = {
    "added": "A",
    "modified": "M",
    "deleted": "D",
    "renamed": "R",
    "copied": "C",
    "type-changed": "T",
}
MARK_ALL, MARK_SOME = "●", "◐"
OUT_OF_SCOPE_FLAG = "!"
SCOPE_TOOLTIP = "! changed, but not in the spec · muted rows: named in the spec, untouched"
STYLE_KEYS = ("added", "removed", "muted", "status", "flag", "mark", "untouched", "path", "cursor", "cursor-blur")


@dataclass(frozen=True, slots=True)
class Row:
    """One row: `path` is the file's path; `file` is None for an untouched file."""

    path: str
    file: FileDiff | None
    flagged: bool = False

    @property
    def untouched(self) -> bool:
        return self.file is None


def counts_text(file: FileDiff, counted: bool = True) -> tuple[str, str]:
    """(added, removed) as drawn: "+3", "-1"; a binary file is ("bin", ""); "…" until counted."""
    if not counted:
        return "…", ""
    if file.binary:
        return "bin", ""
    return f"+{file.added}", f"-{file.removed}"


def shown_path(file: FileDiff) -> str:
    if file.old_path and file.old_path != file.path:
        return f"{file.old_path} → {file.path}"
    return file.path


def row_text(row: Row, mark: str, counts_width: int, counted: bool = True) -> str:
    """A row as plain text (what the screen shows, without colours)."""
    if row.file is None:
        return f"{' ' * (counts_width + 6)}{row.path} (untouched)"
    plus, minus = counts_text(row.file, counted)
    flag = OUT_OF_SCOPE_FLAG if row.flagged else " "
    letter = STATUS_LETTERS.get(row.file.status, "?")
    counts = f"{plus} {minus}".rstrip().rjust(counts_width)
    return f"{mark or ' '}{flag}{letter} {counts}  {shown_path(row.file)}"


def _crop_path(path: str, room: int) -> str:
    if cells(path) <= room:
        return path
    if room <= 1:
        return "…"[:room]
    text = path
    while text and cells(text) > room - 1:
        text = text[1:]
    return "…" + text


class FileList(ScrollView, can_focus=True):
    """The changed files (and the named but untouched ones), with a cursor."""

    BINDINGS = [
        Binding("down", "cursor(1)", "Down", show=False, id="file-list.down"),
        Binding("up", "cursor(-1)", "Up", show=False, id="file-list.up"),
        Binding("pagedown", "page(1)", "Page down", show=False, id="file-list.page-down"),
        Binding("pageup", "page(-1)", "Page up", show=False, id="file-list.page-up"),
        Binding("home", "first", "First", show=False, id="file-list.first"),
        Binding("end", "last", "Last", show=False, id="file-list.last"),
    ]

    COMPONENT_CLASSES = {f"file-list--{key}" for key in STYLE_KEYS}

    DEFAULT_CSS = """
    FileList {
        overflow-x: hidden;  /* paths are cut to the row (their start goes): nothing to scroll to */
        background: $surface;
        color: $foreground;
        & > .file-list--added { color: $diff-added; }
        & > .file-list--removed { color: $diff-removed; }
        & > .file-list--muted { color: $text-muted; }
        & > .file-list--status { text-style: bold; }
        & > .file-list--flag { color: $text-warning; text-style: bold; }
        & > .file-list--mark { color: $text-success; text-style: bold; }
        & > .file-list--untouched { color: $text-muted; text-style: italic; }
        & > .file-list--path { color: $foreground; }
        & > .file-list--cursor { background: $primary 45%; }
        & > .file-list--cursor-blur { background: $primary 18%; }
    }
    """

    class Highlighted(Message):
        """The cursor moved to row `index` (`row` is what is there)."""

        def __init__(self, file_list: FileList, index: int, row: Row) -> None:
            super().__init__()
            self.file_list = file_list
            self.index = index
            self.row = row

        @property
        def control(self) -> FileList:
            return self.file_list

    def __init__(self, *, name: str | None = None, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.rows: list[Row] = []
        self.marks: dict[str, str] = {}
        self.cursor = -1
        self.counted = True
        self._counts_width = 0
        self._styles: dict[str, Style] | None = None
        self._strips: LRUCache[tuple[int, int, int, bool], Strip] = LRUCache(512)
        self.tooltip = SCOPE_TOOLTIP

    # -- content -------------------------------------------------------------------------

    def set_files(
        self, files: list[FileDiff], *, flagged: set[str] | None = None,
        untouched: list[str] | None = None, keep_cursor: bool = False, counted: bool = True,
    ) -> None:
        """Show `files` (those whose path is in `flagged` marked "not in the spec"), then the
        `untouched` paths; the cursor goes to the first row (stays, with `keep_cursor`).
        `counted=False`: the +/- counts are not known yet ("…")."""
        flagged = flagged or set()
        rows = [Row(f.path, f, f.path in flagged) for f in files]
        rows += [Row(path, None) for path in untouched or []]
        self.rows = rows
        self.counted = counted
        self._counts_width = max((len(" ".join(counts_text(f, counted)).rstrip()) for f in files), default=0)
        width = max((cells(row_text(r, "", self._counts_width, counted)) for r in rows), default=0)
        self.virtual_size = Size(width, len(rows))
        self._strips.clear()
        old = self.cursor
        self.cursor = -1
        if rows:
            self.move_to(min(old, len(rows) - 1) if keep_cursor and old >= 0 else 0)
        self.refresh()

    def set_counts(self, files: list[FileDiff]) -> None:
        """The same files with their +/- counts (the cursor stays where it is)."""
        changed = [row for row in self.rows if row.file is not None]
        if [row.path for row in changed] != [f.path for f in files]:
            flagged = {row.path for row in changed if row.flagged}
            untouched = [row.path for row in self.rows if row.file is None]
            self.set_files(files, flagged=flagged, untouched=untouched, keep_cursor=True)
            return
        by_path = {f.path: f for f in files}
        self.rows = [Row(r.path, by_path[r.path], r.flagged) if r.file is not None else r for r in self.rows]
        self.counted = True
        self._counts_width = max((len(" ".join(counts_text(f)).rstrip()) for f in files), default=0)
        width = max((cells(row_text(r, "", self._counts_width)) for r in self.rows), default=0)
        self.virtual_size = Size(width, len(self.rows))
        self._strips.clear()
        self.refresh()

    def set_marks(self, marks: dict[str, str]) -> None:
        """Selection marks by path ("●" or "◐"); paths left out have none."""
        self.marks = dict(marks)
        self._strips.clear()
        self.refresh()

    @property
    def current(self) -> Row | None:
        return self.rows[self.cursor] if 0 <= self.cursor < len(self.rows) else None

    def index_of(self, path: str) -> int:
        """The row of `path` (a renamed file also by its old name), or -1."""
        for index, row in enumerate(self.rows):
            if row.path == path or (row.file is not None and row.file.old_path == path):
                return index
        return -1

    def text_lines(self) -> list[str]:
        """Every row as plain text (tests)."""
        return [row_text(r, self.marks.get(r.path, ""), self._counts_width, self.counted) for r in self.rows]

    # -- the cursor ----------------------------------------------------------------------

    def move_to(self, index: int) -> None:
        if not self.rows:
            return
        index = max(0, min(index, len(self.rows) - 1))
        if index == self.cursor:
            return
        self.cursor = index
        self._strips.clear()
        self.scroll_to_region_row(index)
        self.refresh()
        self.post_message(self.Highlighted(self, index, self.rows[index]))

    def scroll_to_region_row(self, index: int) -> None:
        height = self.scrollable_content_region.height
        if height <= 0:
            return
        top = round(self.scroll_y)
        if index < top:
            self.scroll_to(y=index, animate=False, immediate=True)
        elif index >= top + height:
            self.scroll_to(y=index - height + 1, animate=False, immediate=True)

    def action_cursor(self, delta: int) -> None:
        self.move_to(self.cursor + delta)

    def action_page(self, direction: int) -> None:
        self.move_to(self.cursor + direction * max(1, self.scrollable_content_region.height - 1))

    def action_first(self) -> None:
        self.move_to(0)

    def action_last(self) -> None:
        self.move_to(len(self.rows) - 1)

    def on_click(self, event: events.Click) -> None:
        row = event.y + round(self.scroll_y)
        if 0 <= row < len(self.rows):
            self.move_to(row)

    def on_focus(self) -> None:
        self._strips.clear()
        self.refresh()

    def on_blur(self) -> None:
        self._strips.clear()
        self.refresh()

    # -- drawing -------------------------------------------------------------------------

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._styles = None
        self._strips.clear()

    def on_resize(self, event: events.Resize) -> None:
        self._strips.clear()
        if self.cursor >= 0:
            self.scroll_to_region_row(self.cursor)

    def _resolve_styles(self) -> dict[str, Style]:
        styles = {key: self.get_component_rich_style(f"file-list--{key}", partial=True) for key in STYLE_KEYS}
        styles[""] = self.rich_style
        self._styles = styles
        return styles

    def render_line(self, y: int) -> Strip:
        index = round(self.scroll_y) + y
        width = self.scrollable_content_region.width
        styles = self._styles or self._resolve_styles()
        if index >= len(self.rows) or width <= 0:
            return Strip.blank(width, styles[""])
        cursor = index == self.cursor
        key = (index, width, round(self.scroll_x), cursor and self.has_focus)
        strip = self._strips.get(key)
        if strip is None:
            strip = self._row_strip(self.rows[index], width, cursor, styles)
            self._strips[key] = strip
        return strip

    def _row_strip(self, row: Row, width: int, cursor: bool, styles: dict[str, Style]) -> Strip:
        base = styles[""]
        if cursor:
            base = base + styles["cursor" if self.has_focus else "cursor-blur"]
        pieces: list[tuple[str, Style]] = []
        counts_width = self._counts_width
        if row.file is None:
            pieces.append((" " * (counts_width + 6), base))
            pieces.append((clean(row.path), base + styles["untouched"]))
            pieces.append((" (untouched)", base + styles["muted"]))
        else:
            file = row.file
            mark = self.marks.get(row.path, "")
            pieces.append((mark or " ", base + styles["mark"]))
            pieces.append((OUT_OF_SCOPE_FLAG if row.flagged else " ", base + styles["flag"]))
            pieces.append((STATUS_LETTERS.get(file.status, "?"), base + styles["status"]))
            plus, minus = counts_text(file, self.counted)
            used = len(f"{plus} {minus}".rstrip())
            pieces.append((" " + " " * (counts_width - used), base))
            if file.binary or not self.counted:
                pieces.append((plus, base + styles["muted"]))
            else:
                pieces.append((plus, base + styles["added"]))
                pieces.append((" ", base))
                pieces.append((minus, base + styles["removed"]))
            pieces.append(("  ", base))
            room = width - sum(cells(text) for text, _ in pieces)
            path_style = base + (styles["flag"] if row.flagged else styles["path"])
            pieces.append((_crop_path(clean(shown_path(file)), max(room, 1)), path_style))
        strip = Strip([Segment(text, style) for text, style in pieces])
        if strip.cell_length > width:
            strip = strip.crop(0, width)
        return strip.extend_cell_length(width, base)
