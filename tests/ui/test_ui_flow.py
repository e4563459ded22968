"""End-to-end keyboard flows through the real app: plans -> spec -> run -> review -> land.

A real repository, a plans dir with one plan, the stand-in kimi on PATH replaying a stream
that creates hello.txt and edits src/app.py. The stand-in blocks on a FIFO after its second
line (KIMI_STANDIN_BLOCK_AFTER + KIMI_STANDIN_FIFO), so each test sees live events while the
agent process is still there, then releases it, cancels it, or quits.
"""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

import pytest
from textual.pilot import Pilot

from hybrid_tui.core.runs import Run, RunStore, Status
from hybrid_tui.ui.app import HybridApp
from hybrid_tui.ui.dialogs.confirm import ConfirmScreen
from hybrid_tui.ui.plans.screen import PlansScreen
from hybrid_tui.ui.review.diff_view import DiffView
from hybrid_tui.ui.review.screen import ReviewScreen
from hybrid_tui.ui.run.screen import RunScreen
from hybrid_tui.ui.spec.screen import SpecScreen
from tests.support.pilot import (
    RUN_ID,
    answer_checks,
    build_app,
    every_kind_stream,
    log_text,
    run_app,
    until,
    use_standin,
)
from tests.support.processes import process_alive, release
from tests.support.repos import git

PLAN = """\
# Add a greeting

## Context
The app needs a greeting file.

## Changes

### 1. `hello.txt`
Create it with a friendly line.

### 2. `src/app.py`
Return 2 instead of 1.

## Verification
- `test -f hello.txt`
"""


class Flow:
    """One app with a plan and a blocked stand-in, and the steps the tests share."""

    def __init__(self, repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.repo = repo
        self.fifo = tmp_path / "go.fifo"
        os.mkfifo(self.fifo)
        self.standin_log = tmp_path / "standin.log"
        plans = tmp_path / "plans"
        plans.mkdir()
        (plans / "add-greeting.md").write_text(PLAN)
        use_standin(monkeypatch, stream=every_kind_stream(tmp_path), KIMI_STANDIN_BLOCK_AFTER="2",
                    KIMI_STANDIN_FIFO=str(self.fifo), KIMI_STANDIN_LOG=str(self.standin_log))
        self.app: HybridApp = build_app(tmp_path, repo, plans_dir=plans)

    @property
    def agent_pid(self) -> int:
        return json.loads(self.standin_log.read_text().splitlines()[0])["pid"]

    def stored_run(self) -> Run:
        """The run as its record on disk says."""
        store = self.app.context.store
        assert store is not None
        return RunStore(store.root).load(RUN_ID)

    async def start_run(self, pilot: Pilot) -> RunScreen:
        """Select the plan, delegate, edit the spec's title, run; wait for the first live events."""
        app = self.app
        await until(pilot, lambda: isinstance(app.screen, PlansScreen) and app.screen.listed, "the plan list")
        plans: PlansScreen = app.screen  # type: ignore[assignment]
        assert [p.path.name for p in plans.plans] == ["add-greeting.md"]
        await pilot.press("d")
        await until(pilot, lambda: isinstance(app.screen, SpecScreen) and app.screen.text is not None, "the spec")
        spec: SpecScreen = app.screen  # type: ignore[assignment]
        assert spec.text is not None and spec.text.startswith("# Spec: 001 -- Add a greeting\n")
        await pilot.press("end", "space", "n", "o", "w")
        assert spec.text.startswith("# Spec: 001 -- Add a greeting now\n")
        await pilot.press("ctrl+r")
        await answer_checks(pilot)
        await until(pilot, lambda: isinstance(app.screen, RunScreen), "the run screen")
        screen: RunScreen = app.screen  # type: ignore[assignment]
        await until(pilot, lambda: "File successfully overwritten" in log_text(screen), "the first live events")
        assert "▶ WriteFile  hello.txt" in log_text(screen)
        assert process_alive(self.agent_pid) and not screen.ended
        assert screen.run.status == Status.RUNNING
        assert screen.run.title == "Add a greeting now"
        assert Path(screen.run.spec_path).read_text().startswith("# Spec: 001 -- Add a greeting now\n")
        return screen

    async def finish_and_review(self, pilot: Pilot, screen: RunScreen) -> ReviewScreen:
        await asyncio.to_thread(release, self.fifo)
        await until(pilot, lambda: screen.ended, "the run to end")
        assert not process_alive(self.agent_pid)
        assert screen.run.status == Status.REVIEW
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(self.app.screen, ReviewScreen), "the review screen")
        review: ReviewScreen = self.app.screen  # type: ignore[assignment]
        view = review.query_one(DiffView)
        await until(pilot, lambda: view.path == "hello.txt" and len(view.text_lines()) > 1, "the first diff")
        assert [f.path for f in review.files or []] == ["hello.txt", "src/app.py"]
        return review

    async def confirm(self, pilot: Pilot, key: str, answer: str) -> ConfirmScreen:
        await pilot.press(key)
        await until(pilot, lambda: isinstance(self.app.screen, ConfirmScreen), "the confirmation")
        dialog: ConfirmScreen = self.app.screen  # type: ignore[assignment]
        await pilot.press(answer)
        return dialog


@pytest.fixture
def flow(repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Flow:
    return Flow(repo, tmp_path, monkeypatch)


def test_plan_to_accepted_merge(flow: Flow, repo: Path) -> None:
    async def body(pilot: Pilot) -> None:
        screen = await flow.start_run(pilot)
        await flow.finish_and_review(pilot, screen)
        dialog = await flow.confirm(pilot, "a", "y")
        assert dialog.body_text.startswith(f"Merge {screen.run.branch} into main in project")
        await until(pilot, lambda: isinstance(flow.app.screen, PlansScreen), "the plans screen again")

    run_app(flow.app, body)
    assert flow.stored_run().status == Status.ACCEPTED
    assert (repo / "hello.txt").read_text() == "hello from Kimi\n"
    assert (repo / "src" / "app.py").read_text() == "def main():\n    return 2\n"
    assert git(repo, "status", "--porcelain") == ""
    assert git(repo, "log", "-1", "--format=%s") == "Merge kimi/261101-120000-ab-add-a-greeting-now: Add a greeting now"


def test_plan_to_rejected_run_keeps_the_tip(flow: Flow, repo: Path) -> None:
    tips: list[str] = []

    async def body(pilot: Pilot) -> None:
        screen = await flow.start_run(pilot)
        await flow.finish_and_review(pilot, screen)
        tips.append(git(repo, "rev-parse", screen.run.branch))
        await flow.confirm(pilot, "x", "y")
        await until(pilot, lambda: isinstance(flow.app.screen, PlansScreen), "the plans screen again")

    run_app(flow.app, body)
    assert flow.stored_run().status == Status.REJECTED
    assert git(repo, "rev-parse", f"refs/hybrid-tui/rejected/{RUN_ID}") == tips[0]
    assert git(repo, "branch", "--list", "kimi/*") == ""
    assert not (repo / "hello.txt").exists()


def test_cancel_asks_then_stops_the_agent_and_commits_its_work(flow: Flow, repo: Path) -> None:
    async def body(pilot: Pilot) -> None:
        screen = await flow.start_run(pilot)
        dialog = await flow.confirm(pilot, "x", "n")  # refusing keeps it running
        assert dialog.body_text == (
            f"Kimi is stopped; what it wrote so far is committed on {screen.run.branch}.")
        assert pilot.app.screen is screen and process_alive(flow.agent_pid) and not screen.ended
        await flow.confirm(pilot, "ctrl+x", "y")
        await until(pilot, lambda: screen.ended, "the run to end")
        assert not process_alive(flow.agent_pid)
        assert "■ cancelled" in log_text(screen)
        header = str(screen.query_one("#run-header").render())
        assert "· cancelled" in header and "(cancelled)" not in header  # said once
        # A cancelled run is reviewable: its branch holds what the agent wrote.
        assert screen.check_action("review", ()) is True
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(flow.app.screen, PlansScreen), "the plans screen again")

    run_app(flow.app, body)
    run = flow.stored_run()
    assert (run.status, run.failure_kind) == (Status.CANCELLED, "cancelled")
    assert git(repo, "show", f"{run.branch}:hello.txt") == "hello from Kimi"
    assert git(repo, "show", f"{run.branch}:src/app.py") == "def main():\n    return 1"  # not reached


def test_quit_while_running_asks_then_cancels_the_run(flow: Flow, repo: Path) -> None:
    async def body(pilot: Pilot) -> None:
        screen = await flow.start_run(pilot)
        dialog = await flow.confirm(pilot, "q", "n")  # stay
        assert dialog.title_text == "A run is going"
        assert pilot.app.screen is screen and pilot.app.return_code is None
        assert process_alive(flow.agent_pid)
        await flow.confirm(pilot, "q", "y")
        await until(pilot, lambda: pilot.app.return_code is not None, "the app to exit")
        # The app exited only once the agent was gone and the run's record written.
        assert not process_alive(flow.agent_pid)
        assert flow.stored_run().status == Status.CANCELLED

    run_app(flow.app, body)
    run = flow.stored_run()
    assert run.failure_kind == "cancelled"
    assert git(repo, "show", f"{run.branch}:hello.txt") == "hello from Kimi"


def test_an_exit_that_does_not_ask_still_cancels_the_run(flow: Flow, repo: Path) -> None:
    """Invariant 4: however the app closes cleanly, the agent is stopped and its work committed."""
    pids: list[int] = []

    async def body(pilot: Pilot) -> None:
        await flow.start_run(pilot)
        pids.append(flow.agent_pid)
        pilot.app.exit()

    run_app(flow.app, body)
    assert not process_alive(pids[0])
    run = flow.stored_run()
    assert (run.status, run.failure_kind) == (Status.CANCELLED, "cancelled")
    assert git(repo, "show", f"{run.branch}:hello.txt") == "hello from Kimi"


def test_quit_with_no_run_going_exits_at_once(flow: Flow) -> None:
    async def body(pilot: Pilot) -> None:
        await until(pilot, lambda: isinstance(flow.app.screen, PlansScreen), "the plans screen")
        await pilot.press("q")
        await until(pilot, lambda: pilot.app.return_code is not None, "the app to exit")

    run_app(flow.app, body)
