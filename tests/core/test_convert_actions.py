"""CREATE or MODIFY when the plan does not say and no repository is there to ask (issue 13):
a plan that starts its project, a step that scaffolds a package, and a numbered migration make
new files. Small plans of our own."""

from __future__ import annotations

from hybrid_tui.core.spec.convert import convert_plan


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
