"""Read versus write (issue 13): a path is a change only when the plan says it changes. An
example, input, output, source or reference, a table's source column and another repository's
file are read; absolute paths inside the project and trees written with leading slashes are
repository paths. Small plans of our own."""

from __future__ import annotations

import pytest

from hybrid_tui.core.spec.convert import convert_plan


def files(plan: str, **kwargs: object) -> dict[str, str]:
    spec = convert_plan(plan, source="p.md", **kwargs)  # type: ignore[arg-type]
    return {f.path: f.action for t in spec.tasks for f in t.files}


STEPS = "# Plan\n\n## Changes\n\n1. Add `src/new.py`.\n"


@pytest.mark.parametrize("line", [
    "2. Example input: `fixtures/in.json`, output: `out/result.json`",
    "2. Expected output: `out/result.json`; source: `fixtures/in.json`",
    "2. 入力: `fixtures/in.json`、出力: `out/result.json`",
    "2. Entrée : `fixtures/in.json`, sortie : `out/result.json`",
    "2. Follow the pattern in `fixtures/in.json` (see `out/result.json`)",
])
def test_examples_inputs_outputs_and_references_are_read(line: str) -> None:
    assert files(STEPS + line + "\n", tree={"fixtures/in.json"}) == {"src/new.py": "CREATE"}


def test_a_tables_source_column_is_read() -> None:
    plan = "# Plan\n\n## Mapping\n\n| Source | Target |\n|---|---|\n| `legacy/a.py` | `src/a.py` |\n| `legacy/b.py` | `src/b.py` |\n"
    assert files(plan, tree={"legacy/a.py", "legacy/b.py"}) == {"src/a.py": "CREATE", "src/b.py": "CREATE"}


def test_another_repositorys_files_are_read_and_the_destination_changes() -> None:
    plan = ("# Plan\n\n## Changes\n\n1. Port the parser from the upstream repo `src/parse.rs` into `src/parser.py`\n"
            "2. Mirror `lib/auth.ts` in the other project into `src/auth.ts`\n")
    assert files(plan, tree=set()) == {"src/parser.py": "CREATE", "src/auth.ts": "CREATE"}


def test_absolute_paths_inside_the_project_are_repository_paths() -> None:
    plan = ("# Plan\n\n## Changes\n\n1. Fix `/Users/me/proj/src/x.ts:70-98`\n2. Add `/Users/me/proj/src/new.ts`\n"
            "3. See `/Users/me/other/README.md`\n")
    assert files(plan, root="/Users/me/proj") == {"src/x.ts": "MODIFY", "src/new.ts": "CREATE"}
    # without the root, the repository's file list says which tail is the project's
    assert files(plan, tree={"src/x.ts", "README.md"}) == {"src/x.ts": "MODIFY"}
    spec = convert_plan(plan, source="p.md")
    assert "`/Users/me/proj/src/x.ts`" in spec.tasks[0].requirements[-1]  # unknown: named, not edited


def test_a_tree_written_with_leading_slashes_nests_its_folders() -> None:
    plan = "# Plan\n\n## Files\n\n```\n/src\n  /components\n    Button.tsx\n  /lib\n    api.ts\n```\n"
    assert files(plan) == {"src/components/Button.tsx": "CREATE", "src/lib/api.ts": "CREATE"}


def test_the_repository_decides_create_or_modify_and_resolves_bare_names() -> None:
    plan = "# Plan\n\n## Changes\n\n1. Update `loader.py` and add `cache.py` in `src/`\n2. Create `README.md`\n"
    assert files(plan, tree={"src/loader.py", "README.md"}) == {
        "src/loader.py": "MODIFY", "src/cache.py": "CREATE", "README.md": "MODIFY"}


@pytest.mark.parametrize(("line", "expected"), [
    ("1. **src/app/loader.py** — add caching", {"src/app/loader.py"}),
    ("1. 修改 `a.py`、`b.py` 和 `c.py`", {"a.py", "b.py", "c.py"}),
    ("1. 修改 src/x.py、src/y.py", {"src/x.py", "src/y.py"}),
    ("1. Update `Dockerfile`, `bin/tool` and `scripts/deploy`", {"Dockerfile", "bin/tool", "scripts/deploy"}),
])
def test_surface_forms_of_paths(line: str, expected: set[str]) -> None:
    assert set(files(f"# Plan\n\n## Changes\n\n{line}\n")) == expected


def test_a_tree_whose_root_repeats_a_path_prefix_is_not_doubled() -> None:
    plan = ("# Plan\n\n## Changes\n\n1. Update `web/src/app.ts`\n\n## Structure\n\n"
            "```\nweb/src/\n├── app.ts\n└── new.ts\n```\n")
    assert files(plan, tree={"web/src/app.ts"}) == {"web/src/app.ts": "MODIFY", "web/src/new.ts": "CREATE"}


def test_a_sentence_broken_over_lines_keeps_its_verb_for_the_paths_after_the_break() -> None:
    plan = ("# Plan\n\n## Steps\n\n1. Load the table.\n\n## Source\n\nCheck the licence on the official page; add the source to\n"
            "`src/pkg/sources.py`, `docs/sources.md`.\n")
    assert files(plan, tree={"src/pkg/sources.py", "docs/sources.md"}) == {
        "src/pkg/sources.py": "MODIFY", "docs/sources.md": "MODIFY"}
    french = plan.replace("Check the licence on the official page; add the source to", "Vérifier la licence ; ajouter la source à")
    assert files(french) == {"src/pkg/sources.py": "MODIFY", "docs/sources.md": "MODIFY"}


def test_a_tree_line_naming_several_files_lists_each() -> None:
    plan = "# Plan\n\n## Layout\n\n```\nfrontend/\n  index.html\n  package.json / vite.config.ts / tsconfig.json\n  src/\n    main.ts\n```\n"
    assert set(files(plan)) == {"frontend/index.html", "frontend/package.json", "frontend/vite.config.ts",
                                "frontend/tsconfig.json", "frontend/src/main.ts"}


def test_an_item_whose_subject_is_a_file_names_it_outside_the_steps() -> None:
    plan = ("# 方案\n\n## 一、后端\n\n### 1. 接口\n\n新增 `backend/app.py`\n\n### 2. 路由\n\n新增 `backend/routes.py`\n\n"
            "## 三、其他\n- 根 `README.md`：补充启动说明\n- `.gitignore`：追加 `dist/`\n- 不动 `config.py`\n")
    assert files(plan, tree={"README.md", ".gitignore", "config.py"}) == {
        "backend/app.py": "CREATE", "backend/routes.py": "CREATE", "README.md": "MODIFY", ".gitignore": "MODIFY"}


def test_a_target_column_is_where_content_moves_to() -> None:
    plan = ("# Plan\n\n## Moves\n\n| Section (current) | Target | Why |\n|---|---|---|\n"
            "| Tool roster | `docs/dev/tool-roster.md` | evolving |\n| Glossary | `docs/dev/glossary.md` | terms |\n")
    assert files(plan) == {"docs/dev/tool-roster.md": "CREATE", "docs/dev/glossary.md": "CREATE"}


def test_a_deliverable_column_with_a_source_column_and_folders_from_globs() -> None:
    plan = ("# 計画\n\n## Wave 1\n\n| レーン | ソース | 成果物 |\n|---|---|---|\n| L1 | `company.html` | `inc/data-company.php` |\n"
            "| L2 | `CompanyPage.jsx` | `template-parts/hero.php` |\n\n## ファイル責任マトリクス\n\n| パス | Wave |\n|---|---|\n"
            "| `theme/site/inc/data-*.php` | 2 |\n| `theme/site/template-parts/*.php` | 1 |\n")
    assert set(files(plan)) == {"theme/site/inc/data-company.php", "theme/site/template-parts/hero.php"}


def test_a_tree_under_a_new_files_heading_creates_its_files() -> None:
    plan = ("# Plan: Statistiken\n\n## Architektur\n\n### Neue Dateien\n\n```\nsrc/\n  views/StatisticsView.vue   # Hauptseite\n"
            "  composables/\n    useStatistics.ts         # Daten\n```\n\n### Zu ändernde Dateien\n\n"
            "| Datei | Änderung |\n|---|---|\n| `src/router/index.ts` | Route |\n")
    assert files(plan) == {"src/views/StatisticsView.vue": "CREATE", "src/composables/useStatistics.ts": "CREATE",
                           "src/router/index.ts": "MODIFY"}


def test_files_that_use_what_changes_are_read() -> None:
    plan = ("# Plan\n\n## Changes\n\n1. Remove `constraintScore` from `src/engine.ts` — used by `src/scheduler.ts` "
            "and `src/refs.ts`\n2. Keep `findSlot` (called from `src/scheduleOne.ts`)\n")
    assert files(plan) == {"src/engine.ts": "MODIFY"}


def test_a_folder_written_with_a_leading_slash_never_makes_an_absolute_path() -> None:
    from hybrid_tui.core.spec.format import render_spec, validate_spec

    plan = ("# Plan\n\n## Layout\n\nEverything lives in `/todo/`.\n\n## Steps\n\n1. Create `todo/roadmap.md`\n"
            "2. Create `todo/package.json`\n")
    spec = convert_plan(plan, source="p.md")
    assert {f.path for t in spec.tasks for f in t.files} == {"todo/roadmap.md", "todo/package.json"}
    assert [p for p in validate_spec(render_spec(spec))[1] if p.severity == "error"] == []
