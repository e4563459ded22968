"""`HybridScreen`: what every screen of the app reaches through it: the app (`hybrid`, typed)
and its `context` (settings, store, repository)."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from textual.screen import Screen

if TYPE_CHECKING:
    from hybrid_tui.ui.app import AppContext, HybridApp


class HybridScreen(Screen[None]):
    @property
    def hybrid(self) -> HybridApp:
        return cast("HybridApp", self.app)

    @property
    def context(self) -> AppContext:
        return self.hybrid.context
