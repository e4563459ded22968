"""The TUI as `hybrid-tui` starts it without a COMMAND: only Textual and the app's own start-up
path are imported here, and only when it is called.
"""

from __future__ import annotations

import argparse
import gc
from typing import TYPE_CHECKING

from hybrid_tui.cli.common import EXIT_OK

if TYPE_CHECKING:
    from hybrid_tui.ui.app import HybridApp


def tui_app(args: argparse.Namespace) -> HybridApp:
    """The app as `hybrid-tui` starts it (bench/bench_startup.py times this very function).

    The garbage collector is off from here to the first frame: start-up allocates objects
    that mostly live as long as the app, and the collections they trigger cost ~10 ms before
    anything is drawn. After the first frame the app freezes them (`gc.freeze()`: the ~2,000
    start-up objects that were already garbage stay, a one-off) and turns it back on. The app
    reads the config file itself (`make_app` without settings): its first frame needs only a
    few values; the validated `Settings` follow right after it."""
    gc.disable()
    try:
        from hybrid_tui.ui.app import make_app

        return make_app(repo=args.repo, plans_dir=args.plans_dir, resume_gc=True)
    except BaseException:
        gc.enable()
        raise


def _tui(args: argparse.Namespace) -> int:
    tui_app(args).run()
    return EXIT_OK
