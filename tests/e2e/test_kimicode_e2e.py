"""The real Kimi Code CLI 2.1.0, offline, driven through `hybrid-tui run --json` and `revise`.

No stand-in: the binary is `@moonshot-ai/kimi-code` 2.1.0 run by a Node 24 from PyPI (installed
by tests/support/agent_clis.py on first use, or `HYBRID_TUI_KIMI_CODE_BIN`). Its model is a scripted
Anthropic Messages server on 127.0.0.1 (tests/support/servers/anthropic.py), chosen with environment
variables only (`KIMI_MODEL_PROVIDER_TYPE=anthropic`, `KIMI_MODEL_BASE_URL`, ...). The real agent
runs its real tools (Write, Edit, Bash, Read) in the run's worktree; the tests check what landed
on the run's branch, the events hybrid-tui parsed, and the run record. Kimi's data dir is a tmp
`KIMI_CODE_HOME` given as the profile (`agents.kimi.home`); telemetry and auto-update are off,
and `KIMI_LOOP_MAX_ATTEMPTS_PER_STEP` keeps the provider-failure tests to one retry.
"""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path
from typing import Any

import pytest

from hybrid_tui.agents.kimi import KimiAgent, detect_flavour
from hybrid_tui.config import KimiSettings
from hybrid_tui.core.run.dispatch import build_prompt
from tests.support.cli import checkout_fingerprint, run_cli
from tests.support.e2e import (  # the same plan as for the legacy CLI
    AUTHOR,
    PLAN,
    closed_port,
)
from tests.support.repos import git
from tests.support.servers.anthropic import (
    ApiError,
    RecordedRequest,
    ScriptedAnthropic,
    text,
    tool_use,
)

pytestmark = pytest.mark.e2e

SESSION = re.compile(r"^session_[0-9a-f-]{36}$")


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Nothing of the machine's Kimi or proxy settings reaches the agent."""
    for name in list(os.environ):
        if name.startswith(("KIMI_", "MOONSHOT_")) or name.lower() in ("http_proxy", "https_proxy", "all_proxy"):
            monkeypatch.delenv(name)


@pytest.fixture
def plan(tmp_path: Path) -> Path:
    path = tmp_path / "plans" / "add-greeting.md"
    path.parent.mkdir()
    path.write_text(PLAN)
    return path


def configure(home: Path, binary: Path, base_url: str, *, max_steps: int = 100, attempts: int = 2,
              linger_grace: float | None = None) -> Path:
    """hybrid-tui's config: `[agents.kimi]` is the real binary, flavour detected, with a tmp
    KIMI_CODE_HOME as its profile and the scripted model by environment. Returns that home."""
    kimi_home = home / "kimi-code-home"
    env = {
        "KIMI_CODE_NO_AUTO_UPDATE": "1",
        "KIMI_DISABLE_TELEMETRY": "1",
        "KIMI_MODEL_PROVIDER_TYPE": "anthropic",
        "KIMI_MODEL_BASE_URL": base_url,
        "KIMI_MODEL_NAME": "scripted",
        "KIMI_MODEL_API_KEY": "test-key",
        "KIMI_MODEL_MAX_CONTEXT_SIZE": "128000",
        "KIMI_LOOP_MAX_ATTEMPTS_PER_STEP": str(attempts),
    }
    lines = [
        "[agents.kimi]",
        f"command = [{json.dumps(str(binary))}]",
        f"home = {json.dumps(str(kimi_home))}",
        f"max_steps = {max_steps}",
        "timeout = 120",
        "env = { " + ", ".join(f"{k} = {json.dumps(v)}" for k, v in env.items()) + " }",
    ]
    if linger_grace is not None:
        lines.append(f"linger_grace = {linger_grace}")
    Path(os.environ["HYBRID_TUI_CONFIG"]).write_text("\n".join(lines) + "\n")
    return kimi_home


def run_json(repo: Path, *args: str) -> tuple[int, list[dict], dict]:
    """`hybrid-tui ARGS --json`, the checks approved as a user would: (exit code, events, summary)."""
    approve = ["--approve-checks"] if args[0] in ("run", "revise", "verify") else []
    result = run_cli(*args, *approve, "--json", cwd=repo, timeout=180)
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert lines and lines[-1]["type"] == "summary", result.stdout + result.stderr
    return result.returncode, [e for e in lines[:-1] if e["type"] == "event"], lines[-1]


def tool_calls(events: list[dict]) -> list[tuple[str, str]]:
    return [(e["name"], e["key_arg"]) for e in events if e["kind"] == "tool_call"]


def notices(events: list[dict]) -> list[str]:
    return [e["text"] for e in events if e["kind"] == "notice"]


def assert_no_raw_json(events: list[dict]) -> None:
    """What the live pane and `run --json` show is never the CLI's meta JSON."""
    for event in events:
        shown = event.get("text", "")
        assert not (event["kind"] == "text" and event["raw"]), event
        assert '"role":"meta"' not in shown and '{"role"' not in shown, event


def record(state_dir: Path, run_id: str) -> dict:
    return json.loads((state_dir / "runs" / run_id / "run.json").read_text())


# -- the tests ---------------------------------------------------------------------------------


def test_the_real_cli_is_detected_as_kimi_code(kimi_code_bin: Path, tmp_path: Path):
    assert detect_flavour([str(kimi_code_bin)]) == "code"
    inv = KimiAgent(KimiSettings(command=[str(kimi_code_bin)])).command(tmp_path, "x")
    assert inv.argv[1:] == ["--output-format", "stream-json", "-p", "x"] and inv.cwd == tmp_path


def test_write_edit_and_shell_land_on_the_run_branch(
    kimi_code_bin: Path, repo: Path, plan: Path, state_dir: Path, isolated_env: Path
):
    shell = "mkdir -p notes && echo from-shell > notes/shell.txt && cat hello.txt"
    script = [
        [text("I'll create hello.txt first."), tool_use("Write", {"path": "hello.txt", "content": "hello from kimi\n"})],
        [tool_use("Edit", {"path": "src/app.py", "old_string": "return 1", "new_string": "return 2"})],
        [tool_use("Bash", {"command": shell})],
        [text("Created hello.txt, made main() return 2 and wrote notes/shell.txt.")],
    ]
    with ScriptedAnthropic(script) as server:
        kimi_home = configure(isolated_env, kimi_code_bin, server.base_url)
        before = checkout_fingerprint(repo)
        rc, events, summary = run_json(repo, "run", str(plan))
    assert rc == 0, summary
    assert not server.problems and server.turns_used == 4
    assert (summary["status"], summary["failure_kind"]) == ("review", None)
    assert (summary["steps"], summary["requests"], summary["exit_code"]) == (4, 4, 0)
    assert summary["message"] == "Kimi finished after 4 step(s)"
    assert [(c["command"], c["ok"]) for c in summary["checks"]] == [("test -f hello.txt", True)]

    # The events hybrid-tui parsed from the real stream: the version as words, no JSON.
    assert notices(events)[0] == "Kimi Code CLI 2.1.0"
    assert_no_raw_json(events)
    assert tool_calls(events) == [("Write", "hello.txt"), ("Edit", "src/app.py"), ("Bash", shell)]
    results = [e for e in events if e["kind"] == "tool_result"]
    assert len(results) == 3 and "hello from kimi" in results[2]["text"]
    texts = [e["text"] for e in events if e["kind"] == "text"]
    assert texts == ["I'll create hello.txt first.", "Created hello.txt, made main() return 2 and wrote notes/shell.txt."]

    # The first request carried the spec; the step budget went by environment.
    assert "# Spec: 001 -- Add a greeting" in server.turn_requests[0].all_text()

    branch, base = summary["branch"], summary["base_sha"]
    assert git(repo, "show", f"{branch}:hello.txt") == "hello from kimi"
    assert git(repo, "show", f"{branch}:src/app.py") == "def main():\n    return 2"
    assert git(repo, "show", f"{branch}:notes/shell.txt") == "from-shell"
    assert git(repo, "log", "-1", "--format=%an <%ae>", branch) == AUTHOR
    assert git(repo, "rev-parse", f"{branch}~1") == base
    assert checkout_fingerprint(repo) == before

    saved = record(state_dir, summary["run_id"])
    assert SESSION.match(summary["session_id"]) and saved["session_id"] == summary["session_id"]
    assert (saved["flavour"], saved["profile"], saved["requests"]) == ("code", str(kimi_home), 4)
    # The session is in the run's data dir (the sandbox's copy of the profile), for this worktree.
    data = Path(saved["agent_data"] or kimi_home)
    index = [json.loads(line) for line in (data / "session_index.jsonl").read_text().splitlines()]
    assert {"sessionId": summary["session_id"], "workDir": saved["worktree"]}.items() <= index[-1].items()


def test_a_tool_error_comes_back_as_its_result_and_the_run_finishes(
    kimi_code_bin: Path, repo: Path, plan: Path, isolated_env: Path
):
    script = [[tool_use("Read", {"path": "missing.py"})], [text("It is missing; nothing to do.")]]
    with ScriptedAnthropic(script) as server:
        configure(isolated_env, kimi_code_bin, server.base_url)
        rc, events, summary = run_json(repo, "run", str(plan))
    (result,) = [e for e in events if e["kind"] == "tool_result"]
    assert "does not exist" in result["text"]
    assert summary["status"] == "review" and summary["steps"] == 2
    # The model saw the error as the tool's result.
    assert "does not exist" in json.dumps(server.turn_requests[1].tool_results())
    assert rc == 1  # the spec's check (test -f hello.txt) failed: nothing was written


def test_max_steps_stops_at_the_configured_budget_and_keeps_the_work(
    kimi_code_bin: Path, repo: Path, plan: Path, isolated_env: Path
):
    script = [
        [tool_use("Write", {"path": "hello.txt", "content": "step 1\n"})],
        [tool_use("Bash", {"command": "echo step 2 >> hello.txt"})],
        [tool_use("Bash", {"command": "echo step 3 >> hello.txt"})],
        [text("never reached")],
    ]
    with ScriptedAnthropic(script) as server:
        configure(isolated_env, kimi_code_bin, server.base_url, max_steps=2)
        rc, events, summary = run_json(repo, "run", str(plan))
    assert rc == 1 and server.turns_used == 2
    assert (summary["status"], summary["failure_kind"]) == ("failed", "max_steps")
    assert (summary["steps"], summary["requests"], summary["exit_code"]) == (2, 2, 1)
    assert summary["message"].startswith("loop.max_steps_exceeded: Turn exceeded maxSteps=2.")
    assert "See log" not in summary["message"] and "raise agents.kimi.max_steps" in summary["message"]
    assert_no_raw_json(events)
    assert git(repo, "show", f"{summary['branch']}:hello.txt") == "step 1\nstep 2"


def test_an_unreachable_provider_retries_then_is_transient(
    kimi_code_bin: Path, repo: Path, plan: Path, isolated_env: Path
):
    configure(isolated_env, kimi_code_bin, f"http://127.0.0.1:{closed_port()}")
    started = time.monotonic()
    rc, events, summary = run_json(repo, "run", str(plan))
    assert rc == 1 and time.monotonic() - started < 60
    assert (summary["status"], summary["failure_kind"]) == ("failed", "transient")
    (retry,) = [n for n in notices(events) if n.startswith("retrying")]
    assert re.fullmatch(r"retrying 2/2 in \d+\.\d s: provider unreachable", retry), retry
    assert (summary["steps"], summary["requests"]) == (0, 2)
    assert summary["message"].startswith("provider.connection_error: ")
    assert summary["message"].endswith("retry")
    assert_no_raw_json(events)


def test_429_shows_its_retries_then_is_transient(kimi_code_bin: Path, repo: Path, plan: Path, isolated_env: Path):
    with ScriptedAnthropic([ApiError(429)]) as server:
        configure(isolated_env, kimi_code_bin, server.base_url)
        rc, events, summary = run_json(repo, "run", str(plan))
    assert rc == 1 and len(server.turn_requests) == 2
    (retry,) = [n for n in notices(events) if n.startswith("retrying")]
    assert re.fullmatch(r"retrying 2/2 in \d+\.\d s: rate limited", retry), retry
    assert (summary["failure_kind"], summary["steps"], summary["requests"]) == ("transient", 0, 2)
    assert summary["message"].startswith("provider.rate_limit: 429 rate_limit_error: scripted error -- ")


def test_401_is_auth_and_a_revise_resumes_the_failed_runs_session(
    kimi_code_bin: Path, repo: Path, plan: Path, state_dir: Path, isolated_env: Path
):
    """A failed run prints no resume hint: its session is found in the profile's session index,
    and a revise resumes it (`-S ID`, from the same worktree) once the provider works."""
    with ScriptedAnthropic([ApiError(401, times=1), [tool_use("Write", {"path": "hello.txt", "content": "after login\n"})],
                            [text("Done.")]]) as server:  # fmt: skip
        configure(isolated_env, kimi_code_bin, server.base_url)
        rc, events, summary = run_json(repo, "run", str(plan))
        assert rc == 1
        assert (summary["status"], summary["failure_kind"]) == ("failed", "auth")
        assert "kimi login" in summary["message"] and "See log" not in summary["message"]
        assert (summary["steps"], summary["requests"]) == (0, 1)
        session = summary["session_id"]
        assert SESSION.match(session), summary  # from session_index.jsonl, not the stream

        rc, events, revised = run_json(repo, "revise", summary["run_id"], "-m", "Try again now.")
    assert rc == 0, revised
    assert revised["resumed_session"] == session and revised["session_id"] == session
    assert revised["status"] == "review" and revised["steps"] == 2
    # The resumed session carried the first attempt's prompt: the spec, then the note.
    first = server.turn_requests[1].all_text()
    assert "# Spec: 001 -- Add a greeting" in first and "Try again now." in first
    assert git(repo, "show", f"{revised['branch']}:hello.txt") == "after login"
    saved = record(state_dir, summary["run_id"])
    assert saved["requests"] == 3 and saved["steps"] == 2  # over the run and its revision


def test_a_revise_resumes_the_session_after_a_success(
    kimi_code_bin: Path, repo: Path, plan: Path, isolated_env: Path
):
    script = [
        [tool_use("Write", {"path": "hello.txt", "content": "v1\n"})],
        [text("Wrote v1.")],
        [tool_use("Write", {"path": "hello.txt", "content": "v2\n"})],
        [text("Wrote v2.")],
    ]
    with ScriptedAnthropic(script) as server:
        configure(isolated_env, kimi_code_bin, server.base_url)
        rc, _, summary = run_json(repo, "run", str(plan))
        assert rc == 0
        rc, events, revised = run_json(repo, "revise", summary["run_id"], "-m", "Make it v2.")
    assert rc == 0, revised
    assert revised["resumed_session"] == summary["session_id"]
    # The model saw the whole first conversation, then the note.
    resumed = server.turn_requests[2].all_text()
    assert "Wrote v1." in resumed and "Make it v2." in resumed
    assert git(repo, "show", f"{summary['branch']}:hello.txt") == "v2"
    assert len(revised["new_commits"]) == 1
    assert_no_raw_json(events)


NEXT_READ = re.compile(r"Next Read: (\{.*?\})</system>")
POINTER = re.compile(r"Your task is in the file (\S+) \(")


def reader(request: RecordedRequest) -> list[dict[str, Any]]:
    """A model that reads the prompt file it is pointed at, page by page, following each
    result's `Next Read` arguments to the end, then says it is done."""
    results = request.tool_results()
    if not results:
        return [tool_use("Read", {"path": POINTER.search(request.all_text()).group(1)})]
    last = json.dumps(results[-1])
    if match := NEXT_READ.search(json.loads(last)["content"][0]["text"]):
        return [tool_use("Read", json.loads(match.group(1)))]
    return [text("Read it all.")]


def pages_text(results: list[str]) -> str:
    """The file as the Read results gave it: `N<TAB>text` lines, a long line in fragments."""
    lines: dict[int, str] = {}
    for result in results:
        body = result.rsplit("\n<system>", 1)[0]
        for row in body.split("\n"):
            number, _, content = row.partition("\t")
            lines[int(number)] = lines.get(int(number), "") + content
    return "".join(lines[n] + "\n" for n in sorted(lines))


def test_a_spec_over_200_kb_reaches_it_whole_through_a_file_it_reads_page_by_page(
    kimi_code_bin: Path, repo: Path, tmp_path: Path, state_dir: Path, isolated_env: Path
):
    rows = "".join(f"- Keep requirement {i} exactly as written, word for word.\n" for i in range(2_000))
    one_long_line = "A single requirement line longer than one Read page. " * 2_200  # ~120 KB
    spec_text = (
        "# Spec: 007 -- Long one\n\nSource: manual\nBase: main@0000000\n\n## Context\nBig.\n\n"
        "## Tasks\n\n### Task 1: Write hello\n\nFiles:\n- CREATE hello.txt\n\n"
        f"Requirements:\n{rows}- {one_long_line}\n\nVerification:\n- `true`\n"
    )
    prompt = build_prompt(spec_text)
    assert len(prompt.encode()) > 200_000  # more than an argv element holds
    spec = tmp_path / "spec.md"
    spec.write_text(spec_text)
    with ScriptedAnthropic([reader] * 12) as server:
        configure(isolated_env, kimi_code_bin, server.base_url)
        rc, events, summary = run_json(repo, "run", str(spec))
    assert rc == 0, summary
    reads = [e for e in events if e["kind"] == "tool_call" and e["name"] == "Read"]
    results = [e["text"] for e in events if e["kind"] == "tool_result"]
    # Read gives at most 100,000 characters a call: the file took several, all of them counted.
    assert len(reads) >= 3 and summary["prompt_reads"] == len(reads)
    assert summary["steps"] == len(reads) + 1
    # What the agent read, page by page, is the whole prompt, byte for byte.
    model_saw = [json.loads(json.dumps(r.tool_results()[-1]))["content"][0]["text"] for r in server.turn_requests[1:]]
    assert pages_text(model_saw[: len(reads)]) == prompt
    assert len(results) == len(reads)
    assert_no_raw_json(events)  # a 100,000-character Read result is one event, not cut JSON
    # The file is beside the worktree, not in it: not on the branch.
    (prompt_file,) = {e["key_arg"] for e in reads}
    assert Path(prompt_file).read_text() == prompt
    assert Path(summary["worktree"]) not in Path(prompt_file).parents
    assert git(repo, "rev-parse", summary["branch"]) == summary["base_sha"]


STUCK_MCP = """\
import json, os, signal, sys, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a server that will not go
for line in sys.stdin:
    message = json.loads(line)
    if "id" not in message:
        continue
    result = {}
    if message.get("method") == "initialize":
        result = {"protocolVersion": message["params"].get("protocolVersion", "2025-06-18"),
                  "capabilities": {"tools": {}}, "serverInfo": {"name": "stuck", "version": "1"}}
    elif message.get("method") == "tools/list":
        result = {"tools": []}
    print(json.dumps({"jsonrpc": "2.0", "id": message["id"], "result": result}), flush=True)
while True:
    time.sleep(3600)
"""


def running(script: Path) -> list[int]:
    """Live processes (not zombies) whose command line names `script`."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if str(script).encode() in (entry / "cmdline").read_bytes() and (entry / "stat").read_text().split(") ", 1)[1][0] != "Z":
                found.append(int(entry.name))
        except (OSError, ValueError, IndexError):
            continue
    return found


@pytest.mark.parametrize("confined", [True, False], ids=["sandbox", "no-sandbox"])
def test_a_process_that_lingers_after_its_resume_hint_is_stopped_and_the_run_finished(
    kimi_code_bin: Path, repo: Path, plan: Path, isolated_env: Path, confined: bool, monkeypatch: pytest.MonkeyPatch
):
    """An MCP server that ignores SIGTERM keeps the real CLI alive after its resume hint (it
    waits for the server, then force-exits, leaving the server running in a session of its
    own). hybrid-tui stops the CLI `linger_grace` seconds after the hint, counts the run as
    finished, and nothing the CLI left behind survives the run (the sandbox's pid namespace, or
    without one the supervisor, stops the server)."""
    if not confined:
        monkeypatch.setenv("HYBRID_TUI_SANDBOX", "off")
    server_script = isolated_env / "stuck_mcp.py"  # HOME: visible inside the sandbox too
    server_script.write_text(STUCK_MCP)
    script = [[tool_use("Write", {"path": "hello.txt", "content": "hi\n"})], [text("Done.")]]
    with ScriptedAnthropic(script) as server:
        kimi_home = configure(isolated_env, kimi_code_bin, server.base_url, linger_grace=0.5)
        kimi_home.mkdir(parents=True, exist_ok=True)
        (kimi_home / "mcp.json").write_text(json.dumps(
            # The real interpreter, not a venv's link to it: a venv under /tmp is hidden in the sandbox.
            {"mcpServers": {"stuck": {"command": os.path.realpath(os.sys.executable), "args": [str(server_script)]}}}
        ))  # fmt: skip
        rc, events, summary = run_json(repo, "run", str(plan))
    assert rc == 0, summary
    assert (summary["status"], summary["failure_kind"]) == ("review", None)
    assert "was still running 0.5 s after the run ended and was stopped" in summary["message"]
    assert git(repo, "show", f"{summary['branch']}:hello.txt") == "hi"
    assert running(server_script) == []  # out of the CLI's process group, yet not left running
    assert (summary["sandbox"] is not None) == confined


def test_quota_exhaustion_is_its_own_failure_kind_and_the_work_before_it_is_kept(
    kimi_code_bin: Path, repo: Path, plan: Path, isolated_env: Path
):
    """Only the `kimi` provider type says the quota is gone: a scripted OpenAI-style
    `/v1/chat/completions` server answers the second request with Moonshot's 429. No retry."""
    from tests.support.servers import openai

    script = [[openai.tool_call("Write", {"path": "hello.txt", "content": "before the quota ran out\n"})],
              openai.quota_exhausted()]  # fmt: skip
    with openai.ScriptedOpenAI(script) as server:
        configure(isolated_env, kimi_code_bin, server.base_url)
        config = Path(os.environ["HYBRID_TUI_CONFIG"])
        config.write_text(config.read_text().replace('"anthropic"', '"kimi"'))
        rc, events, summary = run_json(repo, "run", str(plan))
    assert rc == 1 and len(server.turn_requests) == 2  # no retry of a used-up quota
    assert (summary["status"], summary["failure_kind"]) == ("failed", "quota")
    assert summary["message"].startswith("provider.api_error: 429 You exceeded your current token quota")
    assert "quota is used up" in summary["message"]
    assert (summary["steps"], summary["requests"]) == (1, 2)
    assert not [n for n in notices(events) if n.startswith("retrying")]
    assert git(repo, "show", f"{summary['branch']}:hello.txt") == "before the quota ran out"
