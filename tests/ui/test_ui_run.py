"""The Run screen: live events from the stand-in kimi, the header, retry, and its snapshot.

Real git repositories, real runs (prepare_run, worktree, branch), the stand-in `kimi` as a real
process replaying a hand-made stream that holds every event kind. Helpers here are shared by
test_ui_review.py and test_ui_flow.py.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from textual.pilot import Pilot

from hybrid_tui.agents.registry import make_agent
from hybrid_tui.config import Settings
from hybrid_tui.core.run.dispatch import Prepared, prepare_run
from hybrid_tui.core.runs import RunStore, Status
from hybrid_tui.ui.app import HybridApp, make_app
from hybrid_tui.ui.run.screen import RunScreen, format_elapsed
from hybrid_tui.ui.widgets.event_log import EventLog
from tests.conftest import git
from tests.helpers import standin_env

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

# Snapshots draw no check: a check's line says how long it took (`✓ passed in 0.0s`), which a
# busy machine can make 0.1s.
SPEC_WITHOUT_CHECKS = SPEC.replace("\nVerification:\n- `test -f hello.txt`\n", "")


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


def release(fifo: Path) -> None:
    """Let a stand-in blocked on KIMI_STANDIN_FIFO go on."""
    with open(fifo, "w") as handle:
        handle.write("go\n")


def process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (exited, not yet reaped) counts as gone.
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().split(") ", 1)[1].startswith("Z"))


# -- snapshot ------------------------------------------------------------------------------


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_snapshot_run_with_every_event_kind(snap_compare, repo: Path, tmp_path: Path, monkeypatch, size) -> None:
    use_standin(monkeypatch, stream=every_kind_stream(tmp_path))
    app = build_app(tmp_path, repo)
    prepared = prepare(app, repo, SPEC_WITHOUT_CHECKS)

    async def run_before(pilot: Pilot) -> None:
        screen = await open_run(pilot, prepared, warnings=["Task 1 names no test file for src/app.py."])
        await until_ended(pilot, screen)

    assert snap_compare(app, terminal_size=size, run_before=run_before)
    assert prepared.run.status == Status.REVIEW


# -- behaviour -----------------------------------------------------------------------------


def test_events_show_live_before_the_agent_exits(repo: Path, tmp_path: Path, monkeypatch) -> None:
    fifo = tmp_path / "go.fifo"
    os.mkfifo(fifo)
    log = tmp_path / "standin.log"
    use_standin(monkeypatch, stream=every_kind_stream(tmp_path), KIMI_STANDIN_BLOCK_AFTER="2",
                KIMI_STANDIN_FIFO=str(fifo), KIMI_STANDIN_LOG=str(log))
    now = [FIXED_NOW]
    app = build_app(tmp_path, repo, clock=lambda: now[0])
    prepared = prepare(app, repo)

    async def body(pilot: Pilot) -> None:
        screen = await open_run(pilot, prepared)
        await until(pilot, lambda: "File successfully overwritten" in log_text(screen), "the first tool result")
        # The agent is blocked on the FIFO: still running, yet its first events are on screen.
        pid = json.loads(log.read_text().splitlines()[0])["pid"]
        assert process_alive(pid)
        assert not screen.ended and prepared.run.status == Status.RUNNING
        text = log_text(screen)
        assert "thinking: The spec wants hello.txt" in text
        assert "▶ WriteFile  hello.txt" in text
        assert "Retrying" not in text  # the third line is not printed yet
        assert "step 1/100" in header_text(screen) and "running" in header_text(screen)
        # Review is not offered yet, cancel is; escape does not leave a running agent.
        assert screen.check_action("review", ()) is False and screen.check_action("cancel_run", ()) is True
        await pilot.press("escape")
        await pilot.press("enter")
        assert pilot.app.screen is screen

        now[0] = FIXED_NOW + timedelta(minutes=1, seconds=5)
        await asyncio.to_thread(release, fifo)
        await until_ended(pilot, screen)
        assert not process_alive(pid)
        assert prepared.run.status == Status.REVIEW
        text = log_text(screen)
        for expected in ("• Retrying step 2: 429 Too Many Requests", "Warning: MCP server 'docs'",
                         "▶ StrReplaceFile  src/app.py", "ERROR: docs/usage.md does not exist",
                         "■ review · exit 0"):
            assert expected in text
        # The spec's check ran after the agent, in the same pane, before the run's end.
        checks = text.index("• The agent finished; running the spec's checks in the worktree.")
        assert text.index("• $ test -f hello.txt") > checks
        assert text.index("• ✓ passed in ") > checks and text.index("■ review") > checks
        assert [(c.command, c.ok) for c in prepared.run.checks] == [("test -f hello.txt", True)]
        header = header_text(screen)
        assert "step 5/100" in header and "review" in header
        assert len(header.splitlines()) == 2  # nothing went wrong: no third line
        # Elapsed comes from the injected clock, and stops when the agent ended.
        assert "· 1:05 ·" in header
        now[0] = FIXED_NOW + timedelta(hours=2)
        screen._refresh_header()
        assert header_text(screen) == header
        assert screen.check_action("review", ()) is True and screen.check_action("cancel_run", ()) is False
        assert screen.check_action("retry", ()) is False
        await pilot.press("enter")
        await until(pilot, lambda: type(pilot.app.screen).__name__ == "ReviewScreen", "the review screen")

    run_app(app, body)
    branch = prepared.run.branch
    assert git(repo, "show", f"{branch}:hello.txt") == "hello from Kimi"
    assert git(repo, "show", f"{branch}:src/app.py") == "def main():\n    return 2"


def test_transient_failure_offers_retry_which_starts_a_new_run(repo: Path, tmp_path: Path, monkeypatch) -> None:
    use_standin(monkeypatch, "kimi_server_down")
    ids = iter(["261101-120000-aa", "261101-120001-bb"])
    app = build_app(tmp_path, repo, id_factory=lambda now: next(ids))
    prepared = prepare(app, repo)

    async def body(pilot: Pilot) -> None:
        screen = await open_run(pilot, prepared)
        await until_ended(pilot, screen)
        first = prepared.run
        assert (first.status, first.failure_kind) == (Status.FAILED, "transient")
        assert "failed (transient)" in header_text(screen)
        # The header says why and what to do, whole (the log's last line is cut to the pane).
        assert header_text(screen).splitlines()[2] == "Connection error. -- the model provider did not answer; retry"
        assert "Connection error." in log_text(screen)
        assert screen.check_action("retry", ()) is True
        assert screen.check_action("review", ()) is True  # a failed run's branch is reviewable

        monkeypatch.setenv("KIMI_STANDIN_FIXTURE", str(every_kind_stream(tmp_path)))
        await pilot.press("r")
        await until(pilot, lambda: isinstance(pilot.app.screen, RunScreen) and pilot.app.screen is not screen,
                    "the new run screen")
        second: RunScreen = pilot.app.screen  # type: ignore[assignment]
        await until_ended(pilot, second)
        assert second.run.id == "261101-120001-bb" and second.run.title == first.title
        assert second.run.status == Status.REVIEW
        assert screen not in pilot.app.screen_stack  # replaced, not stacked
        # Retry is only offered after a transient failure.
        assert second.check_action("retry", ()) is False

    run_app(app, body)
    assert git(repo, "show", f"{prepared.run.branch}:README.md") == "# demo"  # the failed branch is kept


def test_elapsed_format() -> None:
    assert [format_elapsed(s) for s in (0, 59.9, 65, 3600 + 62, -3)] == ["0:00", "0:59", "1:05", "1:01:02", "0:00"]
