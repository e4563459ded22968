"""Claude-assisted conversion without a model: the answer -> Spec mapping, the prompt, and the
fallback when `claude` is not installed (no stand-in: nothing runs).

The runs of the real `claude` binary against a scripted server are in
tests/e2e/test_convert_with_claude_e2e.py.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from hybrid_tui.agents.claude import INSTALL_HINT
from hybrid_tui.config import ClaudeSettings
from hybrid_tui.core.spec.convert.with_claude import (
    MAX_LISTED_FILES,
    SCHEMA,
    SPEC_FORMAT,
    OutputError,
    build_prompt,
    conversion_from_answer,
    convert_with_claude,
    spec_from_output,
    spec_text_in,
)
from hybrid_tui.core.spec.format import parse_spec, render_spec, validate_spec
from tests.support.cli import run_cli
from tests.support.repos import make_repo

TREE = {"README.md", "src/app.py", "tests/test_app.py"}

ANSWER = {
    "title": "Greet the user",
    "context": "The app should greet.\n\nKeep `main()` returning 1.",
    "tasks": [
        {
            "title": "Add the greeting",
            "files": [{"action": "CREATE", "path": "src/greet.py"}, {"action": "MODIFY", "path": "src/app.py"}],
            "requirements": ["`greet()` returns 'hello'", "main() calls greet()"],
            "verification": ["python -c 'import src.greet'"],
        },
        {
            "title": "Test it",
            "files": [{"action": "CREATE", "path": "tests/test_greet.py"}],
            "requirements": ["a test for greet()"],
            "verification": [],
        },
    ],
    "verification": ["pytest -q"],
}

EXPECTED = """\
# Spec: 004 -- Greet the user

Source: greet.md
Base: main@abc1234

## Context
The app should greet.

Keep `main()` returning 1.

## Tasks

### Task 1: Add the greeting [INDEPENDENT]

Files:
- CREATE src/greet.py
- MODIFY src/app.py

Requirements:
- `greet()` returns 'hello'
- main() calls greet()

Verification:
- `python -c 'import src.greet'`

### Task 2: Test it

Depends on: Task 1

Files:
- CREATE tests/test_greet.py

Requirements:
- a test for greet()

## Verification
- `pytest -q`
"""

META = {"number": 4, "source": "greet.md", "base": "main@abc1234"}


def answer(**changes: object) -> dict:
    data = json.loads(json.dumps(ANSWER))
    data.update(changes)
    return data


# -- the answer -> Spec mapping ------------------------------------------------------------------


def test_a_structured_answer_becomes_the_canonical_spec() -> None:
    spec = spec_from_output(ANSWER, **META)
    assert render_spec(spec) == EXPECTED
    checked, problems = validate_spec(EXPECTED, tree=TREE)
    assert problems == [] and checked == spec


def test_independence_is_decided_here_not_by_claude() -> None:
    data = answer()
    data["tasks"][0]["title"] = "Add the greeting [INDEPENDENT]"
    data["tasks"][1]["files"].append({"action": "MODIFY", "path": "src/app.py"})
    spec = spec_from_output(data, **META)
    assert [(t.title, t.independent) for t in spec.tasks] == [("Add the greeting", False), ("Test it", False)]


def test_titles_are_one_line_actions_upper_case_blank_items_dropped() -> None:
    data = answer(title="  Greet\nthe   user ")
    data["tasks"][0]["files"] = [{"action": "create", "path": " `src/greet.py` "}]
    data["tasks"][0]["requirements"] = ["  ", "first\n  continued"]
    data["tasks"][0]["verification"] = ["", "pytest -q", "pytest -q"]
    spec = spec_from_output(data, **META)
    assert spec.title == "Greet the user"
    assert [(c.action, c.path) for c in spec.tasks[0].files] == [("CREATE", "src/greet.py")]
    assert spec.tasks[0].requirements == ["first\n  continued"]
    assert spec.tasks[0].verification == ["pytest -q"]
    assert parse_spec(render_spec(spec)) == spec  # still canonical


def test_a_context_that_looks_like_spec_sections_stays_context() -> None:
    data = answer(context="Intro.\n## Tasks\n- not a task\n```python\nprint('open fence')")
    spec = spec_from_output(data, **META)
    parsed = parse_spec(render_spec(spec))
    assert parsed.context == "Intro.\n\\## Tasks\n- not a task\n```python\nprint('open fence')\n```"
    assert [t.title for t in parsed.tasks] == ["Add the greeting", "Test it"]


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (answer(tasks=[]), "the spec has no tasks"),
        (answer(title=" \n "), "the spec has no title"),
        ({"context": "x", "tasks": []}, "title: Field required"),
        (answer(verification=["pytest\nrm -rf /"]), "the spec: a verification command spans several lines"),
        ("not an object", "the answer: Input should be a valid dictionary"),
    ],
)
def test_an_answer_that_is_no_spec_says_why(data: object, reason: str) -> None:
    with pytest.raises(OutputError) as caught:
        spec_from_output(data, **META)
    assert any(r.startswith(reason) for r in caught.value.reasons), caught.value.reasons


def test_an_unknown_action_is_named() -> None:
    data = answer()
    data["tasks"][1]["files"][0]["action"] = "RENAME"
    with pytest.raises(OutputError) as caught:
        spec_from_output(data, **META)
    assert caught.value.reasons == ["task 2: unknown action 'RENAME' for 'tests/test_greet.py'"]


def test_the_schema_asks_for_what_the_mapping_reads() -> None:
    assert SCHEMA["required"] == ["title", "context", "tasks", "verification"]
    task = SCHEMA["properties"]["tasks"]["items"]
    assert task["required"] == ["title", "files", "requirements", "verification"]
    assert task["properties"]["files"]["items"]["properties"]["action"]["enum"] == ["CREATE", "MODIFY", "DELETE"]
    json.dumps(SCHEMA)  # it goes on the command line as JSON


# -- the answer, judged by the spec validator ------------------------------------------------------


def test_warnings_are_kept_and_counted_in_the_message() -> None:
    data = answer()
    data["tasks"][1]["files"].append({"action": "MODIFY", "path": "docs/missing.md"})
    result = conversion_from_answer(data, "", tree=TREE, note=" ($0.0100)", **META)
    assert result.ok and result.spec is not None and result.text == render_spec(result.spec)
    assert [str(p) for p in result.problems] == [
        "line 32: warning: MODIFY docs/missing.md: no such file in the base commit"
    ]
    assert result.message == "Converted with Claude ($0.0100): 2 tasks, 4 files, 1 warning"


def test_a_path_escaping_the_repository_rejects_the_spec() -> None:
    data = answer()
    data["tasks"][0]["files"][0]["path"] = "../outside.py"
    result = conversion_from_answer(data, "", tree=TREE, **META)
    assert not result.ok and result.spec is None and result.text is None
    assert result.message == (
        "Claude's spec has 1 error: line 16: error: '../outside.py' escapes the repository"
    )
    assert [p.severity for p in result.problems] == ["error"]


def test_many_errors_are_summarised() -> None:
    data = answer()
    data["tasks"][0]["files"] = [{"action": "CREATE", "path": f"/abs/{n}.py"} for n in range(5)]
    result = conversion_from_answer(data, "", tree=TREE, **META)
    assert result.message.startswith("Claude's spec has 5 errors: line 16: error: '/abs/0.py' is absolute")
    assert result.message.endswith(" (and 2 more)")


def test_a_spec_in_the_text_answer_is_used_with_our_header() -> None:
    text = (
        "Here is the spec.\n\n```markdown\n# Spec: 9 -- Greet\n\nSource: whatever\n\n## Tasks\n\n"
        "### Task 1: Add it\n\nFiles:\n- CREATE src/greet.py\n\nVerification:\n- `pytest`\n```\n"
    )
    result = conversion_from_answer(None, text, tree=TREE, note=" ($0.0020)", **META)
    assert result.ok, result.message
    assert result.text == (
        "# Spec: 004 -- Greet\n\nSource: greet.md\nBase: main@abc1234\n\n## Tasks\n\n"
        "### Task 1: Add it [INDEPENDENT]\n\nFiles:\n- CREATE src/greet.py\n\nVerification:\n- `pytest`\n"
    )
    assert result.message == "Converted with Claude (from its text answer) ($0.0020): 1 task, 1 file"


def test_a_text_answer_without_a_spec_fails() -> None:
    result = conversion_from_answer(None, "I could not read the plan.", tree=TREE, **META)
    assert not result.ok
    assert result.message == (
        "Claude answered without a spec (no structured output, and no ```markdown block starting "
        "with '# Spec:'): I could not read the plan."
    )


def test_a_broken_spec_in_the_text_answer_fails_with_its_line() -> None:
    result = conversion_from_answer(None, "# Spec: 1 -- X\n\n## Tasks\n\nnot a task\n", tree=TREE, **META)
    assert not result.ok
    assert result.message == (
        "the spec in Claude's text answer does not parse: line 5: error: expected a task heading "
        "'### Task N: title'"
    )


def test_spec_text_in_finds_fenced_and_bare_specs() -> None:
    assert spec_text_in("~~~md\n# Spec: 1 -- A\n~~~") == "# Spec: 1 -- A\n"
    assert spec_text_in("```\nprint(1)\n```\n```markdown\n# Spec: 2 -- B\n```") == "# Spec: 2 -- B\n"
    assert spec_text_in("\n# Spec: 3 -- C\n\n## Tasks\n") == "# Spec: 3 -- C\n\n## Tasks\n"
    assert spec_text_in("```markdown\n# Not a spec\n```") is None


# -- the prompt ----------------------------------------------------------------------------------


def test_the_prompt_holds_the_format_the_plan_and_the_files() -> None:
    prompt = build_prompt("# Plan\n\nDo it.\n", TREE)
    assert SPEC_FORMAT in prompt and "StructuredOutput" in prompt
    assert "<plan>\n# Plan\n\nDo it.\n</plan>" in prompt
    assert '<files count="3">\nREADME.md\nsrc/app.py\ntests/test_app.py\n</files>' in prompt
    assert "(the repository's file list is not available)" in build_prompt("# Plan\n", None)


def test_the_file_list_is_capped() -> None:
    tree = {f"f{n:05d}.txt" for n in range(MAX_LISTED_FILES + 7)}
    prompt = build_prompt("# Plan\n", tree)
    files = prompt.split(f'<files count="{MAX_LISTED_FILES + 7}">\n', 1)[1].split("\n</files>")[0].split("\n")
    assert len(files) == MAX_LISTED_FILES + 1
    assert files[0] == "f00000.txt" and files[-2] == f"f{MAX_LISTED_FILES - 1:05d}.txt"
    assert files[-1] == "... and 7 more files, not listed"


# -- Claude missing --------------------------------------------------------------------------------


def test_claude_missing_is_a_fallback_with_the_install_hint(tmp_path: Path) -> None:
    empty = tmp_path / "bin"
    empty.mkdir()
    settings = ClaudeSettings(env={"PATH": str(empty)})
    result = convert_with_claude(
        "# Plan\n", root=tmp_path, source="p.md", tree=TREE, settings=settings, timeout=10
    )
    assert not result.ok and result.spec is None and result.problems == []
    assert result.message == (
        "Claude is not available: agent command 'claude': not found on PATH or not executable\n"
        + INSTALL_HINT
    )


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


def test_cli_with_claude_missing_prints_the_deterministic_spec_and_says_why(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "project", {"README.md": "# demo\n", "src/app.py": "x = 1\n"})
    plan = tmp_path / "greet.md"
    plan.write_text(PLAN)
    empty = tmp_path / "bin"
    empty.mkdir()
    Path(os.environ["HYBRID_TUI_CONFIG"]).write_text(f'[agents.claude.env]\nPATH = "{empty}"\n')

    plain = run_cli("spec", str(plan), cwd=repo)
    assert plain.returncode == 0, plain.stderr
    result = run_cli("spec", str(plan), "--with-claude", cwd=repo)
    assert result.returncode == 0, result.stderr
    assert result.stdout == plain.stdout
    assert result.stdout.startswith("# Spec: 001 -- Greet the user\n")
    assert result.stderr == (
        "hybrid-tui: warning: kept the deterministic spec: Claude is not available: agent command "
        f"'claude': not found on PATH or not executable\n{INSTALL_HINT}\n"
    )
