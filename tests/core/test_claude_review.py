"""Claude review (issue 6, point 6) without the real binary: the request it builds, how an
answer is read, the note it gives revise, and the refusals (Claude missing, run not reviewable).

The real `claude` against a scripted Anthropic server is in tests/e2e/test_review_e2e.py.
Runs here are real: the stand-in kimi works on a real branch first.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from hybrid_tui.agents.base import MAX_ARGV_PROMPT_BYTES
from hybrid_tui.agents.process import AgentMissing
from hybrid_tui.config import ClaudeSettings
from hybrid_tui.core.errors import ActionFailed
from hybrid_tui.core.land.accept import reject_run
from hybrid_tui.core.review.claude_review import (
    REVIEW_SCHEMA,
    ClaudeReviewer,
    load_review,
    parse_review,
    points_as_note,
    review_invocation,
    review_prompt,
)
from hybrid_tui.core.runs import ClaudeReview, ReviewPoint, RunStore, Status
from tests.support.cli import run_cli, world
from tests.support.runs import agent_stream, run_spec, spec_file


@pytest.fixture
def run_id(repo: Path, tmp_path: Path) -> str:
    spec = spec_file(tmp_path, ["CREATE hello.txt", "MODIFY README.md"], ["test -f hello.txt", "echo boom; false"],
                     title="Add a greeting")
    stream = agent_stream(tmp_path, "work", [
        ("WriteFile", {"path": "hello.txt", "content": "hello\n" * 50}),
        ("WriteFile", {"path": "extra.txt", "content": "not in the spec\n"}),
    ])  # fmt: skip
    _, _, summary = run_spec(repo, spec, stream)
    assert summary["status"] == "review"
    return summary["run_id"]


@pytest.fixture
def store(state_dir: Path) -> RunStore:
    return RunStore(state_dir)


# -- the request ---------------------------------------------------------------------------------


def test_the_prompt_holds_spec_checks_scope_files_and_diff(store: RunStore, run_id: str):
    run = store.load(run_id)
    prompt, tip = review_prompt(store, run)
    assert tip == run.head_sha
    assert prompt.startswith("Review a change that a worker agent made")
    assert "merged into main" in prompt and "change nothing" in prompt
    assert "## Spec\n\n# Spec: 001 -- Add a greeting" in prompt
    assert "- ✓ `test -f hello.txt` passed in" in prompt
    assert "- ✗ `echo boom; false` failed with exit code 1. The last 1 line(s) of its output:" in prompt
    assert "  boom\n" in prompt
    assert "- changed, but not named by the spec: extra.txt" in prompt
    assert "- named by the spec, but not changed: README.md" in prompt
    assert "## Changed files (2)\n\n- added extra.txt (+1 -0)\n- added hello.txt (+50 -0)" in prompt
    assert f"## Diff ({run.base_sha[:7]}..{tip[:7]})\n\n```diff\ndiff --git a/extra.txt b/extra.txt" in prompt
    assert "was cut" not in prompt


def test_a_long_diff_is_cut_on_a_line_and_claude_is_told(store: RunStore, run_id: str):
    run = store.load(run_id)
    prompt, _ = review_prompt(store, run, max_diff_chars=400)
    diff = prompt.split("```diff\n", 1)[1].split("\n```", 1)[0]
    assert len(diff) <= 400 and diff.endswith("+hello")
    assert "(The diff was cut at" in prompt and "read the changed files for the rest" in prompt


def test_claude_runs_read_only_in_the_worktree_with_the_schema(tmp_path: Path):
    settings = ClaudeSettings(command=["claude"], model="opus", max_turns=3, extra_args=["--bad"],
                              env={"ANTHROPIC_BASE_URL": "http://127.0.0.1:9"})
    invocation = review_invocation(settings, tmp_path, "review it")
    argv = invocation.argv
    assert argv[:3] == ["claude", "-p", "review it"]
    assert argv[argv.index("--permission-mode") + 1] == "plan"
    assert "--tools=Read,Grep,Glob" in argv and "--output-format" in argv and "--verbose" in argv
    assert json.loads(argv[argv.index("--json-schema") + 1]) == REVIEW_SCHEMA
    assert argv[argv.index("--model") + 1] == "opus"
    assert "--bad" not in argv and "--max-turns" not in argv  # the worker's extras stay with the worker
    assert invocation.cwd == tmp_path and invocation.env == {"ANTHROPIC_BASE_URL": "http://127.0.0.1:9"}
    big = "x" * (MAX_ARGV_PROMPT_BYTES + 1)
    long = review_invocation(settings, tmp_path, big)
    assert big not in long.argv and long.stdin == big.encode()


# -- the answer ----------------------------------------------------------------------------------


def test_structured_output_becomes_verdict_summary_and_points():
    data = {
        "verdict": "request_changes",
        "summary": " Misses the empty case. ",
        "points": [
            {"file": "/wt/run/src/a.py", "line": 12, "problem": "no check for []"},
            {"file": "./tests/test_a.py", "line": "3", "problem": "add a test"},
            {"file": "README.md", "line": 0, "problem": "whole file"},
            {"file": "x.py", "problem": "  "},  # no problem stated: dropped
            "not a point",
        ],
    }
    verdict, summary, points = parse_review(data, worktree="/wt/run")
    assert (verdict, summary) == ("request_changes", "Misses the empty case.")
    assert points == [
        ReviewPoint(file="src/a.py", line=12, problem="no check for []"),
        ReviewPoint(file="tests/test_a.py", line=3, problem="add a test"),
        ReviewPoint(file="README.md", line=None, problem="whole file"),
    ]
    assert parse_review('{"verdict": "Approved", "summary": "ok", "points": []}')[0] == "approve"
    assert parse_review({"verdict": "changes requested"})[0] == "request_changes"


@pytest.mark.parametrize(
    ("answer", "words"),
    [(None, "without a verdict"), ("looks fine", "without a verdict"), ({"verdict": "maybe"}, "'maybe' is neither")],
)
def test_an_answer_that_is_no_review_is_refused(answer, words):
    with pytest.raises(ActionFailed, match=words):
        parse_review(answer)


def test_points_as_note_is_what_revise_forwards():
    review = ClaudeReview(verdict="request_changes", summary="Misses the empty case.", points=[
        ReviewPoint(file="src/a.py", line=12, problem="no check for []"),
        ReviewPoint(file="tests/test_a.py", problem="add a test"),
    ])  # fmt: skip
    assert points_as_note(review) == (
        "Claude reviewed your work and asks for changes. Misses the empty case.\n\n"
        "- src/a.py:12: no check for []\n- tests/test_a.py: add a test"
    )
    approved = ClaudeReview(verdict="approve", summary="Fine.")
    assert points_as_note(approved) == "Claude reviewed your work and approved it, with these points. Fine."


def test_load_review_reads_the_field_then_review_json(store: RunStore, run_id: str):
    run = store.load(run_id)
    assert load_review(store, run) is None
    review = ClaudeReview(verdict="approve", summary="Fine.")
    (store.run_dir(run_id) / "review.json").write_text(review.model_dump_json())
    assert load_review(store, run) == review
    store.update(run, claude_review=ClaudeReview(verdict="request_changes"))
    assert load_review(store, store.load(run_id)).verdict == "request_changes"


# -- refusals ------------------------------------------------------------------------------------


def test_claude_missing_says_how_to_install_it_and_changes_nothing(repo: Path, run_id: str, state_dir: Path, tmp_path: Path):
    before = world(repo, state_dir)
    config = tmp_path / "no-claude.toml"
    config.write_text('[agents.claude]\ncommand = ["no-such-claude"]\n')
    result = run_cli("review", run_id, cwd=repo, env={"HYBRID_TUI_CONFIG": str(config)})
    assert result.returncode == 2
    assert "agent command 'no-such-claude': not found on PATH" in result.stderr
    assert "npm install -g @anthropic-ai/claude-code" in result.stderr
    assert world(repo, state_dir) == before

    store = RunStore(state_dir)
    reviewer = ClaudeReviewer(store, store.load(run_id), ClaudeSettings(command=["no-such-claude"]))
    with pytest.raises(AgentMissing, match="no-such-claude"):
        reviewer.prepare()


def test_active_and_landed_runs_are_not_reviewed(store: RunStore, run_id: str):
    run = store.load(run_id)
    settings = ClaudeSettings(command=[os.path.realpath("/bin/true")])
    run.status = Status.RUNNING
    with pytest.raises(ActionFailed, match="still running"):
        ClaudeReviewer(store, run, settings).prepare()
    rejected = reject_run(store, store.load(run_id))
    with pytest.raises(ActionFailed, match="already rejected"):
        ClaudeReviewer(store, rejected, settings).prepare()
