"""Advice: Claude or Kimi, with the reason (issue 5, point 6)."""

from __future__ import annotations

import pytest

from hybrid_tui.core.plan.advice import AdviceSettings, advise
from hybrid_tui.core.spec.convert import convert_plan
from tests.support.repos import CORPUS_PLANS


def advice_for(text: str, settings: AdviceSettings | None = None):
    return advise(text, convert_plan(text, source="plan.md"), settings)


def plan_with_files(paths: list[str], extra: str = "") -> str:
    steps = "\n".join(f"### {i}. `{path}`\nUpdate it.\n" for i, path in enumerate(paths, 1))
    return f"# Work\n\n## Changes\n\n{steps}\n{extra}"


def test_a_small_change_stays_with_claude():
    advice = advice_for(plan_with_files(["src/app.py"]))
    assert advice.choice == "claude" and "small change" in advice.reason and advice.files == 1


def test_three_files_go_to_kimi():
    advice = advice_for(plan_with_files(["src/a.py", "src/b.py", "src/c.py"]))
    assert advice.choice == "kimi" and "large change (3 file(s)" in advice.reason


def test_many_code_lines_go_to_kimi_even_for_one_file():
    code = "```python\n" + "x = 1\n" * 120 + "```\n"
    advice = advice_for(plan_with_files(["src/a.py"], code))
    assert advice.choice == "kimi" and advice.lines >= 100


def test_shell_blocks_do_not_count_as_changed_lines():
    shell = "```bash\n" + "echo hi\n" * 120 + "```\n"
    assert advice_for(plan_with_files(["src/a.py"], shell)).choice == "claude"


def test_open_questions_stay_with_claude_whatever_the_size():
    text = plan_with_files(["src/a.py", "src/b.py", "src/c.py", "src/d.py"], "## Open Questions\n- Which cache?\n")
    advice = advice_for(text)
    assert advice.choice == "claude" and "Open Questions" in advice.reason


def test_resolved_decisions_do_not_hold_the_plan_back():
    text = plan_with_files(["src/a.py", "src/b.py", "src/c.py"], "## Resolved decisions\n- Use Redis.\n")
    assert advice_for(text).choice == "kimi"


def test_a_plan_of_mostly_questions_stays_with_claude():
    text = plan_with_files(["src/a.py", "src/b.py", "src/c.py"]).replace("Update it.", "Should we?") + "Why?\nHow?\n"
    advice = advice_for(text)
    assert advice.choice == "claude" and "questions" in advice.reason


def test_medium_mechanical_work_goes_to_kimi():
    settings = AdviceSettings(claude_max_files=1, kimi_min_files=5)
    text = plan_with_files(["src/a.py", "src/b.py"], "Rename `old_name` to `new_name` everywhere.\n")
    advice = advice_for(text, settings)
    assert advice.choice == "kimi" and "mechanical" in advice.reason


def test_thresholds_are_configurable():
    text = plan_with_files(["src/a.py", "src/b.py", "src/c.py"])
    assert advice_for(text, AdviceSettings(kimi_min_files=10, claude_max_files=5)).choice == "claude"


def test_nothing_to_change_stays_with_claude():
    advice = advice_for("# Already done\n\n## Action Required\n\nNone.\n")
    assert advice.choice == "claude" and "no file" in advice.reason


@pytest.mark.parametrize(
    "name, choice",
    [
        ("01-fix-delete-types.md", "kimi"),  # six files across migration, hooks and UI
        ("02-already-tier-a.md", "claude"),  # no-op plan
        ("17-lightbox-button-align.md", "claude"),  # one component, a few lines
        ("21-ts-migration-ja.md", "kimi"),  # a mechanical migration of dozens of files
        ("36-symbolic-graph-cpp.md", "claude"),  # a design document
        ("06-add-spacing-action.md", "claude"),  # has open questions
    ],
)
def test_corpus_plans(name: str, choice: str):
    assert advice_for((CORPUS_PLANS / name).read_text()).choice == choice
