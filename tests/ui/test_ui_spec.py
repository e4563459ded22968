"""The Spec screen: the converted spec in an editor, validated as the user types, then run.

Real git repositories, real corpus plans, the stand-in `kimi` on PATH for the one test that
runs. Waiting is always on a condition with a deadline.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import TextArea

from hybrid_tui.config import Settings, load_settings
from hybrid_tui.core.runs import RunStore, Status
from hybrid_tui.ui.plans.screen import PlansScreen
from hybrid_tui.ui.spec.screen import SpecScreen
from tests.support.cli import standin_env, world
from tests.support.e2e import write_config
from tests.support.pilot import answer_checks
from tests.support.pilot_plans import (
    NOW,
    RUN_ID,
    add_plan,
    claude_plans_dir,
    new_app,
    notifications,
    open_spec,
    plans_shown,
    run,
    wait_until,
)
from tests.support.repos import git, make_repo
from tests.support.servers.anthropic import ScriptedAnthropic, tool_use

FILES_LINE = "- CREATE supabase/migrations/020_cascade_delete_types.sql"


@pytest.fixture
def plan() -> Path:
    return add_plan(claude_plans_dir(), "01-fix-delete-types.md", age=180)


def editor(screen: SpecScreen) -> TextArea:
    return screen.query_one("#spec-editor", TextArea)


def line_of(screen: SpecScreen, text: str) -> int:
    """0-based row of the first editor line equal to `text`."""
    return editor(screen).text.split("\n").index(text)


async def type_at(pilot: Pilot, screen: SpecScreen, row: int, column: int, keys: list[str]) -> None:
    area = editor(screen)
    area.focus()
    area.cursor_location = (row, column)
    await pilot.press(*keys)


def problem_rows(screen: SpecScreen) -> list[str]:
    return [str(p) for p in screen.problems]


def status_text(screen: SpecScreen) -> str:
    status = screen.query_one("#spec-status")
    return str(status.render()) if status.display else ""


async def break_files_line(pilot: Pilot, screen: SpecScreen) -> int:
    """Type `../` into Task 1's CREATE path (an error: it escapes the repo); returns its line."""
    row = line_of(screen, FILES_LINE)
    await type_at(pilot, screen, row, len("- CREATE "), [".", ".", "/"])
    await wait_until(pilot, lambda: any(p.severity == "error" for p in screen.problems), "the error listed")
    return row + 1


# -- snapshots -----------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [(80, 24), (60, 20)], ids=["80x24", "60x20"])
def test_snapshot_spec_with_an_error(snap_compare, repo: Path, plan: Path, size: tuple[int, int]) -> None:
    async def ready(pilot: Pilot) -> None:
        screen = await open_spec(pilot)
        editor(screen).cursor_blink = False
        await break_files_line(pilot, screen)
        editor(screen).cursor_location = (0, 0)
        await pilot.press("f8")  # jump to the error's line
        await pilot.pause()

    assert snap_compare(new_app(repo), terminal_size=size, run_before=ready)


# -- behaviour -----------------------------------------------------------------------------------


def test_spec_converted_against_head(repo: Path, plan: Path) -> None:
    app = new_app(repo)
    sha = git(repo, "rev-parse", "--short=7", "HEAD")

    async def body(pilot: Pilot) -> None:
        screen = await open_spec(pilot)
        text = editor(screen).text
        assert text.startswith("# Spec: 001 -- Fix Delete Types Not Working\n\nSource: 01-fix-delete-types.md\n")
        assert f"Base: main@{sha}\n" in text
        assert FILES_LINE in text
        assert screen.problems == []
        assert str(screen.query_one("#spec-header").render()) == f"01-fix-delete-types.md → Kimi · base main@{sha}"
        assert status_text(screen) == ""

    run(app, body)


def test_validated_as_you_type_and_run_refused_while_in_error(repo: Path, plan: Path, state_dir: Path) -> None:
    app = new_app(repo)

    async def body(pilot: Pilot) -> None:
        screen = await open_spec(pilot)
        before = world(repo, state_dir)
        line = await break_files_line(pilot, screen)
        assert problem_rows(screen) == [
            f"line {line}: error: '../supabase/migrations/020_cascade_delete_types.sql' "
            "escapes the repository"
        ]
        assert screen.query_one("#spec-problems").border_title == "1 error"
        # Typing a `q` in the editor is text, not the app's quit key.
        await type_at(pilot, screen, 0, 0, ["q"])
        assert editor(screen).text.startswith("q# Spec:")
        await pilot.press("backspace")

        app.notify("An unrelated note", timeout=60)  # withdrawing the refusal leaves it
        await pilot.press("ctrl+r")
        assert isinstance(app.screen, SpecScreen)
        refusal = next(m for m in notifications(app) if m.startswith("Not run: 1 error in the spec. First: line"))
        assert refusal.endswith(" Fix it (f8 jumps to it), then ctrl+r.")
        assert world(repo, state_dir) == before  # nothing created

        # Fixing the line clears the problem, and takes back the "Not run" that no longer holds.
        await type_at(pilot, screen, line - 1, len("- CREATE ../"), ["backspace"] * 3)
        await wait_until(pilot, lambda: screen.problems == [], "the problems cleared")
        assert screen.query_one("#spec-problems").border_title == "No problems"
        await pilot.pause()
        assert not [m for m in notifications(app) if m.startswith("Not run")]
        await wait_until(pilot, lambda: "An unrelated note" in notifications(app), "the other note shown again")

    run(app, body)


def test_problems_jump_to_their_line(repo: Path, plan: Path) -> None:
    app = new_app(repo)

    async def body(pilot: Pilot) -> None:
        screen = await open_spec(pilot)
        line = await break_files_line(pilot, screen)
        area = editor(screen)
        area.cursor_location = (0, 0)
        await pilot.press("f8")
        assert area.cursor_location == (line - 1, 0) and area.has_focus

        area.cursor_location = (0, 0)
        await pilot.click("#spec-problems", offset=(2, 1))  # the first problem row
        await wait_until(pilot, lambda: area.cursor_location == (line - 1, 0), "the click to jump")
        assert area.has_focus

    run(app, body)


def test_ctrl_r_runs_the_edited_spec(repo: Path, plan: Path, state_dir: Path,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from hybrid_tui.ui.run.screen import RunScreen

    for key, value in standin_env("kimi_success").items():
        monkeypatch.setenv(key, value)
    app = new_app(repo)

    async def body(pilot: Pilot) -> None:
        screen = await open_spec(pilot)
        await type_at(pilot, screen, 0, len(editor(screen).text.split("\n")[0]), list(" now"))
        row = line_of(screen, "- Update `UseObjectTypesReturn` interface")
        await type_at(pilot, screen, row, 2, list("Also "))
        edited = editor(screen).text
        assert edited.startswith("# Spec: 001 -- Fix Delete Types Not Working now\n")
        assert "- Also Update `UseObjectTypesReturn` interface\n" in edited

        await pilot.press("ctrl+r")
        await answer_checks(pilot)  # the spec's checks, approved
        await wait_until(pilot, lambda: isinstance(app.screen, RunScreen), "the run screen")
        spec_md = RunStore(state_dir).spec_path(RUN_ID)
        assert spec_md.read_text(encoding="utf-8") == edited
        stored = RunStore(state_dir).load(RUN_ID)
        assert stored.title == "Fix Delete Types Not Working now"
        assert stored.plan_path == str(plan)
        assert plan not in app.screen_stack[1].drafts  # the draft went with the run
        # Let the stand-in finish so that nothing is left running when the app exits.
        await wait_until(pilot, lambda: RunStore(state_dir).load(RUN_ID).status
                         not in (Status.PREPARING, Status.RUNNING, Status.VERIFYING), "the run to end", timeout=30)
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, PlansScreen), "back to the plans")

    run(app, body)


def test_a_missing_agent_is_a_notification_and_changes_nothing(repo: Path, plan: Path, state_dir: Path) -> None:
    settings = Settings.model_validate({"agents": {"kimi": {"command": ["kimi-not-installed-here"]}}})
    app = new_app(repo, settings=settings)

    async def body(pilot: Pilot) -> None:
        screen = await open_spec(pilot)
        before = world(repo, state_dir)
        await pilot.press("ctrl+r")
        await answer_checks(pilot)  # the spec's checks, approved
        await wait_until(pilot, lambda: any("kimi-not-installed-here" in m for m in notifications(app)), "the notice")
        message = next(m for m in notifications(app) if "kimi-not-installed-here" in m)
        assert message.startswith("Not run: agent command 'kimi-not-installed-here': not found on PATH\n")
        assert app.screen is screen and not screen.dispatching
        assert world(repo, state_dir) == before

    run(app, body)


def test_not_a_git_repository(tmp_path: Path, plan: Path, state_dir: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    app = new_app(plain)

    async def body(pilot: Pilot) -> None:
        screen = await open_spec(pilot)
        assert status_text(screen).startswith(f"{plain}: not a git repository\n")
        assert editor(screen).text.startswith("# Spec: 001 -- Fix Delete Types Not Working")  # still readable
        await pilot.press("ctrl+r")
        await answer_checks(pilot)  # the spec's checks, approved
        await wait_until(pilot, lambda: any("not a git repository" in m for m in notifications(app)), "the notice")
        assert app.screen is screen
        assert not (state_dir / "runs").exists()

    run(app, body)


def test_detached_head_is_shown_and_refused(repo: Path, plan: Path, state_dir: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    from hybrid_tui.ui.run.screen import RunScreen

    for key, value in standin_env("kimi_success").items():
        monkeypatch.setenv(key, value)
    git(repo, "checkout", "-q", "--detach")
    sha = git(repo, "rev-parse", "--short=7", "HEAD")
    app = new_app(repo)

    async def body(pilot: Pilot) -> None:
        screen = await open_spec(pilot)
        assert f"HEAD is detached at {sha}" in status_text(screen)
        before = world(repo, state_dir)
        await pilot.press("ctrl+r")
        await answer_checks(pilot)  # the spec's checks, approved
        await wait_until(pilot, lambda: any("HEAD is detached" in m for m in notifications(app)), "the notice")
        assert app.screen is screen
        assert world(repo, state_dir) == before

        # Switched back to the branch, ctrl+r runs; the "Not run" is taken back, not left
        # showing over the Run screen.
        git(repo, "switch", "-q", "main")
        await pilot.press("ctrl+r")
        await answer_checks(pilot)  # the spec's checks, approved
        await wait_until(pilot, lambda: isinstance(app.screen, RunScreen), "the run screen")
        await pilot.pause()
        assert not [m for m in notifications(app) if m.startswith("Not run")]
        await wait_until(pilot, lambda: RunStore(state_dir).load(RUN_ID).status
                         not in (Status.PREPARING, Status.RUNNING, Status.VERIFYING), "the run to end", timeout=30)

    run(app, body)


def test_an_unreadable_plan_shows_why(repo: Path, state_dir: Path) -> None:
    plans = claude_plans_dir()
    plans.mkdir(parents=True)
    (plans / "empty.md").write_text("   \n")
    app = new_app(repo)

    async def body(pilot: Pilot) -> None:
        screen = await open_spec(pilot)
        assert "the file holds only whitespace" in status_text(screen)
        assert not screen.query("#spec-editor")
        await pilot.press("ctrl+r")
        assert any("the file holds only whitespace" in m for m in notifications(app))
        assert not (state_dir / "runs").exists()

    run(app, body)


def test_escape_keeps_the_edit_until_the_plan_changes(repo: Path, plan: Path) -> None:
    app = new_app(repo, watch=True)

    async def body(pilot: Pilot) -> None:
        screen = await open_spec(pilot)
        await type_at(pilot, screen, 0, len(editor(screen).text.split("\n")[0]), list(" v2"))
        edited = editor(screen).text
        await pilot.press("escape")
        plans = await plans_shown(pilot)
        assert plans.drafts[plan].text == edited

        again = await open_spec(pilot)
        assert again is not screen and editor(again).text == edited
        await pilot.press("escape")

        # Claude rewrites the plan: the edit is dropped and the plan converted afresh.
        await wait_until(pilot, plans.watch_ready.is_set, "the watcher")
        plan.write_text("# Fix Delete Types, second take\n\n## Changes\n\n### 1. `src/app.py`\nReturn 2.\n")
        await wait_until(pilot, lambda: plans.selected_plan.title == "Fix Delete Types, second take", "the rewrite")
        fresh = await open_spec(pilot)
        assert editor(fresh).text.startswith("# Spec: 001 -- Fix Delete Types, second take\n")
        assert any("changed since you edited its spec" in m for m in notifications(app))
        assert plan not in plans.drafts

    run(app, body)


def test_the_next_spec_number_follows_the_runs_of_this_repo(repo: Path, plan: Path, state_dir: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """The number comes from the store: a second project's runs do not count."""
    from hybrid_tui.agents.registry import make_agent
    from hybrid_tui.core.run.dispatch import prepare_run

    for key, value in standin_env("kimi_success").items():
        monkeypatch.setenv(key, value)
    other = make_repo(repo.parent / "other")
    store = RunStore(state_dir, clock=lambda: NOW)
    spec = "# Spec: 007 -- Seven\n\n## Tasks\n\n### Task 1: One\n\nFiles:\n- CREATE a.txt\n"
    prepare_run(store, repo, spec, make_agent("kimi", Settings()))
    prepare_run(store, other, spec.replace("007", "041"), make_agent("kimi", Settings()))
    app = new_app(repo)

    async def body(pilot: Pilot) -> None:
        screen = await open_spec(pilot)
        assert editor(screen).text.startswith("# Spec: 008 -- Fix Delete Types Not Working\n")

    run(app, body)


# -- convert with Claude (ctrl+l) ------------------------------------------------------------------


CLAUDE_ANSWER = {
    "title": "Fix delete types",
    "context": "Deleting a type fails.",
    "tasks": [
        {
            "title": "Cascade the delete",
            "files": [{"action": "MODIFY", "path": "src/app.py"}],
            "requirements": ["deleting a type deletes its objects"],
            "verification": ["pytest -q"],
        }
    ],
    "verification": ["pytest -q"],
}


def test_convert_with_claude_missing_keeps_the_spec_and_says_why(repo: Path, plan: Path, tmp_path: Path) -> None:
    from hybrid_tui.agents.claude import INSTALL_HINT

    empty = tmp_path / "bin"
    empty.mkdir()
    settings = Settings.model_validate({"agents": {"claude": {"env": {"PATH": str(empty)}}}})
    app = new_app(repo, settings=settings)

    async def body(pilot: Pilot) -> None:
        screen = await open_spec(pilot)
        before = editor(screen).text
        await pilot.press("ctrl+l")
        await wait_until(pilot, lambda: any(m.startswith("Kept the current spec") for m in notifications(app)),
                         "the fallback notification")
        message = next(m for m in notifications(app) if m.startswith("Kept the current spec"))
        assert message == ("Kept the current spec: Claude is not available: agent command 'claude': "
                           f"not found on PATH or not executable\n{INSTALL_HINT}")
        assert editor(screen).text == before and not screen.converting
        assert status_text(screen) == ""
        assert app.screen is screen

    run(app, body)


@pytest.mark.e2e
def test_convert_with_claude_replaces_the_spec(repo: Path, plan: Path, isolated_env: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """The real `claude` binary against the scripted server: its spec replaces the editor's."""
    for name in list(os.environ):
        if name.startswith(("ANTHROPIC_", "CLAUDE_CODE_")) or name in ("CLAUDECODE", "IS_SANDBOX"):
            monkeypatch.delenv(name)
    sha = git(repo, "rev-parse", "--short=7", "HEAD")
    expected = (
        f"# Spec: 001 -- Fix delete types\n\nSource: 01-fix-delete-types.md\nBase: main@{sha}\n\n"
        "## Context\nDeleting a type fails.\n\n## Tasks\n\n### Task 1: Cascade the delete [INDEPENDENT]\n\n"
        "Files:\n- MODIFY src/app.py\n\nRequirements:\n- deleting a type deletes its objects\n\n"
        "Verification:\n- `pytest -q`\n\n## Verification\n- `pytest -q`\n"
    )
    with ScriptedAnthropic([[tool_use("StructuredOutput", CLAUDE_ANSWER)]]) as server:
        write_config(isolated_env, server)
        app = new_app(repo, settings=load_settings())

        async def body(pilot: Pilot) -> None:
            screen = await open_spec(pilot)
            before = editor(screen).text
            await pilot.press("ctrl+l")
            assert screen.converting and status_text(screen).startswith("Converting the plan with Claude")
            await pilot.press("ctrl+r")  # refused while Claude works
            assert any(m == "Claude is converting the plan: wait for it." for m in notifications(app))
            await wait_until(pilot, lambda: not screen.converting, "Claude's answer", timeout=30)
            assert editor(screen).text == expected
            assert screen.problems == [] and status_text(screen) == ""
            assert any(m.startswith("Converted with Claude ($") and m.endswith(
                "): 1 task, 1 file. ctrl+z brings the previous spec back.") for m in notifications(app))
            editor(screen).focus()
            await pilot.press("ctrl+z")
            assert editor(screen).text == before

        run(app, body)
    assert len(server.turn_requests) == 1 and not server.problems
    assert server.turn_requests[0].cwd == str(repo)
