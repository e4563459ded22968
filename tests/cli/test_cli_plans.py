"""`hybrid-tui plans`: listing, discovery through Claude's settings, advice badges."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from tests.support.cli import run_cli
from tests.support.repos import CORPUS_PLANS


def test_plans_json_lists_newest_first_with_advice(repo: Path, tmp_path: Path):
    plans = tmp_path / "plans"
    plans.mkdir()
    for i, name in enumerate(["01-fix-delete-types.md", "17-lightbox-button-align.md"]):
        shutil.copy(CORPUS_PLANS / name, plans / name)
        os.utime(plans / name, (1_000_000 + i, 1_000_000 + i))
    result = run_cli("plans", "--plans-dir", str(plans), "--json", cwd=repo)
    assert result.returncode == 0, result.stderr
    listed = json.loads(result.stdout)
    assert [p["name"] for p in listed] == ["17-lightbox-button-align.md", "01-fix-delete-types.md"]
    assert listed[1]["title"] == "Fix Delete Types Not Working"
    assert listed[1]["size"] == (plans / "01-fix-delete-types.md").stat().st_size
    assert listed[0]["advice"]["choice"] == "claude" and listed[1]["advice"]["choice"] == "kimi"
    assert listed[1]["advice"]["reason"].startswith("large change")


def test_plans_directory_from_the_project_settings(repo: Path):
    (repo / ".claude").mkdir()
    (repo / ".claude" / "settings.json").write_text(json.dumps({"plansDirectory": "docs/plans"}))
    (repo / "docs" / "plans" / "done").mkdir(parents=True)
    (repo / "docs" / "plans" / "done" / "p.md").write_text("# Nested plan\n")
    result = run_cli("plans", cwd=repo / "src")
    assert result.returncode == 0, result.stderr
    assert "plansDirectory in" in result.stdout and "Nested plan" in result.stdout and "(done/p.md)" in result.stdout


def test_default_plans_directory_is_under_claude_config_dir(repo: Path, isolated_env: Path):
    plans = Path(os.environ["CLAUDE_CONFIG_DIR"]) / "plans"
    plans.mkdir(parents=True)
    (plans / "x.md").write_text("# From Claude\n")
    result = run_cli("plans", "--json", cwd=repo)
    assert [p["title"] for p in json.loads(result.stdout)] == ["From Claude"]


def test_the_example_config_file_is_valid_and_complete():
    """docs/config.example.toml loads to the defaults, and shows every setting there is."""
    import re

    from pydantic import BaseModel

    from hybrid_tui.config import Settings, load_settings

    example = Path(__file__).resolve().parents[2] / "docs" / "config.example.toml"
    assert load_settings(example) == Settings()
    text = example.read_text()

    def leaves(model: type[BaseModel], prefix: str = ""):
        for key, field in model.model_fields.items():
            if isinstance(field.annotation, type) and issubclass(field.annotation, BaseModel):
                yield from leaves(field.annotation, f"{prefix}{key}.")
            else:
                yield prefix, key

    for prefix, key in leaves(Settings):
        assert re.search(rf"^#?\s*{key}\s*=", text, re.M), f"{prefix}{key} is not in the example"


def test_a_plans_dir_from_the_config_file_says_so(repo: Path, tmp_path: Path, isolated_env: Path):
    plans = tmp_path / "configured"
    plans.mkdir()
    (plans / "p.md").write_text("# Configured plan\n")
    (isolated_env / "config.toml").write_text(f'plans_dir = "{plans}"\n')
    result = run_cli("plans", cwd=repo)
    assert result.returncode == 0, result.stderr
    assert "(plans_dir in config.toml)" in result.stdout and "Configured plan" in result.stdout
    flagged = run_cli("plans", "--plans-dir", str(plans), cwd=repo)
    assert "(--plans-dir)" in flagged.stdout


def test_a_plans_directory_outside_the_project_is_ignored_with_a_warning(repo: Path, tmp_path: Path):
    outside = tmp_path / "outside"  # ../outside from the project: Claude Code ignores it too
    outside.mkdir()
    (outside / "secret.md").write_text("# Not a plan of this project\n")
    (repo / ".claude").mkdir()
    (repo / ".claude" / "settings.json").write_text(json.dumps({"plansDirectory": "../outside"}))
    plans = Path(os.environ["CLAUDE_CONFIG_DIR"]) / "plans"
    plans.mkdir(parents=True)
    (plans / "x.md").write_text("# From Claude\n")
    for args in (["plans"], ["plans", "--json"]):
        result = run_cli(*args, cwd=repo)
        assert result.returncode == 0, result.stderr
        assert "From Claude" in result.stdout and "Not a plan" not in result.stdout
        assert result.stderr == (f'hybrid-tui: warning: plansDirectory "../outside" in {repo / ".claude" / "settings.json"} '
                                 "is outside the project: ignored\n")
    assert "($CLAUDE_CONFIG_DIR/plans)" in run_cli("plans", cwd=repo).stdout
