"""The Kimi Code CLI 2.x as the real 2.1.0 behaves: every recording in
`fixtures/agent-streams/kimicode_*` through the parser and the verdict, the meta lines as words,
the failure mapping, the session index and the supervisor that sweeps up its sessions."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hybrid_tui.agents import kimi_code
from hybrid_tui.agents.base import Invocation, ProcessOutcome
from hybrid_tui.agents.events import Notice, Text, ToolCall, ToolResult
from hybrid_tui.agents.kimi import KimiAgent, KimiParser
from hybrid_tui.agents.process import SUPERVISOR
from hybrid_tui.config import KimiSettings
from tests.support.repos import AGENT_STREAMS

RECORDINGS = sorted(p.stem for p in AGENT_STREAMS.glob("kimicode_*.jsonl"))


def replay(name: str) -> tuple[KimiParser, list, ProcessOutcome]:
    """Feed a recording's stdout through a fresh parser; the outcome as the process saw it."""
    parser = KimiParser()
    events = []
    lines = (AGENT_STREAMS / f"{name}.jsonl").read_text().splitlines()
    for line in lines:
        events += parser.feed(line)
    outcome = ProcessOutcome(
        returncode=int((AGENT_STREAMS / f"{name}.rc").read_text()),
        stderr_tail=(AGENT_STREAMS / f"{name}.stderr").read_text(),
        last_lines=[line for line in lines if line.strip()][-20:],
    )
    return parser, events, outcome


def code_agent() -> KimiAgent:
    return KimiAgent(KimiSettings(flavour="code"))


def test_every_recording_is_there():
    # The recordings of the real 2.1.0 this module is about (new ones join the tests below).
    assert {
        "kimicode_http401", "kimicode_http429", "kimicode_http429_fast", "kimicode_max_steps",
        "kimicode_ok", "kimicode_resume", "kimicode_tool_error", "kimicode_quota",
        "kimicode_quota_midrun", "kimicode_overloaded", "kimicode_connection_refused",
    } <= set(RECORDINGS)  # fmt: skip


def test_quota_recordings_are_quota_and_the_work_before_it_is_kept():
    """The real 2.1.0 against a `kimi`-type provider whose quota ran out: `provider.api_error`
    with a 429 and Moonshot's quota words, no retry."""
    parser, _, outcome = replay("kimicode_quota")
    verdict = code_agent().verdict(outcome, parser)
    assert (verdict.failure_kind, parser.steps, parser.requests) == ("quota", 0, 1)
    assert verdict.message.startswith("provider.api_error: 429 You exceeded your current token quota")
    parser, events, outcome = replay("kimicode_quota_midrun")
    verdict = code_agent().verdict(outcome, parser)
    assert verdict.failure_kind == "quota" and parser.steps >= 1 and parser.requests == parser.steps + 1
    assert any(isinstance(e, ToolCall) and e.name == "Write" for e in events)


@pytest.mark.parametrize(("name", "kind"), [("kimicode_overloaded", "transient"), ("kimicode_connection_refused", "transient")])
def test_overload_and_refused_connections_are_transient(name: str, kind: str):
    parser, _, outcome = replay(name)
    assert code_agent().verdict(outcome, parser).failure_kind == kind


@pytest.mark.parametrize("name", RECORDINGS)
def test_no_recording_shows_raw_json(name: str):
    """Whatever the real CLI printed, nothing reaches the pane or `run --json` as raw JSON."""
    _, events, _ = replay(name)
    assert events, name
    for event in events:
        assert not (isinstance(event, Text) and event.raw), event
        text = getattr(event, "text", "")
        assert '{"role"' not in text and '"type":"' not in text, event


def test_a_successful_run():
    parser, events, outcome = replay("kimicode_ok")
    assert events[0] == Notice("Kimi Code CLI 2.1.0")
    assert [e for e in events if isinstance(e, ToolCall)] == [
        ToolCall("toolu_w1", "Write", {"path": "hello.py", "content": "def greet():\n    return 'hi'\n"}, "hello.py"),
        ToolCall("toolu_b1", "Bash", {"command": "ls"}, "ls"),
    ]
    assert [e.text for e in events if isinstance(e, Text)] == ["Creating hello.py.", "Done: hello.py created."]
    assert parser.session_id == "session_f9d9a468-743a-4918-9e38-a69a3029f4e2"
    assert parser.finished and (parser.steps, parser.requests) == (3, 3)
    verdict = code_agent().verdict(outcome, parser)
    assert (verdict.status, verdict.failure_kind, verdict.message) == ("done", None, "Kimi finished after 3 step(s)")


def test_a_tool_error_is_a_tool_result_and_the_run_goes_on():
    parser, events, outcome = replay("kimicode_tool_error")
    (result,) = [e for e in events if isinstance(e, ToolResult)]
    assert result == ToolResult("toolu_r1", '"missing.py" does not exist.')
    assert code_agent().verdict(outcome, parser).status == "done"


def test_max_steps_is_its_own_failure_with_the_clis_message():
    parser, events, outcome = replay("kimicode_max_steps")
    verdict = code_agent().verdict(outcome, parser)
    assert (verdict.status, verdict.failure_kind) == ("failed", "max_steps")
    assert verdict.message.startswith("loop.max_steps_exceeded: Turn exceeded maxSteps=3.")
    assert "See log" not in verdict.message and "raise agents.kimi.max_steps" in verdict.message
    assert (parser.steps, parser.requests) == (3, 3)  # no request was refused
    assert not parser.finished and parser.session_id is None  # no resume hint on failure


def test_401_is_auth_with_the_login_hint():
    parser, _, outcome = replay("kimicode_http401")
    verdict = code_agent().verdict(outcome, parser)
    assert (verdict.status, verdict.failure_kind) == ("failed", "auth")
    # The provider's JSON body is reduced to its words; the fix says `kimi login`.
    assert verdict.message.startswith("provider.auth_error: 401 api_error: scripted error -- ")
    assert "kimi login" in verdict.message and "See log" not in verdict.message
    assert (parser.steps, parser.requests) == (0, 1)


def test_retries_are_notices_and_requests_not_steps():
    parser, events, outcome = replay("kimicode_http429_fast")
    notices = [e for e in events if isinstance(e, Notice)]
    assert notices == [Notice("Kimi Code CLI 2.1.0"), Notice("retrying 2/2 in 0.5 s: rate limited", "warning")]
    verdict = code_agent().verdict(outcome, parser)
    assert (verdict.status, verdict.failure_kind) == ("failed", "transient")
    assert verdict.message.startswith("provider.rate_limit: 429 rate_limit_error: scripted error -- ")
    # One retried request and the one the run ended on: two requests against the quota, no step.
    assert (parser.steps, parser.retries, parser.requests) == (0, 1, 2)


def test_the_long_retry_recording_counts_every_attempt():
    parser, events, _ = replay("kimicode_http429")
    retries = [e.text for e in events if isinstance(e, Notice) and e.level == "warning"]
    assert retries[0] == "retrying 2/10 in 0.6 s: rate limited"
    assert retries[2] == "retrying 4/10 in 2.2 s: rate limited"
    assert len(retries) == 8 and parser.requests == 8 and parser.steps == 0


def test_resume_from_another_directory_is_an_agent_error_saying_so():
    parser, _, outcome = replay("kimicode_resume")
    verdict = code_agent().verdict(outcome, parser)
    assert verdict.failure_kind == "agent_error"
    assert verdict.message.startswith('Session "session_f9d9a468-743a-4918-9e38-a69a3029f4e2" was created under a different directory.')


@pytest.mark.parametrize(
    ("stderr", "kind"),
    [
        ("error: failed to run prompt: provider.connection_error: Connection error.", "transient"),
        ("error: failed to run prompt: provider.overloaded: 529 overloaded_error: busy", "transient"),
        ("error: failed to run prompt: provider.api_error: 503 upstream down", "transient"),
        ("error: failed to run prompt: provider.api_error: 400 invalid_request_error: bad", "agent_error"),
        (
            "error: failed to run prompt: provider.api_error: 429 You exceeded your current token "
            "quota. Please check your plan and billing details.",
            "quota",
        ),
        ("error: failed to run prompt: provider.rate_limit: 429 slow down", "transient"),
        ("error: failed to run prompt: provider.auth_error: 401 nope", "auth"),
        ("error: failed to run prompt: something odd happened", "agent_error"),
    ],
)
def test_failure_mapping(stderr: str, kind: str):
    outcome = ProcessOutcome(returncode=1, stderr_tail=f"noise\n{stderr}\nSee log: /x/kimi-code.log\n")
    verdict = code_agent().verdict(outcome, KimiParser())
    assert (verdict.status, verdict.failure_kind) == ("failed", kind)
    said = stderr.removeprefix("error: failed to run prompt: ")
    assert verdict.message.startswith(said.split(":")[0]) and "See log" not in verdict.message


def test_quota_says_what_to_do():
    stderr = "error: failed to run prompt: provider.api_error: 429 You exceeded your current token quota\n"
    verdict = code_agent().verdict(ProcessOutcome(returncode=1, stderr_tail=stderr), KimiParser())
    assert verdict.failure_kind == "quota" and "quota is used up" in verdict.message


@pytest.mark.parametrize(
    ("fields", "label"),
    [
        ({"error_name": "APIProviderRateLimitError", "status_code": 429}, "rate limited"),
        ({"error_name": "APIConnectionError"}, "provider unreachable"),
        ({"error_name": "APIProviderOverloadedError", "status_code": 529}, "provider overloaded"),
        ({"error_name": "APIProviderError", "status_code": 502}, "provider error 502"),
        ({"error_name": "APITimeoutError"}, "provider timed out"),
        ({"error_name": "WeirdThingError"}, "weird thing"),
        ({}, "request failed"),
    ],
)
def test_retry_labels(fields: dict, label: str):
    line = {"role": "meta", "type": "turn.step.retrying", "failed_attempt": 2, "next_attempt": 3,
            "max_attempts": 10, "delay_ms": 2200.4, **fields}  # fmt: skip
    assert KimiParser().feed(json.dumps(line)) == [Notice(f"retrying 3/10 in 2.2 s: {label}", "warning")]


def test_unknown_meta_and_hook_lines_read_as_words():
    parser = KimiParser()
    goal = {"role": "meta", "type": "goal.summary", "status": "complete", "turnsUsed": 2, "reason": None}
    assert parser.feed(json.dumps(goal)) == [Notice("goal.summary: status complete, turnsUsed 2")]
    hook = {"role": "assistant", "content": "Stop hook blocked\n\nnot yet"}
    assert parser.feed(json.dumps(hook)) == [Notice("Stop hook blocked: not yet")]
    assert parser.steps == 0  # a hook's output is not a model step


def test_prompt_file_reads_are_counted(tmp_path: Path):
    prompt_file = tmp_path / "r1.prompt" / "prompt.md"
    parser = KimiParser()
    parser.prompt_file = str(prompt_file)
    for offset in (None, 1200, 2400):
        args = {"path": str(prompt_file)} | ({"line_offset": offset} if offset else {})
        call = {"type": "function", "id": f"r{offset}", "function": {"name": "Read", "arguments": json.dumps(args)}}
        parser.feed(json.dumps({"role": "assistant", "tool_calls": [call]}))
    other = {"type": "function", "id": "x", "function": {"name": "Read", "arguments": '{"path": "README.md"}'}}
    parser.feed(json.dumps({"role": "assistant", "tool_calls": [other]}))
    assert (parser.steps, parser.prompt_reads) == (4, 3)


# -- the session index ---------------------------------------------------------------------


def test_a_failed_runs_session_comes_from_the_index(tmp_path: Path):
    home, worktree = tmp_path / "kc-home", tmp_path / "worktrees" / "r1"
    worktree.mkdir(parents=True)
    home.mkdir()
    entries = [
        {"sessionId": "session_old", "sessionDir": "/d/1", "workDir": str(worktree)},
        {"sessionId": "session_other", "sessionDir": "/d/2", "workDir": str(tmp_path / "elsewhere")},
        "not json",
        {"sessionId": "session_new", "sessionDir": "/d/3", "workDir": str(worktree)},
        {"sessionId": "session_last_elsewhere", "sessionDir": "/d/4", "workDir": "/x"},
    ]
    (home / "session_index.jsonl").write_text(
        "\n".join(e if isinstance(e, str) else json.dumps(e) for e in entries) + "\n"
    )
    assert kimi_code.session_for_workdir(home, worktree) == "session_new"
    assert kimi_code.session_for_workdir(home, tmp_path / "nowhere") is None
    assert kimi_code.session_for_workdir(tmp_path / "no-home", worktree) is None
    parser, _, outcome = replay("kimicode_http401")
    outcome.invocation = Invocation(argv=["kimi"], cwd=worktree, env={"KIMI_CODE_HOME": str(home)})
    code_agent().verdict(outcome, parser)
    assert parser.session_id == "session_new"


def test_a_lingering_process_after_the_hint_is_done():
    parser, _, outcome = replay("kimicode_ok")
    outcome.returncode, outcome.lingered = -15, True
    verdict = code_agent().verdict(outcome, parser)
    assert (verdict.status, verdict.failure_kind) == ("done", None)
    assert "was still running 10 s after the run ended and was stopped" in verdict.message
    # Without the hint first, a stopped process is no success.
    outcome.lingered, outcome.timed_out = False, True
    assert code_agent().verdict(outcome, KimiParser()).status == "timed_out"


# -- the supervisor ------------------------------------------------------------------------


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().split(") ", 1)[1][0] != "Z"
    except OSError:
        return False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the subreaper is Linux's")
def test_the_supervisor_stops_what_the_agent_left_in_other_sessions(tmp_path: Path):
    """An agent that starts a helper in a session of its own (as Kimi Code's Bash does) and
    exits: the helper is out of reach of the agent's group, yet it is stopped, and the
    supervisor exits as the agent did."""
    pidfile = tmp_path / "helper.pid"
    agent = (
        "import os, subprocess, sys\n"
        f"p = subprocess.Popen(['sleep', '600'], start_new_session=True)\n"
        f"open({str(pidfile)!r}, 'w').write(str(p.pid))\n"
        "print('agent out', flush=True)\n"
        "sys.exit(3)\n"
    )
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-I", str(SUPERVISOR), "1", "--", sys.executable, "-c", agent],
        capture_output=True, text=True, timeout=30, start_new_session=True,
    )  # fmt: skip
    helper = int(pidfile.read_text())
    assert done.returncode == 3 and done.stdout == "agent out\n"
    assert not _alive(helper)
    assert time.monotonic() - started < 10  # capture_output returned: no pipe left open


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the subreaper is Linux's")
def test_the_supervisor_passes_on_a_signal_death(tmp_path: Path):
    agent = "import os, signal; os.kill(os.getpid(), signal.SIGTERM)"
    done = subprocess.run([sys.executable, "-I", str(SUPERVISOR), "1", "--", sys.executable, "-c", agent], timeout=30)
    assert done.returncode == -signal.SIGTERM
    killed = "import os, signal; os.kill(os.getpid(), signal.SIGKILL)"
    done = subprocess.run([sys.executable, "-I", str(SUPERVISOR), "1", "--", sys.executable, "-c", killed], timeout=30)
    assert done.returncode == -signal.SIGKILL


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the subreaper is Linux's")
def test_the_supervisor_kills_a_helper_that_ignores_sigterm(tmp_path: Path):
    pidfile = tmp_path / "helper.pid"
    helper = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(600)"
    agent = (
        "import subprocess, sys\n"
        f"p = subprocess.Popen([sys.executable, '-c', {helper!r}], start_new_session=True,"
        " stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\n"
        f"open({str(pidfile)!r}, 'w').write(str(p.pid))\n"
    )
    done = subprocess.run(
        [sys.executable, "-I", str(SUPERVISOR), "0.5", "--", sys.executable, "-c", agent], timeout=30
    )
    assert done.returncode == 0 and not _alive(int(pidfile.read_text()))
