"""The Review screen: file list, lazy coloured diffs, accept/reject confirmations, git's refusals.

Each test finishes a real run first (the stand-in kimi replaying a stream that creates
hello.txt and edits src/app.py on the run's branch), then opens the review on the real app.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from textual.pilot import Pilot

from hybrid_tui.agents.registry import make_agent
from hybrid_tui.core.dispatch import RunExecution
from hybrid_tui.core.runs import Run, Status
from hybrid_tui.core.workspace import FileDiff
from hybrid_tui.ui.app import HybridApp
from hybrid_tui.ui.screens.confirm import ConfirmScreen
from hybrid_tui.ui.screens.review import ReviewScreen, file_prompt, totals
from hybrid_tui.ui.widgets.diff_view import DiffView, classify
from tests.conftest import git
from tests.helpers import checkout_fingerprint
from tests.test_ui_run import (
    RUN_ID,
    SIZES,
    build_app,
    every_kind_stream,
    prepare,
    run_app,
    until,
    use_standin,
)


def finished_run(app: HybridApp, repo: Path) -> Run:
    """A run that went all the way (outside the UI): its branch holds the agent's work."""
    prepared = prepare(app, repo)
    agent = make_agent("kimi", app.context.settings)
    assert app.context.store is not None
    execution = RunExecution(app.context.store, prepared.run, agent, timeout=30, on_events=lambda events: None)
    run = asyncio.run(execution.start())
    assert run.status == Status.REVIEW
    return run


@pytest.fixture
def reviewed(repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[HybridApp, Run]:
    use_standin(monkeypatch, stream=every_kind_stream(tmp_path))
    app = build_app(tmp_path, repo)
    return app, finished_run(app, repo)


async def open_review(pilot: Pilot, run: Run) -> ReviewScreen:
    await until(pilot, lambda: len(pilot.app.screen_stack) >= 2, "the plans screen")
    screen = ReviewScreen(run)
    await pilot.app.push_screen(screen)
    await until_diff(pilot, screen, "hello.txt")
    return screen


async def until_diff(pilot: Pilot, screen: ReviewScreen, path: str) -> None:
    view = screen.query_one(DiffView)
    await until(pilot, lambda: view.path == path and view.line_kinds()[:1] == ["meta"], f"the diff of {path}")
    await pilot.pause()


def message_text(screen: ReviewScreen) -> str | None:
    message = screen.query_one("#review-message")
    return str(message.render()) if message.has_class("-shown") else None


# -- snapshots -----------------------------------------------------------------------------


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_snapshot_review_two_files(snap_compare, reviewed, size) -> None:
    app, run = reviewed

    async def run_before(pilot: Pilot) -> None:
        await open_review(pilot, run)

    assert snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_snapshot_reject_confirmation(snap_compare, reviewed, size) -> None:
    app, run = reviewed

    async def run_before(pilot: Pilot) -> None:
        await open_review(pilot, run)
        await pilot.press("x")
        await until(pilot, lambda: isinstance(pilot.app.screen, ConfirmScreen), "the confirmation")

    assert snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_snapshot_accept_refused_by_git(snap_compare, reviewed, repo: Path, size) -> None:
    app, run = reviewed
    git(repo, "switch", "-q", "-c", "elsewhere")

    async def run_before(pilot: Pilot) -> None:
        screen = await open_review(pilot, run)
        await pilot.press("a", "y")
        await until(pilot, lambda: message_text(screen) is not None, "the refusal")

    assert snap_compare(app, terminal_size=size, run_before=run_before)


# -- behaviour -----------------------------------------------------------------------------


def test_files_with_counts_and_each_diff_loaded_when_selected(reviewed) -> None:
    app, run = reviewed

    async def body(pilot: Pilot) -> None:
        screen = await open_review(pilot, run)
        assert [(f.path, f.status, f.added, f.removed) for f in screen.files or []] == [
            ("hello.txt", "added", 1, 0), ("src/app.py", "modified", 1, 1)]
        header = str(screen.query_one("#review-header").render())
        assert run.title in header and f"{run.branch} → main@{run.base_sha[:7]}" in header
        assert "2 files, +2 -1" in header and "review" in header
        view = screen.query_one(DiffView)
        assert view.text_lines()[-2:] == ["@@ -0,0 +1 @@", "+hello from Kimi"]
        assert view.line_kinds()[-2:] == ["hunk", "added"]

        await pilot.press("j")
        await until_diff(pilot, screen, "src/app.py")
        lines, kinds = view.text_lines(), view.line_kinds()
        assert [(k, t) for k, t in zip(kinds, lines) if k in ("added", "removed")] == [
            ("removed", "-    return 1"), ("added", "+    return 2")]
        await pilot.press("k")
        await until_diff(pilot, screen, "hello.txt")
        await pilot.press("down")
        await until_diff(pilot, screen, "src/app.py")
        await pilot.press("escape")
        assert pilot.app.screen is not screen

    run_app(app, body)


def test_accept_asks_exactly_then_merges_and_returns_to_the_plans(reviewed, repo: Path, state_dir: Path) -> None:
    app, run = reviewed

    async def body(pilot: Pilot) -> None:
        screen = await open_review(pilot, run)
        await pilot.press("a")
        await until(pilot, lambda: isinstance(pilot.app.screen, ConfirmScreen), "the confirmation")
        confirm: ConfirmScreen = pilot.app.screen  # type: ignore[assignment]
        assert confirm.body_text == (
            f"Merge {run.branch} into main in project (git merge --no-ff). "
            "The worktree and the branch are removed afterwards.")
        await pilot.press("n")  # refusing changes nothing
        assert pilot.app.screen is screen and run.status == Status.REVIEW
        await pilot.press("a", "enter")
        await until(pilot, lambda: len(pilot.app.screen_stack) == 2, "the plans screen again")
        assert type(pilot.app.screen).__name__ == "PlansScreen"

    run_app(app, body)
    assert run.status == Status.ACCEPTED
    assert (repo / "hello.txt").read_text() == "hello from Kimi\n"
    assert git(repo, "status", "--porcelain") == ""
    assert git(repo, "branch", "--list", run.branch) == ""
    assert not (state_dir / "worktrees" / RUN_ID).exists()


def test_reject_says_which_tip_is_kept(reviewed, repo: Path) -> None:
    app, run = reviewed
    tip = git(repo, "rev-parse", run.branch)

    async def body(pilot: Pilot) -> None:
        await open_review(pilot, run)
        await pilot.press("x")
        await until(pilot, lambda: isinstance(pilot.app.screen, ConfirmScreen), "the confirmation")
        assert pilot.app.screen.body_text == (  # type: ignore[attr-defined]
            f"Delete branch {run.branch} and its worktree. "
            f"Its tip {tip[:7]} is kept as refs/hybrid-tui/rejected/{RUN_ID}.")
        await pilot.press("y")
        await until(pilot, lambda: len(pilot.app.screen_stack) == 2, "the plans screen again")

    run_app(app, body)
    assert run.status == Status.REJECTED
    assert git(repo, "rev-parse", f"refs/hybrid-tui/rejected/{RUN_ID}") == tip
    assert git(repo, "branch", "--list", run.branch) == ""


async def refused_accept(pilot: Pilot, run: Run) -> tuple[ReviewScreen, str]:
    """Open the review, accept, confirm; wait for the refusal in the message area."""
    screen = await open_review(pilot, run)
    await pilot.press("a", "y")
    await until(pilot, lambda: message_text(screen) is not None, "the refusal")
    assert pilot.app.screen is screen and not screen.busy
    return screen, message_text(screen) or ""


def test_refusal_for_local_changes_is_shown_with_its_fix_then_accept_works(reviewed, repo: Path) -> None:
    app, run = reviewed
    (repo / "hello.txt").write_text("my own hello\n")  # an untracked file the run also creates
    before = checkout_fingerprint(repo)
    tip = git(repo, "rev-parse", run.branch)

    async def body(pilot: Pilot) -> None:
        _, text = await refused_accept(pilot, run)
        assert "Local changes in project touch files the run changed: hello.txt" in text
        assert "Fix: Commit or stash them (git stash -u), then accept again." in text
        assert str(repo) not in text
        assert checkout_fingerprint(repo) == before and run.status == Status.REVIEW
        # Fixed by hand, the same screen accepts.
        (repo / "hello.txt").unlink()
        await pilot.press("a", "y")
        await until(pilot, lambda: len(pilot.app.screen_stack) == 2, "the plans screen again")

    run_app(app, body)
    assert run.status == Status.ACCEPTED
    assert git(repo, "rev-parse", "HEAD^2") == tip


def test_refusal_for_another_branch_leaves_the_checkout_alone(reviewed, repo: Path) -> None:
    app, run = reviewed
    git(repo, "switch", "-q", "-c", "elsewhere")
    before = checkout_fingerprint(repo)

    async def body(pilot: Pilot) -> None:
        _, text = await refused_accept(pilot, run)
        assert "project has branch elsewhere checked out, but the run's base branch is main." in text
        assert "Fix: Run `git switch main` in project, then accept again." in text

    run_app(app, body)
    assert checkout_fingerprint(repo) == before
    assert run.status == Status.REVIEW and git(repo, "branch", "--list", run.branch).strip()


# -- pieces --------------------------------------------------------------------------------


def test_classify_marks_headers_hunks_and_changes() -> None:
    diff = [
        "diff --git a/a.txt b/a.txt", "index 1..2 100644", "--- a/a.txt", "+++ b/a.txt",
        "@@ -1,2 +1,2 @@", " same", "-old", "+new", "\\ No newline at end of file",
        "diff --git a/b.bin b/b.bin", "Binary files a/b.bin and b/b.bin differ",
    ]
    assert classify(diff) == [
        "meta", "meta", "meta", "meta", "hunk", "context", "removed", "added", "meta", "meta", "meta"]


def test_file_rows_show_status_counts_and_binary() -> None:
    files = [
        FileDiff("new.py", "added", 3, 0),
        FileDiff("logo.png", "modified", None, None),
        FileDiff("b.py", "renamed", 1, 1, old_path="a.py"),
    ]
    assert file_prompt(files[0]).startswith("[b]A[/b] [$diff-added]+3[/] [$diff-removed]-0[/]")
    assert "[$text-muted]bin[/]" in file_prompt(files[1])
    assert file_prompt(files[2]).endswith("a.py → b.py")
    assert totals(files) == "3 files, +4 -1"
