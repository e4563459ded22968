"""Draw the README's screenshot from the real app: `python scripts/screenshot.py`.

Builds a throwaway git repository with three corpus plans in a temp directory (nothing of yours
is read or written: HOME, the state dir and Claude's config dir are all temp), opens the plans
screen headless at 100x30 and saves it as docs/screenshot.svg.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PLANS = ["01-fix-delete-types.md", "17-lightbox-button-align.md", "43-header-search.md"]


async def shoot(repo: Path, plans: Path, out: Path) -> None:
    from hybrid_tui.config import Settings
    from hybrid_tui.ui.app import make_app

    app = make_app(Settings(), repo=repo, plans_dir=plans, watch_plans=False)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = app.screen
        while not getattr(screen, "advised", True) or not getattr(screen, "preview_complete", True):
            await pilot.pause(0.05)
        await app.workers.wait_for_complete()
        await pilot.pause()
        out.write_text(app.export_screenshot(title="hybrid-tui"), encoding="utf-8")


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        for var, sub in (("HOME", ""), ("HYBRID_TUI_STATE_DIR", "state"), ("CLAUDE_CONFIG_DIR", ".claude"),
                         ("HYBRID_TUI_CONFIG", "config.toml")):
            os.environ[var] = str(home / sub)
        repo = home / "project"
        repo.mkdir()
        subprocess.run(["git", "init", "-q", "-b", "main", str(repo)], check=True)
        (repo / "README.md").write_text("# project\n")
        subprocess.run(["git", "-C", str(repo), "add", "-A"], check=True)
        subprocess.run(["git", "-C", str(repo), "-c", "user.name=demo", "-c", "user.email=demo@example.invalid",
                        "commit", "-q", "-m", "initial"], check=True)
        plans = home / ".claude" / "plans"
        plans.mkdir(parents=True)
        for i, name in enumerate(PLANS):
            shutil.copy(ROOT / "tests" / "fixtures" / "plans" / name, plans / name)
            os.utime(plans / name, (time.time() - (len(PLANS) - i) * 600,) * 2)
        out = ROOT / "docs" / "screenshot.svg"
        asyncio.run(shoot(repo, plans, out))
        print(f"wrote {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
