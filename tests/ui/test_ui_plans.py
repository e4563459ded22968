"""The Plans screen: the live list of Claude's plans and the Markdown preview.

Real git repositories and real plan files (from the corpus) in tmp; the watcher is the real
`watchfiles` one. Waiting is always on a condition (with a deadline), never a bare sleep.
"""

from __future__ import annotations

import os
import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from textual.color import Color
from textual.pilot import Pilot
from textual.widgets import Static

from hybrid_tui.config import Settings
from hybrid_tui.core.plan.advice import advise_plan_file
from hybrid_tui.core.runs import RunStore
from hybrid_tui.ui.app import make_app
from hybrid_tui.ui.plans.plan_list import BADGES, PlanList, format_age, format_size
from hybrid_tui.ui.plans.screen import PlansScreen, preview_chunks
from tests.support.pilot_plans import (
    NOW,
    RUN_ID,
    add_plan,
    claude_plans_dir,
    new_app,
    notifications,
    plans_screen,
    plans_shown,
    run,
    wait_until,
)
from tests.support.repos import CORPUS_PLANS

# -- helpers (the shared ones are in tests/support/pilot_plans.py) -------------------------------


def previewed(screen: PlansScreen) -> str:
    """The Markdown source the preview shows now."""
    return screen.query_one("#preview-markdown").source


def row_text(screen: PlansScreen, index: int) -> str:
    """What row `index` of the plan list shows, as plain text."""
    plan_list = screen.query_one(PlanList)
    return "".join(segment.text for segment in plan_list.render_line(index)).rstrip()


def badge_colour(screen: PlansScreen, index: int, badge: str) -> str | None:
    """The colour (hex) the badge of row `index` is drawn in."""
    for segment in screen.query_one(PlanList).render_line(index):
        if segment.text.strip() == badge and segment.style and segment.style.color:
            return segment.style.color.triplet.hex
    return None


def advice_text(screen: PlansScreen) -> str | None:
    """The advice line above the preview, or None when it is hidden."""
    line = screen.query_one("#preview-advice")
    return str(line.render()) if line.has_class("-shown") else None


@pytest.fixture
def three_plans() -> list[Path]:
    plans = claude_plans_dir()
    return [
        add_plan(plans, "01-fix-delete-types.md", age=3 * 60),
        add_plan(plans, "43-header-search.md", age=2 * 3600),
        add_plan(plans, "07-esp32-unsupported-codec.md", age=4 * 86400, name="completed/esp32-codec.md"),
        add_plan(plans, "48-monorepo-skeleton.md", age=9 * 86400),
    ]


# -- formatting ----------------------------------------------------------------------------------


def test_age_and_size_are_short() -> None:
    assert [format_age(s) for s in (-5, 0.4, 45, 180, 7200, 4 * 86400)] == ["now", "now", "45s", "3m", "2h", "4d"]
    assert [format_size(n) for n in (512, 1843, 5 * 1024 * 1024 // 2)] == ["512 B", "1.8 KB", "2.5 MB"]


def test_preview_chunks_cut_between_blocks_outside_code() -> None:
    text = (CORPUS_PLANS / "15-irc-infra-modernization.md").read_text(encoding="utf-8")
    chunks = preview_chunks(text, 120)
    assert "".join(chunks) == text and len(chunks) > 5
    done = 0
    for chunk in chunks[:-1]:
        lines = chunk.splitlines()
        assert len(lines) >= 120 and lines[-1].strip() == ""
        done += chunk.count("```")
        assert done % 2 == 0  # every fence opened so far is closed: no cut inside code
    assert preview_chunks("") == [""]
    assert preview_chunks("# a\n\nb\n", 1) == ["# a\n\n", "b\n"]


# -- snapshots -----------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [(80, 24), (60, 20)], ids=["80x24", "60x20"])
def test_snapshot_plans(snap_compare, repo: Path, three_plans: list[Path], size: tuple[int, int]) -> None:
    async def ready(pilot: Pilot) -> None:
        await plans_shown(pilot)

    assert snap_compare(new_app(repo), terminal_size=size, run_before=ready)


@pytest.mark.parametrize("size", [(80, 24), (60, 20)], ids=["80x24", "60x20"])
def test_snapshot_empty_missing_dir(snap_compare, repo: Path, size: tuple[int, int]) -> None:
    async def ready(pilot: Pilot) -> None:
        await plans_shown(pilot)

    assert snap_compare(new_app(repo), terminal_size=size, run_before=ready)


# -- behaviour -----------------------------------------------------------------------------------


def test_lists_newest_first_with_age_size_and_preview(repo: Path, three_plans: list[Path]) -> None:
    app = new_app(repo)

    async def body(pilot: Pilot) -> None:
        screen = await plans_shown(pilot)
        assert [p.path for p in screen.plans] == three_plans
        assert screen.selected_plan.path == three_plans[0]
        assert previewed(screen).startswith("# Fix Delete Types Not Working")
        header = str(screen.query_one("#plans-header").render())
        assert header == "project · plans: ~/.claude/plans ($CLAUDE_CONFIG_DIR/plans)"

        await pilot.press("j", "j")
        await wait_until(pilot, lambda: screen.shown_preview == three_plans[2], "the third plan's preview")
        assert previewed(screen).startswith("## RH-S3-21")
        await pilot.press("k")
        await wait_until(pilot, lambda: screen.shown_preview == three_plans[1], "the second plan's preview")
        await pilot.press("down")
        await wait_until(pilot, lambda: screen.shown_preview == three_plans[2], "down moves too")

    run(app, body)


def test_a_young_plans_age_keeps_counting(repo: Path) -> None:
    plans = claude_plans_dir()
    add_plan(plans, "43-header-search.md", age=2 * 3600)
    add_plan(plans, "01-fix-delete-types.md", age=12)
    now = [NOW]
    store = RunStore(Settings().resolved_state_dir(), clock=lambda: now[0], id_factory=lambda _: RUN_ID)
    app = make_app(Settings(), repo=repo, store=store, clock=lambda: now[0], watch_plans=False)

    async def body(pilot: Pilot) -> None:
        screen = await plans_shown(pilot)
        await pilot.press("j")  # the highlight on the second row, which must stay there
        assert row_text(screen, 0).endswith(" 12s") and row_text(screen, 1).endswith(" 2h")
        now[0] = NOW + timedelta(seconds=5)
        # A second later at most, "12s" reads "17s" (not a minute later).
        await wait_until(pilot, lambda: row_text(screen, 0).endswith(" 17s"), "the age to move on", 3)
        assert row_text(screen, 1).endswith(" 2h")
        assert screen.query_one(PlanList).highlighted == 1

    run(app, body)


def test_moving_on_while_a_long_plan_renders(repo: Path, three_plans: list[Path]) -> None:
    """The 1,600-line plan renders in pieces; moving to the next plan cancels the rest, and
    the preview then holds exactly the next plan (nothing of the long one appended)."""
    long = add_plan(claude_plans_dir(), "15-irc-infra-modernization.md", age=60)
    app = new_app(repo)

    async def body(pilot: Pilot) -> None:
        await wait_until(pilot, lambda: isinstance(app.screen, PlansScreen), "the plans screen")
        screen = plans_screen(app)
        await wait_until(pilot, lambda: screen.shown_preview == long, "the long plan's top")
        assert screen.plans[0].path == long
        await pilot.press("j")
        await wait_until(pilot, lambda: screen.shown_preview == three_plans[0] and screen.preview_complete,
                         "the next plan")
        assert previewed(screen) == three_plans[0].read_text(encoding="utf-8")

    run(app, body)


def test_a_preview_rendered_in_pieces_is_the_whole_plan(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Pieces of 8 lines: the blocks drawn are those of the plan rendered in one go."""
    import hybrid_tui.ui.plans.screen as plans_module

    monkeypatch.setattr(plans_module, "PREVIEW_CHUNK_LINES", 8)
    plan = add_plan(claude_plans_dir(), "43-header-search.md", age=60)
    text = plan.read_text(encoding="utf-8")
    assert len(preview_chunks(text, 8)) > 4
    app = new_app(repo)

    def blocks(markdown) -> list[tuple[str, str]]:  # noqa: ANN001
        return [(type(b).__name__, b.source or "") for b in markdown.children]

    async def body(pilot: Pilot) -> None:
        screen = await plans_shown(pilot)
        markdown = screen.query_one("#preview-markdown")
        pieces = blocks(markdown)
        await markdown.update(text)
        assert pieces == blocks(markdown) and len(pieces) > 10

    run(app, body)


def test_a_new_plan_file_shows_up_live(repo: Path, three_plans: list[Path]) -> None:
    app = new_app(repo, watch=True)

    async def body(pilot: Pilot) -> None:
        screen = await plans_shown(pilot)
        await wait_until(pilot, screen.watch_ready.is_set, "the watcher to listen")
        new = add_plan(claude_plans_dir(), "26-mark-all-read.md", age=0, name="fresh-plan.md")
        await wait_until(pilot, lambda: new in [p.path for p in screen.plans], "the new plan in the list")
        assert screen.plans[0].path == new  # newest first
        assert screen.query_one(PlanList).option_count == 5
        # The selection stays on the plan it was on.
        assert screen.selected_plan.path == three_plans[0]

        # Claude rewrites the selected plan: the preview follows without a key press.
        three_plans[0].write_text("# Fix Delete Types, take two\n\nNew approach.\n")
        await wait_until(pilot, lambda: "take two" in previewed(screen), "the rewritten plan in the preview")
        assert screen.selected_plan.title == "Fix Delete Types, take two"

    run(app, body)


def test_deleting_the_selected_plan_selects_its_neighbour(repo: Path, three_plans: list[Path]) -> None:
    app = new_app(repo, watch=True)

    async def body(pilot: Pilot) -> None:
        screen = await plans_shown(pilot)
        await wait_until(pilot, screen.watch_ready.is_set, "the watcher to listen")
        await pilot.press("j")
        await wait_until(pilot, lambda: screen.shown_preview == three_plans[1], "the second plan selected")

        three_plans[1].unlink()
        await wait_until(pilot, lambda: three_plans[1] not in [p.path for p in screen.plans], "the plan gone")
        assert screen.selected_plan.path == three_plans[2]  # the row that took its place
        await wait_until(pilot, lambda: screen.shown_preview == three_plans[2], "the neighbour's preview")
        assert previewed(screen).startswith("## RH-S3-21")

        # The last row goes: the highlight clamps to the new last row.
        await pilot.press("j")
        await wait_until(pilot, lambda: screen.selected_plan.path == three_plans[3], "the last plan")
        three_plans[3].unlink()
        await wait_until(pilot, lambda: len(screen.plans) == 2, "the last plan gone")
        assert screen.selected_plan.path == three_plans[2]

        # Every plan goes: the empty state.
        shutil.rmtree(claude_plans_dir())
        await wait_until(pilot, lambda: screen.has_class("-empty"), "the empty state")
        assert screen.plans == []
        assert "does not exist yet" in str(screen.query_one("#plans-empty").render())
        await pilot.press("d")  # nothing to delegate: a notice, no crash
        assert isinstance(app.screen, PlansScreen)

    run(app, body)


def test_a_plans_dir_created_later_is_picked_up(repo: Path) -> None:
    app = new_app(repo, watch=True)

    async def body(pilot: Pilot) -> None:
        screen = await plans_shown(pilot)
        assert screen.has_class("-empty")
        empty = str(screen.query_one("#plans-empty").render())
        assert "~/.claude/plans" in empty and "picked up when Claude creates it" in empty
        await wait_until(pilot, screen.watch_ready.is_set, "the watcher to listen")

        first = add_plan(claude_plans_dir(), "01-fix-delete-types.md", age=0)  # creates the dir too
        await wait_until(pilot, lambda: [p.path for p in screen.plans] == [first], "the first plan")
        assert not screen.has_class("-empty")
        await wait_until(pilot, lambda: screen.shown_preview == first, "its preview")

    run(app, body)


def test_an_unreadable_plan_shows_the_reason_in_the_preview(repo: Path) -> None:
    plans = claude_plans_dir()
    plans.mkdir(parents=True)
    broken = plans / "broken [wip].md"  # brackets: shown as text, not read as markup
    broken.write_bytes(b"# Title\x00\xff binary")
    os.utime(broken, (NOW.timestamp(), NOW.timestamp()))
    app = new_app(repo)

    async def body(pilot: Pilot) -> None:
        screen = await plans_shown(pilot)
        assert screen.selected_plan.title == "broken [wip]"  # binary: titled by its file name
        message = screen.query_one("#preview-message")
        assert message.display and message.has_class("-error")
        assert str(message.render()) == f"Cannot use plan {broken}: looks binary (a NUL byte at byte offset 7)"
        assert not screen.query_one("#preview-markdown").display

    run(app, body)


def test_each_plan_shows_its_advice_badge_and_the_selected_one_its_reason(
        repo: Path, three_plans: list[Path]) -> None:
    settings = Settings()
    expected = [advise_plan_file(path, settings.advice) for path in three_plans]
    assert {a.choice for a in expected} == {"claude", "kimi"}  # both badges are on screen
    app = new_app(repo, settings=settings)

    async def body(pilot: Pilot) -> None:
        screen = await plans_shown(pilot)
        for index, advice in enumerate(expected):
            badge = BADGES[advice.choice]
            assert screen.advice[three_plans[index]] == advice
            assert f" {badge} " in row_text(screen, index), row_text(screen, index)
        # The advice line above the preview follows the selection.
        assert advice_text(screen) == (
            "Advice: Delegate to Kimi — large change (6 file(s), ~90 lines): a precise spec saves "
            "Claude's tokens"
        )
        await pilot.press("j", "j")
        await wait_until(pilot, lambda: screen.shown_preview == three_plans[2], "the third plan")
        assert advice_text(screen) == f"Advice: Claude implements — {expected[2].reason}"
        # Badges take the theme's colours: Claude the accent, Kimi the primary; a new theme
        # redraws them.
        seen = set()
        for theme in ("hybrid-dark", "hybrid-light"):
            app.theme = theme
            await pilot.pause()
            variables = {name: Color.parse(app.theme_variables[name]).hex.lower() for name in ("primary", "accent")}
            assert badge_colour(screen, 0, "Kimi") == variables["primary"]
            assert badge_colour(screen, 3, "Claude") == variables["accent"]
            seen.add(tuple(variables.values()))
        assert len(seen) == 2  # the two themes differ, and the badges followed

    run(app, body, size=(120, 24))


def test_a_rewritten_plan_gets_fresh_advice_and_an_unreadable_one_none(repo: Path) -> None:
    plans = claude_plans_dir()
    big = add_plan(plans, "01-fix-delete-types.md", age=60)
    other = add_plan(plans, "43-header-search.md", age=120)
    broken = plans / "broken.md"
    broken.write_bytes(b"# Broken\x00\xff")
    os.utime(broken, (NOW.timestamp() - 300, NOW.timestamp() - 300))
    app = new_app(repo, watch=True)

    async def body(pilot: Pilot) -> None:
        screen = await plans_shown(pilot)
        await wait_until(pilot, screen.watch_ready.is_set, "the watcher to listen")
        assert [p.path for p in screen.plans] == [big, other, broken]
        assert screen.advice[big].choice == "kimi" and screen.advice[broken] is None
        assert row_text(screen, 2).split()[:1] == ["broken"] and "Kimi" not in row_text(screen, 2)
        assert "Claude" not in row_text(screen, 2)
        kept = screen.advice[other]

        # Claude rewrites the plan into a one-file fix: the badge and the reason follow.
        big.write_text("# Fix the typo\n\n## Changes\n\n### 1. `src/app.py`\nFix the typo in main().\n")
        await wait_until(pilot, lambda: screen.advised and screen.advice[big].choice == "claude",
                         "the new advice")
        assert " Claude " in row_text(screen, 0)
        assert advice_text(screen).startswith("Advice: Claude implements — small change (1 file(s)")
        assert screen.advice[other] is kept  # from the cache: not converted again

        await pilot.press("j", "j")
        await wait_until(pilot, lambda: screen.selected_plan.path == broken, "the broken plan")
        assert advice_text(screen) is None

    run(app, body, size=(120, 24))


def test_c_without_a_plan_says_so(repo: Path, state_dir: Path) -> None:
    app = new_app(repo)

    async def body(pilot: Pilot) -> None:
        await plans_shown(pilot)
        await pilot.press("c")
        assert "No plan selected: nothing for Claude to implement yet." in notifications(app)
        assert isinstance(app.screen, PlansScreen)
        assert not (state_dir / "runs").exists()  # nothing was started

    run(app, body)


def test_the_plan_list_can_be_hidden(repo: Path, three_plans: list[Path]) -> None:
    app = new_app(repo)

    async def body(pilot: Pilot) -> None:
        screen = await plans_shown(pilot)
        plan_list = screen.query_one(PlanList)
        assert screen.has_class("-narrow") and plan_list.region.width == 60
        await pilot.press("p")
        await pilot.pause()
        assert plan_list.display is False or plan_list.region.width == 0
        assert screen.query_one("#plan-preview").region.width == 60
        await pilot.press("ctrl+b")
        await pilot.pause()
        assert plan_list.region.width == 60 and plan_list.has_focus

    run(app, body, size=(60, 20))


def test_enter_and_d_open_the_spec_for_the_selected_plan(repo: Path, three_plans: list[Path]) -> None:
    from hybrid_tui.ui.spec.screen import SpecScreen

    app = new_app(repo)

    async def body(pilot: Pilot) -> None:
        screen = await plans_shown(pilot)
        await pilot.press("j", "enter")
        await wait_until(pilot, lambda: isinstance(app.screen, SpecScreen), "the spec screen")
        assert app.screen.plan.path == three_plans[1]
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is screen, "back to the plans")
        await pilot.press("d")
        await wait_until(pilot, lambda: isinstance(app.screen, SpecScreen), "the spec screen again")
        assert app.screen.plan.path == three_plans[1]

    run(app, body)


def test_the_users_keymap_rebinds_by_binding_id(repo: Path, three_plans: list[Path]) -> None:
    """[keys] in the config maps binding ids to keys (App.set_keymap), once settings load."""
    app = new_app(repo, settings=Settings(keys={"plans.toggle-list": "t"}))

    async def body(pilot: Pilot) -> None:
        screen = await plans_shown(pilot)
        await wait_until(pilot, lambda: app.startup_done, "the settings to load")
        await pilot.press("p")  # no longer bound
        await pilot.pause()
        assert not screen.has_class("-list-hidden")
        await pilot.press("t")
        await pilot.pause()
        assert screen.has_class("-list-hidden")

    run(app, body, size=(60, 20))


def test_a_plans_dir_from_the_config_file_is_named_in_the_header(repo: Path, tmp_path: Path, isolated_env: Path) -> None:
    plans = tmp_path / "configured"
    add_plan(plans, "01-fix-delete-types.md", age=60)
    (isolated_env / "config.toml").write_text(f'plans_dir = "{plans}"\n')
    app = make_app(repo=repo, watch_plans=False)  # reads the config file itself, as the command does

    async def body(pilot: Pilot) -> None:
        screen = await plans_shown(pilot)
        assert "(plans_dir in config.toml)" in str(screen.query_one("#plans-header", Static).render())
        assert [p.path for p in screen.plans] == [plans / "01-fix-delete-types.md"]

    run(app, body)


def test_a_plans_directory_outside_the_project_is_ignored_and_the_header_says_so(repo: Path, tmp_path: Path) -> None:
    add_plan(tmp_path / "outside", "01-fix-delete-types.md", age=60)  # ../outside: not followed
    kept = add_plan(claude_plans_dir(), "17-lightbox-button-align.md", age=30)
    (repo / ".claude").mkdir()
    (repo / ".claude" / "settings.json").write_text('{"plansDirectory": "../outside"}')
    app = new_app(repo)

    async def body(pilot: Pilot) -> None:
        screen = await plans_shown(pilot)
        header = str(screen.query_one("#plans-header", Static).render())
        assert header == ("project · plans: ~/.claude/plans ($CLAUDE_CONFIG_DIR/plans)"
                          " · a plansDirectory outside the project is ignored")
        assert [p.path for p in screen.plans] == [kept]

    run(app, body)
