"""Claude reviews a run, and revise resumes the real agents' sessions: the real binaries, offline.

- `hybrid-tui review RUN` drives the real `claude` (from tests/support/agent_clis.py) against the
  scripted Anthropic server (tests/support/servers/anthropic.py). The run under review is made by the
  stand-in kimi first (the only stand-in; it is not what is tested here). The scripted model
  answers through the `StructuredOutput` tool that `--json-schema` makes Claude Code offer,
  which the tests check in the request the real binary sent.
- `hybrid-tui revise RUN` with `--agent claude` runs resumes the real Claude session
  (`--resume`): the revision's first request carries the first conversation.
- `hybrid-tui revise RUN` with the real kimi-cli 1.50.0 (`_scripted_echo` provider) resumes
  its session (`-S`): Kimi's own session record holds both prompts.
A missing binary fails these tests, it never skips them (`--no-e2e` deselects them).
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import pytest

from hybrid_tui.core.review.claude_review import REVIEW_SCHEMA
from tests.support.cli import checkout_fingerprint, run_cli, standin_env
from tests.support.e2e import (
    answer,
    call,
    configure,
    session_context,
    write_config,
    write_file,
)
from tests.support.repos import git, make_repo
from tests.support.runs import agent_stream, spec_file
from tests.support.servers.anthropic import (
    ApiError,
    RecordedRequest,
    ScriptedAnthropic,
    text,
    tool_use,
)

pytestmark = pytest.mark.e2e

CHECK = "grep -q empty hello.txt"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in list(os.environ):
        if name.startswith(("ANTHROPIC_", "CLAUDE_CODE_")) or name in ("CLAUDECODE", "IS_SANDBOX"):
            monkeypatch.delenv(name)
    return make_repo(tmp_path / "project", {"README.md": "# demo\n", "src/app.py": "def main():\n    return 1\n"})


def kimi_run(project: Path, tmp_path: Path) -> dict:
    """A finished run by the stand-in kimi: hello.txt created, src/app.py changed, a failing check."""
    spec = spec_file(tmp_path, ["CREATE hello.txt", "MODIFY src/app.py"], [CHECK], title="Add a greeting")
    stream = agent_stream(tmp_path, "work", [
        ("WriteFile", {"path": "hello.txt", "content": "hello\n"}),
        ("StrReplaceFile", {"path": "src/app.py", "edit": {"old": "return 1", "new": "return 2"}}),
    ])  # fmt: skip
    result = run_cli("run", str(spec), "--approve-checks", "--json", cwd=project, env=standin_env("kimi_success", KIMI_STANDIN_FIXTURE=str(stream)))
    summary = json.loads(result.stdout.splitlines()[-1])
    assert summary["status"] == "review", result.stderr
    return summary


def state(run_id: str) -> Path:
    return Path(os.environ["HYBRID_TUI_STATE_DIR"]) / "runs" / run_id


def test_claude_reviews_read_only_and_the_points_go_back_to_kimi(project: Path, tmp_path: Path, isolated_env: Path):
    run = kimi_run(project, tmp_path)
    run_id, worktree = run["run_id"], Path(run["worktree"])
    seen: dict = {}

    def read_first(request: RecordedRequest):
        seen["tools"] = {t["name"]: t for t in request.body["tools"]}
        return [text("Reading the new file."), tool_use("Read", {"file_path": f"{request.cwd}/hello.txt"})]

    def verdict(request: RecordedRequest):
        seen["read"] = request.tool_results()
        return answer("request_changes", "hello.txt misses the empty case.", [
            {"file": f"{request.cwd}/hello.txt", "line": 1, "problem": "say what happens with no name"},
            {"file": "src/app.py", "problem": "main() has no test"},
        ])  # fmt: skip

    before = checkout_fingerprint(project), git(project, "rev-parse", run["branch"])
    with ScriptedAnthropic([read_first, verdict]) as server:
        write_config(isolated_env, server)
        result = run_cli("review", run_id, "--json", cwd=project, timeout=90)

    assert result.returncode == 1, result.stderr  # request changes
    review = json.loads(result.stdout)
    assert review["verdict"] == "request_changes" and review["summary"] == "hello.txt misses the empty case."
    assert review["points"] == [
        {"file": "hello.txt", "line": 1, "problem": "say what happens with no name"},
        {"file": "src/app.py", "line": None, "problem": "main() has no test"},
    ]
    assert review["reviewed_sha"] == git(project, "rev-parse", run["branch"]) and review["session_id"]
    # How the real binary asked: in the run's worktree, read-only tools only, and the review
    # schema as the input schema of the synthetic StructuredOutput tool.
    assert len(server.turn_requests) == 2 and not server.problems
    first = server.turn_requests[0]
    assert first.cwd == str(worktree)
    assert {"Read", "Grep", "Glob", "StructuredOutput"} <= set(seen["tools"])
    assert not {"Bash", "Edit", "Write", "NotebookEdit"} & set(seen["tools"])
    assert seen["tools"]["StructuredOutput"]["input_schema"] == REVIEW_SCHEMA
    prompt = first.all_text()
    assert "# Spec: 001 -- Add a greeting" in prompt
    assert f"✗ `{CHECK}` failed with exit code 1" in prompt
    assert "+hello" in prompt and "-    return 1" in prompt and "+    return 2" in prompt
    assert [r["content"] for r in seen["read"]] == ["1\thello\n2\t"]  # the Read ran, in the worktree
    init = json.loads((state(run_id) / "review.transcript.jsonl").read_text().splitlines()[0])
    assert init["permissionMode"] == "plan" and init["cwd"] == str(worktree)
    # Stored on the run and beside it; nothing changed in git.
    saved = json.loads((state(run_id) / "run.json").read_text())
    assert saved["claude_review"]["verdict"] == "request_changes" and saved["status"] == "review"
    assert json.loads((state(run_id) / "review.json").read_text()) == saved["claude_review"]
    assert (checkout_fingerprint(project), git(project, "rev-parse", run["branch"])) == before
    assert git(worktree, "status", "--porcelain") == ""

    # The points, forwarded to Kimi as the note of a revision.
    log = tmp_path / "revise.log"
    stream = agent_stream(tmp_path, "fix", [("WriteFile", {"path": "hello.txt", "content": "hello, empty\n"})])
    revised = run_cli("revise", run_id, "--claude-points", "--json", cwd=project,
                      env=standin_env("kimi_success", KIMI_STANDIN_FIXTURE=str(stream), KIMI_STANDIN_LOG=str(log)))
    assert revised.returncode == 0, revised.stderr
    argv = json.loads(log.read_text())["argv"]
    note = argv[argv.index("-p") + 1]
    assert "Claude reviewed your work and asks for changes. hello.txt misses the empty case." in note
    assert "- hello.txt:1: say what happens with no name\n- src/app.py: main() has no test" in note
    assert json.loads(revised.stdout.splitlines()[-1])["status"] == "review"


def test_an_approval_exits_0_and_says_so(project: Path, tmp_path: Path, isolated_env: Path):
    run = kimi_run(project, tmp_path)
    with ScriptedAnthropic([answer("approve", "Does what the spec asks.", [])]) as server:
        write_config(isolated_env, server)
        result = run_cli("review", run["run_id"], cwd=project, timeout=90)

    assert result.returncode == 0, result.stderr
    assert f"run {run['run_id']}: Claude says approve" in result.stdout
    assert "Does what the spec asks." in result.stdout and "revise" not in result.stdout


@pytest.mark.parametrize(
    ("turns", "words"),
    [
        ([[text("Looks fine to me.")], [text("Really fine.")]], ["answered without a verdict"]),
        ([ApiError(401, "invalid x-api-key")], ["Claude could not review run", "ANTHROPIC_API_KEY"]),
    ],
    ids=["no-structured-output", "auth-error"],
)
def test_a_review_without_a_verdict_fails_clearly_and_stores_nothing(project: Path, tmp_path: Path, isolated_env: Path, turns, words):
    run = kimi_run(project, tmp_path)
    with ScriptedAnthropic(turns) as server:
        write_config(isolated_env, server)
        result = run_cli("review", run["run_id"], cwd=project, timeout=90)

    assert result.returncode == 1
    for word in words:
        assert word in result.stderr
    assert not (state(run["run_id"]) / "review.json").exists()
    assert json.loads((state(run["run_id"]) / "run.json").read_text())["claude_review"] is None


# -- revise resumes the real agents' sessions ----------------------------------------------------


def test_revise_resumes_the_real_claude_session(project: Path, tmp_path: Path, isolated_env: Path):
    spec = spec_file(tmp_path, ["CREATE hello.txt"], ["test -f hello.txt"], title="Add a greeting")
    turns = [
        write_file("hello.txt", "hello\n"), [text("Created hello.txt.")],
        write_file("hello.txt", "hello, empty case\n", say="Handling the empty case."), [text("Revised.")],
    ]  # fmt: skip
    with ScriptedAnthropic(turns) as server:
        write_config(isolated_env, server)
        first = run_cli("run", str(spec), "--agent", "claude", "--approve-checks", "--json", cwd=project, timeout=90)
        summary = json.loads(first.stdout.splitlines()[-1])
        assert summary["status"] == "review", first.stdout + first.stderr
        result = run_cli("revise", summary["run_id"], "-m", "handle the empty case", "--approve-checks", "--json", cwd=project, timeout=90)

    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout.splitlines()[-1])
    assert out["status"] == "review" and out["resumed_session"] == summary["session_id"]
    assert len(out["new_commits"]) == 1
    assert git(project, "show", f"{summary['branch']}:hello.txt") == "hello, empty case"
    # The revision's first request carries the first conversation, then the note.
    assert len(server.turn_requests) == 4 and not server.problems
    resumed = server.turn_requests[2]
    assert resumed.cwd == summary["worktree"]
    messages = resumed.body["messages"]
    assert "# Spec: 001 -- Add a greeting" in json.dumps(messages[0])
    assert "handle the empty case" in json.dumps(messages[-1]) and "The spec is as before." in json.dumps(messages[-1])
    assert "handle the empty case" not in json.dumps(messages[:-1])
    saved = json.loads((state(summary["run_id"]) / "run.json").read_text())
    assert saved["revisions"][0]["steps"] == 2 and saved["steps"] == 4  # the quota adds up
    assert saved["cost_usd"] > json.loads(first.stdout.splitlines()[-1]).get("cost_usd", 0) > 0


def test_revise_resumes_the_real_kimi_session(repo: Path, tmp_path: Path, isolated_env: Path, kimi_legacy_bin: Path):
    kimi_bin = kimi_legacy_bin
    spec = spec_file(tmp_path, ["CREATE hello.txt"], ["grep -q empty hello.txt"], title="Add a greeting")
    share = configure(isolated_env, kimi_bin, steps=[
        [call("c1", "WriteFile", path="hello.txt", content="hello\n")], ["text: Done."],
    ])  # fmt: skip
    first = run_cli("run", str(spec), "--approve-checks", "--json", cwd=repo, timeout=180)
    summary = json.loads(first.stdout.splitlines()[-1])
    assert summary["status"] == "review" and summary["checks"][0]["ok"] is False, first.stderr

    configure(isolated_env, kimi_bin, steps=[
        [call("c2", "WriteFile", path="hello.txt", content="hello, empty\n")], ["text: Revised."],
    ])  # fmt: skip
    result = run_cli("revise", summary["run_id"], "-m", "mention the empty case", "--approve-checks", "--json", cwd=repo, timeout=180)

    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout.splitlines()[-1])
    assert out["status"] == "review" and out["checks"][0]["ok"] is True
    assert out["resumed_session"] == summary["session_id"] == out["session_id"]
    assert git(repo, "show", f"{summary['branch']}:hello.txt") == "hello, empty"
    assert len(out["new_commits"]) == 1
    # Kimi's own record of the session: the spec first, then the revision's note.
    users = [m["content"] for m in session_context(share, summary) if m["role"] == "user"]
    assert len(users) == 2
    assert "# Spec: 001 -- Add a greeting" in users[0]
    assert "mention the empty case" in users[1] and "`grep -q empty hello.txt` failed with exit code 1" in users[1]


def test_a_review_that_takes_too_long_is_stopped_and_stores_nothing(project: Path, tmp_path: Path, isolated_env: Path):
    run = kimi_run(project, tmp_path)
    released = threading.Event()

    def stuck(request: RecordedRequest):
        released.wait(30)  # the model "thinks" until the test is over
        return answer("approve", "too late", [])

    with ScriptedAnthropic([stuck]) as server:
        write_config(isolated_env, server)
        try:
            result = run_cli("review", run["run_id"], "--timeout", "2", cwd=project, timeout=60)
        finally:
            released.set()

    assert result.returncode == 1
    assert f"Claude did not finish the review of run {run['run_id']} within 2 s; nothing was stored." in result.stderr
    assert "agents.claude.timeout" in result.stderr
    assert not (state(run["run_id"]) / "review.json").exists()
