"""Verification commands (issue 13) go to `Verification:` lists verbatim, where they run as
checks, and never stay in a requirement or a title; a numbered "verification steps" list is no
list of tasks; prose checks stay requirements. Small plans of our own."""

from __future__ import annotations

import pytest

from hybrid_tui.core.spec.convert import convert_plan


@pytest.mark.parametrize("heading", ["Verification steps", "验证步骤", "検証手順", "검증 단계", "Überprüfung",
                                     "Vérification", "Pruebas", "Verificação", "Verifica", "Проверка", "Kiểm tra"])
def test_a_numbered_verification_list_is_checks_not_tasks(heading: str) -> None:
    plan = (f"# Plan\n\n## Changes\n\n1. Update `src/a.py`.\n\n## {heading}\n\n1. Run `pytest -q tests/test_a.py`\n"
            "2. `npm run lint`\n3. Open the app and check that the banner shows\n")
    spec = convert_plan(plan, source="p.md")
    assert [t.title for t in spec.tasks] == ["Update `src/a.py`"]
    assert spec.verification == ["pytest -q tests/test_a.py", "npm run lint"]
    assert spec.tasks[-1].requirements[-1] == "Open the app and check that the banner shows"


def test_a_check_line_in_a_step_leaves_its_commands_in_verification_only() -> None:
    plan = ("# Plan\n\n## Steps\n\n### 1. Lint setup\n\nUpdate `package.json`.\n\n"
            "Make sure `pglast --version` prints 7 and that the hook still finds the binary on PATH.\n\n"
            "**Verify** — `npm run lint`, `npm run typecheck` all pass.\n")
    (task,) = convert_plan(plan, source="p.md").tasks
    assert task.verification == ["pglast --version", "npm run lint", "npm run typecheck"]
    assert task.requirements == [
        "Update `package.json`.",
        "Make sure (see Verification) prints 7 and that the hook still finds the binary on PATH.",
    ]


def test_titles_drop_a_trailing_full_stop() -> None:
    plan = "# Plan\n\n## Changes\n\n1. Update `src/a.py`.\n2. 修改 `src/b.py`。\n"
    assert [t.title for t in convert_plan(plan, source="p.md").tasks] == ["Update `src/a.py`", "修改 `src/b.py`"]


@pytest.mark.parametrize("line", ["- [ ] `just ci` vert ; `just bless` → diff vide", "- `just ci` grün, `just bless` fehlerfrei",
                                  "- `just ci` en verde; `just bless` sin errores"])
def test_green_and_error_free_words_in_other_languages_make_checks(line: str) -> None:
    plan = f"# Plan\n\n## Étapes\n\n### 1. Closure\n\nModifier `src/closure.js`.\n\n{line}\n"
    assert convert_plan(plan, source="p.md").all_commands() == ["just ci", "just bless"]
