"""Fixtures of the Textual tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from hybrid_tui.core.runs import Run
from hybrid_tui.ui.app import HybridApp
from tests.support.pilot import make_review
from tests.support.runs import ORIGINAL, THREE_CHANGES


@pytest.fixture
def three_hunks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, HybridApp, Run]:
    """numbers.txt (30 lines) with lines 2, 15 and 28 rewritten: three hunks; and a new notes.txt."""
    return make_review(
        tmp_path, monkeypatch, {"numbers.txt": ORIGINAL, "README.md": "# demo\n"},
        [("WriteFile", {"path": "numbers.txt", "content": THREE_CHANGES}),
         ("WriteFile", {"path": "notes.txt", "content": "notes\n"})],
        ["MODIFY numbers.txt", "CREATE notes.txt"],
    )
