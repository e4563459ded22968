"""Claude Code transcripts for tests: the recorded plan-mode session
(`tests/fixtures/claude-transcripts/plan_session.jsonl`) written again as if Claude had planned
`plan` in `cwd`, under `$CLAUDE_CONFIG_DIR/projects/<encoded cwd>/`."""

from __future__ import annotations

import os
from pathlib import Path

from tests.support.repos import FIXTURES

RECORDED = FIXTURES / "claude-transcripts" / "plan_session.jsonl"
RECORDED_PLAN = "/tmp/pt/cfg/plans/make-hello-twinkly-goblet.md"
RECORDED_CWD = "/tmp/pt/project/sub"
RECORDED_SLUG = "make-hello-twinkly-goblet"


def session_text(cwd: Path, plan: Path) -> str:
    """The recorded session's lines with its directory, plan file and slug replaced."""
    text = RECORDED.read_text(encoding="utf-8")
    config = Path(os.environ["CLAUDE_CONFIG_DIR"])
    text = text.replace(RECORDED_PLAN, str(plan)).replace(RECORDED_CWD, str(cwd))
    text = text.replace(RECORDED_SLUG, plan.stem).replace("/tmp/pt/cfg", str(config))
    return text.replace("/tmp/pt/project", str(cwd))


def write_transcript(cwd: Path, plan: Path, session: str = "6955e33e-0000-4000-8000-000000000001") -> Path:
    """A transcript of Claude planning `plan` in `cwd`; its path."""
    folder = Path(os.environ["CLAUDE_CONFIG_DIR"]) / "projects" / str(cwd).replace("/", "-").replace(".", "-")
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{session}.jsonl"
    path.write_text(session_text(cwd, plan), encoding="utf-8")
    return path
