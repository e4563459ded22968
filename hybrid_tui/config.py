"""Settings: one pydantic model, read from a TOML file, then the environment, then flags.

The file is `$HYBRID_TUI_CONFIG`, else `$XDG_CONFIG_HOME/hybrid-tui/config.toml` (default
`~/.config/hybrid-tui/config.toml`). A missing file means defaults; a broken one is an
`InputError` naming the file. The state directory is `$HYBRID_TUI_STATE_DIR`, else
`state_dir` from the file, else `$XDG_STATE_HOME/hybrid-tui` (default
`~/.local/state/hybrid-tui`).

Locating and reading the file (`config_path`, `state_dir`, `read_config_table`) lives in
`config_file`, which does not import pydantic: the TUI reads the few values its first frame
needs there and validates these `Settings` after the first frame (see `ui/app.py`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from hybrid_tui.config_file import config_path, read_config_table, state_dir
from hybrid_tui.core.errors import InputError


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AgentSettings(_Section):
    """Settings shared by both agents."""

    command: list[str] = Field(min_length=1)
    model: str | None = None
    timeout: float = Field(default=300.0, gt=0)
    extra_args: list[str] = []
    env: dict[str, str] = {}


class KimiSettings(AgentSettings):
    """`flavour`: "code" (the Kimi Code CLI 2.x), "legacy" (Python kimi-cli 1.x), or "auto":
    ask the installed `kimi` once (`--version`, then `--help`) which of the two it is.
    `max_steps` reaches both (legacy: `--max-steps-per-turn`; Kimi Code:
    `KIMI_LOOP_MAX_STEPS_PER_TURN`). A profile is `home` for Kimi Code (a `KIMI_CODE_HOME`
    directory: its config.toml, credentials and sessions; default $KIMI_CODE_HOME, else
    ~/.kimi-code) and `config_file` for the legacy CLI; `thinking` only reaches the legacy
    CLI. `linger_grace`: seconds a Kimi Code process may stay after its resume hint (background
    tasks, MCP servers) before it is stopped; the run still counts as finished."""

    command: list[str] = Field(default=["kimi"], min_length=1)
    flavour: Literal["legacy", "code", "auto"] = "auto"
    max_steps: int = Field(default=100, ge=1)
    thinking: bool = True
    config_file: str | None = None
    home: str | None = None
    linger_grace: float = Field(default=10.0, gt=0)


class ClaudeSettings(AgentSettings):
    command: list[str] = Field(default=["claude"], min_length=1)
    timeout: float = Field(default=600.0, gt=0)
    max_turns: int | None = Field(default=None, ge=1)
    permission_mode: str = "acceptEdits"


class AgentsSettings(_Section):
    kimi: KimiSettings = KimiSettings()
    claude: ClaudeSettings = ClaudeSettings()


class UiSettings(_Section):
    theme: str = "hybrid-dark"
    watch_plans: bool = True
    # awatch's own default debounce is 1,600 ms; plans should show at once.
    watch_debounce_ms: int = Field(default=50, ge=1)
    log_max_lines: int = Field(default=5000, ge=100)
    bell: bool = False  # ring the terminal bell when a run ends


class ReviewSettings(_Section):
    """`[review]`: the spec's checks run in the run's worktree when the agent finishes."""

    check_timeout: float = Field(default=120.0, gt=0)  # seconds per command
    check_network: bool = False  # inside the sandbox, checks run without network unless this
    # The CLI runs a run's checks only with --approve-checks; true approves them always (the
    # commands are still printed before the agent starts). The TUI asks each time.
    approve_checks: bool = False


class MergeSettings(_Section):
    """`[merge]`: how accept lands a run on its base branch."""

    strategy: Literal["merge", "squash", "rebase"] = "merge"


class AdviceSettings(_Section):
    """Thresholds of the Claude-or-Kimi advice (core/plan/advice.py)."""

    claude_max_files: int = Field(default=2, ge=0)
    claude_max_lines: int = Field(default=50, ge=0)
    kimi_min_files: int = Field(default=3, ge=1)
    kimi_min_lines: int = Field(default=100, ge=1)
    lines_per_file_without_code: int = Field(default=15, ge=0)


class HookSettings(_Section):
    """`[hook]`: Claude Code's approval hook (`hybrid-tui hook install`)."""

    # Seconds the hook waits for the choice made in hybrid-tui before it leaves the choice to
    # Claude's own dialog; the installed hook's `timeout` is this plus 30.
    answer_timeout: float = Field(default=300.0, gt=0)


class QuotaSettings(_Section):
    """`[quota]`: the worker's weekly request budget (core/quota.py; Kimi's Moderato plan:
    2,048 requests a week). `weekly_limit = 0`: no limit. The week starts at `reset_weekday`
    `reset_hour` o'clock UTC."""

    weekly_limit: int = Field(default=2048, ge=0)
    reset_weekday: Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"] = "monday"
    reset_hour: int = Field(default=0, ge=0, le=23)

    @property
    def weekday(self) -> int:
        return ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"].index(self.reset_weekday)


class ProfileSettings(_Section):
    """`[profiles.NAME]`: a worker profile (the original set-up's `moderato` / `swarm` switch):
    each key given replaces the agent's setting of the same meaning while the profile is used
    (`--profile NAME`, or `default_profile`): `home` (a `KIMI_CODE_HOME`), `config_file` (the
    legacy kimi's config), `max_steps`, `timeout`, and the profile's own `weekly_limit`."""

    agent: Literal["kimi"] = "kimi"
    home: str | None = None
    config_file: str | None = None
    max_steps: int | None = Field(default=None, ge=1)
    timeout: float | None = Field(default=None, gt=0)
    weekly_limit: int | None = Field(default=None, ge=0)


class Settings(_Section):
    plans_dir: Path | None = None
    state_dir: Path | None = None
    # The agent and the checks run in a bubblewrap sandbox: "auto" when it works here,
    # "required" refuses to run without it, "off" never (see agents/sandbox.py; the environment
    # variable HYBRID_TUI_SANDBOX overrides it).
    sandbox: Literal["auto", "required", "off"] = "auto"
    agents: AgentsSettings = AgentsSettings()
    ui: UiSettings = UiSettings()
    hook: HookSettings = HookSettings()
    advice: AdviceSettings = AdviceSettings()
    review: ReviewSettings = ReviewSettings()
    merge: MergeSettings = MergeSettings()
    quota: QuotaSettings = QuotaSettings()
    profiles: dict[str, ProfileSettings] = {}
    default_profile: str | None = None  # the profile used when no --profile is given
    # The user's keymap: binding id -> keys (comma-separated), applied with App.set_keymap;
    # the ids are in the README's key table (e.g. "review.accept", "plans.delegate").
    keys: dict[str, str] = {}

    def resolved_state_dir(self) -> Path:
        return state_dir(self.state_dir)

    def own_limit_profile(self, name: str | None) -> str | None:
        """`name` when that profile has a weekly limit of its own (its runs count against it),
        else None: the account's whole count against the common limit."""
        profile = self.profiles.get(name) if name else None
        return name if profile is not None and profile.weekly_limit is not None else None

    def with_profile(self, name: str | None) -> tuple[Settings, str | None]:
        """These settings with the profile `name` (else `default_profile`) applied to the Kimi
        agent and the weekly limit, and the profile's name; unchanged (and None) when neither
        names one. `InputError` for a name that is no `[profiles.NAME]` table."""
        name = name or self.default_profile
        if name is None:
            return self, None
        profile = self.profiles.get(name)
        if profile is None:
            known = ", ".join(sorted(self.profiles)) or "none"
            raise InputError(f"no profile {name!r} in the settings (profiles: {known})",
                             fix=f"Add a [profiles.{name}] table to the config file (see docs/config.example.toml).")
        given = {key: value for key, value in profile.model_dump(exclude={"agent", "weekly_limit"}).items()
                 if value is not None}
        kimi = self.agents.kimi.model_copy(update=given)
        quota = self.quota if profile.weekly_limit is None else self.quota.model_copy(
            update={"weekly_limit": profile.weekly_limit})
        return self.model_copy(update={"agents": self.agents.model_copy(update={"kimi": kimi}), "quota": quota}), name


def load_settings(path: Path | None = None) -> Settings:
    """Read the settings file (defaults when it does not exist); `InputError` naming the file
    when it cannot be read, is not TOML, or holds an invalid setting."""
    path = path or config_path()
    return settings_from_table(read_config_table(path), path)


def settings_from_table(data: dict | None, path: Path) -> Settings:
    """Validate a config table (`read_config_table`; None: no file, defaults) from `path`."""
    if data is None:
        return Settings()
    try:
        return Settings.model_validate(data)
    except ValidationError as err:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in err.errors()
        )
        raise InputError(f"{path}: invalid setting: {problems}") from err
