"""AgentProcess with real subprocesses: the kimi stand-in, python and sh; no mocks."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hybrid_tui.agents.base import Invocation, ProcessOutcome
from hybrid_tui.agents.kimi import KimiAgent
from hybrid_tui.agents.process import (
    MAX_EVENT_LINE,
    AgentMissing,
    AgentProcess,
    LineSplitter,
)
from hybrid_tui.config import KimiSettings
from hybrid_tui.core.errors import InputError
from tests.support.cli import STANDIN_DIR
from tests.support.repos import AGENT_STREAMS, make_repo
from tests.support.streams import GOLDEN, KIMI_FIXTURES, VERDICTS

STANDIN = STANDIN_DIR / "kimi"


def proc_state(pid: int) -> str | None:
    """The process's state letter from /proc (R, S, Z, ...), None when it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return None
    return stat.rsplit(")", 1)[1].split()[0]


def wait_until_dead(pid: int, timeout: float = 10.0) -> None:
    """Bounded polling of the process table until `pid` is gone or a zombie, then assert it."""
    deadline = time.monotonic() + timeout
    while proc_state(pid) not in (None, "Z", "X") and time.monotonic() < deadline:
        time.sleep(0.01)
    state = proc_state(pid)
    if state is None:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
    else:  # reparented to an init that has not reaped it yet: dead all the same
        assert state in ("Z", "X"), f"process {pid} still alive (state {state})"


class Run:
    """One AgentProcess run in tmp_path, collecting every (line, truncated) it delivers."""

    def __init__(self, tmp_path: Path, invocation: Invocation, **kwargs) -> None:
        self.transcript = tmp_path / "run" / "transcript.jsonl"
        self.stderr_log = tmp_path / "run" / "stderr.log"
        kwargs.setdefault("timeout", 30)
        self.process = AgentProcess(
            invocation, transcript=self.transcript, stderr_log=self.stderr_log, **kwargs
        )
        self.lines: list[tuple[str, bool]] = []
        self.started: list[int] = []

    def on_line(self, line: str, truncated: bool) -> None:
        self.lines.append((line, truncated))

    async def run(self, on_line: Callable[[str, bool], None] | None = None) -> ProcessOutcome:
        return await self.process.run(on_line or self.on_line, self.started.append)

    def sync(self) -> ProcessOutcome:
        return asyncio.run(asyncio.wait_for(self.run(), 60))


def standin_invocation(workdir: Path, *, fixture: str = "kimi_success", prompt: str = "go",
                       extra: list[str] | None = None, **knobs: str) -> Invocation:  # fmt: skip
    settings = KimiSettings(
        command=[str(STANDIN)],
        extra_args=extra or [],
        env={"KIMI_STANDIN_FIXTURE": str(AGENT_STREAMS / f"{fixture}.jsonl"), **knobs},
    )
    return KimiAgent(settings).command(workdir, prompt)


# -- the stand-in end to end -------------------------------------------------------------------


@pytest.mark.parametrize("name", KIMI_FIXTURES)
def test_recorded_run_end_to_end_via_path(name, tmp_path, monkeypatch):
    """kimi found on PATH, argv from KimiAgent, events and verdict as recorded."""
    monkeypatch.setenv("PATH", f"{STANDIN.parent}{os.pathsep}{os.environ['PATH']}")
    worktree = make_repo(tmp_path / "wt")
    log = tmp_path / "standin.log"
    agent = KimiAgent(
        KimiSettings(
            env={"KIMI_STANDIN_FIXTURE": str(AGENT_STREAMS / f"{name}.jsonl"),
                 "KIMI_STANDIN_LOG": str(log)}  # fmt: skip
        )
    )
    invocation = agent.command(worktree, "create hello.txt")
    run = Run(tmp_path, invocation)
    parser = agent.parser()
    events = []
    outcome = asyncio.run(run.run(lambda line, _t: events.append(parser.feed(line))))
    parser.feed_stderr(outcome.stderr_tail)

    expected_events, steps, session_id = GOLDEN[name]
    assert events == expected_events
    assert (parser.steps, parser.session_id) == (steps, session_id)
    status, kind, _ = VERDICTS[name]
    verdict = agent.verdict(outcome, parser)
    assert (verdict.status, verdict.failure_kind) == (status, kind)
    assert outcome.returncode == int((AGENT_STREAMS / f"{name}.rc").read_text())
    assert run.transcript.read_bytes() == (AGENT_STREAMS / f"{name}.jsonl").read_bytes()
    assert run.stderr_log.read_bytes() == (AGENT_STREAMS / f"{name}.stderr").read_bytes()
    [logged] = [json.loads(line) for line in log.read_text().splitlines()]
    assert logged["argv"] == invocation.argv[1:]
    assert logged["cwd"] == str(worktree) and logged["stdin"] is None
    assert run.started == [logged["pgid"]]  # the group the agent runs in (its supervisor leads it)
    if name == "kimi_success":
        assert (worktree / "hello.txt").read_text() == "hello from fake model\n"


def test_stdin_prompt_is_delivered(tmp_path):
    log = tmp_path / "standin.log"
    prompt = "# Spec: 001 -- big\n" + "requirement line\n" * 12_000  # ~200 KB
    invocation = standin_invocation(tmp_path, prompt=prompt, KIMI_STANDIN_LOG=str(log))
    assert invocation.stdin is not None
    outcome = Run(tmp_path, invocation).sync()
    assert outcome.returncode == 0
    [logged] = [json.loads(line) for line in log.read_text().splitlines()]
    assert logged["stdin"] == prompt
    assert "-p" not in logged["argv"] and logged["argv"] == invocation.argv[1:]


def test_standin_rejects_what_the_real_cli_rejects(tmp_path):
    bad_flag = Run(tmp_path, standin_invocation(tmp_path, extra=["--bogus"])).sync()
    assert bad_flag.returncode == 2
    assert "Error: No such option: --bogus" in bad_flag.stderr_tail
    no_workdir = Invocation([str(STANDIN), "--print", "-p", "go"], cwd=tmp_path)
    outcome = Run(tmp_path, no_workdir).sync()
    assert outcome.returncode == 2 and "Missing option '-w'" in outcome.stderr_tail


# -- streaming ---------------------------------------------------------------------------------


def test_first_event_arrives_while_the_agent_still_runs(tmp_path):
    fifo = tmp_path / "release"
    os.mkfifo(fifo)
    invocation = standin_invocation(
        tmp_path, KIMI_STANDIN_BLOCK_AFTER="1", KIMI_STANDIN_FIFO=str(fifo)
    )
    run = Run(tmp_path, invocation)

    def release() -> None:
        with open(fifo, "wb") as handle:
            handle.write(b"go\n")

    async def scenario() -> ProcessOutcome:
        first = asyncio.Event()

        def on_line(line: str, truncated: bool) -> None:
            run.on_line(line, truncated)
            first.set()

        task = asyncio.create_task(run.run(on_line))
        await asyncio.wait_for(first.wait(), 15)
        pid = run.process.pid
        assert not task.done()
        assert proc_state(pid) not in (None, "Z", "X")
        assert os.getpgid(pid) == pid  # its own process group
        assert len(run.lines) == 1
        await asyncio.to_thread(release)
        return await asyncio.wait_for(task, 15)

    outcome = asyncio.run(scenario())
    assert outcome.returncode == 0
    assert len(run.lines) == 5


def test_lines_split_across_chunks_crlf_and_final_partial(tmp_path):
    script = (
        "import sys\n"
        "out = sys.stdout.buffer\n"
        "for i in range(30000):\n"
        "    out.write(b'{\"n\": %d, \"pad\": \"%s\"}\\n' % (i, b'y' * (i % 97)))\n"
        "out.write(b'dos line\\r\\n\\n')\n"
        "out.flush()\n"
        "out.write(b'no newline at the end')\n"
    )
    run = Run(tmp_path, Invocation([sys.executable, "-c", script], cwd=tmp_path))
    outcome = run.sync()
    expected = [f'{{"n": {i}, "pad": "{"y" * (i % 97)}"}}' for i in range(30000)]
    expected += ["dos line", "", "no newline at the end"]
    assert [line for line, _ in run.lines] == expected
    assert not any(truncated for _, truncated in run.lines)
    assert outcome.last_lines[-2:] == ["dos line", "no newline at the end"]
    assert len(outcome.last_lines) == 20
    assert run.transcript.read_bytes().endswith(b"dos line\r\n\nno newline at the end")


def test_a_line_over_one_mebibyte_is_whole_in_transcript_and_truncated_in_events(tmp_path):
    size = 2 * 1024 * 1024
    run = Run(tmp_path, standin_invocation(tmp_path, KIMI_STANDIN_EXTRA_LINE_BYTES=str(size)))
    outcome = run.sync()
    assert outcome.returncode == 0
    fixture = (AGENT_STREAMS / "kimi_success.jsonl").read_bytes()
    transcript = run.transcript.read_bytes()
    long_line = transcript[: transcript.index(b"\n")]
    assert len(long_line) == size and long_line.startswith(b'{"role":"assistant"')
    assert transcript == long_line + b"\n" + fixture
    (first, truncated), *rest = run.lines
    assert truncated and first.encode() == long_line[:MAX_EVENT_LINE]
    assert rest == [(line, False) for line in fixture.decode().splitlines()]
    assert all(len(line) <= 2048 for line in outcome.last_lines)


def test_truncation_keeps_whole_utf8_characters(tmp_path):
    script = "import sys; sys.stdout.write('\u00e9' * 100 + '\\n' + '\u00e9' * 20 + '\\n')"
    run = Run(
        tmp_path,
        Invocation([sys.executable, "-c", script], cwd=tmp_path, env={"PYTHONIOENCODING": "utf-8"}),
        max_event_line=51,
    )
    run.sync()
    assert run.lines == [("\u00e9" * 25, True), ("\u00e9" * 20, False)]


# -- ending: timeout, cancel, signals, survivors -----------------------------------------------


def test_timeout_terminates_the_agent(tmp_path):
    run = Run(tmp_path, standin_invocation(tmp_path, KIMI_STANDIN_HANG="1"), timeout=1)
    outcome = run.sync()
    assert outcome.timed_out and not outcome.cancelled
    assert outcome.returncode == -15
    assert len(run.lines) == 5  # everything it printed before hanging was delivered
    verdict = KimiAgent(KimiSettings()).verdict(outcome, KimiAgent(KimiSettings()).parser())
    assert (verdict.status, verdict.failure_kind) == ("timed_out", "timeout")


def test_timeout_escalates_to_sigkill_when_sigterm_is_ignored(tmp_path):
    invocation = standin_invocation(tmp_path, KIMI_STANDIN_HANG="1", KIMI_STANDIN_IGNORE_TERM="1")
    outcome = Run(tmp_path, invocation, timeout=0.5, kill_grace=0.5).sync()
    assert outcome.timed_out and outcome.returncode == -9


def test_cancel_kills_the_whole_process_group(tmp_path):
    pidfile = tmp_path / "grandchild.pid"
    invocation = standin_invocation(
        tmp_path, KIMI_STANDIN_HANG="1", KIMI_STANDIN_GRANDCHILD_PIDFILE=str(pidfile)
    )
    run = Run(tmp_path, invocation, timeout=60)

    async def scenario() -> ProcessOutcome:
        first = asyncio.Event()
        task = asyncio.create_task(run.run(lambda line, t: first.set()))
        await asyncio.wait_for(first.wait(), 15)
        grandchild = int(pidfile.read_text())  # written before the first line
        assert proc_state(grandchild) not in (None, "Z", "X")
        run.process.cancel()
        outcome = await asyncio.wait_for(task, 15)
        wait_until_dead(grandchild)
        wait_until_dead(run.process.pid)
        return outcome

    outcome = asyncio.run(scenario())
    assert outcome.cancelled and not outcome.timed_out
    assert outcome.returncode == -15


def test_cancel_before_start_stops_at_once(tmp_path):
    run = Run(tmp_path, standin_invocation(tmp_path, KIMI_STANDIN_HANG="1"), timeout=60)
    run.process.cancel()
    outcome = run.sync()
    assert outcome.cancelled and outcome.returncode is not None and outcome.returncode < 0


def test_survivors_of_the_group_are_killed_when_the_agent_exits(tmp_path):
    """A background job holding stdout open must neither outlive the run nor hang the reader."""
    pidfile = tmp_path / "grandchild.pid"
    invocation = standin_invocation(tmp_path, KIMI_STANDIN_GRANDCHILD_PIDFILE=str(pidfile))
    outcome = Run(tmp_path, invocation, timeout=60).sync()
    assert outcome.returncode == 0 and not outcome.cancelled and not outcome.timed_out
    wait_until_dead(int(pidfile.read_text()))


def test_caller_cancelling_run_kills_the_agent(tmp_path):
    run = Run(tmp_path, standin_invocation(tmp_path, KIMI_STANDIN_HANG="1"), timeout=60)

    async def scenario() -> None:
        first = asyncio.Event()
        task = asyncio.create_task(run.run(lambda line, t: first.set()))
        await asyncio.wait_for(first.wait(), 15)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(scenario())
    wait_until_dead(run.process.pid)


def test_killed_by_signal_has_negative_returncode(tmp_path):
    run = Run(tmp_path, standin_invocation(tmp_path, KIMI_STANDIN_SIGNAL="9"))
    outcome = run.sync()
    assert outcome.returncode == -9 and not outcome.timed_out and not outcome.cancelled
    agent = KimiAgent(KimiSettings())
    verdict = agent.verdict(outcome, agent.parser())
    assert verdict.failure_kind == "crashed" and "SIGKILL" in verdict.message


# -- starting ----------------------------------------------------------------------------------


def test_missing_executable_is_agent_missing_with_hint(tmp_path):
    agent = KimiAgent(KimiSettings(command=["no-such-kimi-here"]))
    run = Run(tmp_path, agent.command(tmp_path, "go"), install_hint=agent.install_hint)
    with pytest.raises(AgentMissing) as caught:
        run.sync()
    err = caught.value
    assert isinstance(err, InputError) and err.exit_code == 2
    assert err.command == "no-such-kimi-here" and "no-such-kimi-here" in str(err)
    assert "kimi-cli==1.50.0" in str(err)
    assert not run.transcript.exists() and run.started == []


def test_non_executable_file_is_agent_missing(tmp_path):
    script = tmp_path / "kimi"
    script.write_text("#!/bin/sh\necho hi\n")
    script.chmod(0o644)
    run = Run(tmp_path, Invocation([str(script), "--print"], cwd=tmp_path))
    with pytest.raises(AgentMissing) as caught:
        run.sync()
    assert str(script) in str(caught.value) and caught.value.fix



# -- the line splitter over arbitrary chunkings -------------------------------------------------

line_bytes = st.lists(
    st.sampled_from([b"a", b"{", b"\r", b"\xc3\xa9", b"\xe2\x82\xac", b"\xf0\x9f\x98\x80"]),
    max_size=30,
).map(b"".join)


@settings(max_examples=300, deadline=None)
@given(st.lists(line_bytes, max_size=8), st.booleans(), st.data())
def test_splitter_matches_a_plain_split_whatever_the_chunks(lines, final_newline, data):
    limit = 8
    stream = b"\n".join(lines) + (b"\n" if final_newline and lines else b"")
    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=10)))
    got: list[tuple[str, bool]] = []
    splitter = LineSplitter(lambda text, truncated: got.append((text, truncated)), limit)
    for start, end in zip([0, *cuts], [*cuts, len(stream)], strict=True):
        splitter.feed(stream[start:end])
    splitter.finish()

    expected = stream.split(b"\n")
    if expected[-1] == b"":
        expected.pop()
    assert len(got) == len(expected)
    for (text, truncated), raw in zip(got, expected, strict=True):
        raw = raw.removesuffix(b"\r")
        assert truncated == (len(raw) > limit)
        if truncated:  # a prefix of the line, cut on a character boundary
            assert raw.startswith(text.encode()) and limit - 3 <= len(text.encode()) <= limit
        else:
            assert text == raw.decode()
