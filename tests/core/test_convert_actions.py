"""CREATE or MODIFY when the plan does not say and no repository is there to ask (issue 13):
a plan that starts its project, a step that scaffolds a package, and a numbered migration make
new files. Small plans of our own."""

from __future__ import annotations

import pytest

from hybrid_tui.core.spec.convert import convert_plan
from hybrid_tui.core.spec.format import render_spec, validate_spec


def actions(plan: str) -> dict[str, str]:
    return {f.path: f.action for t in convert_plan(plan, source="p.md").tasks for f in t.files}


def test_a_plan_that_starts_its_project_creates_its_files() -> None:
    plan = ("# Plan: notes app\n\n## Steps\n\n### 1. Bootstrap\n\nRun `uv init` and set up `pyproject.toml`.\n\n"
            "### 2. Core\n\nTags in `src/notes/store.py` and `src/notes/cli.py`.\n")
    assert set(actions(plan).values()) == {"CREATE"}
    without = plan.replace("Run `uv init` and set up", "Set up")
    assert actions(without)["src/notes/store.py"] == "MODIFY"  # an existing project: edits


def test_a_step_that_scaffolds_a_package_creates_everything_under_it() -> None:
    plan = ("# Plan: MCP server\n\n## Steps\n\n| # | Change | Files |\n|---|---|---|\n"
            "| 1 | Package skeleton: npm, TS | `mcp/package.json`, `mcp/tsconfig.json` |\n"
            "| 2 | Client | `mcp/src/lib/client.ts` |\n| 3 | Docs row | `README.md` |\n")
    found = actions(plan)
    assert found["mcp/package.json"] == found["mcp/src/lib/client.ts"] == "CREATE"
    assert found["README.md"] == "MODIFY"


def test_a_numbered_migration_is_a_new_file() -> None:
    plan = ("# Plan: cascade\n\n## Changes\n\n1. Add the cascade in `supabase/migrations/020_cascade.sql`.\n"
            "2. Handle the error in `src/hooks/useTypes.ts`.\n")
    found = actions(plan)
    assert found["supabase/migrations/020_cascade.sql"] == "CREATE"
    assert found["src/hooks/useTypes.ts"] == "MODIFY"


def test_a_test_of_another_tasks_file_is_not_independent() -> None:
    plan = ("# Plan: CLI greeting\n\n## Changes\n\n### 1. `src/greet.py` (new)\n\nAdd `greet(name)`.\n\n"
            "### 2. `tests/test_greet.py` (new)\n\nTest the greeting.\n\n"
            "### 3. `web/greet.test.ts`\n\nA browser test of the greeting.\n\n"
            "### 4. Docs\n\nUpdate `docs/usage.md`.\n")
    spec = convert_plan(plan, source="p.md")
    # Both tests of greet.py wait for task 1 (they would fail run before it); the others need nothing.
    assert [t.independent for t in spec.tasks] == [True, False, False, True]
    assert [t.depends_on for t in spec.tasks] == [[], [1], [1], []]


def test_dependent_tasks_say_which_tasks_they_depend_on() -> None:
    plan = ("# Plan: shared\n\n## Changes\n\n### 1. Store\n\nAdd `load()` to `src/store.py`.\n\n"
            "### 2. CLI\n\nCall `src/store.py` from `src/cli.py` and `src/api.py`.\n\n"
            "### 3. Docs\n\nDescribe the CLI flags that `src/api.py` takes in `docs/cli.md`.\n\n"
            "### 4. Config first\n\nRead `src/settings.py` in `src/config.py` before `docs/cli.md` is written.\n")
    spec = convert_plan(plan, source="p.md")
    # 2 shares store.py with 1; 3 names 2's api.py; 4 names 3's docs/cli.md (a later task)
    assert [t.depends_on for t in spec.tasks] == [[], [1], [2], [3]]
    assert [t.independent for t in spec.tasks] == [False, False, False, False]
    assert "### Task 2: CLI\n\nDepends on: Task 1\n\nFiles:" in render_spec(spec)
    assert [p for p in validate_spec(render_spec(spec))[1] if p.severity == "error"] == []


def test_two_tasks_naming_each_others_files_make_no_cycle() -> None:
    plan = ("# Plan: pair\n\n## Changes\n\n### 1. Parser\n\nWrite `src/parse.py` for `src/lex.py` tokens.\n\n"
            "### 2. Lexer\n\nWrite `src/lex.py` feeding `src/parse.py`.\n")
    spec = convert_plan(plan, source="p.md")
    assert [t.depends_on for t in spec.tasks] == [[], [1]]


def test_a_task_that_calls_a_function_another_task_adds_depends_on_it() -> None:
    plan = ("# Plan: greet\n\n## Changes\n\n### 1. Greeting\n\nAdd `greet(name)` to `src/greet.py`.\n\n"
            "### 2. CLI\n\nCall `greet()` from `src/cli.py` when `--name` is given.\n\n"
            "### 3. Docs\n\nDocument the flag in `docs/usage.md`.\n")
    spec = convert_plan(plan, source="p.md")
    assert [(t.depends_on, t.independent) for t in spec.tasks] == [([], True), ([1], False), ([], True)]
    # naming the function without a task that adds it is no dependency
    alone = plan.replace("Add `greet(name)` to", "Tidy")
    assert [t.depends_on for t in convert_plan(alone, source="p.md").tasks] == [[], [], []]


@pytest.mark.parametrize(("line", "action"), [
    ("Erstellen Sie `src/a.py`", "CREATE"), ("`src/a.py` anlegen", "CREATE"), ("Criar `src/a.py`", "CREATE"),
    ("Creare `src/a.py`", "CREATE"), ("Создать `src/a.py`", "CREATE"), ("`src/a.py` 생성", "CREATE"),
    ("`src/a.py` löschen", "DELETE"), ("Remover `src/a.py`", "DELETE"), ("Rimuovere `src/a.py`", "DELETE"),
    ("Удалить `src/a.py`", "DELETE"), ("`src/a.py` を削除", "DELETE"), ("Xóa `src/a.py`", "DELETE"),
])
def test_action_words_in_other_languages(line: str, action: str) -> None:
    plan = f"# Plan\n\n## Changes\n\n1. {line}\n2. Fix `src/b.py`\n"
    assert actions(plan) == {"src/a.py": action, "src/b.py": "MODIFY"}


def test_a_symbol_another_task_adds_in_another_language_is_a_dependency() -> None:
    plan = ("# Plan : pagination\n\n## Étapes\n\n1. Ajouter le schéma `Page` dans `api/schemas.py`\n"
            "2. Utiliser `Page` dans `api/routes/items.py`\n3. Documenter dans `docs/api.md`\n")
    assert [t.depends_on for t in convert_plan(plan, source="p.md").tasks] == [[], [1], []]
