"""Theme files: the bundled themes, broken files reported by name, and where themes are found."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import sys
from pathlib import Path

from textual.app import App, ComposeResult
from textual.color import Color
from textual.widgets import Static

import hybrid_tui
from hybrid_tui.ui.theme import (
    THEME_VARIABLE_DEFAULTS,
    builtin_themes_dir,
    load_theme_file,
    load_themes,
)

SOURCE_ROOT = Path(hybrid_tui.__file__).resolve().parents[1]

VALID = """\
name = "{name}"
dark = {dark}
primary = "#336699"
background = "#101010"
foreground = "#eeeeee"

[variables]
event-tool = "{tool}"
"""


def test_bundled_themes_load_without_problems() -> None:
    themes, problems = load_themes([builtin_themes_dir()])
    assert problems == []
    by_name = {theme.name: theme for theme in themes}
    assert set(by_name) == {"hybrid-dark", "hybrid-light"}
    assert by_name["hybrid-dark"].dark is True
    assert by_name["hybrid-light"].dark is False
    for theme in themes:
        # Every app variable is set by each bundled theme, and each is a colour.
        assert set(THEME_VARIABLE_DEFAULTS) <= set(theme.variables), theme.name
        for name in ("primary", "secondary", "accent", "background", "surface", "panel",
                     "foreground", "warning", "error", "success"):
            Color.parse(getattr(theme, name))


def test_variable_defaults_are_colours() -> None:
    for value in THEME_VARIABLE_DEFAULTS.values():
        Color.parse(value)


class ThemedApp(App[None]):
    CSS = "#probe { color: $event-tool; background: $diff-added-background; }"

    def __init__(self, theme_name: str) -> None:
        super().__init__()
        self._theme_name = theme_name

    def get_theme_variable_defaults(self) -> dict[str, str]:
        return dict(THEME_VARIABLE_DEFAULTS)

    def compose(self) -> ComposeResult:
        yield Static("probe", id="probe")

    def on_mount(self) -> None:
        for theme in load_themes([builtin_themes_dir()])[0]:
            self.register_theme(theme)
        self.theme = self._theme_name


def test_bundled_theme_applies_its_app_variables() -> None:
    async def check() -> None:
        app = ThemedApp("hybrid-light")
        async with app.run_test(size=(40, 5)) as pilot:
            await pilot.pause()
            assert app.theme == "hybrid-light"
            assert app.theme_variables["event-tool"] == "#8250df"
            assert app.query_one("#probe").styles.color == Color.parse("#8250df")

    asyncio.run(check())


def test_builtin_textual_theme_falls_back_to_variable_defaults() -> None:
    async def check() -> None:
        app = ThemedApp("nord")
        async with app.run_test(size=(40, 5)) as pilot:
            await pilot.pause()
            default = THEME_VARIABLE_DEFAULTS["event-tool"]
            assert app.theme_variables["event-tool"] == default
            assert app.query_one("#probe").styles.color == Color.parse(default)

    asyncio.run(check())


def test_broken_files_are_reported_by_name_and_loading_continues(tmp_path: Path) -> None:
    (tmp_path / "a-broken.toml").write_text('name = "broken"\nprimary = "#fff\n')
    (tmp_path / "b-bad-colour.toml").write_text('name = "bad"\nprimary = "notacolour"\n')
    (tmp_path / "c-bad-variable.toml").write_text(
        VALID.format(name="badvar", dark="true", tool="#12345")
    )
    (tmp_path / "d-typo.toml").write_text('name = "typo"\nprimary = "#ffffff"\nbackgound = "#000"\n')
    (tmp_path / "e-binary.toml").write_bytes(b"\xff\xfe\x00garbage")
    (tmp_path / "f-good.toml").write_text(VALID.format(name="good", dark="false", tool="#aa00aa"))
    (tmp_path / "notes.txt").write_text("not a theme")

    themes, problems = load_themes([tmp_path])

    assert [theme.name for theme in themes] == ["good"]
    assert themes[0].dark is False
    assert themes[0].variables["event-tool"] == "#aa00aa"
    assert len(problems) == 5
    broken, colour, variable, typo, binary = problems
    assert broken.startswith(str(tmp_path / "a-broken.toml") + ": not valid TOML")
    assert colour.startswith(str(tmp_path / "b-bad-colour.toml") + ":")
    assert "primary" in colour and "'notacolour' is not a colour" in colour
    assert str(tmp_path / "c-bad-variable.toml") in variable
    assert "event-tool" in variable and "'#12345' is not a colour" in variable
    assert str(tmp_path / "d-typo.toml") in typo and "backgound" in typo
    assert binary == f"{tmp_path / 'e-binary.toml'}: not UTF-8 text"


def test_missing_primary_is_a_problem(tmp_path: Path) -> None:
    (tmp_path / "x.toml").write_text('name = "x"\n')
    themes, problems = load_themes([tmp_path])
    assert themes == []
    assert problems == [f"{tmp_path / 'x.toml'}: primary: Field required"]


def test_other_textual_variables_pass_through_unchecked(tmp_path: Path) -> None:
    path = tmp_path / "t.toml"
    path.write_text(
        'name = "t"\nprimary = "#123456"\n[variables]\n'
        'input-selection-background = "#81a1c1 35%"\nblock-cursor-text-style = "none"\n'
    )
    theme = load_theme_file(path)
    assert theme.variables == {
        "input-selection-background": "#81a1c1 35%",
        "block-cursor-text-style": "none",
    }


def test_missing_dir_is_skipped_and_a_later_dir_overrides(tmp_path: Path) -> None:
    user = tmp_path / "user"
    user.mkdir()
    (user / "mine.toml").write_text(
        VALID.format(name="hybrid-dark", dark="true", tool="#010203")
    )
    themes, problems = load_themes([tmp_path / "absent", builtin_themes_dir(), user])
    assert problems == []
    by_name = {theme.name: theme for theme in themes}
    assert set(by_name) == {"hybrid-dark", "hybrid-light"}
    assert by_name["hybrid-dark"].variables["event-tool"] == "#010203"
    assert by_name["hybrid-dark"].primary == "#336699"


def _copy_package(dest: Path) -> None:
    shutil.copytree(
        SOURCE_ROOT / "hybrid_tui", dest / "hybrid_tui",
        ignore=shutil.ignore_patterns("__pycache__", "themes"),
    )


def _builtin_dir_in(pythonpath: Path, cwd: Path) -> Path:
    code = "from hybrid_tui.ui.theme import builtin_themes_dir; print(builtin_themes_dir())"
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=cwd,
        env={"PYTHONPATH": str(pythonpath), "PATH": "/usr/bin:/bin"},
        capture_output=True, text=True, check=True, timeout=60,
    )
    return Path(result.stdout.strip())


def test_source_checkout_falls_back_to_top_level_themes(tmp_path: Path) -> None:
    checkout = tmp_path / "checkout"
    _copy_package(checkout)
    shutil.copytree(SOURCE_ROOT / "themes", checkout / "themes")

    found = _builtin_dir_in(checkout, tmp_path)

    assert found == (checkout / "themes").resolve()
    themes, problems = load_themes([found])
    assert problems == [] and {t.name for t in themes} == {"hybrid-dark", "hybrid-light"}


def test_installed_package_uses_its_own_copy(tmp_path: Path) -> None:
    # The wheel's layout: `themes/` force-included as `hybrid_tui/themes`, no top-level copy.
    site = tmp_path / "site-packages"
    _copy_package(site)
    shutil.copytree(SOURCE_ROOT / "themes", site / "hybrid_tui" / "themes")

    found = _builtin_dir_in(site, tmp_path)

    assert found == site / "hybrid_tui" / "themes"
    assert not (site / "themes").exists()
