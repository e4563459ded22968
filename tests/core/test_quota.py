"""The weekly request ledger (issue 14, point 5, first part): requests of every run by week,
agent and profile, retries counted, a week boundary at the configured reset, and the dispatch
that is warned near the limit and refused over it. Real run records in the state dir; the CLI
as a real process."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from hybrid_tui.core.errors import InputError
from hybrid_tui.core.quota import (
    dispatch_refusal,
    dispatch_warning,
    ledger,
    used_this_week,
    week_name,
    week_start,
)
from hybrid_tui.core.runs import Run, RunStore, Status
from tests.support.cli import run_cli, standin_env
from tests.support.repos import make_repo
from tests.support.runs import spec_file


def a_run(run_id: str, started: str, *, agent: str = "kimi", steps: int = 0, requests: int = 0,
          turns: int | None = None, cost: float | None = None, profile: str | None = None, repo: str = "/r") -> Run:
    return Run(id=run_id, title="t", repo_root=repo, spec_path="/s", branch="kimi/x", base_branch="main",
               base_sha="0" * 40, worktree="/w", status=Status.REVIEW, created_at=started, started_at=started,
               agent=agent, steps=steps, requests=requests, turns=turns, cost_usd=cost, profile=profile)


def test_a_week_starts_at_the_configured_reset() -> None:
    monday = datetime(2026, 11, 2, 0, 0, tzinfo=UTC)
    assert week_start(datetime(2026, 11, 8, 23, 59, tzinfo=UTC)) == monday  # Sunday night: still that week
    assert week_name(week_start(datetime(2026, 11, 9, 0, 0, tzinfo=UTC))) == "2026-W46"
    # a Thursday 09:00 reset: Thursday 08:59 belongs to the week before
    assert week_start(datetime(2026, 11, 5, 8, 59, tzinfo=UTC), 3, 9) == datetime(2026, 10, 29, 9, tzinfo=UTC)
    assert week_start(datetime(2026, 11, 5, 9, 0, tzinfo=UTC), 3, 9) == datetime(2026, 11, 5, 9, tzinfo=UTC)


def test_the_ledger_counts_retries_turns_and_cost_per_week_agent_and_profile() -> None:
    runs = [
        a_run("1", "2026-11-02T10:00:00+00:00", steps=6, requests=8),  # two retries count
        a_run("2", "2026-11-04T10:00:00+00:00", steps=10, requests=10, profile="/home/u/.kimi-swarm"),
        a_run("3", "2026-11-08T23:59:00+00:00", steps=4, requests=0),  # legacy: requests = steps
        a_run("4", "2026-11-09T00:00:00+00:00", steps=3, requests=3),  # the next week
        a_run("5", "2026-11-03T10:00:00+00:00", agent="claude", turns=5, cost=0.25, repo="/other"),
    ]
    rows = [row.as_json() for row in ledger(runs)]
    assert rows == [
        {"week": "2026-W46", "agent": "kimi", "profile": "default", "runs": 1, "requests": 3, "cost_usd": 0.0},
        {"week": "2026-W45", "agent": "kimi", "profile": "default", "runs": 2, "requests": 12, "cost_usd": 0.0},
        {"week": "2026-W45", "agent": "kimi", "profile": ".kimi-swarm", "runs": 1, "requests": 10, "cost_usd": 0.0},
        {"week": "2026-W45", "agent": "claude", "profile": "default", "runs": 1, "requests": 5, "cost_usd": 0.25},
    ]
    assert used_this_week(runs, datetime(2026, 11, 6, tzinfo=UTC)) == 22
    assert used_this_week(runs, datetime(2026, 11, 6, tzinfo=UTC), agent="claude") == 5


def test_near_the_limit_a_dispatch_is_warned_and_over_it_refused() -> None:
    assert dispatch_refusal(2047, 2048) is None and dispatch_refusal(2048, 2048) is not None
    assert dispatch_refusal(5000, 0) is None  # no limit
    assert dispatch_warning(1900, 2048, 100) is None
    assert "148 of the week's 2,048 requests are left" in (dispatch_warning(1900, 2048, 200) or "")


def test_the_cli_prints_the_ledger_and_refuses_a_run_over_the_budget(tmp_path: Path) -> None:
    state = Path(os.environ["HYBRID_TUI_STATE_DIR"])
    now = datetime.now(UTC).isoformat()
    RunStore(state).save(a_run("261102-100000-aa", now, steps=2040, requests=2050))
    result = run_cli("quota", "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    ledger_json = json.loads(result.stdout)
    assert ledger_json["this_week"] == {"requests": 2050, "weekly_limit": 2048, "estimated": True}
    assert ledger_json["weeks"][0]["requests"] == 2050
    assert "2,050 / 2,048 requests this week (estimated)" in run_cli("quota", cwd=tmp_path).stdout

    repo = make_repo(tmp_path / "project", {"a.txt": "one\n"})
    spec = spec_file(tmp_path, ["MODIFY a.txt"], [])
    refused = run_cli("run", str(spec), cwd=repo, env=standin_env("kimi_success"))
    assert refused.returncode == 2 and "weekly request budget is used up: 2,050 of 2,048" in refused.stderr
    assert len(RunStore(state).list()) == 1  # nothing started
    forced = run_cli("run", str(spec), "--force", cwd=repo, env=standin_env("kimi_success"))
    assert forced.returncode == 0, forced.stderr
    assert "warning: the weekly request budget is used up" in forced.stderr


def test_a_profile_changes_the_argv_the_environment_and_the_ledger_row(tmp_path: Path, monkeypatch) -> None:
    from hybrid_tui.agents.registry import make_agent
    from hybrid_tui.config import Settings

    settings = Settings.model_validate({"profiles": {
        "moderato": {"config_file": "/p/config.toml", "max_steps": 100},
        "swarm": {"config_file": "/p/config.swarm.toml", "home": str(tmp_path / "kimi-swarm"), "max_steps": 40,
                  "timeout": 60, "weekly_limit": 500}}})
    swarm, name = settings.with_profile("swarm")
    assert name == "swarm" and swarm.quota.weekly_limit == 500 and swarm.agents.kimi.timeout == 60
    legacy = make_agent("kimi", swarm.model_copy(update={"agents": swarm.agents.model_copy(update={
        "kimi": swarm.agents.kimi.model_copy(update={"flavour": "legacy"})})}))
    argv = legacy.command(tmp_path, "do it").argv
    assert argv[argv.index("--config-file") + 1] == "/p/config.swarm.toml"
    assert argv[argv.index("--max-steps-per-turn") + 1] == "40"
    code = make_agent("kimi", swarm.model_copy(update={"agents": swarm.agents.model_copy(update={
        "kimi": swarm.agents.kimi.model_copy(update={"flavour": "code"})})}))
    env = code.command(tmp_path, "do it").env
    assert env["KIMI_CODE_HOME"] == str(tmp_path / "kimi-swarm") and env["KIMI_LOOP_MAX_STEPS_PER_TURN"] == "40"
    assert settings.with_profile(None) == (settings, None)
    with pytest.raises(InputError, match="no profile 'nope' in the settings \\(profiles: moderato, swarm\\)"):
        settings.with_profile("nope")


def test_a_run_with_a_profile_records_it_and_its_own_ledger_row(tmp_path: Path) -> None:
    import textwrap

    config = tmp_path / "config.toml"
    config.write_text(textwrap.dedent("""
        [profiles.swarm]
        config_file = "/p/config.swarm.toml"
        max_steps = 40
        weekly_limit = 500
    """))
    log = tmp_path / "argv.jsonl"
    repo = make_repo(tmp_path / "project", {"a.txt": "one\n"})
    spec = spec_file(tmp_path, ["MODIFY a.txt"], [])
    env = standin_env("kimi_success", KIMI_STANDIN_LOG=str(log), HYBRID_TUI_CONFIG=str(config))
    result = run_cli("run", str(spec), "--profile", "swarm", "--json", cwd=repo, env=env)
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout.splitlines()[-1])
    assert summary["profile"] == "swarm"
    argv = json.loads(log.read_text().splitlines()[0])["argv"]
    assert argv[argv.index("--config-file") + 1] == "/p/config.swarm.toml"
    assert argv[argv.index("--max-steps-per-turn") + 1] == "40"
    rows = json.loads(run_cli("quota", "--json", cwd=tmp_path, env={"HYBRID_TUI_CONFIG": str(config)}).stdout)["weeks"]
    assert [(row["profile"], row["runs"]) for row in rows] == [("swarm", 1)]
    unknown = run_cli("run", str(spec), "--profile", "nope", cwd=repo, env=env)
    assert unknown.returncode == 2 and "no profile 'nope'" in unknown.stderr


def test_a_revision_leaves_a_runs_requests_in_the_week_it_was_made_and_odd_times_count_nowhere() -> None:
    revised = a_run("1", "2026-11-06T10:00:00+00:00", steps=1500, requests=1510)
    revised.started_at = "2026-11-10T10:00:00+00:00"  # the revision's attempt started the next week
    naive = a_run("2", "2026-11-06T11:00:00", steps=5, requests=5)  # no zone: UTC
    far = a_run("3", "0001-01-01T00:00:00+00:00", steps=9, requests=9)
    assert [(r.week, r.requests) for r in ledger([revised, naive, far], reset_weekday=6)] == [("2026-W44", 1515)]


def test_a_profile_without_a_limit_of_its_own_counts_the_whole_account(tmp_path: Path) -> None:
    from hybrid_tui.config import Settings

    settings = Settings.model_validate({"default_profile": "moderato", "profiles": {
        "moderato": {"max_steps": 100}, "swarm": {"weekly_limit": 500}}})
    assert settings.own_limit_profile("moderato") is None and settings.own_limit_profile("swarm") == "swarm"
    state = Path(os.environ["HYBRID_TUI_STATE_DIR"])
    now = datetime.now(UTC).isoformat()
    for n, (profile, requests) in enumerate((("swarm", 2000), ("moderato", 1700))):
        run = a_run(f"26110{n}-100000-aa", now, steps=requests, requests=requests)
        run.profile_name = profile
        RunStore(state).save(run)
    config = tmp_path / "config.toml"
    config.write_text('default_profile = "moderato"\n[profiles.moderato]\nmax_steps = 100\n')
    shown = run_cli("quota", cwd=tmp_path, env={"HYBRID_TUI_CONFIG": str(config)}).stdout
    assert "3,700 / 2,048 requests this week" in shown  # as `run` counts it: the account's budget
    repo = make_repo(tmp_path / "project", {"a.txt": "one\n"})
    refused = run_cli("run", str(spec_file(tmp_path, ["MODIFY a.txt"], [])), cwd=repo,
                      env=standin_env("kimi_success", HYBRID_TUI_CONFIG=str(config)))
    assert refused.returncode == 2 and "3,700 of 2,048" in refused.stderr
    claude = run_cli("run", str(spec_file(tmp_path, ["MODIFY a.txt"], [])), "--agent", "claude", "--profile", "swarm",
                     cwd=repo, env=standin_env("kimi_success", HYBRID_TUI_CONFIG=str(config)))
    assert claude.returncode == 2 and "profiles are for the kimi agent, not claude" in claude.stderr
