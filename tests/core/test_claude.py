"""ClaudeAgent: golden parses of every recorded claude stream, verdicts, argv, and robustness."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hybrid_tui.agents.base import MAX_ARGV_PROMPT_BYTES, ProcessOutcome
from hybrid_tui.agents.claude import ClaudeAgent, ClaudeParser
from hybrid_tui.agents.events import Notice, Text, Thinking, ToolCall, ToolResult
from hybrid_tui.agents.registry import (
    AGENT_NAMES,
    agent_identity,
    agent_timeout,
    make_agent,
)
from hybrid_tui.config import ClaudeSettings, Settings
from tests.support.repos import AGENT_STREAMS
from tests.support.servers.anthropic import (
    ApiError,
    ScriptedAnthropic,
    text,
    thinking,
    tool_use,
)
from tests.support.streams import fixture_lines, fixture_outcome

# Recorded runs; NAME.hook_pretooluse.jsonl / NAME.stdin.jsonl are not stdout streams.
CLAUDE_FIXTURES = sorted(
    p.stem for p in AGENT_STREAMS.glob("claude_*.jsonl") if "." not in p.stem
)

PROJECT = "/home/dev/project"
PLANS = "/home/dev/.claude/plans"
FRESH = " (file state is current in your context — no need to Read it back)"
PLAN_TEXT = (
    "# Plan: create hello_claude.txt\n\n1. Write hello_claude.txt containing a greeting.\n"
    "2. Verify with ls.\n"
)


def init(mode: str = "acceptEdits") -> Notice:
    return Notice(f"model claude-opus-5-5, permission mode {mode}")


def write(call_id: str, path: str, content: str, key_arg: str) -> ToolCall:
    return ToolCall(call_id, "Write", {"file_path": path, "content": content}, key_arg=key_arg)


def created(call_id: str, path: str) -> ToolResult:
    return ToolResult(call_id, f"File created successfully at: {path}{FRESH}")


def summary(turns: int, tokens: int, cost: str) -> Notice:
    return Notice(f"{turns} turn{'s' if turns != 1 else ''}, {tokens:,} tokens, ${cost}")


def exit_plan(call_id: str, plan: str, plan_file: str | None = None) -> ToolCall:
    arguments = {"plan": plan, **({"planFilePath": plan_file} if plan_file else {})}
    return ToolCall(call_id, "ExitPlanMode", arguments, key_arg=plan)


def approved(plan_file: str, plan: str) -> ToolResult:
    return ToolResult(
        "toolu_exitplan_" + ("1" if "goofy" in plan_file else "2"),
        "User has approved your plan. You can now start coding. Start with updating your todo "
        f"list if applicable\n\nYour plan has been saved to: {plan_file}\nYou can refer back to "
        f"it if needed during implementation.\n\n## Approved Plan:\n{plan}",
    )


HELLO = [
    init(),
    Text("I'll create the file."),
    write("toolu_write_1", f"{PROJECT}/hello_claude.txt", "hello from fake claude\n",
          "hello_claude.txt"),
    created("toolu_write_1", f"{PROJECT}/hello_claude.txt"),
    Text("Created hello_claude.txt."),
    summary(2, 220, "0.0012"),
]
STREAM_CLOSED = ToolResult(
    "toolu_exitplan_1", "Tool permission request failed: AbortError: Stream closed", True
)


def plan_via_file(mode_file: str) -> list:
    path = f"{PLANS}/{mode_file}"
    return [
        init("plan"),
        write("toolu_planwrite_1", path, PLAN_TEXT, path),  # outside the cwd: kept absolute
        created("toolu_planwrite_1", path),
        Text("Here is my plan."),
        exit_plan("toolu_exitplan_1", PLAN_TEXT, path),
    ]


def api_failure(text: str, retry: str | None = None) -> list:
    return [
        init(),
        *([Notice(retry, "warning")] if retry else []),
        Notice(text, "error"),  # the synthetic assistant message; not repeated from the result
        summary(1, 0, "0.0000"),
    ]


HTTP500 = (
    "API Error: 500 scripted error. This is a server-side issue, usually temporary — try again "
    "in a moment. If it persists, check your inference gateway (127.0.0.1:18081)."
)
REFUSED = "API Error: Connection refused — a firewall or proxy may be blocking it (ECONNREFUSED)"
RETRY_DELAYS = ["0.6", "1.2", "2.1", "4.2", "10.0", "16.9", "37.7", "38.7", "32.4"]

# fixture -> (every event of the stream in order, steps, session id, stats)
GOLDEN: dict[str, tuple[list, int, str | None, dict]] = {
    "claude_success": (HELLO, 2, "24a7d995-e130-450e-9009-9a6650c66873", {"turns": 2}),
    "claude_bypass_root_sandbox": (
        [init("bypassPermissions"), *HELLO[1:]], 2, "7aef2c6b-d702-4bed-b1ee-9184c9712485",
        {"turns": 2},
    ),
    "claude_bash_acceptedits": (
        [
            init(),
            ToolCall("toolu_bash_1", "Bash", {"command": "ls", "description": "List files"},
                     key_arg="ls"),
            ToolResult("toolu_bash_1", "(Bash completed with no output)"),
            Text("Listed."),
            summary(2, 220, "0.0012"),
        ],
        2, "c5831eeb-1130-4b7a-a686-11d8079d1061", {"turns": 2},
    ),
    "claude_thinking_partial": (
        [
            init(),
            Thinking("User wants a file; use Write."),
            write("toolu_write_t", f"{PROJECT}/think.txt", "thought\n", "think.txt"),
            created("toolu_write_t", f"{PROJECT}/think.txt"),
            Thinking("Done; summarize."),
            Text("think.txt created."),
            summary(2, 220, "0.0012"),
        ],
        2, "5e75fe9f-2a61-4337-a7ce-e209a893c1a2", {"turns": 2},
    ),
    "claude_max_turns": (
        [
            init(),
            write("toolu_9ce581443d3b42cead1e", f"{PROJECT}/loop.txt", "x\n", "loop.txt"),
            created("toolu_9ce581443d3b42cead1e", f"{PROJECT}/loop.txt"),
            write("toolu_233724ce03f842a5815b", f"{PROJECT}/loop.txt", "x\n", "loop.txt"),
            ToolResult(
                "toolu_233724ce03f842a5815b",
                f"The file {PROJECT}/loop.txt has been updated successfully.{FRESH}",
            ),
            summary(3, 220, "0.0012"),
            Notice("Reached maximum number of turns (2)", "error"),
        ],
        2, "cf3c9742-61c4-4d90-a9bf-a015f4323f67", {"turns": 3},
    ),
    "claude_http400": (
        api_failure("API Error: 400 scripted error"), 0,
        "5b071691-21ca-4ecc-a91a-146daed980c6", {"turns": 1, "cost_usd": 0.0, "tokens": 0},
    ),
    "claude_http500": (
        api_failure(HTTP500, "retrying: attempt 1 of 1 in 0.6 s (HTTP 500 server_error)"), 0,
        "2e58d287-20ff-413c-9d84-142622c2db19", {"turns": 1, "cost_usd": 0.0},
    ),
    "claude_server_down": (
        api_failure(REFUSED, "retrying: attempt 1 of 1 in 0.6 s"), 0,
        "8a0eb170-01df-473e-8e71-c63ac99006a6", {"turns": 1},
    ),
    "claude_server_down_default_retries": (
        [
            init(),
            *[
                Notice(f"retrying: attempt {n} of 10 in {delay} s", "warning")
                for n, delay in enumerate(RETRY_DELAYS, 1)
            ],
        ],
        0, "25c2e254-8ec8-4ab9-b581-ca0b49d245a4", {"turns": None, "cost_usd": None},
    ),
    "claude_bypass_root": ([], 0, None, {"turns": None}),
    "claude_dangerously_root": ([], 0, None, {"turns": None}),
    "claude_plan": (
        [
            init("plan"),
            Text("Here is my plan."),
            exit_plan("toolu_plan_1", PLAN_TEXT),
            ToolResult(
                "toolu_plan_1",
                "<tool_use_error>Error: No such tool available: ExitPlanMode. ExitPlanMode is "
                "disabled for this session, in subagents as well as here.</tool_use_error>",
                True,
            ),
            Text("Plan submitted."),
            summary(2, 220, "0.0012"),
        ],
        2, "28016a68-0110-4c28-9c53-bfeadb21ca72", {"turns": 2},
    ),
    "claude_plan_sdk": (
        [
            *plan_via_file("create-hello-claude-txt-goofy-sundae.md"),
            Notice("permission mode now default"),
            approved(f"{PLANS}/create-hello-claude-txt-goofy-sundae.md", PLAN_TEXT),
            Text("Plan approved; done."),
            summary(3, 330, "0.0018"),
        ],
        3, "6955e33e-9c04-42a6-919a-ee7fa22e9019", {"turns": 3, "cost_usd": 0.0018000000000000002},
    ),
    "claude_plan_sdk_fileonly": (
        [
            init("plan"),
            write("toolu_aed3660b4be14cda9fc6",
                  f"{PLANS}/create-hello-claude-txt-vectorized-pudding.md",
                  "# Plan FROM FILE\n\n- step A\n",
                  f"{PLANS}/create-hello-claude-txt-vectorized-pudding.md"),
            created("toolu_aed3660b4be14cda9fc6",
                    f"{PLANS}/create-hello-claude-txt-vectorized-pudding.md"),
            exit_plan("toolu_exitplan_2", "# Plan FROM FILE\n\n- step A\n",
                      f"{PLANS}/create-hello-claude-txt-vectorized-pudding.md"),
            Notice("permission mode now default"),
            approved(f"{PLANS}/create-hello-claude-txt-vectorized-pudding.md",
                     "# Plan FROM FILE\n\n- step A\n"),
            Text("ok after empty-input ExitPlanMode."),
            summary(3, 330, "0.0018"),
        ],
        3, "13d4fdba-e5bd-4692-9d14-e5797bf9a96d", {"turns": 3},
    ),
    "claude_plan_sdk_inputonly": (
        [
            init("plan"),
            exit_plan("toolu_exitplan_3", "# Plan FROM INPUT ONLY\n\n- step B\n"),
            Notice("permission mode now default"),
            ToolResult("toolu_exitplan_3",
                       "User has approved exiting plan mode. You can now proceed."),
            Text("ok after input-only ExitPlanMode."),
            summary(2, 220, "0.0012"),
        ],
        2, "dfe3d8eb-6a58-45a6-a368-7425f8e2abed", {"turns": 2},
    ),
    "claude_plan_text_hookallow": (
        [
            *plan_via_file("create-hello-claude-txt-moonlit-dewdrop.md"),
            STREAM_CLOSED,
            Text("Plan approved; done."),
            summary(3, 330, "0.0018"),
        ],
        3, "fbb0e3ea-83fb-4d26-bbf8-e402d8aa1f44", {"turns": 3},
    ),
    "claude_plan_text_stdio": (
        [
            *plan_via_file("create-hello-claude-txt-pure-ritchie.md"),
            STREAM_CLOSED,
            Text("Plan approved; done."),
            summary(3, 330, "0.0018"),
        ],
        3, "2204d146-ec93-4b42-97c5-bb66074ef77e", {"turns": 3},
    ),
}

ROOT_FIX = ["cannot be used with root/sudo privileges", 'permission_mode = "acceptEdits"',
            "IS_SANDBOX=1"]  # fmt: skip
# fixture -> (status, failure_kind, words the message must hold)
VERDICTS: dict[str, tuple[str, str | None, list[str]]] = {
    "claude_success": ("done", None, ["2 turn(s)", "$0.0012"]),
    "claude_bypass_root_sandbox": ("done", None, ["2 turn(s)"]),
    "claude_bash_acceptedits": ("done", None, ["2 turn(s)"]),
    "claude_thinking_partial": ("done", None, ["2 turn(s)"]),
    "claude_plan": ("done", None, ["2 turn(s)"]),
    "claude_plan_sdk": ("done", None, ["3 turn(s)", "$0.0018"]),
    "claude_plan_sdk_fileonly": ("done", None, ["3 turn(s)"]),
    "claude_plan_sdk_inputonly": ("done", None, ["2 turn(s)"]),
    "claude_plan_text_hookallow": ("done", None, ["3 turn(s)"]),
    "claude_plan_text_stdio": ("done", None, ["3 turn(s)"]),
    "claude_max_turns": (
        "failed", "max_steps",
        ["Reached maximum number of turns (2)", "agents.claude.max_turns", "on the branch"],
    ),
    # An API failure says subtype "success": is_error and terminal_reason tell the truth.
    "claude_http400": ("failed", "agent_error", ["API Error: 400 scripted error", "transcript"]),
    "claude_http500": ("failed", "transient", ["API Error: 500 scripted error", "retry"]),
    "claude_server_down": ("failed", "transient", ["ECONNREFUSED", "retry"]),
    # Killed by `timeout` (rc 124) while still retrying a dead server: no result line.
    "claude_server_down_default_retries": (
        "failed", "transient", ["code 124", "9 retries", "CLAUDE_CODE_MAX_RETRIES"]
    ),
    # As root, bypassPermissions / --dangerously-skip-permissions: empty stdout, rc 1.
    "claude_bypass_root": ("failed", "agent_error", ROOT_FIX),
    "claude_dangerously_root": ("failed", "agent_error", ROOT_FIX),
}


def parsed(name: str) -> tuple[ClaudeParser, list]:
    parser = ClaudeParser()
    events = [event for line in fixture_lines(name) for event in parser.feed(line)]
    return parser, events


def test_every_claude_fixture_has_a_golden_parse_and_verdict():
    assert len(CLAUDE_FIXTURES) >= 17
    assert set(GOLDEN) == set(CLAUDE_FIXTURES) == set(VERDICTS)


@pytest.mark.parametrize("name", CLAUDE_FIXTURES)
def test_golden_parse(name):
    expected, steps, session_id, stats = GOLDEN[name]
    parser, events = parsed(name)
    assert events == expected
    assert parser.steps == steps
    assert parser.session_id == session_id
    for key, value in stats.items():
        assert parser.stats()[key] == value, key


@pytest.mark.parametrize("name", CLAUDE_FIXTURES)
def test_verdict_for_recorded_run(name):
    agent = ClaudeAgent(ClaudeSettings())
    parser, _ = parsed(name)
    verdict = agent.verdict(fixture_outcome(name), parser)
    status, kind, words = VERDICTS[name]
    assert (verdict.status, verdict.failure_kind) == (status, kind)
    for word in words:
        assert word in verdict.message


def test_result_fields_of_a_success():
    parser, _ = parsed("claude_success")
    assert parser.result is not None and parser.result["terminal_reason"] == "completed"
    assert parser.result_text == "Created hello_claude.txt."
    assert parser.stats() == {
        "turns": 2, "cost_usd": 0.0012000000000000001, "input_tokens": 200,
        "output_tokens": 20, "tokens": 220,
    }  # fmt: skip
    assert parser.cwd == PROJECT and parser.model == "claude-opus-5-5"


def test_api_failure_fields():
    parser, _ = parsed("claude_http500")
    assert parser.api_error == "server_error" and parser.retries == 1
    assert parser.result is not None and parser.result["subtype"] == "success"
    assert parser.result["is_error"] is True


def test_stream_events_and_control_requests_make_no_events():
    parser = ClaudeParser()
    lines = fixture_lines("claude_thinking_partial") + fixture_lines("claude_plan_sdk")
    for line in lines:
        kind = json.loads(line)["type"]
        if kind in ("stream_event", "control_request"):
            assert parser.feed(line) == []
    assert any(json.loads(line)["type"] == "stream_event" for line in lines)
    assert any(json.loads(line)["type"] == "control_request" for line in lines)


# -- verdicts beyond the recordings ------------------------------------------------------------


def result_line(**fields) -> str:
    base = {"type": "result", "subtype": "success", "is_error": True, "num_turns": 1,
            "terminal_reason": "api_error", "total_cost_usd": 0,
            "usage": {"input_tokens": 0, "output_tokens": 0}}  # fmt: skip
    return json.dumps({**base, **fields})


def synthetic(text: str, error: str) -> str:
    return json.dumps({
        "type": "assistant", "error": error, "is_api_error_message": True,
        "message": {"id": "x", "model": "<synthetic>", "role": "assistant",
                    "content": [{"type": "text", "text": text}]},
    })  # fmt: skip


def verdict_of(lines: list[str], rc: int | None, stderr: str = "", **outcome):
    agent = ClaudeAgent(ClaudeSettings(timeout=42))
    parser = agent.parser()
    for line in lines:
        parser.feed(line)
    return agent.verdict(
        ProcessOutcome(returncode=rc, stderr_tail=stderr, last_lines=lines[-20:], **outcome),
        parser,
    )


@pytest.mark.parametrize(
    ("lines", "kind"),
    [
        # Recorded with 2.1.332 against the scripted server (tests/support/servers/anthropic.py).
        ([synthetic("Invalid API key · Fix external API key", "authentication_failed"),
          result_line(result="Invalid API key · Fix external API key",
                      api_error_status=401, api_error_type="authentication_error")], "auth"),
        ([synthetic("Failed to authenticate. API Error: 401 invalid", "authentication_failed"),
          result_line(result="Failed to authenticate. API Error: 401 invalid",
                      api_error_status=401, api_error_type="authentication_error")], "auth"),
        ([synthetic("Not logged in · Please run /login", "authentication_failed"),
          result_line(result="Not logged in · Please run /login")], "auth"),
        ([result_line(result="Invalid API key · Fix external API key")], "auth"),  # text alone
        ([synthetic("API Error: Request rejected (429) · rate", "rate_limit"),
          result_line(result="API Error: Request rejected (429) · rate", api_error_status=429,
                      api_error_type="rate_limit_error")], "transient"),
        ([result_line(result="API Error: 529 Overloaded.", api_error_status=529,
                      api_error_type="overloaded_error")], "transient"),
        ([result_line(result="API Error: Request timed out.")], "transient"),
        ([result_line(result="API Error: 413 request too large", api_error_status=413,
                      api_error_type="request_too_large")], "agent_error"),
        ([result_line(result="API Error: 403 forbidden", api_error_status=403,
                      api_error_type="permission_error")], "agent_error"),
        ([result_line(subtype="error_during_execution", is_error=True,
                      terminal_reason="aborted", errors=["boom"])], "agent_error"),
        ([result_line(subtype="error_max_turns", terminal_reason="max_turns",
                      errors=["Reached maximum number of turns (5)"])], "max_steps"),
    ],
)  # fmt: skip
def test_verdict_kinds(lines, kind):
    verdict = verdict_of(lines, 1)
    assert (verdict.status, verdict.failure_kind) == ("failed", kind)


def test_api_error_is_never_success_whatever_the_exit_code():
    # subtype "success" with is_error true: failed even if the process exited 0.
    line = result_line(result="API Error: 500 boom", api_error_status=500)
    assert verdict_of([line], 0).status == "failed"
    # A clean result with a non-zero exit code is not success either.
    clean = result_line(is_error=False, terminal_reason="completed", result="done")
    assert (verdict_of([clean], 0).status, verdict_of([clean], 0).failure_kind) == ("done", None)
    odd = verdict_of([clean], 1)
    assert (odd.status, odd.failure_kind) == ("failed", "agent_error")
    assert "exited with code 1" in odd.message


def test_verdict_without_a_result_line():
    init_line = fixture_lines("claude_success")[0]
    quiet = verdict_of([init_line], 0)
    assert (quiet.status, quiet.failure_kind) == ("failed", "agent_error")
    assert "without a result line" in quiet.message
    killed = verdict_of([init_line], -9)
    assert (killed.status, killed.failure_kind) == ("failed", "crashed")
    assert "killed by signal SIGKILL" in killed.message
    odd = verdict_of([init_line, "Segmentation fault"], 139)
    assert odd.failure_kind == "crashed"
    assert odd.message == "Claude exited with code 139 -- Segmentation fault"
    usage = verdict_of([], 1, "error: option '--permission-mode <mode>' argument 'x' is invalid.\n")
    assert usage.failure_kind == "agent_error" and "is invalid" in usage.message
    auth = verdict_of([], 1, "Invalid API key · Please run /login\n")
    assert auth.failure_kind == "auth"


def test_verdict_cancel_and_timeout_win():
    clean = result_line(is_error=False, terminal_reason="completed", result="done")
    cancelled = verdict_of([clean], -15, cancelled=True)
    assert (cancelled.status, cancelled.failure_kind) == ("cancelled", "cancelled")
    timed_out = verdict_of([], -15, timed_out=True)
    assert (timed_out.status, timed_out.failure_kind) == ("timed_out", "timeout")
    assert "42 s" in timed_out.message and "agents.claude.timeout" in timed_out.message


# -- argv --------------------------------------------------------------------------------------


def test_agent_identity_and_registry():
    agent = ClaudeAgent(ClaudeSettings())
    assert (agent.name, agent.display_name) == ("claude", "Claude")
    assert agent.author == "Claude (hybrid-tui) <claude@hybrid-tui.invalid>"
    assert "npm install -g @anthropic-ai/claude-code" in agent.install_hint
    assert "claude" in AGENT_NAMES
    made = make_agent("claude", Settings())
    assert isinstance(made, ClaudeAgent)
    assert agent_timeout("claude", Settings()) == 600.0
    assert agent_identity("claude") == ("Claude", "Claude (hybrid-tui) <claude@hybrid-tui.invalid>")


def test_command_short_prompt(tmp_path):
    inv = ClaudeAgent(ClaudeSettings()).command(tmp_path, "create hello.txt")
    assert inv.argv == [
        "claude", "-p", "create hello.txt", "--output-format", "stream-json", "--verbose",
        "--permission-mode", "acceptEdits",
    ]  # fmt: skip
    assert inv.cwd == tmp_path
    assert inv.stdin is None
    assert inv.env == {}


def test_command_with_every_setting(tmp_path):
    settings = ClaudeSettings(
        command=["/opt/claude/bin/claude", "--debug"],
        model="claude-sonnet-4-5",
        max_turns=7,
        permission_mode="bypassPermissions",
        extra_args=["--add-dir", "/data"],
        env={"IS_SANDBOX": "1", "CLAUDE_CODE_MAX_RETRIES": "1"},
    )
    inv = ClaudeAgent(settings).command(tmp_path, "do it")
    assert inv.argv == [
        "/opt/claude/bin/claude", "--debug", "-p", "do it", "--output-format", "stream-json",
        "--verbose", "--permission-mode", "bypassPermissions", "--model", "claude-sonnet-4-5",
        "--max-turns", "7", "--add-dir", "/data",
    ]  # fmt: skip
    assert inv.env == {"IS_SANDBOX": "1", "CLAUDE_CODE_MAX_RETRIES": "1"}
    assert inv.env is not settings.env


def test_command_large_prompt_goes_to_stdin(tmp_path):
    agent = ClaudeAgent(ClaudeSettings(max_turns=3))
    prompt = "x" * 200_000
    inv = agent.command(tmp_path, prompt)
    assert prompt not in inv.argv
    short = agent.command(tmp_path, "short").argv
    assert inv.argv == short[:2] + short[3:]  # `-p` stays: it means print mode, not "prompt"
    assert inv.stdin == prompt.encode()


def test_prompt_limit_counts_utf8_bytes(tmp_path):
    agent = ClaudeAgent(ClaudeSettings())
    at_limit = "a" * MAX_ARGV_PROMPT_BYTES
    assert agent.command(tmp_path, at_limit).argv[2] == at_limit
    assert agent.command(tmp_path, at_limit + "a").stdin is not None
    wide = "\u00e9" * (MAX_ARGV_PROMPT_BYTES // 2 + 1)  # fewer chars than the limit, more bytes
    inv = agent.command(tmp_path, wide)
    assert inv.stdin == wide.encode() and wide not in inv.argv


# -- robustness --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "line",
    [
        "{",
        "[1, 2]",
        "null",
        '"just a string"',
        "Error: something broke",
        '{"type": "assistant", "message": "not an object"}',
        '{"type": "assistant", "message": {"content": "a string"}}',
        '{"type": "user", "message": {"content": 5}}',
        '{"type": "user"}',
        "\x00\x01 binary \udcff",
        "[" * 100_000 + "]" * 100_000,
        "{" + '"a":' * 50_000,
    ],
)
def test_garbage_is_shown_as_raw_text(line):
    assert ClaudeParser().feed(line) == [Text(line, raw=True)]


@pytest.mark.parametrize(
    "line",
    [
        "{}",
        '{"type": "stream_event", "event": {}}',
        '{"type": "rate_limit_event"}',
        '{"type": "system", "subtype": "thinking_tokens", "estimated_tokens": 8}',
        '{"type": "system", "subtype": "status", "status": "requesting"}',
        '{"type": "user", "message": {"content": "a replayed prompt"}}',
        "",
        "   ",
    ],
)
def test_unknown_or_quiet_lines_are_skipped(line):
    assert ClaudeParser().feed(line) == []


def test_key_args_and_relative_paths():
    parser = ClaudeParser()
    parser.feed(json.dumps({"type": "system", "subtype": "init", "cwd": "/w/run",
                            "session_id": "s1", "model": "m", "permissionMode": "plan"}))  # fmt: skip

    def key(name: str, arguments: dict) -> str:
        line = json.dumps({"type": "assistant", "message": {"id": f"m-{name}", "content": [
            {"type": "tool_use", "id": "t", "name": name, "input": arguments}]}})  # fmt: skip
        (event,) = parser.feed(line)
        assert isinstance(event, ToolCall)
        return event.key_arg

    assert key("Edit", {"file_path": "/w/run/src/a.py", "old_string": "x"}) == "src/a.py"
    assert key("Read", {"file_path": "/w/run2/a.py"}) == "/w/run2/a.py"  # a sibling, not inside
    assert key("Glob", {"pattern": "**/*.py", "path": "/w/run"}) == "**/*.py"
    assert key("Grep", {"path": "/w/run"}) == "."
    assert key("NotebookEdit", {"notebook_path": "/w/run/n.ipynb"}) == "n.ipynb"
    assert key("WebFetch", {"url": "https://example.invalid", "prompt": "p"}) == "https://example.invalid"
    assert key("TodoWrite", {"todos": [{"content": "a"}]}) == ""
    assert key("Task", {"description": "explore", "prompt": "look"}) == "explore"
    assert parser.steps == 8
    # Two blocks of one message are one step; a line with several blocks gives several events.
    two = json.dumps({"type": "assistant", "message": {"id": "m-two", "content": [
        {"type": "thinking", "thinking": "hmm"}, {"type": "text", "text": "hi"}, 7,
        {"type": "text", "text": ""}]}})  # fmt: skip
    assert parser.feed(two) == [Thinking("hmm"), Text("hi")]
    assert parser.feed(two) == [Thinking("hmm"), Text("hi")]
    assert parser.steps == 9


def test_tool_result_shapes():
    line = json.dumps({"type": "user", "message": {"content": [
        {"type": "tool_result", "tool_use_id": "t1", "is_error": True,
         "content": [{"type": "text", "text": "one"}, {"type": "image"}, {"type": "text", "text": "two"}]},
        {"type": "tool_result", "tool_use_id": "t2"},
        {"type": "text", "text": "not a result"},
    ]}})  # fmt: skip
    assert ClaudeParser().feed(line) == [ToolResult("t1", "one\ntwo", True), ToolResult("t2", "")]


FIXTURE_LINES = [line for name in CLAUDE_FIXTURES for line in fixture_lines(name) if line]


def _is_json_object(line: str) -> bool:
    try:
        return isinstance(json.loads(line), dict)
    except (ValueError, RecursionError):
        return False


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_arbitrary_text_never_raises_and_loses_no_line(line):
    events = ClaudeParser().feed(line)
    if line.strip() and not _is_json_object(line):
        assert events == [Text(line, raw=True)]


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(FIXTURE_LINES), st.data())
def test_truncated_json_is_raw_text(line, data):
    cut = data.draw(st.integers(min_value=1, max_value=len(line) - 1))
    prefix = line[:cut]
    events = ClaudeParser().feed(prefix)
    if prefix.strip():
        assert events == [Text(prefix, raw=True)]


@settings(max_examples=20, deadline=None)
@given(st.integers(min_value=100_000, max_value=2_000_000), st.sampled_from("x{[\"é"))
def test_huge_lines(size, char):
    line = char * size
    assert ClaudeParser().feed(line) == [Text(line, raw=True)]


def test_huge_json_text_block_is_one_event():
    text = "y" * 3_000_000
    line = json.dumps({"type": "assistant", "message": {"id": "m", "content": [
        {"type": "text", "text": text}]}})  # fmt: skip
    assert ClaudeParser().feed(line) == [Text(text)]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)
blocks = st.fixed_dictionaries(
    {"type": st.sampled_from(["text", "thinking", "tool_use", "tool_result", "image"])},
    optional={"text": json_values, "thinking": json_values, "input": json_values,
              "name": json_values, "id": json_values, "content": json_values,
              "is_error": json_values, "tool_use_id": json_values},
)  # fmt: skip


@settings(max_examples=200, deadline=None)
@given(
    st.fixed_dictionaries(
        {"type": st.sampled_from(["assistant", "user", "system", "result", "other"])},
        optional={
            "subtype": st.sampled_from(["init", "api_retry", "status", "success",
                                        "error_max_turns"]) | json_values,
            "message": st.fixed_dictionaries({}, optional={
                "id": json_values, "model": json_values,
                "content": st.lists(blocks | json_values, max_size=4) | json_values}),
            "is_error": json_values, "error": json_values, "is_api_error_message": json_values,
            "session_id": json_values, "cwd": json_values, "attempt": json_values,
            "max_retries": json_values, "retry_delay_ms": json_values, "error_status": json_values,
            "num_turns": json_values, "total_cost_usd": json_values, "usage": json_values,
            "result": json_values, "errors": json_values, "status": json_values,
            "permissionMode": json_values, "api_error_status": json_values,
        },
    ),
    st.integers(min_value=-15, max_value=2),
)
def test_odd_shapes_never_raise_and_verdict_always_answers(message, rc):
    agent = ClaudeAgent(ClaudeSettings())
    parser = agent.parser()
    line = json.dumps(message)
    events = parser.feed(line)
    assert isinstance(events, list)
    parser.stats()
    verdict = agent.verdict(ProcessOutcome(returncode=rc, last_lines=[line]), parser)
    assert verdict.status in ("done", "failed")
    if verdict.status == "done":
        assert rc == 0 and parser.result is not None and parser.result.get("is_error") is False


# -- the scripted Anthropic server the e2e tests use (tests/support/servers/anthropic.py) -----


def _post(url: str, body: dict) -> tuple[int, str, bytes]:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"content-type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers["content-type"], response.read()
    except urllib.error.HTTPError as err:
        return err.code, err.headers["content-type"], err.read()


def _assemble(stream: bytes) -> tuple[list[str], list[dict], str]:
    """Event names, content blocks and stop reason, rebuilt from an SSE body as a client would."""
    names, blocks, stop = [], [], ""
    partial: dict[int, str] = {}
    for event in stream.decode().split("\n\n"):
        if not event.strip():
            continue
        name_line, data_line = event.split("\n")
        name, data = name_line.removeprefix("event: "), json.loads(data_line.removeprefix("data: "))
        assert data["type"] == name
        names.append(name)
        if name == "content_block_start":
            blocks.append(dict(data["content_block"]))
        elif name == "content_block_delta":
            block, delta = blocks[data["index"]], data["delta"]
            if delta["type"] == "text_delta":
                block["text"] += delta["text"]
            elif delta["type"] == "thinking_delta":
                block["thinking"] += delta["thinking"]
            elif delta["type"] == "signature_delta":
                block["signature"] = delta["signature"]
            else:
                partial[data["index"]] = partial.get(data["index"], "") + delta["partial_json"]
        elif name == "message_delta":
            stop = data["delta"]["stop_reason"]
    for index, text_json in partial.items():
        blocks[index]["input"] = json.loads(text_json)
    return names, blocks, stop


def test_scripted_server_streams_like_the_api():
    call = tool_use("Write", {"file_path": "/w/a.txt", "content": "é\n"}, id="toolu_1")
    turns = [
        [thinking("hmm", "sig-1"), text("Writing."), call],
        lambda request: [text(f"cwd was {request.cwd}")],
        ApiError(529, "busy", times=2),
        ApiError(401),
    ]
    tools = {"tools": [{"name": "Write"}], "stream": True}
    with ScriptedAnthropic(turns) as server:
        url = f"{server.base_url}/v1/messages?beta=true"
        status, kind, body = _post(url, tools)
        assert (status, kind) == (200, "text/event-stream; charset=utf-8")
        names, blocks, stop = _assemble(body)
        assert names[:2] == ["message_start", "ping"] and names[-2:] == ["message_delta", "message_stop"]
        assert blocks == [thinking("hmm", "sig-1"), text("Writing."), call] and stop == "tool_use"
        # A side call without tools does not consume a turn; count_tokens answers.
        assert json.loads(_post(url, {"stream": False})[2])["content"] == [text("ok")]
        assert json.loads(_post(f"{server.base_url}/v1/messages/count_tokens", {})[2]) == {"input_tokens": 100}
        system = [{"type": "text", "text": "x"}]
        messages = [{"role": "system", "content": " - Primary working directory: /w/run\n - Is a git repo"}]
        _, _, body = _post(url, {**tools, "system": system, "messages": messages})
        assert _assemble(body)[1:] == ([text("cwd was /w/run")], "end_turn")
        for _ in range(2):  # times=2, then the next turn, which answers every later request
            status, _, body = _post(url, tools)
            assert status == 529 and json.loads(body)["error"] == {"type": "overloaded_error", "message": "busy"}
        for _ in range(3):
            assert _post(url, tools)[0] == 401
        assert server.turns_used == 3 and not server.problems
        assert _post(f"{server.base_url}/v1/models", {})[0] == 404
        assert [r.path for r in server.unknown] == ["/v1/models"]
        assert [r.turn for r in server.requests] == [0, None, None, 1, 2, 2, 3, 3, 3, None]
    with ScriptedAnthropic([]) as server:
        assert _post(f"{server.base_url}/v1/messages", tools)[0] == 400
        assert server.problems == ["request 1: the script has no turn 1 (it has 0)"]
