"""The Run screen: live events from the stand-in kimi, the header, retry, and its snapshot.

Real git repositories, real runs (prepare_run, worktree, branch), the stand-in `kimi` as a real
process replaying a hand-made stream that holds every event kind. The helpers it shares with the
other Textual tests are in tests/support/pilot.py.
"""

from __future__ import annotations

import asyncio
import json
import os
from datetime import timedelta
from pathlib import Path

import pytest
from textual.pilot import Pilot

from hybrid_tui.core.runs import Status
from hybrid_tui.ui.run.screen import RunScreen, format_elapsed
from tests.support.pilot import (
    FIXED_NOW,
    SIZES,
    SPEC,
    build_app,
    every_kind_stream,
    header_text,
    log_text,
    open_run,
    prepare,
    run_app,
    until,
    until_ended,
    use_standin,
)
from tests.support.processes import process_alive, release
from tests.support.repos import git

# Snapshots draw no check: a check's line says how long it took (`✓ passed in 0.0s`), which a
# busy machine can make 0.1s.
SPEC_WITHOUT_CHECKS = SPEC.replace("\nVerification:\n- `test -f hello.txt`\n", "")


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


def test_a_run_that_ends_while_another_screen_is_up_says_so_there_and_rings(repo: Path, tmp_path: Path,
                                                                            monkeypatch) -> None:
    from hybrid_tui.ui.runs.screen import RunsScreen

    fifo = tmp_path / "go.fifo"
    os.mkfifo(fifo)
    use_standin(monkeypatch, stream=every_kind_stream(tmp_path), KIMI_STANDIN_BLOCK_AFTER="2",
                KIMI_STANDIN_FIFO=str(fifo))
    app = build_app(tmp_path, repo)
    app.context.settings.ui.bell = True
    rings: list[bool] = []
    monkeypatch.setattr(app, "bell", lambda: rings.append(True))
    prepared = prepare(app, repo)

    async def body(pilot: Pilot) -> None:
        screen = await open_run(pilot, prepared)
        await pilot.press("f2")  # the runs view, while the agent is blocked
        await until(pilot, lambda: isinstance(pilot.app.screen, RunsScreen), "the runs view")
        await asyncio.to_thread(release, fifo)
        await until_ended(pilot, screen)
        said = [str(n.message) for n in pilot.app._notifications]
        assert f"Run {prepared.run.id} ({prepared.run.title}) ended: review. f2 lists the runs." in said
        assert rings == [True]

    run_app(app, body)


def test_a_run_made_with_a_profile_runs_with_it(repo: Path, tmp_path: Path, monkeypatch) -> None:
    from hybrid_tui.config import ProfileSettings

    log = tmp_path / "standin.log"
    use_standin(monkeypatch, stream=every_kind_stream(tmp_path), KIMI_STANDIN_LOG=str(log))
    app = build_app(tmp_path, repo)
    app.context.settings.profiles = {"swarm": ProfileSettings(config_file="/p/config.swarm.toml", max_steps=7)}
    prepared = prepare(app, repo)
    app.context.store.update(prepared.run, profile_name="swarm")

    async def body(pilot: Pilot) -> None:
        screen = await open_run(pilot, prepared)
        await until_ended(pilot, screen)
        argv = json.loads(log.read_text().splitlines()[0])["argv"]
        assert argv[argv.index("--max-steps-per-turn") + 1] == "7"
        assert argv[argv.index("--config-file") + 1] == "/p/config.swarm.toml"
        assert "/7" in header_text(screen)  # the step budget the header counts against

    run_app(app, body)
