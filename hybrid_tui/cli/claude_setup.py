"""`hybrid-tui claude install | uninstall [--project | --user]`: the Claude-side pieces of the
original set-up (skills `kimi-spec` and `kimi-dispatch`, the rules file `kimi-delegation.md`),
written from hybrid-tui's own settings into the repository's `.claude/` (`--project`, the
default) or the user's `$CLAUDE_CONFIG_DIR` (`--user`); see `core.plan.claude_setup`."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from hybrid_tui.cli.common import EXIT_OK

if TYPE_CHECKING:
    from hybrid_tui.config import Settings


def claude_dir(args: argparse.Namespace) -> Path:
    from hybrid_tui.core.plan.projects import claude_config_dir, repository_of

    if args.user:
        return claude_config_dir()
    return repository_of((args.repo or Path.cwd()).resolve()) / ".claude"


def cmd_claude(args: argparse.Namespace, settings: Settings) -> int:
    from hybrid_tui.core.plan import claude_setup

    where = claude_dir(args)
    state = settings.resolved_state_dir()
    if args.action == "install":
        for path in claude_setup.install(where, settings, state):
            print(f"wrote {path}")
        print("Claude now has the kimi-spec and kimi-dispatch skills and the kimi-delegation rules "
              "(thresholds from [advice]); `hybrid-tui claude uninstall` removes them.")
        return EXIT_OK
    removed, kept = claude_setup.uninstall(where, state)
    for path in removed:
        print(f"removed {path}")
    for path in kept:
        print(f"kept {path}: changed since hybrid-tui wrote it")
    if not removed and not kept:
        print(f"hybrid-tui: nothing of hybrid-tui's to remove in {where}")
    return EXIT_OK
