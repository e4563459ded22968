"""The review's ways to send a run on (issue 6): revise (R), Claude's review (C), a pull request (P).

Real repositories and runs, the real app driven by Pilot. The stand-in kimi (it logs the argv it
got) makes the first run and the revision; the revision replays its own stream, so its commit is
its own. Claude is either missing from PATH (the panel says how to install it) or, in the e2e
test, the real binary against the scripted Anthropic server. No `gh` runs here: the pull request
is only checked for being offered (an executable named gh on PATH, never started) and for
asking before it pushes.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import OptionList, TextArea

from hybrid_tui.agents.claude import INSTALL_HINT
from hybrid_tui.config import load_settings
from hybrid_tui.core.review.claude_review import points_as_note
from hybrid_tui.core.runs import ClaudeReview, ReviewPoint, Run, RunStore, Status
from hybrid_tui.ui.app import HybridApp, make_app
from hybrid_tui.ui.dialogs.confirm import ConfirmScreen
from hybrid_tui.ui.review.claude_panel import ClaudeReviewPanel
from hybrid_tui.ui.review.diff_view import DiffView
from hybrid_tui.ui.review.file_list import FileList
from hybrid_tui.ui.review.revise import ReviseScreen
from hybrid_tui.ui.review.screen import ReviewScreen, line_position
from hybrid_tui.ui.run.screen import RunScreen
from tests.support.cli import STANDIN_DIR
from tests.support.e2e import answer, write_config
from tests.support.pilot import (
    FIXED_NOW,
    RUN_ID,
    SIZES,
    answer_checks,
    build_app,
    every_kind_stream,
    finished_run,
    header_text,
    open_review,
    run_app,
    until,
    until_diff,
    until_ended,
    use_standin,
)
from tests.support.pilot import panel_text as panel_parts
from tests.support.processes import process_alive
from tests.support.repos import git
from tests.support.runs import agent_stream
from tests.support.servers.anthropic import RecordedRequest, ScriptedAnthropic

SESSION = "0c0e6d2a-5f8e-4a44-9b8a-2f7b1a3c9d10"  # what every_kind_stream's stderr says
NOTE = "add revised.txt too"


def review_of(run: Run, **changes) -> ClaudeReview:
    """A stored review of the run's current tip, with two points."""
    review = ClaudeReview(
        verdict="request_changes",
        summary="hello.txt is there, but main() has no test for the new value.",
        points=[
            ReviewPoint(file="src/app.py", line=2, problem="main() returns 2 but no test says so"),
            ReviewPoint(file="hello.txt", problem="end the greeting with a full stop"),
        ],
        reviewed_sha=git(Path(run.repo_root), "rev-parse", run.branch),
    )
    return review.model_copy(update=changes)


def store_review(app: HybridApp, run: Run, review: ClaudeReview) -> None:
    assert app.context.store is not None
    app.context.store.update(run, claude_review=review)


def panel_text(screen: ReviewScreen) -> tuple[str, str, list[str]]:
    """The review panel's verdict line, summary and points, as plain text."""
    return panel_parts(screen.query_one(ClaudeReviewPanel))


def standin_calls(log: Path) -> list[dict]:
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


@pytest.fixture
def reviewed(repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[HybridApp, Run]:
    """A finished run (hello.txt created, src/app.py changed) whose kimi session can be resumed."""
    use_standin(monkeypatch, stream=every_kind_stream(tmp_path))
    app = build_app(tmp_path, repo)
    return app, finished_run(app, repo)


async def write_note(pilot: Pilot, text: str) -> ReviseScreen:
    await pilot.press("R")
    await until(pilot, lambda: isinstance(pilot.app.screen, ReviseScreen), "the revise note")
    modal: ReviseScreen = pilot.app.screen  # type: ignore[assignment]
    await pilot.press(*("space" if key == " " else key for key in text))
    return modal


# -- snapshots -----------------------------------------------------------------------------


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_snapshot_review_with_a_claude_review(snap_compare, reviewed, size) -> None:
    app, run = reviewed
    store_review(app, run, review_of(run))

    async def run_before(pilot: Pilot) -> None:
        await open_review(pilot, run)

    assert snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_snapshot_revise_modal_over_the_review(snap_compare, reviewed, size) -> None:
    app, run = reviewed
    store_review(app, run, review_of(run))

    async def run_before(pilot: Pilot) -> None:
        await open_review(pilot, run)
        await pilot.press("R")
        await until(pilot, lambda: isinstance(pilot.app.screen, ReviseScreen), "the revise note")
        pilot.app.screen.query_one(TextArea).cursor_blink = False
        await pilot.pause()

    assert snap_compare(app, terminal_size=size, run_before=run_before)


# -- revise --------------------------------------------------------------------------------


def test_revise_resumes_the_session_and_the_review_shows_the_new_commit(
    reviewed, repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app, run = reviewed
    first_tip = git(repo, "rev-parse", run.branch)
    log = tmp_path / "revision.log"
    stream = agent_stream(tmp_path, "revision", [("WriteFile", {"path": "revised.txt", "content": "revised\n"})])
    use_standin(monkeypatch, stream=stream, KIMI_STANDIN_LOG=str(log))

    async def body(pilot: Pilot) -> None:
        screen = await open_review(pilot, run)
        modal = await write_note(pilot, NOTE)
        assert modal.query_one(TextArea).text == NOTE  # no Claude review: the note starts empty
        await pilot.press("ctrl+s")
        assert await answer_checks(pilot) == ["test -f hello.txt"]
        await until(pilot, lambda: isinstance(pilot.app.screen, RunScreen), "the run screen")
        run_screen: RunScreen = pilot.app.screen  # type: ignore[assignment]
        assert screen not in pilot.app.screen_stack  # the run screen took the review's place
        await until_ended(pilot, run_screen)
        assert "revision 1" in header_text(run_screen) and "review" in header_text(run_screen)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(pilot.app.screen, ReviewScreen), "the review again")
        again: ReviewScreen = pilot.app.screen  # type: ignore[assignment]
        await until(pilot, lambda: again.counted, "the files with their counts")
        assert [(f.path, f.status) for f in again.files or []] == [
            ("hello.txt", "added"), ("revised.txt", "added"), ("src/app.py", "modified")]
        assert "3 files, +3 -1" in str(again.query_one("#review-header").render())

    run_app(app, body)
    # The same agent resumed its session, in the same worktree, with the note as the prompt.
    (call,) = standin_calls(log)
    argv = call["argv"]
    assert argv[argv.index("-S") + 1] == SESSION
    assert argv[argv.index("-w") + 1] == run.worktree
    assert NOTE in argv[argv.index("-p") + 1]
    # One new commit on the same branch, on top of the first; the spec's check ran again.
    assert git(repo, "rev-parse", f"{run.branch}~1") == first_tip
    assert git(repo, "show", f"{run.branch}:revised.txt") == "revised"
    assert run.status == Status.REVIEW and [(c.command, c.ok) for c in run.checks or []] == [
        ("test -f hello.txt", True)]
    (revision,) = RunStore(app.context.store.root).load(run.id).revisions
    assert (revision.note, revision.session_id, revision.status) == (NOTE, SESSION, "review")


def test_a_refused_revision_says_why_with_the_fix_and_records_nothing(reviewed) -> None:
    app, run = reviewed
    (Path(run.worktree) / "stray.txt").write_text("left by hand\n")  # revise would lose it

    async def body(pilot: Pilot) -> None:
        screen = await open_review(pilot, run)
        await write_note(pilot, NOTE)
        await pilot.press("ctrl+s")
        await answer_checks(pilot)
        await until(pilot, lambda: screen.message_text() is not None and not screen.busy, "the refusal")
        assert pilot.app.screen is screen
        text = screen.message_text() or ""
        assert f"has changes that are not on {run.branch}: stray.txt. To revise would discard them." in text
        assert "\nFix: Commit them on the branch" in text

    run_app(app, body)
    assert RunStore(app.context.store.root).load(run.id).revisions == []


def test_revise_starts_from_claudes_points_when_a_review_is_shown(reviewed) -> None:
    app, run = reviewed
    review = review_of(run)
    store_review(app, run, review)

    async def body(pilot: Pilot) -> None:
        await open_review(pilot, run)
        await pilot.press("R")
        await until(pilot, lambda: isinstance(pilot.app.screen, ReviseScreen), "the revise note")
        assert pilot.app.screen.query_one(TextArea).text == points_as_note(review)
        await pilot.press("escape")  # nothing sent
        await pilot.pause()
        assert isinstance(pilot.app.screen, ReviewScreen)

    run_app(app, body)
    assert run.revisions == []


# -- Claude's review -----------------------------------------------------------------------


def test_a_stored_review_is_shown_and_a_point_opens_its_file_at_its_line(three_hunks) -> None:
    _, app, run = three_hunks
    review = review_of(run, points=[ReviewPoint(file="numbers.txt", line=28, problem="keep 28 as it was")])
    store_review(app, run, review)

    async def body(pilot: Pilot) -> None:
        screen = await open_review(pilot, run, first="notes.txt")
        assert panel_text(screen) == (
            "✗ Claude requests changes · 1 point", review.summary, ["numbers.txt:28  keep 28 as it was"])
        await pilot.press("tab", "tab")  # files -> diff -> Claude's points
        points = screen.query_one(ClaudeReviewPanel).query_one(OptionList)
        assert points.has_focus
        await pilot.press("enter")
        await until_diff(pilot, screen, "numbers.txt")
        view = screen.query_one(DiffView)
        assert view.has_focus and view.cursor_hunk == 2  # the hunk of line 28, the third
        assert any(line.rstrip().endswith("28 +line 28 (agent)") for line in view.rendered_lines())

    run_app(app, body)


def test_a_review_of_an_older_tip_says_so(reviewed) -> None:
    app, run = reviewed
    store_review(app, run, review_of(run, reviewed_sha="1" * 40))

    async def body(pilot: Pilot) -> None:
        screen = await open_review(pilot, run)
        assert panel_text(screen)[0].endswith("(of 1111111, before the last changes)")

    run_app(app, body)


def test_claude_missing_is_said_in_the_panel_with_its_install_hint(reviewed, monkeypatch) -> None:
    app, run = reviewed
    standin = str(STANDIN_DIR)
    monkeypatch.setenv("PATH", os.pathsep.join(d for d in os.environ["PATH"].split(os.pathsep) if d != standin))

    async def body(pilot: Pilot) -> None:
        screen = await open_review(pilot, run)
        panel = screen.query_one(ClaudeReviewPanel)
        assert not panel.has_class("-shown")  # no review yet: no panel
        await pilot.press("C")
        assert panel.has_class("-shown")
        await until(pilot, lambda: not screen.claude_reviewing, "the review to give up")
        verdict, summary, points = panel_text(screen)
        assert verdict == "Claude could not review" and points == []
        assert summary == f"agent command 'claude': not found on PATH\nFix: {INSTALL_HINT}"
        assert screen.check_action("accept", ()) is True  # nothing waits any more

    run_app(app, body)
    assert run.claude_review is None


@pytest.mark.parametrize(("size", "beside"), [((120, 30), True), ((80, 24), False)], ids=["wide", "narrow"])
def test_the_panel_sits_beside_the_diff_when_wide_and_below_when_narrow(reviewed, size, beside) -> None:
    app, run = reviewed
    store_review(app, run, review_of(run))

    async def body(pilot: Pilot) -> None:
        screen = await open_review(pilot, run)
        diff, panel = screen.query_one(DiffView).region, screen.query_one(ClaudeReviewPanel).region
        if beside:
            assert panel.x >= diff.right and panel.y == diff.y and diff.width >= size[0] // 2
        else:
            assert panel.y >= diff.bottom and panel.x == diff.x and panel.width == size[0]

    run_app(app, body, size=size)


# -- pull request --------------------------------------------------------------------------


def test_no_pull_request_is_offered_without_a_remote(reviewed) -> None:
    app, run = reviewed

    async def body(pilot: Pilot) -> None:
        screen = await open_review(pilot, run)
        assert screen.check_action("pull_request", ()) is False
        assert "has no git remote to push to" in screen.pr_reason
        await pilot.press("P")
        await pilot.pause()
        assert pilot.app.screen is screen  # nothing asked

    run_app(app, body)


def test_a_pull_request_is_offered_with_a_remote_and_gh_and_asks_before_pushing(
    reviewed, repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """gh is not installed here: an executable named gh on PATH makes the offer, and the test
    says no at the confirmation, so neither git push nor gh ever runs."""
    app, run = reviewed
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", str(remote))
    git(repo, "remote", "add", "origin", str(remote))

    async def without_gh(pilot: Pilot) -> None:
        screen = await open_review(pilot, run)
        assert screen.check_action("pull_request", ()) is False
        assert screen.pr_reason.startswith("gh (the GitHub CLI) is not installed")

    run_app(app, without_gh)

    tools = tmp_path / "tools"
    tools.mkdir()
    gh = tools / "gh"
    gh.write_text("#!/bin/sh\necho 'this test never runs gh' >&2\nexit 99\n")
    gh.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tools}{os.pathsep}{os.environ['PATH']}")
    app = build_app(tmp_path, repo)

    async def with_gh(pilot: Pilot) -> None:
        screen = await open_review(pilot, run)
        assert screen.check_action("pull_request", ()) is True
        assert screen.pr_reason == f"push {run.branch} to origin and open a pull request into main with gh"
        assert "review.pull-request" in {b.binding.id for b in screen.active_bindings.values()}
        await pilot.press("P")
        await until(pilot, lambda: isinstance(pilot.app.screen, ConfirmScreen), "the confirmation")
        confirm: ConfirmScreen = pilot.app.screen  # type: ignore[assignment]
        assert confirm.body_text == (
            f"Push {run.branch} to origin and open a pull request into main with gh; the spec is its description.")
        await pilot.press("n")
        await pilot.pause()
        assert pilot.app.screen is screen and not screen.busy

    run_app(app, with_gh)
    assert git(remote, "for-each-ref") == ""  # nothing was pushed


# -- pieces --------------------------------------------------------------------------------


def test_line_position_finds_the_row_of_a_new_line_or_the_nearest_hunk(three_hunks) -> None:
    from hybrid_tui.core.git import patch_text
    from hybrid_tui.core.land.hunks import PatchIndex
    from hybrid_tui.ui.review.diff_model import prepare_file

    repo, _, run = three_hunks
    model = prepare_file(PatchIndex(patch_text(repo, run.base_sha, run.branch)).section("numbers.txt") or "")
    for split in (False, True):
        hunk, row = line_position(model, 15, split)
        start = model.starts(split)[1]
        assert hunk == 1 and start < row < model.hunk_span(1, split)[1]
    assert line_position(model, 22, False) == (2, model.unified_starts[2])  # in no hunk: the nearest
    assert line_position(model, 21, True) == (1, model.split_starts[1])


def test_file_list_finds_a_row_by_path_or_old_name() -> None:
    from hybrid_tui.core.git import FileDiff

    file_list = FileList()
    file_list.set_files([FileDiff("a.py", "added", 1, 0), FileDiff("new.py", "renamed", 0, 0, "old.py")],
                        untouched=["docs/x.md"])
    assert [file_list.index_of(p) for p in ("a.py", "new.py", "old.py", "docs/x.md", "nope.py")] == [0, 1, 1, 2, -1]


# -- end to end: the real claude -----------------------------------------------------------


def app_with_config(tmp_path: Path, repo: Path) -> HybridApp:
    """The real app with the settings of $HYBRID_TUI_CONFIG (the real claude, offline), fixed
    clock and run id."""
    settings = load_settings(Path(os.environ["HYBRID_TUI_CONFIG"]))
    settings.agents.kimi.timeout = 20
    store = RunStore(settings.resolved_state_dir(), clock=lambda: FIXED_NOW, id_factory=lambda now: RUN_ID)
    plans = tmp_path / "no-plans"
    plans.mkdir(exist_ok=True)
    return make_app(settings, repo=repo, plans_dir=plans, store=store, clock=lambda: FIXED_NOW, watch_plans=False)


@pytest.mark.e2e
def test_the_real_claude_reviews_and_revise_starts_from_its_points(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, isolated_env: Path
) -> None:
    for name in list(os.environ):
        if name.startswith(("ANTHROPIC_", "CLAUDE_CODE_")) or name in ("CLAUDECODE", "IS_SANDBOX"):
            monkeypatch.delenv(name)
    use_standin(monkeypatch, stream=every_kind_stream(tmp_path))

    def verdict(request: RecordedRequest):
        return answer("request_changes", "main() changed without a test.", [
            {"file": f"{request.cwd}/src/app.py", "line": 2, "problem": "add a test for main() returning 2"},
            {"file": "hello.txt", "problem": "end the greeting with a full stop"},
        ])  # fmt: skip

    with ScriptedAnthropic([verdict]) as server:
        write_config(isolated_env, server)
        app = app_with_config(tmp_path, repo)
        run = finished_run(app, repo)

        async def body(pilot: Pilot) -> None:
            screen = await open_review(pilot, run)
            await pilot.press("C")
            assert panel_text(screen)[0].startswith("Asking Claude to review")
            assert screen.check_action("accept", ()) is None  # greyed out while Claude reads
            await until(pilot, lambda: not screen.claude_reviewing, "Claude's review", timeout=90)
            verdict_text, summary, points = panel_text(screen)
            assert verdict_text == "✗ Claude requests changes · 2 points"
            assert summary == "main() changed without a test."
            assert points == ["src/app.py:2  add a test for main() returning 2",
                              "hello.txt  end the greeting with a full stop"]
            await pilot.press("R")
            await until(pilot, lambda: isinstance(pilot.app.screen, ReviseScreen), "the revise note")
            note = pilot.app.screen.query_one(TextArea).text
            assert note.startswith("Claude reviewed your work and asks for changes. main() changed without a test.")
            assert "- src/app.py:2: add a test for main() returning 2\n- hello.txt: end the greeting" in note
            await pilot.press("escape")

        run_app(app, body)

    assert len(server.turn_requests) == 1 and not server.problems
    assert server.turn_requests[0].cwd == run.worktree
    saved = RunStore(app.context.store.root).load(run.id)
    assert saved.claude_review is not None and saved.claude_review.verdict == "request_changes"
    assert saved.status == Status.REVIEW


@pytest.mark.e2e
def test_c_again_stops_the_real_claude_and_nothing_is_stored(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, isolated_env: Path
) -> None:
    for name in list(os.environ):
        if name.startswith(("ANTHROPIC_", "CLAUDE_CODE_")) or name in ("CLAUDECODE", "IS_SANDBOX"):
            monkeypatch.delenv(name)
    use_standin(monkeypatch, stream=every_kind_stream(tmp_path))
    asked = threading.Event()
    released = threading.Event()

    def stuck(request: RecordedRequest):
        asked.set()
        released.wait(30)  # the model "thinks" until the test is over
        return answer("approve", "too late", [])

    with ScriptedAnthropic([stuck]) as server:
        write_config(isolated_env, server)
        app = app_with_config(tmp_path, repo)
        run = finished_run(app, repo)
        pids: list[int] = []

        async def body(pilot: Pilot) -> None:
            screen = await open_review(pilot, run)
            await pilot.press("C")
            await until(pilot, asked.is_set, "Claude's first request", timeout=60)
            assert screen.reviewer is not None and screen.reviewer._process is not None
            pids.append(screen.reviewer._process.pid or 0)
            await pilot.press("C")
            await until(pilot, lambda: not screen.claude_reviewing, "the review to stop")
            verdict, summary, _ = panel_text(screen)
            assert (verdict, summary) == (
                "Claude could not review", f"The review of run {run.id} was cancelled; nothing was stored.")

        try:
            run_app(app, body)
        finally:
            released.set()

    assert pids and not process_alive(pids[0])
    assert RunStore(app.context.store.root).load(run.id).claude_review is None
