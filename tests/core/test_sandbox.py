"""The sandbox (agents/sandbox.py, core/run/confine.py) with the real bubblewrap: what a hostile agent
and a hostile check can and cannot do, with the sandbox on and off.

The agent is the stand-in kimi, whose recorded Shell calls do the hostile things for real; the
repository, the state dir and HOME are all under /tmp here, which the sandbox's private /tmp
would hide if they were not bound again (ISSUE-NOTES). Without a working bubblewrap these tests
skip, or fail under HYBRID_TUI_REQUIRE_SANDBOX=1 (CI).
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import threading
import uuid
from pathlib import Path

import pytest

from hybrid_tui.agents import sandbox as sb
from hybrid_tui.agents.base import Invocation
from hybrid_tui.core.run.confine import confine_agent
from hybrid_tui.core.runs import RunStore
from tests.support.cli import checkout_fingerprint, run_cli, standin_env
from tests.support.repos import git
from tests.support.runs import agent_stream, spec_file


def _require_bwrap() -> None:
    found = sb.probe()
    if not found.on:
        if os.environ.get("HYBRID_TUI_REQUIRE_SANDBOX") == "1":
            pytest.fail(f"HYBRID_TUI_REQUIRE_SANDBOX=1 but {found.reason}")
        pytest.skip(found.reason)


@pytest.fixture
def bwrap() -> None:
    _require_bwrap()


@pytest.fixture(autouse=True)
def mode_as_given(monkeypatch: pytest.MonkeyPatch) -> None:
    """The modes these tests pass are the ones used (conftest turns the sandbox off by env)."""
    monkeypatch.delenv("HYBRID_TUI_SANDBOX", raising=False)


def run_hostile(repo: Path, home: Path, shell: list[str], *, sandbox: str, files: list[str] | None = None) -> dict:
    """`hybrid-tui run --json` of a spec whose agent runs `shell` (one Shell call each); the
    stream lives in HOME, which the sandbox shows read-only."""
    stream = agent_stream(home, f"hostile-{uuid.uuid4().hex[:6]}", [("Shell", {"command": c}) for c in shell])
    spec = spec_file(home, files or ["CREATE inside.txt"], [])
    env = standin_env("kimi_success", KIMI_STANDIN_FIXTURE=str(stream), HYBRID_TUI_SANDBOX=sandbox)
    result = run_cli("run", str(spec), "--json", cwd=repo, env=env, timeout=120)
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert lines and lines[-1]["type"] == "summary", result.stdout + result.stderr
    return lines[-1] | {"events": [e for e in lines[:-1] if e["type"] == "event"]}


def test_a_hostile_agent_writes_only_its_worktree(bwrap, repo: Path, isolated_env: Path):
    common = repo / ".git"
    canary, planted = isolated_env / "canary", repo / "planted.txt"
    shell = [
        f"(echo pwned > {canary}) 2>> tried.txt; echo home=$? >> tried.txt",
        f"(echo pwned > {planted}) 2>> tried.txt; echo checkout=$? >> tried.txt",
        f"git config --file {common}/config core.fsmonitor 'touch {canary}' 2>> tried.txt; echo config=$? >> tried.txt",
        f"(echo 'touch {canary}' > {common}/hooks/pre-commit) 2>> tried.txt; echo hook=$? >> tried.txt",
        f"(echo {repo}/objects > {common}/objects/info/alternates) 2>> tried.txt; echo alternates=$? >> tried.txt",
        f"(echo gitdir: {repo}/.git > .git) 2>> tried.txt; echo dotgit=$? >> tried.txt",
        "echo made inside > inside.txt && git add inside.txt; echo add=$? >> tried.txt",
        "git -c user.name=a -c user.email=a@b commit -qm mine 2>> tried.txt; echo commit=$? >> tried.txt",
    ]
    config_before = (common / "config").read_text()
    before = checkout_fingerprint(repo)
    summary = run_hostile(repo, isolated_env, shell, sandbox="required")
    assert summary["status"] == "review", summary
    assert summary["sandbox"].startswith("bubblewrap"), summary
    tried = dict(line.split("=") for line in git(repo, "show", f"{summary['branch']}:tried.txt").splitlines() if "=" in line and line.split("=")[0].isalpha())
    # Everything outside the worktree (and its own git index) was refused...
    assert {k: tried[k] != "0" for k in ("home", "checkout", "config", "hook", "alternates", "dotgit", "commit")} == dict.fromkeys(
        ("home", "checkout", "config", "hook", "alternates", "dotgit", "commit"), True)
    # ...and nothing of it happened; the work inside is on the branch, committed by hybrid-tui.
    assert not canary.exists() and not planted.exists()
    assert (common / "config").read_text() == config_before
    assert not (common / "hooks" / "pre-commit").exists() and not (common / "objects" / "info" / "alternates").exists()
    assert tried["add"] == "0"
    assert git(repo, "show", f"{summary['branch']}:inside.txt") == "made inside"
    assert git(repo, "log", "-1", "--format=%an", summary["branch"]) == "Kimi (hybrid-tui)"
    assert checkout_fingerprint(repo) == before and summary["checkout_changes"] == []


def test_an_approved_find_home_delete_check_deletes_nothing_in_the_sandbox(bwrap, repo: Path, isolated_env: Path, state_dir: Path):
    """Approval is the user's call; the sandbox is the net under it: `find ~ -delete` approved
    and run still deletes nothing outside the worktree (HOME, state dir and checkout read-only)."""
    canary = isolated_env / "precious" / "thesis.tex"
    canary.parent.mkdir()
    canary.write_text("years of work\n")
    before = checkout_fingerprint(repo)
    stream = agent_stream(isolated_env, "quiet", [("Shell", {"command": "echo hi > inside.txt"})])
    spec = spec_file(isolated_env, ["CREATE inside.txt"], ["find ~ -delete"])
    env = standin_env("kimi_success", KIMI_STANDIN_FIXTURE=str(stream), HYBRID_TUI_SANDBOX="required")
    result = run_cli("run", str(spec), "--json", "--approve-checks", cwd=repo, env=env, timeout=120)
    summary = json.loads(result.stdout.splitlines()[-1])
    assert summary["status"] == "review" and summary["sandbox"].startswith("bubblewrap"), summary
    assert [(c["command"], c["ok"]) for c in summary["checks"]] == [("find ~ -delete", False)]  # it tried
    assert canary.read_text() == "years of work\n"
    assert (state_dir / "runs" / summary["run_id"] / "run.json").is_file()
    assert checkout_fingerprint(repo) == before
    assert git(repo, "show", f"{summary['branch']}:inside.txt") == "hi"


def test_without_the_sandbox_the_run_says_what_is_not_watched(repo: Path, isolated_env: Path):
    canary = isolated_env / "canary"
    summary = run_hostile(repo, isolated_env, [f"echo pwned > {canary}", "echo hi > inside.txt"], sandbox="off")
    assert summary["sandbox"] is None and "turned off" in summary["sandbox_reason"]
    # The plain output says so when it starts and in its summary.
    stream = agent_stream(isolated_env, "quiet", [("Shell", {"command": "echo hi > inside.txt"})])
    env = standin_env("kimi_success", KIMI_STANDIN_FIXTURE=str(stream), HYBRID_TUI_SANDBOX="off")
    plain = run_cli("run", str(spec_file(isolated_env, ["CREATE inside.txt"], [])), cwd=repo, env=env).stdout.splitlines()
    assert plain[1].startswith("no sandbox: the sandbox is turned off") and "not reported" in plain[1]
    (ending,) = [line for line in plain[2:] if line.startswith("no sandbox:")]
    assert "turned off" in ending and "not watched" in ending
    assert canary.read_text() == "pwned\n"  # unconfined: it happened, and the run said it could


def _alive_with(marker: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if marker.encode() in (entry / "cmdline").read_bytes():
                state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
                if state != "Z":
                    found.append(int(entry.name))
        except (OSError, ValueError, IndexError):
            continue
    return found


@pytest.mark.parametrize("sandbox", ["required", "off"])
def test_a_setsid_daemon_does_not_outlive_the_run(repo: Path, isolated_env: Path, sandbox: str):
    """A daemon in a session of its own, meant to write into the checkout later: gone when the
    run ends (the sandbox's pid namespace; without it, the run's supervisor)."""
    if sandbox == "required":
        _require_bwrap()
    marker = f"daemon-{uuid.uuid4().hex}"
    late = repo / "late.txt"
    daemon = f"import time; time.sleep(60); open({str(late)!r}, 'w').write('late')"
    shell = [f"setsid python3 -c {json.dumps(daemon)} {marker} > /dev/null 2>&1 < /dev/null &", "echo hi > inside.txt"]
    summary = run_hostile(repo, isolated_env, shell, sandbox=sandbox)
    assert summary["status"] == "review", summary
    assert _alive_with(marker) == []
    assert not late.exists()


def test_the_agents_data_dir_is_a_copy_with_its_config_read_only(bwrap, repo: Path, isolated_env: Path, state_dir: Path):
    """Kimi Code's KIMI_CODE_HOME: the agent works in a per-run copy; its config cannot be
    changed there, and the user's own data dir is not touched at all."""
    home = isolated_env / "kimi-code-home"
    (home / "sessions").mkdir(parents=True)
    (home / "config.toml").write_text('default_model = "k2"\n')
    (home / "sessions" / "old.jsonl").write_text("another run's session\n")
    store = RunStore(state_dir)
    summary = run_hostile(repo, isolated_env, ["echo hi > inside.txt"], sandbox="off")
    run = store.load(summary["run_id"])
    shell = (
        'echo "hooks = []" >> "$KIMI_CODE_HOME/config.toml"; echo config=$? > "$KIMI_CODE_HOME/result"; '
        'echo session > "$KIMI_CODE_HOME/new-session"'
    )
    confined = confine_agent(store, run, "kimi", "code", Invocation(["/bin/sh", "-c", shell], Path(run.worktree),
                             env={"KIMI_CODE_HOME": str(home)}), mode="required")  # fmt: skip
    subprocess.run(confined.invocation.argv, env={**os.environ, **confined.invocation.env}, check=True, timeout=30)
    copy = confined.agent_data
    assert copy == state_dir / "runs" / run.id / "agent-data"
    assert (copy / "result").read_text().strip() != "config=0"
    assert (copy / "config.toml").read_text() == 'default_model = "k2"\n' and (copy / "new-session").exists()
    assert not (copy / "sessions").exists()  # other runs' sessions are not copied in
    assert sorted(p.name for p in home.iterdir()) == ["config.toml", "sessions"]  # the user's: as it was
    assert (copy.stat().st_mode & 0o777) == 0o700


def _listening_port() -> tuple[socket.socket, int]:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)

    def serve() -> None:
        with contextlib.suppress(OSError):  # the test closed the socket: done
            for _ in range(8):
                server.accept()[0].close()

    threading.Thread(target=serve, daemon=True).start()
    return server, server.getsockname()[1]


def test_checks_run_without_network_unless_allowed(bwrap, repo: Path, isolated_env: Path, state_dir: Path):
    import asyncio

    from hybrid_tui.core.verify import RunChecks

    server, port = _listening_port()
    connect = f"python3 -c \"import socket; socket.create_connection(('127.0.0.1', {port}), timeout=5)\""
    stream = agent_stream(isolated_env, "quiet", [("Shell", {"command": "echo hi > inside.txt"})])
    spec = spec_file(isolated_env, ["CREATE inside.txt"], [connect])
    env = standin_env("kimi_success", KIMI_STANDIN_FIXTURE=str(stream))
    summary = json.loads(run_cli("run", str(spec), "--json", cwd=repo, env=env).stdout.splitlines()[-1])
    store = RunStore(state_dir)
    run = store.load(summary["run_id"])
    with server:
        offline = asyncio.run(
            RunChecks(store, run, timeout=30, on_events=lambda e: None, approved=[connect], sandbox="required").start()
        )
        online = asyncio.run(RunChecks(
            store, store.load(run.id), timeout=30, on_events=lambda e: None, approved=[connect], sandbox="required", network=True,
        ).start())
    assert [c.ok for c in offline] == [False] and [c.ok for c in online] == [True]


def test_required_without_bubblewrap_refuses_the_run_and_auto_says_why(repo: Path, isolated_env: Path):
    missing = {"HYBRID_TUI_BWRAP": "no-such-bwrap-here"}
    stream = agent_stream(isolated_env, "quiet", [("Shell", {"command": "echo hi > inside.txt"})])
    spec = spec_file(isolated_env, ["CREATE inside.txt"], [])
    base = standin_env("kimi_success", KIMI_STANDIN_FIXTURE=str(stream), **missing)
    refused = run_cli("run", str(spec), "--json", cwd=repo, env={**base, "HYBRID_TUI_SANDBOX": "required"})
    summary = json.loads(refused.stdout.splitlines()[-1])
    assert refused.returncode == 1
    assert (summary["status"], summary["failure_kind"]) == ("failed", "sandbox")
    assert "not installed" in summary["message"] and "apt-get install bubblewrap" in summary["message"]
    assert git(repo, "rev-parse", summary["branch"]) == summary["base_sha"]  # the agent never ran
    unconfined = run_cli("run", str(spec), "--json", cwd=repo, env={**base, "HYBRID_TUI_SANDBOX": "auto"})
    summary = json.loads(unconfined.stdout.splitlines()[-1])
    assert summary["status"] == "review" and summary["sandbox"] is None
    assert "bubblewrap (`no-such-bwrap-here`) is not installed" in summary["sandbox_reason"]
