"""The command line as a developer, or Claude Code from its Bash tool, uses it: the help, the
exit codes, the messages that say what to do, a pipe that closes early, Ctrl-C during a run.

Real processes throughout (`python -m hybrid_tui`), real git repositories, the stand-in kimi on
PATH. Waiting on a live run is done on what it prints, with a deadline, never with a sleep.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.cli import run_cli, standin_env, world
from tests.support.repos import git
from tests.support.runs import agent_stream, record, run_spec, spec_file

PLAN = """\
# Add a greeting

## Context
The app needs a greeting file.

## Changes

### 1. `hello.txt`
Create it with a friendly line.

## Verification
- `test -f hello.txt`
"""


@pytest.fixture
def plan(tmp_path: Path) -> Path:
    path = tmp_path / "plans" / "add-greeting.md"
    path.parent.mkdir()
    path.write_text(PLAN)
    return path


def no_traceback(result: subprocess.CompletedProcess) -> None:
    assert "Traceback" not in result.stderr and "Traceback" not in result.stdout, result.stderr


def start_cli(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.Popen:
    """`python -m hybrid_tui ARGS` left running, its stdout a pipe we read line by line."""
    return subprocess.Popen(
        [sys.executable, "-m", "hybrid_tui", *args], cwd=cwd, env={**os.environ, **env},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def read_until(process: subprocess.Popen, needle: str, timeout: float = 30) -> list[str]:
    """The stdout lines up to and including the first one holding `needle`."""
    deadline = time.monotonic() + timeout
    lines: list[str] = []
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line)
        if needle in line:
            return lines
    process.kill()
    raise AssertionError(f"{needle!r} never came; got {lines!r} and {process.stderr.read()!r}")


# -- help and usage ------------------------------------------------------------------------------


def test_help_says_the_exit_codes_what_a_run_id_is_and_how_a_file_is_taken(repo: Path):
    def help_of(*command: str) -> str:
        result = run_cli(*command, "--help", cwd=repo)
        assert result.returncode == 0
        return " ".join(result.stdout.split())  # as read, whatever the terminal's width

    top = help_of()
    assert "exit codes: 0 ok; 1" in top and "2 bad usage" in top
    run = help_of("run")
    assert "exit codes" in run and "`# Spec:`" in run and "--agent kimi|claude" in run
    assert "300 for kimi" in run  # the default timeout is said, not just "seconds"
    accept = help_of("accept")
    assert "unique prefix" in accept and "as `hybrid-tui diff` lists them" in accept


@pytest.mark.parametrize("flag, value", [("--timeout", "0"), ("--timeout", "-5"), ("--check-timeout", "0"),
                                         ("--timeout", "nan")])
def test_a_timeout_of_zero_or_less_is_bad_usage_and_nothing_is_created(
    repo: Path, plan: Path, state_dir: Path, flag: str, value: str
):
    before = world(repo, state_dir)
    result = run_cli("run", str(plan), flag, value, cwd=repo, env=standin_env("kimi_success"))
    assert result.returncode == 2
    assert f"argument {flag}: must be a number of seconds greater than 0" in result.stderr
    assert world(repo, state_dir) == before


def test_the_timeout_flag_is_the_one_the_agent_is_stopped_by_and_its_message_says(repo: Path, plan: Path):
    result = run_cli("run", str(plan), "--timeout", "1", "--json", cwd=repo,
                     env=standin_env("kimi_success", KIMI_STANDIN_HANG="1"))
    summary = json.loads(result.stdout.splitlines()[-1])
    assert result.returncode == 1
    assert (summary["status"], summary["failure_kind"]) == ("timed_out", "timeout")
    assert summary["message"].startswith("Kimi did not finish within 1 s")  # not the 300 s default


# -- stdout to a pipe that closes, Ctrl-C ---------------------------------------------------------


def test_a_reader_that_leaves_early_does_not_stop_the_run(repo: Path, plan: Path, state_dir: Path):
    """`hybrid-tui run PLAN | head -1`: the run goes on to its end, its exit code its own."""
    process = start_cli("run", str(plan), cwd=repo, env=standin_env("kimi_success"))
    first = process.stdout.readline()
    assert first.startswith("run ")
    process.stdout.close()  # the reader leaves
    assert process.wait(timeout=60) == 0
    stderr = process.stderr.read()
    assert "Traceback" not in stderr and "BrokenPipe" not in stderr
    run_id = first.split()[1].rstrip(":")
    run = record(state_dir, run_id)
    assert (run["status"], run["failure_kind"]) == ("review", None)
    assert git(repo, "show", f"{run['branch']}:hello.txt") == "hello from fake model"


def test_a_listing_to_a_closed_pipe_exits_0_quietly(repo: Path, tmp_path: Path):
    plans = tmp_path / "many"
    plans.mkdir()
    for n in range(300):
        (plans / f"plan-{n:03}.md").write_text(f"# Plan {n}\n\nChange `src/app.py`.\n")
    process = start_cli("plans", "--plans-dir", str(plans), cwd=repo, env={})
    assert process.stdout.readline().startswith("300 plan(s)")
    process.stdout.close()
    assert process.wait(timeout=60) == 0
    assert process.stderr.read() == ""


def test_ctrl_c_cancels_the_run_and_commits_its_work(repo: Path, plan: Path, state_dir: Path):
    process = start_cli("run", str(plan), "--json", cwd=repo, env=standin_env("kimi_success", KIMI_STANDIN_HANG="1"))
    read_until(process, "Created hello.txt")  # the agent's last line: it now hangs
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=30)
    assert process.returncode == 1 and "Traceback" not in err
    summary = json.loads(out.splitlines()[-1])
    assert (summary["type"], summary["status"], summary["failure_kind"]) == ("summary", "cancelled", "cancelled")
    assert git(repo, "show", f"{summary['branch']}:hello.txt") == "hello from fake model"
    assert git(repo, "log", "-1", "--format=%an", summary["branch"]) == "Kimi (hybrid-tui)"
    listed = run_cli("runs", cwd=repo).stdout.splitlines()[0]
    assert listed.split()[:2] == [summary["run_id"], "cancelled"] and "(cancelled)" not in listed


def test_ctrl_c_during_a_check_stops_it_and_says_so(repo: Path, tmp_path: Path):
    spec = spec_file(tmp_path, ["CREATE hello.txt"], ["sleep 60"])
    process = start_cli("run", str(spec), "--approve-checks", cwd=repo, env=standin_env("kimi_success"))
    read_until(process, "• $ sleep 60")  # the check running, not its listing before the agent
    started = time.monotonic()
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=30)
    assert time.monotonic() - started < 20  # the check was stopped, not waited for
    assert process.returncode == 1 and "Traceback" not in err
    assert "✗ sleep 60  (stopped," in out and "exit None" not in out


# -- spec and check ------------------------------------------------------------------------------


def test_spec_output_that_cannot_be_written_is_a_message(repo: Path, plan: Path, tmp_path: Path):
    for target, reason in ((tmp_path / "absent" / "spec.md", "does not exist"), (tmp_path, "it is a directory")):
        result = run_cli("spec", str(plan), "-o", str(target), cwd=repo)
        no_traceback(result)
        assert result.returncode == 2
        assert f"Cannot write the spec to {target}: " in result.stderr and reason in result.stderr
        assert "-o FILE" in result.stderr  # what to do
    assert not (tmp_path / "absent").exists()


def test_spec_refuses_a_spec_and_says_to_check_or_run_it(repo: Path, plan: Path, tmp_path: Path):
    spec = tmp_path / "greeting-spec.md"
    made = run_cli("spec", str(plan), "-o", str(spec), cwd=repo)
    assert made.returncode == 0 and spec.read_text().startswith("# Spec: 001 -- Add a greeting")
    again = run_cli("spec", str(spec), cwd=repo)
    assert again.returncode == 2 and again.stdout == ""
    assert f"{spec} is already a spec" in again.stderr and f"hybrid-tui check {spec}" in again.stderr


def test_check_names_the_spec_and_prints_whole_spec_problems_without_a_line(repo: Path, plan: Path, tmp_path: Path):
    spec = spec_file(tmp_path, ["CREATE hello.txt"], [])  # no verification command anywhere
    result = run_cli("check", str(spec), cwd=repo)
    assert result.returncode == 0
    assert f"{spec}: warning: no verification command anywhere in the spec" in result.stdout.splitlines()
    assert ":0:" not in result.stdout

    missing = run_cli("check", str(tmp_path / "nope.md"), cwd=repo)
    assert missing.returncode == 2 and f"Cannot use spec {tmp_path / 'nope.md'}: no such file" in missing.stderr

    a_plan = run_cli("check", str(plan), cwd=repo)
    assert a_plan.returncode == 1 and f"{plan}:1: error: expected the header" in a_plan.stdout
    assert "if it is a plan, convert it" in a_plan.stderr and f"hybrid-tui spec {plan} -o SPEC_FILE" in a_plan.stderr


# -- plans, runs, run ids ------------------------------------------------------------------------


def test_plans_text_gives_each_advice_its_reason(repo: Path, tmp_path: Path):
    plans = tmp_path / "p"
    plans.mkdir()
    (plans / "small.md").write_text("# Small fix\n\n## Changes\n- `src/app.py`: return 2\n")
    listed = run_cli("plans", "--plans-dir", str(plans), cwd=repo)
    as_json = json.loads(run_cli("plans", "--plans-dir", str(plans), "--json", cwd=repo).stdout)
    reason = as_json[0]["advice"]["reason"]
    assert reason
    lines = listed.stdout.splitlines()
    assert "Small fix  (small.md)" in lines[1] and lines[2].strip() == reason


def test_plans_dir_given_wrong_says_to_check_the_flag(repo: Path, tmp_path: Path):
    absent = run_cli("plans", "--plans-dir", str(tmp_path / "absent"), cwd=repo)
    assert absent.returncode == 2 and "Check the path given to --plans-dir" in absent.stderr
    a_file = tmp_path / "file.md"
    a_file.write_text("# x\n")
    not_dir = run_cli("plans", "--plans-dir", str(a_file), cwd=repo)
    assert not_dir.returncode == 2 and f"{a_file}: not a directory (--plans-dir)" in not_dir.stderr


def test_run_id_refusals_say_what_to_do(repo: Path, tmp_path: Path):
    spec = spec_file(tmp_path, ["CREATE hello.txt"], ["test -f hello.txt"])
    ids = [run_spec(repo, spec)[2]["run_id"] for _ in range(2)]
    prefix = os.path.commonprefix(ids)

    ambiguous = run_cli("diff", prefix, cwd=repo)
    assert ambiguous.returncode == 2 and "ambiguous run id prefix" in ambiguous.stderr
    assert all(run_id in ambiguous.stderr for run_id in ids) and "give more of the id" in ambiguous.stderr

    unknown = run_cli("accept", "991231-235959-zz", cwd=repo)
    assert unknown.returncode == 2 and "no such run" in unknown.stderr and "`hybrid-tui runs`" in unknown.stderr

    malformed = run_cli("accept", "zz-nope", cwd=repo)
    assert malformed.returncode == 2 and "zz-nope: not a run id" in malformed.stderr and "`hybrid-tui runs`" in malformed.stderr

    empty = run_cli("diff", "", cwd=repo)
    assert empty.returncode == 2 and "the run id is empty" in empty.stderr


# -- run output, verify --------------------------------------------------------------------------


def test_plain_output_shows_kimi_status_tags_as_words_json_keeps_them(repo: Path, plan: Path):
    plain = run_cli("run", str(plan), cwd=repo, env=standin_env("kimi_success"))
    assert plain.returncode == 0, plain.stderr
    assert "  ⎿ File successfully overwritten. Current size: 22 bytes." in plain.stdout.splitlines()
    assert "<system>" not in plain.stdout
    as_json = run_cli("run", str(plan), "--json", cwd=repo, env=standin_env("kimi_success"))
    assert '"<system>File successfully overwritten.' in as_json.stdout


def test_verify_says_when_a_run_has_no_checks(repo: Path, tmp_path: Path):
    spec = spec_file(tmp_path, ["CREATE hello.txt"], [])
    _, _, summary = run_spec(repo, spec)
    result = run_cli("verify", summary["run_id"][:12], cwd=repo)
    assert result.returncode == 0
    assert result.stdout.strip() == f"run {summary['run_id']}: no checks to run (the spec names no verification command)"


# -- accept --only -------------------------------------------------------------------------------


def test_accept_only_never_lands_the_same_change_twice(repo: Path, tmp_path: Path):
    """A change whose added lines repeat their own context (`x` appended after `x x x`) applies
    again on top of itself (git finds the context one line further down): the second `--only` of
    the same file is refused, main unchanged."""
    (repo / "notes.txt").write_text("notes\nx\nx\nx\n")
    git(repo, "add", "notes.txt")
    git(repo, "commit", "-q", "-m", "notes")
    stream = agent_stream(tmp_path, "append", [
        ("WriteFile", {"path": "notes.txt", "content": "notes\nx\nx\nx\nx\n"}),
        ("WriteFile", {"path": "other.txt", "content": "other\n"}),
    ])  # fmt: skip
    spec = spec_file(tmp_path, ["MODIFY notes.txt", "CREATE other.txt"], ["true"])
    _, _, summary = run_spec(repo, spec, stream)
    run_id = summary["run_id"]

    first = run_cli("accept", run_id, "--only", "./notes.txt", "--json", cwd=repo)  # ./ as a shell gives it
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout)["partial_accept"]["paths"] == ["notes.txt"]
    assert (repo / "notes.txt").read_text() == "notes\nx\nx\nx\nx\n"
    head = git(repo, "rev-parse", "HEAD")

    second = run_cli("accept", run_id, "--only", "notes.txt", cwd=repo)
    no_traceback(second)
    assert second.returncode == 1 and "notes.txt on main already matches" in second.stderr
    assert (repo / "notes.txt").read_text() == "notes\nx\nx\nx\nx\n"
    assert git(repo, "rev-parse", "HEAD") == head

    unknown = run_cli("accept", run_id, "--only", "src", cwd=repo)
    assert unknown.returncode == 2 and "src: not a file the run changed" in unknown.stderr
    assert "The run changed: notes.txt, other.txt." in unknown.stderr

    rest = run_cli("accept", run_id, "--only", str(repo / "other.txt"), cwd=repo)  # an absolute path
    assert rest.returncode == 0, rest.stderr
    assert (repo / "other.txt").read_text() == "other\n"


def test_accept_only_dry_run_says_what_would_land(repo: Path, tmp_path: Path):
    spec = spec_file(tmp_path, ["CREATE hello.txt"], ["true"])
    _, _, summary = run_spec(repo, spec)
    result = run_cli("accept", summary["run_id"], "--only", "hello.txt", "--dry-run", cwd=repo)
    assert result.returncode == 0
    assert result.stdout.strip().endswith("ready to accept hello.txt as one commit")


# -- review and pr without what they need ---------------------------------------------------------


def test_review_without_claude_says_how_to_install_it(repo: Path, tmp_path: Path, isolated_env: Path, state_dir: Path):
    spec = spec_file(tmp_path, ["CREATE hello.txt"], ["true"])
    _, _, summary = run_spec(repo, spec)
    (isolated_env / "config.toml").write_text(f'[agents.claude]\ncommand = ["{tmp_path / "no-claude"}"]\n')
    before = world(repo, state_dir)
    result = run_cli("review", summary["run_id"], "--json", cwd=repo)
    no_traceback(result)
    assert result.returncode == 2 and result.stdout == ""
    assert "agents.claude.command" in result.stderr and "install Claude Code" in result.stderr
    assert world(repo, state_dir) == before


def test_pr_without_a_remote_says_what_to_do_and_a_wrong_remote_is_named(repo: Path, tmp_path: Path):
    spec = spec_file(tmp_path, ["CREATE hello.txt"], ["true"])
    run_id = run_spec(repo, spec)[2]["run_id"]
    result = run_cli("pr", run_id, cwd=repo)
    assert result.returncode == 1 and "has no git remote to push to" in result.stderr
    assert "git remote add origin URL" in result.stderr

    git(tmp_path, "init", "-q", "--bare", "origin.git")
    git(repo, "remote", "add", "origin", str(tmp_path / "origin.git"))
    wrong = run_cli("pr", run_id, "--remote", "upstream", cwd=repo)
    assert wrong.returncode == 2 and "no git remote named 'upstream'" in wrong.stderr and "Its remotes: origin." in wrong.stderr
    assert git(tmp_path / "origin.git", "for-each-ref") == ""  # nothing was pushed
