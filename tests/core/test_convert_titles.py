"""Task and spec titles are whole phrases (issue 13): never cut inside a code span, and the
plan's own "Plan:" prefix does not stay in the spec's title. Small plans of our own."""

from __future__ import annotations

import pytest

from hybrid_tui.core.spec.convert import convert_plan


@pytest.mark.parametrize("heading, title", [
    ("# Plan: Add a greeting", "Add a greeting"),
    ("# Implementation Plan: Add a greeting", "Add a greeting"),
    ("# 计划：添加问候", "添加问候"),
    ("# Planning notes", "Planning notes"),  # a word that starts with "plan" is not a prefix
    ("# Plan", "Plan"),
])
def test_the_plans_title_prefix_is_dropped(heading: str, title: str) -> None:
    spec = convert_plan(f"{heading}\n\n## Steps\n\n1. Create `hello.txt`.\n", source="p.md")
    assert spec.title == title


def test_a_long_task_title_is_cut_before_a_code_span_not_inside_it() -> None:
    plan = ("# Greeting\n\n## Steps\n\n### 1. Create `greet.py` with a function named greet that takes a name and "
            "returns `def greet(name: str) -> str: return f'hello {name}'` for the CLI\n\nWrite it.\n")
    (task,) = convert_plan(plan, source="p.md").tasks
    assert task.title.endswith("…") and task.title.count("`") % 2 == 0
    assert task.title.startswith("Create `greet.py` with a function named greet")


def test_a_heading_that_names_a_test_file_is_a_step_not_a_verification_section() -> None:
    plan = ("# Plan: CLI greeting\n\n## Changes\n\n### 1. `src/greet.py` (new)\n\nAdd `greet(name)`.\n\n"
            "### 2. `tests/test_cli.py` (new)\n\nTest the CLI calls greet.\n\n## Verification\n\n```bash\npytest -q\n```\n")
    spec = convert_plan(plan, source="p.md")
    assert [t.title for t in spec.tasks] == ["src/greet.py", "tests/test_cli.py"]
    assert [[f.path for f in t.files] for t in spec.tasks] == [["src/greet.py"], ["tests/test_cli.py"]]
    assert spec.tasks[1].requirements == ["Test the CLI calls greet."] and spec.verification == ["pytest -q"]
