"""The wheel carries the themes, and an installed copy finds them (issue 3: the default theme is
installed with the wheel and found from a source checkout too)."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_wheel_carries_the_themes_and_the_installed_app_finds_them(tmp_path: Path):
    dist = tmp_path / "dist"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
         "--wheel-dir", str(dist), str(ROOT)],
        check=True, capture_output=True, text=True,
    )
    (wheel,) = dist.glob("hybrid_tui-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    for theme in sorted((ROOT / "themes").glob("*.toml")):
        assert f"hybrid_tui/themes/{theme.name}" in names
    assert "hybrid_tui/ui/app.tcss" in names

    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index", "--target", str(target), str(wheel)],
        check=True, capture_output=True, text=True,
    )
    probe = (
        "from hybrid_tui.ui.theme import builtin_themes_dir, load_themes;"
        "d = builtin_themes_dir(); themes, problems = load_themes([d]);"
        "print(d); print(sorted(t.name for t in themes)); print(problems)"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], cwd=tmp_path, check=True, capture_output=True, text=True,
        env={**os.environ, "PYTHONPATH": str(target)},
    ).stdout.splitlines()
    assert Path(out[0]).is_relative_to(target)  # the installed copy, not the source tree
    assert out[1] == "['hybrid-dark', 'hybrid-light']" and out[2] == "[]"
