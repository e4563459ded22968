"""The revise note modal and the Claude review panel: Pilot tests and snapshots (80x24, 60x20).

Both pieces take core objects (a `Run`, a `ClaudeReview`) and run nothing, so a small host app
with the bundled theme shows them; the records are built here with fixed values.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest
from textual.app import App, ComposeResult
from textual.pilot import Pilot
from textual.widgets import OptionList, Static, TextArea

from hybrid_tui.agents.process import AgentMissing
from hybrid_tui.core.review.claude_review import points_as_note
from hybrid_tui.core.runs import CheckResult, ClaudeReview, ReviewPoint, Run, Status
from hybrid_tui.ui.review.claude_panel import ClaudeReviewPanel
from hybrid_tui.ui.review.revise import ReviseScreen, revise_summary
from hybrid_tui.ui.theme import THEME_VARIABLE_DEFAULTS, builtin_themes_dir, load_themes
from tests.support.pilot import panel_text

SIZES = [(80, 24), (60, 20)]
SESSION = "2a47416c-43bf-46fd-8fe6-a29c47d04c27"


def make_run(**changes) -> Run:
    run = Run(
        id="261101-120000-ab", title="Add a greeting", repo_root="/repo", spec_path="/state/spec.md",
        branch="kimi/261101-120000-ab-add-a-greeting", base_branch="main", base_sha="1" * 40,
        worktree="/state/worktrees/261101-120000-ab", created_at="2026-11-01T12:00:00+00:00",
        status=Status.REVIEW, session_id=SESSION,
        checks=[CheckResult(command="python -m pytest tests", exit_code=1, ok=False, seconds=1.2),
                CheckResult(command="ruff check", exit_code=0, ok=True, seconds=0.3)],
    )  # fmt: skip
    return run.model_copy(update=changes)


REVIEW = ClaudeReview(
    verdict="request_changes",
    summary="hello.txt is there, but the empty case is not handled and has no test.",
    points=[
        ReviewPoint(file="src/app.py", line=12, problem="greet('') returns 'Hello, !': return 'Hello!' instead"),
        ReviewPoint(file="tests/test_app.py", problem="no test for the empty name"),
    ],
    reviewed_sha="2" * 40,
)


class Host(App[None]):
    """The smallest host: the app's theme variables and bundled theme, and an optional panel."""

    def __init__(self, panel: ClaudeReviewPanel | None = None) -> None:
        super().__init__()
        self.panel = panel
        self.selected: list[ReviewPoint] = []

    def get_theme_variable_defaults(self) -> dict[str, str]:
        return dict(THEME_VARIABLE_DEFAULTS)

    def compose(self) -> ComposeResult:
        yield Static("the diff would be here", id="diff")
        if self.panel is not None:
            yield self.panel

    def on_mount(self) -> None:
        for theme in load_themes([builtin_themes_dir()])[0]:
            self.register_theme(theme)
        self.theme = "hybrid-dark"

    def on_claude_review_panel_point_selected(self, event: ClaudeReviewPanel.PointSelected) -> None:
        self.selected.append(event.point)


def run_host(app: Host, body: Callable[[Pilot], Awaitable[None]], size=(80, 24)) -> None:
    async def main() -> None:
        async with app.run_test(size=size) as pilot:
            await body(pilot)

    asyncio.run(main())


async def open_revise(pilot: Pilot, screen: ReviseScreen, answers: list) -> None:
    await pilot.app.push_screen(screen, answers.append)
    await pilot.pause()
    screen.query_one(TextArea).cursor_blink = False


# -- the revise modal ----------------------------------------------------------------------


def test_the_note_is_sent_with_ctrl_s_and_escape_cancels() -> None:
    answers: list = []

    async def body(pilot: Pilot) -> None:
        screen = ReviseScreen(make_run())
        await open_revise(pilot, screen, answers)
        await pilot.press("ctrl+s")  # empty: not sent, the screen says why
        assert pilot.app.screen is screen and screen.query_one("#revise-error").has_class("-shown")
        for key in "the tests miss the empty case":
            await pilot.press("space" if key == " " else key)
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert pilot.app.screen is not screen
        await open_revise(pilot, ReviseScreen(make_run(), initial_note="keep me"), answers)
        await pilot.press("escape")
        await pilot.pause()

    run_host(Host(), body)
    assert answers == ["the tests miss the empty case", None]


def test_claude_points_come_prefilled_and_can_be_edited() -> None:
    answers: list = []

    async def body(pilot: Pilot) -> None:
        screen = ReviseScreen(make_run(), initial_note=points_as_note(REVIEW))
        await open_revise(pilot, screen, answers)
        assert screen.query_one(TextArea).text == points_as_note(REVIEW)
        await pilot.press("enter", "A", "l", "s", "o", "ctrl+s")
        await pilot.pause()

    run_host(Host(), body)
    assert answers == [points_as_note(REVIEW) + "\nAlso"]


def test_the_summary_says_resume_or_fresh_and_the_failing_checks() -> None:
    resume = revise_summary(make_run())
    assert "Kimi resumes its session [b]2a47416c[/b]" in resume
    assert "1 failing check(s) go along: `python -m pytest tests`" in resume and "ruff" not in resume
    fresh = revise_summary(make_run(session_id=None, checks=None, agent="claude"))
    assert fresh == "Claude starts a fresh session with the spec on [b]kimi/261101-120000-ab-add-a-greeting[/b]."


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_snapshot_revise_modal(snap_compare, size) -> None:
    async def run_before(pilot: Pilot) -> None:
        await open_revise(pilot, ReviseScreen(make_run(), initial_note=points_as_note(REVIEW)), [])

    assert snap_compare(Host(), terminal_size=size, run_before=run_before)


# -- the Claude review panel ---------------------------------------------------------------


def test_the_panel_shows_verdict_and_points_and_posts_the_chosen_point() -> None:
    panel = ClaudeReviewPanel()
    app = Host(panel)

    async def body(pilot: Pilot) -> None:
        assert panel_text(panel)[0] == "No Claude review yet." and panel.note() is None
        panel.show_pending()
        await pilot.pause()
        assert panel_text(panel)[0].startswith("Asking Claude to review")
        panel.show_review(REVIEW, tip="3" * 40)
        await pilot.pause()
        verdict, summary, points = panel_text(panel)
        assert verdict == "✗ Claude requests changes · 2 points (of 2222222, before the last changes)"
        assert summary == REVIEW.summary
        assert points == [
            "src/app.py:12  greet('') returns 'Hello, !': return 'Hello!' instead",
            "tests/test_app.py  no test for the empty name",
        ]
        assert panel.note() == points_as_note(REVIEW)
        options = panel.query_one(OptionList)
        options.focus()
        options.highlighted = 0
        await pilot.press("down", "enter")
        await pilot.pause()
        approved = ClaudeReview(verdict="approve", summary="Fine.", reviewed_sha="3" * 40)
        panel.show_review(approved, tip="3" * 40)
        await pilot.pause()
        assert panel_text(panel) == ("✓ Claude approves", "Fine.", [])
        assert panel.query_one("#claude-verdict").has_class("-approve")

    run_host(app, body)
    assert app.selected == [REVIEW.points[1]]


def test_claude_missing_is_said_with_the_fix() -> None:
    panel = ClaudeReviewPanel()

    async def body(pilot: Pilot) -> None:
        panel.show_error(AgentMissing("claude", "install Claude Code with npm"))
        await pilot.pause()
        verdict, summary, points = panel_text(panel)
        assert verdict == "Claude could not review" and points == []
        assert summary == "agent command 'claude': not found on PATH\nFix: install Claude Code with npm"
        assert panel.note() is None

    run_host(Host(panel), body)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_snapshot_review_panel(snap_compare, size) -> None:
    async def run_before(pilot: Pilot) -> None:
        await pilot.pause()

    assert snap_compare(Host(ClaudeReviewPanel(REVIEW)), terminal_size=size, run_before=run_before)
