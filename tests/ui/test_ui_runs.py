"""The runs view (issue 14, point 1, first part): `f2` from any screen lists every run of this
repository with its state, agent, steps, time and checks, newest first; enter opens a run's
review. Real run records (one made by a real `hybrid-tui run` process, others written as the
CLI writes them), the real app under Pilot."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable

from hybrid_tui.config import Settings
from hybrid_tui.core.runs import CheckResult, Run, RunStore, Status
from hybrid_tui.ui.review.screen import ReviewScreen
from hybrid_tui.ui.runs.screen import RunsScreen
from tests.support.pilot_plans import new_app, plans_shown, run, wait_until
from tests.support.runs import make_run

STATUSES = [Status.RUNNING, Status.REVIEW, Status.ACCEPTED, Status.REJECTED, Status.FAILED, Status.TIMED_OUT,
            Status.CANCELLED, Status.INTERRUPTED]


def saved(repo: Path, run_id: str, status: Status, **changes: object) -> Run:
    fields: dict[str, object] = {
        "created_at": "2026-11-02T10:00:00+00:00", "started_at": "2026-11-02T10:00:00+00:00",
        "finished_at": None if status == Status.RUNNING else "2026-11-02T10:01:30+00:00",
        "steps": 6, "requests": 8 if status == Status.FAILED else 6, "owner_pid": os.getppid(),  # a live hybrid-tui, not this one
    }
    run = Run(id=run_id, title=f"Run that is {status.value}", repo_root=str(repo), spec_path="/s",
              branch=f"kimi/{run_id}", base_branch="main", base_sha="0" * 40, worktree=str(repo.parent / run_id),
              status=status, **(fields | changes))
    return RunStore(Settings().resolved_state_dir()).save(run)


@pytest.fixture
def every_status(repo: Path) -> list[Run]:
    checks = [CheckResult(command="pytest -q", exit_code=0, ok=True, seconds=1.0),
              CheckResult(command="ruff check .", exit_code=1, ok=False, seconds=0.5)]
    runs = [saved(repo, f"261102-1{n:02d}000-aa", status, checks=checks if status == Status.REVIEW else None,
                  checks_skipped="not approved" if status == Status.ACCEPTED else None)
            for n, status in enumerate(STATUSES)]
    saved(Path("/elsewhere/other-repo"), "261102-120000-zz", Status.REVIEW)  # another repository's: not listed
    return runs


async def runs_view(pilot: Pilot) -> RunsScreen:
    await plans_shown(pilot)
    await wait_until(pilot, lambda: pilot.app.recovery_done, "the start-up recovery")
    pilot.app.clear_notifications()  # its line is pinned by test_the_start_up_line_says_what_waits
    await pilot.press("f2")
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, RunsScreen) and pilot.app.screen.read, "the runs")
    await pilot.pause()
    return pilot.app.screen  # type: ignore[return-value]


def test_f2_lists_every_run_of_the_repository_newest_first(repo: Path, every_status: list[Run]) -> None:
    async def body(pilot: Pilot) -> None:
        screen = await runs_view(pilot)
        assert [r.id for r in screen.runs] == [r.id for r in reversed(every_status)]
        table = screen.query_one(DataTable)
        rows = [[str(cell) for cell in table.get_row_at(n)] for n in range(table.row_count)]
        by_id = {row[-1]: row for row in rows}
        assert by_id["261102-101000-aa"] == ["review", "Run that is review", "6", "1:30", "1/2", "kimi", "261102-101000-aa"]
        assert by_id["261102-104000-aa"][2] == "6+2" and by_id["261102-102000-aa"][4] == "skipped"
        assert [row[0] for row in reversed(rows)] == ["running", "review", "accepted", "rejected", "failed", "failed",
                                                       "stopped", "stopped"]
        assert "8 runs of project · 1 going · 1 in review" in str(screen.query_one("#runs-header").render())
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(pilot.app.screen, RunsScreen), "back")

    run(new_app(repo), body)


def test_enter_opens_a_runs_review_and_not_a_running_one(tmp_path: Path) -> None:
    repo, made, _ = make_run(tmp_path, {"a.txt": "one\n"}, [("WriteFile", {"path": "a.txt", "content": "two\n"})],
                             ["MODIFY a.txt"])
    saved(repo, "991231-235959-zz", Status.RUNNING)  # newest: the first row

    async def body(pilot: Pilot) -> None:
        screen = await runs_view(pilot)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(pilot.app.screen, RunsScreen)  # still going: no review yet
        await pilot.press("down", "enter")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, ReviewScreen), "the review")
        assert pilot.app.screen.run.id == made.id and screen.runs[1].id == made.id

    run(new_app(repo), body)


@pytest.mark.parametrize("size", [(80, 24), (60, 20)], ids=["80x24", "60x20"])
def test_snapshot_runs_view(snap_compare, repo: Path, every_status: list[Run], size: tuple[int, int]) -> None:
    assert snap_compare(new_app(repo), terminal_size=size, run_before=runs_view)


def test_snapshot_runs_view_empty(snap_compare, repo: Path) -> None:
    assert snap_compare(new_app(repo), terminal_size=(60, 20), run_before=runs_view)


def test_the_start_up_line_says_what_waits_and_what_recovery_found(repo: Path, every_status: list[Run]) -> None:
    orphan = saved(repo, "261102-130000-aa", Status.RUNNING, owner_pid=dead_pid())  # its hybrid-tui died

    async def body(pilot: Pilot) -> None:
        await plans_shown(pilot)
        await wait_until(pilot, lambda: pilot.app.recovery_done, "the start-up recovery")
        said = [n.message for n in pilot.app._notifications]
        assert said == ["1 run cut short when hybrid-tui stopped: marked interrupted, what the agent left kept · 1 in review · "
                        "1 still going (f2 lists every run)"]
        assert RunStore(Settings().resolved_state_dir()).load(orphan.id).status == Status.INTERRUPTED

    run(new_app(repo), body)


def test_nothing_is_said_at_start_up_without_runs(repo: Path) -> None:
    async def body(pilot: Pilot) -> None:
        await plans_shown(pilot)
        await wait_until(pilot, lambda: pilot.app.recovery_done, "the start-up recovery")
        assert list(pilot.app._notifications) == []

    run(new_app(repo), body)


def dead_pid() -> int:
    import subprocess

    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


def test_x_discards_a_run_keeping_its_tip_and_refuses_a_running_one(tmp_path: Path) -> None:
    from tests.support.repos import git

    repo, made, store = make_run(tmp_path, {"a.txt": "one\n"}, [("WriteFile", {"path": "a.txt", "content": "two\n"})],
                                 ["MODIFY a.txt"])
    tip = git(repo, "rev-parse", made.branch)
    saved(repo, "991231-235959-zz", Status.RUNNING)  # newest: the first row

    async def body(pilot: Pilot) -> None:
        screen = await runs_view(pilot)
        await pilot.press("x")  # the running one: refused, nothing asked
        await pilot.pause()
        assert isinstance(pilot.app.screen, RunsScreen)
        assert any("Not discarded: run 991231-235959-zz is still running" in str(n.message)
                   for n in pilot.app._notifications)
        await pilot.press("down", "x")
        from hybrid_tui.ui.dialogs.confirm import ConfirmScreen

        await wait_until(pilot, lambda: isinstance(pilot.app.screen, ConfirmScreen), "the question")
        await pilot.press("y")
        await wait_until(pilot, lambda: store.load(made.id).status == Status.REJECTED, "the run rejected")
        await wait_until(pilot, lambda: any(r.id == made.id and r.status == Status.REJECTED for r in screen.runs),
                         "the view read again")

    run(new_app(repo), body)
    assert git(repo, "rev-parse", f"refs/hybrid-tui/rejected/{made.id}") == tip
    assert git(repo, "branch", "--list", made.branch) == ""


def test_a_record_without_a_time_zone_is_read_as_utc(repo: Path) -> None:
    saved(repo, "261102-100000-aa", Status.REVIEW, started_at="2026-11-02T10:00:00", finished_at="2026-11-02T10:01:30")

    async def body(pilot: Pilot) -> None:
        screen = await runs_view(pilot)
        assert str(screen.query_one(DataTable).get_row_at(0)[3]) == "1:30"

    run(new_app(repo), body)
