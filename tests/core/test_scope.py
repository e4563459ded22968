"""Scope check (issue 6): changed files the spec did not name, named files left untouched."""

from __future__ import annotations

import json
from pathlib import Path

from hybrid_tui.core.git import FileDiff
from hybrid_tui.core.review.scope import scope_check
from hybrid_tui.core.spec.format import parse_spec
from tests.support.cli import run_cli
from tests.support.repos import make_repo
from tests.support.runs import agent_stream, record, run_spec, spec_file


def test_run_flags_out_of_scope_and_untouched_files(tmp_path: Path, state_dir: Path):
    repo = make_repo(tmp_path / "project", {
        "a.txt": "a\n", "c.txt": "c\n", "old.txt": "a file that moves, with enough text to be a rename\n",
    })
    spec = spec_file(tmp_path, ["MODIFY a.txt", "CREATE b.txt", "DELETE c.txt", "DELETE old.txt"], [])
    stream = agent_stream(tmp_path, "wander", [
        ("WriteFile", {"path": "a.txt", "content": "a, changed\n"}),
        ("WriteFile", {"path": "extra.txt", "content": "not asked for\n"}),
        ("Shell", {"command": "mv old.txt new.txt"}),
    ])
    result, _, summary = run_spec(repo, spec, stream)
    assert result.returncode == 0, result.stderr
    assert summary["out_of_scope"] == ["extra.txt", "new.txt"]  # old.txt was named: in scope
    assert summary["untouched"] == ["b.txt", "c.txt"]
    stored = record(state_dir, summary["run_id"])
    assert "out_of_scope" not in stored and "untouched" not in stored  # derived when shown, never stored

    diff = json.loads(run_cli("diff", summary["run_id"], "--json", cwd=repo).stdout)
    flags = {f["path"]: (f["status"], f["out_of_scope"]) for f in diff["files"]}
    assert flags == {"a.txt": ("modified", False), "extra.txt": ("added", True), "new.txt": ("renamed", True)}
    assert diff["untouched"] == ["b.txt", "c.txt"]

    shown = run_cli("diff", summary["run_id"], cwd=repo).stdout.splitlines()
    assert any(line.endswith("  extra.txt  ! out of scope") for line in shown)
    assert any(line.endswith("  old.txt -> new.txt  ! out of scope") for line in shown)
    assert any(line.endswith("  a.txt") for line in shown)  # in scope: no marker
    assert "  untouched (in the spec, not changed): b.txt, c.txt" in shown


def _spec(*files: str):
    body = "".join(f"- {f}\n" for f in files)
    return parse_spec(f"# Spec: 001 -- S\n\n## Tasks\n\n### Task 1: T\n\nFiles:\n{body}")


def test_a_rename_touches_both_names_and_a_copy_only_the_new_one():
    rename = FileDiff("new.py", "renamed", 1, 1, old_path="old.py")
    copy = FileDiff("copy.py", "copied", 0, 0, old_path="orig.py")
    scope = scope_check(_spec("MODIFY new.py", "MODIFY orig.py"), [rename, copy])
    assert scope.out_of_scope == ["copy.py", "old.py"]
    assert scope.untouched == ["orig.py"]  # a copy does not touch its source
    assert scope.flags(rename) and scope.flags(copy)

    in_scope = scope_check(_spec("DELETE old.py", "CREATE new.py"), [rename])
    assert (in_scope.out_of_scope, in_scope.untouched) == ([], [])
    assert not in_scope.flags(rename)


def test_paths_compare_in_their_normal_spelling_and_actions_are_not_compared():
    files = [FileDiff("src/a.py", "deleted", 0, 3)]
    scope = scope_check(_spec("MODIFY ./src//a.py", "CREATE docs/b.md"), files)
    assert (scope.out_of_scope, scope.untouched) == ([], ["docs/b.md"])
