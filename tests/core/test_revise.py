"""Revise (issue 6, point 5): a run sent back to its agent with a note, on the same branch.

Real git repositories, the real CLI as a process, the stand-in kimi (it logs the argv it got)
replaying hand-made streams whose WriteFile calls it carries out inside -w. The first run and
the revision replay different streams, so the revision's commit is its own.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from hybrid_tui.agents.claude import ClaudeAgent
from hybrid_tui.agents.kimi import KimiAgent
from hybrid_tui.agents.process import AgentMissing
from hybrid_tui.config import ClaudeSettings, KimiSettings, Settings
from hybrid_tui.core.errors import ActionFailed, InputError
from hybrid_tui.core.land.accept import reject_run
from hybrid_tui.core.run.dispatch import RunExecution, prepare_run
from hybrid_tui.core.run.revise import (
    agent_for_run,
    checks_report,
    new_commits,
    prepare_revision,
    revision_prompt,
)
from hybrid_tui.core.runs import CheckResult, Run, RunStore, Status
from hybrid_tui.core.verify import read_output
from tests.support.cli import run_cli, standin_env, world
from tests.support.repos import git
from tests.support.runs import agent_stream, record, run_spec, spec_file

SESSION = "2a47416c-43bf-46fd-8fe6-a29c47d04c27"
RESUME_LINE = f"\nTo resume this session: kimi -r {SESSION}\n"
CHECK = "cat hello.txt && grep -q empty hello.txt"
NOTE = "the tests miss the empty case"


def with_session(stream: Path, session: str | None = SESSION) -> Path:
    stream.with_suffix(".stderr").write_text(f"\nTo resume this session: kimi -r {session}\n" if session else "")
    return stream


def first_stream(tmp_path: Path, session: str | None = SESSION) -> Path:
    return with_session(agent_stream(tmp_path, "first", [("WriteFile", {"path": "hello.txt", "content": "hello\n"})]), session)


def revision_stream(tmp_path: Path, session: str | None = SESSION) -> Path:
    content = "hello\nthe empty case is handled\n"
    return with_session(agent_stream(tmp_path, "revision", [("WriteFile", {"path": "hello.txt", "content": content})]), session)


def calls(log: Path) -> list[dict]:
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def prompt_of(call: dict) -> str:
    argv = call["argv"]
    return argv[argv.index("-p") + 1] if "-p" in argv else call["stdin"]


def first_run(repo: Path, tmp_path: Path, *, session: str | None = SESSION) -> dict:
    """A finished run whose check fails: hello.txt does not mention the empty case."""
    spec = spec_file(tmp_path, ["CREATE hello.txt"], [CHECK], title="Add a greeting")
    result, _, summary = run_spec(repo, spec, first_stream(tmp_path, session))
    assert result.returncode == 1, result.stderr  # the check failed
    assert summary["status"] == "review" and summary["checks"][0]["ok"] is False
    return summary


def revise_cli(repo: Path, tmp_path: Path, run_id: str, *args: str, stream: Path | None = None):
    log = tmp_path / f"revise-{len(list(tmp_path.glob('revise-*.log')))}.log"  # one per call
    env = standin_env("kimi_success", KIMI_STANDIN_FIXTURE=str(stream or revision_stream(tmp_path)),
                      KIMI_STANDIN_LOG=str(log))
    result = run_cli("revise", run_id, "--approve-checks", *args, cwd=repo, env=env)
    return result, calls(log)


# -- end to end: the CLI ---------------------------------------------------------------------


def test_revise_resumes_the_session_and_adds_a_commit_on_the_same_branch(repo: Path, tmp_path: Path, state_dir: Path):
    summary = first_run(repo, tmp_path)
    run_id, branch = summary["run_id"], summary["branch"]
    first_tip = git(repo, "rev-parse", branch)
    worktree = state_dir / "worktrees" / run_id

    result, (call,) = revise_cli(repo, tmp_path, run_id, "-m", NOTE, "--json")

    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    out = lines[-1]
    assert out["type"] == "summary" and out["status"] == "review" and out["revision"] == 1
    # The same agent resumed its session (-S with the id of its first run's stderr), in the
    # same worktree, with the note, the failing check and its output as the prompt.
    argv = call["argv"]
    assert argv[argv.index("-S") + 1] == SESSION
    assert argv[argv.index("-w") + 1] == str(worktree) and Path(call["cwd"]) == worktree
    prompt = prompt_of(call)
    assert NOTE in prompt
    assert f"`{CHECK}` failed with exit code 1" in prompt
    assert "\n  hello\n" in prompt  # the check's output, as the checks log holds it
    assert "The spec is as before." in prompt and "# Spec:" not in prompt
    # One new commit on the same branch, on top of the first run's; the checks ran again.
    assert out["branch"] == branch and out["from_sha"] == first_tip
    assert out["new_commits"] == [git(repo, "rev-parse", branch)]
    assert git(repo, "rev-parse", f"{branch}~1") == first_tip
    assert git(repo, "show", f"{branch}:hello.txt") == "hello\nthe empty case is handled"
    assert git(repo, "log", "-1", "--format=%an", branch) == "Kimi (hybrid-tui)"
    assert [(c["command"], c["ok"]) for c in out["checks"]] == [(CHECK, True)]
    assert out["resumed_session"] == SESSION and out["session_id"] == SESSION
    assert [e["kind"] for e in lines[:-1] if e["type"] == "event"][-1] == "exit"
    # The run record holds the revision.
    saved = record(state_dir, run_id)
    assert saved["status"] == "review" and saved["head_sha"] == out["head_sha"]
    (revision,) = saved["revisions"]
    assert revision["note"] == NOTE and revision["session_id"] == SESSION
    assert (revision["status"], revision["from_sha"], revision["head_sha"]) == ("review", first_tip, out["head_sha"])
    assert revision["steps"] == 2 and saved["steps"] == 4  # 2 steps each: the quota adds up


def test_revise_without_a_session_starts_fresh_with_the_spec_and_the_note(repo: Path, tmp_path: Path):
    summary = first_run(repo, tmp_path, session=None)
    assert summary["session_id"] is None

    result, (call,) = revise_cli(repo, tmp_path, summary["run_id"], "-m", NOTE)

    assert result.returncode == 0, result.stderr
    assert "-S" not in call["argv"] and "-r" not in call["argv"]
    prompt = prompt_of(call)
    assert prompt.startswith("Implement the following spec")
    assert "# Spec: 001 -- Add a greeting" in prompt
    assert "## Revision" in prompt and NOTE in prompt and f"`{CHECK}` failed" in prompt
    assert f"revision 1, Kimi starts a fresh session on {summary['branch']}" in result.stdout
    assert "1 new commit(s)" in result.stdout


def test_a_second_revision_resumes_again_and_stacks_its_commit(repo: Path, tmp_path: Path, state_dir: Path):
    summary = first_run(repo, tmp_path)
    revise_cli(repo, tmp_path, summary["run_id"], "-m", NOTE)
    tip = git(repo, "rev-parse", summary["branch"])
    again = agent_stream(tmp_path, "again", [("WriteFile", {"path": "more.txt", "content": "more\n"})])
    with_session(again)

    result, (call,) = revise_cli(repo, tmp_path, summary["run_id"], "-m", "also add more.txt", "--json", stream=again)

    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout.splitlines()[-1])
    assert out["revision"] == 2 and out["from_sha"] == tip
    assert call["argv"][call["argv"].index("-S") + 1] == SESSION
    assert "## Failing checks" not in prompt_of(call)  # they passed after the first revision
    assert git(repo, "rev-parse", f"{summary['branch']}~1") == tip
    assert [r["note"] for r in record(state_dir, summary["run_id"])["revisions"]] == [NOTE, "also add more.txt"]


def test_revise_refusals_change_nothing(repo: Path, tmp_path: Path, state_dir: Path):
    summary = first_run(repo, tmp_path)
    run_id = summary["run_id"]
    before = world(repo, state_dir)

    empty, no_calls = revise_cli(repo, tmp_path, run_id, "-m", "   ")
    assert empty.returncode == 2 and "the revision note is empty" in empty.stderr and not no_calls
    unknown = run_cli("revise", "991231-235959-zz", "-m", NOTE, cwd=repo)
    assert unknown.returncode == 2 and "991231-235959-zz: no such run" in unknown.stderr
    forward = run_cli("revise", run_id, "--claude-points", cwd=repo)
    assert forward.returncode == 2 and f"hybrid-tui review {run_id}" in forward.stderr
    config = tmp_path / "missing-kimi.toml"
    config.write_text('[agents.kimi]\ncommand = ["no-such-kimi"]\nflavour = "legacy"\n')
    missing = run_cli("revise", run_id, "-m", NOTE, cwd=repo, env={"HYBRID_TUI_CONFIG": str(config)})
    assert missing.returncode == 2 and "'no-such-kimi'" in missing.stderr and "kimi-cli==1.50.0" in missing.stderr
    assert world(repo, state_dir) == before

    worktree = state_dir / "worktrees" / run_id
    (worktree / "stray.txt").write_text("not committed\n")
    dirty, no_calls = revise_cli(repo, tmp_path, run_id, "-m", NOTE)
    assert dirty.returncode == 1 and "stray.txt" in dirty.stderr and not no_calls
    assert record(state_dir, run_id)["revisions"] == []


def test_a_failed_run_can_be_revised_into_review(repo: Path, tmp_path: Path):
    spec = spec_file(tmp_path, ["CREATE hello.txt"], ["test -f hello.txt"], title="Add a greeting")
    result, _, summary = run_spec(repo, spec, None, fixture="kimi_max_steps")
    assert summary["status"] == "failed" and summary["checks"] is None

    result, (call,) = revise_cli(repo, tmp_path, summary["run_id"], "-m", "finish writing hello.txt", "--json")

    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout.splitlines()[-1])
    assert (out["status"], out["failure_kind"]) == ("review", None)
    assert [(c["command"], c["ok"]) for c in out["checks"]] == [("test -f hello.txt", True)]
    assert "-S" in call["argv"]  # kimi_max_steps.stderr names its session too


# -- the core ----------------------------------------------------------------------------------


@pytest.fixture
def store(state_dir: Path) -> RunStore:
    return RunStore(state_dir)


def kimi() -> KimiAgent:
    return KimiAgent(KimiSettings(flavour="legacy", timeout=30))


def finished(store: RunStore, repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Run:
    spec = spec_file(tmp_path, ["CREATE hello.txt"], [CHECK], title="Add a greeting").read_text()
    for key, value in standin_env("kimi_success", KIMI_STANDIN_FIXTURE=str(first_stream(tmp_path))).items():
        monkeypatch.setenv(key, value)
    run = prepare_run(store, repo, spec, kimi()).run
    run = asyncio.run(RunExecution(
        store, run, kimi(), timeout=30, on_events=lambda e: None, check_timeout=30, approved_checks=[CHECK]
    ).start())
    assert run.status == Status.REVIEW and run.checks_ok is False
    return run


def test_revision_execution_goes_running_verifying_review(store: RunStore, repo: Path, tmp_path: Path, monkeypatch):
    run = finished(store, repo, tmp_path, monkeypatch)
    monkeypatch.setenv("KIMI_STANDIN_FIXTURE", str(revision_stream(tmp_path)))
    monkeypatch.setenv("KIMI_STANDIN_LOG", str(tmp_path / "core.log"))
    prompt, run = prepare_revision(store, run, f"  {NOTE}\n", agent=kimi())
    assert store.load(run.id).revisions[-1].status == "preparing"
    statuses: list[str] = []

    def seen(events) -> None:
        statuses.append(store.load(run.id).status.value)

    run = asyncio.run(RunExecution(
        store, run, kimi(), revision=True, timeout=30, on_events=seen, check_timeout=30, approved_checks=[CHECK]
    ).start())

    assert statuses[0] == "running" and "verifying" in statuses
    assert run.status == Status.REVIEW and run.checks_ok is True
    (revision,) = run.revisions
    assert revision.note == NOTE and revision.status == "review" and len(new_commits(run)) == 1
    (call,) = calls(tmp_path / "core.log")
    assert prompt_of(call) == prompt and call["argv"][call["argv"].index("-S") + 1] == SESSION
    assert revision.prompt_path == str(store.run_dir(run.id) / "revision-1.md")
    assert Path(revision.prompt_path).read_text() == prompt


def test_a_revision_left_running_by_a_dead_hybrid_tui_reads_interrupted(store: RunStore, repo: Path, tmp_path: Path, monkeypatch):
    run = finished(store, repo, tmp_path, monkeypatch)
    with pytest.raises(ActionFailed, match="no prepared revision"):
        RunExecution(store, run, kimi(), revision=True, timeout=1, on_events=print)
    prepare_revision(store, run, "first note")
    run = store.load(run.id)  # never executed: as if hybrid-tui died before the agent started
    prepare_revision(store, run, "second note")
    assert [(r.note, r.status) for r in store.load(run.id).revisions] == [
        ("first note", "interrupted"), ("second note", "preparing"),
    ]


def test_landed_active_and_agentless_runs_are_refused(store: RunStore, repo: Path, tmp_path: Path, monkeypatch):
    run = finished(store, repo, tmp_path, monkeypatch)
    missing = KimiAgent(KimiSettings(flavour="legacy", command=["no-such-kimi"]))
    with pytest.raises(AgentMissing, match="no-such-kimi"):
        prepare_revision(store, run, NOTE, agent=missing)
    run.status = Status.RUNNING
    with pytest.raises(ActionFailed, match="still running"):
        prepare_revision(store, run, NOTE)
    run = store.load(run.id)
    with pytest.raises(InputError, match="empty"):
        prepare_revision(store, run, "\n \n")
    rejected = reject_run(store, run)
    with pytest.raises(ActionFailed, match="was already rejected"):
        prepare_revision(store, rejected, NOTE)
    assert store.load(run.id).revisions == []


def test_the_prompt_names_a_stale_check_run(store: RunStore, repo: Path, tmp_path: Path, monkeypatch):
    run = finished(store, repo, tmp_path, monkeypatch)
    worktree = Path(run.worktree)
    (worktree / "later.txt").write_text("x\n")
    git(worktree, "add", "-A")
    git(worktree, "commit", "-qm", "later")
    report = checks_report(store, run, only_failing=True)
    assert report.startswith(f"(These checks ran on commit {run.checks_sha[:7]}")
    assert revision_prompt(store, run, NOTE, resume=True).count("## Failing checks") == 1


# -- the checks' outputs -----------------------------------------------------------------------


def check(command: str, ok: bool, code: int | None = 1, output: Path | None = None) -> CheckResult:
    return CheckResult(command=command, exit_code=0 if ok else code, ok=ok, seconds=0.1,
                       output=str(output) if output else None)


def test_a_checks_output_is_read_from_its_own_file_never_from_the_log(tmp_path: Path):
    out = tmp_path / "2.out"
    out.write_bytes(b"line 1\nno newline at the end")
    assert read_output(check("make test", False, output=out)) == ["line 1", "no newline at the end"]
    assert read_output(check("true", True)) == []  # recorded before outputs were kept
    assert read_output(check("gone", False, output=tmp_path / "missing.out")) == []
    long = tmp_path / "3.out"
    long.write_bytes(b"x" * 50 + b"\n" + b"\n".join(b"line %d" % i for i in range(100)))
    tail = read_output(check("long", False, output=long), max_bytes=70)
    assert tail[-1] == "line 99" and all(line.startswith("line ") for line in tail)  # whole lines only


def test_the_report_shows_each_failing_checks_own_output(store: RunStore, repo: Path, tmp_path: Path, monkeypatch):
    run = finished(store, repo, tmp_path, monkeypatch)
    out = tmp_path / "1.out"
    out.write_text("the real output\n")
    store.checks_log_path(run.id).write_text("$ make test\nwhat a parser of the log would find\n✗ failed (exit 2) in 0.1s\n")
    store.update(run, checks=[check("make test", False, 2, output=out)], checks_sha=run.head_sha)
    report = checks_report(store, run, only_failing=True)
    assert "the real output" in report and "a parser of the log" not in report


def test_agents_resume_their_session(tmp_path: Path):
    legacy = KimiAgent(KimiSettings(flavour="legacy"))
    plain = legacy.command(tmp_path, "go").argv
    resumed = legacy.command(tmp_path, "go", resume="abc").argv
    assert resumed == [*plain[:-2], "-S", "abc", "-p", "go"]
    code = KimiAgent(KimiSettings(flavour="code")).command(tmp_path, "go", resume="abc").argv
    assert code[code.index("-S") + 1] == "abc" and code[-2:] == ["-p", "go"]  # 2.x: -S ID
    claude = ClaudeAgent(ClaudeSettings())
    assert claude.command(tmp_path, "go", resume="s-1").argv == [*claude.command(tmp_path, "go").argv, "--resume", "s-1"]
    assert Settings().agents.kimi.flavour == "auto"  # the default: resume works for both flavours


def test_the_agent_resumes_with_the_flavour_the_run_used():
    settings = Settings()
    settings.agents.kimi.command = ["no-such-kimi"]  # "auto" could not ask it: it would say legacy
    run = Run(id="r", title="t", repo_root="/r", spec_path="/s", branch="b", base_branch="main",
              base_sha="0" * 40, worktree="/w", created_at="t", agent="kimi", flavour="code")
    assert agent_for_run(run, settings).flavour == "code"
    assert settings.agents.kimi.flavour == "auto"  # the settings themselves are left alone
    assert agent_for_run(run.model_copy(update={"agent": "claude"}), settings).name == "claude"


def test_a_plan_run_starts_fresh_from_its_plan(store: RunStore, repo: Path, tmp_path: Path, monkeypatch):
    from hybrid_tui.core.run.dispatch import prepare_plan_run

    monkeypatch.setenv("PATH", standin_env("kimi_success")["PATH"])
    run = prepare_plan_run(store, repo, "# Add hello\n\nCreate hello.txt.\n", kimi()).run
    prompt = revision_prompt(store, run, NOTE, resume=False)
    assert prompt.startswith("Implement the following plan") and "# Add hello" in prompt
    assert "A first attempt at this plan is already committed" in prompt and NOTE in prompt
