"""The check-approval dialog in the TUI (issue 10): a spec's checks run only once the user has
seen them. ctrl+r lists them with their risks; y runs the agent and then them, s the agent
alone (the run records the checks as not approved), n nothing; the review's `c` asks again.
Real processes: the stand-in `kimi`, real git repositories, the real checks."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.pilot import Pilot

from hybrid_tui.config import Settings
from hybrid_tui.core.runs import RunStore, Status
from hybrid_tui.ui.dialogs.check_approval import CheckApprovalScreen
from hybrid_tui.ui.review.checks_panel import ChecksPanel
from hybrid_tui.ui.review.screen import ReviewScreen
from hybrid_tui.ui.run.screen import RunScreen
from tests.support.cli import standin_env, world
from tests.support.pilot import answer_checks, log_text
from tests.support.pilot_plans import (
    RUN_ID,
    claude_plans_dir,
    new_app,
    notifications,
    open_spec,
    run,
    wait_until,
)

RISKY = "find ~ -name '*.bak' -delete"
SAFE = "test -f README.md"


def write_plan(*checks: str) -> Path:
    plans = claude_plans_dir()
    plans.mkdir(parents=True, exist_ok=True)
    path = plans / "add-greeting.md"
    lines = ["# Add a greeting", "", "## Files", "- `hello.txt` (create): a greeting", "",
             "## Steps", '1. Create `hello.txt` holding "hello".', "", "## Verification"]
    path.write_text("\n".join(lines + [f"- `{c}`" for c in checks]) + "\n")
    return path


@pytest.fixture
def standin(monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in standin_env("kimi_success").items():
        monkeypatch.setenv(key, value)


def no_sandbox() -> Settings:
    """Snapshots say where the checks run: without a sandbox that line is the same everywhere."""
    return Settings.model_validate({"sandbox": "off"})


async def until_run_ended(pilot: Pilot, state_dir: Path) -> None:
    await wait_until(pilot, lambda: (state_dir / "runs" / RUN_ID / "run.json").exists()
                     and RunStore(state_dir).load(RUN_ID).status
                     not in (Status.PREPARING, Status.RUNNING, Status.VERIFYING), "the run to end", timeout=30)


@pytest.mark.parametrize("size", [(80, 24), (60, 20)], ids=["80x24", "60x20"])
def test_snapshot_check_approval_with_a_risky_check(snap_compare, repo: Path, size: tuple[int, int]) -> None:
    write_plan(SAFE, RISKY)

    async def ready(pilot: Pilot) -> None:
        await open_spec(pilot)
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, CheckApprovalScreen), "the dialog")
        await pilot.pause()

    assert snap_compare(new_app(repo, settings=no_sandbox()), terminal_size=size, run_before=ready)


def test_the_dialog_lists_each_check_with_its_risks_and_n_starts_nothing(repo: Path, state_dir: Path,
                                                                         standin: None) -> None:
    write_plan(SAFE, RISKY)
    app = new_app(repo, settings=no_sandbox())

    async def body(pilot: Pilot) -> None:
        spec = await open_spec(pilot)
        before = world(repo, state_dir)
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: isinstance(app.screen, CheckApprovalScreen), "the dialog")
        dialog: CheckApprovalScreen = app.screen  # type: ignore[assignment]
        shown = [str(w.render()) for w in dialog.query(".command, .risk")]
        assert shown[0] == f"$ {SAFE}" and shown[1] == f"$ {RISKY}"
        assert len(shown) > 2 and all(line.startswith("! ") for line in shown[2:])  # only the second is risky
        assert any("home" in line for line in shown[2:]) and any("delete" in line for line in shown[2:])
        assert "with your own permissions, no sandbox" in str(dialog.query_one("#where").render())
        assert str(dialog.query_one("#risky").render()).startswith("Read them before you approve: 1 of 2 ")
        await pilot.press("n")
        await wait_until(pilot, lambda: app.screen is spec, "the spec again")
        assert world(repo, state_dir) == before  # no run, no branch, no worktree

    run(app, body)


def test_s_runs_the_agent_and_skips_the_checks(repo: Path, state_dir: Path, standin: None) -> None:
    marker = Path.home() / "check-ran.txt"
    write_plan(SAFE, f"touch {marker}")
    app = new_app(repo, settings=no_sandbox())

    async def body(pilot: Pilot) -> None:
        await open_spec(pilot)
        await pilot.press("ctrl+r")
        await answer_checks(pilot, "s")
        await wait_until(pilot, lambda: isinstance(app.screen, RunScreen), "the run screen")
        await until_run_ended(pilot, state_dir)
        screen: RunScreen = app.screen  # type: ignore[assignment]
        await wait_until(pilot, lambda: screen.ended, "the run screen to see the end")
        assert "its 2 check(s) did not run: you did not approve them." in log_text(screen)
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, ReviewScreen), "the review")
        review: ReviewScreen = app.screen  # type: ignore[assignment]
        panel = review.query_one(ChecksPanel)
        assert panel.text().splitlines()[0] == "Checks · skipped: not approved · c runs them"

        # The review's c asks again; n leaves them unrun.
        await pilot.press("c")
        await answer_checks(pilot, "n")
        assert not review.checks_running and not marker.exists()

    run(app, body)
    stored = RunStore(state_dir).load(RUN_ID)
    assert (stored.status, stored.checks, stored.checks_skipped) == (Status.REVIEW, None, "not approved")
    assert not marker.exists()


def test_y_runs_exactly_the_approved_checks_after_the_agent(repo: Path, state_dir: Path, standin: None) -> None:
    write_plan(SAFE, "test -f hello.txt")
    app = new_app(repo, settings=no_sandbox())

    async def body(pilot: Pilot) -> None:
        await open_spec(pilot)
        await pilot.press("ctrl+r")
        assert await answer_checks(pilot, "y") == [SAFE, "test -f hello.txt"]
        await wait_until(pilot, lambda: isinstance(app.screen, RunScreen), "the run screen")
        await until_run_ended(pilot, state_dir)

    run(app, body)
    stored = RunStore(state_dir).load(RUN_ID)
    assert stored.checks_skipped is None
    assert [c.command for c in stored.checks or []] == [SAFE, "test -f hello.txt"]
    assert stored.checks is not None and stored.checks[0].ok  # README.md is in the repository


def test_a_spec_without_checks_runs_without_asking(repo: Path, state_dir: Path, standin: None) -> None:
    write_plan()
    app = new_app(repo, settings=no_sandbox())

    async def body(pilot: Pilot) -> None:
        spec = await open_spec(pilot)
        assert "Verification:" not in (spec.text or "")
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: isinstance(app.screen, (RunScreen, CheckApprovalScreen)), "the run screen")
        assert isinstance(app.screen, RunScreen)
        await until_run_ended(pilot, state_dir)

    run(app, body)
    assert RunStore(state_dir).load(RUN_ID).checks == []
    assert not any("approve" in m for m in notifications(app))


def test_the_review_asks_before_running_checks_again(repo: Path, state_dir: Path, standin: None) -> None:
    write_plan(SAFE)
    app = new_app(repo, settings=no_sandbox())

    async def body(pilot: Pilot) -> None:
        await open_spec(pilot)
        await pilot.press("ctrl+r")
        await answer_checks(pilot, "y")
        await wait_until(pilot, lambda: isinstance(app.screen, RunScreen), "the run screen")
        await until_run_ended(pilot, state_dir)
        screen: RunScreen = app.screen  # type: ignore[assignment]
        await wait_until(pilot, lambda: screen.ended, "the run screen to see the end")
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, ReviewScreen), "the review")
        review: ReviewScreen = app.screen  # type: ignore[assignment]
        await pilot.press("c")
        await wait_until(pilot, lambda: isinstance(app.screen, CheckApprovalScreen), "the dialog")
        dialog: CheckApprovalScreen = app.screen  # type: ignore[assignment]
        assert not dialog.allow_skip  # "without checks" means nothing here
        assert str(dialog.query_one("#where").render()).startswith("This check will run ")  # one check: singular
        await pilot.press("s")  # not offered: the dialog stays
        assert app.screen is dialog
        await pilot.press("y")
        await wait_until(pilot, lambda: app.screen is review, "the review again")
        log = state_dir / "runs" / RUN_ID / "checks.log"
        await wait_until(pilot, lambda: not review.checks_running and log.read_text().count("== checks of run") == 2,
                         "the second checks run")

    run(app, body)
    stored = RunStore(state_dir).load(RUN_ID)
    assert [(c.command, c.ok) for c in stored.checks or []] == [(SAFE, True)]
