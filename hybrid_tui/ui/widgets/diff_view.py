"""`DiffView`: one file's unified diff, coloured by line type, drawn lazily (Line API).

Behaviour choices:
- Lines are classified once (header, hunk, added, removed, context) by `prepare_diff`, a pure
  function a thread worker can call, and Strips are built only for the rows on screen, cached:
  a diff of 200,000 lines costs one pass of string checks off the UI thread, not 200,000
  renderables.
- Colours come from the theme variables `$diff-added`, `$diff-removed` (with their
  `-background`) and `$diff-hunk` (hybrid_tui.ui.theme.THEME_VARIABLE_DEFAULTS; the host app
  returns those from `get_theme_variable_defaults`).
- Long lines scroll horizontally rather than wrap; tabs expand to 4 columns and control
  characters show as "�", so nothing the diff holds can move the cursor.
- `show_message` replaces the diff with one muted line ("Loading…", "No changes", an error).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from textual.cache import LRUCache
from textual.events import Resize
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

KINDS = ("added", "removed", "hunk", "meta", "context", "note")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def _clean(line: str) -> str:
    if not line.isprintable():
        if "\t" in line:
            line = line.expandtabs(4)
        line = _CONTROL.sub("\ufffd", line.removesuffix("\r"))
    return line


def classify(lines: list[str]) -> list[str]:
    """The kind of each line of a unified diff (git's headers are `meta` until the first hunk)."""
    kinds: list[str] = []
    in_header = False
    for line in lines:
        first = line[:1]
        if line.startswith("diff "):
            in_header = True
            kind = "meta"
        elif in_header and not line.startswith("@@"):
            kind = "meta"
        elif line.startswith("@@"):
            in_header = False
            kind = "hunk"
        elif first == "+":
            kind = "added"
        elif first == "-":
            kind = "removed"
        elif first == "\\":
            kind = "meta"  # "\ No newline at end of file"
        else:
            kind = "context"
        kinds.append(kind)
    return kinds


@dataclass(frozen=True, slots=True)
class DiffLines:
    """A diff ready to draw: its lines (made safe), their kinds, the widest line in cells."""

    lines: list[str]
    kinds: list[str]
    width: int


def prepare_diff(text: str) -> DiffLines:
    """Split, clean and classify a unified diff (no Textual: call it in a thread worker)."""
    lines = [_clean(line) for line in text.splitlines()]
    width = max((len(t) if t.isascii() else cell_len(t) for t in lines), default=0)
    return DiffLines(lines, classify(lines), width)


class DiffView(ScrollView, can_focus=True):
    """A scrolling, coloured unified diff."""

    COMPONENT_CLASSES = {f"diff-view--{kind}" for kind in KINDS}

    DEFAULT_CSS = """
    DiffView {
        background: $surface;
        color: $foreground;
        &:focus { background-tint: $foreground 5%; }
        & > .diff-view--added { color: $diff-added; background: $diff-added-background; }
        & > .diff-view--removed { color: $diff-removed; background: $diff-removed-background; }
        & > .diff-view--hunk { color: $diff-hunk; }
        & > .diff-view--meta { color: $text-muted; text-style: bold; }
        & > .diff-view--context { color: $foreground; }
        & > .diff-view--note { color: $text-muted; text-style: italic; }
    }
    """

    def __init__(self, *, name: str | None = None, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._lines: list[str] = []
        self._kinds: list[str] = []
        self._styles: dict[str, Style] | None = None
        self._strips: LRUCache[tuple[int, int, int], Strip] = LRUCache(1024)
        self.path: str | None = None

    # -- content -------------------------------------------------------------------------

    def set_diff(self, diff: DiffLines | str, path: str | None = None) -> None:
        """Show a diff from the top (prepare big ones with `prepare_diff` in a worker)."""
        self._set(prepare_diff(diff) if isinstance(diff, str) else diff, path)

    def show_message(self, text: str, path: str | None = None) -> None:
        line = _clean(text)
        self._set(DiffLines([line], ["note"], cell_len(line)), path)

    def text_lines(self) -> list[str]:
        """Every line as plain text (for tests and copying)."""
        return list(self._lines)

    def line_kinds(self) -> list[str]:
        return list(self._kinds)

    def _set(self, diff: DiffLines, path: str | None) -> None:
        self._lines, self._kinds, self.path = diff.lines, diff.kinds, path
        self._strips.clear()
        self.virtual_size = Size(diff.width, len(diff.lines))
        self.scroll_to(0, 0, animate=False, immediate=True, force=True)
        self.refresh()

    # -- drawing -------------------------------------------------------------------------

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._styles = None
        self._strips.clear()

    def on_resize(self, event: Resize) -> None:
        self._strips.clear()

    def _resolve_styles(self) -> dict[str, Style]:
        styles = {kind: self.get_component_rich_style(f"diff-view--{kind}") for kind in KINDS}
        self._styles = styles
        return styles

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        row = scroll_y + y
        width = self.scrollable_content_region.width
        if row >= len(self._lines) or width <= 0:
            return Strip.blank(width, self.rich_style)
        key = (row, scroll_x, width)
        strip = self._strips.get(key)
        if strip is None:
            styles = self._styles or self._resolve_styles()
            style = styles[self._kinds[row]]
            text = self._lines[row]
            strip = Strip([Segment(text, style)])
            if scroll_x or strip.cell_length > width:
                strip = strip.crop(scroll_x, scroll_x + width)
            strip = strip.extend_cell_length(width, style)
            self._strips[key] = strip
        return strip
