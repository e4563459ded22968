"""Hostile bytes in the TUI: what the app would write to the terminal holds no control
character from outside (DESIGN.md, safety invariant 6; issue 10, point 5).

Each test drives the real app with hostile text where outside text comes in (a project and a
plan file named with ESC, a plan whose title, body, code and link hold escape sequences, an
agent stream full of them, a file the agent created with ESC in its name and content, a check
that prints them, a Claude review that quotes them, a notification), then reads every segment
of the screen as Textual composes it for the terminal (the compositor's full update, the same
strips the driver writes): no segment text, and no link, may hold a C0 control (but none of
tab or newline reach a segment), DEL, a C1 control or a bidi control. Textual's own styles and
cursor moves are not segment text, so only outside text is looked at. The hostile sequences
must show, as text (`\\x1b]0;...`), where there is room.
"""

from __future__ import annotations

import asyncio
import os
import re
from pathlib import Path

import pytest
from textual.app import App
from textual.pilot import Pilot

from hybrid_tui.agents.registry import make_agent
from hybrid_tui.core.run.dispatch import RunExecution
from hybrid_tui.core.runs import ClaudeReview, ReviewPoint, Run, Status
from hybrid_tui.core.verify import check_commands
from hybrid_tui.ui.dialogs.confirm import ConfirmScreen
from hybrid_tui.ui.plans.screen import PlansScreen
from hybrid_tui.ui.review.diff_view import DiffView
from hybrid_tui.ui.review.revise import ReviseScreen
from hybrid_tui.ui.review.screen import ReviewScreen
from hybrid_tui.ui.spec.screen import SpecScreen
from tests.support.pilot import (
    build_app,
    open_run,
    prepare,
    until,
    until_ended,
    use_standin,
)
from tests.support.repos import AGENT_STREAMS, git, make_repo

ESC = "\x1b"
RAW = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
HOSTILE = f"{ESC}]0;PWNED\x07{ESC}[2J\x9b6n\x7f\u202e"

HOSTILE_PLAN = f"""\
# Fix {ESC}]0;PLAN-TITLE\x07 things {ESC}[2J

## Context
A paragraph {HOSTILE} with a [link](https://example.invalid/{ESC}]8;;x{ESC}\\) in it.

```sh
echo {ESC}]0;IN-CODE\x07
```

## Changes

### 1. `hello.txt`
Create it {ESC}[31mred{ESC}[0m.

## Verification
- `test -f hello.txt`
"""

SPEC = f"""\
# Spec: 001 -- Greeting {ESC}]0;SPEC-TITLE\x07

Source: hostile.md
Base: main@0000000

## Context
Context {HOSTILE}.

## Tasks

### Task 1: Greeting {ESC}[2J

Files:
- CREATE hello.txt

Requirements:
- hello.txt holds a friendly line {HOSTILE}.

Verification:
- `python3 -c "print('out', chr(27) + ']0;CHECK-OUT' + chr(7), chr(0x9b) + '2J')"`
- `echo "cmd {ESC}]0;CMD-ROW\x07"`
"""


def drawn(app: App) -> tuple[str, list[str]]:
    """The screen as the terminal would get it: its text (rows joined by newlines), and every
    piece of it (segment text or link) that holds a raw control character."""
    update = app.screen._compositor.render_update(full=True, screen_stack=app._background_screens)
    rows, raw = [], []
    for line in update.strips:
        row = []
        for strip in line:
            for segment in strip:
                row.append(segment.text)
                link = segment.style.link if segment.style is not None else None
                for piece in (segment.text, link or ""):
                    if RAW.search(piece):
                        raw.append(piece)
        rows.append("".join(row))
    return "\n".join(rows), raw


def assert_inert_screen(app: App, *shown: str) -> str:
    text, raw = drawn(app)
    assert not raw, f"raw control characters on {type(app.screen).__name__}: {raw!r}"
    for expected in shown:
        assert expected in text, f"{expected!r} not on screen:\n{text}"
    return text


def run_app(app: App, body, size: tuple[int, int] = (120, 40)) -> None:
    async def main() -> None:
        async with app.run_test(size=size, notifications=True) as pilot:
            await body(pilot)

    asyncio.run(main())


@pytest.fixture
def hostile_repo(tmp_path: Path) -> Path:
    """A project whose directory name holds an escape sequence (the header shows it)."""
    return make_repo(tmp_path / f"pro{ESC}]0;DIR\x07ject", {"README.md": "# demo\n", "src/app.py": "x = 1\n"})


def test_plans_and_spec_screens_draw_hostile_plans_inert(hostile_repo: Path, tmp_path: Path) -> None:
    plans = tmp_path / "plans"
    plans.mkdir()
    (plans / f"evil{ESC}]0;NAME\x07.md").write_text(HOSTILE_PLAN)
    (plans / f"sub{ESC}[2J").mkdir()
    (plans / f"sub{ESC}[2J" / "nested.md").write_text(f"# Nested {ESC}]0;NESTED\x07\n")
    os.utime(plans / f"sub{ESC}[2J" / "nested.md", (1_000_000, 1_000_000))  # older: listed second
    app = build_app(tmp_path, hostile_repo, plans_dir=plans)

    async def body(pilot: Pilot) -> None:
        await until(pilot, lambda: isinstance(pilot.app.screen, PlansScreen), "the plans screen")
        screen: PlansScreen = pilot.app.screen  # type: ignore[assignment]
        await until(pilot, lambda: screen.preview_complete and screen.advised, "the preview and the advice")
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        assert_inert_screen(pilot.app, "pro\\x1b]0;DIR\\x07ject", "Fix \\x1b]0;PLAN-TITLE\\x07 things",
                            "A paragraph \\x1b]0;PWNED\\x07\\x1b[2J\\x9b6n\\x7f\\u202e")
        await pilot.press("j")  # the nested plan, in a folder named with ESC
        await until(pilot, lambda: screen.shown_preview is not None and "nested" in screen.shown_preview.name,
                    "the nested plan")
        await pilot.pause()
        assert_inert_screen(pilot.app, "Nested \\x1b]0;NESTED\\x07")
        await pilot.press("k", "d")  # Delegate: the spec editor, with the converted spec
        await until(pilot, lambda: isinstance(pilot.app.screen, SpecScreen), "the spec screen")
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        assert_inert_screen(pilot.app, "\\x1b]0;PLAN-TITLE\\x07")

    run_app(app, body)


def finished_run(app, repo: Path) -> Run:
    prepared = prepare(app, repo, SPEC)
    agent = make_agent("kimi", app.context.settings)
    execution = RunExecution(app.context.store, prepared.run, agent, timeout=30, on_events=lambda events: None,
                             check_timeout=30, approved_checks=check_commands(prepared.run))
    run = asyncio.run(execution.start())
    assert run.status == Status.REVIEW and run.checks
    return run


def test_run_screen_draws_the_agents_output_inert(repo: Path, tmp_path: Path, monkeypatch) -> None:
    use_standin(monkeypatch, stream=AGENT_STREAMS / "hostile_escapes.jsonl")
    app = build_app(tmp_path, repo)
    prepared = prepare(app, repo, SPEC)

    async def body(pilot: Pilot) -> None:
        screen = await open_run(pilot, prepared)
        await until_ended(pilot, screen)
        assert_inert_screen(pilot.app, "\\x1b]0;PWNED-RAW\\x07", "\\x1b]0;CHECK-OUT\\x07")

    run_app(app, body, size=(160, 60))


def test_review_screen_and_its_dialogs_draw_hostile_names_diffs_checks_and_reviews_inert(
    hostile_repo: Path, tmp_path: Path, monkeypatch
) -> None:
    use_standin(monkeypatch, stream=AGENT_STREAMS / "hostile_escapes.jsonl")
    app = build_app(tmp_path, hostile_repo)
    run = finished_run(app, hostile_repo)
    tip = git(hostile_repo, "rev-parse", run.branch)
    review = ClaudeReview(
        verdict="request_changes", summary=f"Summary {HOSTILE}", reviewed_sha=tip,
        points=[ReviewPoint(file=f"evil{ESC}]0;PWNED-NAME\x07.txt", line=1, problem=f"Point {ESC}]0;POINT\x07")],
    )
    app.context.store.update(run, claude_review=review)
    evil = f"evil{ESC}]0;PWNED-NAME\x07.txt"

    async def body(pilot: Pilot) -> None:
        await until(pilot, lambda: len(pilot.app.screen_stack) >= 2, "the plans screen")
        screen = ReviewScreen(run)
        await pilot.app.push_screen(screen)
        view = screen.query_one(DiffView)
        await until(pilot, lambda: view.model is not None, "the first diff")
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        text = assert_inert_screen(pilot.app, "Summary \\x1b]0;PWNED\\x07", "Point \\x1b]0;POINT\\x07")
        assert "PWNED-NAME" in text  # the file list
        for _ in range(3):  # down the list to the hostile file's diff
            if view.path == evil:
                break
            await pilot.press("j")
            await until(pilot, lambda: view.model is not None, "the diff")
            await pilot.pause()
        assert view.path == evil
        assert_inert_screen(pilot.app, "inside \\x1b]0;PWNED-CONTENT\\x07")
        await pilot.press("o")  # the checks' output
        await pilot.pause()
        assert_inert_screen(pilot.app, "\\x1b]0;CHECK-OUT\\x07", "cmd \\x1b]0;CMD-ROW\\x07")
        await pilot.press("a")  # the accept confirmation names what lands
        await until(pilot, lambda: isinstance(pilot.app.screen, ConfirmScreen), "the confirmation")
        await pilot.pause()
        assert_inert_screen(pilot.app, "in pro\\x1b]0;DIR\\x07ject")
        await pilot.press("n")
        await until(pilot, lambda: pilot.app.screen is screen, "the review again")
        await pilot.press("R")  # the revise note, prefilled with Claude's points
        await until(pilot, lambda: isinstance(pilot.app.screen, ReviseScreen), "the revise note")
        await pilot.pause()
        assert_inert_screen(pilot.app, "Point \\x1b]0;POINT\\x07")

    run_app(app, body, size=(160, 60))


def test_notifications_draw_their_text_inert(repo: Path, tmp_path: Path) -> None:
    app = build_app(tmp_path, repo)

    async def body(pilot: Pilot) -> None:
        await until(pilot, lambda: isinstance(pilot.app.screen, PlansScreen), "the plans screen")
        pilot.app.notify(f"Cannot use plan /x/{ESC}]0;NOTE\x07.md", title=f"Title {ESC}[2J", severity="error")
        await until(pilot, lambda: "NOTE" in drawn(pilot.app)[0], "the notification")
        assert_inert_screen(pilot.app, "\\x1b]0;NOTE\\x07", "Title \\x1b[2J")

    run_app(app, body)
