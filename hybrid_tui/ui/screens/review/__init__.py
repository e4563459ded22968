"""The review screen, one module per feature: `screen` holds `ReviewScreen` (layout, keys,
moving about, the message area); `loading`, `header`, `selection`, `checks`, `landing` (accept,
reject, rebase), `revise`, `claude_review` and `pull_request` hold the rest."""

from hybrid_tui.ui.screens.review.header import totals
from hybrid_tui.ui.screens.review.loading import CACHED_FILES, line_position
from hybrid_tui.ui.screens.review.screen import ReviewScreen
from hybrid_tui.ui.screens.review.selection import Chosen, describe_selection

__all__ = ["CACHED_FILES", "Chosen", "ReviewScreen", "describe_selection", "line_position", "totals"]
