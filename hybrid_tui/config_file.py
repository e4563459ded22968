"""The config file without pydantic: where it is, its raw TOML table, and the few values the
TUI's first frame needs.

`hybrid_tui.config` validates the whole file into `Settings`, a pydantic model. Importing
pydantic and building the models costs ~50 ms, more than a third of a bare Textual app's whole
start-up, and DESIGN.md asks for the TUI's first frame within 1.3x of that. So this module
imports neither pydantic nor Textual: the TUI reads `StartupSettings` here before its first
frame and validates the full `Settings` right after it (`ui/app.py`, `AppContext`). The CLI
sub-commands call `config.load_settings` as before; both go through `read_config_table`, so
a file that cannot be read or is not TOML gives the same message everywhere.

Locations: the file is `$HYBRID_TUI_CONFIG`, else `$XDG_CONFIG_HOME/hybrid-tui/config.toml`
(default `~/.config/hybrid-tui/config.toml`). The state directory is `$HYBRID_TUI_STATE_DIR`,
else `state_dir` from the file, else `$XDG_STATE_HOME/hybrid-tui` (default
`~/.local/state/hybrid-tui`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hybrid_tui.core.errors import InputError


def config_path() -> Path:
    if override := os.environ.get("HYBRID_TUI_CONFIG"):
        return Path(override)
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "hybrid-tui" / "config.toml"


def state_dir(from_file: Path | None = None) -> Path:
    if override := os.environ.get("HYBRID_TUI_STATE_DIR"):
        return Path(override)
    if from_file is not None:
        return from_file.expanduser()
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "hybrid-tui"


def read_config_table(path: Path) -> dict[str, Any] | None:
    """The file's TOML table; None when the file does not exist (defaults apply).

    Raises `InputError` naming the file when it cannot be read or is not valid TOML."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as err:
        raise InputError(f"{path}: cannot read the config file ({err.strerror})") from err
    import tomllib  # only when there is a file: ~2 ms of imports otherwise saved

    try:
        return tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as err:
        raise InputError(f"{path}: not a valid TOML file ({err})") from err


@dataclass(frozen=True, slots=True)
class StartupSettings:
    """What the TUI's first frame needs from the settings: the theme, whether the plans dir is
    watched, the configured plans dir, and the state dir (where the plans' projects are kept).
    The defaults are `Settings`' own (a test checks)."""

    theme: str = "hybrid-dark"
    watch_plans: bool = True
    plans_dir: Path | None = None
    state_dir: Path | None = None

    @classmethod
    def from_table(cls, table: Mapping[str, Any] | None) -> StartupSettings:
        """The values of a config table (`read_config_table`). A value of the wrong TOML type
        is passed over here (its default is used): the full validation after the first frame
        reports it. Never raises."""
        if not table:
            return cls()
        ui = table.get("ui")
        ui = ui if isinstance(ui, Mapping) else {}
        defaults = cls()
        theme, watch, plans_dir = ui.get("theme"), ui.get("watch_plans"), table.get("plans_dir")
        state = table.get("state_dir")
        return cls(
            theme=theme if isinstance(theme, str) else defaults.theme,
            watch_plans=watch if isinstance(watch, bool) else defaults.watch_plans,
            plans_dir=Path(plans_dir) if isinstance(plans_dir, str) and plans_dir else None,
            state_dir=Path(state) if isinstance(state, str) and state else None,
        )
