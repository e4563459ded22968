"""The review session without the screen (issue 12): what a review knows and does is plain
Python, driven here directly on a real run (real git, the CLI with the stand-in kimi)."""

from __future__ import annotations

from hybrid_tui.config import Settings
from hybrid_tui.core.land.hunks import ALL
from hybrid_tui.core.review.session import ReviewSession
from hybrid_tui.core.runs import Status
from tests.support.repos import git
from tests.support.runs import LINES


def loaded(store, run) -> ReviewSession:
    session = ReviewSession(store, run, Settings())
    listing = session.read_files(session.reload())
    assert session.take_files(listing)
    assert session.tip is not None
    assert session.take_counts(session.generation, session.read_counts(session.tip))
    assert session.take_patch(session.generation, session.read_patch(session.tip))
    return session


def test_the_session_lists_counts_and_splits_the_run(three_hunks) -> None:
    repo, run, store = three_hunks
    session = loaded(store, run)

    assert session.tip == git(repo, "rev-parse", run.branch)
    assert [(f.path, f.added, f.removed) for f in session.files or []] == [("numbers.txt", 3, 3)]
    assert session.counted and session.flagged() == set() and session.scope is not None
    assert session.patch is not None and (session.patch.section("numbers.txt") or "").count("\n@@ ") == 3


def test_results_of_an_older_generation_are_dropped(three_hunks) -> None:
    _, run, store = three_hunks
    session = ReviewSession(store, run, Settings())
    old = session.read_files(session.reload())
    session.reload()  # a rebase came between
    assert not session.take_files(old) and session.files is None
    assert not session.take_counts(old.generation, []) and not session.counted


def test_a_selection_of_hunks_is_summed_up_asked_and_landed(three_hunks) -> None:
    repo, run, store = three_hunks
    session = loaded(store, run)
    session.hunk_counts["numbers.txt"] = 3

    session.toggle_hunk("numbers.txt", 0, 3)
    session.toggle_hunk("numbers.txt", 2, 3)
    assert session.selection == {"numbers.txt": {0, 2}}
    assert session.selection_summary() == "● 2 hunks selected"
    session.toggle_hunk("numbers.txt", 1, 3)
    assert session.selection == {"numbers.txt": ALL} and session.selection_summary() == "● 1 file selected"
    session.toggle_hunk("numbers.txt", 1, 3)

    selection = session.selection_copy()
    findings = session.findings(selection)
    assert findings == [] and session.refusal_text(findings) is None
    question = session.accept_question(selection, findings)
    assert question.title == "Accept the selection?"
    assert f"- numbers.txt: hunks 1 and 3 of 3\nThe rest stays on {run.branch}" in question.body

    landed = session.land("accept", selection)
    assert landed.action == "partial" and landed.sha == git(repo, "rev-parse", "main")
    said = session.take_partial(landed)
    assert said == (f"Landed on main as {landed.sha[:7]}: numbers.txt: hunks 1 and 3 of 3. "
                    f"The rest stays on {run.branch}.")
    assert session.selection == {} and run.status is Status.REVIEW
    lines = (repo / "numbers.txt").read_text().splitlines()
    assert lines[1] == "line 2 (agent)" and lines[14] == LINES[14] and lines[27] == "line 28 (agent)"


def test_a_moved_base_offers_the_rebase_which_the_session_does_and_undoes(three_hunks) -> None:
    repo, run, store = three_hunks
    (repo / "README.md").write_text("# demo, moved on\n")
    git(repo, "commit", "-qam", "the base moves on")
    session = loaded(store, run)

    findings = session.findings(None)
    session.take_findings(findings)
    assert session.offer_rebase and [f.kind for f in findings] == ["base_moved"]
    advice = session.advice_text(findings) or ""
    assert f"b rebases {run.branch} onto main (u undoes it)" in advice

    old_base = run.base_sha
    said = session.take_rebase("rebase", session.rebase("rebase"))
    assert said.startswith(f"Rebased {run.branch} onto main") and not session.offer_rebase
    assert run.base_sha == git(repo, "rev-parse", "main") != old_base
    said = session.take_rebase("undo", session.rebase("undo"))
    assert said == f"Undid the rebase: {run.branch} is back on {old_base[:7]}." and run.rebase is None


def test_reject_asks_naming_the_kept_tip_then_rejects(three_hunks) -> None:
    repo, run, store = three_hunks
    session = loaded(store, run)
    question = session.reject_question()
    assert question.body == (f"Delete branch {run.branch} and its worktree. Its tip {(session.tip or '')[:7]} "
                             f"is kept as refs/hybrid-tui/rejected/{run.id}.")
    landed = session.land("reject", None)
    assert landed.action == "reject" and run.status is Status.REJECTED
    assert git(repo, "branch", "--list", run.branch) == ""
    assert session.landed_text(landed) == (
        "Run rejected", f"Rejected: {run.branch} deleted; its tip is kept as refs/hybrid-tui/rejected/{run.id}.")
