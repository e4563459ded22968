"""The plans screen by project (issue 11): this repository's plans by default, every project's
with `a`, each labelled; `d` and `c` on another project's plan are refused before anything
opens. Real repositories, the real Claude Code transcript format (tests/support/transcripts.py),
one global plans directory."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.pilot import Pilot

from hybrid_tui.ui.plans.plan_list import PlanList
from hybrid_tui.ui.plans.screen import PlansScreen
from tests.support.pilot_plans import (
    add_plan,
    claude_plans_dir,
    new_app,
    notifications,
    plans_shown,
    run,
    wait_until,
)
from tests.support.repos import make_repo
from tests.support.transcripts import write_transcript


@pytest.fixture
def plans_of_two_projects(repo: Path, tmp_path: Path) -> dict[str, Path]:
    """Two plans of `repo`, one of the repository `other`, one of no known project."""
    other = make_repo(tmp_path / "other", {"README.md": "# other\n"})
    plans = claude_plans_dir()
    found = {
        "mine": add_plan(plans, "01-fix-delete-types.md", age=3 * 60),
        "theirs": add_plan(plans, "43-header-search.md", age=2 * 3600),
        "stray": add_plan(plans, "07-esp32-unsupported-codec.md", age=4 * 86400),
        "mine-too": add_plan(plans, "48-monorepo-skeleton.md", age=9 * 86400),
    }
    write_transcript(repo / "src", found["mine"], session="aaaaaaaa-0000-4000-8000-000000000001")
    write_transcript(repo, found["mine-too"], session="aaaaaaaa-0000-4000-8000-000000000002")
    write_transcript(other, found["theirs"], session="bbbbbbbb-0000-4000-8000-000000000001")
    return {**found, "other": other}


async def projects_shown(pilot: Pilot) -> PlansScreen:
    screen = await plans_shown(pilot)
    await wait_until(pilot, lambda: screen.projects_read, "the transcripts read")
    return await plans_shown(pilot)


def header(screen: PlansScreen) -> str:
    return str(screen.query_one("#plans-header").render())


@pytest.mark.parametrize("size", [(80, 24), (60, 20)], ids=["80x24", "60x20"])
def test_snapshot_this_repositorys_plans(snap_compare, repo: Path, plans_of_two_projects, size) -> None:
    async def ready(pilot: Pilot) -> None:
        await projects_shown(pilot)

    assert snap_compare(new_app(repo), terminal_size=size, run_before=ready)


@pytest.mark.parametrize("size", [(80, 24), (60, 20)], ids=["80x24", "60x20"])
def test_snapshot_every_projects_plans(snap_compare, repo: Path, plans_of_two_projects, size) -> None:
    async def ready(pilot: Pilot) -> None:
        screen = await projects_shown(pilot)
        await pilot.press("a")
        await wait_until(pilot, lambda: screen.show_all and len(screen.plans) == 4, "every project's plans")
        await plans_shown(pilot)

    assert snap_compare(new_app(repo), terminal_size=size, run_before=ready)


def test_a_shows_every_project_labelled_and_back(repo: Path, plans_of_two_projects) -> None:
    found = plans_of_two_projects
    app = new_app(repo)

    async def body(pilot: Pilot) -> None:
        screen = await projects_shown(pilot)
        assert [p.path for p in screen.plans] == [found["mine"], found["stray"], found["mine-too"]]
        assert header(screen).startswith("project · 1 plan of another project hidden (a shows it) · plans: ")
        await pilot.press("a")
        assert [p.path for p in screen.plans] == [found["mine"], found["theirs"], found["stray"], found["mine-too"]]
        plan_list = screen.query_one(PlanList)
        rows = [plan_list.get_option_at_index(i).prompt for i in range(plan_list.option_count)]
        assert [row.label for row in rows] == ["project", "other", "project unknown", "project"]
        assert header(screen).startswith("project · all projects (a: only this one) · plans: ")
        await pilot.press("a")
        assert len(screen.plans) == 3 and not screen.show_all

    run(app, body)


def test_delegating_another_projects_plan_is_refused_before_the_spec_opens(repo: Path, plans_of_two_projects) -> None:
    found = plans_of_two_projects
    app = new_app(repo)

    async def body(pilot: Pilot) -> None:
        screen = await projects_shown(pilot)
        await pilot.press("a", "j")
        assert screen.selected_plan is not None and screen.selected_plan.path == found["theirs"]
        for key in ("d", "c"):
            await pilot.press(key)
            await pilot.pause()
            assert isinstance(app.screen, PlansScreen)
        refusals = [m for m in notifications(app) if "this plan was written for" in m]
        assert len(refusals) == 2
        assert refusals[0] == (f"43-header-search.md: this plan was written for {found['other']} (Claude's session "
                               f"there), not for {repo}\nFix: Delegate it from that repository: cd {found['other']} "
                               "&& hybrid-tui")
        await pilot.press("k", "d")  # this repository's own plan opens as usual
        await wait_until(pilot, lambda: not isinstance(app.screen, PlansScreen), "the spec screen")

    run(app, body)


def test_a_plan_claude_writes_for_another_project_stays_out_of_this_list(repo: Path, plans_of_two_projects) -> None:
    found = plans_of_two_projects
    app = new_app(repo, watch=True)

    async def body(pilot: Pilot) -> None:
        screen = await projects_shown(pilot)
        await wait_until(pilot, lambda: screen.watch_ready.is_set(), "the watcher")
        # Claude plans in the other repository: its transcript first, then the plan file.
        late = claude_plans_dir() / "late-plan-brave-heron.md"
        write_transcript(found["other"], late, session="bbbbbbbb-0000-4000-8000-000000000002")
        late.write_text("# Plan: late\n\n1. Edit `README.md`.\n")
        await wait_until(pilot, lambda: late in [p.path for p in screen.listed_plans], "the new plan listed")
        assert late not in [p.path for p in screen.plans]
        assert header(screen).startswith("project · 2 plans of other projects hidden (a shows them) · ")

    run(app, body)


def test_a_plan_listed_before_its_transcript_names_it_leaves_this_list_once_it_does(
        repo: Path, plans_of_two_projects, monkeypatch: pytest.MonkeyPatch) -> None:
    import hybrid_tui.ui.plans.screen as plans_module

    monkeypatch.setattr(plans_module, "PROJECTS_RECHECK_TICKS", 1)  # every age tick (1 s)
    found = plans_of_two_projects
    app = new_app(repo, watch=True)

    async def body(pilot: Pilot) -> None:
        screen = await projects_shown(pilot)
        await wait_until(pilot, lambda: screen.watch_ready.is_set(), "the watcher")
        early = claude_plans_dir() / "early-plan-swift-lynx.md"
        early.write_text("# Plan: early\n\n1. Edit `README.md`.\n")  # the plan file first...
        await wait_until(pilot, lambda: early in [p.path for p in screen.plans], "the plan listed, project unknown")
        write_transcript(found["other"], early, session="bbbbbbbb-0000-4000-8000-000000000003")  # ...then its session
        await wait_until(pilot, lambda: early not in [p.path for p in screen.plans], "the plan known as other's")

    run(app, body)
