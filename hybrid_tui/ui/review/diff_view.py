"""`DiffView`: one file's diff, unified or side by side, syntax-coloured, drawn lazily (Line API),
with a hunk cursor and the marks of the selected hunks.

What it draws comes ready from `diff_model.prepare_file` (a thread worker's job); this widget
only maps a screen row to a hunk line and builds Strips for the rows on screen, cached. The
syntax colours of a block of lines are worked out the first time one of them is drawn.

Behaviour choices:
- Rows: the file's header facts (mode change, rename, binary, empty), then each hunk: its
  `@@` header, then its lines with old and new line numbers. Side by side, the old side is on
  the left, the new on the right, paired as `diff_model` says.
- A three-cell gutter: "▌" down the cursor hunk (whose header is tinted too); "●" on the header
  and "│" along the lines of a selected hunk (every row when the whole file is selected).
- The hunk cursor follows the view: scrolling the cursor hunk out of sight moves the cursor to
  the first hunk in sight; a click puts it on the hunk clicked. `move_hunk` scrolls the next
  or previous hunk to the top and says False at either end (the screen then changes file).
- Long lines scroll horizontally (the gutter and line numbers stay); nothing wraps.
- Colours: `$diff-added`, `$diff-removed` (with their `-background`), `$diff-hunk` (the app's
  theme variables, `hybrid_tui.ui.theme`), and the theme's text colours for syntax.
- `show_message` replaces the diff with a muted message ("Loading…", "No changes", an error),
  wrapped to the view's width (it would otherwise be cut: a message does not scroll).
- The view keeps the last few files laid out (`remember` / `recall`, `forget` when the branch
  changed), so going back to a file does not lay it out again.
"""

from __future__ import annotations

import textwrap
from bisect import bisect_right
from collections import OrderedDict

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.cache import LRUCache
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from hybrid_tui.core.land.hunks import ALL, Whole
from hybrid_tui.ui.review.diff_model import (
    SYNTAX_BLOCK,
    SYNTAX_CATEGORIES,
    FileModel,
    cells,
    clean,
    syntax_spans,
)

KINDS = ("added", "removed", "context", "hunk", "meta", "note", "lineno", "cursor", "mark", "filler")
GUTTER = 3  # cursor bar, selection mark, a space
CURSOR_BAR, SELECTED_HEAD, SELECTED_LINE = "▌", "●", "│"
_SIGN_KIND = {"+": "added", "-": "removed", " ": "context", "\\": "meta"}


class DiffView(ScrollView, can_focus=True):
    """A scrolling, coloured diff of one file with a hunk cursor."""

    COMPONENT_CLASSES = {f"diff-view--{kind}" for kind in KINDS} | {
        f"diff-view--syn-{category}" for category in SYNTAX_CATEGORIES
    }

    DEFAULT_CSS = """
    DiffView {
        background: $surface;
        color: $foreground;
        &:focus { background-tint: $foreground 5%; }
        & > .diff-view--added { color: $diff-added; background: $diff-added-background; }
        & > .diff-view--removed { color: $diff-removed; background: $diff-removed-background; }
        & > .diff-view--context { color: $foreground; }
        & > .diff-view--hunk { color: $diff-hunk; }
        & > .diff-view--meta { color: $text-muted; text-style: bold; }
        & > .diff-view--note { color: $text-muted; text-style: italic; }
        & > .diff-view--lineno { color: $text-muted; }
        & > .diff-view--cursor { color: $accent; background: $accent 22%; }
        & > .diff-view--mark { color: $text-success; text-style: bold; }
        & > .diff-view--filler { background: $panel; }
        & > .diff-view--syn-keyword { color: $text-accent; }
        & > .diff-view--syn-constant { color: $text-warning; }
        & > .diff-view--syn-type { color: $text-warning; text-style: bold; }
        & > .diff-view--syn-string { color: $text-success; }
        & > .diff-view--syn-number { color: $text-warning; }
        & > .diff-view--syn-builtin { color: $text-accent; }
        & > .diff-view--syn-function { color: $text-primary; }
        & > .diff-view--syn-comment { color: $text-muted; text-style: italic; }
        & > .diff-view--syn-heading { color: $text-primary; text-style: bold; }
    }
    """

    def __init__(self, *, name: str | None = None, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.model: FileModel | None = None
        self.path: str | None = None
        self.message: str | None = None
        self.split = False
        self.cursor_hunk = -1
        self.selected: set[int] | frozenset[int] | Whole | None = None
        self._styles: dict[str, Style] | None = None
        self._strips: LRUCache[tuple[int, int, int], Strip] = LRUCache(1024)
        self._models: OrderedDict[str, FileModel] = OrderedDict()  # files laid out already, last used last

    # -- content -------------------------------------------------------------------------

    def set_model(self, model: FileModel, path: str | None = None, *, hunk: int | str = 0) -> None:
        """Show `model`; the cursor on hunk `hunk` (an index, or "last"), scrolled to it."""
        self.model, self.path, self.message = model, path or model.path, None
        count = model.hunk_count
        if count == 0:
            self.cursor_hunk = -1
        else:
            self.cursor_hunk = count - 1 if hunk == "last" else max(0, min(int(hunk), count - 1))
        self._changed()
        self.scroll_to_hunk(self.cursor_hunk)

    def recall(self, path: str) -> FileModel | None:
        """The file laid out already, if it still is."""
        model = self._models.get(path)
        if model is not None:
            self._models.move_to_end(path)
        return model

    def remember(self, path: str, model: FileModel, *, keep: int) -> None:
        """Keep `model` for `recall`, and at most `keep` files."""
        self._models[path] = model
        while len(self._models) > keep:
            self._models.popitem(last=False)

    def forget(self) -> None:
        self._models.clear()

    def show_message(self, text: str, path: str | None = None) -> None:
        self.model, self.path, self.message = None, path, clean(text)
        self.cursor_hunk = -1
        self._changed()
        self.scroll_to(0, 0, animate=False, immediate=True, force=True)

    def set_split(self, split: bool) -> None:
        """Side by side (True) or unified; the cursor hunk stays in view."""
        if split == self.split:
            return
        self.split = split
        self._changed()
        if self.cursor_hunk >= 0:
            self.scroll_to_hunk(self.cursor_hunk)

    def set_selected(self, selected: set[int] | frozenset[int] | Whole | None) -> None:
        """The shown file's selection: `ALL`, some hunk indexes, or None."""
        self.selected = selected
        self._strips.clear()
        self.refresh()

    def is_selected(self, hunk: int) -> bool:
        chosen = self.selected
        return chosen is ALL or (isinstance(chosen, (set, frozenset)) and hunk in chosen)

    def _changed(self) -> None:
        self._strips.clear()
        self._update_virtual_size()
        self.refresh()

    def _update_virtual_size(self) -> None:
        model = self.model
        if model is None:
            self.virtual_size = Size(0, len(self._message_lines()))
            return
        rows = model.rows(self.split)
        header_width = max((cells(text) for _, text in model.header), default=0)
        if self.split:
            width = self.scrollable_content_region.width
            overflow = max(0, model.code_width - self._half_code_width(width))
            self.virtual_size = Size(max(width + overflow, GUTTER + header_width), rows)
        else:
            width = self._unified_prefix() + model.code_width
            self.virtual_size = Size(max(width, GUTTER + header_width), rows)

    # -- reading it back (tests, copying) ------------------------------------------------

    def text_lines(self) -> list[str]:
        """Every row as unified plain text, whatever the view: header facts, `@@` lines, lines
        with their sign. A message shows as its one line."""
        model = self.model
        if model is None:
            return [self.message] if self.message is not None else []
        out = [text for _, text in model.header]
        for hunk in model.hunks:
            out.append(hunk.header)
            out.extend(hunk.lines)
        return out

    def line_kinds(self) -> list[str]:
        model = self.model
        if model is None:
            return ["note"] if self.message is not None else []
        out = [kind for kind, _ in model.header]
        for hunk in model.hunks:
            out.append("hunk")
            out.extend(_SIGN_KIND.get(line[:1], "context") for line in hunk.lines)
        return out

    def rendered_lines(self) -> list[str]:
        """The rows on screen now, as plain text (gutter included)."""
        return [self.render_line(y).text for y in range(self.scrollable_content_region.height)]

    # -- the hunk cursor -----------------------------------------------------------------

    def hunk_at(self, row: int) -> int:
        """The hunk a row belongs to (-1 above the first hunk)."""
        if self.model is None:
            return -1
        return bisect_right(self.model.starts(self.split), row) - 1

    def scroll_to_hunk(self, index: int) -> None:
        if self.model is None or index < 0:
            self.scroll_to(0, 0, animate=False, immediate=True, force=True)
            return
        row = 0 if index == 0 else self.model.starts(self.split)[index]
        self.scroll_to(y=row, animate=False, immediate=True, force=True)

    def set_cursor(self, index: int, *, scroll: bool = True) -> None:
        if self.model is None or not 0 <= index < self.model.hunk_count:
            return
        self.cursor_hunk = index
        self._strips.clear()
        if scroll:
            self.scroll_to_hunk(index)
        self.refresh()

    def move_hunk(self, delta: int) -> bool:
        """Move the cursor to the next (1) or previous (-1) hunk; False when there is none."""
        model = self.model
        if model is None or model.hunk_count == 0:
            return False
        target = self.cursor_hunk + delta
        if not 0 <= target < model.hunk_count:
            return False
        self.set_cursor(target)
        return True

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        model = self.model
        if model is None or model.hunk_count == 0 or self.cursor_hunk < 0:
            return
        top = round(new_value)
        bottom = top + max(1, self.scrollable_content_region.height)
        first, end = model.hunk_span(self.cursor_hunk, self.split)
        if end <= top or first >= bottom:
            in_sight = max(0, self.hunk_at(top))
            if model.hunk_span(in_sight, self.split)[1] <= top and in_sight + 1 < model.hunk_count:
                in_sight += 1
            self.cursor_hunk = in_sight
            self._strips.clear()
            self.refresh()

    def on_click(self, event: events.Click) -> None:
        hunk = self.hunk_at(round(self.scroll_y) + event.y)
        if hunk >= 0:
            self.set_cursor(hunk, scroll=False)

    # -- drawing -------------------------------------------------------------------------

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._styles = None
        self._strips.clear()

    def on_resize(self, event: events.Resize) -> None:
        self._strips.clear()
        if self.split or self.model is None:  # side by side and a message fit the width
            self._update_virtual_size()

    def _message_lines(self) -> list[str]:
        """The message wrapped to the width beside the gutter (one line before layout)."""
        if not self.message:
            return []
        room = self.scrollable_content_region.width - GUTTER
        if room <= 0:
            return [self.message]
        return textwrap.wrap(self.message, room, break_on_hyphens=False) or [""]

    def _resolve_styles(self) -> dict[str, Style]:
        styles = {kind: self.get_component_rich_style(f"diff-view--{kind}") for kind in KINDS}
        for category in SYNTAX_CATEGORIES:
            full = self.get_component_rich_style(f"diff-view--syn-{category}")
            styles[f"syn-{category}"] = Style(color=full.color, bold=full.bold, italic=full.italic)
        styles[""] = self.rich_style
        self._styles = styles
        return styles

    def _unified_prefix(self) -> int:
        width = self.model.number_width if self.model else 0
        return GUTTER + 2 * width + 2 + 1

    def _half_code_width(self, width: int) -> int:
        number = self.model.number_width if self.model else 0
        return max(1, (width - GUTTER - 2 - 2 * (number + 2)) // 2)

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        row = scroll_y + y
        width = self.scrollable_content_region.width
        styles = self._styles or self._resolve_styles()
        model = self.model
        message = self._message_lines() if model is None else []
        rows = model.rows(self.split) if model is not None else len(message)
        if row >= rows or width <= 0:
            return Strip.blank(width, styles[""])
        key = (row, scroll_x, width)
        strip = self._strips.get(key)
        if strip is None:
            if model is None:
                strip = _fit([Segment(" " * GUTTER + message[row], styles[""] + styles["note"])], width, styles[""])
            else:
                strip = self._row(model, row, scroll_x, width, styles)
            self._strips[key] = strip
        return strip

    def _gutter(self, hunk: int, head: bool, styles: dict[str, Style], base: Style) -> list[Segment]:
        bar = CURSOR_BAR if hunk == self.cursor_hunk and hunk >= 0 else " "
        chosen = self.selected is ALL or (hunk >= 0 and self.is_selected(hunk))
        mark = (SELECTED_HEAD if head else SELECTED_LINE) if chosen else " "
        return [
            Segment(bar, base + Style(color=styles["cursor"].color)),
            Segment(mark, base + styles["mark"]),
            Segment(" ", base),
        ]

    def _row(self, model: FileModel, row: int, scroll_x: int, width: int, styles: dict[str, Style]) -> Strip:
        base = styles[""]
        hunk = self.hunk_at(row)
        if hunk < 0:  # a header fact
            kind, text = model.header[row]
            segments = self._gutter(-1, True, styles, base)
            segments.append(Segment(text, base + styles[kind]))
            return _fit(segments, width, base)
        start = model.starts(self.split)[hunk]
        if row == start:
            head_style = base + styles["hunk"]
            if hunk == self.cursor_hunk:
                head_style = head_style + Style(bgcolor=styles["cursor"].bgcolor)
            segments = self._gutter(hunk, True, styles, base)
            segments.append(Segment(model.hunks[hunk].header, head_style))
            return _fit(segments, width, head_style if hunk == self.cursor_hunk else base)
        offset = row - start - 1
        segments = self._gutter(hunk, False, styles, base)
        if not self.split:
            segments += self._line(model, hunk, offset, "both", scroll_x, width - self._unified_prefix(), styles)
            return _fit(segments, width, base)
        half = self._half_code_width(width)
        rows = model.hunks[hunk]
        segments += self._side(model, hunk, rows.left[offset], "old", scroll_x, half, styles)
        segments.append(Segment("│ ", base + styles["lineno"]))
        segments += self._side(model, hunk, rows.right[offset], "new", scroll_x, half, styles)
        return _fit(segments, width, base)

    def _side(self, model: FileModel, hunk: int, index: int, side: str, scroll_x: int, code: int,
              styles: dict[str, Style]) -> list[Segment]:
        if index < 0:
            return [Segment(" " * (model.number_width + 2 + code), styles[""] + styles["filler"])]
        return self._line(model, hunk, index, side, scroll_x, code, styles)

    def _line(self, model: FileModel, hunk: int, index: int, side: str, scroll_x: int, code: int,
              styles: dict[str, Style]) -> list[Segment]:
        """Line numbers, sign and code (cropped to `code` cells from `scroll_x`) of one line."""
        base = styles[""]
        rows = model.hunks[hunk]
        line = rows.lines[index]
        sign = line[:1]
        kind = _SIGN_KIND.get(sign, "context")
        tint = styles[kind] if kind in ("added", "removed") else None
        back = base + Style(bgcolor=tint.bgcolor) if tint is not None else base
        width = model.number_width
        old, new = rows.old[index], rows.new[index]
        if side == "both":
            numbers = f"{old or '':>{width}} {new or '':>{width}} "
        else:
            numbers = f"{(old if side == 'old' else new) or '':>{width}} "
        segments = [Segment(numbers, back + Style(color=styles["lineno"].color))]
        if kind == "meta":  # "\ No newline at end of file"
            text = line[2:] if line.startswith("\\ ") else line[1:]
            segments.append(Segment(" ", back))
            segments += _crop([Segment(text, back + styles["note"])], scroll_x, code, back)
            return segments
        segments.append(Segment(sign if sign in "+-" else " ", back + Style(color=(tint or styles["context"]).color)))
        text = line[1:]
        spans = syntax_spans(model, hunk, index // SYNTAX_BLOCK)[index % SYNTAX_BLOCK] if model.lexer else []
        code_segments: list[Segment] = []
        at = 0
        for start, end, category in spans:
            if start > at:
                code_segments.append(Segment(text[at:start], back))
            code_segments.append(Segment(text[start:end], back + styles[f"syn-{category}"]))
            at = end
        if at < len(text):
            code_segments.append(Segment(text[at:], back))
        segments += _crop(code_segments, scroll_x, code, back)
        return segments


def _crop(segments: list[Segment], start: int, width: int, pad: Style | None = None) -> list[Segment]:
    """`segments` cut to the cells [start, start + width), padded with `pad` to `width`."""
    strip = Strip(segments)
    if start or strip.cell_length > width:
        strip = strip.crop(start, start + width)
    if pad is not None:
        strip = strip.extend_cell_length(width, pad)
    return list(strip)


def _fit(segments: list[Segment], width: int, pad: Style) -> Strip:
    strip = Strip(segments)
    if strip.cell_length > width:
        strip = strip.crop(0, width)
    return strip.extend_cell_length(width, pad)
