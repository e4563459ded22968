"""Fixtures of the core tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.runs import ORIGINAL, THREE_CHANGES, make_run


@pytest.fixture
def three_hunks(tmp_path: Path):
    return make_run(
        tmp_path,
        {"numbers.txt": ORIGINAL, "README.md": "# demo\n"},
        [("WriteFile", {"path": "numbers.txt", "content": THREE_CHANGES})],
        ["MODIFY numbers.txt"],
    )
