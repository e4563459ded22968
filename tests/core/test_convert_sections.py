"""Sections the converter must read by their role (issue 13): a "files to be deleted" section
deletes, a "no changes needed in:" section is no task and no change, and a listed path is not
repeated as a requirement. Small plans of our own."""

from __future__ import annotations

import pytest

from hybrid_tui.core.spec.convert import convert_plan
from hybrid_tui.core.spec.format import render_spec

STEPS = "# Plan: cleanup\n\n## Changes\n\n1. Update `src/app.py` to use the loader.\n2. Edit `src/b.py`.\n\n"


@pytest.mark.parametrize("heading", ["Files to be deleted", "Files to delete", "Deleted files", "削除するファイル",
                                     "删除的文件", "Zu löschende Dateien", "Fichiers à supprimer"])
def test_a_files_to_be_deleted_section_deletes_them(heading: str) -> None:
    plan = STEPS + f"## {heading}\n\n- `old/legacy.py`\n- `old/unused.py` (replaced by the loader)\n"
    spec = convert_plan(plan, source="p.md")
    actions = {f.path: f.action for t in spec.tasks for f in t.files}
    assert actions["old/legacy.py"] == "DELETE" and actions["old/unused.py"] == "DELETE"
    other = spec.tasks[-1]
    assert other.requirements == ["`old/unused.py` (replaced by the loader)"]  # no bullet, no bare path


@pytest.mark.parametrize("heading", ["No changes needed in:", "No changes"])
def test_a_no_changes_section_is_no_task_and_no_change(heading: str) -> None:
    plan = STEPS + f"## {heading}\n\n- `src/keep.py`\n- `src/also_kept.py`\n"
    spec = convert_plan(plan, source="p.md")
    assert [t.title for t in spec.tasks] == ["Update `src/app.py` to use the loader", "Edit `src/b.py`"]
    assert {f.path for t in spec.tasks for f in t.files} == {"src/app.py", "src/b.py"}


def test_extensionless_files_in_code_are_files() -> None:
    plan = "# Plan: tools\n\n## Changes\n\n1. Add a `Dockerfile` and `bin/tool`.\n2. Edit `scripts/deploy`.\n"
    spec = convert_plan(plan, source="p.md")
    assert [[(f.action, f.path) for f in t.files] for t in spec.tasks] == [
        [("CREATE", "Dockerfile"), ("CREATE", "bin/tool")], [("MODIFY", "scripts/deploy")]]


def test_library_names_that_look_like_files_are_not_files() -> None:
    plan = ("# Plan: code blocks\n\n## Changes\n\n1. Update `src/render.ts` to colour code blocks with `highlight.js`.\n"
            "2. Change `src/auth.ts` to sign in with `NextAuth.js`.\n")
    spec = convert_plan(plan, source="p.md")
    assert {f.path for t in spec.tasks for f in t.files} == {"src/render.ts", "src/auth.ts"}


def test_setext_headings_are_headings() -> None:
    plan = ("Cache the loader\n================\n\nSteps\n-----\n\n1. Update `src/a.py` to cache.\n"
            "2. Edit `src/b.py`.\n")
    spec = convert_plan(plan, source="p.md")
    assert spec.title == "Cache the loader"
    assert [t.title for t in spec.tasks] == ["Update `src/a.py` to cache", "Edit `src/b.py`"]


def test_an_html_comment_is_neither_structure_nor_content() -> None:
    plan = (STEPS + "<!--\n## Old step\n\n- Delete `src/legacy.py`\n-->\n")
    spec = convert_plan(plan, source="p.md")
    assert len(spec.tasks) == 2 and "legacy" not in render_spec(spec)


def test_an_unclosed_fence_in_a_list_item_ends_with_the_item() -> None:
    plan = ("# Plan: x\n\n## Steps\n\n1. Update `src/a.py`:\n   ```python\n   def a(): ...\n\n"
            "## Files to delete\n\n- `src/old.py`\n")
    actions = {f.path: f.action for t in convert_plan(plan, source="p.md").tasks for f in t.files}
    assert actions == {"src/a.py": "MODIFY", "src/old.py": "DELETE"}


def test_a_code_block_headed_by_a_file_comment_changes_that_file() -> None:
    plan = ("# Plan\n\n## Changes\n\n1. Types\n\n```typescript\n// src/chrome-promise.d.ts\ndeclare namespace chrome {}\n```\n\n"
            "2. Helper\n\n```python\n# file: tools/helper.py\ndef f(): ...\n```\n\n## Verification\n\n"
            "```bash\n# scripts/run.sh is run, not written\nbash scripts/run.sh\n```\n")
    spec = convert_plan(plan, source="p.md", tree={"tools/helper.py"})
    assert {f.path: f.action for t in spec.tasks for f in t.files} == {
        "src/chrome-promise.d.ts": "CREATE", "tools/helper.py": "MODIFY"}


def test_a_plan_stored_with_literal_newline_escapes_is_read_as_lines() -> None:
    rest = ("## Steps\\n\\n1. Update `src/a.py` to load the cache in the background worker thread\\n"
            "2. Create `src/b.py` with the helper the loader calls when it starts\\n\\n## Verification\\n\\n"
            "```bash\\npytest -q\\n```\\n" + " " * 200)
    spec = convert_plan(f"# Plan\n\nIntro.\n\n{rest}\n", source="p.md")
    assert [t.title for t in spec.tasks] == [
        "Update `src/a.py` to load the cache in the background worker thread",
        "Create `src/b.py` with the helper the loader calls when it starts"]
    assert spec.verification == ["pytest -q"]


def test_a_file_comment_with_a_note_after_it_still_names_the_file() -> None:
    plan = ("# Plan\n\n## Changes\n\n1. Stats\n\n```javascript\n// server/src/index.mjs - buildStats()\n"
            "export function buildStats() {}\n```\n")
    spec = convert_plan(plan, source="p.md")
    assert [f.path for t in spec.tasks for f in t.files] == ["server/src/index.mjs"]


def test_a_code_block_of_comments_is_read_as_notes() -> None:
    plan = ("# Plan\n\n## Steps\n\n### Phase 1: Map\n```bash\n# 创建 branding-complete.js\n# 30+ brands\n```\n\n"
            "### Phase 2: UI\n```bash\n# update branding.js\n# wire the new map\n```\n")
    spec = convert_plan(plan, source="p.md", tree={"branding.js"})
    assert {f.path: f.action for t in spec.tasks for f in t.files} == {"branding-complete.js": "CREATE", "branding.js": "MODIFY"}
    assert spec.all_commands() == []


def test_a_path_with_a_symbol_suffix_is_that_file() -> None:
    plan = ("# Plan\n\n## Change\n\n`client/request.go::resolveURLPath`:\n\n- Replace the carve-out.\n\n## Tests\n\n"
            "New `TestRootSlash` in `client/request_test.go`, covering the table above.\n\n"
            "Existing `TestPreserve` (`client/runtime_test.go:880`) continues to pass.\n")
    files = {f.path: f.action for t in convert_plan(plan, source="p.md", tree={"client/request.go", "client/request_test.go", "client/runtime_test.go"}).tasks for f in t.files}
    assert files == {"client/request.go": "MODIFY", "client/request_test.go": "MODIFY"}


def test_a_context_fence_the_spec_parser_would_not_close_is_closed() -> None:
    # a fence opened at 3 spaces and "closed" at 6: Markdown inside a list item, but the spec
    # parser (at most 3 spaces) would read the whole spec after it as code
    plan = ("# Plan\n\n## Context\n\n1. It fails with:\n   ```\n      QueryFailedError: no column\n         ```\n"
            "2. Nothing is saved.\n\n## Steps\n\n1. Add `@JoinColumn` in `src/report.entity.ts`.\n")
    from hybrid_tui.core.spec.format import validate_spec

    spec = convert_plan(plan, source="p.md")
    parsed, problems = validate_spec(render_spec(spec))
    assert parsed == spec and [p for p in problems if p.severity == "error"] == []


def test_a_plan_that_drifted_right_is_read_at_its_headings() -> None:
    drift = " " * 21
    plan = (f"# PDF em branco\n\nSintoma.\n\n{drift}## Mudança\n\n{drift}Arquivo: `nest/src/report.entity.ts`\n\n"
            f"{drift}## Verificação\n\n{drift}```bash\n{drift}cd nest && npm run build\n{drift}```\n")
    spec = convert_plan(plan, source="p.md")
    assert [f.path for t in spec.tasks for f in t.files] == ["nest/src/report.entity.ts"]
    assert spec.all_commands() == ["cd nest && npm run build"]
