"""Accept what is good, from the keyboard (issue 6): the diff view's hunk cursor and selection
marks, side by side and unified, a partial accept of two of three hunks landing on the base as
one commit while the run's branch keeps everything; binary, renamed, mode-changed, deleted and
new files shown and landed whole.

Real repositories and runs (the stand-in kimi carries out the stream's WriteFile and Shell
calls in the run's worktree); the app is the real one, driven by Pilot.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from textual.pilot import Pilot

from hybrid_tui.core.git import patch_text
from hybrid_tui.core.land.hunks import ALL, PatchIndex, split_patch
from hybrid_tui.core.runs import Run, RunStore, Status
from hybrid_tui.ui.dialogs.confirm import ConfirmScreen
from hybrid_tui.ui.review.diff_model import prepare_file, syntax_spans
from hybrid_tui.ui.review.diff_view import DiffView
from hybrid_tui.ui.review.file_list import FileList
from hybrid_tui.ui.review.screen import ReviewScreen
from tests.support.pilot import (
    RUN_ID,
    SIZES,
    make_review,
    open_review,
    run_app,
    until,
    until_diff,
)
from tests.support.repos import git, make_repo
from tests.support.runs import ORIGINAL, THREE_CHANGES, edited

BRANCH = f"kimi/{RUN_ID}-edit-the-files"


async def open_numbers(pilot: Pilot, run: Run) -> tuple[ReviewScreen, DiffView]:
    """The review on numbers.txt, the diff focused."""
    screen = await open_review(pilot, run, first="notes.txt")
    await pilot.press("j")
    await until_diff(pilot, screen, "numbers.txt")
    await pilot.press("tab")
    view = screen.query_one(DiffView)
    assert view.has_focus and view.cursor_hunk == 0
    return screen, view


async def select_first_and_last(pilot: Pilot, screen: ReviewScreen, view: DiffView) -> None:
    await pilot.press("space", "n", "n", "space")
    assert view.cursor_hunk == 2 and screen.selection == {"numbers.txt": {0, 2}}


# -- snapshots -----------------------------------------------------------------------------


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_snapshot_unified_view(snap_compare, three_hunks, size) -> None:
    _, app, run = three_hunks

    async def run_before(pilot: Pilot) -> None:
        await open_numbers(pilot, run)

    assert snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_snapshot_side_by_side_view(snap_compare, three_hunks, size) -> None:
    _, app, run = three_hunks

    async def run_before(pilot: Pilot) -> None:
        _, view = await open_numbers(pilot, run)
        await pilot.press("s")
        assert view.split

    assert snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_snapshot_hunk_selection_marks(snap_compare, three_hunks, size) -> None:
    _, app, run = three_hunks

    async def run_before(pilot: Pilot) -> None:
        screen, view = await open_numbers(pilot, run)
        await select_first_and_last(pilot, screen, view)
        await pilot.press("p")  # the cursor on the unselected middle hunk, the last one below
        await pilot.pause()

    assert snap_compare(app, terminal_size=size, run_before=run_before)


# -- behaviour -----------------------------------------------------------------------------


def test_two_of_three_hunks_accepted_from_the_keyboard(three_hunks, state_dir: Path) -> None:
    repo, app, run = three_hunks
    old_main, tip = git(repo, "rev-parse", "main"), git(repo, "rev-parse", run.branch)

    async def body(pilot: Pilot) -> None:
        screen, view = await open_numbers(pilot, run)
        await select_first_and_last(pilot, screen, view)
        assert view.selected == {0, 2}
        rows = screen.query_one(FileList).text_lines()
        assert rows[1].startswith("◐") and rows[1].endswith("numbers.txt") and rows[0].startswith(" ")
        assert "● 2 hunks selected" in str(screen.query_one("#review-header").render())
        shown = view.rendered_lines()
        head = next(i for i, line in enumerate(shown) if "@@ -25,6 +25,6 @@" in line)
        assert shown[head].startswith("▌● @@") and shown[head + 1].startswith("▌│ ")
        assert not shown[head - 1].startswith(("▌", " │"))  # the middle hunk: neither cursor nor mark

        await pilot.press("a")
        await until(pilot, lambda: isinstance(pilot.app.screen, ConfirmScreen), "the confirmation")
        confirm: ConfirmScreen = pilot.app.screen  # type: ignore[assignment]
        assert confirm.title_text == "Accept the selection?"
        assert confirm.body_text == (
            "Land as one commit on main in project:\n- numbers.txt: hunks 1 and 3 of 3\n"
            f"The rest stays on {BRANCH} for a later look.")
        await pilot.press("y")
        await until(pilot, lambda: run.partial_accepts and not screen.busy, "the partial accept")
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        assert pilot.app.screen is screen  # the run stays under review
        message = screen.message_text() or ""
        assert message.startswith(f"Landed on main as {run.partial_accepts[0].sha[:7]}: numbers.txt: hunks 1 and 3 of 3.")
        assert "\nmain moved ahead by 1 commit(s)" in message  # by that commit: b would rebase the rest
        assert screen.selection == {} and view.selected is None
        assert "1 part accepted" in str(screen.query_one("#review-header").render())

    run_app(app, body)
    head = git(repo, "rev-parse", "main")
    assert git(repo, "rev-parse", f"{head}^@") == old_main  # one commit, on top of the old main
    assert (repo / "numbers.txt").read_text() == edited(l2="line 2 (agent)", l28="line 28 (agent)")
    assert not (repo / "notes.txt").exists()  # not selected: only on the branch
    assert git(repo, "status", "--porcelain", "--untracked-files=all") == ""
    # The run's branch is unchanged and still holds everything.
    assert git(repo, "rev-parse", run.branch) == tip
    assert git(repo, "show", f"{run.branch}:numbers.txt") + "\n" == THREE_CHANGES
    stored = RunStore(state_dir).load(run.id)
    assert stored.status == Status.REVIEW and Path(stored.worktree).is_dir()
    assert [(p.sha, p.paths) for p in stored.partial_accepts] == [(head, ["numbers.txt"])]


def test_hunk_and_file_toggles_and_moving_between_files(three_hunks) -> None:
    _, app, run = three_hunks

    async def body(pilot: Pilot) -> None:
        screen = await open_review(pilot, run, first="notes.txt")
        file_list, view = screen.query_one(FileList), screen.query_one(DiffView)
        # In the list, space takes the whole file, and gives it back.
        await pilot.press("space")
        assert screen.selection == {"notes.txt": ALL} and file_list.text_lines()[0].startswith("●")
        await pilot.press("space")
        assert screen.selection == {} and file_list.text_lines()[0].startswith(" ")

        # In the diff, n past the last hunk goes to the next file's first; p comes back.
        await pilot.press("tab", "n")
        await until_diff(pilot, screen, "numbers.txt")
        assert view.cursor_hunk == 0 and file_list.cursor == 1
        await pilot.press("]", "]")
        assert view.cursor_hunk == 2
        await pilot.press("n")  # no file after this one: stays
        assert view.path == "numbers.txt" and view.cursor_hunk == 2
        await pilot.press("[", "[", "p")
        await until_diff(pilot, screen, "notes.txt")
        assert view.cursor_hunk == 0 and file_list.cursor == 0
        await pilot.press("n")
        await until_diff(pilot, screen, "numbers.txt")

        # Every hunk chosen one by one is the whole file; one taken back leaves the other two.
        await pilot.press("space", "n", "space", "n", "space")
        assert screen.selection == {"numbers.txt": ALL} and file_list.text_lines()[1].startswith("●")
        await pilot.press("p", "space")
        assert screen.selection == {"numbers.txt": {0, 2}} and file_list.text_lines()[1].startswith("◐")

        # Side by side: old on the left, new on the right, paired line by line.
        await pilot.press("p", "s")
        shown = [line.rstrip() for line in view.rendered_lines()]
        assert shown[0].startswith("▌● @@ -1,5 +1,5 @@")
        _, left, right = shown[2].split("│")  # the selection mark, then the middle
        assert left.rstrip().endswith(" 2 -line 2") and right.endswith(" 2 +line 2 (agent)")
        await pilot.press("s")
        assert not view.split and view.rendered_lines()[2].startswith("▌│  2    -line 2")

    run_app(app, body)


def test_binary_renamed_mode_changed_deleted_and_new_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo, app, run = make_review(
        tmp_path, monkeypatch,
        {"old name.txt": "a file that moves and is long enough to be seen as a rename\n",
         "tool.sh": "echo hi\n", "gone.txt": "bye\n", "src/app.py": "def main():\n    return 1\n"},
        [("Shell", {"command": "printf '\\000\\001\\002binary\\377' > blob.bin && mv 'old name.txt' 'new name.txt'"
                    " && chmod +x tool.sh && rm gone.txt && echo fresh > fresh.txt"}),
         ("WriteFile", {"path": "src/app.py", "content": "def main():\n    return 2\n"})],
        ["CREATE blob.bin", "DELETE old name.txt", "CREATE new name.txt", "MODIFY tool.sh", "DELETE gone.txt",
         "CREATE fresh.txt", "MODIFY src/app.py"],
    )

    async def body(pilot: Pilot) -> None:
        screen = await open_review(pilot, run, first="blob.bin")
        rows = screen.query_one(FileList).text_lines()
        assert rows == [
            "  A   bin  blob.bin",
            "  A +1 -0  fresh.txt",
            "  D +0 -1  gone.txt",
            "  R +0 -0  old name.txt → new name.txt",
            "  M +1 -1  src/app.py",
            "  M +0 -0  tool.sh",
        ]
        view = screen.query_one(DiffView)
        seen: dict[str, list[str]] = {}
        for path in ("blob.bin", "fresh.txt", "gone.txt", "new name.txt", "src/app.py", "tool.sh"):
            await until_diff(pilot, screen, path)
            seen[path] = view.text_lines()
            if path != "tool.sh":
                await pilot.press("j")
        assert seen["blob.bin"] == ["new file, mode 100644", "binary file: contents not shown"]
        assert seen["fresh.txt"] == ["new file, mode 100644", "@@ -0,0 +1 @@", "+fresh"]
        assert seen["gone.txt"] == ["deleted file, mode 100644", "@@ -1 +0,0 @@", "-bye"]
        assert seen["new name.txt"] == ["renamed from old name.txt (100% similar)"]
        assert seen["tool.sh"] == ["mode 100644 → 100755"]

        # Syntax colours by file type: "return" in src/app.py is drawn as a keyword.
        await pilot.press("k")
        await until_diff(pilot, screen, "src/app.py")
        keyword = view.get_component_rich_style("diff-view--syn-keyword").color
        strips = [view.render_line(y) for y in range(view.scrollable_content_region.height)]
        returns = [seg for strip in strips for seg in strip if seg.text == "return"]
        assert len(returns) == 2 and all(seg.style and seg.style.color == keyword for seg in returns)

        # Files without hunks go whole: select three of them from the list and accept them.
        await pilot.press("home", "space", "j", "j", "j", "space", "end", "space")
        assert screen.selection == {"blob.bin": ALL, "new name.txt": ALL, "tool.sh": ALL}
        await pilot.press("a")
        await until(pilot, lambda: isinstance(pilot.app.screen, ConfirmScreen), "the confirmation")
        assert pilot.app.screen.body_text.startswith(  # type: ignore[attr-defined]
            "Land as one commit on main in project:\n- blob.bin: whole file\n- new name.txt: whole file\n"
            "- tool.sh: whole file\n")
        await pilot.press("y")
        await until(pilot, lambda: run.partial_accepts and not screen.busy, "the partial accept")

    run_app(app, body)
    assert (repo / "blob.bin").read_bytes() == b"\x00\x01\x02binary\xff"
    assert (repo / "new name.txt").exists() and not (repo / "old name.txt").exists()
    assert os.access(repo / "tool.sh", os.X_OK)
    assert (repo / "gone.txt").exists() and not (repo / "fresh.txt").exists()  # not selected
    assert (repo / "src" / "app.py").read_text() == "def main():\n    return 1\n"


# -- the diff model on its own ---------------------------------------------------------------


def test_the_patch_splits_per_file_and_each_file_is_laid_out(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "r", {"f.txt": ORIGINAL, "moved.txt": "a file long enough to be a rename\n"})
    git(repo, "switch", "-q", "-c", "work")
    (repo / "f.txt").write_text(ORIGINAL.replace("line 2\n", "line 2a\nline 2b\n").replace("line 28\n", ""))
    git(repo, "mv", "moved.txt", "renamed.txt")
    git(repo, "commit", "-qam", "work")
    patch = patch_text(repo, "main", "work")
    sections = split_patch(patch)
    assert "".join(sections) == patch and len(sections) == 2
    index = PatchIndex(patch)
    assert index.section("moved.txt") == index.section("renamed.txt") == sections[1]

    model = prepare_file(index.section("f.txt") or "")
    assert [h.header.split(" @@")[0] for h in model.hunks] == ["@@ -1,5 +1,6", "@@ -25,6 +26,5"]
    first = model.hunks[0]
    assert first.lines == [" line 1", "-line 2", "+line 2a", "+line 2b", " line 3", " line 4", " line 5"]
    assert (list(first.old), list(first.new)) == ([1, 2, 0, 0, 3, 4, 5], [1, 0, 2, 3, 4, 5, 6])
    # Side by side: the removed line pairs with the first added one; the second has a blank.
    assert (list(first.left), list(first.right)) == ([0, 1, -1, 4, 5, 6], [0, 2, 3, 4, 5, 6])
    assert model.unified_starts == [0, 8] and model.split_starts == [0, 7]
    assert model.unified_rows == 8 + 1 + 6 and model.split_rows == 7 + 1 + 6
    assert (model.hunk_span(1, False), model.hunk_span(1, True)) == ((8, 15), (7, 14))
    assert model.lexer is None  # plain text is not coloured


def test_python_lines_get_syntax_spans_side_by_side(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "r", {"m.py": "def f():\n    return 1  # one\n"})
    git(repo, "switch", "-q", "-c", "work")
    (repo / "m.py").write_text("def f():\n    return 'two'  # two\n")
    git(repo, "commit", "-qam", "work")
    model = prepare_file(patch_text(repo, "main", "work"))
    assert model.lexer is not None
    hunk = model.hunks[0]
    spans = syntax_spans(model, 0, 0)
    by_line = {line: [(line[1:][s:e], c) for s, e, c in found] for line, found in zip(hunk.lines, spans)}
    assert by_line[" def f():"][:2] == [("def", "keyword"), ("f", "function")]
    assert ("return", "keyword") in by_line["-    return 1  # one"]
    assert ("1", "number") in by_line["-    return 1  # one"] and ("# one", "comment") in by_line["-    return 1  # one"]
    assert ("'two'", "string") in by_line["+    return 'two'  # two"]


def test_a_type_change_is_one_file_taken_whole(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "r", {"target.txt": "t\n", "link": "a plain file\n"})
    git(repo, "switch", "-q", "-c", "work")
    (repo / "link").unlink()
    (repo / "link").symlink_to("target.txt")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "work")
    index = PatchIndex(patch_text(repo, "main", "work"))
    assert len(index) == 2  # git writes a type change as a deletion and an addition
    model = prepare_file(index.section("link") or "")
    assert model.whole_only and model.selectable_hunks == 0 and model.hunk_count == 2
    assert [h.lines for h in model.hunks] == [["-a plain file"], ["+target.txt", "\\ No newline at end of file"]]
    assert model.header == [("meta", "type changed: shown as the old file deleted and the new one added")]
