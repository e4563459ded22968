"""The real app driven by Textual's Pilot, deterministic (fixed clock and run id, no plan
watcher): runs prepared for the stand-in kimi, the run screen and its events, the review screen
and its diffs, the check-approval dialog, the Claude review panel.

The stand-in replays hand-made streams; EVERY_KIND_STREAM holds every event kind the pane draws.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from textual.content import Content
from textual.pilot import Pilot
from textual.widgets import OptionList, Static

from hybrid_tui.agents.registry import make_agent
from hybrid_tui.config import Settings
from hybrid_tui.core.run.dispatch import Prepared, RunExecution, prepare_run
from hybrid_tui.core.runs import Run, RunStore, Status
from hybrid_tui.core.verify import check_commands
from hybrid_tui.ui.app import HybridApp, make_app
from hybrid_tui.ui.review.claude_panel import ClaudeReviewPanel
from hybrid_tui.ui.review.diff_view import DiffView
from hybrid_tui.ui.review.screen import ReviewScreen
from hybrid_tui.ui.run.screen import RunScreen
from hybrid_tui.ui.widgets.event_log import EventLog
from tests.support.cli import standin_env
from tests.support.repos import make_repo
from tests.support.runs import agent_stream, spec_file

FIXED_NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
RUN_ID = "261101-120000-ab"
SIZES = [(80, 24), (60, 20)]

SPEC = """\
# Spec: 001 -- Add a greeting

Source: add-greeting.md
Base: main@0000000

## Context
The app needs a greeting file.

## Tasks

### Task 1: Greeting file [INDEPENDENT]

Files:
- CREATE hello.txt
- MODIFY src/app.py

Requirements:
- hello.txt holds a friendly line.
- main() returns 2.

Verification:
- `test -f hello.txt`
"""


def _assistant(content: object, *calls: tuple[str, str, dict]) -> dict:
    line: dict = {"role": "assistant", "content": content}
    if calls:
        line["tool_calls"] = [
            {"type": "function", "id": cid, "function": {"name": name, "arguments": json.dumps(args)}}
            for cid, name, args in calls
        ]
    return line


def _tool(call_id: str, *texts: str) -> dict:
    return {"role": "tool", "content": [{"type": "text", "text": t} for t in texts], "tool_call_id": call_id}


# Every event kind the pane draws, in Kimi's stream-json shape: thinking, text, tool calls with
# their results (one an error), a notice, a non-JSON line. The stand-in carries out the
# WriteFile and StrReplaceFile calls, so the branch gets one new and one modified file.
EVERY_KIND_STREAM: list[dict | str] = [
    _assistant(
        [{"type": "think", "think": "The spec wants hello.txt and main() returning 2.\nWrite first."},
         {"type": "text", "text": "I'll create the greeting file."}],
        ("c1", "WriteFile", {"path": "hello.txt", "content": "hello from Kimi\n"}),
    ),
    _tool("c1", "<system>File successfully overwritten. Current size: 16 bytes.</system>"),
    {"category": "retry", "type": "notice", "title": "Retrying step 2", "body": "429 Too Many Requests",
     "severity": "warning"},
    "Warning: MCP server 'docs' did not start; continuing without it",
    _assistant("", ("c2", "StrReplaceFile", {"path": "src/app.py", "edit": {"old": "return 1", "new": "return 2"}})),
    _tool("c2", "<system>File successfully edited.</system>"),
    _assistant("", ("c3", "ReadFile", {"path": "docs/usage.md"})),
    _tool("c3", "<system>ERROR: docs/usage.md does not exist.</system>"),
    _assistant("", ("c4", "Shell", {"command": "grep -n return src/app.py"})),
    _tool("c4", "<system>Command executed successfully.</system>", "2:    return 2\n"),
    _assistant("Created hello.txt and made main() return 2."),
]


def write_stream(directory: Path, name: str, lines: list[dict | str], *, rc: int = 0, stderr: str = "") -> Path:
    """A stream file for KIMI_STANDIN_FIXTURE, with its .rc and .stderr beside it."""
    path = directory / f"{name}.jsonl"
    path.write_text("".join((line if isinstance(line, str) else json.dumps(line)) + "\n" for line in lines))
    path.with_suffix(".rc").write_text(f"{rc}\n")
    path.with_suffix(".stderr").write_text(stderr)
    return path


def use_standin(monkeypatch: pytest.MonkeyPatch, fixture: str = "kimi_success", stream: Path | None = None,
                **knobs: str) -> None:
    """The stand-in kimi on PATH for the in-process app (replaying `stream` when given)."""
    if stream is not None:
        knobs["KIMI_STANDIN_FIXTURE"] = str(stream)
    for key, value in standin_env(fixture, **knobs).items():
        monkeypatch.setenv(key, value)


def every_kind_stream(tmp_path: Path) -> Path:
    return write_stream(
        tmp_path, "every_kind", EVERY_KIND_STREAM,
        stderr="\nTo resume this session: kimi -r 0c0e6d2a-5f8e-4a44-9b8a-2f7b1a3c9d10\n",
    )


def build_app(tmp_path: Path, repo: Path, *, clock: Callable[[], datetime] = lambda: FIXED_NOW,
              id_factory: Callable[[datetime], str] = lambda now: RUN_ID,
              plans_dir: Path | None = None) -> HybridApp:
    """The real app, deterministic: fixed clock and run id, no plan watcher."""
    settings = Settings()
    settings.agents.kimi.timeout = 20  # a stand-in left blocked fails the test, not hangs it
    store = RunStore(settings.resolved_state_dir(), clock=clock, id_factory=id_factory)
    plans = plans_dir or tmp_path / "no-plans"
    plans.mkdir(exist_ok=True)
    return make_app(settings, repo=repo, plans_dir=plans, store=store, clock=clock, watch_plans=False)


def prepare(app: HybridApp, repo: Path, spec: str = SPEC) -> Prepared:
    assert app.context.store is not None
    return prepare_run(app.context.store, repo, spec, make_agent("kimi", app.context.settings))


async def until(pilot: Pilot, predicate: Callable[[], object], what: str, timeout: float = 15.0) -> None:
    """Let the app work until `predicate()` holds; fail after `timeout` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await pilot.pause(0.01)


async def answer_checks(pilot: Pilot, key: str = "y") -> list[str]:
    """Wait for the check-approval dialog, answer it with `key` (y, s or n); the commands it listed."""
    from hybrid_tui.ui.dialogs.check_approval import CheckApprovalScreen

    await until(pilot, lambda: isinstance(pilot.app.screen, CheckApprovalScreen), "the check approval")
    dialog: CheckApprovalScreen = pilot.app.screen  # type: ignore[assignment]
    commands = list(dialog.commands)
    await pilot.press(key)
    await until(pilot, lambda: pilot.app.screen is not dialog, "the check approval to close")
    return commands


async def open_run(
    pilot: Pilot, prepared: Prepared, warnings: list[str] | None = None, *, approve_checks: bool = True
) -> RunScreen:
    """The run screen as ctrl+r opens it; `approve_checks`: as if the user approved the spec's checks."""
    from hybrid_tui.core.verify import check_commands

    await until(pilot, lambda: len(pilot.app.screen_stack) >= 2, "the plans screen")
    approved = check_commands(prepared.run) if approve_checks else None
    screen = RunScreen(prepared.run, warnings=warnings if warnings is not None else prepared.warnings,
                       approved_checks=approved)
    await pilot.app.push_screen(screen)
    return screen


async def until_ended(pilot: Pilot, screen: RunScreen) -> None:
    await until(pilot, lambda: screen.ended, "the run to end")
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def header_text(screen: RunScreen) -> str:
    return str(screen.query_one("#run-header").render())


def log_text(screen: RunScreen) -> str:
    return "\n".join(screen.query_one(EventLog).text_lines())


def run_app(app: HybridApp, body: Callable[[Pilot], object], size: tuple[int, int] = (80, 24)) -> None:
    async def main() -> None:
        async with app.run_test(size=size) as pilot:
            await body(pilot)  # type: ignore[misc]

    asyncio.run(main())


# -- the review screen ---------------------------------------------------------------------


def finished_run(app: HybridApp, repo: Path, spec: str | None = None, *, check_timeout: float | None = None) -> Run:
    """A run that went all the way (outside the UI): its branch holds the agent's work; with
    `check_timeout`, the spec's checks ran after the agent."""
    prepared = prepare(app, repo) if spec is None else prepare(app, repo, spec)
    agent = make_agent("kimi", app.context.settings)
    assert app.context.store is not None
    approved = check_commands(prepared.run) if check_timeout is not None else None
    execution = RunExecution(app.context.store, prepared.run, agent, timeout=30, on_events=lambda events: None,
                             check_timeout=check_timeout, approved_checks=approved)
    run = asyncio.run(execution.start())
    assert run.status == Status.REVIEW
    return run


async def open_review(pilot: Pilot, run: Run, first: str = "hello.txt") -> ReviewScreen:
    """Push the review, wait for the file list, the first file's diff and every worker."""
    await until(pilot, lambda: len(pilot.app.screen_stack) >= 2, "the plans screen")
    screen = ReviewScreen(run)
    await pilot.app.push_screen(screen)
    await until_diff(pilot, screen, first)
    return screen


async def until_diff(pilot: Pilot, screen: ReviewScreen, path: str) -> None:
    view = screen.query_one(DiffView)
    await until(pilot, lambda: view.path == path and view.model is not None, f"the diff of {path}")
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def make_review(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, files: dict[str, str],
                calls: list[tuple[str, dict]], named: list[str]) -> tuple[Path, HybridApp, Run]:
    """A repository with `files`, and a finished run whose agent made `calls` (fixed run id)."""
    repo = make_repo(tmp_path / "project", files)
    use_standin(monkeypatch, stream=agent_stream(tmp_path, "work", calls))
    app = build_app(tmp_path, repo)
    return repo, app, finished_run(app, repo, spec_file(tmp_path, named, []).read_text())


# -- the Claude review panel ---------------------------------------------------------------


def panel_text(panel: ClaudeReviewPanel) -> tuple[str, str, list[str]]:
    verdict = str(panel.query_one("#claude-verdict", Static).render())
    summary = panel.query_one("#claude-summary", Static)
    options = panel.query_one(OptionList)
    points = [Content.from_markup(str(options.get_option_at_index(i).prompt)).plain for i in range(options.option_count)]
    return verdict, str(summary.render()) if summary.display else "", points
