"""Accept what is good (issue 6): chosen files and hunks land on the base branch as one commit,
the rest stays on the run's branch; squash lands the whole branch as one commit.

Real repositories, runs made by the real CLI with the stand-in kimi replaying hand-made streams.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from hybrid_tui.core.errors import ActionFailed, InputError
from hybrid_tui.core.git import patch_text
from hybrid_tui.core.land.accept import accept_run
from hybrid_tui.core.land.hunks import ALL, build_patch, parse_hunks, unquote_path
from hybrid_tui.core.land.partial import accept_selection, run_hunks
from tests.support.cli import checkout_fingerprint, run_cli
from tests.support.repos import git, make_repo
from tests.support.runs import (
    ORIGINAL,
    THREE_CHANGES,
    edited,
    make_run,
)


def test_two_of_three_hunks_land_as_one_commit(three_hunks):
    repo, run, store = three_hunks
    old_main, tip = git(repo, "rev-parse", "main"), git(repo, "rev-parse", run.branch)
    (numbers,) = run_hunks(run)
    assert [h.header.split(" @@")[0] for h in numbers.hunks] == ["@@ -1,5 +1,5", "@@ -12,7 +12,7", "@@ -25,6 +25,6"]

    sha = accept_selection(store, run, {"numbers.txt": {0, 2}})

    assert git(repo, "rev-parse", "main") == sha and git(repo, "rev-parse", f"{sha}^@") == old_main
    assert (repo / "numbers.txt").read_text() == edited(l2="line 2 (agent)", l28="line 28 (agent)")
    assert git(repo, "show", f"{sha}:numbers.txt") + "\n" == (repo / "numbers.txt").read_text()
    assert git(repo, "status", "--porcelain", "--untracked-files=all") == ""
    assert git(repo, "log", "-1", "--format=%an|%s", sha) == f"Kimi (hybrid-tui)|Accept part of {run.branch}: Edit the files"
    # The run is untouched: same branch tip, worktree, status; the partial accept recorded.
    assert git(repo, "rev-parse", run.branch) == tip
    assert Path(run.worktree).is_dir()
    stored = store.load(run.id)
    assert stored.status.value == "review"
    assert [(p.sha, p.paths) for p in stored.partial_accepts] == [(sha, ["numbers.txt"])]

    # Later the rest lands with a normal accept: git sees the accepted hunks on both sides.
    accepted = accept_run(store, stored)
    assert accepted.status.value == "accepted"
    assert (repo / "numbers.txt").read_text() == THREE_CHANGES


def test_a_later_hunk_alone_gets_its_new_start_shifted_by_the_skipped_ones(tmp_path: Path):
    # Hunk 0 adds a line, so hunk 2's new-side start must move back by one when hunk 0 is left out.
    repo, run, store = make_run(
        tmp_path, {"numbers.txt": ORIGINAL},
        [("WriteFile", {"path": "numbers.txt", "content": ORIGINAL.replace("line 2\n", "line 2\nline 2b\n")
                        .replace("line 28\n", "line 28 (agent)\n")})],
        ["MODIFY numbers.txt"],
    )
    files = run_hunks(run)
    assert [h.new_start for h in files[0].hunks] == [1, 26]
    patch = build_patch(files, {"numbers.txt": {1}})
    assert "@@ -25,6 +25,6 @@" in patch
    accept_selection(store, run, {"numbers.txt": {1}})
    assert (repo / "numbers.txt").read_text() == edited(l28="line 28 (agent)")


def test_only_from_the_cli_lands_a_new_file_and_a_deletion(tmp_path: Path):
    repo, run, _ = make_run(
        tmp_path,
        {"gone.txt": "to delete\n", "keep.txt": "keep\n"},
        [("WriteFile", {"path": "new.txt", "content": "brand new\n"}),
         ("Shell", {"command": "rm gone.txt"}),
         ("WriteFile", {"path": "keep.txt", "content": "keep, but changed\n"})],
        ["CREATE new.txt", "DELETE gone.txt", "MODIFY keep.txt"],
    )
    result = run_cli("accept", run.id, "--only", "new.txt", "gone.txt", "--json", cwd=repo)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["status"] == "review" and data["partial_accept"]["paths"] == ["gone.txt", "new.txt"]
    assert git(repo, "rev-parse", "main") == data["partial_accept"]["sha"]
    assert (repo / "new.txt").read_text() == "brand new\n"
    assert not (repo / "gone.txt").exists()
    assert (repo / "keep.txt").read_text() == "keep\n"  # not selected: still only on the branch
    assert git(repo, "status", "--porcelain", "--untracked-files=all") == ""
    assert git(repo, "show", f"{run.branch}:keep.txt") == "keep, but changed"


def test_binary_files_renames_and_mode_changes_land_whole(tmp_path: Path):
    repo, run, store = make_run(
        tmp_path,
        {"old name.txt": "a file that moves and is long enough to be seen as a rename\n",
         "tool.sh": "echo hi\n", "café.txt": "accents\n"},
        [("Shell", {"command": "printf '\\000\\001\\002binary\\377' > blob.bin && mv 'old name.txt' 'new name.txt'"
                    " && chmod +x tool.sh && echo more >> café.txt"})],
        ["CREATE blob.bin", "DELETE old name.txt", "CREATE new name.txt", "MODIFY tool.sh"],
    )
    files = {f.path: f for f in run_hunks(run)}
    assert files["blob.bin"].binary and files["new name.txt"].status == "renamed"
    assert files["new name.txt"].old_path == "old name.txt" and "café.txt" in files
    with pytest.raises(InputError, match="binary"):
        accept_selection(store, run, {"blob.bin": {0}})

    sha = accept_selection(store, run, {name: ALL for name in ("blob.bin", "old name.txt", "tool.sh", "café.txt")})
    assert git(repo, "rev-parse", f"{sha}^{{tree}}") == git(repo, "rev-parse", f"{run.branch}^{{tree}}")
    assert (repo / "blob.bin").read_bytes() == b"\x00\x01\x02binary\xff"
    assert (repo / "new name.txt").exists() and not (repo / "old name.txt").exists()
    assert os.access(repo / "tool.sh", os.X_OK)
    assert store.load(run.id).partial_accepts[0].paths == ["blob.bin", "café.txt", "old name.txt", "new name.txt", "tool.sh"]


def test_a_local_change_on_a_selected_file_refuses_and_changes_nothing(three_hunks):
    repo, run, store = three_hunks
    (repo / "numbers.txt").write_text("my own edit\n")
    before = checkout_fingerprint(repo)
    with pytest.raises(ActionFailed, match="Local changes .* numbers.txt"):
        accept_selection(store, run, {"numbers.txt": {0}})
    assert checkout_fingerprint(repo) == before
    assert store.load(run.id).partial_accepts == []


def test_bad_selections_are_input_errors(three_hunks):
    repo, run, store = three_hunks
    before = checkout_fingerprint(repo)
    for selection, message in (({"nope.txt": ALL}, "not a file the run changed"),
                               ({"numbers.txt": {3}}, "no hunk 3"),
                               ({"numbers.txt": set()}, "nothing selected")):
        with pytest.raises(InputError, match=message):
            accept_selection(store, run, selection)
    result = run_cli("accept", run.id, "--only", "nope.txt", cwd=repo)
    assert result.returncode == 2 and "nope.txt: not a file the run changed" in result.stderr
    assert checkout_fingerprint(repo) == before


# A file of look-alike lines: a hunk's context matches in many places, so `git apply` alone would
# happily apply an already landed insertion a second time a few lines further on.
REPEATED = "pass\n" * 30
TWO_INSERTIONS = "pass\n" * 5 + "first insert\n" + "pass\n" * 20 + "second insert\n" + "pass\n" * 5


@pytest.fixture
def two_insertions(tmp_path: Path):
    return make_run(
        tmp_path,
        {"repeated.txt": REPEATED},
        [("WriteFile", {"path": "repeated.txt", "content": TWO_INSERTIONS})],
        ["MODIFY repeated.txt"],
    )


def test_accepting_a_file_whose_hunks_already_landed_applies_only_the_rest(two_insertions):
    repo, run, store = two_insertions
    assert len(run_hunks(run)[0].hunks) == 2
    first = accept_selection(store, run, {"repeated.txt": {0}})
    assert (repo / "repeated.txt").read_text().count("first insert") == 1

    # The whole file from the CLI: the landed hunk is skipped, only the second one is applied.
    result = run_cli("accept", run.id, "--only", "repeated.txt", "--json", cwd=repo)
    assert result.returncode == 0, result.stderr
    second = json.loads(result.stdout)["partial_accept"]["sha"]
    assert (repo / "repeated.txt").read_text() == TWO_INSERTIONS
    assert git(repo, "rev-parse", f"{second}^") == first
    assert git(repo, "diff", "--numstat", first, second) == "1\t0\trepeated.txt"
    assert [p.sha for p in store.load(run.id).partial_accepts] == [first, second]
    assert git(repo, "status", "--porcelain", "--untracked-files=all") == ""


def test_accepting_the_same_hunks_twice_refuses_then_the_rest_still_lands(two_insertions):
    repo, run, store = two_insertions
    first = accept_selection(store, run, {"repeated.txt": {0}})
    run = store.load(run.id)
    before = checkout_fingerprint(repo)
    with pytest.raises(ActionFailed, match=f"already accepted in {first[:7]}"):
        accept_selection(store, run, {"repeated.txt": {0}})
    assert checkout_fingerprint(repo) == before
    assert [p.sha for p in store.load(run.id).partial_accepts] == [first]

    second = accept_selection(store, store.load(run.id), {"repeated.txt": {1}})
    assert (repo / "repeated.txt").read_text() == TWO_INSERTIONS
    assert git(repo, "rev-parse", f"{second}^") == first
    # Now everything is there: the whole file again is refused, naming the last commit.
    with pytest.raises(ActionFailed, match=f"already accepted in {second[:7]}"):
        accept_selection(store, store.load(run.id), {"repeated.txt": ALL})
    assert git(repo, "rev-parse", "main") == second


def test_a_new_file_accepted_twice_is_refused_the_second_time(tmp_path: Path):
    repo, run, store = make_run(
        tmp_path, {"keep.txt": "keep\n"},
        [("WriteFile", {"path": "new.txt", "content": "brand new\n"}),
         ("WriteFile", {"path": "keep.txt", "content": "keep, but changed\n"})],
        ["CREATE new.txt", "MODIFY keep.txt"],
    )
    first = accept_selection(store, run, {"new.txt": ALL})
    with pytest.raises(ActionFailed, match=f"already accepted in {first[:7]}"):
        accept_selection(store, store.load(run.id), {"new.txt": ALL})
    # Together with a file not landed yet, only that one is applied.
    second = accept_selection(store, store.load(run.id), {"new.txt": ALL, "keep.txt": ALL})
    assert git(repo, "diff", "--name-only", first, second) == "keep.txt"
    assert store.load(run.id).partial_accepts[-1].paths == ["keep.txt"]


def test_squash_lands_the_branch_as_one_commit_and_keeps_its_tip(tmp_path: Path, state_dir: Path):
    repo, run, _ = make_run(
        tmp_path, {"numbers.txt": ORIGINAL},
        [("WriteFile", {"path": "numbers.txt", "content": THREE_CHANGES}),
         ("WriteFile", {"path": "notes.txt", "content": "notes\n"})],
        ["MODIFY numbers.txt", "CREATE notes.txt"],
    )
    old_main, tip = git(repo, "rev-parse", "main"), git(repo, "rev-parse", run.branch)
    result = run_cli("accept", run.id, "--squash", "--json", cwd=repo)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    head = git(repo, "rev-parse", "HEAD")
    assert (data["status"], data["strategy"], data["merge_sha"]) == ("accepted", "squash", head)
    assert git(repo, "rev-parse", "HEAD^@") == old_main  # one parent: a squash, not a merge
    assert git(repo, "rev-parse", "HEAD^{tree}") == git(repo, "rev-parse", f"{tip}^{{tree}}")
    assert git(repo, "rev-parse", f"refs/hybrid-tui/accepted/{run.id}") == tip
    assert git(repo, "branch", "--list", run.branch) == ""
    assert not (state_dir / "worktrees" / run.id).exists()
    assert git(repo, "status", "--porcelain") == ""


# -- the hunk model on its own -----------------------------------------------------------------


def test_parse_and_build_round_trip_a_real_diff(tmp_path: Path):
    repo = make_repo(tmp_path / "r", {"f.txt": ORIGINAL, "g.txt": "g\n"})
    git(repo, "switch", "-q", "-c", "work")
    (repo / "f.txt").write_text(THREE_CHANGES)
    (repo / "g.txt").write_text("g\nno newline at the end")
    git(repo, "commit", "-qam", "work")
    patch = patch_text(repo, "main", "work")
    files = parse_hunks(patch)
    assert [(f.path, len(f.hunks)) for f in files] == [("f.txt", 3), ("g.txt", 1)]
    assert files[1].hunks[0].lines[-1] == "\\ No newline at end of file"
    assert build_patch(files, {"f.txt": ALL, "g.txt": {0}}) == patch  # everything: as git wrote it
    assert build_patch(files, {"f.txt": {0, 1, 2}}) == build_patch(files, {"f.txt": ALL})
    assert build_patch(files, {}) == ""
    part = build_patch(files, {"f.txt": {1}, "g.txt": ALL})
    subprocess.run(["git", "switch", "-q", "main"], cwd=repo, check=True)
    subprocess.run(["git", "apply", "--check", "-"], cwd=repo, input=part, text=True, check=True)


def test_git_quoted_names_are_unquoted():
    assert unquote_path('"tab\\there \\"q\\" caf\\303\\251"') == 'tab\there "q" café'
    assert unquote_path("plain name.txt") == "plain name.txt"
