"""Done, deferred and no-change markers apply to the entry they mark (issue 13): a ✅ beside one
entry of a files list does not remove that file from a step that changes it, a `[x]` item does
not hide a file the plan lists as to be created, a finished phase is no task, and a tracker's
ticked step is the same step told in detail under its number. Small plans of our own."""

from __future__ import annotations

import pytest

from hybrid_tui.core.spec.convert import convert_plan


def files(plan: str) -> dict[str, str]:
    return {f.path: f.action for t in convert_plan(plan, source="p.md").tasks for f in t.files}


def test_a_done_mark_beside_one_entry_leaves_a_step_that_changes_the_file() -> None:
    plan = ("# Plan: cache\n\n## Files\n\n- `src/a.py` ✅\n- `src/b.py`\n\n## Steps\n\n"
            "### 1. Loader\n\nUpdate `src/a.py` to read the cache.\n\n### 2. Other\n\nTouch `src/b.py`.\n")
    assert files(plan) == {"src/a.py": "MODIFY", "src/b.py": "MODIFY"}
    # the done entry alone, with a mention that says nothing of its own: finished work
    quiet = plan.replace("Update `src/a.py` to read the cache.", "The cache (see `src/a.py`).")
    assert files(quiet) == {"src/b.py": "MODIFY"}


def test_a_ticked_item_does_not_hide_a_file_the_plan_lists_to_create() -> None:
    plan = ("# Plan: api\n\n## Progress\n\n- [x] Sketch `src/new_api.py`\n- [ ] Wire it\n\n"
            "## Files to create\n\n- `src/new_api.py`\n- `src/routes.py`\n")
    assert files(plan) == {"src/new_api.py": "CREATE", "src/routes.py": "CREATE"}


@pytest.mark.parametrize("mark", ["✅", "(done)", "(完了)", "— 已完成", "(완료)", "DONE"])
def test_a_finished_phase_is_no_task_and_drops_its_files(mark: str) -> None:
    plan = (f"# Roadmap\n\n## Phase 1: Setup {mark}\n\n- Create `src/setup.py`\n- Update `README.md`\n\n"
            "## Phase 2: Client\n\n- Create `src/client.py`\n- Update `README.md` with client docs\n")
    spec = convert_plan(plan, source="p.md")
    assert [t.title for t in spec.tasks] == ["Client"]
    assert files(plan) == {"src/client.py": "CREATE", "README.md": "MODIFY"}


def test_a_ticked_tracker_step_is_done_where_the_plan_details_it() -> None:
    plan = ("# Release plan\n\n## Tracker\n\n- [x] **Step 1.1:** Update alarms.tf - rename topics\n"
            "- [x] **Step 1.2:** Update README.md (if needed) - No changes needed\n"
            "- [ ] **Step 2.1:** Update CHANGELOG.md\n\n## Details\n\n#### 1.1 Update alarms.tf\n\n"
            "Replace the names in `alarms.tf`.\n\n#### 1.2 Update README.md\n\nMaybe `README.md`.\n\n"
            "#### 2.1 Update CHANGELOG.md\n\nAdd a section to `CHANGELOG.md`.\n")
    assert files(plan) == {"CHANGELOG.md": "MODIFY"}
    # the same number for another file is another step: it is not done
    renumbered = plan.replace("#### 2.1 Update CHANGELOG.md", "#### 1.1 Update CHANGELOG.md")
    assert files(renumbered) == {"CHANGELOG.md": "MODIFY"}


def test_a_fullwidth_colon_after_a_step_number_is_not_in_the_title() -> None:
    plan = "# 计划\n\n## 阶段 1：基础\n\n- 新建 `src/base.py`\n\n## 阶段 2：接口\n\n- 新建 `src/api.py`\n"
    assert [t.title for t in convert_plan(plan, source="p.md").tasks] == ["基础", "接口"]


@pytest.mark.parametrize("mark", ["(deferred)", "(later)", "(後で)", "(推迟)", "(나중에)", "(später)", "(plus tard)",
                                  "(más tarde)", "(adiado)", "(rinviato)", "(позже)", "(sau này)", "(no change)",
                                  "(unchanged)", "— 変更なし", "(不修改)"])
def test_a_deferred_or_no_change_mark_applies_to_its_entry(mark: str) -> None:
    plan = (f"# Plan\n\n## Files\n\n- `src/a.py` {mark}\n- `src/b.py`\n\n## Steps\n\n"
            "### 1. Loader\n\nUpdate `src/a.py` to read the cache.\n\n### 2. Other\n\nTouch `src/b.py` (see `src/a.py`).\n")
    assert files(plan) == {"src/a.py": "MODIFY", "src/b.py": "MODIFY"}
    quiet = plan.replace("Update `src/a.py` to read the cache.", "The cache.")
    assert files(quiet) == {"src/b.py": "MODIFY"}


@pytest.mark.parametrize("mark", ["✅ (已有基础)", "✅ partially", "✅ (in progress)", "✅ (teilweise)"])
def test_a_done_mark_qualified_as_partial_is_not_done(mark: str) -> None:
    plan = (f"# Plan\n\n## Phase 1: UI {mark}\n\n- Update `web/src/App.vue`\n\n## Phase 2: API\n\n- Create `server/labels.mjs`\n")
    assert [t.title for t in convert_plan(plan, source="p.md").tasks] == [f"UI {mark}", "API"]


def test_a_plan_whose_every_step_is_ticked_changes_nothing() -> None:
    plan = ("# いいね機能\n\n## 設計\n\n```\nsrc/like/\n├── index.ts\n└── Like.entity.ts\n```\n\n## 実装\n\n"
            "### Step 1: バックエンド ✅\n\n- `src/like/Like.entity.ts`\n\n### Step 2: フロントエンド ✅\n\n- `web/LikeButton.tsx`\n")
    assert files(plan) == {}
    open_step = plan.replace("### Step 2: フロントエンド ✅", "### Step 2: フロントエンド")
    assert files(open_step)["web/LikeButton.tsx"] == "MODIFY"


def test_a_file_of_a_finished_phase_is_still_changed_by_an_open_one() -> None:
    plan = ("# Plan\n\n## Fase 1 — Nav ✅ HECHA\n\n- Archivos: `theme.xml`, `css/site.css`\n\n"
            "## Fase 2 — Convenios\n\n- Archivos: `theme.xml` (tabla), `css/site.css` (nueva sección)\n\n"
            "## Fase 3 — Cierre\n\n- Proponer commits siguiendo `docs/COMMITS.md`\n")
    assert files(plan) == {"theme.xml": "MODIFY", "css/site.css": "MODIFY"}
