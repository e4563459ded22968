"""Claude implements, in the TUI: `c` on the plans screen, Claude's live stream, review, accept.

Real git repositories and real runs. Claude is the stand-in `claude` (tests/support/standin/claude)
replaying a stream in Claude Code's stream-json shape, so screens are deterministic; the e2e
test at the end drives the real `claude` binary against the scripted Anthropic server.
"""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

import pytest
from textual.pilot import Pilot

from hybrid_tui.agents.claude import INSTALL_HINT
from hybrid_tui.agents.registry import make_agent
from hybrid_tui.config import Settings, load_settings
from hybrid_tui.core.run.dispatch import (
    PLAN_PROMPT_PREAMBLE,
    Prepared,
    prepare_plan_run,
)
from hybrid_tui.core.runs import RunStore, Status
from hybrid_tui.ui.app import HybridApp, make_app
from hybrid_tui.ui.dialogs.confirm import ConfirmScreen
from hybrid_tui.ui.plans.screen import PlansScreen
from hybrid_tui.ui.review.checks_panel import ChecksPanel
from hybrid_tui.ui.review.screen import ReviewScreen
from hybrid_tui.ui.run.screen import RunScreen
from tests.support.cli import STANDIN_DIR
from tests.support.e2e import (  # reads where the binary is, at import
    write_config,
    write_file,
)
from tests.support.pilot import (
    FIXED_NOW,
    RUN_ID,
    SIZES,
    header_text,
    log_text,
    open_run,
    run_app,
    until,
    until_ended,
)
from tests.support.processes import process_alive, release
from tests.support.repos import AGENT_STREAMS, git
from tests.support.servers.anthropic import ScriptedAnthropic, text

PLAN = """\
# Add a greeting

## Context
The app needs a greeting file.

## Changes

### 1. `hello.txt`
Create it with a friendly line.

### 2. `src/app.py`
Return 2 instead of 1.
"""

SESSION = "9b0c7c4e-2f61-4c55-8d0e-3f1f2b7a6c11"
CWD = "/home/dev/project"  # as in the recorded streams: the stand-in maps it to its cwd


def _line(kind: str, **fields: object) -> dict:
    return {"type": kind, **fields, "session_id": SESSION}


def _assistant(message_id: str, block: dict) -> dict:
    return _line("assistant", message={"id": message_id, "type": "message", "role": "assistant",
                                       "model": "claude-opus-5-5", "content": [block]},
                 parent_tool_use_id=None)


def _tool_use(call_id: str, name: str, **arguments: object) -> dict:
    return {"type": "tool_use", "id": call_id, "name": name, "input": arguments}


def _result(call_id: str, text: str, *, is_error: bool = False) -> dict:
    return _line("user", message={"role": "user", "content": [
        {"tool_use_id": call_id, "type": "tool_result", "content": text, "is_error": is_error}]})


# Every event kind of Claude's stream, in Claude Code 2.1's shape (AGENT-FACTS.md; compare
# tests/fixtures/agent-streams/claude_*.jsonl): init, a status line, an API retry, thinking,
# text, Write / Edit / Bash calls the stand-in carries out in the worktree, a failing Read,
# the final text and the result line with turns, usage and cost.
CLAUDE_STREAM: list[dict] = [
    _line("system", subtype="init", cwd=CWD, model="claude-opus-5-5", permissionMode="acceptEdits",
          tools=["Bash", "Edit", "Read", "Write"]),
    _line("system", subtype="status", status="compacting"),
    _line("system", subtype="api_retry", attempt=1, max_retries=10, retry_delay_ms=500, error_status=529,
          error="overloaded"),
    _assistant("msg_1", {"type": "thinking", "thinking": "The plan wants hello.txt and main() returning 2.",
                         "signature": "sig"}),
    _assistant("msg_1", {"type": "text", "text": "I'll write the greeting file first."}),
    _assistant("msg_1", _tool_use("toolu_1", "Write", file_path=f"{CWD}/hello.txt", content="hello from Claude\n")),
    _result("toolu_1", f"File created successfully at: {CWD}/hello.txt"),
    _assistant("msg_2", _tool_use("toolu_2", "Edit", file_path=f"{CWD}/src/app.py", old_string="return 1",
                                  new_string="return 2")),
    _result("toolu_2", f"The file {CWD}/src/app.py has been updated successfully."),
    _assistant("msg_3", _tool_use("toolu_3", "Read", file_path=f"{CWD}/docs/usage.md")),
    _result("toolu_3", "File does not exist.", is_error=True),
    _assistant("msg_4", _tool_use("toolu_4", "Bash", command="grep -n return src/app.py",
                                  description="Check main()")),
    _result("toolu_4", "2:    return 2"),
    _assistant("msg_5", {"type": "text", "text": "Created hello.txt and made main() return 2."}),
    _line("result", subtype="success", is_error=False, terminal_reason="completed", num_turns=5,
          total_cost_usd=0.0123, result="Created hello.txt and made main() return 2.",
          usage={"input_tokens": 1200, "cache_creation_input_tokens": 300, "cache_read_input_tokens": 2400,
                 "output_tokens": 350}),
]
TOKENS = 1200 + 300 + 2400 + 350


def write_claude_stream(directory: Path, lines: list[dict] = CLAUDE_STREAM, *, rc: int = 0) -> Path:
    """A stream file for CLAUDE_STANDIN_FIXTURE, with its .rc and .stderr beside it."""
    path = directory / "claude_every_kind.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    path.with_suffix(".rc").write_text(f"{rc}\n")
    path.with_suffix(".stderr").write_text("")
    return path


def use_claude_standin(monkeypatch: pytest.MonkeyPatch, stream: Path, **knobs: str) -> None:
    """The stand-in `claude` first on PATH for the in-process app, replaying `stream`."""
    monkeypatch.setenv("PATH", f"{STANDIN_DIR}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("CLAUDE_STANDIN_FIXTURE", str(stream))
    for key, value in knobs.items():
        monkeypatch.setenv(key, value)


def claude_app(tmp_path: Path, repo: Path, *, settings: Settings | None = None, plan: bool = True,
               ids: list[str] | None = None) -> HybridApp:
    """The real app, deterministic (fixed clock and run ids, no watcher), with PLAN in its
    plans directory when `plan`."""
    settings = settings or Settings()
    settings.agents.claude.timeout = 20  # a stand-in left blocked fails the test, not hangs it
    run_ids = iter(ids or [RUN_ID])
    store = RunStore(settings.resolved_state_dir(), clock=lambda: FIXED_NOW, id_factory=lambda now: next(run_ids))
    plans = tmp_path / "plans"
    plans.mkdir(exist_ok=True)
    if plan:
        (plans / "add-greeting.md").write_text(PLAN)
    return make_app(settings, repo=repo, plans_dir=plans, store=store, clock=lambda: FIXED_NOW,
                    watch_plans=False)


def prepare_claude(app: HybridApp, repo: Path) -> Prepared:
    assert app.context.store is not None
    plan = app.context.plans_dir / "add-greeting.md"
    return prepare_plan_run(app.context.store, repo, PLAN, make_agent("claude", app.context.settings),
                            plan_path=plan)


async def press_c(pilot: Pilot) -> PlansScreen:
    """On the plans screen with the plan listed, press `c`."""
    app = pilot.app
    await until(pilot, lambda: isinstance(app.screen, PlansScreen) and app.screen.listed and app.screen.plans,
                "the plan list")
    plans: PlansScreen = app.screen  # type: ignore[assignment]
    await pilot.press("c")
    return plans


def notifications(app: HybridApp) -> list[str]:
    return [str(n.message) for n in app._notifications]


# -- snapshots -----------------------------------------------------------------------------


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize(
    ("stream", "ending"),
    [
        pytest.param("every_kind", (Status.REVIEW, None, 5, TOKENS, 0.0123), id="finished"),
        # The recorded API error 500: transient, so the footer offers Retry.
        pytest.param("claude_http500", (Status.FAILED, "transient", 1, 0, 0.0), id="api-error"),
    ],
)
def test_snapshot_claude_run(snap_compare, repo: Path, tmp_path: Path, monkeypatch, stream, ending, size) -> None:
    path = write_claude_stream(tmp_path) if stream == "every_kind" else AGENT_STREAMS / f"{stream}.jsonl"
    use_claude_standin(monkeypatch, path)
    app = claude_app(tmp_path, repo)
    prepared = prepare_claude(app, repo)

    async def run_before(pilot: Pilot) -> None:
        screen = await open_run(pilot, prepared)
        await until_ended(pilot, screen)

    assert snap_compare(app, terminal_size=size, run_before=run_before)
    run = prepared.run
    assert (run.status, run.failure_kind, run.turns, run.tokens, run.cost_usd) == ending


# -- behaviour (stand-in) ---------------------------------------------------------------------


def test_c_runs_claude_on_the_plan_itself_live_then_review_and_accept(repo: Path, tmp_path: Path,
                                                                      monkeypatch) -> None:
    fifo = tmp_path / "go.fifo"
    os.mkfifo(fifo)
    log = tmp_path / "standin.log"
    use_claude_standin(monkeypatch, write_claude_stream(tmp_path), CLAUDE_STANDIN_BLOCK_AFTER="7",
                       CLAUDE_STANDIN_FIFO=str(fifo), CLAUDE_STANDIN_LOG=str(log))
    settings = Settings()
    settings.agents.claude.max_turns = 8
    app = claude_app(tmp_path, repo, settings=settings)
    worktree = Path(settings.resolved_state_dir()) / "worktrees" / RUN_ID

    async def body(pilot: Pilot) -> None:
        await press_c(pilot)
        await until(pilot, lambda: isinstance(app.screen, RunScreen), "the run screen")
        screen: RunScreen = app.screen  # type: ignore[assignment]
        await until(pilot, lambda: "File created successfully" in log_text(screen), "the first tool result")
        # Claude is blocked after its first turn: still running, its events already on screen.
        call = json.loads(log.read_text().splitlines()[0])
        assert process_alive(call["pid"]) and not screen.ended
        text = log_text(screen)
        for expected in ("• model claude-opus-5-5, permission mode acceptEdits", "• compacting",
                         "• retrying: attempt 1 of 10 in 0.5 s (HTTP 529 overloaded)",
                         "thinking: The plan wants hello.txt", "I'll write the greeting file first.",
                         "▶ Write  hello.txt", f"  ⎿ File created successfully at: {CWD}/hello.txt"):
            assert expected in text, expected
        header = header_text(screen)
        assert header.startswith("Claude · claude/261101-120000-ab-add-a-greeting")
        assert "turn 1/8 · " in header and "running" in header
        # The plan itself is the prompt, in the run's worktree, with the documented flags.
        argv = call["argv"]
        assert argv[0] == "-p" and argv[1] == PLAN_PROMPT_PREAMBLE + PLAN
        assert argv[2:] == ["--output-format", "stream-json", "--verbose", "--permission-mode", "acceptEdits",
                            "--max-turns", "8"]
        assert Path(call["cwd"]) == worktree

        await asyncio.to_thread(release, fifo)
        await until_ended(pilot, screen)
        run = screen.run
        assert (run.status, run.prompt_source, run.agent) == (Status.REVIEW, "plan", "claude")
        assert (run.turns, run.tokens, run.cost_usd, run.checks) == (5, TOKENS, 0.0123, [])  # the plan names no checks
        header = header_text(screen)
        assert "turn 5/8 · 0:00 · review · 4,250 tokens · $0.0123" in header
        text = log_text(screen)
        for expected in ("▶ Edit  src/app.py", "▶ Read  docs/usage.md", "  ⎿ File does not exist.",
                         "▶ Bash  grep -n return src/app.py", "  ⎿ 2:    return 2",
                         "• 5 turns, 4,250 tokens, $0.0123", "■ review · exit 0: Claude finished after 5 turn(s)"):
            assert expected in text, expected
        assert "running the spec's checks" not in text  # the plan names no checks, so none ran

        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, ReviewScreen) and app.screen.files is not None,
                    "the review")
        review: ReviewScreen = app.screen  # type: ignore[assignment]
        assert [f.path for f in review.files] == ["hello.txt", "src/app.py"]
        # The plan names no checks: the panel says so, and `c` says there is nothing to run.
        assert review.query_one(ChecksPanel).text() == "Checks · the plan names none"
        await pilot.press("c")
        await until(pilot, lambda: "The plan names no checks." in notifications(app), "the notice")
        assert not review.checks_running and not review.query_one(ChecksPanel).output_shown
        await pilot.press("a")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the confirmation")
        await pilot.press("y")
        await until(pilot, lambda: isinstance(app.screen, PlansScreen), "the plans screen again")

    run_app(app, body)
    assert (repo / "hello.txt").read_text() == "hello from Claude\n"
    assert (repo / "src" / "app.py").read_text() == "def main():\n    return 2\n"
    assert git(repo, "log", "-1", "--format=%s") == "Merge claude/261101-120000-ab-add-a-greeting: Add a greeting"
    run = RunStore(Settings().resolved_state_dir()).load(RUN_ID)
    assert run.status == Status.ACCEPTED
    # The run kept the plan as it was and the exact prompt Claude got.
    assert Path(run.spec_path).read_text() == PLAN and Path(run.spec_path).name == "plan.md"
    assert Path(run.prompt_path).read_text() == PLAN_PROMPT_PREAMBLE + PLAN


def test_c_with_claude_not_installed_says_how_to_install_it(repo: Path, tmp_path: Path, state_dir: Path) -> None:
    settings = Settings()
    settings.agents.claude.command = ["claude-not-installed-here"]
    app = claude_app(tmp_path, repo, settings=settings)
    refs_before = git(repo, "for-each-ref")

    async def body(pilot: Pilot) -> None:
        plans = await press_c(pilot)
        await until(pilot, lambda: not plans.starting_claude, "the dispatch to give up")
        assert isinstance(app.screen, PlansScreen)
        assert notifications(app)[-1] == (
            f"agent command 'claude-not-installed-here': not found on PATH\n{INSTALL_HINT}")

    run_app(app, body)
    assert not (state_dir / "runs").exists() and not (state_dir / "worktrees").exists()
    assert git(repo, "for-each-ref") == refs_before


def test_c_outside_a_git_repository_changes_nothing(tmp_path: Path, monkeypatch, state_dir: Path) -> None:
    use_claude_standin(monkeypatch, write_claude_stream(tmp_path))
    not_a_repo = tmp_path / "loose"
    not_a_repo.mkdir()
    app = claude_app(tmp_path, not_a_repo)

    async def body(pilot: Pilot) -> None:
        plans = await press_c(pilot)
        await until(pilot, lambda: not plans.starting_claude, "the dispatch to give up")
        assert isinstance(app.screen, PlansScreen)
        assert "not a git repository" in notifications(app)[-1]

    run_app(app, body)
    assert not (state_dir / "runs").exists()


def test_retry_after_an_api_error_starts_a_new_plan_run(repo: Path, tmp_path: Path, monkeypatch) -> None:
    use_claude_standin(monkeypatch, AGENT_STREAMS / "claude_http500.jsonl")
    app = claude_app(tmp_path, repo, ids=["261101-120000-aa", "261101-120001-bb"])

    async def body(pilot: Pilot) -> None:
        await press_c(pilot)
        await until(pilot, lambda: isinstance(app.screen, RunScreen), "the run screen")
        first: RunScreen = app.screen  # type: ignore[assignment]
        await until_ended(pilot, first)
        assert (first.run.status, first.run.failure_kind) == (Status.FAILED, "transient")
        assert "failed (transient)" in header_text(first) and "0 tokens · $0.0000" in header_text(first)
        assert "• retrying: attempt 1 of 1 in 0.6 s (HTTP 500 server_error)" in log_text(first)
        assert first.check_action("retry", ()) is True

        monkeypatch.setenv("CLAUDE_STANDIN_FIXTURE", str(write_claude_stream(tmp_path)))
        await pilot.press("r")
        await until(pilot, lambda: isinstance(app.screen, RunScreen) and app.screen is not first, "the new run")
        second: RunScreen = app.screen  # type: ignore[assignment]
        await until_ended(pilot, second)
        assert second.run.id == "261101-120001-bb" and second.run.prompt_source == "plan"
        assert second.run.status == Status.REVIEW and second.run.title == first.run.title
        assert Path(second.run.prompt_path).read_text() == Path(first.run.prompt_path).read_text()

    run_app(app, body)


# -- end to end: the real claude -----------------------------------------------------------------


@pytest.mark.e2e
def test_claude_implements_with_the_real_claude(repo: Path, tmp_path: Path, monkeypatch, isolated_env: Path) -> None:
    for name in list(os.environ):  # hermetic: no Anthropic/Claude settings of the machine
        if name.startswith(("ANTHROPIC_", "CLAUDE_CODE_")) or name in ("CLAUDECODE", "IS_SANDBOX"):
            monkeypatch.delenv(name)
    turns = [write_file("hello.txt", "hello from claude\n"), [text("Created hello.txt.")]]
    with ScriptedAnthropic(turns) as server:
        write_config(isolated_env, server)
        app = claude_app(tmp_path, repo, settings=load_settings())

        async def body(pilot: Pilot) -> None:
            await press_c(pilot)
            await until(pilot, lambda: isinstance(app.screen, RunScreen), "the run screen")
            screen: RunScreen = app.screen  # type: ignore[assignment]
            await until(pilot, lambda: "▶ Write  hello.txt" in log_text(screen), "Claude's Write", timeout=60)
            await until_ended(pilot, screen)
            assert screen.run.status == Status.REVIEW, log_text(screen)
            assert "■ review · exit 0: Claude finished after 2 turn(s)" in log_text(screen)
            header = header_text(screen)
            assert "turn 2 · " in header and " tokens · $" in header
            await pilot.press("enter")
            await until(pilot, lambda: isinstance(app.screen, ReviewScreen) and app.screen.files is not None,
                        "the review")
            assert [f.path for f in app.screen.files] == ["hello.txt"]
            await pilot.press("a")
            await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the confirmation")
            await pilot.press("y")
            await until(pilot, lambda: isinstance(app.screen, PlansScreen), "the plans screen again")

        run_app(app, body)

    assert not server.problems and len(server.turn_requests) == 2
    prompt = server.turn_requests[0].all_text()
    assert PLAN_PROMPT_PREAMBLE.strip() in prompt and "### 2. `src/app.py`" in prompt and "# Spec:" not in prompt
    assert (repo / "hello.txt").read_text() == "hello from claude\n"
    assert git(repo, "log", "-1", "--format=%an", "HEAD^2") == "Claude (hybrid-tui)"
