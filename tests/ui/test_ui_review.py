"""The Review screen: file list with scope flags, lazy coloured diffs, checks (shown and re-run),
the merge preflight (blocking findings, the rebase offer), accept/reject confirmations.

Each test finishes a real run first (the stand-in kimi replaying a stream that creates
hello.txt and edits src/app.py on the run's branch, or a hand-made one), then opens the review
on the real app. The helpers it shares are in tests/support/pilot.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.pilot import Pilot

from hybrid_tui.core.git import FileDiff, diff_files, diff_names
from hybrid_tui.core.land.hunks import ALL
from hybrid_tui.core.land.merge import preflight
from hybrid_tui.core.runs import CheckResult, Run, RunStore, Status
from hybrid_tui.ui.app import HybridApp
from hybrid_tui.ui.dialogs.confirm import ConfirmScreen
from hybrid_tui.ui.review.checks_panel import ChecksPanel, check_row, checks_rows
from hybrid_tui.ui.review.diff_view import DiffView
from hybrid_tui.ui.review.file_list import FileList, Row, row_text
from hybrid_tui.ui.review.screen import ReviewScreen, describe_selection, totals
from tests.support.cli import checkout_fingerprint
from tests.support.pilot import (
    RUN_ID,
    SIZES,
    answer_checks,
    build_app,
    every_kind_stream,
    finished_run,
    open_review,
    run_app,
    until,
    until_diff,
    use_standin,
)
from tests.support.repos import git, make_repo
from tests.support.runs import agent_stream, spec_file


@pytest.fixture
def reviewed(repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[HybridApp, Run]:
    use_standin(monkeypatch, stream=every_kind_stream(tmp_path))
    app = build_app(tmp_path, repo)
    return app, finished_run(app, repo)


@pytest.fixture
def checked(repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[HybridApp, Run]:
    """A run with two checks (one passes, one fails), a file the spec did not name
    (notes.txt) and one it named that the agent left alone (docs/usage.md)."""
    stream = agent_stream(tmp_path, "wander", [
        ("WriteFile", {"path": "hello.txt", "content": "hello from Kimi\n"}),
        ("StrReplaceFile", {"path": "src/app.py", "edit": {"old": "return 1", "new": "return 2"}}),
        ("WriteFile", {"path": "notes.txt", "content": "not asked for\n"}),
    ])
    use_standin(monkeypatch, stream=stream)
    spec = spec_file(tmp_path, ["CREATE hello.txt", "MODIFY src/app.py", "MODIFY docs/usage.md"],
                     ["grep -q hello hello.txt", "grep -q 'return 3' src/app.py"]).read_text()
    app = build_app(tmp_path, repo)
    return app, finished_run(app, repo, spec, check_timeout=30)


def message_text(screen: ReviewScreen) -> str | None:
    return screen.message_text()


def pin_seconds(app: HybridApp, run: Run) -> None:
    """Checks take a few milliseconds that vary: fix them for a drawn screen."""
    assert app.context.store is not None and run.checks is not None
    app.context.store.update(run, checks=[c.model_copy(update={"seconds": 0.4 + k}) for k, c in enumerate(run.checks)])


# -- snapshots -----------------------------------------------------------------------------


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_snapshot_review_two_files(snap_compare, reviewed, size) -> None:
    app, run = reviewed

    async def run_before(pilot: Pilot) -> None:
        await open_review(pilot, run)

    assert snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_snapshot_checks_pass_and_fail_with_scope_flags(snap_compare, checked, size) -> None:
    app, run = checked
    pin_seconds(app, run)

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
def test_snapshot_accept_refused_by_the_preflight(snap_compare, reviewed, repo: Path, size) -> None:
    app, run = reviewed
    git(repo, "switch", "-q", "-c", "elsewhere")

    async def run_before(pilot: Pilot) -> None:
        screen = await open_review(pilot, run)
        await pilot.press("a")
        await until(pilot, lambda: message_text(screen) is not None and not screen.busy, "the refusal")

    assert snap_compare(app, terminal_size=size, run_before=run_before)


# -- files and diffs -------------------------------------------------------------------------


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
        assert view.text_lines() == ["new file, mode 100644", "@@ -0,0 +1 @@", "+hello from Kimi"]
        assert view.line_kinds() == ["meta", "hunk", "added"]

        await pilot.press("j")
        await until_diff(pilot, screen, "src/app.py")
        lines, kinds = view.text_lines(), view.line_kinds()
        assert [(k, t) for k, t in zip(kinds, lines) if k in ("added", "removed")] == [
            ("removed", "-    return 1"), ("added", "+    return 2")]
        shown = view.rendered_lines()
        assert shown[0].startswith("▌  @@ -1,2 +1,2 @@")  # the cursor hunk's bar
        assert shown[2].rstrip().endswith("2    -    return 1") and shown[3].rstrip().endswith("2 +    return 2")
        await pilot.press("k")
        await until_diff(pilot, screen, "hello.txt")
        await pilot.press("down")
        await until_diff(pilot, screen, "src/app.py")
        await pilot.press("escape")
        assert pilot.app.screen is not screen

    run_app(app, body)


def test_checks_and_scope_flags_are_shown(checked) -> None:
    app, run = checked

    async def body(pilot: Pilot) -> None:
        screen = await open_review(pilot, run)
        panel = screen.query_one(ChecksPanel).text()
        lines = panel.splitlines()
        assert lines[0] == "Checks · 1 of 2 failed"
        assert lines[1].startswith("✓ exit 0 ") and lines[1].endswith("s  grep -q hello hello.txt")
        assert lines[2].startswith("✗ exit 1 ") and lines[2].endswith("s  grep -q 'return 3' src/app.py")
        rows = screen.query_one(FileList).text_lines()
        assert rows == [
            "  A +1 -0  hello.txt",
            " !A +1 -0  notes.txt",
            "  M +1 -1  src/app.py",
            "           docs/usage.md (untouched)",
        ]
        header = str(screen.query_one("#review-header").render())
        assert "3 files, +3 -1 · ! 1 not in the spec · 1 untouched" in header
        await pilot.press("end")
        view = screen.query_one(DiffView)
        await until(pilot, lambda: view.path == "docs/usage.md", "the untouched row")
        assert view.text_lines() == ["The spec names docs/usage.md, but the run did not change it."]

    run_app(app, body)


def test_at_60_columns_a_long_path_is_cut_and_the_diff_message_wraps(repo: Path, tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    deep = "docs/a-rather-long-directory-name/and-a-long-file-name-for-the-notes.md"
    stream = agent_stream(tmp_path, "deep", [("WriteFile", {"path": deep, "content": "notes\n"})])
    use_standin(monkeypatch, stream=stream)
    spec = spec_file(tmp_path, [f"CREATE {deep}", "MODIFY docs/usage-of-the-app-for-new-users.md"], [])
    app = build_app(tmp_path, repo)
    run = finished_run(app, repo, spec.read_text())

    async def body(pilot: Pilot) -> None:
        screen = await open_review(pilot, run, first=deep)
        file_list = screen.query_one(FileList)
        # The path loses its start to fit the row, and the list has no scrollbar under it
        # (one there would take a row of a list that has nothing to scroll sideways to).
        row = file_list.render_line(0).text
        assert len(row) == 60 and row.startswith("  A +1 -0  …")
        assert row.endswith("and-a-long-file-name-for-the-notes.md")
        assert not file_list.show_horizontal_scrollbar
        await pilot.press("end")
        view = screen.query_one(DiffView)
        await until(pilot, lambda: view.path == "docs/usage-of-the-app-for-new-users.md", "the untouched row")
        await pilot.pause()
        # The message is wider than the pane: wrapped, not cut.
        shown = [line.strip() for line in view.rendered_lines() if line.strip()]
        assert len(shown) == 2 and max(map(len, view.rendered_lines())) <= 60
        assert " ".join(shown) == ("The spec names docs/usage-of-the-app-for-new-users.md, but the run did not "
                                   "change it.")
        assert view.virtual_size.height == 2 and not view.show_horizontal_scrollbar
        # The footer keeps, within 60 columns, the keys to land, select, switch the view and leave.
        shown = [key.description for key in screen.query("FooterKey") if key.region.right <= 60]
        assert shown[:6] == ["Accept", "Reject", "Select", "Split", "Back", "Checks"]

    run_app(app, body, size=(60, 20))


def test_checks_rerun_from_the_keyboard_pass_then_fail(checked, repo: Path) -> None:
    app, run = checked
    store = app.context.store
    assert store is not None
    assert [c.ok for c in run.checks or []] == [True, False]
    # The branch changes after the first checks (a follow-up commit in the run's worktree):
    # hello.txt no longer says hello, so the first check fails now; the second one passes.
    worktree = Path(run.worktree)
    (worktree / "hello.txt").write_text("bye\n")
    (worktree / "src" / "app.py").write_text("def main():\n    return 3\n")
    git(worktree, "commit", "-qam", "follow-up")
    tip = git(worktree, "rev-parse", "HEAD")

    async def body(pilot: Pilot) -> None:
        screen = await open_review(pilot, run)
        panel = screen.query_one(ChecksPanel)
        assert "(ran on " in panel.text()  # the recorded checks are of an older tip
        await pilot.press("c")
        assert await answer_checks(pilot) == ["grep -q hello hello.txt", "grep -q 'return 3' src/app.py"]
        assert panel.output_shown
        await until(pilot, lambda: not screen.checks_running, "the checks to finish")
        lines = panel.text().splitlines()
        assert lines[0] == "Checks · 1 of 2 failed · o hides the output"  # o is not in the footer
        assert lines[1].startswith("✗ exit 1 ") and lines[1].endswith("grep -q hello hello.txt")
        assert lines[2].startswith("✓ exit 0 ") and lines[2].endswith("grep -q 'return 3' src/app.py")
        output = panel.output.text_lines()
        assert "• $ grep -q hello hello.txt" in output
        assert any(line.startswith("• ✗ failed (exit 1)") for line in output)
        assert any(line.startswith("• ✓ passed in") for line in output)
        await pilot.press("o")  # hides the output
        assert not panel.output_shown
        assert panel.text().splitlines()[0] == "Checks · 1 of 2 failed"

    run_app(app, body)
    stored = RunStore(store.root).load(run.id)
    assert [(c.command, c.exit_code) for c in stored.checks or []] == [
        ("grep -q hello hello.txt", 1), ("grep -q 'return 3' src/app.py", 0)]
    assert stored.checks_sha == tip
    assert git(Path(run.worktree), "status", "--porcelain") == ""


def test_the_last_checks_output_is_read_back(checked) -> None:
    app, run = checked

    async def body(pilot: Pilot) -> None:
        screen = await open_review(pilot, run)
        panel = screen.query_one(ChecksPanel)
        assert not panel.output_shown
        await pilot.press("o")
        await until(pilot, lambda: panel.output.line_count > 0, "the output")
        output = panel.output.text_lines()
        assert output[0].startswith(f"== checks of run {run.id} on ")
        assert "$ grep -q 'return 3' src/app.py" in output

    run_app(app, body)


# -- landing -------------------------------------------------------------------------------


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
        await pilot.press("a")
        await until(pilot, lambda: isinstance(pilot.app.screen, ConfirmScreen), "the confirmation")
        await pilot.press("enter")
        await until(pilot, lambda: len(pilot.app.screen_stack) == 2, "the plans screen again")
        assert type(pilot.app.screen).__name__ == "PlansScreen"

    run_app(app, body)
    assert run.status == Status.ACCEPTED
    assert (repo / "hello.txt").read_text() == "hello from Kimi\n"
    assert git(repo, "status", "--porcelain") == ""
    assert git(repo, "branch", "--list", run.branch) == ""
    assert not (state_dir / "worktrees" / RUN_ID).exists()


def test_the_squash_strategy_from_the_settings_is_used(reviewed, repo: Path) -> None:
    app, run = reviewed
    app.context.settings.merge.strategy = "squash"
    tip = git(repo, "rev-parse", run.branch)

    async def body(pilot: Pilot) -> None:
        await open_review(pilot, run)
        await pilot.press("a")
        await until(pilot, lambda: isinstance(pilot.app.screen, ConfirmScreen), "the confirmation")
        assert pilot.app.screen.body_text.startswith(  # type: ignore[attr-defined]
            f"Squash {run.branch} into one commit on main in project; its tip is kept as "
            f"refs/hybrid-tui/accepted/{RUN_ID}.")
        await pilot.press("y")
        await until(pilot, lambda: len(pilot.app.screen_stack) == 2, "the plans screen again")

    run_app(app, body)
    assert (run.status, run.strategy) == (Status.ACCEPTED, "squash")
    assert git(repo, "rev-parse", "HEAD^{tree}") == git(repo, "rev-parse", f"{tip}^{{tree}}")
    assert len(git(repo, "rev-parse", "HEAD^@").split()) == 1  # one parent: not a merge


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
    """Open the review, accept: the preflight refuses before any confirmation."""
    screen = await open_review(pilot, run)
    await pilot.press("a")
    await until(pilot, lambda: message_text(screen) is not None and not screen.busy, "the refusal")
    assert pilot.app.screen is screen  # no confirmation was asked
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
        await pilot.press("a")
        await until(pilot, lambda: isinstance(pilot.app.screen, ConfirmScreen), "the confirmation")
        await pilot.press("y")
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


def commit_on_main(repo: Path, name: str, text: str) -> str:
    path = repo / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    git(repo, "add", name)
    git(repo, "commit", "-q", "-m", f"main: {name}")
    return git(repo, "rev-parse", "HEAD")


def test_a_predicted_conflict_blocks_the_accept_and_no_rebase_is_offered(reviewed, repo: Path) -> None:
    app, run = reviewed
    commit_on_main(repo, "src/app.py", "def main():\n    return 3\n")  # the run changed that line too
    before = checkout_fingerprint(repo)

    async def body(pilot: Pilot) -> None:
        screen, text = await refused_accept(pilot, run)
        assert text.startswith("The run's changes conflict with what main got since the run started, in src/app.py")
        assert f"Fix: Resolve by hand: `git -C project merge {run.branch}`" in text
        assert "Also: " not in text and str(repo) not in text
        assert screen.check_action("rebase", ()) is False  # a rebase would stop on the same conflict

    run_app(app, body)
    assert checkout_fingerprint(repo) == before and run.status == Status.REVIEW


def test_base_moved_ahead_offers_a_rebase_which_u_undoes(reviewed, repo: Path) -> None:
    app, run = reviewed
    old_tip, old_base = git(repo, "rev-parse", run.branch), run.base_sha
    new_main = commit_on_main(repo, "README.md", "# demo, on main\n")

    async def body(pilot: Pilot) -> None:
        screen = await open_review(pilot, run)
        # Said as soon as the files are listed, as advice: b is offered, u is not (yet).
        text = message_text(screen) or ""
        assert text.startswith(f"main moved ahead by 1 commit(s) since the run started (from {old_base[:7]} "
                               f"to {new_main[:7]}). b rebases {run.branch} onto main (u undoes it)")
        assert screen.check_action("rebase", ()) is True and screen.check_action("undo_rebase", ()) is False
        await pilot.press("a")  # the accept says it too, and still asks
        await until(pilot, lambda: isinstance(pilot.app.screen, ConfirmScreen), "the confirmation")
        assert "\n\nNote: main moved ahead by 1 commit(s)" in pilot.app.screen.body_text  # type: ignore[attr-defined]
        await pilot.press("n")

        await pilot.press("b")
        await until(pilot, lambda: screen.run.rebase is not None and not screen.busy, "the rebase")
        await until_diff(pilot, screen, "hello.txt")
        assert (message_text(screen) or "").startswith(f"Rebased {run.branch} onto main ({new_main[:7]}); u undoes it.")
        assert git(repo, "rev-parse", f"{run.branch}~1") == new_main
        assert [f.path for f in screen.files or []] == ["hello.txt", "src/app.py"]  # still only the run's changes
        assert screen.check_action("rebase", ()) is False and screen.check_action("undo_rebase", ()) is True

        await pilot.press("u")
        await until(pilot, lambda: screen.run.rebase is None and not screen.busy, "the undo")
        await until_diff(pilot, screen, "hello.txt")
        assert git(repo, "rev-parse", run.branch) == old_tip
        assert screen.run.base_sha == old_base
        assert screen.check_action("rebase", ()) is True  # offered again: main is still ahead

    run_app(app, body)


# -- pieces --------------------------------------------------------------------------------


def test_file_rows_show_marks_flags_status_counts_and_untouched() -> None:
    files = [
        FileDiff("new.py", "added", 3, 0),
        FileDiff("logo.png", "modified", None, None),
        FileDiff("b.py", "renamed", 1, 1, old_path="a.py"),
    ]
    assert row_text(Row("new.py", files[0]), "●", 5) == "● A +3 -0  new.py"
    assert row_text(Row("logo.png", files[1], flagged=True), "", 5) == " !M   bin  logo.png"
    assert row_text(Row("b.py", files[2]), "◐", 5) == "◐ R +1 -1  a.py → b.py"
    assert row_text(Row("docs/x.md", None), "", 5) == "           docs/x.md (untouched)"
    assert totals(files) == "3 files, +4 -1"


def test_check_rows_say_how_each_ended() -> None:
    checks = [
        CheckResult(command="pytest -q", exit_code=0, ok=True, seconds=1.25),
        CheckResult(command="ruff check", exit_code=1, ok=False, seconds=0.5),
        CheckResult(command="slow", exit_code=None, ok=False, seconds=120.0, timed_out=True),
    ]
    assert check_row(checks[0]) == "[$text-success]✓[/] exit 0 [$text-muted]1.2s[/]  pytest -q"
    rows = checks_rows(checks)
    assert rows[2] == "[$text-error]✗[/] [$text-error]timed out[/] [$text-muted]120.0s[/]  slow"
    many = checks_rows([*checks, *checks])
    assert len(many) == 3 and many[-1].endswith("… 4 more, 2 failed (o shows the output)[/]")


def test_a_selection_is_described_file_by_file() -> None:
    selection = {"numbers.txt": {0, 2}, "new.txt": ALL, "one.txt": {1}}
    assert describe_selection(selection, {"numbers.txt": 3, "one.txt": 4}) == [
        "numbers.txt: hunks 1 and 3 of 3", "new.txt: whole file", "one.txt: hunk 2 of 4"]


def test_the_quick_names_read_lists_what_diff_files_lists(tmp_path: Path) -> None:
    """`diff_names` (the review's first read: no content diff) names the files `diff_files`
    counts, in the same order, with the same status and old names."""
    repo = make_repo(tmp_path / "r", {
        "old name.txt": "a file that moves and is long enough to be seen as a rename\n",
        "tool.sh": "echo hi\n", "gone.txt": "bye\n", "link": "a plain file\n", "tab\tname.txt": "t\n",
    })
    git(repo, "switch", "-q", "-c", "work")
    git(repo, "mv", "old name.txt", "new name.txt")
    (repo / "tool.sh").chmod(0o755)
    (repo / "gone.txt").unlink()
    (repo / "link").unlink()
    (repo / "link").symlink_to("tool.sh")
    (repo / "blob.bin").write_bytes(b"\x00\x01binary")
    (repo / "tab\tname.txt").write_text("t, changed\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "work")
    names = diff_names(repo, "main", "work")
    full = diff_files(repo, "main", "work")
    assert [(f.path, f.status, f.old_path) for f in names] == [(f.path, f.status, f.old_path) for f in full]
    assert {f.status for f in names} == {"added", "deleted", "renamed", "modified", "type-changed"}
    assert ("new name.txt", "old name.txt") in [(f.path, f.old_path) for f in names]
    assert "tab\tname.txt" in [f.path for f in names]
    assert all((f.added, f.removed) == (0, 0) for f in names)  # not counted
    assert [(f.path, f.added) for f in full if f.binary] == [("blob.bin", None)]


def test_the_preflight_of_a_selection_looks_at_its_paths_only(reviewed, repo: Path) -> None:
    _, run = reviewed
    (repo / "hello.txt").write_text("my own hello\n")  # a local change on one of the run's files
    assert [f.kind for f in preflight(run, paths={"src/app.py"})] == []
    assert [(f.kind, f.blocking) for f in preflight(run, paths={"hello.txt"})] == [("local_overlap", True)]
    assert [(f.kind, f.blocking) for f in preflight(run)] == [("local_overlap", True)]
    (repo / "hello.txt").unlink()
    commit_on_main(repo, "src/app.py", "def main():\n    return 3\n")  # the run changed that line too
    assert [(f.kind, f.blocking) for f in preflight(run)] == [("conflict", True), ("base_moved", False)]
    # A selection's hunks may still apply: the conflict is said for the selected paths, as advice.
    selected = preflight(run, paths={"src/app.py", "hello.txt"})
    assert [(f.kind, f.blocking) for f in selected] == [("conflict", False), ("base_moved", False)]
    assert selected[0].problem.startswith("The run's changes to src/app.py conflict with what main got")
    assert [f.kind for f in preflight(run, paths={"hello.txt"})] == ["base_moved"]
