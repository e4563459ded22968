"""The real kimi-cli 1.50.0, offline, driven through `hybrid-tui run --json`.

No stand-in here: the binary is the real legacy Kimi CLI (installed on first use by
tests/support/agent_clis.py, or `$HYBRID_TUI_KIMI_BIN`). Its model is the CLI's own `_scripted_echo`
provider, which replays one script per LLM request from a JSON file and needs no server; the
unreachable-provider case uses an `openai_legacy` provider pointed at a closed port on
127.0.0.1. The real agent runs its real tools (WriteFile, StrReplaceFile, Shell) in the run's
worktree, and the tests check what landed on the run's branch, the events hybrid-tui parsed,
and the run record.

Kimi's data dir is the tmp `KIMI_SHARE_DIR` the autouse fixture sets, and its config turns
telemetry off, so nothing leaves the machine or touches the real ~/.kimi.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from hybrid_tui.agents.kimi import KimiAgent, detect_flavour
from hybrid_tui.config import KimiSettings
from hybrid_tui.core.run.dispatch import build_prompt
from tests.support import agent_clis
from tests.support.cli import checkout_fingerprint, run_cli
from tests.support.e2e import (
    AUTHOR,
    PLAN,
    call,
    closed_port,
    configure,
    session_context,
)
from tests.support.repos import git

pytestmark = pytest.mark.e2e

KIMI_VERSION = agent_clis.KIMI_LEGACY_VERSION  # 1.50.0
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def kimi_path() -> Path:
    """Where the real kimi-cli 1.50.0 is (tests/support/agent_clis.py; `$HYBRID_TUI_KIMI_BIN` overrides)."""
    return agent_clis.kimi_legacy_bin()


@pytest.fixture(scope="module")
def kimi_bin(kimi_legacy_bin: Path) -> Path:
    """The real kimi; a missing or wrong one fails the test (an e2e test never skips)."""
    path = kimi_legacy_bin
    version = subprocess.run(
        [path, "--version"], check=False, capture_output=True, text=True, timeout=60
    )
    if version.stdout.strip() != f"kimi, version {KIMI_VERSION}":
        pytest.fail(
            f"{path} --version says {version.stdout.strip() or version.stderr.strip()!r}, "
            f"not kimi-cli {KIMI_VERSION}: unset HYBRID_TUI_KIMI_BIN or point it at kimi-cli {KIMI_VERSION}"
        )
    return path


# Variables the real CLI reads that would override the config these tests write, print into
# its stdout (the trace), or send 127.0.0.1 through a proxy.
FOREIGN_ENV = (
    "OPENAI_BASE_URL", "OPENAI_API_KEY", "KIMI_BASE_URL", "KIMI_API_KEY", "KIMI_MODEL_NAME",
    "KIMI_MODEL_CAPABILITIES", "KIMI_MODEL_MAX_CONTEXT_SIZE", "KIMI_SCRIPTED_ECHO_SCRIPTS",
    "KIMI_SCRIPTED_ECHO_TRACE", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY",
    "http_proxy", "https_proxy", "all_proxy",
)  # fmt: skip


@pytest.fixture(autouse=True)
def clean_kimi_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in FOREIGN_ENV:
        monkeypatch.delenv(name, raising=False)


# -- the scripted model ------------------------------------------------------------------------


def run_plan(repo: Path, source: Path) -> tuple[subprocess.CompletedProcess, list[dict], dict]:
    result = run_cli("run", str(source), "--approve-checks", "--json", cwd=repo, timeout=180)
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert lines and lines[-1]["type"] == "summary", result.stdout + result.stderr
    return result, [e for e in lines[:-1] if e["type"] == "event"], lines[-1]


def tool_calls(events: list[dict]) -> list[tuple[str, str, str]]:
    return [(e["id"], e["name"], e["key_arg"]) for e in events if e["kind"] == "tool_call"]


def raw_lines(events: list[dict]) -> list[str]:
    """The stdout lines that were not JSON (the real CLI's error text)."""
    return [e["text"] for e in events if e["kind"] == "text" and e["raw"]]


def stderr_session_id(state_dir: Path, run_id: str) -> str:
    stderr = (state_dir / "runs" / run_id / "stderr.log").read_text()
    return re.findall(r"To resume this session: kimi -r (\S+)", stderr)[-1]


@pytest.fixture
def plan(tmp_path: Path) -> Path:
    path = tmp_path / "plans" / "add-greeting.md"
    path.parent.mkdir()
    path.write_text(PLAN)
    return path


# -- the tests ---------------------------------------------------------------------------------


def test_the_real_cli_is_detected_as_legacy_and_takes_the_argv(kimi_bin: Path, tmp_path: Path):
    assert detect_flavour([str(kimi_bin)]) == "legacy"
    agent = KimiAgent(KimiSettings(command=[str(kimi_bin)]))
    assert agent.flavour == "legacy"
    argv = agent.command(tmp_path, "x").argv
    assert argv[1:5] == ["--print", "--output-format", "stream-json", "--yolo"]


EDIT = {"old": "return 1", "new": "return 2"}
SHELL = "mkdir -p notes && echo from-shell > notes/shell.txt && cat hello.txt"


def test_write_edit_and_shell_land_on_the_run_branch(
    kimi_bin: Path, repo: Path, plan: Path, state_dir: Path, isolated_env: Path
):
    share = configure(
        isolated_env,
        kimi_bin,
        steps=[
            [
                "text: I'll create hello.txt first.",
                call("c_write", "WriteFile", path="hello.txt", content="hello from kimi\n"),
            ],
            [call("c_edit", "StrReplaceFile", path="src/app.py", edit=EDIT)],
            [call("c_shell", "Shell", command=SHELL)],
            ["text: Created hello.txt, made main() return 2 and wrote notes/shell.txt."],
        ],
    )
    before = checkout_fingerprint(repo)
    result, events, summary = run_plan(repo, plan)

    assert result.returncode == 0, result.stderr
    assert (summary["status"], summary["failure_kind"]) == ("review", None)
    # The spec's check ran in the worktree after the agent and passed on its edit.
    assert [(c["command"], c["ok"]) for c in summary["checks"]] == [("test -f hello.txt", True)]
    assert summary["steps"] == 4 and summary["exit_code"] == 0
    assert summary["message"] == "Kimi finished after 4 step(s)"

    # The events hybrid-tui parsed from the real stream, in order.
    assert tool_calls(events) == [
        ("c_write", "WriteFile", "hello.txt"),
        ("c_edit", "StrReplaceFile", "src/app.py"),
        ("c_shell", "Shell", SHELL),
    ]
    write = next(e for e in events if e["kind"] == "tool_call" and e["name"] == "WriteFile")
    assert write["arguments"] == {"path": "hello.txt", "content": "hello from kimi\n"}
    results = {e["id"]: e for e in events if e["kind"] == "tool_result"}
    assert set(results) == {"c_write", "c_edit", "c_shell"}
    assert not any(r["is_error"] for r in results.values())
    assert results["c_write"]["text"].startswith("<system>File successfully")
    assert "hello from kimi" in results["c_shell"]["text"]
    texts = [e["text"] for e in events if e["kind"] == "text"]
    assert texts == [
        "I'll create hello.txt first.",
        "Created hello.txt, made main() return 2 and wrote notes/shell.txt.",
    ]
    assert [e["kind"] for e in events][-1] == "exit"

    # What the real tools did is committed on the run's branch, authored by the agent.
    branch, base = summary["branch"], summary["base_sha"]
    assert git(repo, "show", f"{branch}:hello.txt") == "hello from kimi"
    assert git(repo, "show", f"{branch}:src/app.py") == "def main():\n    return 2"
    assert git(repo, "show", f"{branch}:notes/shell.txt") == "from-shell"
    assert git(repo, "diff", "--name-only", base, branch).split() == [
        "hello.txt", "notes/shell.txt", "src/app.py",
    ]  # fmt: skip
    assert git(repo, "log", "-1", "--format=%an <%ae>", branch) == AUTHOR
    assert git(repo, "rev-parse", f"{branch}~1") == base
    assert checkout_fingerprint(repo) == before

    # The session id came from the real CLI's stderr; its session holds the spec as the prompt.
    session_id = summary["session_id"]
    assert UUID.match(session_id)
    assert stderr_session_id(state_dir, summary["run_id"]) == session_id
    record = json.loads((state_dir / "runs" / summary["run_id"] / "run.json").read_text())
    assert record["session_id"] == session_id and record["status"] == "review"
    (user,) = [m for m in session_context(share, summary) if m["role"] == "user"]
    assert user["content"].startswith("Implement the following spec")
    assert "# Spec: 001 -- Add a greeting" in user["content"]
    transcript = (state_dir / "runs" / summary["run_id"] / "transcript.jsonl").read_text()
    assert [json.loads(line)["role"] for line in transcript.splitlines()] == [
        "assistant", "tool", "assistant", "tool", "assistant", "tool", "assistant",
    ]  # fmt: skip


def test_max_steps_fails_and_keeps_the_work_so_far(
    kimi_bin: Path, repo: Path, plan: Path, isolated_env: Path
):
    configure(
        isolated_env,
        kimi_bin,
        max_steps=2,
        steps=[
            [call("c1", "WriteFile", path="hello.txt", content="step 1\n")],
            [call("c2", "Shell", command="echo step 2 >> hello.txt")],
            [call("c3", "Shell", command="echo step 3 >> hello.txt")],
            ["text: never reached"],
        ],
    )
    result, events, summary = run_plan(repo, plan)

    assert result.returncode == 1
    assert (summary["status"], summary["failure_kind"]) == ("failed", "max_steps")
    assert summary["exit_code"] == 1 and summary["steps"] == 2
    assert summary["message"].startswith("Max number of steps reached: 2 -- ")
    assert raw_lines(events) == ["Max number of steps reached: 2"]
    assert [c[0] for c in tool_calls(events)] == ["c1", "c2"]
    branch = summary["branch"]
    assert git(repo, "show", f"{branch}:hello.txt") == "step 1\nstep 2"
    assert git(repo, "log", "-1", "--format=%an <%ae>", branch) == AUTHOR


def test_unreachable_provider_is_a_transient_failure(
    kimi_bin: Path, repo: Path, plan: Path, isolated_env: Path
):
    configure(
        isolated_env,
        kimi_bin,
        provider=(
            '[providers.down]\ntype = "openai_legacy"\n'
            f'base_url = "http://127.0.0.1:{closed_port()}/v1"\napi_key = "sk-offline"\n'
        ),
    )
    result, events, summary = run_plan(repo, plan)

    assert result.returncode == 1
    assert (summary["status"], summary["failure_kind"]) == ("failed", "transient")
    assert summary["exit_code"] == 75 and summary["steps"] == 0
    assert summary["message"] == "Connection error. -- the model provider did not answer; retry"
    assert raw_lines(events) == ["Connection error."]
    assert UUID.match(summary["session_id"])
    # No changes: the branch is the base, an empty diff.
    assert git(repo, "rev-parse", summary["branch"]) == summary["base_sha"]


def test_thinking_parts_become_thinking_events(
    kimi_bin: Path, repo: Path, plan: Path, isolated_env: Path
):
    configure(
        isolated_env,
        kimi_bin,
        steps=[
            [
                "think: The spec wants hello.txt; WriteFile is the tool.",
                "text: Writing it.",
                call("c1", "WriteFile", path="hello.txt", content="thought through\n"),
            ],
            ["think: Written. Nothing else to do.", "text: Done."],
        ],
    )
    result, events, summary = run_plan(repo, plan)

    assert result.returncode == 0, result.stderr
    assert summary["steps"] == 2
    shown = [(e["kind"], e.get("text") or e.get("name")) for e in events]
    # What the agent said comes first; the checks' notices and the exit follow.
    agent_events = shown[: next(i for i, (kind, _) in enumerate(shown) if kind in ("notice", "exit"))]
    assert agent_events == [
        ("thinking", "The spec wants hello.txt; WriteFile is the tool."),
        ("text", "Writing it."),
        ("tool_call", "WriteFile"),
        ("tool_result", "<system>File successfully overwritten. Current size: 16 bytes.</system>"),
        ("thinking", "Written. Nothing else to do."),
        ("text", "Done."),
    ]
    assert git(repo, "show", f"{summary['branch']}:hello.txt") == "thought through"


def test_a_spec_over_100_kb_reaches_the_real_cli_through_stdin(
    kimi_bin: Path, repo: Path, tmp_path: Path, isolated_env: Path
):
    share = configure(isolated_env, kimi_bin, steps=[["text: Read it all."]])
    requirement = "Keep every line of this requirement. " * 4_000  # ~150 KB
    spec_text = (
        "# Spec: 007 -- Long one\n\nSource: manual\nBase: main@0000000\n\n## Context\nBig.\n\n"
        "## Tasks\n\n### Task 1: Write hello\n\nFiles:\n- CREATE hello.txt\n\n"
        f"Requirements:\n- {requirement}\n\nVerification:\n- `true`\n"
    )
    assert len(build_prompt(spec_text).encode()) > 128 * 1024  # more than one argv element holds
    spec = tmp_path / "spec.md"
    spec.write_text(spec_text)
    result, _, summary = run_plan(repo, spec)

    assert result.returncode == 0, result.stderr
    assert summary["status"] == "review" and summary["steps"] == 1
    (user,) = [m for m in session_context(share, summary) if m["role"] == "user"]
    assert user["content"] == build_prompt(spec_text).strip()  # print mode strips the prompt
    data = Path(summary["agent_data"]) if summary["agent_data"] else share
    assert "Read command from stdin" in (data / "logs" / "kimi.log").read_text()
