"""The weekly request ledger: what the runs cost against the worker's weekly budget (Kimi's
Moderato plan: 2,048 requests a week), counted locally from the run records, so it is an
estimate (the provider's own count is the truth; Kimi also has a 5-hour window not counted here).

Behaviour choices:
- Every run counts in the week it was made (its revisions' requests add to the same run, so to
  the same week), whichever repository it was of: the budget is the account's. A run's requests are its model requests (Kimi: the steps plus every retried or
  failed request; legacy kimi prints no retries, so there requests = steps; Claude: its turns),
  and Claude's reported `total_cost_usd` is summed beside them.
- A week starts at `[quota] reset_weekday` / `reset_hour` in UTC (Monday 00:00 by default, the
  ISO week); it is named by the ISO week of its first day (`2026-W45`).
- A run's profile is the name of its agent profile (the `KIMI_CODE_HOME` folder or the legacy
  config file it ran with: `config.swarm.toml`), or `default`; the ledger has a row per week,
  agent and profile.
- The limit (`[quota] weekly_limit`, 2,048 by default; 0: no limit) applies to the Kimi rows.
  `dispatch_refusal` says why a new Kimi run is refused (the week's count at or over the
  limit) and `dispatch_warning` why it deserves a question (its step budget could cross it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from hybrid_tui.core.runs import Run

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def week_start(moment: datetime, reset_weekday: int = 0, reset_hour: int = 0) -> datetime:
    """The start (UTC) of the quota week holding `moment`."""
    moment = moment.astimezone(UTC)
    start = moment.replace(hour=reset_hour, minute=0, second=0, microsecond=0)
    start -= timedelta(days=(start.weekday() - reset_weekday) % 7)
    if start > moment:
        start -= timedelta(days=7)
    return start


def week_name(start: datetime) -> str:
    year, week, _ = start.isocalendar()
    return f"{year}-W{week:02d}"


def profile_name(run: Run) -> str:
    """The run's named profile (`--profile`), else the name of the home or config file it ran
    with, else `default`."""
    if run.profile_name:
        return run.profile_name
    return Path(run.profile).name if run.profile else "default"


def run_requests(run: Run) -> int:
    """The requests a run made against the budget (see the module docstring)."""
    if run.agent == "claude":
        return run.turns if run.turns is not None else run.requests
    return max(run.requests, run.steps)


@dataclass
class LedgerRow:
    week: str
    agent: str
    profile: str
    runs: int = 0
    requests: int = 0
    cost_usd: float = 0.0

    def as_json(self) -> dict[str, object]:
        return {"week": self.week, "agent": self.agent, "profile": self.profile, "runs": self.runs,
                "requests": self.requests, "cost_usd": round(self.cost_usd, 6)}


def ledger(runs: list[Run], reset_weekday: int = 0, reset_hour: int = 0) -> list[LedgerRow]:
    """One row per week, agent and profile, newest week first."""
    rows: dict[tuple[str, str, str], LedgerRow] = {}
    for run in runs:
        try:  # the run's creation: a revision later adds its requests to the same run and week
            moment = datetime.fromisoformat(run.created_at or run.started_at or "")
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=UTC)
            week = week_name(week_start(moment, reset_weekday, reset_hour))
        except (ValueError, OverflowError):
            continue  # a record without a readable time counts nowhere
        key = (week, run.agent, profile_name(run))
        row = rows.setdefault(key, LedgerRow(*key))
        row.runs += 1
        row.requests += run_requests(run)
        row.cost_usd += run.cost_usd or 0.0
    return sorted(rows.values(), key=lambda r: (r.week, r.agent, r.profile), reverse=True)


def used_this_week(runs: list[Run], now: datetime, *, agent: str = "kimi", reset_weekday: int = 0,
                   reset_hour: int = 0, profile: str | None = None) -> int:
    """The requests `agent`'s runs made in the week holding `now`: of the named `profile`, or of
    every profile."""
    week = week_name(week_start(now, reset_weekday, reset_hour))
    return sum(row.requests for row in ledger(runs, reset_weekday, reset_hour)
               if row.week == week and row.agent == agent and (profile is None or row.profile == profile))


def usage_text(used: int, limit: int) -> str:
    """`312 / 2,048 requests this week (estimated)`; without a limit, `312 requests this week`."""
    if limit:
        return f"{used:,} / {limit:,} requests this week (estimated)"
    return f"{used:,} requests this week (estimated)"


def dispatch_refusal(used: int, limit: int) -> str | None:
    """Why a new Kimi run is refused: the week's requests reached the limit; None otherwise."""
    if limit and used >= limit:
        return (f"the weekly request budget is used up: {used:,} of {limit:,} requests this week (estimated "
                "from hybrid-tui's runs); it resets at the start of the next quota week")
    return None


def dispatch_warning(used: int, limit: int, max_steps: int) -> str | None:
    """Why a new Kimi run deserves a question: its step budget could cross the limit."""
    if limit and used < limit and used + max_steps > limit:
        return (f"this run may take up to {max_steps} steps and {limit - used:,} of the week's "
                f"{limit:,} requests are left ({used:,} used, estimated)")
    return None
