"""'Convert with Claude' against the real `claude` binary, offline.

Claude Code talks to the scripted Anthropic server (tests/support/servers/anthropic.py), which answers
the way a model would: by calling the `StructuredOutput` tool Claude Code adds for
`--json-schema`, or with plain text. The binary, the git repository and the CLI are real. A
missing binary fails these tests (see tests/e2e/test_claude_e2e.py), never skips them.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from hybrid_tui.config import load_settings
from hybrid_tui.core.spec.convert.with_claude import (
    SCHEMA,
    SPEC_FORMAT,
    convert_with_claude,
)
from tests.support.cli import checkout_fingerprint, run_cli
from tests.support.e2e import write_config
from tests.support.repos import git, make_repo
from tests.support.servers.anthropic import ApiError, ScriptedAnthropic, text, tool_use

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("claude_bin")]

PLAN = """\
# Greet the user

## Context
The app should greet.

## Changes

### 1. `src/greet.py`
Create it with `greet()`.

## Verification
- `pytest -q`
"""

GOOD = {
    "title": "Greet the user",
    "context": "The app should greet.",
    "tasks": [
        {
            "title": "Add greet()",
            "files": [{"action": "CREATE", "path": "src/greet.py"}, {"action": "MODIFY", "path": "src/app.py"}],
            "requirements": ["greet() returns 'hello'"],
            "verification": ["python -c 'import src.greet'"],
        }
    ],
    "verification": ["pytest -q"],
}


def claude_spec(base: str) -> str:
    """GOOD as the spec hybrid-tui renders it (number, source, base are hybrid-tui's)."""
    return (
        f"# Spec: 001 -- Greet the user\n\nSource: greet.md\nBase: {base}\n\n"
        "## Context\nThe app should greet.\n\n## Tasks\n\n### Task 1: Add greet() [INDEPENDENT]\n\n"
        "Files:\n- CREATE src/greet.py\n- MODIFY src/app.py\n\n"
        "Requirements:\n- greet() returns 'hello'\n\n"
        "Verification:\n- `python -c 'import src.greet'`\n\n## Verification\n- `pytest -q`\n"
    )


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in list(os.environ):
        if name.startswith(("ANTHROPIC_", "CLAUDE_CODE_")) or name in ("CLAUDECODE", "IS_SANDBOX"):
            monkeypatch.delenv(name)
    return make_repo(tmp_path / "project", {"README.md": "# demo\n", "src/app.py": "x = 1\n"})


@pytest.fixture
def plan(tmp_path: Path) -> Path:
    path = tmp_path / "greet.md"
    path.write_text(PLAN)
    return path


def base_of(project: Path) -> str:
    return f"main@{git(project, 'rev-parse', '--short=7', 'HEAD')}"


def convert(project: Path) -> tuple:
    """`convert_with_claude` as the CLI calls it, with the configured (real) binary."""
    from hybrid_tui.core import git as core_git

    repo = core_git.open_project(project)
    started = time.monotonic()
    result = convert_with_claude(
        PLAN, root=project, source="greet.md", number=1, base=base_of(project),
        tree=core_git.tree_paths(repo, repo.head.commit.hexsha), settings=load_settings().agents.claude,
    )  # fmt: skip
    return result, time.monotonic() - started


def test_claude_s_structured_answer_is_the_spec(project: Path, isolated_env: Path) -> None:
    before = checkout_fingerprint(project)
    with ScriptedAnthropic([[tool_use("StructuredOutput", GOOD)]]) as server:
        write_config(isolated_env, server)
        result, seconds = convert(project)

    assert result.ok, result.message
    assert result.text == claude_spec(base_of(project))
    assert result.problems == []
    assert result.message.startswith("Converted with Claude ($") and result.message.endswith("): 1 task, 2 files")
    assert seconds < 30
    # One model request; Claude Code ends the session at the valid StructuredOutput call.
    assert len(server.turn_requests) == 1 and not server.problems
    request = server.turn_requests[0]
    offered = {t["name"]: t for t in request.body["tools"]}
    assert offered["StructuredOutput"]["input_schema"] == SCHEMA
    assert not {"Bash", "Edit", "Write", "NotebookEdit"} & set(offered)  # read-only
    assert request.cwd == str(project)
    prompt = request.all_text()
    assert SPEC_FORMAT in prompt and PLAN in prompt
    assert '<files count="2">\nREADME.md\nsrc/app.py\n</files>' in prompt
    assert checkout_fingerprint(project) == before


def test_an_answer_off_the_schema_is_refused_by_claude_code_and_retried(project: Path, isolated_env: Path) -> None:
    off = json.loads(json.dumps(GOOD))
    off["tasks"][0]["files"][0]["action"] = "RENAME"
    turns = [[tool_use("StructuredOutput", off)], [tool_use("StructuredOutput", GOOD)]]
    with ScriptedAnthropic(turns) as server:
        write_config(isolated_env, server)
        result, _ = convert(project)

    assert result.ok, result.message
    assert result.text == claude_spec(base_of(project))
    assert len(server.turn_requests) == 2 and not server.problems
    (refusal,) = server.turn_requests[1].tool_results()
    assert refusal["is_error"] is True
    assert "Output does not match required schema" in json.dumps(refusal)


def test_a_spec_in_a_text_answer_is_used(project: Path, isolated_env: Path) -> None:
    spec = claude_spec("elsewhere@0000000").replace("# Spec: 001", "# Spec: 042").replace("greet.md", "x.md")
    answer = [text(f"The spec:\n\n```markdown\n{spec}```\n")]
    # No StructuredOutput call: Claude Code reminds the model once, then takes its text.
    with ScriptedAnthropic([answer, answer]) as server:
        write_config(isolated_env, server)
        result, _ = convert(project)

    assert result.ok, result.message
    assert result.text == claude_spec(base_of(project))
    assert "(from its text answer)" in result.message
    assert "[structured-output-enforce]" in server.turn_requests[1].all_text()


def test_a_text_answer_without_a_spec_falls_back(project: Path, isolated_env: Path) -> None:
    with ScriptedAnthropic([[text("Sorry.")], [text("Still sorry.")]]) as server:
        write_config(isolated_env, server)
        result, _ = convert(project)

    assert not result.ok and result.text is None
    assert result.message.startswith("Claude answered without a spec")
    assert result.message.endswith(": Still sorry.")


# -- through the CLI: `hybrid-tui spec PLAN --with-claude` ---------------------------------------


def test_cli_prints_claude_s_spec(project: Path, plan: Path, isolated_env: Path) -> None:
    with ScriptedAnthropic([[tool_use("StructuredOutput", GOOD)]]) as server:
        write_config(isolated_env, server)
        result = run_cli("spec", str(plan), "--with-claude", cwd=project, timeout=90)

    assert result.returncode == 0, result.stderr
    assert result.stdout == claude_spec(base_of(project))
    assert result.stderr.startswith("hybrid-tui: Converted with Claude ($")


@pytest.mark.parametrize(
    ("turn", "words"),
    [
        (
            [tool_use("StructuredOutput", {**GOOD, "tasks": [{**GOOD["tasks"][0], "files": [
                {"action": "CREATE", "path": "../outside.py"}]}]})],
            ["Claude's spec has 1 error: line 14: error: '../outside.py' escapes the repository"],
        ),
        (ApiError(500, "scripted outage"), ["Claude failed: API Error: 500", "scripted outage", "retry"]),
    ],
    ids=["path-escaping-the-repo", "api-error"],
)  # fmt: skip
def test_cli_falls_back_to_the_deterministic_spec_and_says_why(
    project: Path, plan: Path, isolated_env: Path, turn, words: list[str]
) -> None:
    plain = run_cli("spec", str(plan), cwd=project)
    assert plain.returncode == 0, plain.stderr
    with ScriptedAnthropic([turn]) as server:
        write_config(isolated_env, server)
        started = time.monotonic()
        result = run_cli("spec", str(plan), "--with-claude", cwd=project, timeout=90)

    assert time.monotonic() - started < 30
    assert result.returncode == 0, result.stderr
    assert result.stdout == plain.stdout  # the deterministic spec
    assert result.stderr.startswith("hybrid-tui: warning: kept the deterministic spec: ")
    for word in words:
        assert word in result.stderr
    assert server.turn_requests


def test_a_big_spec_comes_through_whole(project: Path, isolated_env: Path) -> None:
    """The result line holds the spec twice; the worker's 64 KiB line limit must not cut it."""
    context = "\n".join(f"Line {n} of a long context: " + "words " * 12 for n in range(2500))
    assert len(context) > 150_000
    with ScriptedAnthropic([[tool_use("StructuredOutput", {**GOOD, "context": context})]]) as server:
        write_config(isolated_env, server)
        result, _ = convert(project)

    assert result.ok, result.message
    assert result.spec is not None and result.spec.context == "\n".join(line.rstrip() for line in context.split("\n"))
