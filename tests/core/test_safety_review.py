"""Adversarial safety review of the core: scenarios that broke "never loses work" or "writes to
the user's checkout only on accept", each pinned here after its fix.

Real repositories in tmp_path; runs made by the real CLI with the stand-in kimi replaying
hand-made streams (its Shell calls run for real inside the run's worktree).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from hybrid_tui.agents.kimi import KimiAgent
from hybrid_tui.config import KimiSettings
from hybrid_tui.core import git as core_git
from hybrid_tui.core.errors import ActionFailed
from hybrid_tui.core.land.accept import accept_run, reject_run
from hybrid_tui.core.land.hunks import ALL, parse_hunks
from hybrid_tui.core.land.merge import preflight, rebase_run
from hybrid_tui.core.land.partial import accept_selection, run_hunks
from hybrid_tui.core.run.dispatch import RunExecution
from hybrid_tui.core.run.revise import prepare_revision
from hybrid_tui.core.runs import Run, RunStore, Status
from tests.support.cli import checkout_fingerprint, has_merge_head, run_cli, standin_env
from tests.support.processes import gone, wait_until
from tests.support.repos import git, make_repo
from tests.support.runs import agent_stream, record, run_spec, spec_file


def store() -> RunStore:
    return RunStore(Path(os.environ["HYBRID_TUI_STATE_DIR"]))


def made_run(
    tmp_path: Path,
    files: dict[str, str],
    calls: list[tuple[str, dict]],
    named: list[str],
    commands: list[str] | None = None,
    repo: Path | None = None,
) -> tuple[Path, Run]:
    """A finished run of the stand-in in a new repository holding `files`."""
    repo = repo or make_repo(tmp_path / "project", files)
    stream = agent_stream(tmp_path, "work", calls)
    result, _, summary = run_spec(repo, spec_file(tmp_path, named, commands or []), stream)
    assert result.returncode == 0, result.stderr
    return repo, store().load(summary["run_id"])


def refused_unchanged(repo: Path, action, expected: str) -> None:
    """`action()` raises ActionFailed naming `expected`, and the checkout is byte-identical."""
    before = checkout_fingerprint(repo)
    with pytest.raises(ActionFailed) as err:
        action()
    assert expected in str(err.value)
    assert checkout_fingerprint(repo) == before


# -- accept must not undo the user's own merge ----------------------------------------------------


def users_merge_in_progress(repo: Path) -> None:
    """A conflicting merge in the user's checkout, resolved by hand and staged, not committed."""
    git(repo, "switch", "-q", "-c", "theirs")
    (repo / "app.txt").write_text("theirs\n")
    git(repo, "commit", "-q", "-am", "theirs")
    git(repo, "switch", "-q", "main")
    (repo / "app.txt").write_text("ours\n")
    git(repo, "commit", "-q", "-am", "ours")
    with pytest.raises(subprocess.CalledProcessError):
        git(repo, "merge", "theirs")
    (repo / "app.txt").write_text("resolved by the user\n")
    git(repo, "add", "app.txt")


def test_accept_during_the_users_own_merge_is_refused_and_the_merge_kept(tmp_path: Path):
    # Before: git refused the merge ("commit your changes before you merge"), MERGE_HEAD (the
    # user's!) existed, so hybrid-tui ran `git merge --abort` and threw the resolution away.
    repo, run = made_run(
        tmp_path, {"app.txt": "base\n"}, [("WriteFile", {"path": "hello.txt", "content": "hi\n"})],
        ["CREATE hello.txt"],
    )  # fmt: skip
    users_merge_in_progress(repo)
    kinds = [f.kind for f in preflight(run) if f.blocking]
    assert "operation_in_progress" in kinds
    refused_unchanged(repo, lambda: accept_run(store(), run), "merge in progress")
    assert has_merge_head(repo) and (repo / "app.txt").read_text() == "resolved by the user\n"
    # The same through the squash strategy and a partial accept.
    refused_unchanged(repo, lambda: accept_run(store(), run, "squash"), "merge in progress")
    refused_unchanged(repo, lambda: accept_selection(store(), run, {"hello.txt": ALL}), "merge in progress")


def test_merge_branch_never_aborts_a_merge_it_did_not_start(tmp_path: Path):
    repo, run = made_run(
        tmp_path, {"app.txt": "base\n"}, [("WriteFile", {"path": "hello.txt", "content": "hi\n"})],
        ["CREATE hello.txt"],
    )  # fmt: skip
    users_merge_in_progress(repo)
    refused_unchanged(
        repo,
        lambda: core_git.merge_branch(repo, branch=run.branch, base_branch="main", message="m"),
        "git could not merge",
    )
    assert has_merge_head(repo) and (repo / "app.txt").read_text() == "resolved by the user\n"


# -- accept and reject must not throw away what is uncommitted in the run's worktree --------------


def test_accept_refuses_while_the_worktree_holds_uncommitted_work(tmp_path: Path):
    # Before: the branch was merged without the edit, then `git worktree remove --force` lost it.
    repo, run = made_run(
        tmp_path, {"app.txt": "base\n"}, [("WriteFile", {"path": "hello.txt", "content": "hi\n"})],
        ["CREATE hello.txt"],
    )  # fmt: skip
    worktree = Path(run.worktree)
    (worktree / "hello.txt").write_text("hi, fixed by the reviewer\n")
    (worktree / "note.txt").write_text("new\n")
    assert [f.kind for f in preflight(run)] == ["worktree_dirty"]
    refused_unchanged(repo, lambda: accept_run(store(), run), "hello.txt, note.txt")
    assert (worktree / "hello.txt").read_text() == "hi, fixed by the reviewer\n"
    assert store().load(run.id).status == Status.REVIEW
    # Reject too: its kept ref holds only what was committed.
    with pytest.raises(ActionFailed, match="To reject would discard them"):
        reject_run(store(), run)
    assert (worktree / "note.txt").exists() and git(repo, "branch", "--list", run.branch)
    # Once committed on the branch, accept goes ahead and lands the fix.
    git(worktree, "add", "-A")
    git(worktree, "commit", "-q", "-m", "reviewer's fix")
    accept_run(store(), run)
    assert (repo / "hello.txt").read_text() == "hi, fixed by the reviewer\n"


def test_reject_retried_after_a_crash_keeps_the_newest_tip(tmp_path: Path):
    # A reject that died after keeping the ref and deleting the branch, before run.json said so:
    # the retry used to overwrite the kept ref with the stale `head_sha`, losing later commits.
    repo, run = made_run(
        tmp_path, {"app.txt": "base\n"}, [("WriteFile", {"path": "hello.txt", "content": "hi\n"})],
        ["CREATE hello.txt"],
    )  # fmt: skip
    worktree = Path(run.worktree)
    (worktree / "more.txt").write_text("committed by hand after the run\n")
    git(worktree, "add", "-A")
    git(worktree, "commit", "-q", "-m", "by hand")
    tip = git(worktree, "rev-parse", "HEAD")
    assert tip != run.head_sha
    ref = f"refs/hybrid-tui/rejected/{run.id}"
    git(repo, "update-ref", ref, tip)
    core_git.remove_worktree(repo, worktree)
    git(repo, "branch", "-D", run.branch)
    reject_run(store(), store().load(run.id))
    assert git(repo, "rev-parse", ref) == tip
    assert store().load(run.id).status == Status.REJECTED


# -- ignored files are the user's too -------------------------------------------------------------


def test_accept_refuses_to_overwrite_ignored_and_untracked_files(tmp_path: Path):
    # git merge silently overwrites ignored files (and deletes ignored directories) in its way;
    # `git status` does not show them, so the local-change check missed them.
    repo, run = made_run(
        tmp_path,
        {".gitignore": ".env\nlogs/\ncache\n", "app.txt": "base\n"},
        [("Shell", {"command": "printf 'AGENT=1\\n' > .env && printf 'x\\n' > logs && mkdir cache && "
                               "printf 'y\\n' > cache/data && git add -f .env logs cache/data"})],
        ["CREATE .env", "CREATE logs", "CREATE cache/data"],
    )  # fmt: skip
    assert sorted(f.path for f in core_git.diff_names(repo, run.base_sha, run.head_sha)) == [".env", "cache/data", "logs"]
    (repo / ".env").write_text("SECRET=mine\n")
    (repo / "logs").mkdir()
    (repo / "logs" / "today.log").write_text("keep me\n")
    (repo / "cache").write_text("an ignored file where the branch wants a directory\n")
    finding = next(f for f in preflight(run) if f.kind == "untracked_overlap")
    assert finding.blocking and ".env" in finding.problem and "logs/today.log" in finding.problem
    assert "cache" in finding.problem
    for strategy in ("merge", "squash", "rebase"):
        refused_unchanged(repo, lambda strategy=strategy: accept_run(store(), run, strategy), ".env")
    refused_unchanged(repo, lambda: accept_selection(store(), run, {".env": ALL}), ".env")
    assert (repo / ".env").read_text() == "SECRET=mine\n"
    assert (repo / "logs" / "today.log").read_text() == "keep me\n"


# -- the checks are part of the run: a write of theirs into the checkout is reported ---------------


def test_checks_that_write_into_the_users_checkout_are_reported(tmp_path: Path, state_dir: Path):
    repo = make_repo(tmp_path / "project", {"README.md": "# demo\n"})
    command = f"echo pwned > {repo}/README.md; echo new > {repo}/dropped.txt"
    _, run = made_run(
        tmp_path, {}, [("WriteFile", {"path": "hello.txt", "content": "hi\n"})], ["CREATE hello.txt"],
        [command], repo=repo,
    )  # fmt: skip
    assert run.checks and run.checks[0].ok
    assert run.checkout_changes == ["README.md", "dropped.txt"]
    # The same from a re-run of the checks (`hybrid-tui verify`), which says so.
    git(repo, "checkout", "README.md")
    (repo / "dropped.txt").unlink()
    store().update(run, checkout_changes=[])
    result = run_cli("verify", run.id, "--approve-checks", cwd=repo)
    assert result.returncode == 0, result.stderr
    assert "Your checkout changed while the checks ran: README.md, dropped.txt" in result.stdout
    assert record(state_dir, run.id)["checkout_changes"] == ["README.md", "dropped.txt"]


# -- odd file names --------------------------------------------------------------------------------


def test_names_with_spaces_are_exact_in_the_hunk_model_and_accept_by_name(tmp_path: Path):
    # git ends a `---`/`+++` name holding a space with a tab; it used to stay in the path.
    repo, run = made_run(
        tmp_path,
        {"old name.txt": "one\n", "app.txt": "base\n"},
        [("WriteFile", {"path": "with space.txt", "content": "s\n"}),
         ("WriteFile", {"path": "ünï cödé.txt", "content": "u\n"}),
         ("WriteFile", {"path": "old name.txt", "content": "one\ntwo\n"}),
         ("Shell", {"command": "printf 'q\\n' > 'sp ace \"q\".txt' && printf 'r\\n' > -rf"})],
        ["CREATE with space.txt"],
    )  # fmt: skip
    paths = sorted(f.path for f in run_hunks(run))
    assert paths == sorted(f.path for f in core_git.diff_names(repo, run.base_sha, run.head_sha))
    assert paths == ["-rf", "old name.txt", 'sp ace "q".txt', "with space.txt", "ünï cödé.txt"]
    (repo / "with space.txt").write_text("the user's own\n")  # untracked, in the way
    refused_unchanged(repo, lambda: accept_selection(store(), run, {"with space.txt": ALL}), "with space.txt")
    (repo / "with space.txt").unlink()
    for name in paths:
        accept_selection(store(), store().load(run.id), {name: ALL})
    assert (repo / "with space.txt").read_text() == "s\n" and (repo / "-rf").read_text() == "r\n"
    assert (repo / 'sp ace "q".txt').read_text() == "q\n"
    assert git(repo, "status", "--porcelain") == ""


def test_parse_hunks_drops_the_tab_git_puts_after_a_name_with_a_space():
    patch = (
        "diff --git a/a b.txt b/a b.txt\nindex 1..2 100644\n--- a/a b.txt\t\n+++ b/a b.txt\t\n"
        "@@ -1 +1 @@\n-x\n+y\n"
        'diff --git "a/t\\tb c" "b/t\\tb c"\nnew file mode 100644\n--- /dev/null\n+++ "b/t\\tb c"\t\n'
        "@@ -0,0 +1 @@\n+z\n"
    )
    assert [f.path for f in parse_hunks(patch)] == ["a b.txt", "t\tb c"]


# -- an agent that breaks its worktree's link to the repository -------------------------------------


def test_an_agent_that_deletes_the_worktree_git_file_gets_its_work_committed(tmp_path: Path, monkeypatch):
    # With `.git` gone, git run "in the worktree" finds the nearest repository above it: here the
    # state dir lives inside another repository (a dotfiles repo at ~, say), which must not be
    # touched. The worktree is repaired and the agent's work committed on the run's branch.
    outer = make_repo(tmp_path / "outer", {"dotfile": "mine\n"})
    outer_head = git(outer, "rev-parse", "HEAD")
    monkeypatch.setenv("HYBRID_TUI_STATE_DIR", str(outer / "state"))
    repo, run = made_run(
        tmp_path, {"app.txt": "base\n"},
        [("WriteFile", {"path": "hello.txt", "content": "hi\n"}), ("Shell", {"command": "rm -rf .git"})],
        ["CREATE hello.txt"], ["test -f hello.txt"],
    )  # fmt: skip
    assert run.status == Status.REVIEW, run.message
    assert git(repo, "show", f"{run.branch}:hello.txt") == "hi"
    assert run.checks and run.checks[0].ok
    assert git(outer, "rev-parse", "HEAD") == outer_head and git(outer, "branch", "--list") == "* main"


def test_an_agent_that_runs_git_init_in_its_worktree_fails_the_run_without_touching_git(tmp_path: Path, state_dir: Path):
    repo = make_repo(tmp_path / "project", {"app.txt": "base\n"})
    stream = agent_stream(tmp_path, "work", [
        # the shell step first: the repo guard's look after a tool result runs in a thread, and
        # one running between the `rm` and the `git init` would put the .git file back first
        ("Shell", {"command": "rm -rf .git && git init -q"}), ("WriteFile", {"path": "hello.txt", "content": "hi\n"}),
    ])
    result = run_cli("run", str(spec_file(tmp_path, ["CREATE hello.txt"], [])), cwd=repo,
                     env=standin_env("kimi_success", KIMI_STANDIN_FIXTURE=str(stream)))
    assert result.returncode == 1 and "no longer a worktree of" in result.stderr, result.stderr
    (run,) = store().list()
    assert run.status == Status.FAILED and "no longer a worktree of" in run.message
    assert git(repo, "rev-parse", run.branch) == run.base_sha  # nothing committed anywhere odd
    assert (Path(run.worktree) / "hello.txt").read_text() == "hi\n"  # the work is still there


# -- the user's git config must not break the agent's commits -------------------------------------


def test_commit_signing_in_the_users_config_does_not_fail_the_agents_commits(tmp_path: Path):
    # With commit.gpgSign=true every run "crashed" with its work uncommitted (and a signing
    # prompt could hang a headless run). The agent's commits are not signed with the user's key.
    repo = make_repo(tmp_path / "project", {"app.txt": "base\n"})
    git(repo, "config", "commit.gpgSign", "true")
    git(repo, "config", "gpg.program", "false")
    _, run = made_run(
        tmp_path, {}, [("WriteFile", {"path": "hello.txt", "content": "hi\n"})], ["CREATE hello.txt"], repo=repo
    )
    assert run.status == Status.REVIEW, run.message
    assert git(repo, "show", f"{run.branch}:hello.txt") == "hi"
    (repo / "other.txt").write_text("moved\n")
    git(repo, "add", "other.txt")
    git(repo, "-c", "commit.gpgSign=false", "commit", "-q", "-m", "base moves")
    rebase_run(store(), run)  # re-commits the agent's work: unsigned as well
    assert git(repo, "rev-parse", f"{run.branch}~1") == git(repo, "rev-parse", "main")



# -- recovery of a run whose worktree the agent broke ----------------------------------------------


def dead_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


def test_recovery_lists_a_run_whose_worktree_cannot_be_committed(tmp_path: Path):
    # hybrid-tui killed while an agent had run `git init` in its worktree: recovery used to
    # raise on the first git command there, so `hybrid-tui runs` (and the TUI) failed every time.
    repo, broken = made_run(
        tmp_path, {"app.txt": "base\n"}, [("WriteFile", {"path": "hello.txt", "content": "hi\n"})],
        ["CREATE hello.txt"],
    )  # fmt: skip
    _, other = made_run(
        tmp_path, {}, [("WriteFile", {"path": "two.txt", "content": "2\n"})], ["CREATE two.txt"], repo=repo
    )
    for run in (broken, other):
        store().transition(run, Status.RUNNING, owner_pid=dead_pid(), pgid=None)
        (Path(run.worktree) / "late.txt").write_text("written before the crash\n")
    subprocess.run(["sh", "-c", "rm -rf .git && git init -q"], cwd=broken.worktree, check=True)
    (Path(other.worktree) / ".git").unlink()  # this one is repaired, its work committed
    result = run_cli("runs", "--json", cwd=repo)
    assert result.returncode == 0, result.stderr
    assert {r["id"]: r["status"] for r in json.loads(result.stdout)} == {broken.id: "interrupted", other.id: "interrupted"}
    assert "could not be committed" in store().load(broken.id).message
    assert (Path(broken.worktree) / "late.txt").exists()
    assert git(repo, "show", f"{other.branch}:late.txt") == "written before the crash"


def test_recovery_stops_the_orphan_agent_when_the_state_dir_is_a_symlink(repo: Path, tmp_path: Path, monkeypatch):
    # The kernel reports the agent's cwd with symlinks resolved; compared with the unresolved
    # worktree path it never matched, so the orphan agent went on writing in the worktree.
    real = tmp_path / "real-state"
    real.mkdir()
    (tmp_path / "state-link").symlink_to(real)
    monkeypatch.setenv("HYBRID_TUI_STATE_DIR", str(tmp_path / "state-link"))
    fifo = tmp_path / "release"
    os.mkfifo(fifo)
    spec = spec_file(tmp_path, ["CREATE hello.txt"], [])
    env = {**os.environ, **standin_env("kimi_success", KIMI_STANDIN_BLOCK_AFTER="2", KIMI_STANDIN_FIFO=str(fifo))}
    proc = subprocess.Popen([sys.executable, "-m", "hybrid_tui", "run", str(spec), "--json"], cwd=repo, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        proc.stdout.readline()
        proc.stdout.readline()  # the WriteFile result: the agent now blocks on the FIFO
        (record_path,) = (real / "runs").glob("*/run.json")
        assert wait_until(lambda: json.loads(record_path.read_text()).get("pgid"))
        agent_pid = json.loads(record_path.read_text())["pgid"]
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        assert not gone(agent_pid)
    finally:
        proc.kill()
        proc.wait()
    try:
        result = run_cli("runs", "--json", cwd=repo)
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout)[0]["status"] == "interrupted"
        assert wait_until(lambda: gone(agent_pid)), "the orphaned agent was not stopped"
    finally:
        if not gone(agent_pid):  # never leave it blocked on the FIFO when the test fails
            os.killpg(agent_pid, signal.SIGKILL)


def test_partial_accept_whatever_the_users_diff_config(tmp_path: Path):
    # `diff.suppressBlankEmpty` printed blank context lines as "" (the hunk ended there: "corrupt
    # patch"), `diff.context=0` gave hunks `git apply` refuses without --unidiff-zero.
    before = "a\n\nb\nc\nd\ne\nf\ng\nh\n\ni\n"
    repo = make_repo(tmp_path / "project", {"app.txt": before})
    git(repo, "config", "diff.suppressBlankEmpty", "true")
    git(repo, "config", "diff.context", "0")
    _, run = made_run(
        tmp_path, {}, [("WriteFile", {"path": "app.txt", "content": before.replace("b", "B").replace("i", "I")})],
        ["MODIFY app.txt"], repo=repo,
    )  # fmt: skip
    (entry,) = run_hunks(run)
    assert [h.header.split(" @@")[0] for h in entry.hunks] == ["@@ -1,6 +1,6", "@@ -8,4 +8,4"]
    assert " " in entry.hunks[0].lines and " " in entry.hunks[1].lines  # the blank context lines
    accept_selection(store(), run, {"app.txt": {1}})
    assert (repo / "app.txt").read_text() == before.replace("i", "I")


# -- a revision that crashes still has its work committed -------------------------------------------


def test_a_revision_stopped_by_an_unexpected_error_commits_what_its_agent_left(tmp_path: Path, monkeypatch):
    # `_record_crash` committed only when the run had no `head_sha` yet, which a revision always
    # has (the first attempt's): the revision's work stayed uncommitted in the worktree.
    repo, run = made_run(
        tmp_path, {"app.txt": "base\n"}, [("WriteFile", {"path": "hello.txt", "content": "hi\n"})],
        ["CREATE hello.txt"],
    )  # fmt: skip
    first_tip = run.head_sha
    stream = agent_stream(tmp_path, "revision", [("WriteFile", {"path": "hello.txt", "content": "hi, revised\n"})])
    for key, value in standin_env("kimi_success", KIMI_STANDIN_FIXTURE=str(stream)).items():
        monkeypatch.setenv(key, value)
    agent = KimiAgent(KimiSettings(flavour="legacy", timeout=30))
    prompt, run = prepare_revision(store(), run, "say it better", agent=agent)
    seen: list[object] = []

    def front_end_gone(events) -> None:
        seen.extend(events)
        if len(seen) >= 3:  # after the WriteFile result: the file is written
            raise RuntimeError("the front end went away")

    execution = RunExecution(store(), run, agent, revision=True, timeout=30, on_events=front_end_gone)
    with pytest.raises(RuntimeError):
        asyncio.run(execution.start())
    run = store().load(run.id)
    assert run.status == Status.FAILED and run.failure_kind == "crashed"
    assert run.head_sha != first_tip and git(repo, "show", f"{run.branch}:hello.txt") == "hi, revised"
    assert git(run.worktree, "status", "--porcelain") == ""
    assert run.revisions[-1].status == "failed"


def test_a_state_dir_inside_the_project_is_refused_before_anything_is_written(tmp_path: Path, monkeypatch):
    # Run records, transcripts and worktrees were written into the user's checkout at every run
    # (and reported back as "your checkout changed while the agent ran").
    repo = make_repo(tmp_path / "project", {"app.txt": "base\n"})
    monkeypatch.setenv("HYBRID_TUI_STATE_DIR", str(repo / ".hybrid-tui"))
    before = checkout_fingerprint(repo)
    result = run_cli("run", str(spec_file(tmp_path, ["CREATE hello.txt"], [])), cwd=repo,
                     env=standin_env("kimi_success"))
    assert result.returncode == 2 and "state dir" in result.stderr and "inside the project" in result.stderr
    assert checkout_fingerprint(repo) == before and not (repo / ".hybrid-tui").exists()
    assert git(repo, "branch", "--list") == "* main"


def test_a_tag_named_like_the_base_branch_does_not_hide_an_overlap(tmp_path: Path):
    # `git diff main...tip` takes the tag refs/tags/main over the branch: a tag on the run's tip
    # made the branch's paths look empty, so no local change could overlap them.
    repo, run = made_run(
        tmp_path, {"app.txt": "base\n"}, [("WriteFile", {"path": "hello.txt", "content": "hi\n"})],
        ["CREATE hello.txt"],
    )  # fmt: skip
    git(repo, "tag", "main", run.head_sha)
    (repo / "hello.txt").write_text("mine\n")
    assert [f.kind for f in preflight(run)] == ["local_overlap"]


def test_an_agent_that_touches_the_users_branches_stash_or_config_is_reported(tmp_path: Path):
    # A worktree shares every ref of the repository: the agent's `git branch -D` or
    # `git stash clear` reaches the user's. Reported with the old sha, to get them back.
    repo = make_repo(tmp_path / "project", {"app.txt": "base\n"})
    git(repo, "branch", "feature")
    feature = git(repo, "rev-parse", "feature")
    (repo / "app.txt").write_text("stashed work\n")
    git(repo, "stash", "-q")
    stash = git(repo, "rev-parse", "refs/stash")
    _, run = made_run(
        tmp_path, {},
        [("WriteFile", {"path": "hello.txt", "content": "hi\n"}),
         ("Shell", {"command": "git branch -D feature && git stash clear && git tag agent-tag && "
                               "git config user.email agent@example.invalid"})],
        ["CREATE hello.txt"], repo=repo,
    )  # fmt: skip
    assert run.checkout_changes == [
        f"refs/heads/feature (was {feature[:12]})", f"refs/stash (was {stash[:12]})", "refs/tags/agent-tag (new)",
    ]
    # The config is shared by every worktree (the user's next commit too): put back, and said.
    assert [(t.path, t.change) for t in run.git_tampering] == [(".git/config", "changed")]
    assert git(repo, "config", "user.email") == "test@example.invalid"


def test_a_change_hidden_by_assume_unchanged_is_not_overwritten(tmp_path: Path):
    # `git status` does not show it, so the local-change check passed; git's merge then refused
    # and, on its way out, put the file back to the index's version: the change was gone.
    repo, run = made_run(
        tmp_path, {"app.txt": "a\nb\nc\n"}, [("WriteFile", {"path": "app.txt", "content": "a\nB\nc\n"})],
        ["MODIFY app.txt"],
    )  # fmt: skip
    git(repo, "update-index", "--assume-unchanged", "app.txt")
    (repo / "app.txt").write_text("a\nb\nc\nmy local setting\n")
    assert [f.kind for f in preflight(run)] == ["assumed_unchanged"]
    for strategy in ("merge", "squash", "rebase"):
        refused_unchanged(repo, lambda strategy=strategy: accept_run(store(), run, strategy), "assume unchanged")
    refused_unchanged(repo, lambda: accept_selection(store(), run, {"app.txt": ALL}), "assume unchanged")
    assert (repo / "app.txt").read_text() == "a\nb\nc\nmy local setting\n"


def test_cleanup_leaves_the_users_own_missing_worktrees_alone(tmp_path: Path, state_dir: Path):
    # `git worktree prune` after each removal also dropped the record (index, HEAD) of any
    # worktree of the user's whose directory was missing at that moment (a disk not mounted).
    repo, run = made_run(
        tmp_path, {"app.txt": "base\n"}, [("WriteFile", {"path": "hello.txt", "content": "hi\n"})],
        ["CREATE hello.txt"],
    )  # fmt: skip
    mine = tmp_path / "my-worktree"
    git(repo, "worktree", "add", "-q", "-b", "mine", str(mine))
    (mine / "staged.txt").write_text("staged in my worktree\n")
    git(mine, "add", "staged.txt")
    away = tmp_path / "unmounted"
    mine.rename(away)
    reject_run(store(), run)
    assert not (state_dir / "worktrees" / run.id).exists()
    assert str(mine) in git(repo, "worktree", "list")
    away.rename(mine)
    assert git(mine, "status", "--porcelain") == "A  staged.txt"
    # Removing a run's worktree whose directory is already gone works too, and again.
    _, other = made_run(tmp_path, {}, [("WriteFile", {"path": "b.txt", "content": "b\n"})], ["CREATE b.txt"], repo=repo)
    subprocess.run(["rm", "-rf", other.worktree], check=True)
    core_git.remove_worktree(repo, Path(other.worktree))
    core_git.remove_worktree(repo, Path(other.worktree))
    assert other.worktree not in git(repo, "worktree", "list")
