"""The live event pane: what each event kind draws, the line cap, tail following, batching."""

from __future__ import annotations

import asyncio
import gc
import tracemalloc
from collections.abc import Awaitable, Callable

import pytest
from textual.app import App, ComposeResult
from textual.color import Color
from textual.pilot import Pilot

from hybrid_tui.agents.events import (
    AgentEvent,
    Exit,
    Notice,
    Text,
    Thinking,
    ToolCall,
    ToolResult,
)
from hybrid_tui.ui.theme import THEME_VARIABLE_DEFAULTS, builtin_themes_dir, load_themes
from hybrid_tui.ui.widgets.event_log import (
    LINE_CAP,
    EventBatcher,
    EventLog,
    event_lines,
)
from tests.support.repos import AGENT_STREAMS

EVERY_KIND: list[AgentEvent] = [
    Notice("run 20261101-1200 started on kimi/20261101-1200-add-hello"),
    Thinking("The user wants a file.\nI should call WriteFile.\nThen list it.\nThen stop.\nDone."),
    Text("I'll create the file.\n\nThen I will list the directory."),
    ToolCall("call_1", "WriteFile", {"path": "hello.txt"}, key_arg="hello.txt"),
    ToolResult("call_1", "File successfully overwritten. Current size: 22 bytes."),
    ToolCall("call_2", "Shell", {"command": "ls -la && cat hello.txt"}, key_arg="ls -la && cat hello.txt"),
    ToolResult("call_2", "total 8\ndrwxr-xr-x 2 dev dev 4096 .\n-rw-r--r-- 1 dev dev 22 hello.txt\nhello"),
    ToolResult("call_3", "ERROR: command failed with exit code 2", is_error=True),
    Notice("Retrying in 2 s (429 Too Many Requests)", level="warning"),
    Text("Max number of steps reached: 1", raw=True),
    Text("x" * 120),
    Notice("worktree changed outside the run", level="error"),
    Exit(1, "failed", "max_steps", "Max number of steps reached: 1"),
]


def rows(*pairs: tuple[str, str]) -> list[tuple[str, str]]:
    return list(pairs)


class LogApp(App[None]):
    """The smallest host: the app variables, the bundled theme, one EventLog."""

    def __init__(self, max_lines: int = 5000) -> None:
        super().__init__()
        self.max_lines = max_lines
        self.animation_level = "none"  # key-driven scrolls land at once

    def get_theme_variable_defaults(self) -> dict[str, str]:
        return dict(THEME_VARIABLE_DEFAULTS)

    def compose(self) -> ComposeResult:
        yield EventLog(max_lines=self.max_lines)

    def on_mount(self) -> None:
        for theme in load_themes([builtin_themes_dir()])[0]:
            self.register_theme(theme)
        self.theme = "hybrid-dark"


def run(app: LogApp, body: Callable[[Pilot, EventLog], Awaitable[None]], size=(80, 24)) -> None:
    async def main() -> None:
        async with app.run_test(size=size) as pilot:
            await body(pilot, app.query_one(EventLog))

    asyncio.run(main())


def screen_rows(log: EventLog) -> list[str]:
    """What the pane draws now, row by row, through the real render path."""
    height = log.scrollable_content_region.height
    return [log.render_line(y).text.rstrip() for y in range(height)]


def colour(log: EventLog, y: int) -> str:
    """The foreground of row `y` as hex."""
    style = next(iter(log.render_line(y))).style
    assert style is not None and style.color is not None and style.color.triplet is not None
    return style.color.triplet.hex


def near(hex_colour: str, expected: str) -> bool:
    """Equal up to rounding (Textual's colour system may move a channel by one)."""
    a, b = Color.parse(hex_colour), Color.parse(expected)
    return max(abs(a.r - b.r), abs(a.g - b.g), abs(a.b - b.b)) <= 2


def numbered(start: int, stop: int) -> list[AgentEvent]:
    return [Text(f"line {n}") for n in range(start, stop)]


# -- what each kind becomes -------------------------------------------------------------


def test_each_kind_becomes_styled_lines() -> None:
    assert event_lines(Text("one\ntwo\n")) == rows(("text", "one"), ("text", "two"))
    assert event_lines(Text("")) == []
    assert event_lines(Text("not json {", raw=True)) == rows(("raw", "not json {"))
    assert event_lines(Thinking("a\n\nb\nc\nd\ne")) == rows(
        ("thinking", "thinking: a"),
        ("thinking", "          b"),
        ("thinking", "          c"),
        ("thinking", "          … (+2 lines)"),
    )
    assert event_lines(Thinking("  \n")) == []
    assert event_lines(ToolCall("1", "Shell", {}, key_arg="make test\nmake lint")) == rows(
        ("tool", "▶ Shell  make test …")
    )
    assert event_lines(ToolCall("1", "SetTodoList", {})) == rows(("tool", "▶ SetTodoList"))
    assert event_lines(ToolResult("1", "1\n2\n3\n4")) == rows(
        ("result", "  ⎿ 1"), ("result", "    2"), ("result", "    3"), ("result", "    … (+1 line)")
    )
    assert event_lines(ToolResult("1", "")) == rows(("result", "  ⎿ (no output)"))
    assert event_lines(ToolResult("1", "boom", is_error=True)) == rows(("error", "  ⎿ boom"))
    assert event_lines(Notice("hi")) == rows(("notice", "• hi"))
    assert event_lines(Notice("careful", level="warning")) == rows(("warning", "• careful"))
    assert event_lines(Notice("bad\nworse", level="error")) == rows(
        ("error", "• bad"), ("error", "  worse")
    )
    assert event_lines(Exit(0, "done")) == rows(("exit", "■ done · exit 0"))
    assert event_lines(Exit(-15, "cancelled", "cancelled")) == rows(
        ("warning", "■ cancelled · exit -15")  # the kind only says the status again
    )
    assert event_lines(Exit(None, "timed_out", "timeout", "no output for 300 s\nmore")) == rows(
        ("error", "■ timed_out: no output for 300 s")
    )
    assert event_lines(Exit(75, "failed", "transient")) == rows(("error", "■ failed (transient) · exit 75"))


def test_long_lines_are_cut_and_control_characters_made_safe() -> None:
    ((_, long),) = event_lines(Text("y" * (LINE_CAP + 500)))
    assert long == "y" * LINE_CAP + " … [truncated]"
    ((_, dirty),) = event_lines(Text("\x1b[31mred\x1b[0m\tcol\x07bell \x1b]0;title\x07 \x9b2J", raw=True))
    assert dirty == "red col\\x07bell \\x1b]0;title\\x07 \\x9b2J"  # colours dropped, the rest shown


# -- drawing --------------------------------------------------------------------------------


def test_every_kind_is_drawn_in_order() -> None:
    async def body(pilot: Pilot, log: EventLog) -> None:
        log.add_events(EVERY_KIND)
        await pilot.pause()
        expected = [text for event in EVERY_KIND for _, text in event_lines(event)]
        assert log.line_count == len(expected) == 21
        assert log.text_lines() == expected
        drawn = screen_rows(log)
        assert drawn[:21] == [line if len(line) <= 80 else line[:79] + "…" for line in expected]
        assert drawn[1] == "thinking: The user wants a file."
        assert drawn[8] == "▶ WriteFile  hello.txt"
        assert drawn[15] == "  ⎿ ERROR: command failed with exit code 2"
        assert drawn[18] == "x" * 79 + "…"  # cropped to the pane with a marker
        assert drawn[20] == "■ failed (max_steps) · exit 1: Max number of steps reached: 1"
        assert drawn[21:] == [""] * 3

    run(LogApp(), body)


def test_styles_come_from_the_theme() -> None:
    async def body(pilot: Pilot, log: EventLog) -> None:
        log.add_events([ToolCall("1", "Shell", {}, key_arg="ls"), ToolResult("1", "no", is_error=True)])
        await pilot.pause()
        assert colour(log, 0) == "#c49bf0"  # event-tool of hybrid-dark
        assert near(colour(log, 1), "#e06c75")  # its error colour
        pilot.app.theme = "hybrid-light"
        await pilot.pause()
        assert colour(log, 0) == "#8250df"
        assert near(colour(log, 1), "#c62f3b")

    run(LogApp(), body)


# -- bounded memory ------------------------------------------------------------------------


def test_cap_drops_old_lines_and_memory_stays_bounded() -> None:
    async def body(pilot: Pilot, log: EventLog) -> None:
        def add_batches(first: int, count: int) -> None:
            for start in range(first, first + count, 1000):
                log.add_events(numbered(start, start + 1000))

        add_batches(0, 10_000)
        await pilot.pause()
        gc.collect()
        tracemalloc.start()
        try:
            before = tracemalloc.get_traced_memory()[0]
            add_batches(10_000, 40_000)
            gc.collect()
            grown = tracemalloc.get_traced_memory()[0] - before
        finally:
            tracemalloc.stop()
        await pilot.pause()
        assert log.line_count <= 1001
        lines = log.text_lines()
        assert lines[0] == "… 49,000 earlier lines in the transcript"
        assert lines[1] == "line 49000" and lines[-1] == "line 49999"
        assert len(lines) == 1001
        # 40,000 more events through a full log: no growth beyond noise (a leak of even
        # one small object per line would be > 2 MB).
        assert grown < 400_000, grown
        assert screen_rows(log)[-1] == "line 49999"

    run(LogApp(max_lines=1000), body)


def test_batch_larger_than_the_cap() -> None:
    async def body(pilot: Pilot, log: EventLog) -> None:
        log.add_events(numbered(0, 250))
        await pilot.pause()
        assert log.text_lines() == ["… 150 earlier lines in the transcript"] + [
            f"line {n}" for n in range(150, 250)
        ]

    run(LogApp(max_lines=100), body)


# -- following the tail ----------------------------------------------------------------------


def test_follows_the_tail_while_at_the_bottom() -> None:
    async def body(pilot: Pilot, log: EventLog) -> None:
        log.add_events(numbered(0, 10))
        await pilot.pause()
        assert screen_rows(log)[:10] == [f"line {n}" for n in range(10)]
        for start in range(10, 200, 30):
            log.add_events(numbered(start, start + 30))
            await pilot.pause()
            assert screen_rows(log)[-1] == f"line {start + 29}"
            assert log.is_vertical_scroll_end

    run(LogApp(), body)


def test_a_scrolled_up_view_stays_put() -> None:
    async def body(pilot: Pilot, log: EventLog) -> None:
        log.add_events(numbered(0, 100))
        await pilot.pause()
        log.focus()
        await pilot.press("home")
        await pilot.pause()
        assert screen_rows(log)[0] == "line 0"
        log.add_events(numbered(100, 200))
        await pilot.pause()
        assert log.scroll_y == 0
        assert screen_rows(log)[0] == "line 0"
        # Back at the bottom, it follows again.
        await pilot.press("end")
        await pilot.pause()
        log.add_events(numbered(200, 210))
        await pilot.pause()
        assert screen_rows(log)[-1] == "line 209"

    run(LogApp(), body)


def test_a_scrolled_up_view_keeps_its_lines_while_old_ones_drop_off() -> None:
    async def body(pilot: Pilot, log: EventLog) -> None:
        log.add_events(numbered(0, 200))
        await pilot.pause()
        log.scroll_to(y=100, animate=False)
        await pilot.pause()
        top = screen_rows(log)[0]
        assert top.startswith("line ")
        log.add_events(numbered(200, 340))  # 40 lines drop off the top
        await pilot.pause()
        assert log.text_lines()[0] == "… 40 earlier lines in the transcript"
        assert screen_rows(log)[0] == top
        log.add_events(numbered(340, 350))  # 10 more
        await pilot.pause()
        assert screen_rows(log)[0] == top
        assert not log.is_vertical_scroll_end

    run(LogApp(max_lines=300), body)


def test_resizing_while_following_keeps_the_tail() -> None:
    async def body(pilot: Pilot, log: EventLog) -> None:
        log.add_events(numbered(0, 100))
        await pilot.pause()
        await pilot.resize_terminal(60, 10)
        await pilot.pause()
        assert screen_rows(log)[-1] == "line 99"
        log.add_events(numbered(100, 101))
        await pilot.pause()
        assert screen_rows(log)[-1] == "line 100"

    run(LogApp(), body)


def test_clear() -> None:
    async def body(pilot: Pilot, log: EventLog) -> None:
        log.add_events(numbered(0, 500))
        await pilot.pause()
        log.clear()
        await pilot.pause()
        assert log.line_count == 0 and log.text_lines() == []
        assert set(screen_rows(log)) == {""}
        log.add_events(numbered(0, 3))
        await pilot.pause()
        assert screen_rows(log)[:3] == ["line 0", "line 1", "line 2"]

    run(LogApp(max_lines=100), body)


def test_max_lines_must_be_positive() -> None:
    with pytest.raises(ValueError):
        EventLog(max_lines=0)


# -- batching --------------------------------------------------------------------------------


def test_batcher_hands_over_one_batch_per_interval() -> None:
    async def main() -> None:
        batches: list[list[AgentEvent]] = []
        delivered = asyncio.Event()

        def sink(events: list[AgentEvent]) -> None:
            batches.append(events)
            delivered.set()

        batcher = EventBatcher(sink, interval=0.05)
        batcher.add(numbered(0, 3))
        batcher.add([])
        batcher.add(numbered(3, 5))
        assert batches == [] and batcher.pending == 5
        await asyncio.wait_for(delivered.wait(), timeout=5)
        assert [[e.text for e in batch] for batch in batches] == [
            [f"line {n}" for n in range(5)]
        ]
        assert batcher.pending == 0
        # flush() hands over at once and cancels the pending timer.
        batcher.add(numbered(5, 6))
        batcher.flush()
        assert len(batches) == 2 and batches[1][0].text == "line 5"
        batcher.flush()
        assert len(batches) == 2

    asyncio.run(main())


def test_a_recorded_kimi_stream_through_a_real_pipe(tmp_path) -> None:
    """The run screen's path: a child process -> AgentProcess -> KimiParser -> EventBatcher."""
    from hybrid_tui.agents.base import Invocation
    from hybrid_tui.agents.kimi import KimiAgent
    from hybrid_tui.agents.process import AgentProcess
    from hybrid_tui.config import KimiSettings

    stream = AGENT_STREAMS / "kimi_thinking.jsonl"

    async def body(pilot: Pilot, log: EventLog) -> None:
        parser = KimiAgent(KimiSettings()).parser()
        batcher = EventBatcher(log.add_events)
        process = AgentProcess(
            Invocation(argv=["cat", str(stream)], cwd=tmp_path),
            timeout=30,
            transcript=tmp_path / "transcript.jsonl",
            stderr_log=tmp_path / "stderr.log",
        )
        outcome = await process.run(lambda line, truncated: batcher.add(parser.feed(line)))
        batcher.flush()
        await pilot.pause()
        assert outcome.returncode == 0
        replay = KimiAgent(KimiSettings()).parser()
        expected = [
            text
            for line in stream.read_text().splitlines()
            for event in replay.feed(line)
            for _, text in event_lines(event)
        ]
        assert log.text_lines() == expected
        assert "thinking: The user wants a file. I should call WriteFile." in expected
        assert "▶ WriteFile  think.txt" in expected
        assert screen_rows(log)[: len(expected)] == expected
        assert (tmp_path / "transcript.jsonl").read_bytes() == stream.read_bytes()

    run(LogApp(), body)


# -- snapshots --------------------------------------------------------------------------------


async def _fill(pilot: Pilot) -> None:
    pilot.app.query_one(EventLog).add_events(EVERY_KIND)
    await pilot.pause()


@pytest.mark.parametrize("size", [(80, 24), (60, 20)], ids=["80x24", "60x20"])
def test_snapshot_every_kind(snap_compare, size: tuple[int, int]) -> None:
    assert snap_compare(LogApp(), terminal_size=size, run_before=_fill)


def test_snapshot_capped_head(snap_compare) -> None:
    async def fill(pilot: Pilot) -> None:
        log = pilot.app.query_one(EventLog)
        log.add_events(numbered(0, 400))
        log.add_events(EVERY_KIND)
        await pilot.pause()
        log.focus()
        await pilot.press("home")
        await pilot.pause()

    assert snap_compare(LogApp(max_lines=100), terminal_size=(60, 20), run_before=fill)


def test_kimi_system_tags_are_not_drawn_but_the_event_keeps_them():
    event = ToolResult("c1", "<system>ERROR: no such file.</system>\nmore", is_error=True)
    assert event_lines(event) == rows(("error", "  ⎿ ERROR: no such file."), ("error", "    more"))
    assert event.text.startswith("<system>")
