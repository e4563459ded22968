"""The end-to-end tests run the real agents in the sandbox: "auto" (used when bubblewrap works
here), or "required" under HYBRID_TUI_REQUIRE_SANDBOX=1 (CI), where a missing sandbox fails the
runs instead of leaving them unconfined."""

from __future__ import annotations

import os

import pytest


@pytest.fixture(autouse=True)
def sandboxed(isolated_env, monkeypatch: pytest.MonkeyPatch) -> str:
    mode = "required" if os.environ.get("HYBRID_TUI_REQUIRE_SANDBOX") == "1" else "auto"
    monkeypatch.setenv("HYBRID_TUI_SANDBOX", mode)
    return mode
