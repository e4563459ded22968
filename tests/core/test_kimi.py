"""KimiAgent: golden parses of every recorded kimi stream, verdicts, argv, and robustness."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hybrid_tui.agents.base import MAX_ARGV_PROMPT_BYTES, ProcessOutcome
from hybrid_tui.agents.events import Notice, Text, ToolCall, ToolResult
from hybrid_tui.agents.kimi import (
    KimiAgent,
    KimiParser,
    clear_flavour_cache,
    code_prompt_dir,
    detect_flavour,
)
from hybrid_tui.config import KimiSettings
from tests.support.cli import STANDIN_DIR
from tests.support.repos import AGENT_STREAMS
from tests.support.streams import (
    GOLDEN,
    KIMI_FIXTURES,
    VERDICTS,
    fixture_lines,
    fixture_outcome,
)

LEGACY = KimiSettings(flavour="legacy")


def test_every_kimi_fixture_has_a_golden_parse_and_verdict():
    assert len(KIMI_FIXTURES) >= 10
    assert set(GOLDEN) == set(KIMI_FIXTURES) == set(VERDICTS)


@pytest.mark.parametrize("name", KIMI_FIXTURES)
def test_golden_parse(name):
    expected, steps, session_id = GOLDEN[name]
    parser = KimiAgent(KimiSettings()).parser()
    got = [parser.feed(line) for line in fixture_lines(name)]
    assert got == expected
    assert parser.steps == steps
    assert parser.session_id is None
    parser.feed_stderr((AGENT_STREAMS / f"{name}.stderr").read_text())
    assert parser.session_id == session_id


@pytest.mark.parametrize("name", KIMI_FIXTURES)
def test_verdict_for_recorded_run(name):
    agent = KimiAgent(KimiSettings())
    parser = agent.parser()
    for line in fixture_lines(name):
        parser.feed(line)
    verdict = agent.verdict(fixture_outcome(name), parser)
    status, kind, words = VERDICTS[name]
    assert (verdict.status, verdict.failure_kind) == (status, kind)
    for word in words:
        assert word in verdict.message


@pytest.mark.parametrize(
    ("lines", "stderr", "kind"),
    [
        (["LLM not set"], "", "auth"),
        (["Error code: 401 - {'error': {'message': 'Unauthorized'}}"], "", "auth"),
        (["Error: Invalid API key provided"], "", "auth"),
        (['{"role":"assistant","content":"hi"}'], "Authentication failed\n", "auth"),
        (["Error code: 403 - forbidden"], "", "agent_error"),
        (['{"role":"assistant","content":"401 is a number"}'], "", "agent_error"),
        (["Max number of steps reached: 100"], "", "max_steps"),
    ],
)
def test_verdict_rc1_kinds(lines, stderr, kind):
    agent = KimiAgent(KimiSettings())
    outcome = ProcessOutcome(returncode=1, last_lines=lines, stderr_tail=stderr)
    verdict = agent.verdict(outcome, agent.parser())
    assert (verdict.status, verdict.failure_kind) == ("failed", kind)


def test_verdict_signal_exit_code_cancel_and_timeout():
    agent = KimiAgent(KimiSettings(timeout=42))
    parser = agent.parser()
    killed = agent.verdict(ProcessOutcome(returncode=-9), parser)
    assert (killed.status, killed.failure_kind) == ("failed", "crashed")
    assert "killed by signal SIGKILL" in killed.message
    odd = agent.verdict(ProcessOutcome(returncode=3, last_lines=["Traceback: boom"]), parser)
    assert odd.failure_kind == "crashed"
    assert odd.message == "Kimi exited with code 3 -- Traceback: boom"
    # Cancel and timeout win over the exit code the kill produced.
    cancelled = agent.verdict(ProcessOutcome(returncode=-15, cancelled=True), parser)
    assert (cancelled.status, cancelled.failure_kind) == ("cancelled", "cancelled")
    timed_out = agent.verdict(ProcessOutcome(returncode=-15, timed_out=True), parser)
    assert (timed_out.status, timed_out.failure_kind) == ("timed_out", "timeout")
    assert "42 s" in timed_out.message


def test_verdict_falls_back_to_stderr_without_stdout_text():
    agent = KimiAgent(KimiSettings())
    outcome = ProcessOutcome(
        returncode=75,
        stderr_tail="httpx.ReadTimeout: timed out\n\nTo resume this session: kimi -r abc\n",
    )
    verdict = agent.verdict(outcome, agent.parser())
    assert verdict.failure_kind == "transient"
    assert verdict.message.startswith("httpx.ReadTimeout: timed out -- ")


# -- argv --------------------------------------------------------------------------------------


def test_agent_identity():
    agent = KimiAgent(KimiSettings())
    assert (agent.name, agent.display_name) == ("kimi", "Kimi")
    assert agent.author == "Kimi (hybrid-tui) <kimi@hybrid-tui.invalid>"
    assert "pipx install --python python3.13 kimi-cli==1.50.0" in agent.install_hint
    assert "tombstone" in agent.install_hint


def test_command_short_prompt(tmp_path):
    agent = KimiAgent(LEGACY)
    inv = agent.command(tmp_path, "create hello.txt")
    assert inv.argv == [
        "kimi", "--print", "--output-format", "stream-json", "--yolo", "--thinking",
        "--max-steps-per-turn", "100", "-w", str(tmp_path), "-p", "create hello.txt",
    ]  # fmt: skip
    assert inv.cwd == tmp_path
    assert inv.stdin is None
    assert inv.env == {"COLUMNS": "1000"}


def test_command_with_every_setting(tmp_path):
    settings = KimiSettings(
        command=["/opt/kimi/bin/kimi", "--debug"],
        flavour="legacy",
        thinking=False,
        max_steps=7,
        config_file="/home/u/.kimi/work.toml",
        model="k2",
        extra_args=["--add-dir", "/data"],
        env={"COLUMNS": "200", "KIMI_X": "1"},
    )
    inv = KimiAgent(settings).command(tmp_path, "do it")
    assert inv.argv == [
        "/opt/kimi/bin/kimi", "--debug", "--print", "--output-format", "stream-json", "--yolo",
        "--no-thinking", "--max-steps-per-turn", "7", "-w", str(tmp_path),
        "--config-file", "/home/u/.kimi/work.toml", "-m", "k2", "--add-dir", "/data",
        "-p", "do it",
    ]  # fmt: skip
    assert inv.env == {"COLUMNS": "200", "KIMI_X": "1"}


def test_command_large_prompt_goes_to_stdin(tmp_path):
    agent = KimiAgent(LEGACY)
    prompt = "x" * 200_000
    inv = agent.command(tmp_path, prompt)
    assert "-p" not in inv.argv and prompt not in inv.argv
    assert inv.argv == agent.command(tmp_path, "short").argv[:-2]
    assert inv.stdin == prompt.encode()


def test_prompt_limit_counts_utf8_bytes(tmp_path):
    agent = KimiAgent(LEGACY)
    at_limit = "a" * MAX_ARGV_PROMPT_BYTES
    assert agent.command(tmp_path, at_limit).argv[-1] == at_limit
    assert agent.command(tmp_path, at_limit + "a").stdin is not None
    wide = "\u00e9" * (MAX_ARGV_PROMPT_BYTES // 2 + 1)  # fewer chars than the limit, more bytes
    inv = agent.command(tmp_path, wide)
    assert inv.stdin == wide.encode() and "-p" not in inv.argv


def test_code_flavour_has_no_print_or_yolo(tmp_path):
    inv = KimiAgent(KimiSettings(flavour="code")).command(tmp_path, "go")
    assert inv.argv == ["kimi", "--output-format", "stream-json", "-p", "go"]
    assert inv.cwd == tmp_path
    # The step budget goes by environment (print mode is otherwise unlimited); background
    # tasks end with the turn instead of keeping the CLI alive for extra model turns.
    assert inv.env["KIMI_LOOP_MAX_STEPS_PER_TURN"] == "100"
    assert inv.env["KIMI_CODE_BACKGROUND_PRINT_BACKGROUND_MODE"] == "exit"
    assert "KIMI_CODE_HOME" not in inv.env  # no profile set: the CLI's own default


def test_code_flavour_ignores_the_legacy_only_settings(tmp_path):
    settings = KimiSettings(
        flavour="code", model="k2", thinking=False, max_steps=3,
        config_file="/x/work.toml", extra_args=["--add-dir", "/data"],
    )  # fmt: skip
    inv = KimiAgent(settings).command(tmp_path, "go")
    # No -w: there it means "create another git worktree"; cwd is the run's worktree instead.
    assert inv.argv == [
        "kimi", "--output-format", "stream-json", "-m", "k2", "--add-dir", "/data", "-p", "go",
    ]  # fmt: skip
    assert inv.cwd == tmp_path and inv.stdin is None
    assert inv.env["KIMI_LOOP_MAX_STEPS_PER_TURN"] == "3"


def test_code_flavour_profile_is_a_kimi_code_home(tmp_path, monkeypatch):
    monkeypatch.delenv("KIMI_CODE_HOME", raising=False)
    agent = KimiAgent(KimiSettings(flavour="code", home=str(tmp_path / "swarm")))
    inv = agent.command(tmp_path, "go")
    assert inv.env["KIMI_CODE_HOME"] == str(tmp_path / "swarm")
    assert agent.profile() == str(tmp_path / "swarm")
    # Without one, the profile recorded is where the CLI keeps its data: $KIMI_CODE_HOME, else
    # ~/.kimi-code.
    assert KimiAgent(KimiSettings(flavour="code")).profile() == str(Path.home() / ".kimi-code")
    monkeypatch.setenv("KIMI_CODE_HOME", str(tmp_path / "env-home"))
    assert KimiAgent(KimiSettings(flavour="code")).profile() == str(tmp_path / "env-home")
    # The legacy CLI's profile is its config file.
    assert KimiAgent(KimiSettings(flavour="legacy", config_file="/x/swarm.toml")).profile() == "/x/swarm.toml"


def test_code_flavour_long_prompt_goes_to_a_file_beside_the_worktree(tmp_path):
    worktree = tmp_path / "worktrees" / "r1"
    worktree.mkdir(parents=True)
    prompt = "spec line\n" * 20_000
    inv = KimiAgent(KimiSettings(flavour="code")).command(worktree, prompt)
    folder = code_prompt_dir(worktree)
    assert folder == tmp_path / "worktrees" / "r1.prompt"
    assert (folder / "prompt.md").read_text() == prompt
    assert (folder.stat().st_mode & 0o777, (folder / "prompt.md").stat().st_mode & 0o777) == (0o700, 0o600)
    assert not any(worktree.iterdir())  # nothing in the worktree, so nothing on the branch
    assert inv.stdin is None
    assert inv.argv[:5] == ["kimi", "--output-format", "stream-json", "--add-dir", str(folder)]
    assert inv.argv[5] == "-p" and len(inv.argv) == 7
    assert str(folder / "prompt.md") in inv.argv[6]
    assert len(inv.argv[6].encode()) < 1000


# -- flavour detection -------------------------------------------------------------------------

STANDIN = STANDIN_DIR / "kimi"

SUCCESSOR_HELP = """\
Usage: kimi [options] [command]

Options:
  -V, --version                 output the version number
  -p, --prompt <prompt>         Run a single prompt non-interactively
  --output-format <format>      text | stream-json (only with --prompt)
  -w, --worktree [name]         Create a new git worktree for this session
  --print-config                Print the resolved config (not the print mode flag)
  -h, --help                    display help for command
"""


def fake_cli(path: Path, *, version: str, help_text: str, rc: int = 0) -> Path:
    """A stand-in binary answering --version / --help; logs each call to PATH.log."""
    path.write_text(
        "#!/bin/sh\n"
        f'echo "$@" >> "{path}.log"\n'
        'if [ "$1" = --version ]; then cat <<\'EOF\'\n' + version + "\nEOF\n"
        "else cat <<'EOF'\n" + help_text + "EOF\nfi\n"
        f"exit {rc}\n"
    )
    path.chmod(0o755)
    return path


def calls(path: Path) -> list[str]:
    log = Path(f"{path}.log")
    return log.read_text().splitlines() if log.exists() else []


@pytest.fixture(autouse=True)
def fresh_flavour_cache():
    clear_flavour_cache()
    yield
    clear_flavour_cache()


def test_default_flavour_is_auto():
    assert KimiSettings().flavour == "auto"


def test_the_legacy_standin_is_detected_by_its_version_line():
    assert detect_flavour([str(STANDIN)]) == "legacy"


def test_successor_detected_by_help_without_print(tmp_path):
    succ = fake_cli(tmp_path / "kimi", version="0.25.0", help_text=SUCCESSOR_HELP)
    assert detect_flavour([str(succ)]) == "code"
    assert calls(succ) == ["--version", "--help"]


def test_help_with_print_is_legacy_whatever_the_version_says(tmp_path):
    odd = fake_cli(
        tmp_path / "kimi", version="kimi-cli 2.0.0",
        help_text="Options:\n  --print   Run in print mode (non-interactive).\n",
    )  # fmt: skip
    assert detect_flavour([str(odd)]) == "legacy"


def test_detection_is_cached_per_binary_until_it_changes(tmp_path):
    succ = fake_cli(tmp_path / "kimi", version="0.25.0", help_text=SUCCESSOR_HELP)
    assert detect_flavour([str(succ)]) == "code"
    assert detect_flavour([str(succ)]) == "code"
    assert len(calls(succ)) == 2  # one --version, one --help: the second answer was cached
    # The same path with other extra arguments is another command.
    assert detect_flavour([str(succ), "--debug"]) == "code"
    assert len(calls(succ)) == 4
    # Replaced by the legacy CLI (a new mtime): asked again.
    fake_cli(succ, version="kimi, version 1.50.0", help_text="")
    os.utime(succ, ns=(1, 1))
    assert detect_flavour([str(succ)]) == "legacy"


def test_an_unanswered_probe_is_legacy_and_not_cached(tmp_path):
    path = tmp_path / "kimi"
    assert detect_flavour([str(path)]) == "legacy"  # not installed
    fake_cli(path, version="", help_text="", rc=3)
    assert detect_flavour([str(path)]) == "legacy"  # both probes fail
    fake_cli(path, version="0.25.0", help_text=SUCCESSOR_HELP)
    os.utime(path, ns=(2, 2))
    assert detect_flavour([str(path)]) == "code"  # installed later: noticed


def test_a_hanging_probe_times_out(tmp_path):
    path = tmp_path / "kimi"
    path.write_text("#!/bin/sh\nsleep 30 &\nexec sleep 30\n")  # a grandchild holds the pipe
    path.chmod(0o755)
    started = time.monotonic()
    assert detect_flavour([str(path)], timeout=0.5) == "legacy"
    assert time.monotonic() - started < 10


def test_auto_agent_builds_the_argv_of_what_it_finds(tmp_path):
    succ = fake_cli(tmp_path / "succ", version="0.25.0", help_text=SUCCESSOR_HELP)
    agent = KimiAgent(KimiSettings(command=[str(succ)]))
    assert agent.flavour == "code"
    assert agent.command(tmp_path, "go").argv == [
        str(succ), "--output-format", "stream-json", "-p", "go",
    ]  # fmt: skip
    legacy = KimiAgent(KimiSettings(command=[str(STANDIN)]))
    assert legacy.command(tmp_path, "go").argv[1:3] == ["--print", "--output-format"]
    assert legacy.flavour == "legacy"
    assert len(calls(succ)) == 2  # asked once, however often command() runs


def test_auto_agent_without_a_binary_falls_back_to_legacy(tmp_path):
    agent = KimiAgent(KimiSettings(command=[str(tmp_path / "missing")]))
    assert agent.command(tmp_path, "go").argv[1] == "--print"


# -- Kimi Code CLI stream lines ----------------------------------------------------------------


def test_successor_resume_hint_sets_the_session_id():
    parser = KimiParser()
    hint = {
        "role": "meta", "type": "session.resume_hint", "session_id": "session_01abc",
        "command": "kimi -r session_01abc",
        "content": "To resume this session: kimi -r session_01abc",
    }
    assert parser.feed(json.dumps(hint)) == []
    assert parser.session_id == "session_01abc"
    # No `content` key at all when the step only called tools.
    bash = {"name": "Bash", "arguments": '{"command":"ls"}'}
    step = {"role": "assistant", "tool_calls": [{"type": "function", "id": "t1", "function": bash}]}
    assert parser.feed(json.dumps(step)) == [
        ToolCall("t1", "Bash", {"command": "ls"}, key_arg="ls")
    ]
    assert parser.steps == 1


def test_successor_error_line_is_a_notice_and_the_verdict_message():
    line = json.dumps(
        {"type": "error", "code": "provider.connection", "message": "Connection error.",
         "retryable": True}
    )  # fmt: skip
    assert KimiParser().feed(line) == [Notice("provider.connection: Connection error.", "error")]
    agent = KimiAgent(KimiSettings(flavour="code"))
    # With no `error: failed to run prompt:` line on stderr, the JSON error line is the message.
    verdict = agent.verdict(ProcessOutcome(returncode=1, last_lines=[line]), agent.parser())
    assert verdict.failure_kind == "agent_error"
    assert verdict.message.startswith("provider.connection: Connection error. -- ")


# -- robustness --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "line",
    [
        "{",
        "[1, 2]",
        "null",
        '"just a string"',
        "{}",
        '{"role": "user", "content": "hi"}',
        '{"role": "assistant", "content": 5}',
        '{"role": "assistant", "content": [], "tool_calls": "nope"}',
        '{"role": "tool", "content": {"a": 1}}',
        "\x00\x01 binary \udcff",
        "[" * 100_000 + "]" * 100_000,
        "{" + '"a":' * 50_000,
    ],
)
def test_garbage_is_shown_as_raw_text(line):
    assert KimiParser().feed(line) == [Text(line, raw=True)]


def test_odd_but_recognised_shapes():
    parser = KimiParser()
    calls = [
        {"id": "c1", "function": {"name": "Shell", "arguments": "{not json"}},
        {"id": "c2", "function": {"name": "Grep", "arguments": '{"pattern": "TODO", "path": "src"}'}},
        {"id": "c3", "function": {"name": "SetTodoList", "arguments": '{"todos": [], "title": "plan"}'}},
    ]
    bad_args = json.dumps(
        {"role": "assistant", "content": [7, {"type": "image_url"}], "tool_calls": calls}
    )
    assert parser.feed(bad_args) == [
        ToolCall("c1", "Shell", {"raw": "{not json"}, key_arg="{not json"),
        ToolCall("c2", "Grep", {"pattern": "TODO", "path": "src"}, key_arg="src"),
        ToolCall("c3", "SetTodoList", {"todos": [], "title": "plan"}, key_arg="plan"),
    ]
    assert parser.feed('{"role":"assistant","content":[]}') == [
        Notice("step 2: no text and no tool call")
    ]
    assert parser.steps == 2
    err = json.dumps(
        {
            "role": "tool",
            "content": [
                {"type": "text", "text": "<system>ERROR: Command failed with exit code: 1.</system>"},
                {"type": "text", "text": "boom"},
            ],
            "tool_call_id": "c1",
        }
    )
    assert parser.feed(err) == [
        ToolResult("c1", "<system>ERROR: Command failed with exit code: 1.</system>\nboom", True)
    ]
    note = {"id": "n1", "category": "system", "type": "compaction", "title": "Context compacted",
            "body": "kept 12 messages", "severity": "warning"}  # fmt: skip
    assert parser.feed(json.dumps(note)) == [
        Notice("Context compacted: kept 12 messages", level="warning")
    ]
    assert parser.feed("") == [] and parser.feed("   ") == []


FIXTURE_LINES = [line for name in KIMI_FIXTURES for line in fixture_lines(name) if line]


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_arbitrary_text_never_raises(line):
    events = KimiParser().feed(line)
    if line.strip():
        assert events


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(FIXTURE_LINES), st.data())
def test_truncated_json_is_raw_text(line, data):
    cut = data.draw(st.integers(min_value=1, max_value=len(line) - 1))
    prefix = line[:cut]
    events = KimiParser().feed(prefix)
    if prefix.strip():
        assert events == [Text(prefix, raw=True)]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(
    st.fixed_dictionaries(
        {"role": st.sampled_from(["assistant", "tool", None])},
        optional={
            "content": json_values,
            "tool_calls": json_values,
            "tool_call_id": json_values,
            "title": json_values,
            "type": json_values,
            "severity": json_values,
            "body": json_values,
        },
    )
)
def test_odd_message_shapes_never_raise(message):
    line = json.dumps(message)
    assert KimiParser().feed(line)
