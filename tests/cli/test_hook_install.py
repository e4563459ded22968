"""`hybrid-tui hook install | uninstall | status` (issue 11): one PermissionRequest hook for
ExitPlanMode added to Claude Code's settings, every other setting and hook kept, and taken out
again leaving the file byte-identical (or gone, when hybrid-tui created it). The real CLI as a
process, real files."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.support.cli import run_cli

BUSY = """{\r
  "model": "opus",\r
  "permissions": {"allow": ["Bash(npm test)"], "deny": []},\r
  "hooks": {\r
    "PreToolUse": [{"matcher": "Bash", "hooks": [{"type": "command", "command": "audit.sh"}]}],\r
    "PermissionRequest": [{"matcher": "Write", "hooks": [{"type": "command", "command": "ok.sh"}]}]\r
  },\r
  "plansDirectory": "docs/plans"\r
}\r
"""


def settings_path(repo: Path, where: str) -> Path:
    if where == "--user":
        return Path(os.environ["CLAUDE_CONFIG_DIR"]) / "settings.json"
    return repo / ".claude" / "settings.json"


def hook(repo: Path, *args: str) -> str:
    result = run_cli("hook", *args, cwd=repo)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def our_hooks(path: Path) -> list[dict]:
    data = json.loads(path.read_text())
    return [h for group in data["hooks"]["PermissionRequest"] if group["matcher"] == "ExitPlanMode"
            for h in group["hooks"]]


@pytest.mark.parametrize("where", ["--project", "--user"])
@pytest.mark.parametrize("before", [None, "", "{}\n", BUSY], ids=["absent", "empty", "empty-object", "busy"])
def test_install_then_uninstall_leaves_the_file_as_it_was(repo: Path, where: str, before: str | None) -> None:
    path = settings_path(repo, where)
    if before is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(before.encode())

    assert "installed the ExitPlanMode approval hook" in hook(repo, "install", where)
    (ours,) = our_hooks(path)
    assert ours["type"] == "command" and ours["command"].endswith("hook permission-request")
    assert ours["timeout"] == 330  # [hook] answer_timeout (300) + 30
    if before == BUSY:  # everything else is still there
        data = json.loads(path.read_text())
        assert data["model"] == "opus" and data["plansDirectory"] == "docs/plans"
        assert data["hooks"]["PreToolUse"][0]["hooks"][0]["command"] == "audit.sh"
        assert data["hooks"]["PermissionRequest"][0]["hooks"][0]["command"] == "ok.sh"
    assert "already installed" in hook(repo, "install", where)  # twice: no second entry
    assert len(our_hooks(path)) == 1
    assert f"{where[2:]}: installed in {path}" in hook(repo, "status")

    assert "removed the approval hook" in hook(repo, "uninstall", where)
    if before is None:
        assert not path.exists()
        if where == "--project":
            assert not path.parent.exists()  # the .claude folder it made goes too
    else:
        assert path.read_bytes() == before.encode()
    assert "not installed" in hook(repo, "uninstall", where)


def test_a_file_changed_since_install_keeps_the_change(repo: Path) -> None:
    path = settings_path(repo, "--project")
    path.parent.mkdir()
    path.write_text('{"model": "opus"}\n')
    hook(repo, "install")
    data = json.loads(path.read_text())
    data["theme"] = "dark"  # the user edits the file meanwhile
    path.write_text(json.dumps(data))
    hook(repo, "uninstall")
    assert json.loads(path.read_text()) == {"model": "opus", "theme": "dark"}


@pytest.mark.parametrize("text", ['{\n  // my comment\n  "model": "opus"\n}\n', "[1, 2]\n"], ids=["comment", "not-an-object"])
def test_a_settings_file_that_is_not_a_json_object_is_reported_not_rewritten(repo: Path, text: str) -> None:
    path = settings_path(repo, "--project")
    path.parent.mkdir()
    path.write_text(text)
    result = run_cli("hook", "install", cwd=repo)
    assert result.returncode == 2 and path.read_text() == text
    assert str(path) in result.stderr
    if "comment" in text:
        assert "line 2: not valid JSON" in result.stderr and "(no comments)" in result.stderr
    assert f"project: {path}: " in run_cli("hook", "status", cwd=repo).stdout  # status reports it too


def test_status_says_whether_a_hybrid_tui_answers_here(repo: Path) -> None:
    out = hook(repo, "status")
    assert "project: not installed" in out and "user: not installed" in out
    assert f"hybrid-tui for {repo}: not running" in out
