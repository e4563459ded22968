"""DESIGN.md invariant 5: bad input gets a clear message naming the file and the reason, exit 2,
no traceback, and changes nothing (branches, worktrees, the state dir, the checkout)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.support.cli import run_cli, standin_env, world
from tests.support.repos import git

GOOD_PLAN = "# Fine\n\n## Changes\n\n### 1. `hello.txt`\nCreate it.\n"


def bad_plans(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    d = tmp_path / "bad"
    d.mkdir()
    cases = {
        "empty": (b"", "empty"),
        "binary": (b"# T\n\x00\x01\x02", "binary"),
        "non-utf8": (b"# Caf\xe9\n", "UTF-8"),
        "huge": (b"# Big\n" + b"x" * (1024 * 1024 + 1), "1 MiB"),
    }
    out = {}
    for name, (data, reason) in cases.items():
        path = d / f"{name}.md"
        path.write_bytes(data)
        out[name] = (path, reason)
    fifo = d / "fifo.md"
    os.mkfifo(fifo)
    out["fifo"] = (fifo, "not a regular file")
    out["missing"] = (d / "nope.md", "no such file")
    return out


@pytest.mark.parametrize("case", ["empty", "binary", "non-utf8", "huge", "fifo", "missing"])
@pytest.mark.parametrize("command", ["run", "spec"])
def test_bad_plan_files(repo: Path, tmp_path: Path, state_dir: Path, case: str, command: str):
    path, reason = bad_plans(tmp_path)[case]
    before = world(repo, state_dir)
    result = run_cli(command, str(path), cwd=repo, env=standin_env("kimi_success"), timeout=20)
    assert result.returncode == 2, result.stderr
    assert path.name in result.stderr and reason.lower() in result.stderr.lower()
    assert "Traceback" not in result.stderr
    assert world(repo, state_dir) == before


def plan_file(tmp_path: Path) -> Path:
    path = tmp_path / "good.md"
    path.write_text(GOOD_PLAN)
    return path


def test_missing_plans_dir(repo: Path, tmp_path: Path):
    result = run_cli("plans", "--plans-dir", str(tmp_path / "absent"), cwd=repo)
    assert result.returncode == 2
    assert "absent" in result.stderr and "does not exist" in result.stderr


def test_not_a_git_repository(tmp_path: Path, state_dir: Path):
    plain = tmp_path / "plain"
    plain.mkdir()
    result = run_cli("run", str(plan_file(tmp_path)), cwd=plain, env=standin_env("kimi_success"))
    assert result.returncode == 2 and "not a git repository" in result.stderr and str(plain) in result.stderr
    assert not (state_dir / "runs").exists()


def test_repository_without_commits(tmp_path: Path, state_dir: Path):
    empty = tmp_path / "empty"
    empty.mkdir()
    git(empty, "init", "-q")
    result = run_cli("run", str(plan_file(tmp_path)), cwd=empty, env=standin_env("kimi_success"))
    assert result.returncode == 2 and "no commits" in result.stderr
    assert git(empty, "for-each-ref") == "" and not (state_dir / "runs").exists()


def test_detached_head(repo: Path, tmp_path: Path, state_dir: Path):
    git(repo, "checkout", "-q", "--detach")
    before = world(repo, state_dir)
    result = run_cli("run", str(plan_file(tmp_path)), cwd=repo, env=standin_env("kimi_success"))
    assert result.returncode == 2 and "detached" in result.stderr and "git switch" in result.stderr
    assert world(repo, state_dir) == before


def test_kimi_not_on_path_gives_the_install_hint(repo: Path, tmp_path: Path, state_dir: Path):
    before = world(repo, state_dir)
    bare_path = os.pathsep.join(p for p in os.environ["PATH"].split(os.pathsep) if p and not (Path(p) / "kimi").exists())
    result = run_cli("run", str(plan_file(tmp_path)), cwd=repo, env={"PATH": bare_path})
    assert result.returncode == 2
    assert "kimi" in result.stderr and "kimi-cli==1.50.0" in result.stderr
    assert "Traceback" not in result.stderr
    assert world(repo, state_dir) == before


def test_invalid_spec_is_refused_with_line_numbers(repo: Path, tmp_path: Path, state_dir: Path):
    spec = tmp_path / "spec.md"
    spec.write_text(
        "# Spec: 001 -- Escape\n\nSource: x\nBase: main@0000000\n\n## Context\nc\n\n## Tasks\n\n"
        "### Task 1: Out\n\nFiles:\n- MODIFY ../outside.txt\n\nRequirements:\n- r\n\nVerification:\n- `true`\n"
    )
    before = world(repo, state_dir)
    result = run_cli("run", str(spec), cwd=repo, env=standin_env("kimi_success"))
    assert result.returncode == 2
    assert "line 14" in result.stderr and "outside.txt" in result.stderr
    assert world(repo, state_dir) == before
    check = run_cli("check", str(spec), cwd=repo)
    assert check.returncode == 1 and f"{spec}:14: error" in check.stdout


def test_unknown_run_id(repo: Path):
    result = run_cli("accept", "991231-235959-zz", cwd=repo)
    assert result.returncode == 2 and "no such run" in result.stderr
    malformed = run_cli("accept", "nope", cwd=repo)  # not even the form of a run id
    assert malformed.returncode == 2 and "nope: not a run id" in malformed.stderr


def test_bad_usage_exits_2(repo: Path):
    assert run_cli("run", cwd=repo).returncode == 2
    assert run_cli("frobnicate", cwd=repo).returncode == 2


def test_broken_config_file(repo: Path, isolated_env: Path):
    (isolated_env / "config.toml").write_text("[agents.kimi\nmax_steps = 'x'")
    result = run_cli("runs", cwd=repo)
    assert result.returncode == 2 and "config.toml" in result.stderr and "TOML" in result.stderr


def test_garbage_on_the_agent_stdout_is_shown_not_fatal(repo: Path, tmp_path: Path):
    stream = tmp_path / "garbage.jsonl"
    stream.write_bytes(b'{"role": "assistant", "content": "ok"}\nnot json at all\n{"truncated": \n\xff\xfe binary\n[1, 2]\n')
    (tmp_path / "garbage.rc").write_text("0\n")
    (tmp_path / "garbage.stderr").write_text("")
    result = run_cli("run", str(plan_file(tmp_path)), cwd=repo, env=standin_env("kimi_success", KIMI_STANDIN_FIXTURE=str(stream)))
    assert result.returncode == 0, result.stderr
    assert "not json at all" in result.stdout and '{"truncated": ' in result.stdout
