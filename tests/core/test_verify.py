"""Verification (issue 6): the spec's checks run in the run's worktree when the agent finishes.

Real git repositories, the real CLI as a process, the stand-in kimi replaying hand-made streams
whose WriteFile/Shell calls it carries out. The helpers it shares with the other review tests are
in tests/support/runs.py.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from hybrid_tui.agents.events import Notice, Text
from hybrid_tui.core.verify import run_checks
from tests.support.cli import checkout_fingerprint, run_cli, standin_env
from tests.support.processes import gone, wait_until
from tests.support.repos import git
from tests.support.runs import record, run_spec, spec_file

# -- after the agent ----------------------------------------------------------------------------


def test_checks_pass_and_fail_and_land_in_the_summary(repo: Path, tmp_path: Path, state_dir: Path):
    spec = spec_file(tmp_path, ["CREATE hello.txt"], ["test -f hello.txt", "echo out; echo err >&2; false"])
    result, events, summary = run_spec(repo, spec)

    assert result.returncode == 1  # a check failed: the run is reviewable, the command says so
    assert summary["status"] == "review"
    checks = summary["checks"]
    assert [(c["command"], c["exit_code"], c["ok"], c["timed_out"]) for c in checks] == [
        ("test -f hello.txt", 0, True, False),
        ("echo out; echo err >&2; false", 1, False, False),
    ]
    assert all(0 <= c["seconds"] < 30 for c in checks)
    texts = [(e["kind"], e["text"]) for e in events if e["kind"] in ("notice", "text")]
    start = texts.index(("notice", "$ test -f hello.txt"))
    assert texts[start + 1][1].startswith("✓ passed in ")
    assert texts[start + 2:start + 5] == [
        ("notice", "$ echo out; echo err >&2; false"), ("text", "out"), ("text", "err")]
    assert texts[start + 5][1].startswith("✗ failed (exit 1)")
    assert events[-1]["kind"] == "exit" and events[-1]["status"] == "review"
    stored = record(state_dir, summary["run_id"])
    assert [c["ok"] for c in stored["checks"]] == [True, False]
    assert stored["checks_sha"] == git(repo, "rev-parse", summary["branch"])
    log = (state_dir / "runs" / summary["run_id"] / "checks.log").read_text()
    assert "$ echo out; echo err >&2; false\nout\nerr\n✗ failed (exit 1)" in log


def test_passing_checks_exit_zero_and_a_spec_without_commands_has_none(repo: Path, tmp_path: Path):
    result, _, summary = run_spec(repo, spec_file(tmp_path, ["CREATE hello.txt"], ["test -f hello.txt"]))
    assert result.returncode == 0 and [c["ok"] for c in summary["checks"]] == [True]

    result, _, summary = run_spec(repo, spec_file(tmp_path, ["CREATE hello.txt"], []))
    assert result.returncode == 0 and summary["checks"] == []


def test_a_check_that_hangs_is_timed_out_with_its_group_and_the_next_one_runs(repo: Path, tmp_path: Path):
    pidfile = tmp_path / "check.pid"
    spec = spec_file(tmp_path, ["CREATE hello.txt"], [f"echo $$ > {pidfile}; sleep 60 & sleep 60", "true"])
    result, _, summary = run_spec(repo, spec, None, "--check-timeout", "1")
    hung, after = summary["checks"]
    assert (hung["exit_code"], hung["ok"], hung["timed_out"]) == (None, False, True)
    assert hung["seconds"] < 20
    assert (after["command"], after["ok"]) == ("true", True)
    pgid = int(pidfile.read_text())
    assert wait_until(lambda: _group_gone(pgid))  # the shell and both sleeps
    assert result.returncode == 1


def _group_gone(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return True
    return all(gone(int(p.name)) for p in Path("/proc").iterdir() if p.name.isdigit() and _pgid(p) == pgid)


def _pgid(proc: Path) -> int | None:
    try:
        return int((proc / "stat").read_text().rsplit(")", 1)[1].split()[2])
    except (OSError, IndexError, ValueError):
        return None


def test_checks_never_change_the_branch(repo: Path, tmp_path: Path, state_dir: Path):
    before = checkout_fingerprint(repo)
    commands = [
        "echo junk > build-output.txt && mkdir -p cache && echo x > cache/blob",
        "echo changed >> README.md && rm src/app.py",
        "git add -A && git -c user.name=c -c user.email=c@c.invalid commit -qm sneaky",
        "git switch -q -c elsewhere",
    ]
    result, events, summary = run_spec(repo, spec_file(tmp_path, ["CREATE hello.txt"], commands))
    assert [c["ok"] for c in summary["checks"]] == [True, True, True, True], result.stdout
    branch, run_id = summary["branch"], summary["run_id"]
    stored = record(state_dir, run_id)
    # The branch holds the agent's one commit, and only hello.txt changed.
    assert git(repo, "rev-parse", branch) == stored["head_sha"]
    assert git(repo, "rev-list", "--count", f"{summary['base_sha']}..{branch}") == "1"
    assert git(repo, "diff", "--name-only", summary["base_sha"], branch) == "hello.txt"
    # The worktree is back on the branch, clean: nothing the checks left.
    worktree = Path(stored["worktree"])
    assert git(worktree, "symbolic-ref", "--short", "HEAD") == branch
    assert git(worktree, "status", "--porcelain", "--untracked-files=all") == ""
    assert not (worktree / "build-output.txt").exists() and (worktree / "src" / "app.py").exists()
    assert any(e["kind"] == "notice" and "they were discarded" in e["text"] for e in events)
    assert checkout_fingerprint(repo) == before


def test_ignored_files_the_checks_make_are_kept_and_never_committed(repo: Path, tmp_path: Path, state_dir: Path):
    (repo / ".gitignore").write_text(".cache/\n")
    git(repo, "add", ".gitignore")
    git(repo, "commit", "-q", "-m", "ignore the cache")
    spec = spec_file(tmp_path, ["CREATE hello.txt"], ["mkdir -p .cache && echo warm > .cache/state"])
    _, _, summary = run_spec(repo, spec)
    worktree = Path(record(state_dir, summary["run_id"])["worktree"])
    assert (worktree / ".cache" / "state").read_text() == "warm\n"  # clean -fd, not -x
    assert git(repo, "diff", "--name-only", summary["base_sha"], summary["branch"]) == "hello.txt"


def test_a_failed_run_gets_no_checks_but_can_run_them_from_the_review(repo: Path, tmp_path: Path):
    spec = spec_file(tmp_path, ["CREATE hello.txt"], ["test -f hello.txt"])
    _, _, summary = run_spec(repo, spec, fixture="kimi_max_steps")
    assert (summary["status"], summary["checks"]) == ("failed", None)

    rerun = run_cli("verify", summary["run_id"], "--json", "--approve-checks", cwd=repo)
    lines = [json.loads(line) for line in rerun.stdout.splitlines()]
    assert lines.pop(0) == {"type": "checks", "run_id": summary["run_id"], "commands": ["test -f hello.txt"],
                            "risks": [[]], "approved": True}
    # The stopped agent never wrote hello.txt, so the check runs and fails.
    assert lines[0] == {"type": "event", "kind": "notice", "text": "$ test -f hello.txt", "level": "info"}
    assert lines[-1]["type"] == "summary" and lines[-1]["ok"] is False
    assert [(c["command"], c["exit_code"]) for c in lines[-1]["checks"]] == [("test -f hello.txt", 1)]
    assert rerun.returncode == 1


def test_rerun_after_a_fix_and_refused_over_uncommitted_work(repo: Path, tmp_path: Path, state_dir: Path):
    spec = spec_file(tmp_path, ["CREATE hello.txt"], ["test -f fixed.txt"])
    _, _, summary = run_spec(repo, spec)
    run_id = summary["run_id"]
    assert [c["ok"] for c in summary["checks"]] == [False]
    worktree = Path(record(state_dir, run_id)["worktree"])

    (worktree / "fixed.txt").write_text("by hand\n")  # uncommitted: the checks would discard it
    refused = run_cli("verify", run_id, "--approve-checks", cwd=repo)
    assert refused.returncode == 1 and "fixed.txt" in refused.stderr and "would discard them" in refused.stderr
    assert (worktree / "fixed.txt").read_text() == "by hand\n"

    git(worktree, "add", "fixed.txt")
    git(worktree, "commit", "-q", "-m", "the fix")
    rerun = run_cli("verify", run_id, "--approve-checks", cwd=repo)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert "$ test -f fixed.txt" in rerun.stdout and "1 of 1 check(s) passed" in rerun.stdout
    stored = record(state_dir, run_id)
    assert [c["ok"] for c in stored["checks"]] == [True]
    assert stored["checks_sha"] == git(repo, "rev-parse", summary["branch"])


def test_kill_9_during_the_checks_keeps_their_litter_off_the_branch(repo: Path, tmp_path: Path, state_dir: Path):
    fifo = tmp_path / "release"
    os.mkfifo(fifo)
    spec = spec_file(tmp_path, ["CREATE hello.txt"], [f"echo junk > litter.txt; echo ready; cat {fifo}"])
    env = {**os.environ, **standin_env("kimi_success")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "hybrid_tui", "run", str(spec), "--json", "--approve-checks"],
        cwd=repo, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        for line in proc.stdout:
            if json.loads(line) == {"type": "event", "kind": "text", "text": "ready", "raw": True}:
                break
        (record_path,) = (state_dir / "runs").glob("*/run.json")
        stored = json.loads(record_path.read_text())
        assert stored["status"] == "verifying"
        check_pid = stored["pgid"]
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.stdout.close()
        proc.stderr.close()

    listed = run_cli("runs", "--json", cwd=repo)  # recovery runs first
    (run,) = json.loads(listed.stdout)
    assert run["status"] == "interrupted"
    assert wait_until(lambda: gone(check_pid))  # the orphaned check was stopped
    assert git(repo, "diff", "--name-only", run["base_sha"], run["branch"]) == "hello.txt"
    assert not (Path(run["worktree"]) / "litter.txt").exists()


# -- the runner itself --------------------------------------------------------------------------


def test_run_checks_streams_output_in_order_and_logs_it(tmp_path: Path):
    events: list = []
    log = tmp_path / "checks.log"
    results = asyncio.run(run_checks(
        ["printf 'a\\nb'; echo c >&2; exit 3", "command-that-does-not-exist-here"],
        tmp_path, timeout=10, on_events=events.extend, log_path=log,
    ))
    assert [(r.exit_code, r.ok) for r in results] == [(3, False), (127, False)]
    shown = [(type(e).__name__, e.text) for e in events]
    assert shown[:4] == [("Notice", "$ printf 'a\\nb'; echo c >&2; exit 3"), ("Text", "a"), ("Text", "bc"),
                         ("Notice", shown[3][1])]
    assert shown[3][1].startswith("✗ failed (exit 3)")
    assert all(e.raw for e in events if isinstance(e, Text))
    assert any(isinstance(e, Notice) and e.level == "error" for e in events[4:])
    text = log.read_text()
    assert text.startswith("$ printf") and "not found" in text
