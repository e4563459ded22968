"""One writer at a time (issue 10, scope 4): the per-repository writer lock that accept (every
strategy, `--only`, the TUI's selection), rebase and its undo, reject, recovery and the push of a
pull request hold; its refusal after the wait; its release when the holder is killed; and
hybrid-tui's own landing left out of what other runs report as changes to the checkout.

Real repositories, real hybrid-tui processes (started together behind a barrier where two must
race), a real lock holder in a process of its own; the stand-in kimi makes the runs.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from textual.pilot import Pilot

from hybrid_tui.core import repo_lock
from hybrid_tui.core.repo_lock import RepoBusy, RepositoryWatch, writer
from hybrid_tui.core.runs import Run, RunStore, Status
from hybrid_tui.ui.dialogs.confirm import ConfirmScreen
from tests.support.cli import checkout_fingerprint, has_merge_head, run_cli, standin_env
from tests.support.pilot import build_app, open_review, run_app, until
from tests.support.repos import git, make_repo
from tests.support.runs import agent_stream, spec_file

BUSY = "another hybrid-tui is writing to"

# A writer of its own process: takes the lock, says so, holds it until its stdin has a line.
HOLDER = """\
import sys
from pathlib import Path
from hybrid_tui.core.repo_lock import writer
with writer(Path(sys.argv[1]), sys.argv[2], sys.argv[3]):
    print("held", flush=True)
    sys.stdin.readline()
"""

# `hybrid-tui ARGS`, started and ready (imports done), waiting for a line on stdin to go: the
# barrier that releases two of them at the same moment.
ON_GO = """\
import sys
from hybrid_tui.cli import main
print("ready", flush=True)
sys.stdin.readline()
sys.exit(main(sys.argv[1:]))
"""


@pytest.fixture
def store(state_dir: Path) -> RunStore:
    return RunStore(state_dir)


def make_run(store: RunStore, repo: Path, tmp_path: Path, files: dict[str, str]) -> Run:
    """A finished run (`hybrid-tui run`, the stand-in kimi) whose agent wrote `files`."""
    name = "-".join(Path(p).stem for p in files)[:40]
    (tmp_path / name).mkdir()
    stream = agent_stream(tmp_path / name, "stream", [("WriteFile", {"path": p, "content": c}) for p, c in files.items()])
    spec = spec_file(tmp_path / name, [f"CREATE {p}" for p in files], [], title=f"Add {name}")
    result = run_cli("run", str(spec), "--json", cwd=repo, env=standin_env("kimi_success", KIMI_STANDIN_FIXTURE=str(stream)))
    assert result.returncode == 0, result.stderr
    return store.load(json.loads(result.stdout.splitlines()[-1])["run_id"])


class Holder:
    """A process of its own holding the repository's writer lock for `operation` of `run_id`."""

    def __init__(self, root: Path, operation: str = "accept", run_id: str = "261101-115959-zz") -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", HOLDER, str(root), operation, run_id],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )
        assert self.proc.stdout is not None and self.proc.stdout.readline() == "held\n"
        self.pid = self.proc.pid

    def release(self) -> None:
        if self.proc.poll() is None:
            assert self.proc.stdin is not None
            self.proc.stdin.write("\n")
            self.proc.stdin.flush()
        self.proc.wait(timeout=10)

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)


def together(repo: Path, *commands: list[str]) -> list[subprocess.CompletedProcess]:
    """Start each `hybrid-tui` command, wait until all are ready, release them at once."""
    procs = [
        subprocess.Popen([sys.executable, "-c", ON_GO, *args], cwd=repo, stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for args in commands
    ]
    for proc in procs:
        assert proc.stdout is not None and proc.stdout.readline() == "ready\n"
    for proc in procs:
        assert proc.stdin is not None
        os.write(proc.stdin.fileno(), b"go\n")
    results = []
    for args, proc in zip(commands, procs):
        out, err = proc.communicate(timeout=120)
        results.append(subprocess.CompletedProcess(args, proc.returncode, out, err))
    return results


def assert_consistent(repo: Path) -> None:
    """Index and worktree match HEAD, nothing half done."""
    assert git(repo, "status", "--porcelain=v1", "--untracked-files=all") == ""
    assert subprocess.run(["git", "diff", "--quiet", "HEAD"], cwd=repo).returncode == 0
    assert subprocess.run(["git", "diff", "--quiet", "--cached", "HEAD"], cwd=repo).returncode == 0
    assert not has_merge_head(repo) and not (repo / ".git" / "index.lock").exists()
    assert git(repo, "symbolic-ref", "HEAD") == "refs/heads/main"


# -- the lock itself -----------------------------------------------------------------------


def test_the_lock_lives_in_the_git_common_dir_shared_by_every_worktree(repo: Path, tmp_path: Path):
    git(repo, "worktree", "add", "-q", str(tmp_path / "linked"), "-b", "side")
    expected = repo / ".git" / "hybrid-tui"
    assert repo_lock.lock_dir(repo) == expected
    assert repo_lock.lock_dir(tmp_path / "linked") == expected
    assert repo_lock.lock_dir(tmp_path / "not-a-repo") is None
    holder = Holder(tmp_path / "linked")  # held from the linked worktree: the same lock
    try:
        with pytest.raises(RepoBusy) as refused, writer(repo, "reject", "x", wait=0):
            pass
    finally:
        holder.release()
    assert "accept of run 261101-115959-zz" in str(refused.value)
    assert oct((expected / "writer.lock").stat().st_mode & 0o777) == "0o600"


def test_threads_of_one_process_wait_for_each_other_and_the_holder_may_take_it_again(repo: Path):
    held, release = threading.Event(), threading.Event()

    def hold() -> None:
        with writer(repo, "accept", "run-a"):
            with writer(repo, "rebase", "run-a"):  # the same thread: re-entrant
                held.set()
                release.wait(10)

    thread = threading.Thread(target=hold)
    thread.start()
    try:
        assert held.wait(10)
        with pytest.raises(RepoBusy) as refused, writer(repo, "reject", "run-b", wait=0):
            pass
    finally:
        release.set()
        thread.join(10)
    assert f"accept of run run-a (pid {os.getpid()}, since " in str(refused.value)
    with writer(repo, "reject", "run-b", wait=0):  # free again
        pass


def test_kill_9_of_the_holder_frees_the_lock_at_once(repo: Path):
    holder = Holder(repo)
    with pytest.raises(RepoBusy), writer(repo, "accept", "x", wait=0):
        pass
    holder.kill()
    with writer(repo, "accept", "x", wait=0):  # no stale lock, no wait
        assert json.loads((repo / ".git" / "hybrid-tui" / "writer.lock").read_text())["pid"] == os.getpid()


@pytest.mark.parametrize("command", [
    ["accept"], ["accept", "--squash"], ["accept", "--strategy", "rebase"], ["accept", "--only", "a.txt"],
    ["reject"], ["rebase"], ["rebase", "--undo"],
], ids=" ".join)
def test_a_second_writer_waits_then_refuses_naming_the_holder(store, repo: Path, tmp_path: Path, command: list[str]):
    run = make_run(store, repo, tmp_path, {"a.txt": "a\n"})
    (repo / "main.txt").write_text("main moved\n")  # so that rebase has something to do
    git(repo, "add", "main.txt")
    git(repo, "commit", "-q", "-m", "main moves")
    if command == ["rebase", "--undo"]:
        assert run_cli("rebase", run.id, cwd=repo).returncode == 0
    before = checkout_fingerprint(repo)
    refs = git(repo, "for-each-ref")
    record = (store.run_dir(run.id) / "run.json").read_text()
    holder = Holder(repo, "accept", "261101-115959-zz")
    try:
        result = run_cli(command[0], run.id, *command[1:], cwd=repo, env={"HYBRID_TUI_LOCK_WAIT": "0.2"})
    finally:
        holder.release()
    assert result.returncode == 1, result.stderr
    assert result.stderr == (
        f"hybrid-tui: another hybrid-tui is writing to {repo}: accept of run 261101-115959-zz "
        f"(pid {holder.pid}, since {result.stderr.split('since ')[1][:8]}). Waited 0.2 s; nothing changed.\n"
        "Try again once it has finished.\n"
    )
    assert checkout_fingerprint(repo) == before and git(repo, "for-each-ref") == refs
    assert (store.run_dir(run.id) / "run.json").read_text() == record
    again = run_cli(command[0], run.id, *command[1:], cwd=repo, env={"HYBRID_TUI_LOCK_WAIT": "0"})
    assert again.returncode == 0, again.stderr  # the lock is free: the same command goes through


def test_a_bad_lock_wait_is_bad_input(store, repo: Path, tmp_path: Path):
    run = make_run(store, repo, tmp_path, {"a.txt": "a\n"})
    before = checkout_fingerprint(repo)
    result = run_cli("accept", run.id, cwd=repo, env={"HYBRID_TUI_LOCK_WAIT": "soon"})
    assert result.returncode == 2
    assert result.stderr.startswith("hybrid-tui: HYBRID_TUI_LOCK_WAIT='soon': not a number of seconds >= 0\n")
    assert checkout_fingerprint(repo) == before and store.load(run.id).status == Status.REVIEW


def test_the_pull_request_push_holds_the_lock(store, repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A push sets the branch's upstream in the repository's config: a write like the others."""
    from hybrid_tui.core.review.pull_request import open_pull_request

    run = make_run(store, repo, tmp_path, {"a.txt": "a\n"})
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", str(remote))
    git(repo, "remote", "add", "origin", str(remote))
    gh = tmp_path / "bin" / "gh"  # on PATH so that the action is offered; never reached here
    gh.parent.mkdir()
    gh.write_text("#!/bin/sh\nexit 99\n")
    gh.chmod(0o755)
    holder = Holder(repo, "reject", "261101-115959-zz")
    try:
        with pytest.raises(RepoBusy) as refused:
            monkeypatch.setenv(repo_lock.WAIT_ENV, "0")
            open_pull_request(store, run, path=str(gh.parent))
    finally:
        holder.release()
    assert "reject of run 261101-115959-zz" in str(refused.value)
    assert git(remote, "for-each-ref") == ""  # nothing was pushed


# -- two accepts at once -------------------------------------------------------------------


# Whole accepts, each of two fresh runs; then `--only` accepts of two runs that stay under
# review (20 files each), which keeps the 20 trials to a few seconds of making runs.
WHOLE = [("merge", "merge"), ("squash", "rebase"), ("rebase", "merge"), ("merge", "squash"), ("rebase", "rebase"),
         ("squash", "squash")]
PARTIAL = 14


def test_twenty_trials_of_two_simultaneous_accepts_leave_the_checkout_consistent(store, tmp_path: Path):
    repo = make_repo(tmp_path / "project", {"README.md": "# demo\n"})
    trials: list[list[tuple[Run, list[str], str]]] = []
    for number, hows in enumerate(WHOLE):
        pair = []
        for side, how in zip("ab", hows):
            path = f"{side}{number}.txt"
            run = make_run(store, repo, tmp_path, {path: f"{path} by its run\n"})
            pair.append((run, ["accept", run.id, "--strategy", how], path))
        trials.append(pair)
    many = {side: {f"{side}-part{k}.txt": f"{side} part {k}\n" for k in range(PARTIAL)} for side in "ab"}
    a, b = (make_run(store, repo, tmp_path, many[side]) for side in "ab")
    for k in range(PARTIAL):
        trials.append([(run, ["accept", run.id, "--only", f"{side}-part{k}.txt"], f"{side}-part{k}.txt")
                       for run, side in ((a, "a"), (b, "b"))])
    assert len(trials) == 20
    contents = {f"{side}{number}.txt": f"{side}{number}.txt by its run\n" for number in range(len(WHOLE)) for side in "ab"}
    contents.update(many["a"] | many["b"])

    for pair in trials:
        results = together(repo, *(command for _, command, _ in pair))
        for (run, command, path), result in zip(pair, results):
            assert "Traceback" not in result.stderr, result.stderr
            record = store.load(run.id)
            landed = (repo / path).exists() and git(repo, "log", "--format=%H", "-1", "--", path) != ""
            if result.returncode == 0:  # it landed, after waiting for the other if need be
                assert landed and (repo / path).read_text() == contents[path]
                assert record.status == Status.ACCEPTED if "--only" not in command else record.partial_accepts
            else:  # or it refused, saying who held the lock, and changed nothing
                assert result.returncode == 1 and result.stderr.startswith(f"hybrid-tui: {BUSY}"), result.stderr
                assert not landed and record.status == Status.REVIEW
        assert any(result.returncode == 0 for result in results), [result.stderr for result in results]
        assert_consistent(repo)
    assert len(a.partial_accepts) == 0 and len(store.load(a.id).partial_accepts) == PARTIAL


def test_two_accepts_of_the_same_run_land_it_once(store, repo: Path, tmp_path: Path):
    run = make_run(store, repo, tmp_path, {"a.txt": "a\n"})
    first, second = together(repo, ["accept", run.id], ["accept", run.id])
    codes = sorted([first.returncode, second.returncode])
    late = first if first.returncode else second
    assert codes == [0, 1], (first.stderr, second.stderr)
    assert late.stderr == f"hybrid-tui: run {run.id} was already accepted.\n"  # read again once it waited
    assert git(repo, "rev-list", "--count", "--merges", "HEAD") == "1"
    assert_consistent(repo)


# -- hybrid-tui's own accept is no foreign change ------------------------------------------


def start_blocked_run(repo: Path, tmp_path: Path) -> tuple[subprocess.Popen, Path]:
    """`hybrid-tui run --json` whose agent wrote c.txt and now waits on a FIFO; returned once the
    agent has started (so the run's look at the checkout before it is taken)."""
    stream = agent_stream(tmp_path, "slow", [("WriteFile", {"path": "c.txt", "content": "c\n"})])
    (tmp_path / "slow").mkdir()
    spec = spec_file(tmp_path / "slow", ["CREATE c.txt"], [])
    fifo = tmp_path / "release"
    os.mkfifo(fifo)
    env = {**os.environ, **standin_env("kimi_success", KIMI_STANDIN_FIXTURE=str(stream),
                                        KIMI_STANDIN_BLOCK_AFTER="1", KIMI_STANDIN_FIFO=str(fifo))}
    proc = subprocess.Popen([sys.executable, "-m", "hybrid_tui", "run", str(spec), "--json"], cwd=repo, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    for line in proc.stdout:  # the sandbox notice, then the agent's first event
        if json.loads(line).get("kind") in ("text", "thinking", "tool_call", "tool_result"):
            break
    return proc, fifo


def finish_blocked_run(proc: subprocess.Popen, fifo: Path) -> dict:
    with open(fifo, "w") as release:
        release.write("go\n")
    out, err = proc.communicate(timeout=60)
    summary = json.loads(out.splitlines()[-1])
    assert summary["type"] == "summary" and summary["status"] == "review", err
    return summary


def test_an_accept_during_another_run_is_not_reported_by_that_run(store, repo: Path, tmp_path: Path):
    landed = make_run(store, repo, tmp_path, {"a.txt": "a\n"})
    proc, fifo = start_blocked_run(repo, tmp_path)
    try:
        result = run_cli("accept", landed.id, cwd=repo)  # HEAD and main move, a.txt appears
        assert result.returncode == 0, result.stderr
    finally:
        summary = finish_blocked_run(proc, fifo)
    assert summary["checkout_changes"] == []
    assert store.load(summary["run_id"]).checkout_changes == []
    assert (repo / "a.txt").exists() and not (repo / "c.txt").exists()


def test_changes_around_an_accept_during_a_run_are_still_reported(store, repo: Path, tmp_path: Path):
    """The accept is left out, exactly: a commit on main before it (which the accept then merged
    onto), an untracked file and a tag made while the run went on are the run's to report."""
    landed = make_run(store, repo, tmp_path, {"a.txt": "a\n"})
    start = git(repo, "rev-parse", "HEAD")
    proc, fifo = start_blocked_run(repo, tmp_path)
    try:
        (repo / "README.md").write_text("# changed behind the run's back\n")
        git(repo, "commit", "-q", "-am", "not hybrid-tui's")
        result = run_cli("accept", landed.id, cwd=repo)
        assert result.returncode == 0, result.stderr
        (repo / "notes.txt").write_text("left here\n")
        git(repo, "tag", "foreign")
    finally:
        summary = finish_blocked_run(proc, fifo)
    assert summary["checkout_changes"] == ["HEAD", "notes.txt", f"refs/heads/main (was {start[:12]})",
                                           "refs/tags/foreign (new)"]


def merge_a_side_branch(repo: Path, name: str) -> None:
    """What an accept does to the checkout: a merge commit of a branch, the branch deleted."""
    git(repo, "switch", "-q", "-c", name)
    (repo / f"{name}.txt").write_text(f"{name}\n")
    git(repo, "add", f"{name}.txt")
    git(repo, "commit", "-q", "-m", name)
    git(repo, "switch", "-q", "main")
    git(repo, "merge", "-q", "--no-ff", "-m", f"merge {name}", name)
    git(repo, "branch", "-q", "-D", name)


def test_a_watch_leaves_out_exactly_what_the_writers_wrote(repo: Path):
    watch = RepositoryWatch(repo)
    start = git(repo, "rev-parse", "HEAD")
    with writer(repo, "accept", "run-a"):
        merge_a_side_branch(repo, "side")
    assert watch.changes() == []
    (repo / "README.md").write_text("# edited by someone else\n")
    assert watch.changes() == ["README.md"]
    git(repo, "commit", "-q", "-am", "someone else's commit")  # between two writes
    with writer(repo, "accept", "run-b"):
        merge_a_side_branch(repo, "other")
    assert watch.changes() == ["HEAD", f"refs/heads/main (was {start[:12]})"]


# -- the TUI says it too -------------------------------------------------------------------


def test_the_review_shows_the_refusal_when_another_writer_holds_the_lock(
    store, repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    made = make_run(store, repo, tmp_path, {"a.txt": "a\n"})
    app = build_app(tmp_path, repo)
    assert app.context.store is not None
    run = app.context.store.load(made.id)
    monkeypatch.setenv(repo_lock.WAIT_ENV, "0.2")
    before = checkout_fingerprint(repo)
    holder = Holder(repo, "rebase", "261101-115959-zz")

    async def body(pilot: Pilot) -> None:
        screen = await open_review(pilot, run, "a.txt")
        await pilot.press("a")
        await until(pilot, lambda: isinstance(pilot.app.screen, ConfirmScreen), "the confirmation")
        await pilot.press("y")
        await until(pilot, lambda: screen.message_text() is not None and not screen.busy, "the refusal")
        text = screen.message_text() or ""
        assert text.startswith(f"another hybrid-tui is writing to project: rebase of run 261101-115959-zz "
                               f"(pid {holder.pid}, since ")
        assert text.endswith("Waited 0.2 s; nothing changed.\nFix: Try again once it has finished.")
        assert pilot.app.screen is screen

    try:
        run_app(app, body)
    finally:
        holder.release()
    assert run.status == Status.REVIEW and checkout_fingerprint(repo) == before
