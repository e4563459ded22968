"""Plans know their runs (issue 14, point 2): each plan shows the state of its latest run, and
delegating a plan whose run is going, in review or accepted asks first. Real run records in the
state dir (as `hybrid-tui run` writes them), real plan files, the real app under Pilot."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from textual.pilot import Pilot

from hybrid_tui.config import Settings
from hybrid_tui.core.plan.plan_runs import (
    STATE_WORDS,
    delegate_again_question,
    latest_runs,
)
from hybrid_tui.core.runs import Run, RunStore, Status
from hybrid_tui.ui.dialogs.confirm import ConfirmScreen
from hybrid_tui.ui.plans.plan_list import RUN_GLYPHS, PlanList
from hybrid_tui.ui.spec.screen import SpecScreen
from tests.support.pilot_plans import (
    add_plan,
    claude_plans_dir,
    new_app,
    plans_screen,
    plans_shown,
    run,
    wait_until,
)


def saved_run(repo: Path, plan: Path, run_id: str, status: Status) -> Run:
    run = Run(id=run_id, title=plan.stem, repo_root=str(repo), plan_path=str(plan), spec_path=str(plan),
              branch=f"kimi/{run_id}", base_branch="main", base_sha="0" * 40, worktree=str(repo.parent / run_id),
              status=status, created_at="2026-11-02T11:00:00+00:00", owner_pid=os.getpid())
    return RunStore(Settings().resolved_state_dir()).save(run)


@pytest.fixture
def plans_with_runs(repo: Path) -> list[Path]:
    plans = claude_plans_dir()
    listed = [add_plan(plans, "01-fix-delete-types.md", age=180), add_plan(plans, "43-header-search.md", age=7200),
              add_plan(plans, "06-add-spacing-action.md", age=86400), add_plan(plans, "48-monorepo-skeleton.md", age=9e5)]
    saved_run(repo, listed[0], "261102-100000-aa", Status.FAILED)
    saved_run(repo, listed[0], "261102-110000-aa", Status.REVIEW)  # the newer run counts
    saved_run(repo, listed[1], "261102-090000-aa", Status.RUNNING)
    saved_run(repo, listed[2], "261101-090000-aa", Status.ACCEPTED)
    return listed


def row_text(screen, index: int) -> str:
    return "".join(segment.text for segment in screen.query_one(PlanList).render_line(index)).rstrip()


async def runs_shown(pilot: Pilot):
    screen = await plans_shown(pilot)
    await wait_until(pilot, lambda: len(screen.runs) == 3 and pilot.app.recovery_done, "the plans' runs")
    pilot.app.clear_notifications()  # the start-up line (tests/ui/test_ui_runs.py)
    await pilot.pause()
    return screen


def test_the_latest_run_of_each_plan_and_what_it_asks() -> None:
    def make(run_id: str, plan: str | None, status: Status) -> Run:
        return Run(id=run_id, title="t", repo_root="/r", plan_path=plan, spec_path="/s", branch="kimi/x",
                   base_branch="main", base_sha="0" * 40, worktree="/w", status=status, created_at="c")

    runs = [make("2", "/p/a.md", Status.REJECTED), make("3", "/p/a.md", Status.REVIEW), make("1", None, Status.REVIEW)]
    assert {path.name: run.id for path, run in latest_runs(runs).items()} == {"a.md": "3"}
    asks = {status: delegate_again_question(make("9", "/p/a.md", status)) is not None for status in Status}
    assert {status for status, yes in asks.items() if yes} == {
        Status.PREPARING, Status.RUNNING, Status.VERIFYING, Status.REVIEW, Status.ACCEPTED}
    assert set(STATE_WORDS) == set(Status)


@pytest.mark.parametrize("wide", [True, False], ids=["60x20", "80x24"])
def test_each_plan_shows_the_state_of_its_latest_run(repo: Path, plans_with_runs: list[Path], wide: bool) -> None:
    async def body(pilot: Pilot) -> None:
        screen = await runs_shown(pilot)
        rows = [row_text(screen, index) for index in range(4)]
        if wide:  # a row with room has the words
            assert "review" in rows[0] and "failed" not in rows[0]
            assert "running" in rows[1] and "accepted" in rows[2]
            assert not any(word in rows[3] for word in STATE_WORDS.values())
        else:  # beside the preview, their signs; the line over the preview names the state
            assert [RUN_GLYPHS["review"] in rows[0], RUN_GLYPHS["running"] in rows[1], RUN_GLYPHS["accepted"] in rows[2]] == [True] * 3
            assert not any(glyph in rows[3] for glyph in RUN_GLYPHS.values())
            assert "Last run: review (261102-110000-aa)" in str(screen.query_one("#preview-advice").render())

    run(new_app(repo), body, size=(60, 20) if wide else (80, 24))


def test_delegating_a_plan_in_review_asks_first(repo: Path, plans_with_runs: list[Path]) -> None:
    async def body(pilot: Pilot) -> None:
        await runs_shown(pilot)
        await pilot.press("d")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, ConfirmScreen), "the question")
        assert "run 261102-110000-aa" in pilot.app.screen.body_text
        await pilot.press("n")
        await wait_until(pilot, lambda: not isinstance(pilot.app.screen, ConfirmScreen), "the question to go")
        plans_screen(pilot.app)  # still on the plans: nothing started
        await pilot.press("d")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, ConfirmScreen), "the question again")
        await pilot.press("y")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, SpecScreen), "the spec editor")

    run(new_app(repo), body)


def test_a_plan_whose_run_failed_is_delegated_without_a_question(repo: Path) -> None:
    plan = add_plan(claude_plans_dir(), "01-fix-delete-types.md", age=180)
    saved_run(repo, plan, "261102-100000-aa", Status.FAILED)

    async def body(pilot: Pilot) -> None:
        screen = await plans_shown(pilot)
        await wait_until(pilot, lambda: len(screen.runs) == 1, "the plan's run")
        await pilot.press("d")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, SpecScreen), "the spec editor")

    run(new_app(repo), body)


@pytest.mark.parametrize("size", [(80, 24), (60, 20)], ids=["80x24", "60x20"])
def test_snapshot_plans_with_runs(snap_compare, repo: Path, plans_with_runs: list[Path], size: tuple[int, int]) -> None:
    assert snap_compare(new_app(repo), terminal_size=size, run_before=runs_shown)


@pytest.mark.parametrize("size", [(80, 24), (60, 20)], ids=["80x24", "60x20"])
def test_snapshot_the_weeks_requests_in_the_header(snap_compare, repo: Path, size: tuple[int, int]) -> None:
    plan = add_plan(claude_plans_dir(), "01-fix-delete-types.md", age=180)
    store = RunStore(Settings().resolved_state_dir())
    for run_id, steps, requests in (("261102-100000-aa", 200, 212), ("261102-110000-aa", 100, 100)):
        run = saved_run(repo, plan, run_id, Status.REVIEW)
        run.steps, run.requests, run.started_at = steps, requests, "2026-11-02T10:00:00+00:00"
        store.save(run)

    async def ready(pilot: Pilot) -> None:
        screen = await plans_shown(pilot)
        await wait_until(pilot, lambda: screen.week_requests == 312 and pilot.app.recovery_done, "the week's requests")
        pilot.app.clear_notifications()
        await pilot.pause()
        assert "project · 312 / 2,048 requests this week · plans:" in str(screen.query_one("#plans-header").render())

    assert snap_compare(new_app(repo), terminal_size=size, run_before=ready)


@pytest.mark.parametrize(("used", "title"), [(2048, "The weekly request budget is used up"),
                                             (2000, "This run may cross the weekly budget")])
def test_a_run_near_or_over_the_weekly_budget_asks_first(repo: Path, used: int, title: str) -> None:
    from hybrid_tui.ui.dialogs.check_approval import CheckApprovalScreen
    from tests.support.pilot_plans import open_spec

    plan = add_plan(claude_plans_dir(), "01-fix-delete-types.md", age=180)
    run_before = saved_run(repo, plan, "261102-100000-aa", Status.REJECTED)  # rejected: no question on d
    run_before.steps = run_before.requests = used
    run_before.started_at = "2026-11-02T10:00:00+00:00"
    RunStore(Settings().resolved_state_dir()).save(run_before)

    async def body(pilot: Pilot) -> None:
        plans = await plans_shown(pilot)
        await wait_until(pilot, lambda: plans.week_requests == used, "the week's requests")
        screen = await open_spec(pilot)
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, ConfirmScreen), "the budget question")
        assert pilot.app.screen.title_text == title
        await pilot.press("n")
        await wait_until(pilot, lambda: pilot.app.screen is screen, "back on the spec")
        assert not screen.dispatching  # nothing started
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, ConfirmScreen), "the budget question again")
        await pilot.press("y")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, CheckApprovalScreen), "the checks' approval")

    run(new_app(repo), body)


def test_claude_implements_on_a_plan_in_review_asks_first(repo: Path, plans_with_runs: list[Path]) -> None:
    async def body(pilot: Pilot) -> None:
        await runs_shown(pilot)
        await pilot.press("c")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, ConfirmScreen), "the question")
        assert "has a run waiting in review" in pilot.app.screen.body_text
        await pilot.press("n")
        await wait_until(pilot, lambda: not isinstance(pilot.app.screen, ConfirmScreen), "the question to go")
        plans_screen(pilot.app)

    run(new_app(repo), body)
