"""`hybrid-tui claude install | uninstall` (issue 11): the skills kimi-spec and kimi-dispatch and
the rules file kimi-delegation.md, written from hybrid-tui's own settings, and taken out again
exactly (a folder or file hybrid-tui did not write is never touched). The real CLI, real files."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from tests.support.cli import run_cli

PIECES = ["skills/kimi-spec/SKILL.md", "skills/kimi-dispatch/SKILL.md", "rules/kimi-delegation.md"]


def claude(repo: Path, *args: str) -> str:
    result = run_cli("claude", *args, cwd=repo)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()} if root.exists() else {}


@pytest.mark.parametrize("where", ["--project", "--user"])
def test_install_writes_the_pieces_from_the_settings_and_uninstall_takes_them_out(repo: Path, where: str) -> None:
    base = repo / ".claude" if where == "--project" else Path(os.environ["CLAUDE_CONFIG_DIR"])
    if where == "--user":
        (base / "skills" / "mine").mkdir(parents=True)  # the user's own skill stays
        (base / "skills" / "mine" / "SKILL.md").write_text("---\nname: mine\n---\n")
    before = tree(base)
    Path(os.environ["HYBRID_TUI_CONFIG"]).write_text("[advice]\nclaude_max_files = 1\nkimi_min_lines = 80\n")

    claude(repo, "install", where)
    for rel in PIECES:
        assert (base / rel).is_file(), rel
    spec = (base / "skills/kimi-spec/SKILL.md").read_text()
    dispatch = (base / "skills/kimi-dispatch/SKILL.md").read_text()
    rules = (base / "rules/kimi-delegation.md").read_text()
    assert spec.startswith("---\nname: kimi-spec\ndescription: ") and "hybrid-tui spec PLAN_FILE" in spec
    assert dispatch.startswith("---\nname: kimi-dispatch\n") and "hybrid-tui run PLAN_FILE --json" in dispatch
    assert "hybrid-tui runs --json" in dispatch and "hybrid-tui diff RUN_ID --json" in dispatch
    assert "--approve-checks" in dispatch and not re.search(r"run PLAN_FILE[^\n]*--approve-checks", dispatch)
    assert [line for line in rules.splitlines() if line.startswith("## ")] == [
        "## When to Suggest", "## When NOT to Suggest", "## Plan Approval Flow", "## Plan to Spec Conversion",
        "## Quota Awareness"]
    # The thresholds are hybrid-tui's own, from its config.
    assert "- Up to 1 file(s) and under 50 lines: Claude implements." in rules and "3+ files or 80+ lines" in rules

    claude(repo, "install", where)  # again: rewrites its own files, no refusal
    out = claude(repo, "uninstall", where)
    assert out.count("removed ") == 3
    assert tree(base) == before
    if where == "--project":
        assert not base.exists()  # the folders it made go too


def test_install_refuses_to_overwrite_a_file_it_did_not_write(repo: Path) -> None:
    theirs = repo / ".claude" / "skills" / "kimi-spec" / "SKILL.md"
    theirs.parent.mkdir(parents=True)
    theirs.write_text("my own kimi-spec\n")
    result = run_cli("claude", "install", cwd=repo)
    assert result.returncode == 2 and str(theirs) in result.stderr
    assert theirs.read_text() == "my own kimi-spec\n"
    assert not (repo / ".claude" / "rules").exists()  # nothing written


def test_a_piece_changed_since_install_is_kept(repo: Path) -> None:
    claude(repo, "install")
    rules = repo / ".claude" / "rules" / "kimi-delegation.md"
    rules.write_text(rules.read_text() + "\nMy own note.\n")
    out = claude(repo, "uninstall")
    assert f"kept {rules}: changed since hybrid-tui wrote it" in out
    assert rules.exists() and not (repo / ".claude" / "skills").exists()
