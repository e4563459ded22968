"""The tooling the next engineer expects holds: mypy finds no type error in the package and ruff
finds nothing under its small rule set (pyproject.toml: `[tool.mypy]`, `[tool.ruff]`). Both run
from the test extras, so the README's test command checks them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _run(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *argv], cwd=ROOT, capture_output=True, text=True, timeout=600)


def test_mypy_finds_no_type_error_in_the_package():
    done = _run("mypy", "--no-error-summary", "--cache-dir", str(ROOT / ".mypy_cache"))
    assert done.returncode == 0, done.stdout + done.stderr


def test_ruff_finds_nothing_in_the_package_the_tests_and_the_benches():
    done = _run("ruff", "check", "--no-cache", "hybrid_tui", "tests", "bench")
    assert done.returncode == 0, done.stdout + done.stderr
