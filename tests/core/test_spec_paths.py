"""Spec paths through tracked symlinks and into `.git` (issue 10, scope point 3): a symlink
leading out of the repository is an error, one leading inside a warning naming the file the
edit lands in, and any path under `.git` (any case, any depth) an error. Real repositories
with real symlinks; `check` and `run` as real processes."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from hybrid_tui.core import git as core_git
from hybrid_tui.core.spec.format import validate_spec
from hybrid_tui.core.spec.paths import TreePaths, resolve
from tests.support.cli import run_cli, standin_env, world
from tests.support.repos import git, make_repo
from tests.support.runs import spec_file


@pytest.fixture
def linked(tmp_path: Path) -> Path:
    """A repository tracking symlinks: out of it, to a file in it, to a directory in it."""
    (tmp_path / "outside.txt").write_text("the user's file\n")
    repo = make_repo(tmp_path / "project", {"app.txt": "app\n", "src/a.py": "a = 1\n"})
    os.symlink("../outside.txt", repo / "sl.txt")
    os.symlink("app.txt", repo / "inside.txt")
    os.symlink("src", repo / "linkdir")
    os.symlink(str(tmp_path), repo / "abs")
    os.symlink("loop", repo / "loop")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "links")
    return repo


def check(repo: Path, tmp_path: Path, *files: str):
    spec = spec_file(tmp_path, list(files), ["true"])
    return run_cli("check", str(spec), cwd=repo), spec


def test_tree_paths_know_each_symlinks_target(linked: Path):
    repo = core_git.open_project(linked)
    tree = core_git.tree_paths(repo, core_git.head_branch(repo)[1])
    assert {"app.txt", "src/a.py", "sl.txt", "inside.txt", "linkdir"} <= tree
    assert tree.links == {"sl.txt": "../outside.txt", "inside.txt": "app.txt", "linkdir": "src",
                          "abs": str(linked.parent), "loop": "loop"}  # fmt: skip


def test_a_symlink_out_of_the_repository_is_an_error(linked: Path, tmp_path: Path):
    result, spec = check(linked, tmp_path, "MODIFY sl.txt", "CREATE abs/new.txt", "MODIFY loop")
    assert result.returncode == 1
    assert f"{spec}:8: error: sl.txt is a tracked symlink to ../outside.txt, outside the repository" in result.stdout
    assert f"{spec}:9: error: abs/new.txt is under the tracked symlink abs -> {tmp_path}, outside the repository" in result.stdout
    assert f"{spec}:10: error: loop is a tracked symlink to loop, outside the repository (or a loop of links)" in result.stdout


def test_run_refuses_it_and_changes_nothing(linked: Path, tmp_path: Path, state_dir: Path):
    before = world(linked, state_dir)
    spec = spec_file(tmp_path, ["MODIFY sl.txt"], ["true"])
    result = run_cli("run", str(spec), cwd=linked, env=standin_env("kimi_success"))
    assert result.returncode == 2
    assert "sl.txt is a tracked symlink to ../outside.txt, outside the repository" in result.stderr
    assert world(linked, state_dir) == before
    assert (tmp_path / "outside.txt").read_text() == "the user's file\n"


def test_a_symlink_inside_the_repository_is_a_warning_naming_the_target(linked: Path, tmp_path: Path):
    result, spec = check(linked, tmp_path, "MODIFY inside.txt", "CREATE linkdir/b.py", "DELETE sl.txt")
    assert result.returncode == 0, result.stdout
    assert result.stdout.splitlines() == [
        f"{spec}:8: warning: inside.txt is a tracked symlink to app.txt: the edit lands in app.txt; name that file instead",
        f"{spec}:9: warning: linkdir/b.py is under the tracked symlink linkdir -> src: the edit lands in src/b.py; name that file instead",
    ]  # DELETE sl.txt removes the link itself: fine


@pytest.mark.parametrize("path", [".git/config", "sub/.git/config", ".GIT/hooks/pre-commit", "a/b/.Git", "x/./.git/HEAD"])
def test_any_path_under_a_git_dir_is_an_error(path: str):
    text = f"# Spec: 001 -- t\n\n## Tasks\n\n### Task 1: x\n\nFiles:\n- MODIFY {path}\n\nVerification:\n- `true`\n"
    _, problems = validate_spec(text)
    assert [(p.line, p.severity) for p in problems] == [(8, "error")]
    assert "is inside a .git directory" in problems[0].message


def test_a_symlink_into_git_is_an_error_and_chains_are_followed():
    tree = TreePaths({"g", "a", "b", "c.txt"}, {"g": ".git", "a": "b", "b": "c.txt"})
    text = "# Spec: 001 -- t\n\n## Tasks\n\n### Task 1: x\n\nFiles:\n- MODIFY g/config\n- MODIFY a\n\nVerification:\n- `true`\n"
    _, problems = validate_spec(text, tree=tree)
    linked = [p for p in problems if "symlink" in p.message]
    assert [(p.line, p.severity) for p in linked] == [(8, "error"), (9, "warning")]
    assert "which leads to .git/config" in linked[0].message and "the edit lands in c.txt" in linked[1].message
    assert resolve("a", tree.links) == ("c.txt", "")
    plain = validate_spec(text, tree={"g", "a", "b", "c.txt"})[1]  # a plain set: no links known
    assert not [p for p in plain if "symlink" in p.message]
