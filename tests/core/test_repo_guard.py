"""The repository is protected from its own agent (issue 10, scope point 3): hybrid-tui's git
never runs the repository's hooks or fsmonitor, never follows a worktree link the agent
rewrote, and the repo guard reports and puts back what the agent changed in `.git`.

The hostile agent is the stand-in kimi replaying `tests/fixtures/agent-streams/hostile_*.jsonl`
(its Shell calls run for real in the run's worktree) or a stream made here; every git, file
and process is real. The planted programs append to `.git/canary.log`: it must never appear.
The sandbox is off (conftest): these are the protections that hold without it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from hybrid_tui.core import git as core_git
from hybrid_tui.core.run.repo_guard import RepoGuard
from hybrid_tui.core.runs import Run, RunStore, Status
from tests.support.cli import run_cli, standin_env
from tests.support.repos import AGENT_STREAMS, git, make_repo
from tests.support.runs import agent_stream, run_stream, spec_file

EVIL = '#!/bin/sh\necho "$0 $*" >> "{log}"\nexit 1\n'


def store() -> RunStore:
    return RunStore(Path(os.environ["HYBRID_TUI_STATE_DIR"]))


def project(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "project", {"app.txt": "base\n"})


def canary(repo: Path) -> Path:
    return repo / ".git" / "canary.log"


def warnings(events: list[dict]) -> list[str]:
    return [e["text"] for e in events if e["kind"] == "notice" and e["level"] == "warning"]


def plant(repo: Path) -> Path:
    """What the hostile agent plants, planted by hand: an fsmonitor, hooks, a filter. Returns
    the script they all run."""
    evil = repo / ".git" / "evil.sh"
    evil.write_text(EVIL.format(log=canary(repo)))
    evil.chmod(0o755)
    for hook in ("pre-commit", "post-commit", "post-merge", "post-checkout", "pre-rebase", "post-rewrite", "pre-push"):
        (repo / ".git" / "hooks" / hook).write_bytes(evil.read_bytes())
        (repo / ".git" / "hooks" / hook).chmod(0o755)
    (repo / ".git" / "info" / "attributes").write_text("* diff=evil\n")
    for key, value in (("core.fsmonitor", evil), ("diff.evil.textconv", evil), ("diff.external", evil)):
        git(repo, "config", key, str(value))
    return evil


# -- an agent that plants code git runs ---------------------------------------------------------


def test_planted_fsmonitor_hooks_and_filters_are_reported_put_back_and_never_run(tmp_path: Path, state_dir: Path):
    repo = project(tmp_path)
    config_before = (repo / ".git" / "config").read_bytes()
    result, events, summary = run_stream(repo, tmp_path, AGENT_STREAMS / "hostile_plant_git.jsonl", ["test -f hello.txt"])
    assert result.returncode == 0, result.stderr
    assert summary["status"] == "review" and summary["checks"][0]["ok"]
    run_id = summary["run_id"]
    tampered = state_dir / "runs" / run_id / "tampered"
    assert sorted((t["path"], t["change"], t["restored"]) for t in summary["git_tampering"]) == [
        (".git/config", "changed", True),
        (".git/hooks/post-checkout", "added", True),
        (".git/hooks/post-merge", "added", True),
        (".git/hooks/pre-commit", "added", True),
        (".git/info/attributes", "added", True),
    ]
    assert {t["kept"] for t in summary["git_tampering"]} == {
        str(tampered / "git" / name) for name in ("config", "hooks/post-checkout", "hooks/post-merge", "hooks/pre-commit", "info/attributes")
    }
    said = " ".join(warnings(events))
    assert "The agent changed git files of your repository" in said and ".git/hooks/pre-commit (git hooks" in said
    assert "changed .git/config (git config, which can make git run programs)" in said
    # Put back byte for byte; the agent's versions kept for inspection.
    assert (repo / ".git" / "config").read_bytes() == config_before
    assert not (repo / ".git" / "hooks" / "pre-commit").exists() and not (repo / ".git" / "info" / "attributes").exists()
    assert "fsmonitor = " in (tampered / "git" / "config").read_text()
    assert json.loads((state_dir / "runs" / run_id / "run.json").read_text())["git_tampering"] == summary["git_tampering"]
    # hybrid-tui's own git after the run, then the user's next commit: nothing planted runs.
    assert git(repo, "show", f"{summary['branch']}:hello.txt") == "hi"
    for args in (("diff", run_id), ("accept", run_id, "--dry-run"), ("accept", run_id)):
        assert run_cli(*args, cwd=repo).returncode == 0, args
    assert (repo / "hello.txt").read_text() == "hi\n"
    (repo / "mine.txt").write_text("mine\n")
    git(repo, "add", "mine.txt")
    git(repo, "commit", "-q", "-m", "the user's next commit")
    assert not canary(repo).exists()


def test_a_hook_planted_mid_run_is_gone_before_the_agents_next_step(tmp_path: Path):
    # After each tool result the guard looks (an lstat per file); the agent here waits after its
    # first step until hybrid-tui said what it found, then looks for its hook.
    repo = project(tmp_path)
    hook = repo / ".git" / "hooks" / "pre-commit"
    stream = agent_stream(tmp_path, "mid", [
        ("Shell", {"command": f"printf '#!/bin/sh\\nexit 0\\n' > {hook} && chmod +x {hook}"}),
        ("Shell", {"command": f"if test -e {hook}; then echo still there; else echo gone; fi > seen.txt"}),
    ])  # fmt: skip
    fifo = tmp_path / "release"
    os.mkfifo(fifo)
    env = {**os.environ, **standin_env("kimi_success", KIMI_STANDIN_FIXTURE=str(stream), KIMI_STANDIN_BLOCK_AFTER="2", KIMI_STANDIN_FIFO=str(fifo))}
    spec = spec_file(tmp_path, ["CREATE seen.txt"], [])
    proc = subprocess.Popen(  # with no notice the agent waits on the FIFO until its timeout
        [sys.executable, "-m", "hybrid_tui", "run", str(spec), "--json", "--timeout", "30"],
        cwd=repo, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        assert proc.stdout is not None
        for line in proc.stdout:  # the agent is blocked on the FIFO after its first tool result
            event = json.loads(line)
            if event.get("kind") == "notice" and "pre-commit" in event["text"]:
                break
        else:
            raise AssertionError(f"no notice of the planted hook: {proc.stderr.read() if proc.stderr else ''}")
        assert not hook.exists()
        with open(fifo, "w") as release:
            release.write("go\n")
        out, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    summary = json.loads(out.splitlines()[-1])
    assert summary["status"] == "review", err
    assert git(repo, "show", f"{summary['branch']}:seen.txt") == "gone"
    assert [(t["path"], t["change"]) for t in summary["git_tampering"]] == [(".git/hooks/pre-commit", "added")]


def test_hybrid_tuis_own_git_never_runs_the_repositorys_hooks_or_fsmonitor(tmp_path: Path):
    # Planted after the run (a process the agent left behind, say), where no guard looks: every
    # git command hybrid-tui runs sets the hooks and the fsmonitor aside, and diffs without
    # external diff programs or textconv. Covers commit, rebase, diff, preflight, accept, reject.
    repo = project(tmp_path)
    stream = agent_stream(tmp_path, "work", [("WriteFile", {"path": "hello.txt", "content": "hi\n"})])
    _, _, first = run_stream(repo, tmp_path, stream)
    _, _, second = run_stream(repo, tmp_path, stream)
    (repo / "base.txt").write_text("the base moves\n")
    git(repo, "add", "base.txt")
    git(repo, "commit", "-q", "-m", "base moves")
    plant(repo)
    (Path(first["worktree"]) / "late.txt").write_text("left by a lingering process\n")
    for args in (
        ("diff", first["run_id"]), ("diff", first["run_id"], "--json"), ("verify", first["run_id"]),
        ("rebase", first["run_id"]), ("accept", first["run_id"], "--dry-run"), ("reject", second["run_id"]),
    ):  # fmt: skip
        result = run_cli(*args, cwd=repo)
        assert result.returncode in (0, 1), (args, result.stderr)  # verify: no checks, or late.txt refused
    (Path(first["worktree"]) / "late.txt").unlink()
    assert run_cli("accept", first["run_id"], cwd=repo).returncode == 0
    assert (repo / "hello.txt").read_text() == "hi\n"
    assert not canary(repo).exists()
    rec = store().load(first["run_id"])
    assert rec.status == Status.ACCEPTED


def test_every_git_command_gets_the_safe_config():
    argv = core_git.git_argv("/x", "status")
    assert argv[:5] == ["git", "-c", "core.hooksPath=/dev/null", "-c", "core.fsmonitor=false"] and argv[-1] == "status"
    env = core_git.safe_config_env({"GIT_CONFIG_COUNT": "1", "GIT_CONFIG_KEY_0": "a.b", "GIT_CONFIG_VALUE_0": "c"})
    assert (env["GIT_CONFIG_COUNT"], env["GIT_CONFIG_KEY_0"], env["GIT_CONFIG_KEY_1"], env["GIT_CONFIG_VALUE_2"]) == (
        "3", "a.b", "core.hooksPath", "false",
    )


def test_the_pr_push_runs_no_pre_push_hook(tmp_path: Path):
    from hybrid_tui.core.review.pull_request import push_branch

    repo = project(tmp_path)
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", str(remote))
    git(repo, "remote", "add", "origin", str(remote))
    _, _, summary = run_stream(repo, tmp_path, agent_stream(tmp_path, "w", [("WriteFile", {"path": "hello.txt", "content": "hi\n"})]))
    plant(repo)
    push_branch(store().load(summary["run_id"]), "origin")
    assert git(remote, "rev-parse", summary["branch"]) == git(repo, "rev-parse", summary["branch"])
    assert not canary(repo).exists()


@pytest.mark.parametrize("fixture", ["hostile_plant_git", "hostile_redirect_git"])
def test_in_the_sandbox_the_plants_do_not_even_land(tmp_path: Path, fixture: str):
    # With the sandbox (agents/sandbox.py) .git/config, the hooks, the attributes and the
    # worktree's links are read-only for the agent: nothing to put back, nothing runs.
    sandbox = pytest.importorskip("hybrid_tui.agents.sandbox")
    if not sandbox.probe().on:
        pytest.skip(f"no sandbox here: {sandbox.probe().reason}")
    repo = project(tmp_path)
    config = (repo / ".git" / "config").read_bytes()
    result, _, summary = run_stream(repo, tmp_path, AGENT_STREAMS / f"{fixture}.jsonl", HYBRID_TUI_SANDBOX="auto")
    assert result.returncode == 0, result.stderr
    assert summary["sandbox"] and summary["git_tampering"] == []
    assert (repo / ".git" / "config").read_bytes() == config and not (repo / ".git" / "hooks" / "pre-commit").exists()
    assert git(repo, "show", f"{summary['branch']}:hello.txt") == "hi"
    assert not canary(repo).exists()


# -- an agent that redirects hybrid-tui's git ---------------------------------------------------


def test_a_rewritten_worktree_git_file_and_commondir_do_not_redirect_hybrid_tui(tmp_path: Path):
    repo = project(tmp_path)
    result, events, summary = run_stream(repo, tmp_path, AGENT_STREAMS / "hostile_redirect_git.jsonl")
    assert result.returncode == 0, result.stderr
    worktree = Path(summary["worktree"])
    admin = repo / ".git" / "worktrees" / worktree.name
    assert sorted((t["path"], t["change"]) for t in summary["git_tampering"]) == [
        (f".git/worktrees/{worktree.name}/commondir", "changed"), (str(worktree / ".git"), "changed"),
    ]
    assert (worktree / ".git").read_text().strip() == f"gitdir: {admin}"
    assert (admin / "commondir").read_text().strip() == "../.."
    decoy = tmp_path / "decoy"
    assert "decoy" in (Path(summary["git_tampering"][1]["kept"]).read_text())
    # The work is on the run's branch, nothing went to the decoy, nothing planted ran.
    assert git(repo, "show", f"{summary['branch']}:hello.txt") == "hi"
    assert subprocess.run(["git", "rev-parse", "HEAD"], cwd=decoy, capture_output=True).returncode != 0
    assert not canary(repo).exists()


def decoy_repo(tmp_path: Path, repo: Path) -> Path:
    """A repository whose fsmonitor and pre-commit hook write the canary."""
    decoy = make_repo(tmp_path / "decoy", {"decoy.txt": "decoy\n"})
    evil = decoy / ".git" / "evil.sh"
    evil.write_text(EVIL.format(log=canary(repo)))
    evil.chmod(0o755)
    git(decoy, "config", "core.fsmonitor", str(evil))
    return decoy


def test_a_pinned_worktree_ignores_its_git_file(tmp_path: Path):
    # Once hybrid-tui checked a worktree, its git there names the admin dir and the worktree
    # itself: a `.git` file rewritten later (by a process the agent left running) is not followed.
    repo = project(tmp_path)
    _, _, summary = run_stream(repo, tmp_path, agent_stream(tmp_path, "w", [("WriteFile", {"path": "hello.txt", "content": "hi\n"})]))
    worktree = Path(summary["worktree"])
    core_git.ensure_worktree(repo, worktree)
    decoy = decoy_repo(tmp_path, repo)
    (worktree / ".git").write_text(f"gitdir: {decoy / '.git'}\n")
    assert core_git.git(worktree, "rev-parse", "--absolute-git-dir") == str(repo / ".git" / "worktrees" / worktree.name)
    assert core_git.current_branch(worktree) == summary["branch"]
    assert core_git.local_changes(worktree) == []
    assert not canary(repo).exists()


def test_links_rewritten_after_the_run_are_mended_before_hybrid_tui_runs_git_there(tmp_path: Path):
    repo = project(tmp_path)
    _, _, summary = run_stream(repo, tmp_path, agent_stream(tmp_path, "w", [("WriteFile", {"path": "hello.txt", "content": "hi\n"})]))
    worktree = Path(summary["worktree"])
    admin = repo / ".git" / "worktrees" / worktree.name
    decoy = decoy_repo(tmp_path, repo)
    (worktree / ".git").write_text(f"gitdir: {decoy / '.git'}\n")
    (admin / "commondir").write_text(f"{decoy / '.git'}\n")
    (admin / "gitdir").write_text("/nowhere/.git\n")
    result = run_cli("accept", summary["run_id"], "--dry-run", "--json", cwd=repo)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["ok"] is True
    assert (admin / "commondir").read_text() == "../..\n" and (worktree / ".git").read_text() == f"gitdir: {admin}\n"
    assert Path((admin / "gitdir").read_text().strip()) == worktree / ".git"
    assert run_cli("accept", summary["run_id"], cwd=repo).returncode == 0
    assert (repo / "hello.txt").read_text() == "hi\n"
    assert git(decoy, "log", "--format=%s") == "initial" and not canary(repo).exists()


# -- the guard itself ----------------------------------------------------------------------------


def guarded_run(tmp_path: Path) -> tuple[Path, Run]:
    repo = project(tmp_path)
    _, _, summary = run_stream(repo, tmp_path, agent_stream(tmp_path, "w", [("WriteFile", {"path": "hello.txt", "content": "hi\n"})]))
    return repo, store().load(summary["run_id"])


def test_a_replaced_hooks_dir_alternates_and_a_deleted_config_are_put_back(tmp_path: Path):
    repo, run = guarded_run(tmp_path)
    git_dir = repo / ".git"
    samples = sorted(p.name for p in (git_dir / "hooks").iterdir())
    config = (git_dir / "config").read_bytes()
    guard = RepoGuard.take(store(), run)
    elsewhere = tmp_path / "elsewhere-hooks"
    (git_dir / "hooks").rename(elsewhere)
    (git_dir / "hooks").symlink_to(elsewhere)
    (elsewhere / "pre-commit").write_text("#!/bin/sh\n")
    (git_dir / "objects" / "info").mkdir(exist_ok=True)
    (git_dir / "objects" / "info" / "alternates").write_text(f"{run.worktree}/objects\n")
    (git_dir / "config").unlink()
    found = guard.check()
    assert sorted((t.path, t.change) for t in found) == [
        (".git/config", "deleted"), (".git/hooks", "changed"), (".git/objects/info/alternates", "added"),
    ]
    assert (git_dir / "hooks").is_dir() and not (git_dir / "hooks").is_symlink()
    assert sorted(p.name for p in (git_dir / "hooks").iterdir()) == samples
    assert (git_dir / "config").read_bytes() == config and not (git_dir / "objects" / "info" / "alternates").exists()
    assert Path(next(t.kept for t in found if t.path == ".git/hooks")).is_symlink()
    assert guard.check() == []  # put back: nothing more to find
    assert [t.path for t in store().load(run.id).git_tampering] == [t.path for t in found]
    git(repo, "fsck", "--no-progress")


def test_a_mode_change_and_an_edited_hook_are_put_back(tmp_path: Path):
    repo, run = guarded_run(tmp_path)
    sample = repo / ".git" / "hooks" / "pre-commit.sample"
    before, mode = sample.read_bytes(), sample.stat().st_mode & 0o777
    guard = RepoGuard.take(store(), run)
    sample.rename(repo / ".git" / "hooks" / "pre-commit")  # the classic way to enable a hook
    (repo / ".git" / "hooks" / "pre-commit").chmod(0o755)
    found = guard.check("checks")
    assert sorted((t.path, t.change, t.by) for t in found) == [
        (".git/hooks/pre-commit", "added", "checks"), (".git/hooks/pre-commit.sample", "deleted", "checks"),
    ]
    assert sample.read_bytes() == before and sample.stat().st_mode & 0o777 == mode
    assert not (repo / ".git" / "hooks" / "pre-commit").exists()


def test_checks_that_plant_a_hook_are_reported_and_it_is_removed(tmp_path: Path):
    repo = project(tmp_path)
    hook = repo / ".git" / "hooks" / "post-commit"
    stream = agent_stream(tmp_path, "w", [("WriteFile", {"path": "hello.txt", "content": "hi\n"})])
    result, events, summary = run_stream(repo, tmp_path, stream, [f"cp {repo}/.git/hooks/pre-commit.sample {hook}"])
    assert result.returncode == 0, result.stderr
    assert [(t["path"], t["by"]) for t in summary["git_tampering"]] == [(".git/hooks/post-commit", "checks")]
    assert any(w.startswith("The checks changed git files of your repository") for w in warnings(events))
    assert not hook.exists()


def test_a_recovery_after_kill_9_puts_back_what_the_agent_planted(tmp_path: Path):
    # hybrid-tui died mid-run: the next command recovers the run, and the guard it saved at the
    # start of the run (runs/<id>/git-before/) puts the hook and the config back first.
    repo, run = guarded_run(tmp_path)
    RepoGuard.take(store(), run)
    dead = subprocess.Popen(["true"])
    dead.wait()
    store().transition(run, Status.RUNNING, owner_pid=dead.pid, pgid=None)
    evil = plant(repo)
    result = run_cli("runs", "--json", cwd=repo)
    assert result.returncode == 0, result.stderr
    recovered = store().load(run.id)
    assert recovered.status == Status.INTERRUPTED
    assert ".git/hooks/pre-commit" in recovered.message and ".git/config" in recovered.message
    assert {t.path for t in recovered.git_tampering} >= {".git/config", ".git/hooks/pre-commit", ".git/info/attributes"}
    assert "fsmonitor" not in (repo / ".git" / "config").read_text()
    assert evil.exists() and not canary(repo).exists()
