"""Theme files: `themes/*.toml` (bundled) and the user's theme folder -> `textual.theme.Theme`.

A theme file holds Textual's base colours (`primary` is required, the rest optional) and a
`[variables]` table. Variables named in `THEME_VARIABLE_DEFAULTS` are hybrid-tui's own colours
(`$diff-added`, `$event-thinking`, ...) and must parse as colours; any other variable is passed
to Textual as written (e.g. `input-selection-background = "#81a1c1 35%"`).

Behaviour choices:
- `load_themes` never raises: a file that cannot be read, is not TOML, or fails validation is
  reported as one human-readable problem naming the file, and loading goes on with the next.
  The app shows the problems as a notification and keeps its default theme.
- A missing directory is skipped silently (the user's theme folder need not exist).
- Directories are read in the order given and files in name order; a later theme with the same
  name replaces an earlier one, so a user's `hybrid-dark.toml` overrides the bundled one.
- Start-up: validation uses a pydantic model (`ThemeFile`), and pydantic costs ~25 ms of
  imports, so this module imports it only inside `load_theme_file`. Before its first frame the
  app reads just the bundled theme it shows with `read_bundled_theme` (TOML straight into a
  `Theme`, no validation: the bundled files are checked by the test suite) and validates all
  theme files after the first frame (`ui/app.py`).
"""

from __future__ import annotations

import functools
import importlib.resources
import tomllib
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from textual.color import Color, ColorParseError
from textual.theme import Theme

if TYPE_CHECKING:
    from pydantic import BaseModel, ValidationError

# hybrid-tui's own CSS variables, with values readable on both dark and light backgrounds.
# The app returns these from `App.get_theme_variable_defaults`, so any theme (Textual's
# built-in ones included) can be used; a theme file's `[variables]` overrides them.
THEME_VARIABLE_DEFAULTS: dict[str, str] = {
    "diff-added": "#4caf50",
    "diff-removed": "#e5534b",
    "diff-added-background": "#4caf5033",
    "diff-removed-background": "#e5534b33",
    "diff-hunk": "#3d8fd1",
    "event-thinking": "#8a8f98",
    "event-tool": "#a371f7",
    "event-result": "#8a8f98",
    "event-raw": "#8a8f98",
    "event-notice": "#3d8fd1",
}

DEFAULT_THEME = "hybrid-dark"


def _colour(value: str) -> str:
    try:
        Color.parse(value)
    except ColorParseError:
        raise ValueError(f"{value!r} is not a colour") from None
    return value


def _variables(values: dict[str, str]) -> dict[str, str]:
    for key, value in values.items():
        if key in THEME_VARIABLE_DEFAULTS:
            try:
                _colour(value)
            except ValueError as exc:
                raise ValueError(f"variable {key}: {exc}") from None
    return values


@functools.cache
def theme_file_model() -> type[BaseModel]:
    """`ThemeFile`: one theme file as written on disk; unknown keys are errors (they are
    usually typos). Built on first use, so that importing this module does not import pydantic."""
    from pydantic import AfterValidator, BaseModel, ConfigDict, Field

    Colour = Annotated[str, AfterValidator(_colour)]

    class ThemeFile(BaseModel):
        model_config = ConfigDict(extra="forbid")

        name: str = Field(min_length=1, pattern=r"^[\w.-]+$")
        dark: bool = True
        primary: Colour
        secondary: Colour | None = None
        accent: Colour | None = None
        background: Colour | None = None
        surface: Colour | None = None
        panel: Colour | None = None
        boost: Colour | None = None
        foreground: Colour | None = None
        warning: Colour | None = None
        error: Colour | None = None
        success: Colour | None = None
        variables: Annotated[dict[str, str], AfterValidator(_variables)] = {}

    return ThemeFile


def builtin_themes_dir() -> Path:
    """The bundled themes: the installed copy inside the package when present (the wheel
    force-includes `themes/` as `hybrid_tui/themes`), else the source checkout's `themes/`."""
    installed = importlib.resources.files("hybrid_tui") / "themes"
    if installed.is_dir():
        return Path(str(installed))
    return Path(__file__).resolve().parents[2] / "themes"


def _describe(error: ValidationError) -> str:
    parts = []
    for item in error.errors():
        where = ".".join(str(part) for part in item["loc"]) or "file"
        message = item["msg"].removeprefix("Value error, ")
        parts.append(f"{where}: {message}")
    return "; ".join(parts)


def _read_table(path: Path) -> dict[str, Any]:
    """The TOML table of a theme file. Raises `ValueError` with the reason (no file name)."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ValueError(f"cannot read: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise ValueError("not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"not valid TOML: {exc}") from None


def load_theme_file(path: Path) -> Theme:
    """Read and validate one theme file. Raises `ValueError` with the reason (no file name)."""
    from pydantic import ValidationError

    data = _read_table(path)
    try:
        return Theme(**theme_file_model().model_validate(data).model_dump())
    except ValidationError as exc:
        raise ValueError(_describe(exc)) from None


def read_bundled_theme(name: str) -> Theme | None:
    """The bundled theme `name` (from `<name>.toml` in `builtin_themes_dir()`) without
    validation, for the first frame; None when there is no such file or it does not make a
    `Theme` (the validated load after the first frame then reports why)."""
    try:
        return Theme(**_read_table(builtin_themes_dir() / f"{name}.toml"))
    except (ValueError, TypeError):
        return None


def load_themes(dirs: list[Path]) -> tuple[list[Theme], list[str]]:
    """All themes in `dirs` and a problem line (`<file>: <reason>`) for each broken file."""
    themes: dict[str, Theme] = {}
    problems: list[str] = []
    for directory in dirs:
        if not directory.is_dir():
            continue
        for path in sorted(directory.glob("*.toml")):
            try:
                theme = load_theme_file(path)
            except ValueError as exc:
                problems.append(f"{path}: {exc}")
                continue
            themes.pop(theme.name, None)  # a later file wins and moves to the end
            themes[theme.name] = theme
    return list(themes.values()), problems
