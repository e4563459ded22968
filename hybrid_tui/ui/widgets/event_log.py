"""The live event pane: `EventLog`, a Line API `ScrollView` over an agent's `AgentEvent`s.

Why not `RichLog`: it renders a Rich renderable per write, which costs far more than an agent
can stream. Here each event becomes display lines once, at add time: plain strings with a
style key (`event_lines` shows them as `(style_key, text)` pairs); Strips are built only for
the rows on screen, and cached.

Behaviour choices:
- Memory is bounded: at most `max_lines` display lines are kept (a deque); older ones drop off
  and a first row "… N earlier lines in the transcript" says so. The transcript on disk is whole.
- Lines longer than `LINE_CAP` characters are cut with a "… [truncated]" marker; rows wider
  than the pane are cropped with a final "…" (no horizontal scrolling, no wrapping).
- Nothing the agent or a check prints reaches the terminal raw (`core.inert`): colour
  sequences are dropped, every other escape sequence and control character shows as text
  (`\x1b]0;title\x07`), tabs expand.
- Follows the tail while the view is at the bottom; once the user scrolls up it stays on the
  same lines, even while old lines drop off the top, until they scroll back to the bottom.
- Colours come from the component classes below, which use the theme variables of
  `hybrid_tui.ui.theme.THEME_VARIABLE_DEFAULTS`: the host app must return those from
  `get_theme_variable_defaults` (otherwise Textual refuses the CSS at start-up).
- `add_events` costs O(new lines) and refreshes once; feed it in batches (`EventBatcher`).
"""

from __future__ import annotations

import asyncio
import re
from collections import deque
from collections.abc import Callable, Iterable
from typing import Any

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from textual.cache import LRUCache
from textual.events import Resize
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from hybrid_tui.agents.events import (
    AgentEvent,
    Exit,
    Notice,
    Text,
    Thinking,
    ToolCall,
    ToolResult,
)
from hybrid_tui.core.inert import drop_colours, inert

Line = tuple[str, str]
"""A display line: (style key, text). The style key names a component class `event-log--KEY`."""

LINE_CAP = 2_000
"""Longest display line kept, in characters; the rest is cut with `TRUNCATED`."""
TRUNCATED = " … [truncated]"
THINKING_LINES = 3
RESULT_LINES = 3

STYLE_KEYS = (
    "text",
    "raw",
    "thinking",
    "tool",
    "result",
    "error",
    "notice",
    "warning",
    "exit",
    "elided",
)

def _clean(text: str) -> str:
    """One physical line, safe to draw (`core.inert`: colours dropped, every other control
    shown as `\\xNN`), tabs expanded, capped in length."""
    if not text.isprintable():  # fast C check; the common case skips the regexes
        text = drop_colours(text)
        if "\t" in text:
            text = text.expandtabs(4)
        text = inert(text, one_line=True)
    if len(text) > LINE_CAP:
        text = text[:LINE_CAP] + TRUNCATED
    return text


def _head(text: str, keep: int) -> tuple[list[str], int]:
    """The first `keep` lines of `text` (outer newlines dropped) and how many more there are.

    Splits only as far as needed: a tool result can be a whole file."""
    if text[:1] == "\n":
        text = text.lstrip("\n")
    parts = text.split("\n", keep)
    more = 0
    if len(parts) > keep:
        rest = parts.pop().rstrip("\n")
        more = rest.count("\n") + 1 if rest else 0
    elif len(parts) > 1 and not parts[-1]:
        parts.pop()  # the text ended with a newline
    if "\r" in text:
        parts = [part.removesuffix("\r") for part in parts]
    return ([] if parts == [""] else parts), more


def _more(count: int) -> str:
    return f"… (+{count} line{'s' if count != 1 else ''})"


# Formatters append an event's display lines to `out` and return their one style key. Every
# line of an event shares its style, so the log keeps texts and keys in two flat sequences of
# strings: no tuple per line, which keeps a fast stream from feeding the garbage collector.


def _format_text(event: Text, out: list[str]) -> str:
    text = event.text
    if "\n" not in text and "\r" not in text:  # most lines: one physical line
        if text:
            out.append(_clean(text))
    else:
        out += map(_clean, text.strip("\n").splitlines())
    return "raw" if event.raw else "text"


def _format_thinking(event: Thinking, out: list[str]) -> str:
    lines = [line for line in event.text.splitlines() if line and not line.isspace()]
    if lines:
        out.append(_clean("thinking: " + lines[0]))
        for line in lines[1:THINKING_LINES]:
            out.append(_clean("          " + line))
        if len(lines) > THINKING_LINES:
            out.append("          " + _more(len(lines) - THINKING_LINES))
    return "thinking"


def _format_tool_call(event: ToolCall, out: list[str]) -> str:
    text = "▶ " + event.name
    if key_arg := event.key_arg:
        first, _, rest = key_arg.strip().partition("\n")
        text += "  " + first + (" …" if rest else "")
    out.append(_clean(text))
    return "tool"


_SYSTEM_TAG = re.compile(r"</?system>")


def _format_tool_result(event: ToolResult, out: list[str]) -> str:
    # Kimi wraps its status line in <system>...</system>: show the words, not the markup.
    text = _SYSTEM_TAG.sub("", event.text) if "<system>" in event.text else event.text
    lines, more = _head(text, RESULT_LINES)
    if not lines:
        out.append("  ⎿ (no output)")
    else:
        out.append(_clean("  ⎿ " + lines[0]))
        for line in lines[1:]:
            out.append(_clean("    " + line))
        if more:
            out.append("    " + _more(more))
    return "error" if event.is_error else "result"


_NOTICE_KEYS = {"info": "notice", "warning": "warning", "error": "error"}


def _format_notice(event: Notice, out: list[str]) -> str:
    first, *rest = event.text.strip("\n").splitlines() or [""]
    out.append(_clean("• " + first))
    out += [_clean("  " + line) for line in rest]
    return _NOTICE_KEYS.get(event.level, "notice")


def status_words(status: str, failure_kind: str | None) -> str:
    """A run's status with its failure kind in brackets, unless the kind only says the status
    again: `failed (transient)`, but `cancelled`, not `cancelled (cancelled)`."""
    if not failure_kind or failure_kind == status or (status, failure_kind) == ("timed_out", "timeout"):
        return status
    return f"{status} ({failure_kind})"


def _format_exit(event: Exit, out: list[str]) -> str:
    text = f"■ {status_words(event.status, event.failure_kind)}"
    if event.returncode is not None:
        text += f" · exit {event.returncode}"
    if message := event.message.strip():
        text += ": " + message.splitlines()[0]
    out.append(_clean(text))
    if not event.failure_kind:
        return "exit"
    return "warning" if event.failure_kind == "cancelled" else "error"


_FORMATTERS: dict[type, Callable[[Any, list[str]], str]] = {
    Text: _format_text,
    Thinking: _format_thinking,
    ToolCall: _format_tool_call,
    ToolResult: _format_tool_result,
    Notice: _format_notice,
    Exit: _format_exit,
}


def event_lines(event: AgentEvent) -> list[Line]:
    """The display lines of one event (none for an empty text), as (style key, text)."""
    texts: list[str] = []
    key = _FORMATTERS[type(event)](event, texts)
    return [(key, text) for text in texts]


class EventLog(ScrollView, can_focus=True):
    """A scrolling, bounded view of agent events, drawn line by line."""

    COMPONENT_CLASSES = {f"event-log--{key}" for key in STYLE_KEYS}

    DEFAULT_CSS = """
    EventLog {
        background: $surface;
        color: $foreground;
        overflow-x: hidden;
        overflow-y: auto;
        &:focus { background-tint: $foreground 5%; }
        & > .event-log--text { color: $foreground; }
        & > .event-log--raw { color: $event-raw; }
        & > .event-log--thinking { color: $event-thinking; text-style: italic; }
        & > .event-log--tool { color: $event-tool; text-style: bold; }
        & > .event-log--result { color: $event-result; }
        & > .event-log--error { color: $error; }
        & > .event-log--notice { color: $event-notice; }
        & > .event-log--warning { color: $warning; }
        & > .event-log--exit { color: $success; text-style: bold; }
        & > .event-log--elided { color: $text-muted; text-style: italic; }
    }
    """

    def __init__(
        self,
        *,
        max_lines: int = 5000,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        if max_lines < 1:
            raise ValueError("max_lines must be at least 1")
        super().__init__(name=name, id=id, classes=classes)
        self._max_lines = max_lines
        # Two parallel bounded sequences: the text of each line and its style key.
        self._lines: deque[str] = deque(maxlen=max_lines)
        self._keys: deque[str] = deque(maxlen=max_lines)
        self._total = 0  # lines ever added since the last clear
        self._follow = True  # the view is at the bottom: keep it there
        self._styles: dict[str, Style] | None = None
        self._strips: LRUCache[tuple[int, int], Strip] = LRUCache(1024)

    # -- content -------------------------------------------------------------------------

    @property
    def max_lines(self) -> int:
        """The most display lines kept (fixed at construction)."""
        return self._max_lines

    @property
    def dropped(self) -> int:
        """How many display lines fell off the top."""
        return self._total - len(self._lines)

    @property
    def line_count(self) -> int:
        """Rows of the view: kept lines plus the "earlier lines" row when lines were dropped."""
        return len(self._lines) + (1 if self._total > len(self._lines) else 0)

    def text_lines(self) -> list[str]:
        """Every row as plain text, top to bottom (for tests and copying)."""
        rows = list(self._lines)
        if self.dropped:
            rows.insert(0, self._elided_text())
        return rows

    def add_events(self, events: Iterable[AgentEvent]) -> None:
        """Append events: O(new lines), one refresh. Call on the app's thread."""
        texts: list[str] = []
        keys: list[str] = []
        formatters = _FORMATTERS
        for event in events:
            start = len(texts)
            key = formatters[type(event)](event, texts)
            keys += [key] * (len(texts) - start)
        if texts:
            self._append(texts, keys)

    def _append(self, texts: list[str], keys: list[str]) -> None:
        lines = self._lines
        old_dropped = self._total - len(lines)
        self._total += len(texts)
        if len(texts) > self._max_lines:
            texts, keys = texts[-self._max_lines :], keys[-self._max_lines :]
        lines.extend(texts)
        self._keys.extend(keys)
        dropped = self._total - len(lines)
        self.virtual_size = Size(0, self.line_count)
        if self._follow and not self.is_vertical_scrollbar_grabbed:
            self.scroll_end(animate=False, immediate=True, x_axis=False, force=True)
        elif dropped != old_dropped:
            # Rows moved up by the lines that fell off (less the new "earlier lines" row):
            # move the view with them so the user keeps reading the same lines.
            shift = (dropped - old_dropped) - (1 if old_dropped == 0 else 0)
            self.scroll_to(y=max(0, self.scroll_y - shift), animate=False, immediate=True, force=True)
        self.refresh()

    def clear(self) -> None:
        """Forget every line; the view follows the tail again."""
        self._lines.clear()
        self._keys.clear()
        self._total = 0
        self._strips.clear()
        self._follow = True
        self.virtual_size = Size(0, 0)
        self.scroll_to(y=0, animate=False, immediate=True, force=True)
        self.refresh()

    def _elided_text(self) -> str:
        return f"… {self.dropped:,} earlier lines in the transcript"

    # -- scrolling -----------------------------------------------------------------------

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        self._follow = round(new_value) >= self.max_scroll_y

    def on_resize(self, event: Resize) -> None:
        self._strips.clear()
        if self._follow:
            self.scroll_end(animate=False, immediate=True, x_axis=False, force=True)

    # -- drawing -------------------------------------------------------------------------

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._styles = None
        self._strips.clear()

    def _resolve_styles(self) -> dict[str, Style]:
        styles = {key: self.get_component_rich_style(f"event-log--{key}") for key in STYLE_KEYS}
        styles[""] = self.rich_style
        self._styles = styles
        return styles

    def render_line(self, y: int) -> Strip:
        row = self.scroll_offset.y + y
        width = self.scrollable_content_region.width  # without the scrollbar
        styles = self._styles or self._resolve_styles()
        if width <= 0:
            return Strip.blank(0)
        dropped = self._total - len(self._lines)
        if dropped:
            if row == 0:
                return self._strip(self._elided_text(), styles["elided"], width, styles[""])
            row -= 1
        if row >= len(self._lines):
            return Strip.blank(width, styles[""])
        key = (dropped + row, width)
        strip = self._strips.get(key)
        if strip is None:
            text = self._lines[row]
            strip = self._strip(text, styles[self._keys[row]], width, styles[""])
            self._strips[key] = strip
        return strip

    @staticmethod
    def _strip(text: str, style: Style, width: int, base: Style) -> Strip:
        """One row: the text in its style, cropped with "…" or padded to `width`."""
        cells = len(text) if text.isascii() else cell_len(text)
        if cells > width:
            if text.isascii():
                return Strip([Segment(text[: width - 1] + "…", style)], width)
            cropped = Strip([Segment(text, style)], cells).crop(0, width - 1)
            return Strip([*cropped, Segment("…", style)]).extend_cell_length(width, base)
        if cells == width:
            return Strip([Segment(text, style)], width)
        return Strip([Segment(text, style), Segment(" " * (width - cells), base)], width)


class EventBatcher:
    """Collects events from a fast producer and hands them to `sink` in batches.

    The first event after a flush schedules the next flush `interval` seconds later on the
    running asyncio loop, so the sink (e.g. `EventLog.add_events`) runs at most once per
    interval however fast lines arrive. Call `add` and `flush` from the event loop's thread
    (an async worker's `on_line` callback is); call `flush` once when the stream ends.
    """

    def __init__(
        self, sink: Callable[[list[AgentEvent]], None], *, interval: float = 1 / 30
    ) -> None:
        self._sink = sink
        self._interval = interval
        self._pending: list[AgentEvent] = []
        self._timer: asyncio.TimerHandle | None = None

    @property
    def pending(self) -> int:
        return len(self._pending)

    def add(self, events: list[AgentEvent]) -> None:
        if not events:
            return
        self._pending.extend(events)
        if self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(self._interval, self.flush)

    def flush(self) -> None:
        """Hand over everything pending now."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._pending:
            batch, self._pending = self._pending, []
            self._sink(batch)
