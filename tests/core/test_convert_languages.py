"""Section roles in any language (issue 13): the heading-word table covers en, zh, ja, ko, de,
fr, es, pt, it, ru and vi for each role, and a section under a heading no table knows gets its
role from its content (a file tree, shell blocks of checks). Small plans of our own."""

from __future__ import annotations

import pytest

from hybrid_tui.core.spec.convert import convert_plan
from hybrid_tui.core.spec.convert.heading_words import HEADING_WORDS, LANGUAGES


def test_the_table_has_words_for_every_role_in_every_language() -> None:
    assert set(HEADING_WORDS) == {"verify", "files", "tree", "changes", "exclude", "no change", "read", "done"}
    for role, languages in HEADING_WORDS.items():
        assert set(languages) == set(LANGUAGES), role
        assert all(languages[lang] for lang in LANGUAGES), role


def _plan(words: dict[str, str]) -> str:
    return (
        f"# Plan\n\n## {words['done'].capitalize()}: setup\n\n- Create `src/setup.py`\n\n"
        f"## {words['changes'].capitalize()}\n\n1. Load the cache in `src/app.py`\n2. A flag in `src/cli.py`\n\n"
        f"## {words['tree'].capitalize()}\n\n```\nsrc/\n  app.py\n  new_mod.py\n```\n\n"
        f"## {words['exclude'].capitalize()}\n\n- `src/legacy.py`\n\n"
        f"## {words['no change'].capitalize()}\n\n- `src/keep.py`\n\n"
        f"## {words['verify'].capitalize()}\n\n- `./scripts/smoke.sh`\n"
    )


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("pick", [0, -1])
def test_each_languages_heading_words_give_their_sections_roles(lang: str, pick: int) -> None:
    words = {role: HEADING_WORDS[role][lang][pick] for role in HEADING_WORDS}
    spec = convert_plan(_plan(words), source="p.md", tree={"src/app.py", "src/cli.py", "src/legacy.py", "src/keep.py"})
    assert [t.title for t in spec.tasks][:2] == ["Load the cache in `src/app.py`", "A flag in `src/cli.py`"]
    files = {f.path: f.action for t in spec.tasks for f in t.files}
    assert files == {"src/app.py": "MODIFY", "src/cli.py": "MODIFY", "src/new_mod.py": "CREATE"}, words
    assert spec.all_commands() == ["./scripts/smoke.sh"], words


def test_a_done_word_at_the_end_of_a_heading_marks_it_done() -> None:
    plan = "# Plan\n\n## Fase 1: configuración (completado)\n\n- Crear `src/a.py`\n\n## Fase 2: API\n\n- Crear `src/b.py`\n"
    spec = convert_plan(plan, source="p.md")
    assert [t.title for t in spec.tasks] == ["API"]


def test_a_tree_under_a_heading_no_table_knows_is_a_list_of_files() -> None:
    plan = ("# Plan\n\n## Steps\n\n1. Wire `src/app.py`.\n\n## Wie es am Ende aussieht\n\n"
            "```\nsrc/\n├── app.py\n└── loader.py\n```\n")
    files = {f.path: f.action for t in convert_plan(plan, source="p.md", tree={"src/app.py"}).tasks for f in t.files}
    assert files == {"src/app.py": "MODIFY", "src/loader.py": "CREATE"}


def test_shell_blocks_of_checks_under_a_heading_no_table_knows_are_verification() -> None:
    plan = ("# Plan\n\n## Steps\n\n1. Wire `src/app.py`.\n\n## Danach\n\nZum Schluss:\n\n"
            "```bash\npytest -q tests/\nruff check .\n```\n")
    spec = convert_plan(plan, source="p.md")
    assert spec.verification == ["pytest -q tests/", "ruff check ."]
    assert all("pytest" not in r for t in spec.tasks for r in t.requirements)
    # a shell block that runs no check (a setup step) is no verification section
    setup = plan.replace("pytest -q tests/\nruff check .", "npm install\nnpm run dev")
    assert convert_plan(setup, source="p.md").verification == []
    # nor is a section that also holds code to write
    code = plan.replace("Zum Schluss:\n\n", "```python\ndef f(): ...\n```\n\n")
    assert convert_plan(code, source="p.md").verification == []


@pytest.mark.parametrize("mark", ["(unverändert)", "(inalterado)", "(invariato)", "(без изменений)", "(giữ nguyên)",
                                  "(aucune modification)", "(sin modificaciones)", "（変更なし）", "（保持不变）", "(변경 없음)"])
def test_no_change_words_in_other_languages(mark: str) -> None:
    plan = f"# Plan\n\n## Files\n\n- `src/a.py` (new)\n- `templates/report.html` {mark}\n"
    assert {f.path for t in convert_plan(plan, source="p.md").tasks for f in t.files} == {"src/a.py"}


def test_a_change_column_in_japanese_gives_each_rows_action() -> None:
    plan = ("# 実装計画：ダークモード\n\n## 変更ファイル\n\n| ファイル | 変更内容 |\n|---|---|\n"
            "| `src/theme.ts` | 新規作成 |\n| `src/App.tsx` | テーマプロバイダを追加 |\n| `src/colors.css` | 変更なし |\n"
            "| `src/old.css` | 削除 |\n")
    files = {f.path: f.action for t in convert_plan(plan, source="p.md").tasks for f in t.files}
    assert files == {"src/theme.ts": "CREATE", "src/App.tsx": "MODIFY", "src/old.css": "DELETE"}


@pytest.mark.parametrize(("new", "changed", "gone"), [
    ("новый", "изменить", "удалить"), ("neu", "geändert", "gelöscht"), ("nouveau", "modifié", "supprimé"),
    ("novo", "modificado", "removido"), ("nuovo", "modificato", "eliminato"), ("mới", "sửa", "xóa"),
])
def test_tree_tags_in_other_languages(new: str, changed: str, gone: str) -> None:
    plan = (f"# Plan\n\n## Structure\n\n```\nclient/\n├── api.ts        # {changed}\n├── types.ts      # {new}\n"
            f"└── legacy.ts     # {gone}\n```\n")
    files = {f.path: f.action for t in convert_plan(plan, source="p.md").tasks for f in t.files}
    assert files == {"client/api.ts": "MODIFY", "client/types.ts": "CREATE", "client/legacy.ts": "DELETE"}


@pytest.mark.parametrize(("label", "action"), [
    ("**Arquivos novos:**", "CREATE"), ("**Arquivos alterados:**", "MODIFY"), ("**Fichiers modifiés :**", "MODIFY"),
    ("**Neue Dateien:**", "CREATE"), ("**新規ファイル:**", "CREATE"), ("**修改的文件**:", "MODIFY"),
    ("**Новые файлы:**", "CREATE"), ("**Archivos nuevos:**", "CREATE"), ("**File da modificare:**", "MODIFY"),
    ("**涉及文件**:", "MODIFY"), ("**Files involved:**", "MODIFY"),
])
def test_a_labelled_list_of_paths_in_a_text_block(label: str, action: str) -> None:
    plan = (f"# Plan\n\n## Parts\n\n{label}\n\n```text\nsrc/Api/Program.cs        ← wire the checks\n"
            "src/Api/appsettings.json  ← timeouts\n```\n\n## Steps\n\n1. Do the work.\n")
    files = {f.path: f.action for t in convert_plan(plan, source="p.md").tasks for f in t.files}
    assert files == {"src/Api/Program.cs": action, "src/Api/appsettings.json": action}


def test_a_files_label_over_a_list_outside_the_steps_lists_them() -> None:
    plan = ("# Plan\n\n## Scope\n\n### 1. UI\n\n**涉及文件**:\n- `web/src/App.vue` — 主界面标签\n- `web/src/i18n.js`\n\n"
            "## 修改清单\n\n### Step 1: 翻译\n\n补充 `web/src/i18n.js`\n\n### Step 2: 标签\n\n新文件 `server/labels.mjs`\n")
    files = {f.path: f.action for t in convert_plan(plan, source="p.md").tasks for f in t.files}
    assert files == {"web/src/i18n.js": "MODIFY", "server/labels.mjs": "CREATE", "web/src/App.vue": "MODIFY"}


def test_an_example_or_pattern_column_is_read() -> None:
    plan = ("# 规范\n\n## 命名\n\n| 类型 | 规范 | 示例 |\n|---|---|---|\n| Python模块 | `snake_case.py` | `video_player.py` |\n"
            "| 配置 | `snake_case.yaml` | `default.yaml` |\n")
    assert [f for t in convert_plan(plan, source="p.md").tasks for f in t.files] == []


@pytest.mark.parametrize("lang", LANGUAGES)
def test_a_section_of_what_exists_already_is_read(lang: str) -> None:
    heading = HEADING_WORDS["read"][lang][0]
    plan = (f"# Plan\n\n## {heading.capitalize()}\n\n| Piece | File |\n|---|---|\n| hook | `src/hooks/use-shops.ts` |\n\n"
            "## Steps\n\n1. Create `src/modal.tsx`.\n")
    assert {f.path for t in convert_plan(plan, source="p.md").tasks for f in t.files} == {"src/modal.tsx"}


@pytest.mark.parametrize("keep", ["(keep)", "сохранить", "garder", "conservar", "behalten", "保留", "유지"])
def test_a_keep_tag_in_a_tree_is_no_change(keep: str) -> None:
    plan = f"# Plan\n\n## Structure\n\n```\nsrc/\n├── App.tsx       # new\n└── audio.ts      # {keep}\n```\n"
    assert {f.path for t in convert_plan(plan, source="p.md").tasks for f in t.files} == {"src/App.tsx"}


@pytest.mark.parametrize("label", ["**Valider** :", "**Vérifier** :", "**Prüfen**:", "**Validar**:", "**Testar**:",
                                   "**Verificare**:", "**Проверить**:", "**Kiểm tra**:", "**验证**：", "**テスト**:"])
def test_check_labels_in_other_languages_make_checks(label: str) -> None:
    plan = f"# Plan\n\n## Steps\n\n### 1. Export\n\nAdd `src/export.ts`.\n\n- {label} `npx vitest run export-csv`\n"
    (task,) = convert_plan(plan, source="p.md").tasks
    assert task.verification == ["npx vitest run export-csv"]
    assert all("vitest" not in r for r in task.requirements)
