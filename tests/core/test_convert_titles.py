"""Task and spec titles are whole phrases (issue 13): never cut inside a code span, and the
plan's own "Plan:" prefix does not stay in the spec's title. Small plans of our own."""

from __future__ import annotations

import pytest

from hybrid_tui.core.spec.convert import convert_plan


@pytest.mark.parametrize("heading, title", [
    ("# Plan: Add a greeting", "Add a greeting"),
    ("# Implementation Plan: Add a greeting", "Add a greeting"),
    ("# 计划：添加问候", "添加问候"),
    ("# 구현 계획: 알림 설정 화면", "알림 설정 화면"),
    ("# 実装計画：通知設定", "通知設定"),
    ("# Plan d'implémentation : pagination", "pagination"),
    ("# План реализации: пагинация", "пагинация"),
    ("# Kế hoạch triển khai: phân trang", "phân trang"),
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


@pytest.mark.parametrize("heading", ["2단계: 화면", "2段階：画面", "2阶段：界面"])
def test_a_step_number_written_first_is_not_in_the_title(heading: str) -> None:
    plan = f"# Plan\n\n## Steps\n\n### 1. Hook\n\n- `app/a.ts`\n\n### {heading}\n\n- `app/b.tsx`\n"
    assert convert_plan(plan, source="p.md").tasks[1].title == heading.split(":")[-1].split("：")[-1].strip()


@pytest.mark.parametrize("heading", ["3. Tests", "3. 测试", "3. テスト", "3. Pruebas"])
def test_a_numbered_tests_step_that_names_a_file_is_a_task(heading: str) -> None:
    plan = ("# Plan\n\n## Steps\n\n### 1. Exporter\n\nCreate `src/csv_export.py`.\n\n"
            f"### 2. CLI\n\nUpdate `src/cli.py`.\n\n### {heading}\n\n**File**: `tests/test_csv_export.py` (new)\n\n"
            "```bash\npytest -q tests/test_csv_export.py\n```\n")
    spec = convert_plan(plan, source="p.md")
    assert [t.title for t in spec.tasks] == ["Exporter", "CLI", heading.split(". ", 1)[1]]
    assert [f.path for f in spec.tasks[2].files] == ["tests/test_csv_export.py"]
    assert spec.tasks[2].verification == ["pytest -q tests/test_csv_export.py"]
